//! The dashboard's lines in words: run and activity lines, reconciliation lines, the night
//! rows and the manual controls' state.

use chrono_tz::Tz;

use super::{day_label, local};
use crate::dashboard::{Activity, Night, Reconciliation, money};
use crate::integrations::IntegrationState;
use crate::sync::controls::RunRequest;
use crate::sync::runs::{Requester, RunKind, RunStatus, SyncRun};

/// A status as a word, a colour and an icon.
#[derive(Clone, Debug)]
pub struct Status {
    /// The word.
    pub word: &'static str,
    /// The CSS modifier.
    pub css: &'static str,
    /// The icon (hidden from screen readers; the word says it).
    pub icon: &'static str,
}

pub(super) fn run_kind(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Nightly => "Nightly",
        RunKind::Manual => "Sync now",
        RunKind::BackSync => "Back-sync",
        RunKind::Retry => "Retry failed",
        RunKind::Preview => "Preview",
    }
}

pub(super) fn request_label(request: &RunRequest) -> String {
    match request {
        RunRequest::Nightly => "Nightly sync".into(),
        RunRequest::Manual => "Sync now".into(),
        RunRequest::Retry { .. } => "Retry failed".into(),
        RunRequest::BackSync { .. } => "Back-sync".into(),
        RunRequest::Rollback { .. } => "Rollback of a night".into(),
        RunRequest::Asked(a) => {
            let mut parts = Vec::new();
            if a.sync_now {
                parts.push("Sync now".to_owned());
            }
            if a.retry_all {
                parts.push("Retry failed".to_owned());
            } else if !a.retry.is_empty() {
                parts.push(format!("Retry of {} document(s)", a.retry.len()));
            }
            if !a.back_sync.is_empty() {
                parts.push(format!("Back-sync of {} range(s)", a.back_sync.len()));
            }
            let by = match a.requester() {
                Requester::Support => " (asked by support)",
                _ => "",
            };
            format!("{}{by}", parts.join(" and "))
        }
    }
}

/// A run's name as the customer reads it: what it was, and who started it when it was not the
/// customer or the schedule.
pub(super) fn run_name(run: &SyncRun) -> String {
    let kind = match (run.kind, run.first_day) {
        (RunKind::Nightly, Some(first)) => {
            format!("Catch-up from {}", day_label(first))
        }
        (kind, _) => run_kind(kind).to_owned(),
    };
    match run.requester() {
        Requester::Support => format!("{kind} (started by support)"),
        Requester::CommandLine => format!("{kind} (started by an operator)"),
        _ => kind,
    }
}

pub(super) fn run_status(run: &SyncRun, live: bool) -> Status {
    match run.status {
        RunStatus::Running if live => Status {
            word: "Running",
            css: "warn",
            icon: "⟳",
        },
        RunStatus::Running => Status {
            word: "Interrupted",
            css: "bad",
            icon: "✕",
        },
        RunStatus::Succeeded => Status {
            word: "Succeeded",
            css: "ok",
            icon: "✓",
        },
        RunStatus::Partial => Status {
            word: "Some failed",
            css: "bad",
            icon: "!",
        },
        RunStatus::Failed => Status {
            word: "Stopped",
            css: "bad",
            icon: "✕",
        },
    }
}

/// One run, as the page shows it.
pub struct RunLine {
    /// Sync now, nightly…
    pub kind: String,
    /// The trading day.
    pub day: String,
    /// How it went.
    pub status: Status,
    /// Start, local.
    pub started: String,
    /// End, local.
    pub finished: Option<String>,
    /// Counts.
    pub total: i32,
    /// Posted.
    pub posted: i32,
    /// Failed.
    pub failed: i32,
    /// Skipped.
    pub skipped: i32,
    /// Why it stopped.
    pub error: Option<String>,
}

pub(super) fn run_line(run: &SyncRun, live: Option<i64>, zone: Tz) -> RunLine {
    RunLine {
        kind: run_name(run),
        day: day_label(run.trading_day),
        status: run_status(run, live == Some(run.sync_run_id)),
        started: local(run.started_at, zone),
        finished: run.finished_at.map(|t| local(t, zone)),
        total: run.total,
        posted: run.posted,
        failed: run.failed,
        skipped: run.skipped,
        error: run.error.clone(),
    }
}

