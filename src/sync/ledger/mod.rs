//! The ledger: one row per integration and TrackTik document (and revision), with its state
//! `pending → posting → posted | failed | skipped`, the QuickBooks id and link, and the error.
//!
//! Invariants kept by the database itself: at most one `posted` row and at most one open
//! (`pending`, `posting`, `failed`) row per document. While a document is not posted its open
//! row follows TrackTik's latest revision; once posted, later edits only raise
//! `changed_in_tracktik` (nothing is re-posted).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgExecutor;

use crate::ids::{IntegrationId, TenantId};

/// What kind of TrackTik document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, sqlx::Type)]
#[sqlx(type_name = "ledger_source", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An approved invoice.
    Invoice,
    /// An approved and locked pay run.
    Payrun,
}

impl Source {
    /// The word people see.
    pub fn label(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Payrun => "pay run",
        }
    }

    /// As used in request ids.
    pub fn key(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Payrun => "payrun",
        }
    }
}

/// Where a document stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "ledger_state", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum LedgerState {
    /// Read from TrackTik, not sent yet (or sent and refused for a reason that may pass).
    Pending,
    /// Being sent: committed before the QuickBooks call. Resolved by lookup after a crash.
    Posting,
    /// In QuickBooks.
    Posted,
    /// Refused; the reason says how to fix it.
    Failed,
    /// Nothing to post (e.g. no lines).
    Skipped,
}

/// One ledger row.
#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct LedgerEntry {
    /// Row id.
    pub ledger_entry_id: i64,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Integration.
    pub integration_id: IntegrationId,
    /// Invoice or pay run.
    pub source: Source,
    /// TrackTik id.
    pub source_id: i64,
    /// Content hash of the TrackTik document as read.
    pub revision: String,
    /// TrackTik document number (pay runs: `PR-<id>`).
    pub doc_number: String,
    /// Local trading day of the approval.
    pub trading_day: NaiveDate,
    /// When TrackTik approved it.
    pub approved_at: DateTime<Utc>,
    /// TrackTik total.
    pub amount: Decimal,
    /// ISO currency, when known.
    pub currency: Option<String>,
    /// Where it stands.
    pub state: LedgerState,
    /// QBO entity name (`Invoice`, `Purchase`, `Bill`, `JournalEntry`).
    pub qbo_entity: Option<String>,
    /// QBO id.
    pub qbo_id: Option<String>,
    /// QBO `DocNumber`.
    pub qbo_doc_number: Option<String>,
    /// "View in QuickBooks" link.
    pub qbo_link: Option<String>,
    /// The `requestid` of the last create.
    pub request_id: Option<String>,
    /// Raised when a failed document is retried on purpose: part of the request id.
    pub generation: i32,
    /// Create attempts.
    pub attempts: i32,
    /// A failure that may pass by itself (QuickBooks busy): retried by the next run.
    pub retryable: bool,
    /// The reason, in plain language.
    pub last_error: Option<String>,
    /// QBO fault code or our own code.
    pub error_code: Option<String>,
    /// What to do about it.
    pub fix_hint: Option<String>,
    /// Where to fix it (`settings`, `quickbooks`, `tracktik`, `support`).
    pub fix_at: Option<String>,
    /// TrackTik changed or deleted the document after it was posted.
    pub changed_in_tracktik: bool,
    /// What changed.
    pub change_note: Option<String>,
    /// QuickBooks' total differs from TrackTik's (reported, never adjusted).
    pub discrepancy: Option<String>,
    /// What QuickBooks holds: the `TotalAmt` of the posted transaction (from the create's
    /// answer, or from the look-up that found it). Set whenever the row becomes `posted`.
    pub qbo_amount: Option<Decimal>,
    /// When posting was last started.
    pub posting_started_at: Option<DateTime<Utc>>,
    /// When posted.
    pub posted_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "ledger_entry_id, tenant_id, integration_id, source, source_id, revision, \
    doc_number, trading_day, approved_at, amount, currency, state, qbo_entity, qbo_id, \
    qbo_doc_number, qbo_link, request_id, generation, attempts, retryable, last_error, \
    error_code, fix_hint, fix_at, changed_in_tracktik, change_note, discrepancy, qbo_amount, \
    posting_started_at, posted_at, created_at, updated_at";

