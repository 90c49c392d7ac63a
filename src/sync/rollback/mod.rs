//! Rolling back a night: everything a trading day posted is voided (invoices) or deleted
//! (credit memos, expenses, bills, journal entries) in QuickBooks, each exactly once, and the
//! documents are owed again, so that fixing the mapping and syncing posts them again, once.
//!
//! - [`plan`] lists what a rollback would do, with totals (the confirmation page).
//! - [`request`] records the rollback and one reversal per posted document before anything is
//!   sent, and queues it on the integration's sync queue (it runs under the integration's lock,
//!   never beside a sync run).
//! - [`run`] works through the reversals; it can stop anywhere and run again. Each QuickBooks
//!   write carries a request id of its own, the document is read first (a reversal whose answer
//!   was lost is recognised), and a document becomes owed again only if it is still posted as
//!   recorded (fenced like posting). An invoice is renamed (`…-VOID`) before it is voided, so
//!   its number is free when it is posted again.
//! - What QuickBooks refuses to void or delete (closed books, paid invoices) is left as it is,
//!   with the reason.

mod exec;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::ids::{IntegrationId, TenantId};

use super::SyncError;

pub(crate) use exec::run;

/// What a rollback does to one document.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Planned {
    /// The ledger row.
    pub ledger_entry_id: i64,
    /// TrackTik document number.
    pub doc_number: String,
    /// QuickBooks entity.
    pub qbo_entity: String,
    /// QuickBooks id.
    pub qbo_id: String,
    /// QuickBooks document number.
    pub qbo_doc_number: Option<String>,
    /// TrackTik amount (a credit below zero).
    pub amount: Decimal,
    /// Currency.
    pub currency: Option<String>,
}

impl Planned {
    /// `void` or `delete`, as QuickBooks allows for the entity.
    pub fn action(&self) -> &'static str {
        action_of(&self.qbo_entity)
    }
}

/// Invoices are voided (they stay in QuickBooks, zeroed); everything else is deleted.
pub fn action_of(entity: &str) -> &'static str {
    if entity == "Invoice" {
        "void"
    } else {
        "delete"
    }
}

/// What rolling back `day` would void or delete.
pub async fn plan(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
) -> sqlx::Result<Vec<Planned>> {
    sqlx::query_as(
        "select ledger_entry_id, doc_number, qbo_entity, qbo_id, qbo_doc_number, amount, currency
         from ledger_entry
         where tenant_id = $1 and integration_id = $2 and trading_day = $3 and state = 'posted'
           and qbo_entity is not null and qbo_id is not null
         order by approved_at, ledger_entry_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(day)
    .fetch_all(db)
    .await
}

/// One rollback as the pages show it.
#[derive(Clone, Debug, Serialize, serde::Deserialize, sqlx::FromRow)]
pub struct Rollback {
    /// Id.
    pub rollback_id: i64,
    /// The night rolled back.
    pub trading_day: NaiveDate,
    /// Who asked.
    pub requested_by: String,
    /// `queued`, `running`, `done`.
    pub status: String,
    /// Documents voided or deleted.
    pub reversed: i32,
    /// Documents QuickBooks refused to void or delete.
    pub refused: i32,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Records a rollback of `day` and one reversal per document posted that day, in one
/// transaction; returns its id. Refused when nothing of that day is posted, or a rollback of
/// it is still going on.
pub async fn request(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
    requested_by: &str,
) -> Result<i64, SyncError> {
    let mut tx = db.begin().await?;
    sqlx::query("select pg_advisory_xact_lock(hashtext('rollback:' || $1::text))")
        .bind(integration_id)
        .execute(&mut *tx)
        .await?;
    let going: bool = sqlx::query_scalar(
        "select exists (select 1 from rollback where tenant_id = $1 and integration_id = $2
                        and trading_day = $3 and status <> 'done')",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(day)
    .fetch_one(&mut *tx)
    .await?;
    if going {
        return Err(SyncError::NotReady(format!(
            "A rollback of {day} is already going on."
        )));
    }
    let id: i64 = sqlx::query_scalar(
        "insert into rollback (tenant_id, integration_id, trading_day, requested_by)
         values ($1, $2, $3, $4) returning rollback_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(day)
    .bind(requested_by)
    .fetch_one(&mut *tx)
    .await?;
    let made = sqlx::query(
        "insert into reversal (rollback_id, tenant_id, ledger_entry_id, qbo_entity, qbo_id,
            qbo_doc_number, amount, action)
         select $4, tenant_id, ledger_entry_id, qbo_entity, qbo_id, qbo_doc_number, amount,
                case when qbo_entity = 'Invoice' then 'void' else 'delete' end
         from ledger_entry
         where tenant_id = $1 and integration_id = $2 and trading_day = $3 and state = 'posted'
           and qbo_entity is not null and qbo_id is not null",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(day)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if made.rows_affected() == 0 {
        return Err(SyncError::NotReady(format!(
            "Nothing of {day} is posted in QuickBooks: there is nothing to roll back."
        )));
    }
    tx.commit().await?;
    Ok(id)
}

/// The integration's rollbacks, newest first.
pub async fn recent(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Vec<Rollback>> {
    sqlx::query_as(
        "select rollback_id, trading_day, requested_by, status, reversed, refused, created_at,
                finished_at
         from rollback where tenant_id = $1 and integration_id = $2
         order by created_at desc limit 50",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(db)
    .await
}

/// The reversals QuickBooks refused, with the reason, of one rollback.
pub async fn refused(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    rollback_id: i64,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "select coalesce(r.qbo_doc_number, l.doc_number), coalesce(r.reason, '')
         from reversal r join ledger_entry l on l.ledger_entry_id = r.ledger_entry_id
                                            and l.tenant_id = r.tenant_id
         where r.tenant_id = $1 and r.rollback_id = $2 and r.state = 'refused'
         order by r.ledger_entry_id",
    )
    .bind(tenant_id)
    .bind(rollback_id)
    .fetch_all(db)
    .await
}
