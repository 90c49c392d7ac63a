//! Replays from the support console: one document, or one trading day. A replay only queues
//! work for the sync workers through `sync::controls::enqueue`, the same path as the
//! customer's "Retry" and "Sync now", so it posts exactly what those would: a document already
//! in QuickBooks is never posted again. Every replay is written to the audit log.
//!
//! - A failed document gets a new attempt (a new request id) in a retry run.
//! - A skipped document is owed again: the next run asks TrackTik about it directly and posts
//!   it if TrackTik says it is approved (and has something to post).
//! - A day: its failed documents get a new attempt, and a run of that day is queued.

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::audit::{self, Actor};
use crate::ids::{IntegrationId, TenantId};
use crate::integrations::IntegrationState;
use crate::state::AppState;
use crate::sync::SyncError;
use crate::sync::controls::{self, Queued, RunRequest, SyncIntegration};
use crate::sync::ledger::{self, LedgerState, Source};
use crate::sync::runs::Requester;

/// Why a replay was not queued.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// No such document or integration.
    #[error("not found")]
    NotFound,
    /// The replay would do nothing or something wrong; the message says why, for staff.
    #[error("{0}")]
    Refused(String),
    /// Anything else.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ReplayError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<SyncError> for ReplayError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::NotFound => Self::NotFound,
            SyncError::NotReady(msg) | SyncError::NeedsReconnect(msg) => Self::Refused(msg),
            other => Self::Internal(other.into()),
        }
    }
}

/// A ledger row as the replay page shows it, with whose it is.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DocumentRow {
    /// Ledger row.
    pub ledger_entry_id: i64,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub tenant_name: String,
    /// Integration.
    pub integration_id: IntegrationId,
    /// Its QuickBooks company.
    pub company_name: String,
    /// Invoice or pay run.
    pub source: Source,
    /// TrackTik document number.
    pub doc_number: String,
    /// Trading day of its approval.
    pub trading_day: NaiveDate,
    /// TrackTik total.
    pub amount: Decimal,
    /// Currency.
    pub currency: Option<String>,
    /// Where it stands.
    pub state: LedgerState,
    /// Why it failed or was skipped.
    pub last_error: Option<String>,
    /// What to do about it.
    pub fix_hint: Option<String>,
    /// QuickBooks entity, once posted.
    pub qbo_entity: Option<String>,
    /// QuickBooks document number.
    pub qbo_doc_number: Option<String>,
    /// "View in QuickBooks".
    pub qbo_link: Option<String>,
    /// A late answer from a run that had lost its lock, recorded and not applied.
    pub conflict: Option<String>,
}

impl DocumentRow {
    /// `invoice 1001`, `pay run PR-7`.
    pub fn title(&self) -> String {
        format!("{} {}", self.source.label(), self.doc_number)
    }

    /// The amount with its currency.
    pub fn amount_label(&self) -> String {
        super::money(self.amount, self.currency.as_deref())
    }

    /// Its state as a word.
    pub fn state_label(&self) -> &'static str {
        match self.state {
            LedgerState::Pending => "Pending",
            LedgerState::Posting => "Posting",
            LedgerState::Posted => "Posted",
            LedgerState::Failed => "Failed",
            LedgerState::Skipped => "Skipped",
        }
    }

    /// Its state as an icon.
    pub fn state_icon(&self) -> &'static str {
        match self.state {
            LedgerState::Pending | LedgerState::Posting => "…",
            LedgerState::Posted => "✓",
            LedgerState::Failed => "✕",
            LedgerState::Skipped => "–",
        }
    }

    /// Its state as a colour.
    pub fn state_css(&self) -> &'static str {
        match self.state {
            LedgerState::Pending | LedgerState::Posting => "draft",
            LedgerState::Posted => "ok",
            LedgerState::Failed => "bad",
            LedgerState::Skipped => "paused",
        }
    }
}

/// Finds a ledger row by id, in any tenant (staff only).
pub async fn find_document(
    db: &sqlx::PgPool,
    ledger_entry_id: i64,
) -> sqlx::Result<Option<DocumentRow>> {
    sqlx::query_as(
        "select l.ledger_entry_id, l.tenant_id, t.name as tenant_name, l.integration_id,
                i.company_name, l.source, l.doc_number, l.trading_day, l.amount, l.currency,
                l.state, l.last_error, l.fix_hint, l.qbo_entity, l.qbo_doc_number, l.qbo_link,
                l.conflict
         from ledger_entry l
         join integration i on i.integration_id = l.integration_id and i.tenant_id = l.tenant_id
         join tenant t on t.tenant_id = l.tenant_id
         where l.ledger_entry_id = $1",
    )
    .bind(ledger_entry_id)
    .fetch_optional(db)
    .await
}

