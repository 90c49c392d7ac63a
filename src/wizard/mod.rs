//! The setup wizard: a state machine per integration kept in Postgres, the validation of each
//! step's answers into [`Settings`], Express setup, the checks run before activation, the
//! change history and "Talk to an expert" requests.
//!
//! Steps: Connect → Setup method → Regions → Billing → Payroll → Taxes → Schedule → Review, then
//! Save + Continue activates. Every step is saved as the customer goes (`integration.settings`,
//! `wizard_step`, `settings_saved_at`), so closing the browser leaves a draft that resumes at
//! the same step.

pub mod answers;
pub mod catalog;
pub mod db;
pub mod express;
pub mod forms;
pub mod products;
pub mod regions;
pub mod review;
pub mod usage;
pub mod words;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::settings::{Settings, SetupMethod};
use crate::integrations::{CompanyPrefs, IntegrationState};

/// One step of the wizard, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Both connections exist.
    Connect,
    /// Express or Advanced.
    SetupMethod,
    /// Which TrackTik regions go into this company.
    Scope,
    /// Invoices.
    Billing,
    /// Pay runs.
    Payroll,
    /// Tax classes.
    Taxes,
    /// When the syncs run.
    Schedule,
    /// Every answer, the checks, and Save + Continue.
    Review,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 8] = [
        Step::Connect,
        Step::SetupMethod,
        Step::Scope,
        Step::Billing,
        Step::Payroll,
        Step::Taxes,
        Step::Schedule,
        Step::Review,
    ];

    /// The name stored in `integration.wizard_step`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::SetupMethod => "setup_method",
            Self::Scope => "scope",
            Self::Billing => "billing",
            Self::Payroll => "payroll",
            Self::Taxes => "taxes",
            Self::Schedule => "schedule",
            Self::Review => "review",
        }
    }

    /// The step stored under `key`; unknown keys resume at the setup method.
    pub fn from_key(key: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.key() == key)
            .unwrap_or(Self::SetupMethod)
    }

    /// The last part of the step's address, `/integrations/{id}/setup/{slug}`.
    pub fn slug(self) -> &'static str {
        match self {
            Self::SetupMethod => "method",
            Self::Scope => "regions",
            other => other.key(),
        }
    }

    /// The step at `slug`, if any.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.slug() == slug)
    }

    /// The name in the stepper.
    pub fn label(self) -> &'static str {
        match self {
            Self::Connect => "Connect",
            Self::SetupMethod => "Setup method",
            Self::Scope => "Regions",
            Self::Billing => "Billing",
            Self::Payroll => "Payroll",
            Self::Taxes => "Taxes",
            Self::Schedule => "Schedule",
            Self::Review => "Review",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    /// The step after this one (Review is last).
    pub fn next(self) -> Self {
        Self::ALL
            .get(self.index() + 1)
            .copied()
            .unwrap_or(Self::Review)
    }

    /// The step before this one (Connect is first).
    pub fn previous(self) -> Self {
        Self::ALL[self.index().saturating_sub(1)]
    }
}

/// An integration as the wizard sees it: its company, state and answers so far.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Draft {
    /// The integration.
    pub integration_id: IntegrationId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The QBO realm.
    pub realm_id: String,
    /// The company's name.
    pub company_name: String,
    /// Two-letter country code (`US` companies map taxes to items, others to tax codes).
    pub country: String,
    /// Home currency.
    pub home_currency: String,
    /// Preferences read at connect time (class / location tracking, closed books…).
    pub company_prefs: Json<CompanyPrefs>,
    /// Draft, active…
    pub state: IntegrationState,
    /// The answers so far.
    pub settings: Json<Settings>,
    /// Where the customer resumes (`Step::key`).
    pub wizard_step: String,
    /// The furthest step reached (`Step::key`).
    pub wizard_reached: String,
    /// Last save.
    pub settings_saved_at: Option<DateTime<Utc>>,
    /// When Save + Continue first activated it.
    pub activated_at: Option<DateTime<Utc>>,
    /// What Express setup created or reused, when Express was run.
    pub express_outcome: Option<Json<express::ExpressRecord>>,
    /// How many other integrations the tenant has (any state).
    pub siblings: i64,
}

impl Draft {
    /// Where `GET …/setup` resumes.
    pub fn resume_step(&self) -> Step {
        Step::from_key(&self.wizard_step)
    }

    /// The furthest step reached.
    pub fn reached(&self) -> Step {
        Step::from_key(&self.wizard_reached).max(self.resume_step())
    }

    /// Whether taxes go to items (US) or tax codes (everyone else).
    pub fn is_us(&self) -> bool {
        self.country.eq_ignore_ascii_case("US")
    }

    /// Express setup chosen.
    pub fn is_express(&self) -> bool {
        self.settings.setup_method == Some(SetupMethod::Express)
    }

    /// Its regions are still to be chosen: a draft whose Regions step was never saved shows
    /// Express's proposal there. An integration activated before regions could be chosen
    /// shows what it books (every region).
    pub fn proposes_scope(&self) -> bool {
        !self.settings.scope.chosen && self.state == IntegrationState::Draft
    }
}

/// Who saved a step, for the change history.
#[derive(Clone, Debug)]
pub struct Editor {
    /// `user` or `staff`.
    pub kind: &'static str,
    /// Their name as people read it.
    pub label: String,
}

/// "2 minutes ago", for "Saved as draft · 2 minutes ago".
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds().max(0);
    match secs {
        0..=59 => "just now".to_owned(),
        60..=119 => "1 minute ago".to_owned(),
        120..=3599 => format!("{} minutes ago", secs / 60),
        3600..=7199 => "1 hour ago".to_owned(),
        7200..=86_399 => format!("{} hours ago", secs / 3600),
        _ => format!("on {} UTC", then.format("%Y-%m-%d %H:%M")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_go_forward_and_back_in_order() {
        assert_eq!(Step::Connect.next(), Step::SetupMethod);
        assert_eq!(Step::Schedule.next(), Step::Review);
        assert_eq!(Step::Review.next(), Step::Review);
        assert_eq!(Step::SetupMethod.next(), Step::Scope);
        assert_eq!(Step::Billing.previous(), Step::Scope);
        assert_eq!(Step::from_slug("method"), Some(Step::SetupMethod));
        assert_eq!(Step::from_slug("regions"), Some(Step::Scope));
        assert_eq!(Step::from_key("scope"), Step::Scope);
        assert_eq!(Step::from_key("taxes"), Step::Taxes);
        assert_eq!(Step::from_slug("nope"), None);
    }

    #[test]
    fn saved_times_read_as_words() {
        let now = Utc::now();
        assert_eq!(ago(now, now), "just now");
        assert_eq!(
            ago(now - chrono::Duration::minutes(2), now),
            "2 minutes ago"
        );
        assert_eq!(ago(now - chrono::Duration::hours(3), now), "3 hours ago");
    }
}
