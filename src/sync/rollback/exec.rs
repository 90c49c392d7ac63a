//! Working through a rollback's reversals (see the parent module).

use rust_decimal::Decimal;

use crate::ids::{IntegrationId, TenantId};
use crate::integrations;
use crate::providers::quickbooks::models::{self as qbo, Entity};
use crate::providers::quickbooks::{QboError, RequestId};
use crate::state::AppState;

use super::super::SyncError;
use super::super::engine::try_lock;
use super::super::explain::qbo_failure;
use super::super::post::{self, QboSession, qbo_call};

/// A reversal still to do.
#[derive(sqlx::FromRow)]
struct Pending {
    ledger_entry_id: i64,
    qbo_entity: String,
    qbo_id: String,
    qbo_doc_number: Option<String>,
}

/// How one reversal ended.
enum Outcome {
    /// Voided or deleted (or found so already).
    Done(String),
    /// QuickBooks refused: left as it is.
    Refused(String),
}

/// The name a voided invoice keeps, so that its number is free for the document posted again.
fn voided_name(number: &str) -> String {
    let kept: String = number.chars().take(16).collect();
    format!("{kept}-VOID")
}

fn rid(rollback_id: i64, ledger_entry_id: i64, step: &str) -> RequestId {
    RequestId::derive(&[
        "rollback",
        &rollback_id.to_string(),
        &ledger_entry_id.to_string(),
        step,
    ])
}

