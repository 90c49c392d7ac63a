//! Every change of a ledger row's state. Recording what TrackTik said is one statement for
//! any number of documents; settling a posting is fenced on the send that carried it.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgExecutor;

use super::{COLUMNS, LedgerEntry, Source, SourceDoc};
use crate::ids::{IntegrationId, TenantId};

/// Records documents read in full from TrackTik, in one statement. A new document is
/// `pending`. A known one follows TrackTik when it is not posted: a changed revision (or
/// approval) of a pending or failed row makes it pending again; a row skipped because TrackTik
/// said it was not approved (or gone) is owed again, changed or not; a row skipped for having
/// nothing to post is owed again when it changed. Posted and posting rows are not touched.
/// A document that goes A → B → A simply follows: there is one row per document.
/// Returns how many rows were added or changed.
pub async fn record_all(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    docs: &[SourceDoc],
) -> sqlx::Result<u64> {
    if docs.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "insert into ledger_entry (tenant_id, integration_id, source, source_id, revision,
            doc_number, trading_day, approved_at, amount, currency, checked_at)
         select $1, $2, d.source, d.source_id, d.revision, d.doc_number, d.trading_day,
                d.approved_at, d.amount, d.currency, now()
         from unnest($3::ledger_source[], $4::bigint[], $5::text[], $6::text[], $7::date[],
                     $8::timestamptz[], $9::numeric[], $10::text[])
              as d(source, source_id, revision, doc_number, trading_day, approved_at, amount,
                   currency)
         on conflict (tenant_id, integration_id, source, source_id) do update set
            revision = excluded.revision, doc_number = excluded.doc_number,
            trading_day = excluded.trading_day, approved_at = excluded.approved_at,
            amount = excluded.amount, currency = excluded.currency, checked_at = now(),
            state = 'pending',
            generation = ledger_entry.generation
                + case when ledger_entry.state in ('failed', 'skipped') then 1 else 0 end,
            retryable = false, last_error = null, error_code = null, fix_hint = null,
            fix_at = null
         where ledger_entry.tenant_id = excluded.tenant_id and (
            (ledger_entry.state in ('pending', 'failed')
                and (ledger_entry.revision <> excluded.revision
                     or ledger_entry.approved_at <> excluded.approved_at))
            or (ledger_entry.state = 'skipped'
                and (ledger_entry.error_code in ('not_approved', 'deleted', 'gone')
                     or ledger_entry.revision <> excluded.revision)))",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(docs.iter().map(|d| d.source).collect::<Vec<_>>())
    .bind(docs.iter().map(|d| d.source_id).collect::<Vec<_>>())
    .bind(docs.iter().map(|d| d.revision.clone()).collect::<Vec<_>>())
    .bind(
        docs.iter()
            .map(|d| d.doc_number.clone())
            .collect::<Vec<_>>(),
    )
    .bind(docs.iter().map(|d| d.trading_day).collect::<Vec<_>>())
    .bind(docs.iter().map(|d| d.approved_at).collect::<Vec<_>>())
    .bind(docs.iter().map(|d| d.amount).collect::<Vec<_>>())
    .bind(docs.iter().map(|d| d.currency.clone()).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// The ids among `ids` of documents already posted.
pub async fn posted_among(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    source: Source,
    ids: &[i64],
) -> sqlx::Result<HashSet<i64>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows: Vec<i64> = sqlx::query_scalar(
        "select source_id from ledger_entry
         where tenant_id = $1 and integration_id = $2 and source = $3 and source_id = any($4)
           and state in ('posted', 'posting')",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(source)
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Rows a run owes: pending ones, and failed ones that may pass by themselves, of the given
/// sources, approved before `until`, oldest approval first. Whatever their trading day: a
/// back-synced or retried document is owed like any other.
pub async fn owed(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    sources: &[Source],
    until: DateTime<Utc>,
) -> sqlx::Result<Vec<LedgerEntry>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from ledger_entry
         where tenant_id = $1 and integration_id = $2 and approved_at < $3
           and source = any($4)
           and (state = 'pending' or (state = 'failed' and retryable))
         order by approved_at, source, source_id"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(until)
    .bind(sources)
    .fetch_all(db)
    .await
}

/// Why TrackTik, asked directly, made a document skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// It is not approved (any more).
    NotApproved,
    /// It does not exist.
    Deleted,
}

