//! Manual controls (sync now, retry failed, back-sync, preview) and the cron tick's enqueue.
//! Web pages and the CLI call these; each takes the tenant id first.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{IntegrationId, TenantId};
use crate::state::AppState;

use super::engine::{PreviewItem, RunReport, run_with, schedule_of, settings_of};
use super::runs::{self, RunKind};
use super::{SyncError, ledger};

/// The job payload: ids only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncIntegration {
    /// The integration.
    pub integration_id: IntegrationId,
    /// The trading day (for a back-sync, the last day of the range).
    pub day: NaiveDate,
    /// What was asked for; jobs written before this field existed are nightly runs.
    #[serde(default)]
    pub request: RunRequest,
}

impl SyncIntegration {
    /// The nightly run of `day`.
    pub fn nightly(integration_id: IntegrationId, day: NaiveDate) -> Self {
        Self {
            integration_id,
            day,
            request: RunRequest::Nightly,
        }
    }
}

/// What a queued run was asked to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunRequest {
    /// The nightly run of a trading day, enqueued by the cron tick.
    #[default]
    Nightly,
    /// "Sync now": everything approved up to the end of the day.
    Manual,
    /// "Retry failed": one document, or every failed one when `ledger_entry_id` is none.
    Retry {
        /// The ledger row to retry.
        ledger_entry_id: Option<i64>,
    },
    /// "Back-sync a date range" from `from` to the job's day.
    BackSync {
        /// The first day of the range.
        from: NaiveDate,
    },
}

impl RunRequest {
    /// The run kind it produces.
    pub fn kind(self) -> RunKind {
        match self {
            Self::Nightly => RunKind::Nightly,
            Self::Manual => RunKind::Manual,
            Self::Retry { .. } => RunKind::Retry,
            Self::BackSync { .. } => RunKind::BackSync,
        }
    }
}

/// Whether a queued job was added or an identical one was already waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queued {
    /// The job was added.
    Added,
    /// The same request was already queued or running; nothing was added.
    AlreadyQueued,
}

/// Tries per job before apalis gives up (later days' runs still catch up everything owed).
pub const JOB_MAX_ATTEMPTS: i32 = 5;

