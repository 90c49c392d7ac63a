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
    /// The trading day.
    pub day: NaiveDate,
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
            let job = SyncIntegration {
                integration_id,
                day,
            };
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
