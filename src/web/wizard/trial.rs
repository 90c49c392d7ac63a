//! The review's trial run: the documents of the last 30 days in this company's regions,
//! translated as the sync would post them (nothing is written anywhere). The review never
//! says "ready" while any of them would be refused; each reason is listed once, with the
//! step that fixes it and the documents it stops.

use std::collections::BTreeMap;

use crate::state::AppState;
use crate::sync::controls;
use crate::wizard::review::Problem;
use crate::wizard::{Draft, Step};

/// Days the trial run looks back.
pub const DAYS: u64 = 30;

/// Most document numbers named in one problem.
const NAMED: usize = 5;

/// Where a refusal is fixed.
fn step_of(fix_at: Option<&str>) -> Step {
    match fix_at {
        Some("settings/billing") => Step::Billing,
        Some("settings/payroll") => Step::Payroll,
        Some("settings/taxes") => Step::Taxes,
        Some("settings") => Step::Billing,
        _ => Step::Review,
    }
}

/// The trial run's refusals, one problem per reason. A trial that cannot run (TrackTik or
/// QuickBooks unavailable, no schedule yet) adds nothing: the review's own checks say why.
pub async fn problems(state: &AppState, draft: &Draft) -> Vec<Problem> {
    let items = match controls::preview_recent(state, draft.tenant_id, draft.integration_id, DAYS)
        .await
    {
        Ok(items) => items,
        Err(e) => {
            tracing::info!(integration = %draft.integration_id, error = %e, "no trial run on the review");
            return Vec::new();
        }
    };
    let mut by_reason: BTreeMap<(Step, String), Vec<String>> = BTreeMap::new();
    for item in items {
        if let Some(problem) = item.problem {
            by_reason
                .entry((step_of(item.fix_at.as_deref()), problem))
                .or_default()
                .push(item.doc_number);
        }
    }
    by_reason
        .into_iter()
        .map(|((step, reason), docs)| {
            let mut named = docs
                .iter()
                .take(NAMED)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if docs.len() > NAMED {
                named.push_str(&format!(" and {} more", docs.len() - NAMED));
            }
            Problem::new(
                step,
                "trial",
                format!(
                    "{} document(s) of the last {DAYS} days would be refused: {reason} ({named})",
                    docs.len()
                ),
            )
        })
        .collect()
}
