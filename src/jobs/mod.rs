//! Background jobs on apalis, backed by PostgreSQL.
//!
//! Any number of `worker` processes on any number of machines share the queue; Postgres is
//! the only coordination point. Job payloads carry ids only, and every job is idempotent.

mod expert_reminders;
mod housekeeping;
mod keep_alive;
pub mod sync;

use std::future::Future;
use std::str::FromStr;

use anyhow::Context;
use apalis::prelude::*;
use apalis_cron::{CronStream, Schedule};
use apalis_sql::postgres::PostgresStorage;

use crate::state::AppState;

pub use housekeeping::Housekeeping;
pub use keep_alive::KeepAlive;

/// Runs every worker until `shutdown` resolves.
pub async fn run(
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let schedule = Schedule::from_str(housekeeping::SCHEDULE)
        .context("the housekeeping schedule is invalid")?;
    let housekeeping = WorkerBuilder::new("housekeeping")
        .enable_tracing()
        .data(state.clone())
        .backend(CronStream::new(schedule))
        .build_fn(housekeeping::run);

    let keep_alive = WorkerBuilder::new("keep-alive")
        .enable_tracing()
        .data(state.clone())
        .backend(CronStream::new(
            Schedule::from_str(keep_alive::SCHEDULE)
                .context("the keep-alive schedule is invalid")?,
        ))
        .build_fn(keep_alive::run);

    let sync_tick = WorkerBuilder::new("sync-tick")
        .enable_tracing()
        .data(state.clone())
        .backend(CronStream::new(
            Schedule::from_str(sync::SCHEDULE).context("the sync schedule is invalid")?,
        ))
        .build_fn(sync::tick);
    let changes = WorkerBuilder::new("sync-changes")
        .enable_tracing()
        .data(state.clone())
        .backend(CronStream::new(
            Schedule::from_str(sync::CHANGES_SCHEDULE)
                .context("the changes-check schedule is invalid")?,
        ))
        .build_fn(sync::changes);
    let sync_worker = WorkerBuilder::new(sync_worker_name())
        .enable_tracing()
        .concurrency(state.config.worker_concurrency.max(1))
        .data(state.clone())
        .backend(PostgresStorage::<crate::sync::controls::SyncIntegration>::new(state.db.clone()))
        .build_fn(sync_then_reachable);

    tracing::info!(
        concurrency = state.config.worker_concurrency,
        "worker started"
    );
    expert_reminders::register(Monitor::new(), &state)?
        .register(housekeeping)
        .register(keep_alive)
        .register(sync_tick)
        .register(changes)
        .register(sync_worker)
        .run_with_signal(async move {
            shutdown.await;
            Ok(())
        })
        .await
        .context("the job monitor stopped with an error")?;
    tracing::info!("worker stopped");
    Ok(())
}

/// The queue worker's name, one per process. apalis keeps one heartbeat per name and takes
/// back the running jobs of a worker whose heartbeat stopped; with one name for every process,
/// a live worker's heartbeat kept a crashed one's jobs from ever being taken back. (A worker
/// that starts still puts every running sync job back on the queue, apalis's start-up sweep;
/// such a job finds its integration locked and goes back on the queue, posting nothing twice.)
fn sync_worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("sync@{host}:{}", std::process::id())
}

/// [`sync::run`], and after a failure, waits (up to a minute) until the database answers again:
/// apalis writes the outcome right after the job returns and never retries that write, so a
/// failure caused by a database restart would otherwise leave the job `Running` for as long as
/// this worker lives (apalis re-enqueues only the jobs of workers unseen for 5 minutes).
async fn sync_then_reachable(
    job: crate::sync::controls::SyncIntegration,
    state: Data<AppState>,
) -> Result<(), Error> {
    let result = sync::run(job, state.clone()).await;
    if result.is_err() {
        for _ in 0..240 {
            if sqlx::query("select 1").execute(&state.db).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }
    result
}

/// Wraps any error for apalis, which wants a boxed std error.
pub(crate) fn job_error(e: anyhow::Error) -> Error {
    let boxed: BoxDynError = e.into();
    Error::Failed(std::sync::Arc::new(boxed))
}