/// Runs a rollback to the end (or until QuickBooks cannot be reached: then it stays queued
/// and runs again). Under the integration's lock: [`SyncError::Busy`] when a run holds it.
pub(crate) async fn run(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    rollback_id: i64,
) -> Result<(), SyncError> {
    let db = &state.db;
    let integration = integrations::db::get(db, tenant_id, integration_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    let lock = try_lock(db, integration_id).await?;
    sqlx::query(
        "update rollback set status = 'running' where tenant_id = $1 and rollback_id = $2
           and status = 'queued'",
    )
    .bind(tenant_id)
    .bind(rollback_id)
    .execute(db)
    .await?;
    let mut session =
        QboSession::open(state, tenant_id, integration_id, &integration.realm_id).await?;
    let pending: Vec<Pending> = sqlx::query_as(
        "select ledger_entry_id, qbo_entity, qbo_id, qbo_doc_number from reversal
         where tenant_id = $1 and rollback_id = $2 and state = 'pending'
         order by ledger_entry_id",
    )
    .bind(tenant_id)
    .bind(rollback_id)
    .fetch_all(db)
    .await?;
    let by: String = sqlx::query_scalar(
        "select requested_by from rollback where tenant_id = $1 and rollback_id = $2",
    )
    .bind(tenant_id)
    .bind(rollback_id)
    .fetch_one(db)
    .await?;
    for p in pending {
        let outcome = reverse(&mut session, rollback_id, &p).await?;
        settle(db, tenant_id, rollback_id, &p, outcome, &by).await?;
    }
    sqlx::query(
        "update rollback set status = 'done', finished_at = now(),
            reversed = (select count(*) from reversal where tenant_id = $1 and rollback_id = $2
                        and state = 'done'),
            refused = (select count(*) from reversal where tenant_id = $1 and rollback_id = $2
                       and state = 'refused')
         where tenant_id = $1 and rollback_id = $2",
    )
    .bind(tenant_id)
    .bind(rollback_id)
    .execute(db)
    .await?;
    lock.commit().await?;
    Ok(())
}

/// Records a reversal's outcome; a document voided or deleted is owed again, only if it is
/// still posted as recorded.
async fn settle(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    rollback_id: i64,
    p: &Pending,
    outcome: Outcome,
    by: &str,
) -> Result<(), SyncError> {
    let mut tx = db.begin().await?;
    match outcome {
        Outcome::Done(what) => {
            sqlx::query(
                "update reversal set state = 'done', done_at = now(), reason = null
                 where tenant_id = $1 and rollback_id = $2 and ledger_entry_id = $3",
            )
            .bind(tenant_id)
            .bind(rollback_id)
            .bind(p.ledger_entry_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "update ledger_entry set state = 'pending', generation = generation + 1,
                    qbo_id = null, qbo_link = null, qbo_amount = null, posted_at = null,
                    discrepancy = null, changed_in_tracktik = false, change_note = null,
                    retryable = false, last_error = null, error_code = null, fix_hint = null,
                    fix_at = null, reversal_note = $4
                 where tenant_id = $1 and ledger_entry_id = $2 and state = 'posted'
                   and qbo_id = $3",
            )
            .bind(tenant_id)
            .bind(p.ledger_entry_id)
            .bind(&p.qbo_id)
            .bind(format!(
                "Rolled back by {by}: {what} in QuickBooks. It is posted again by the next sync."
            ))
            .execute(&mut *tx)
            .await?;
        }
        Outcome::Refused(why) => {
            sqlx::query(
                "update reversal set state = 'refused', reason = $4
                 where tenant_id = $1 and rollback_id = $2 and ledger_entry_id = $3",
            )
            .bind(tenant_id)
            .bind(rollback_id)
            .bind(p.ledger_entry_id)
            .bind(&why)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "update ledger_entry set reversal_note = $3
                 where tenant_id = $1 and ledger_entry_id = $2",
            )
            .bind(tenant_id)
            .bind(p.ledger_entry_id)
            .bind(format!("Not rolled back: {why}"))
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Voids or deletes one document in QuickBooks. Reads it first: a document already voided or
/// gone (an earlier attempt whose answer was lost) is done.
async fn reverse(
    session: &mut QboSession<'_>,
    rollback_id: i64,
    p: &Pending,
) -> Result<Outcome, SyncError> {
    match p.qbo_entity.as_str() {
        "Invoice" => void_invoice(session, rollback_id, p).await,
        "CreditMemo" => delete::<qbo::CreditMemo>(session, rollback_id, p).await,
        "Purchase" => delete::<qbo::Purchase>(session, rollback_id, p).await,
        "Bill" => delete::<qbo::Bill>(session, rollback_id, p).await,
        _ => delete::<qbo::JournalEntry>(session, rollback_id, p).await,
    }
}

/// A refusal (or no answer) for the document: stop the rollback when QuickBooks cannot be
/// reached or refuses access, otherwise leave the document as it is, with the reason.
async fn failed(session: &QboSession<'_>, e: QboError, what: &str) -> Result<Outcome, SyncError> {
    if post::is_refusal(&e) {
        return Err(session.refused(&e).await);
    }
    if e.is_retryable() || e.outcome_unknown() {
        return Err(SyncError::Unavailable(format!(
            "QuickBooks could not be reached while {what}; the rollback goes on later: {e}"
        )));
    }
    Ok(Outcome::Refused(qbo_failure(what, &e).message))
}

async fn read<E: Entity>(
    session: &mut QboSession<'_>,
    id: &str,
) -> Result<Result<Option<E>, QboError>, SyncError> {
    let r: Result<E, QboError> = qbo_call!(session, |co| session
        .state
        .providers
        .quickbooks
        .read(&co, id));
    Ok(match r {
        Ok(e) => Ok(Some(e)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    })
}

async fn void_invoice(
    session: &mut QboSession<'_>,
    rollback_id: i64,
    p: &Pending,
) -> Result<Outcome, SyncError> {
    let number = p.qbo_doc_number.clone().unwrap_or_default();
    let renamed = voided_name(&number);
    let mut current = match read::<qbo::Invoice>(session, &p.qbo_id).await? {
        Ok(Some(i)) => i,
        Ok(None) => return Ok(Outcome::Done("already gone".into())),
        Err(e) => return failed(session, e, "reading the invoice").await,
    };
    let voided = |i: &qbo::Invoice| {
        i.doc_number.as_deref() == Some(renamed.as_str()) && i.total_amt == Some(Decimal::ZERO)
    };
    if voided(&current) {
        return Ok(Outcome::Done(format!("voided as {renamed}")));
    }
    if current.doc_number.as_deref() != Some(renamed.as_str()) {
        let rename = qbo::Invoice {
            id: current.id.clone(),
            sync_token: current.sync_token.clone(),
            sparse: Some(true),
            doc_number: Some(renamed.clone()),
            ..qbo::Invoice::default()
        };
        let rid = rid(rollback_id, p.ledger_entry_id, "rename");
        let r: Result<qbo::Invoice, QboError> = qbo_call!(session, |co| session
            .state
            .providers
            .quickbooks
            .update(&co, &rename, &rid));
        current = match r {
            Ok(i) => i,
            Err(e) => return failed(session, e, "renaming the invoice before voiding it").await,
        };
    }
    let token = current.sync_token.clone().unwrap_or_default();
    let rid = rid(rollback_id, p.ledger_entry_id, "void");
    let r: Result<qbo::Invoice, QboError> = qbo_call!(session, |co| session
        .state
        .providers
        .quickbooks
        .void::<qbo::Invoice>(&co, &p.qbo_id, &token, &rid));
    match r {
        Ok(_) => Ok(Outcome::Done(format!("voided as {renamed}"))),
        Err(e) => failed(session, e, "voiding the invoice").await,
    }
}

async fn delete<E: Entity + HasSyncToken>(
    session: &mut QboSession<'_>,
    rollback_id: i64,
    p: &Pending,
) -> Result<Outcome, SyncError> {
    let current = match read::<E>(session, &p.qbo_id).await? {
        Ok(Some(e)) => e,
        Ok(None) => return Ok(Outcome::Done("deleted".into())),
        Err(e) => return failed(session, e, "reading the document").await,
    };
    let token = current.token();
    let rid = rid(rollback_id, p.ledger_entry_id, "delete");
    let r: Result<(), QboError> = qbo_call!(session, |co| session
        .state
        .providers
        .quickbooks
        .delete::<E>(&co, &p.qbo_id, &token, &rid));
    match r {
        Ok(()) => Ok(Outcome::Done("deleted".into())),
        Err(e) => failed(session, e, "deleting the document").await,
    }
}

/// The `SyncToken` of a transaction read back.
trait HasSyncToken {
    fn token(&self) -> String;
}

macro_rules! sync_token {
    ($($ty:ty),*) => {$(
        impl HasSyncToken for $ty {
            fn token(&self) -> String {
                self.sync_token.clone().unwrap_or_default()
            }
        }
    )*};
}
sync_token!(qbo::CreditMemo, qbo::Purchase, qbo::Bill, qbo::JournalEntry);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_voided_invoice_keeps_a_name_of_at_most_21_characters() {
        assert_eq!(voided_name("INV-000012"), "INV-000012-VOID");
        assert_eq!(voided_name("ABCDEFGHIJKLMNOPQRSTU").chars().count(), 21);
    }
}