/// A TrackTik document as the ledger records it.
#[derive(Clone, Debug)]
pub struct SourceDoc {
    /// Invoice or pay run.
    pub source: Source,
    /// TrackTik id.
    pub source_id: i64,
    /// Content hash.
    pub revision: String,
    /// Document number.
    pub doc_number: String,
    /// Local trading day of the approval.
    pub trading_day: NaiveDate,
    /// Approval time.
    pub approved_at: DateTime<Utc>,
    /// Total.
    pub amount: Decimal,
    /// Currency.
    pub currency: Option<String>,
}

/// What recording a document did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// New or still open: to post.
    Open,
    /// Already posted, unchanged.
    AlreadyPosted,
    /// Already posted, and TrackTik changed it since: flagged.
    ChangedAfterPosting,
    /// Skipped earlier.
    Skipped,
}

/// Records one document read from TrackTik (idempotent).
pub async fn record(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    doc: &SourceDoc,
) -> sqlx::Result<Recorded> {
    let mut tx = db.begin().await?;
    let rows: Vec<(LedgerState, String, bool)> = sqlx::query_as(
        "select state, revision, changed_in_tracktik from ledger_entry
         where tenant_id = $1 and integration_id = $2 and source = $3 and source_id = $4
         for update",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(doc.source)
    .bind(doc.source_id)
    .fetch_all(&mut *tx)
    .await?;
    let outcome = if let Some((_, revision, flagged)) =
        rows.iter().find(|r| r.0 == LedgerState::Posted)
    {
        if *revision != doc.revision && !flagged {
            sqlx::query(
                "update ledger_entry set changed_in_tracktik = true,
                    change_note = 'Changed in TrackTik after it was posted to QuickBooks; the QuickBooks copy was not changed.'
                 where tenant_id = $1 and integration_id = $2 and source = $3 and source_id = $4 and state = 'posted'",
            )
            .bind(tenant_id)
            .bind(integration_id)
            .bind(doc.source)
            .bind(doc.source_id)
            .execute(&mut *tx)
            .await?;
            Recorded::ChangedAfterPosting
        } else {
            Recorded::AlreadyPosted
        }
    } else if let Some((state, revision, _)) = rows.iter().find(|r| r.0 != LedgerState::Skipped) {
        if *revision != doc.revision && *state != LedgerState::Posting {
            // Edited in TrackTik before it reached QuickBooks: follow the new revision, which
            // also gets a new request id; an edit may have fixed the reason it failed.
            sqlx::query(
                "update ledger_entry set revision = $5, doc_number = $6, trading_day = $7,
                    approved_at = $8, amount = $9, currency = $10, state = 'pending',
                    retryable = false, last_error = null, error_code = null, fix_hint = null,
                    fix_at = null
                 where tenant_id = $1 and integration_id = $2 and source = $3 and source_id = $4
                   and state in ('pending', 'failed')",
            )
            .bind(tenant_id)
            .bind(integration_id)
            .bind(doc.source)
            .bind(doc.source_id)
            .bind(&doc.revision)
            .bind(&doc.doc_number)
            .bind(doc.trading_day)
            .bind(doc.approved_at)
            .bind(doc.amount)
            .bind(&doc.currency)
            .execute(&mut *tx)
            .await?;
        }
        Recorded::Open
    } else if rows.iter().any(|r| r.1 == doc.revision) {
        Recorded::Skipped
    } else {
        sqlx::query(
            "insert into ledger_entry (tenant_id, integration_id, source, source_id, revision,
                doc_number, trading_day, approved_at, amount, currency)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             on conflict do nothing",
        )
        .bind(tenant_id)
        .bind(integration_id)
        .bind(doc.source)
        .bind(doc.source_id)
        .bind(&doc.revision)
        .bind(&doc.doc_number)
        .bind(doc.trading_day)
        .bind(doc.approved_at)
        .bind(doc.amount)
        .bind(&doc.currency)
        .execute(&mut *tx)
        .await?;
        Recorded::Open
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Rows in one state.
pub async fn in_state(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    state: LedgerState,
) -> sqlx::Result<Vec<LedgerEntry>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from ledger_entry
         where tenant_id = $1 and integration_id = $2 and state = $3
         order by approved_at, source, source_id"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(state)
    .fetch_all(db)
    .await
}

/// Every row of the integration, oldest approval first.
pub async fn list(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Vec<LedgerEntry>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from ledger_entry where tenant_id = $1 and integration_id = $2
         order by approved_at, source, source_id, ledger_entry_id"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(db)
    .await
}

/// The open row of one document, if any.
pub async fn open_row(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    source: Source,
    source_id: i64,
) -> sqlx::Result<Option<LedgerEntry>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from ledger_entry
         where tenant_id = $1 and integration_id = $2 and source = $3 and source_id = $4
           and state in ('pending', 'posting', 'failed')"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(source)
    .bind(source_id)
    .fetch_optional(db)
    .await
}