async fn today(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> Result<NaiveDate, SyncError> {
    let settings = settings_of(&state.db, tenant_id, integration_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    let schedule = schedule_of(&settings)?;
    Ok(Utc::now().with_timezone(&schedule.zone).date_naive())
}

/// "Sync now": posts everything approved up to the end of `day` (default: today, local) that is
/// not posted yet.
pub async fn sync_now(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: Option<NaiveDate>,
) -> Result<RunReport, SyncError> {
    let day = match day {
        Some(d) => d,
        None => today(state, tenant_id, integration_id).await?,
    };
    run_with(state, tenant_id, integration_id, day, RunKind::Manual, None).await
}

/// "Retry failed": one failed document (`Some(ledger_entry_id)`) or all of them get a new
/// attempt generation (so a new request id) and are posted now.
pub async fn retry_failed(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    ledger_entry_id: Option<i64>,
) -> Result<RunReport, SyncError> {
    ledger::retry_failed(&state.db, tenant_id, integration_id, ledger_entry_id).await?;
    let day = today(state, tenant_id, integration_id).await?;
    run_with(state, tenant_id, integration_id, day, RunKind::Retry, None).await
}

/// "Back-sync a date range": posts documents approved from `from` to the end of `to`, even
/// before the sync start date, that are not posted yet.
pub async fn back_sync(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<RunReport, SyncError> {
    if to < from {
        return Err(SyncError::NotReady(
            "The end of the range is before its start.".into(),
        ));
    }
    run_with(
        state,
        tenant_id,
        integration_id,
        to,
        RunKind::BackSync,
        Some(from),
    )
    .await
}

/// Queues a manual run (sync now, retry, back-sync) for the workers, so it runs in the
/// background and the dashboard can follow its progress. `day` defaults to today in the
/// integration's time zone. An identical request already waiting or running is not queued
/// twice.
pub async fn enqueue(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    request: RunRequest,
    day: Option<NaiveDate>,
) -> Result<(SyncIntegration, Queued), SyncError> {
    let integration = crate::integrations::db::get(&state.db, tenant_id, integration_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    if integration.state != crate::integrations::IntegrationState::Active {
        return Err(SyncError::NotReady(format!(
            "The integration is {}; only an active integration can sync.",
            integration.state.label().to_lowercase()
        )));
    }
    let day = match day {
        Some(d) => d,
        None => today(state, tenant_id, integration_id).await?,
    };
    if let RunRequest::BackSync { from } = request
        && day < from
    {
        return Err(SyncError::NotReady(
            "The end of the range is before its start.".into(),
        ));
    }
    let job = SyncIntegration {
        integration_id,
        day,
        request,
    };
    let mut tx = state.db.begin().await?;
    // One enqueue at a time per integration, so two clicks cannot both pass the check below.
    sqlx::query("select pg_advisory_xact_lock(hashtext('enqueue:' || $1::text))")
        .bind(integration_id)
        .execute(&mut *tx)
        .await?;
    let waiting: bool = sqlx::query_scalar(
        "select exists (select 1 from apalis.jobs
         where job_type = $1 and status in ('Pending', 'Running') and job = $2)",
    )
    .bind(job_type())
    .bind(serde_json::to_value(&job).map_err(|e| SyncError::Unavailable(e.to_string()))?)
    .fetch_one(&mut *tx)
    .await?;
    if waiting {
        return Ok((job, Queued::AlreadyQueued));
    }
    push_job(&mut tx, &job)
        .await
        .map_err(|e| SyncError::Unavailable(e.to_string()))?;
    tx.commit().await?;
    Ok((job, Queued::Added))
}

/// Runs a queued job: what the worker calls.
pub async fn run_job(
    state: &AppState,
    tenant_id: TenantId,
    job: &SyncIntegration,
) -> Result<RunReport, SyncError> {
    let (integration_id, day) = (job.integration_id, job.day);
    match job.request {
        RunRequest::Nightly => {
            super::run_day(state, tenant_id, integration_id, day, RunKind::Nightly).await
        }
        RunRequest::Manual => sync_now(state, tenant_id, integration_id, Some(day)).await,
        RunRequest::Retry { ledger_entry_id } => {
            retry_failed(state, tenant_id, integration_id, ledger_entry_id).await
        }
        RunRequest::BackSync { from } => {
            back_sync(state, tenant_id, integration_id, from, day).await
        }
    }
}

/// "Preview": what a run for `day` (default: today, local) would post, with the problems it
/// would meet. Writes nothing to QuickBooks or the ledger.
pub async fn preview(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: Option<NaiveDate>,
) -> Result<Vec<PreviewItem>, SyncError> {
    let day = match day {
        Some(d) => d,
        None => today(state, tenant_id, integration_id).await?,
    };
    Ok(run_with(
        state,
        tenant_id,
        integration_id,
        day,
        RunKind::Preview,
        None,
    )
    .await?
    .preview)
}

/// The cron tick: for every active integration, enqueues one [`SyncIntegration`] per due
/// trading day not enqueued before. The (integration, day) key and the job are written in one
/// transaction, so concurrent ticks on several workers enqueue each day once. Returns what was
/// enqueued.
pub async fn enqueue_due(
    state: &AppState,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<SyncIntegration>> {
    let db = &state.db;
    // Every tenant's active integrations: the tick serves all tenants.
    let active: Vec<(TenantId, IntegrationId)> = sqlx::query_as(
        "select tenant_id, integration_id from integration where state = 'active'
         order by created_at",
    )
    .fetch_all(db)
    .await?;
    let mut enqueued = Vec::new();
    for (tenant_id, integration_id) in active {
        let Some(settings) = settings_of(db, tenant_id, integration_id).await? else {
            continue;
        };
        let Ok(schedule) = schedule_of(&settings) else {
            continue;
        };
        let last = runs::last_enqueued_day(db, tenant_id, integration_id).await?;
        for day in schedule.due_days(last, now) {
            let job = SyncIntegration::nightly(integration_id, day);
            let mut tx = db.begin().await?;
            if runs::claim_day(&mut *tx, tenant_id, integration_id, day).await? {
                push_job(&mut tx, &job).await?;
                enqueued.push(job);
            }
            tx.commit().await?;
        }
    }
    Ok(enqueued)
}

/// The apalis job type of [`SyncIntegration`] (what `PostgresStorage::<SyncIntegration>::new`
/// uses).
pub fn job_type() -> &'static str {
    std::any::type_name::<SyncIntegration>()
}

/// Writes the job as `PostgresStorage::push` does, inside the caller's transaction.
async fn push_job(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    job: &SyncIntegration,
) -> anyhow::Result<()> {
    sqlx::query(
        "insert into apalis.jobs (job, id, job_type, status, attempts, max_attempts, run_at, priority)
         values ($1, $2, $3, 'Pending', 0, $4, now(), 0)",
    )
    .bind(serde_json::to_value(job)?)
    .bind(apalis::prelude::TaskId::new().to_string())
    .bind(job_type())
    .bind(JOB_MAX_ATTEMPTS)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The tenant of an integration, for the job (whose payload carries the integration only).
pub async fn tenant_of(
    db: &sqlx::PgPool,
    integration_id: IntegrationId,
) -> sqlx::Result<Option<TenantId>> {
    sqlx::query_scalar("select tenant_id from integration where integration_id = $1")
        .bind(integration_id)
        .fetch_optional(db)
        .await
}