/// The reconciliation of one currency, formatted.
pub struct ReconLine {
    /// Currency.
    pub currency: String,
    /// TrackTik's total.
    pub tracktik: String,
    /// What QuickBooks holds.
    pub quickbooks: String,
    /// TrackTik minus QuickBooks.
    pub difference: String,
    /// To the cent.
    pub balanced: bool,
    /// (amount, reason) making up the difference.
    pub differences: Vec<(String, String)>,
    /// Documents changed after posting.
    pub notes: Vec<String>,
}

impl From<&Reconciliation> for ReconLine {
    fn from(r: &Reconciliation) -> Self {
        Self {
            currency: r.currency.clone(),
            tracktik: money(r.tracktik),
            quickbooks: money(r.quickbooks),
            difference: money(r.difference()),
            balanced: r.balanced(),
            differences: r
                .differences
                .iter()
                .map(|d| (money(d.amount), d.reason.clone()))
                .collect(),
            notes: r.notes.clone(),
        }
    }
}

/// One night in the table.
pub struct NightLine {
    /// The trading day, for links.
    pub iso: String,
    /// The trading day, for people.
    pub day: String,
    /// Counts.
    pub night: Night,
    /// One line per currency.
    pub reconciliation: Vec<ReconLine>,
    /// The night's latest rollback, in words.
    pub rollback: Option<String>,
}

/// What is going on now.
pub struct ActivityLine {
    /// `idle`, `queued` or `running`.
    pub phase: &'static str,
    /// In words.
    pub label: String,
    /// Handled so far.
    pub done: i32,
    /// To handle (at least 1, for the progress bar).
    pub max: i32,
}

pub(in crate::web) fn progress_label(run: &SyncRun) -> String {
    let mut text = if run.total == 0 {
        "Reading TrackTik…".to_owned()
    } else {
        format!("{} of {} documents handled", run.done, run.total)
    };
    if run.total > 0 {
        text.push_str(&format!(
            " · {} posted · {} failed · {} skipped",
            run.posted, run.failed, run.skipped
        ));
    }
    text
}

pub(super) fn activity_line(activity: &Activity, zone: Tz) -> ActivityLine {
    match activity {
        Activity::Idle => ActivityLine {
            phase: "idle",
            label: String::new(),
            done: 0,
            max: 1,
        },
        Activity::Queued(requests) => ActivityLine {
            phase: "queued",
            label: format!(
                "Queued: {}. It starts as soon as a worker is free.",
                requests
                    .iter()
                    .map(request_label)
                    .collect::<Vec<_>>()
                    .join(", then ")
            ),
            done: 0,
            max: 1,
        },
        Activity::Running(run) => ActivityLine {
            phase: "running",
            label: format!(
                "{} for {} started {}: {}",
                run_name(run),
                day_label(run.trading_day),
                local(run.started_at, zone),
                progress_label(run)
            ),
            done: run.done,
            max: run.total.max(1),
        },
    }
}

/// Whether the controls are offered, and why not.
pub struct ControlsLine {
    /// Sync now, retry, back-sync are offered.
    pub enabled: bool,
    /// Why not, in words.
    pub why_not: String,
    /// Preview is offered.
    pub preview: bool,
}

pub(super) fn controls_line(state: IntegrationState) -> ControlsLine {
    let (enabled, why_not) = match state {
        IntegrationState::Active => (true, String::new()),
        IntegrationState::Draft => (
            false,
            "Syncing starts once setup is finished: Sync now, Retry and Back-sync appear when the integration is active.".to_owned(),
        ),
        IntegrationState::Paused => (
            false,
            "This integration is paused, so nothing is sent to QuickBooks. Sync now, Retry and Back-sync come back when it is active again.".to_owned(),
        ),
        IntegrationState::NeedsReconnect => (
            false,
            "A connection needs to be reconnected (see above) before anything can be sent. The days missed are caught up by themselves afterwards.".to_owned(),
        ),
    };
    ControlsLine {
        enabled,
        why_not,
        preview: state != IntegrationState::NeedsReconnect,
    }
}
