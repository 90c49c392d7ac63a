//! The nightly sync as jobs: a cron tick every 5 minutes on every worker that only enqueues
//! (idempotently, see `sync::queue::enqueue_due`), the `SyncIntegration` worker, a thin adapter
//! over `sync::controls::run_job`, and the daily pass of the changes check.

use apalis::prelude::*;
use chrono::Utc;
use tracing::Instrument;

use crate::state::AppState;
use crate::sync::SyncError;
use crate::sync::controls::{self, SyncIntegration};

/// Seconds, minutes, hours, day of month, month, day of week: every 5 minutes.
pub const SCHEDULE: &str = "0 */5 * * * *";

/// The cron tick's payload.
#[derive(Clone, Debug, Default)]
pub struct SyncTick;

/// One tick: enqueue every due (integration, day) not enqueued yet.
pub async fn tick(_: SyncTick, state: Data<AppState>) -> Result<(), Error> {
    let enqueued = controls::enqueue_due(&state.db, Utc::now())
        .await
        .map_err(|e| super::job_error(e.into()))?;
    if !enqueued.is_empty() {
        tracing::info!(count = enqueued.len(), "sync days enqueued");
    }
    Ok(())
}

/// How long a job whose integration is busy waits before it is tried again.
pub const BUSY_DELAY: std::time::Duration = std::time::Duration::from_secs(20);

/// Seconds, minutes, hours, day of month, month, day of week: daily at 05:17 UTC.
pub const CHANGES_SCHEDULE: &str = "0 17 5 * * *";

/// The changes check's payload.
#[derive(Clone, Debug, Default)]
pub struct ChangesTick;

/// The changes check of every integration due for one (weekly each). Each is taken by one
/// worker at a time (a lock tried without waiting); one that fails is tried at the next pass.
pub async fn changes(_: ChangesTick, state: Data<AppState>) -> Result<(), Error> {
    let due = crate::sync::changes::due(&state.db, Utc::now())
        .await
        .map_err(|e| super::job_error(e.into()))?;
    for (tenant_id, integration_id) in due {
        let mut lock = state
            .db
            .begin()
            .await
            .map_err(|e| super::job_error(e.into()))?;
        let mine: bool =
            sqlx::query_scalar("select pg_try_advisory_xact_lock(hashtextextended($1, 20261207))")
                .bind(format!("changes:{integration_id}"))
                .fetch_one(&mut *lock)
                .await
                .map_err(|e| super::job_error(e.into()))?;
        if !mine {
            continue;
        }
        match crate::sync::changes::check(&state, tenant_id, integration_id).await {
            Ok(flagged) => {
                tracing::info!(integration = %integration_id, flagged, "changes checked");
            }
            Err(e) => {
                tracing::warn!(integration = %integration_id, error = %e, "changes not checked")
            }
        }
        lock.commit()
            .await
            .map_err(|e| super::job_error(e.into()))?;
    }
    Ok(())
}

/// Runs one integration's day. Conditions the customer must fix (reconnect, settings) end the
/// job without retries: the next day's run posts everything still owed.
///
/// Everything logged while the job runs carries `tenant`, `integration`, `day` and `kind`
/// (the `sync_job` span); the run's id is added when the run reports back.
pub async fn run(job: SyncIntegration, state: Data<AppState>) -> Result<(), Error> {
    let span = tracing::info_span!(
        "sync_job",
        tenant = tracing::field::Empty,
        integration = %job.integration_id,
        day = %job.day,
        kind = ?job.request.kind(),
        run = tracing::field::Empty,
    );
    run_in_span(job, state, span.clone()).instrument(span).await
}

async fn run_in_span(
    job: SyncIntegration,
    state: Data<AppState>,
    span: tracing::Span,
) -> Result<(), Error> {
    let Some(tenant_id) = controls::tenant_of(&state.db, job.integration_id)
        .await
        .map_err(|e| super::job_error(e.into()))?
    else {
        tracing::info!("sync not run: the integration no longer exists");
        return Ok(());
    };
    span.record("tenant", tracing::field::display(tenant_id));
    match controls::run_job(&state, tenant_id, &job).await {
        Ok(report) => {
            if let Some(run_id) = report.sync_run_id {
                span.record("run", run_id);
            }
            tracing::info!(
                posted = report.counts.posted,
                failed = report.counts.failed,
                skipped = report.counts.skipped,
                "sync run done"
            );
            Ok(())
        }
        Err(e @ (SyncError::NotFound | SyncError::NotReady(_) | SyncError::NeedsReconnect(_))) => {
            tracing::warn!("sync not run: {e}");
            Ok(())
        }
        Err(SyncError::Busy) => {
            // Another run of the integration is going on: this one goes back on the queue
            // (merged with what waits there) instead of waiting with a worker and a connection.
            controls::requeue(&state.db, &job, BUSY_DELAY)
                .await
                .map_err(|e| super::job_error(e.into()))?;
            tracing::info!("integration busy; the job is queued again");
            Ok(())
        }
        Err(e) => Err(super::job_error(e.into())),
    }
}