impl SkipReason {
    fn code(self) -> &'static str {
        match self {
            Self::NotApproved => "not_approved",
            Self::Deleted => "deleted",
        }
    }

    fn message(self, source: Source) -> String {
        match self {
            Self::NotApproved => format!(
                "When asked directly, TrackTik said this {} is not approved, so it was not posted. If it is approved again, the next run posts it.",
                source.label()
            ),
            Self::Deleted => format!(
                "When asked directly, TrackTik said this {} no longer exists, so it was not posted.",
                source.label()
            ),
        }
    }
}

/// Marks documents skipped because TrackTik, asked about each, said so. Rows being posted or
/// posted are not touched. Returns how many changed.
pub async fn skip_told(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    source: Source,
    ids: &[i64],
    reason: SkipReason,
) -> sqlx::Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "update ledger_entry set state = 'skipped', error_code = $5, last_error = $6,
            fix_hint = null, fix_at = null, retryable = false, checked_at = now()
         where tenant_id = $1 and integration_id = $2 and source = $3 and source_id = any($4)
           and state in ('pending', 'failed')",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(source)
    .bind(ids)
    .bind(reason.code())
    .bind(reason.message(source))
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Why a document did not reach QuickBooks, in the customer's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What went wrong.
    pub message: String,
    /// A code: QBO's fault code or ours (`mapping`, `tracktik_totals`, …).
    pub code: String,
    /// What to do.
    pub fix: String,
    /// Where: `settings`, `quickbooks`, `tracktik`, `support`, or none when it passes by itself.
    pub fix_at: Option<String>,
    /// May pass by itself; the next run tries again.
    pub retryable: bool,
}

