//! The live progress of a running sync as Server-Sent Events: the dashboard's bar follows it
//! (`static/dashboard.js`). These routes sit outside the 60 s request timeout.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Serialize;

use super::dashboard::{progress_label, staff_tenant};
use super::extract::{CurrentStaff, CurrentUser, PathParam};
use crate::dashboard::{self, Activity};
use crate::error::{AppError, AppResult};
use crate::ids::{IntegrationId, TenantId};
use crate::state::AppState;
use crate::sync::runs::{self, RunStatus, SyncRun};

/// One message of the progress stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// `queued`, `running`, `finished` or `idle`.
    pub phase: &'static str,
    /// To handle.
    pub total: i32,
    /// Handled.
    pub done: i32,
    /// Posted.
    pub posted: i32,
    /// Failed.
    pub failed: i32,
    /// Skipped.
    pub skipped: i32,
    /// In words.
    pub label: String,
}

impl Progress {
    fn of_run(phase: &'static str, run: &SyncRun) -> Self {
        Self {
            phase,
            total: run.total,
            done: run.done,
            posted: run.posted,
            failed: run.failed,
            skipped: run.skipped,
            label: progress_label(run),
        }
    }

    fn without_run(phase: &'static str, label: &str) -> Self {
        Self {
            phase,
            total: 0,
            done: 0,
            posted: 0,
            failed: 0,
            skipped: 0,
            label: label.to_owned(),
        }
    }

    /// The last message: the page reloads.
    fn last(&self) -> bool {
        matches!(self.phase, "finished" | "idle")
    }
}

/// How often the stream looks at the run.
const POLL: Duration = Duration::from_secs(1);
/// A stream ends after this long; the browser's `EventSource` reconnects by itself.
const STREAM_LIFETIME: Duration = Duration::from_secs(30 * 60);

struct Follow {
    state: AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    run: Option<i64>,
    last: Option<Progress>,
    started: Instant,
    ended: bool,
}

impl Follow {
    /// What to say now.
    async fn look(&mut self) -> sqlx::Result<Progress> {
        let db = &self.state.db;
        if let Some(id) = self.run {
            let live = dashboard::live_run(db, self.tenant_id, self.integration_id)
                .await?
                .filter(|r| r.sync_run_id == id);
            return Ok(match live {
                Some(run) => Progress::of_run("running", &run),
                None => match runs::get(db, self.tenant_id, id).await? {
                    Some(run) => {
                        let mut p = Progress::of_run("finished", &run);
                        p.label = if run.status == RunStatus::Running {
                            // Its worker went away; the next run picks up what is left.
                            format!("Stopped without finishing: {}", p.label)
                        } else {
                            format!("Finished: {}", p.label)
                        };
                        p
                    }
                    None => Progress::without_run("idle", ""),
                },
            });
        }
        Ok(
            match dashboard::activity(db, self.tenant_id, self.integration_id).await? {
                Activity::Running(run) => {
                    self.run = Some(run.sync_run_id);
                    Progress::of_run("running", &run)
                }
                Activity::Queued(_) => Progress::without_run(
                    "queued",
                    "Queued: it starts as soon as a worker is free.",
                ),
                Activity::Idle => Progress::without_run("idle", "Nothing is running."),
            },
        )
    }

    /// The next message that differs from the last one sent, or `None` when the stream ends.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        if self.ended {
            return None;
        }
        loop {
            if self.started.elapsed() > STREAM_LIFETIME {
                return None;
            }
            let progress = match self.look().await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(integration = %self.integration_id, error = %e, "progress stream stopped");
                    return None;
                }
            };
            if self.last.as_ref() != Some(&progress) {
                self.ended = progress.last();
                let event = Event::default()
                    .event(if progress.last() { "end" } else { "progress" })
                    .json_data(&progress)
                    .unwrap_or_else(|_| Event::default().event("end").data("{}"));
                self.last = Some(progress);
                return Some((Ok(event), self));
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

fn stream(
    state: AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let follow = Follow {
        state,
        tenant_id,
        integration_id,
        run: None,
        last: None,
        started: Instant::now(),
        ended: false,
    };
    Sse::new(futures_util::stream::unfold(follow, Follow::next)).keep_alive(KeepAlive::default())
}

/// `GET /integrations/{id}/progress`: the running sync's counts as Server-Sent Events, sent
/// whenever they change (`progress`), then one `end` when the run finishes (or when nothing is
/// queued or running).
pub async fn progress(
    State(state): State<AppState>,
    current: CurrentUser,
    PathParam(id): PathParam<IntegrationId>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let tenant_id = current.tenant.tenant_id;
    crate::integrations::db::get(&state.db, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(stream(state, tenant_id, id))
}

/// `GET /support/integrations/{id}/progress`: the same stream for the staff view.
pub async fn support_progress(
    State(state): State<AppState>,
    CurrentStaff(_staff): CurrentStaff,
    PathParam(id): PathParam<IntegrationId>,
) -> AppResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let tenant_id = staff_tenant(&state, id).await?;
    Ok(stream(state, tenant_id, id))
}
