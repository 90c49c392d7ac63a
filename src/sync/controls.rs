//! Manual controls (sync now, retry failed, back-sync, preview) and running a queued job.
//! Web pages and the CLI call these; each takes the tenant id first. The web and the console
//! queue their requests (see [`super::queue`]); the CLI runs them in the calling process.

use chrono::{NaiveDate, Utc};

use crate::ids::{IntegrationId, TenantId};
use crate::state::AppState;

use super::engine::{PreviewItem, RunPlan, RunReport, run, schedule_of, settings_of};
use super::queue;
use super::runs::{Requester, RunKind};
use super::{SyncError, ledger};

pub use super::queue::{
    Asked, DayRange, JOB_MAX_ATTEMPTS, Queued, RunRequest, SyncIntegration, enqueue_due,
    enqueue_rollback, job_type, requeue, tenant_of,
};

/// Today in the integration's time zone.
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
    let mut plan = RunPlan::of(RunKind::Manual, day);
    plan.by = Requester::CommandLine;
    run(state, tenant_id, integration_id, plan).await
}

/// "Retry failed": one failed document (`Some(ledger_entry_id)`) or all of them get a new
/// attempt generation (so a new request id) and are posted now, whatever their trading day.
/// Documents whose outcome is unknown (`posting`) are not touched: their send is settled first.
pub async fn retry_failed(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    ledger_entry_id: Option<i64>,
) -> Result<RunReport, SyncError> {
    ledger::retry_failed(&state.db, tenant_id, integration_id, ledger_entry_id).await?;
    let day = today(state, tenant_id, integration_id).await?;
    let mut plan = RunPlan::of(RunKind::Retry, day);
    plan.by = Requester::CommandLine;
    run(state, tenant_id, integration_id, plan).await
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
    let mut plan = RunPlan::of(RunKind::BackSync, to);
    plan.back_sync = vec![DayRange { from, to }];
    plan.by = Requester::CommandLine;
    run(state, tenant_id, integration_id, plan).await
}

/// Queues a manual request (sync now, retry, back-sync) for the workers, so it runs in the
/// background and the dashboard can follow its progress; merged into the integration's waiting
/// manual job if there is one. `day` defaults to today in the integration's time zone.
pub async fn enqueue(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    request: RunRequest,
    day: Option<NaiveDate>,
    by: Requester,
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
    queue::enqueue(&state.db, integration_id, request, day, by).await
}

/// Runs a queued job: what the worker calls. A nightly job posts everything owed up to the end
/// of its day, however many days that covers; a manual one first makes the documents asked
/// for retryable, then reads the back-sync ranges and posts everything owed up to its day.
pub async fn run_job(
    state: &AppState,
    tenant_id: TenantId,
    job: &SyncIntegration,
) -> Result<RunReport, SyncError> {
    let (integration_id, day) = (job.integration_id, job.day);
    if let RunRequest::Rollback { rollback_id } = job.request {
        super::rollback::run(state, tenant_id, integration_id, rollback_id).await?;
        return Ok(RunReport::default());
    }
    let plan = match &job.request {
        RunRequest::Nightly => RunPlan {
            first_day: job.first_day,
            ..RunPlan::of(RunKind::Nightly, day)
        },
        request => {
            let asked = match request {
                RunRequest::Asked(a) => a.clone(),
                legacy => Asked::of(legacy.clone(), day, Requester::Customer),
            };
            if asked.retry_all {
                ledger::retry_failed(&state.db, tenant_id, integration_id, None).await?;
            }
            for id in &asked.retry {
                ledger::retry_failed(&state.db, tenant_id, integration_id, Some(*id)).await?;
            }
            RunPlan {
                kind: asked.kind(),
                day,
                first_day: None,
                back_sync: asked.back_sync.clone(),
                by: asked.requester(),
            }
        }
    };
    run(state, tenant_id, integration_id, plan).await
}

/// "Preview": what a run for `day` (default: today, local) would post, with the problems it
/// would meet. Writes nothing to QuickBooks or the ledger (see [`super::preview`]).
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
    super::preview::preview(state, tenant_id, integration_id, day).await
}

/// What posting the documents approved in the last `days` days up to today would meet, for
/// the wizard's review (drafts included; nothing written anywhere).
pub async fn preview_recent(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    days: u64,
) -> Result<Vec<PreviewItem>, SyncError> {
    let today = today(state, tenant_id, integration_id).await?;
    let from = today
        .checked_sub_days(chrono::Days::new(days))
        .unwrap_or(today);
    super::preview::range(state, tenant_id, integration_id, from, today).await
}

/// "Roll back this night": records the rollback of `day` (one reversal per document posted
/// that day) and queues it for the workers. `by` names the person, as the audit log does.
pub async fn roll_back(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
    by: &str,
) -> Result<i64, SyncError> {
    let integration = crate::integrations::db::get(&state.db, tenant_id, integration_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    if integration.state != crate::integrations::IntegrationState::Active {
        return Err(SyncError::NotReady(format!(
            "The integration is {}; only an active integration can roll back a night.",
            integration.state.label().to_lowercase()
        )));
    }
    let id = super::rollback::request(&state.db, tenant_id, integration_id, day, by).await?;
    queue::enqueue_rollback(&state.db, integration_id, id, day).await?;
    Ok(id)
}