/// Rows a run should post: pending ones, and failed ones that may pass by themselves, approved
/// before `until`.
pub async fn to_post(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    until: DateTime<Utc>,
) -> sqlx::Result<Vec<LedgerEntry>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from ledger_entry
         where tenant_id = $1 and integration_id = $2 and approved_at < $3
           and (state = 'pending' or (state = 'failed' and retryable))
         order by approved_at, source, source_id"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(until)
    .fetch_all(db)
    .await
}

/// Marks a row `posting` with the request id about to be sent. Committed before the call.
/// Returns false when the row was no longer postable (another worker took it).
pub async fn start_posting(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    request_id: &str,
    qbo_entity: &str,
    qbo_doc_number: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update ledger_entry set state = 'posting', request_id = $3, qbo_entity = $4,
            qbo_doc_number = $5, attempts = attempts + 1, posting_started_at = now()
         where tenant_id = $1 and ledger_entry_id = $2 and state in ('pending', 'failed')",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(request_id)
    .bind(qbo_entity)
    .bind(qbo_doc_number)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the rows of one batch `posting`, in one transaction committed before the call. Each
/// item is (row, QBO entity, `DocNumber`). The rows still postable are locked first (another
/// worker may have taken some); `request_id` derives the batch's request id from them, and each
/// row records it. Returns those rows and the request id.
pub async fn start_posting_batch<R: AsRef<str>>(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    items: &[(i64, &str, &str)],
    request_id: impl FnOnce(&[i64]) -> R,
) -> sqlx::Result<(Vec<i64>, R)> {
    let ids: Vec<i64> = items.iter().map(|i| i.0).collect();
    let mut tx = db.begin().await?;
    let open: Vec<i64> = sqlx::query_scalar(
        "select ledger_entry_id from ledger_entry
         where tenant_id = $1 and ledger_entry_id = any($2) and state in ('pending', 'failed')
         for update",
    )
    .bind(tenant_id)
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    let postable: Vec<i64> = ids.into_iter().filter(|id| open.contains(id)).collect();
    let rid = request_id(&postable);
    for (id, entity, doc_number) in items.iter().filter(|i| postable.contains(&i.0)) {
        start_posting(&mut *tx, tenant_id, *id, rid.as_ref(), entity, doc_number).await?;
    }
    tx.commit().await?;
    Ok((postable, rid))
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

/// Marks a row posted, with what QuickBooks holds.
pub async fn mark_posted(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    posted: Posted<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update ledger_entry set state = 'posted', qbo_entity = $3, qbo_id = $4,
            qbo_doc_number = coalesce($5, qbo_doc_number), qbo_link = $6, qbo_amount = $7,
            posted_at = now(), retryable = false, last_error = null, error_code = null,
            fix_hint = null, fix_at = null
         where tenant_id = $1 and ledger_entry_id = $2",
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
    Ok(())
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
    /// May pass by itself; the next run retries with the same request id.
    pub retryable: bool,
}

/// Marks a row failed (or, when `retryable`, failed-for-now: the next run tries again).
pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    failure: &Failure,
) -> sqlx::Result<()> {
    sqlx::query(
        "update ledger_entry set state = 'failed', retryable = $3, last_error = $4,
            error_code = $5, fix_hint = $6, fix_at = $7
         where tenant_id = $1 and ledger_entry_id = $2",
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
    Ok(())
}

/// Marks a row skipped (nothing to post), with the reason.
pub async fn mark_skipped(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update ledger_entry set state = 'skipped', last_error = $3, retryable = false
         where tenant_id = $1 and ledger_entry_id = $2",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(())
}

/// Puts a `posting` row back to `pending`: QuickBooks was asked and has no such document.
pub async fn back_to_pending(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    note: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update ledger_entry set state = 'pending', last_error = $3
         where tenant_id = $1 and ledger_entry_id = $2 and state = 'posting'",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(note)
    .execute(db)
    .await?;
    Ok(())
}

mod followups;

pub use followups::{flag_missing, note_discrepancy, retry_failed};