/// What replaying a document would do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DocumentPlan {
    /// Failed: a retry run gives it a new attempt with a new request id.
    Retry,
    /// Skipped: a run of its day reads it again from TrackTik.
    Reread(DayRun),
}

/// The run that replays a trading day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayRun {
    /// The day.
    pub day: NaiveDate,
    /// What is queued: "sync now" up to the end of the day, or a back-sync of the day when it
    /// is before the integration's sync start date.
    pub request: RunRequest,
    /// The integration's sync start date.
    pub start_date: NaiveDate,
    /// The integration's time zone.
    pub zone: String,
}

impl DayRun {
    /// Whether the day is before the sync start date (a back-sync of that day).
    pub fn before_start(&self) -> bool {
        self.day < self.start_date
    }
}

async fn ensure_active(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> Result<(), ReplayError> {
    let integration = crate::integrations::db::get(&state.db, tenant_id, integration_id)
        .await?
        .ok_or(ReplayError::NotFound)?;
    if integration.state != IntegrationState::Active {
        return Err(ReplayError::Refused(format!(
            "The integration is {}: only an active integration can sync, so nothing can be \
             replayed until the customer finishes setup, resumes or reconnects it.",
            integration.state.label().to_lowercase()
        )));
    }
    Ok(())
}

/// What replaying `day` of the integration would queue, or why it cannot: the day must have
/// started, and must be on or after the integration's sync start date (days before it were
/// never the integration's to sync; the customer back-syncs them if they want them).
pub async fn plan_day(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
) -> Result<DayRun, ReplayError> {
    plan_run(state, tenant_id, integration_id, day, false).await
}

/// The run that reads `day` again; before the start date only when `back_sync_allowed` (a
/// skipped document from a back-synced day).
async fn plan_run(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
    back_sync_allowed: bool,
) -> Result<DayRun, ReplayError> {
    ensure_active(state, tenant_id, integration_id).await?;
    let settings = crate::sync::settings_of(&state.db, tenant_id, integration_id)
        .await?
        .ok_or(ReplayError::NotFound)?;
    let schedule = crate::sync::schedule_of(&settings)?;
    let today = Utc::now().with_timezone(&schedule.zone).date_naive();
    if day > today {
        return Err(ReplayError::Refused(format!(
            "{day} has not happened yet in {}: a day can be replayed once it has started.",
            schedule.zone.name()
        )));
    }
    if day < schedule.start_date && !back_sync_allowed {
        return Err(ReplayError::Refused(format!(
            "{day} is before the integration's sync start date, {}: Ledgerbridge does not sync \
             days before it. Choose {} or a later day. To post earlier documents, the customer \
             uses Back-sync on their dashboard.",
            schedule.start_date, schedule.start_date
        )));
    }
    let request = if day < schedule.start_date {
        RunRequest::BackSync { from: day }
    } else {
        RunRequest::Manual
    };
    Ok(DayRun {
        day,
        request,
        start_date: schedule.start_date,
        zone: schedule.zone.name().to_owned(),
    })
}

/// What replaying the document would do, or why it cannot be replayed.
pub async fn plan_document(
    state: &AppState,
    doc: &DocumentRow,
) -> Result<DocumentPlan, ReplayError> {
    match doc.state {
        LedgerState::Posted => Err(ReplayError::Refused(format!(
            "The {} is already in QuickBooks{}. Ledgerbridge never posts a document twice, so \
             there is nothing to replay.",
            doc.title(),
            match (&doc.qbo_entity, &doc.qbo_doc_number) {
                (Some(e), Some(n)) => format!(" as {e} {n}"),
                _ => String::new(),
            }
        ))),
        LedgerState::Pending | LedgerState::Posting => Err(ReplayError::Refused(format!(
            "The {} is waiting to be posted: the next run posts it. To post it now, replay its \
             day.",
            doc.title()
        ))),
        LedgerState::Failed => {
            ensure_active(state, doc.tenant_id, doc.integration_id).await?;
            Ok(DocumentPlan::Retry)
        }
        LedgerState::Skipped => Ok(DocumentPlan::Reread(
            plan_run(
                state,
                doc.tenant_id,
                doc.integration_id,
                doc.trading_day,
                true,
            )
            .await?,
        )),
    }
}

/// What a replay queued.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// The job.
    pub job: SyncIntegration,
    /// Added, or an identical one was already waiting.
    pub queued: Queued,
    /// Failed documents given a new attempt by the replay itself (day replays).
    pub documents_reset: u64,
}

