//! The setup wizard's pages: one GET form and one POST per step under
//! `/integrations/{id}/setup/{step}`, post/redirect/get, working without JavaScript. The
//! frame (stepper, "Saved as draft · …", Back, Talk to an expert) is built here; each step's
//! fields come from `wizard::forms`, the checks from `wizard::review`.

mod content;
mod expert;
mod regions;
mod review;
mod steps;
mod trial;

use chrono::{NaiveDate, Utc};

pub use expert::expert_sent;
pub use steps::{resume, save_step, step_form};

/// The review page's pieces, shared with the support console's read-only view.
pub mod steps_views {
    pub use super::review::{ChangeView, GroupView, change_views, change_views_named, group_views};
}
pub use review::names as names_for;

use crate::integrations::IntegrationState;
use crate::wizard::review::local_problems;
use crate::wizard::{self, Draft, Step};

/// One entry of the stepper.
pub struct StepperItem {
    /// The step's name.
    pub label: &'static str,
    /// Its address, when it can be opened.
    pub href: Option<String>,
    /// `done`, `current`, `attention` or `todo` (CSS modifier).
    pub state: &'static str,
    /// The state in words, for screen readers and for people who do not see colour.
    pub state_label: &'static str,
    /// ✓, ●, ! or ○.
    pub icon: &'static str,
}

/// What every wizard page shows around its form.
pub struct Frame {
    /// The integration's id.
    pub id: String,
    /// The QBO company.
    pub company_name: String,
    /// The current step.
    pub step: Step,
    /// The page title (a sentence).
    pub title: String,
    /// "Saved as draft · 2 minutes ago".
    pub saved_line: Option<String>,
    /// The stepper.
    pub stepper: Vec<StepperItem>,
    /// The previous step's address (Back is a link, never a POST).
    pub back_href: Option<String>,
    /// "Talk to an expert".
    pub expert_href: String,
    /// The integration is active (changes go through the same screens and are recorded).
    pub active: bool,
}

/// Today in the answers' time zone (UTC until one is chosen).
pub fn today_for(draft: &Draft) -> NaiveDate {
    today_in(
        draft
            .settings
            .schedule
            .time_zone
            .as_deref()
            .unwrap_or("UTC"),
    )
}

/// Today in `zone` (UTC for an unknown zone).
pub fn today_in(zone: &str) -> NaiveDate {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    Utc::now().with_timezone(&tz).date_naive()
}

/// The page title of each step.
pub fn title(step: Step) -> &'static str {
    match step {
        Step::Connect => "Connect TrackTik and QuickBooks Online",
        Step::SetupMethod => "Choose how to set up the integration",
        Step::Scope => "Which TrackTik regions go into this company?",
        Step::Billing => "Map your TrackTik bill items to QuickBooks products",
        Step::Payroll => "Choose how pay runs are posted",
        Step::Taxes => "Map your TrackTik tax classes",
        Step::Schedule => "Choose when the syncs run",
        Step::Review => "Review your setup and activate it",
    }
}

/// Builds the frame of `step`.
pub fn frame(draft: &Draft, step: Step, is_connected: bool) -> Frame {
    let id = draft.integration_id.to_string();
    let reached = draft.reached();
    let problems = local_problems(draft, today_for(draft));
    let stepper = Step::ALL
        .into_iter()
        .map(|s| {
            let reachable = s <= reached || s == step || s == Step::Connect;
            let attention = match s {
                Step::Connect => !is_connected,
                Step::Review => false,
                other => s < reached && problems.iter().any(|p| p.step == other),
            };
            let (state, state_label, icon) = if s == step {
                ("current", "current step", "●")
            } else if attention {
                ("attention", "needs attention", "!")
            } else if s < reached
                || (s == Step::Connect && is_connected)
                || draft.state != IntegrationState::Draft
            {
                ("done", "done", "✓")
            } else {
                ("todo", "not started", "○")
            };
            StepperItem {
                label: s.label(),
                href: reachable.then(|| format!("/integrations/{id}/setup/{}", s.slug())),
                state,
                state_label,
                icon,
            }
        })
        .collect();
    let active = draft.state != IntegrationState::Draft;
    let saved_line = draft.settings_saved_at.map(|t| {
        let when = wizard::ago(t, Utc::now());
        if active {
            format!("Saved · {when}")
        } else {
            format!("Saved as draft · {when}")
        }
    });
    Frame {
        back_href: (step != Step::Connect)
            .then(|| format!("/integrations/{id}/setup/{}", step.previous().slug())),
        expert_href: format!("/integrations/{id}/expert?from={}", step.slug()),
        id,
        company_name: draft.company_name.clone(),
        step,
        title: title(step).to_owned(),
        saved_line,
        stepper,
        active,
    }
}