/// Fails a row that could not be built (never sent): only while it is still pending or failed.
pub async fn mark_failed_unsent(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    failure: &Failure,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update ledger_entry set state = 'failed', retryable = $3, last_error = $4,
            error_code = $5, fix_hint = $6, fix_at = $7
         where tenant_id = $1 and ledger_entry_id = $2 and state in ('pending', 'failed')",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(failure.retryable)
    .bind(&failure.message)
    .bind(&failure.code)
    .bind(&failure.fix)
    .bind(&failure.fix_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Skips a row with nothing to post (e.g. no lines), with the reason: only while it is still
/// pending or failed. It is owed again when TrackTik changes it.
pub async fn mark_nothing_to_post(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    reason: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update ledger_entry set state = 'skipped', error_code = 'nothing_to_post',
            last_error = $3, fix_hint = null, fix_at = null, retryable = false
         where tenant_id = $1 and ledger_entry_id = $2 and state in ('pending', 'failed')",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Where a posted document is in QuickBooks.
#[derive(Clone, Copy, Debug)]
pub struct Posted<'a> {
    /// QBO entity name.
    pub entity: &'a str,
    /// QBO id.
    pub id: &'a str,
    /// QBO `DocNumber` as QuickBooks kept it.
    pub doc_number: Option<&'a str>,
    /// "View in QuickBooks" link.
    pub link: &'a str,
    /// QBO `TotalAmt`.
    pub amount: Option<Decimal>,
}

/// What a fenced write did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    /// The row was still in the send and now holds the outcome.
    Done,
    /// The row had been settled already with the same outcome (the same QuickBooks id): a
    /// replayed answer arriving twice; nothing to do.
    AlreadyDone,
    /// The row had left the send (another run settled it differently): recorded on the row as
    /// a conflict for support, not applied.
    Conflict,
}

/// Records a row posted, with what QuickBooks holds: only if it is still `posting` in
/// `send_id`. Otherwise, unless it already holds the same QuickBooks id, the attempt is
/// recorded as a conflict.
pub async fn settle_posted(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    send_id: i64,
    posted: Posted<'_>,
) -> sqlx::Result<Settled> {
    let done = sqlx::query(
        "update ledger_entry set state = 'posted', qbo_entity = $4, qbo_id = $5,
            qbo_doc_number = coalesce($6, qbo_doc_number), qbo_link = $7, qbo_amount = $8,
            posted_at = now(), retryable = false, last_error = null, error_code = null,
            fix_hint = null, fix_at = null, send_id = null, send_item = null
         where tenant_id = $1 and ledger_entry_id = $2 and state = 'posting' and send_id = $3",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(send_id)
    .bind(posted.entity)
    .bind(posted.id)
    .bind(posted.doc_number)
    .bind(posted.link)
    .bind(posted.amount)
    .execute(db)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(Settled::Done);
    }
    let same: Option<bool> = sqlx::query_scalar(
        "select state = 'posted' and qbo_id = $3 from ledger_entry
         where tenant_id = $1 and ledger_entry_id = $2",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(posted.id)
    .fetch_optional(db)
    .await?;
    if same == Some(true) {
        return Ok(Settled::AlreadyDone);
    }
    record_conflict(
        db,
        tenant_id,
        ledger_entry_id,
        &format!(
            "A late answer said QuickBooks holds this document as {} {}, but the row had already been settled by another run. Check QuickBooks for a second copy.",
            posted.entity, posted.id
        ),
    )
    .await?;
    Ok(Settled::Conflict)
}

/// Records a row failed: only if it is still `posting` in `send_id`.
pub async fn settle_failed(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    send_id: i64,
    failure: &Failure,
) -> sqlx::Result<Settled> {
    let done = sqlx::query(
        "update ledger_entry set state = 'failed', retryable = $4, last_error = $5,
            error_code = $6, fix_hint = $7, fix_at = $8, send_id = null, send_item = null
         where tenant_id = $1 and ledger_entry_id = $2 and state = 'posting' and send_id = $3",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(send_id)
    .bind(failure.retryable)
    .bind(&failure.message)
    .bind(&failure.code)
    .bind(&failure.fix)
    .bind(&failure.fix_at)
    .execute(db)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(Settled::Done);
    }
    record_conflict(
        db,
        tenant_id,
        ledger_entry_id,
        &format!(
            "A late answer said QuickBooks refused this document ({}), but the row had already been settled by another run.",
            failure.message
        ),
    )
    .await?;
    Ok(Settled::Conflict)
}

/// Puts a `posting` row of `send_id` back to `pending`: a look-up proved QuickBooks does not
/// hold it, and its send can no longer be in flight.
pub async fn back_to_pending(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    send_id: i64,
    note: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update ledger_entry set state = 'pending', last_error = $4, send_id = null,
            send_item = null
         where tenant_id = $1 and ledger_entry_id = $2 and state = 'posting' and send_id = $3",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(send_id)
    .bind(note)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A row left `posting` with no recorded send (by an earlier version) that QuickBooks holds.
pub async fn unrecorded_posted(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    posted: Posted<'_>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update ledger_entry set state = 'posted', qbo_entity = $3, qbo_id = $4,
            qbo_doc_number = coalesce($5, qbo_doc_number), qbo_link = $6, qbo_amount = $7,
            posted_at = now(), retryable = false, last_error = null, error_code = null,
            fix_hint = null, fix_at = null
         where tenant_id = $1 and ledger_entry_id = $2 and state = 'posting' and send_id is null",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(posted.entity)
    .bind(posted.id)
    .bind(posted.doc_number)
    .bind(posted.link)
    .bind(posted.amount)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A row left `posting` with no recorded send that QuickBooks does not hold, and whose send
/// cannot be in flight any more: owed again.
pub async fn unrecorded_to_pending(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update ledger_entry set state = 'pending',
            last_error = 'Interrupted before QuickBooks had it; sent again.'
         where tenant_id = $1 and ledger_entry_id = $2 and state = 'posting' and send_id is null",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records on a row what a late writer wanted to record (shown to support).
pub async fn record_conflict(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    note: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update ledger_entry set conflict = $3, conflict_at = now()
         where tenant_id = $1 and ledger_entry_id = $2",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(note)
    .execute(db)
    .await?;
    Ok(())
}

/// Days used by the look-up of a row: its date as sent, or its trading day.
pub fn sent_date(row: &LedgerEntry) -> NaiveDate {
    row.qbo_txn_date.unwrap_or(row.trading_day)
}