fn queued_word(queued: Queued) -> &'static str {
    match queued {
        Queued::Added => "added",
        Queued::AlreadyQueued => "already_queued",
    }
}

/// Replays one document (see the module docs) and audits it. Posted and waiting documents
/// are refused, and nothing is queued or recorded for them.
pub async fn replay_document(
    state: &AppState,
    actor: Actor,
    client_addr: &str,
    ledger_entry_id: i64,
) -> Result<(DocumentRow, Replayed), ReplayError> {
    let doc = find_document(&state.db, ledger_entry_id)
        .await?
        .ok_or(ReplayError::NotFound)?;
    let plan = plan_document(state, &doc).await?;
    let (request, day) = match &plan {
        DocumentPlan::Retry => (
            RunRequest::Retry {
                ledger_entry_id: Some(doc.ledger_entry_id),
            },
            None,
        ),
        DocumentPlan::Reread(_) => {
            // Owed again: the run asks TrackTik about it directly, whatever its trading day.
            ledger::reopen_skipped(&state.db, doc.tenant_id, doc.ledger_entry_id).await?;
            (RunRequest::Manual, None)
        }
    };
    let (job, queued) = controls::enqueue(
        state,
        doc.tenant_id,
        doc.integration_id,
        request,
        day,
        Requester::Support,
    )
    .await?;
    audit::record(
        &state.db,
        actor,
        "staff.replayed_document",
        Some(doc.tenant_id),
        serde_json::json!({
            "integration": doc.integration_id,
            "ledger_entry": doc.ledger_entry_id,
            "document": doc.title(),
            "state": doc.state_label(),
            "run": crate::console::kind_label(job.request.kind()),
            "day": job.day,
            "queued": queued_word(queued),
        }),
        Some(client_addr),
    )
    .await?;
    Ok((
        doc,
        Replayed {
            job,
            queued,
            documents_reset: 0,
        },
    ))
}

/// The failed documents of one trading day: `(ledger row, "invoice 1001")`.
pub async fn failed_on_day(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
) -> sqlx::Result<Vec<(i64, Source, String)>> {
    sqlx::query_as(
        "select ledger_entry_id, source, doc_number from ledger_entry
         where tenant_id = $1 and integration_id = $2 and trading_day = $3 and state = 'failed'
         order by approved_at, ledger_entry_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(day)
    .fetch_all(db)
    .await
}

/// Replays a trading day and audits it: the day's failed documents get a new attempt (a new
/// request id), then a run of the day is queued. Documents already posted stay as they are.
pub async fn replay_day(
    state: &AppState,
    actor: Actor,
    client_addr: &str,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
) -> Result<Replayed, ReplayError> {
    let run = plan_day(state, tenant_id, integration_id, day).await?;
    let failed = failed_on_day(&state.db, tenant_id, integration_id, day).await?;
    // Reset first: a worker that picks the run up at once must see them pending. Should the
    // enqueue below fail, they are simply pending, and the next nightly run posts them.
    let mut tx = state.db.begin().await?;
    let mut reset = 0;
    for (id, _, _) in &failed {
        reset += ledger::retry_failed(&mut *tx, tenant_id, integration_id, Some(*id)).await?;
    }
    tx.commit().await?;
    let (job, queued) = controls::enqueue(
        state,
        tenant_id,
        integration_id,
        run.request,
        Some(day),
        Requester::Support,
    )
    .await?;
    audit::record(
        &state.db,
        actor,
        "staff.replayed_day",
        Some(tenant_id),
        serde_json::json!({
            "integration": integration_id,
            "day": day,
            "run": crate::console::kind_label(job.request.kind()),
            "documents_reset": reset,
            "queued": queued_word(queued),
        }),
        Some(client_addr),
    )
    .await?;
    Ok(Replayed {
        job,
        queued,
        documents_reset: reset,
    })
}
