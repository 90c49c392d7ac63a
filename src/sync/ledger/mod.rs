//! The ledger: one row per integration and TrackTik document, with its state
//! `pending → posting → posted | failed | skipped`, the QuickBooks id and link, and the error.
//!
//! The database keeps one row per document (unique `(integration, source, source_id)`). While a
//! document is not posted its row follows TrackTik's latest revision; once posted, later edits
//! only raise `changed_in_tracktik` (see `sync::changes`), nothing is re-posted. `skipped` means
//! TrackTik, asked directly, said the document is not approved or does not exist (or it has
//! nothing to post); a skipped document seen approved again is owed again.
//!
//! Writes that settle a posting are fenced: they apply only to a row still `posting` in the
//! same send, so a late writer can never overwrite another's outcome (see [`write`]).

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
    /// An approved credit memo.
    CreditMemo,
}

impl Source {
    /// The word people see.
    pub fn label(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Payrun => "pay run",
            Self::CreditMemo => "credit memo",
        }
    }

    /// As used in request ids.
    pub fn key(self) -> &'static str {
        match self {
            Self::Invoice => "invoice",
            Self::Payrun => "payrun",
            Self::CreditMemo => "credit_memo",
        }
    }
}

/// Where a document stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[sqlx(type_name = "ledger_state", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum LedgerState {
    /// Read from TrackTik, not sent yet.
    Pending,
    /// In a send recorded before the QuickBooks call; settled by its answer, or after a lost
    /// answer by a look-up and the same send again.
    Posting,
    /// In QuickBooks.
    Posted,
    /// Refused; the reason says how to fix it.
    Failed,
    /// Not posted because TrackTik, asked directly, said the document is not approved or does
    /// not exist, or because it has nothing to post (no lines). Owed again when it is seen
    /// approved again (or changed).
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
    /// The send carrying the row while it is `posting`.
    pub send_id: Option<i64>,
    /// Its item number in that send.
    pub send_item: Option<i32>,
    /// The QuickBooks customer (or vendor) the document was sent for (look-ups match on it).
    pub qbo_customer_id: Option<String>,
    /// The date it was sent with.
    pub qbo_txn_date: Option<NaiveDate>,
    /// Σ of its line amounts as sent (to the cent).
    pub qbo_lines_total: Option<Decimal>,
    /// A late writer found the row settled by another run: what it wanted to record.
    pub conflict: Option<String>,
    /// When that was.
    pub conflict_at: Option<DateTime<Utc>>,
    /// The failure last announced by e-mail.
    pub notified_failure: Option<String>,
    /// When TrackTik was last asked about this document.
    pub checked_at: Option<DateTime<Utc>>,
    /// The date to send it with instead of its own (QuickBooks' books were closed on that).
    pub txn_date_override: Option<NaiveDate>,
    /// What a rollback of its night did to it (or why it could not).
    pub reversal_note: Option<String>,
    /// When posting was last started.
    pub posting_started_at: Option<DateTime<Utc>>,
    /// When posted.
    pub posted_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

pub(crate) const COLUMNS: &str = "ledger_entry_id, tenant_id, integration_id, source, source_id, revision, \
    doc_number, trading_day, approved_at, amount, currency, state, qbo_entity, qbo_id, \
    qbo_doc_number, qbo_link, request_id, generation, attempts, retryable, last_error, \
    error_code, fix_hint, fix_at, changed_in_tracktik, change_note, discrepancy, qbo_amount, \
    send_id, send_item, qbo_customer_id, qbo_txn_date, qbo_lines_total, conflict, conflict_at, \
    notified_failure, checked_at, txn_date_override, reversal_note, posting_started_at, posted_at, created_at, updated_at";

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

mod batch;
mod followups;
mod write;

pub use batch::{owed_among, settle_posted_all};
pub use followups::{
    flag_posted, note_discrepancy, posted_revisions, posted_since, reopen_skipped, retry_failed,
};
pub use write::{
    Failure, Posted, Settled, SkipReason, back_to_pending, mark_failed_unsent,
    mark_nothing_to_post, owed, posted_among, record_all, record_conflict, sent_date,
    settle_failed, settle_posted, skip_told, unrecorded_posted, unrecorded_to_pending,
};
