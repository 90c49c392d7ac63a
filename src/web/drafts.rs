//! Staff see every draft (`/support/drafts`): age, the step reached, blockers and the last
//! activity, filtered by "stuck for more than N days"; and each draft read-only with names
//! (never internal ids) and a fresh full check. Every view is audited.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use chrono::Utc;
use serde::Deserialize;
use tower_sessions::Session;

use super::extract::{ClientAddr, CurrentStaff, PathParam, QueryParams};
use super::pages::Chrome;
use super::support::staff_viewed;
use super::wizard::steps_views::{ChangeView, GroupView, change_views_named, group_views};
use crate::console::drafts::{self, Blocker};
use crate::error::{AppError, AppResult};
use crate::ids::{IntegrationId, TenantId};
use crate::state::AppState;
use crate::wizard::express::ExpressRecord;
use crate::wizard::{Step, catalog, review};

/// A draft, read-only, as the console shows it.
pub struct DraftView {
    /// The integration.
    pub integration_id: IntegrationId,
    /// The customer.
    pub tenant_name: String,
    /// The QuickBooks company.
    pub company_name: String,
    /// Every answer, with TrackTik's names.
    pub groups: Vec<GroupView>,
    /// What stops activation.
    pub blockers: Vec<Blocker>,
    /// Whether the full check (reading both sides) ran; else only the local one.
    pub checked: bool,
    /// State in words and its CSS.
    pub state_label: &'static str,
    /// Its CSS modifier.
    pub state_css: &'static str,
    /// The furthest step reached.
    pub reached: &'static str,
    /// "3 days ago".
    pub saved: String,
    /// What Express did.
    pub express: Option<ExpressRecord>,
    /// The history of saves (times in the reader's zone).
    pub changes: Vec<ChangeView>,
}

/// Builds the read-only view of a draft for staff: names read from TrackTik and the full
/// check when both sides answer (and the check is kept for the drafts list), the local
/// checks otherwise.
pub async fn draft_view(
    state: &AppState,
    chrome: &Chrome,
    tenant_id: TenantId,
    id: IntegrationId,
) -> AppResult<DraftView> {
    let draft = crate::wizard::db::get(&state.db, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let tenant_name = crate::tenants::db::get(&state.db, tenant_id)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let today = super::wizard::today_for(&draft);
    let checked = match catalog::open(state, tenant_id, &draft).await {
        Ok(sides) => match review::check(state, &draft, &sides, today).await {
            Ok(c) => Some((c.problems, super::wizard::names_for(state, &sides).await)),
            Err(_) => None,
        },
        Err(_) => None,
    };
    let (problems, names, full) = match checked {
        Some((p, n)) => (p, n, true),
        None => (
            review::local_problems(&draft, today),
            Default::default(),
            false,
        ),
    };
    let blockers: Vec<Blocker> = problems
        .into_iter()
        .map(|p| Blocker {
            step: p.step.label().to_owned(),
            message: p.message,
        })
        .collect();
    if full {
        drafts::save_check(&state.db, tenant_id, id, &blockers).await?;
    }
    Ok(DraftView {
        integration_id: id,
        tenant_name,
        company_name: draft.company_name.clone(),
        groups: group_views(&draft, &names, None),
        blockers,
        checked: full,
        state_label: draft.state.label(),
        state_css: draft.state.css(),
        reached: draft.reached().label(),
        saved: draft
            .settings_saved_at
            .map(|t| crate::wizard::ago(t, Utc::now()))
            .unwrap_or_else(|| "never".into()),
        express: if draft.is_express() {
            draft.express_outcome.as_ref().map(|r| r.0.clone())
        } else {
            None
        },
        changes: change_views_named(state, &draft, &names, chrome.zone).await?,
    })
}

/// One line of the drafts list.
pub struct DraftLine {
    row: drafts::DraftRow,
    age: String,
    idle: String,
    last_activity: String,
    reached: &'static str,
    blockers: Vec<Blocker>,
    checked: bool,
}

/// `/support/drafts`.
#[derive(Template, WebTemplate)]
#[template(path = "support/drafts.html")]
pub struct DraftsPage {
    chrome: Chrome,
    lines: Vec<DraftLine>,
    stuck: String,
}

/// `?stuck=N`.
#[derive(Deserialize, Default)]
pub struct DraftsQuery {
    #[serde(default)]
    stuck: String,
}

/// `GET /support/drafts`: every draft across tenants, the longest idle first. Audited.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    QueryParams(q): QueryParams<DraftsQuery>,
) -> AppResult<DraftsPage> {
    let stuck = match q.stuck.trim() {
        "" => None,
        n => Some(
            n.parse::<i64>()
                .ok()
                .filter(|n| (0..=3650).contains(n))
                .ok_or_else(|| {
                    AppError::BadRequest(
                        "“Stuck for more than” must be a number of days from 0 to 3650.".into(),
                    )
                })?,
        ),
    };
    staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_drafts",
        None,
        serde_json::json!({ "stuck_days": stuck }),
    )
    .await?;
    let chrome = Chrome::staff(&session, &staff).await?;
    let now = Utc::now();
    let mut lines = Vec::new();
    for row in drafts::list(&state.db, stuck).await? {
        let (blockers, checked) = match &row.blockers {
            Some(b) => (b.0.clone(), true),
            None => {
                let local =
                    match crate::wizard::db::get(&state.db, row.tenant_id, row.integration_id)
                        .await?
                    {
                        Some(d) => review::local_problems(&d, super::wizard::today_for(&d)),
                        None => Vec::new(),
                    };
                (
                    local
                        .into_iter()
                        .map(|p| Blocker {
                            step: p.step.label().to_owned(),
                            message: p.message,
                        })
                        .collect(),
                    false,
                )
            }
        };
        lines.push(DraftLine {
            age: crate::wizard::ago(row.created_at, now).replace(" ago", ""),
            idle: crate::wizard::ago(row.last_activity, now),
            last_activity: chrome.zone.short(row.last_activity),
            reached: Step::from_key(&row.wizard_reached).label(),
            blockers,
            checked,
            row,
        });
    }
    Ok(DraftsPage {
        chrome,
        lines,
        stuck: q.stuck,
    })
}

/// `/support/drafts/{id}`.
#[derive(Template, WebTemplate)]
#[template(path = "support/draft.html")]
pub struct DraftPage {
    chrome: Chrome,
    draft: DraftView,
}

/// `GET /support/drafts/{id}`: one draft, read-only. Audited.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<IntegrationId>,
) -> AppResult<DraftPage> {
    let tenant_id = super::dashboard::staff_tenant(&state, id).await?;
    staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_draft",
        Some(tenant_id),
        serde_json::json!({ "integration": id }),
    )
    .await?;
    let chrome = Chrome::staff(&session, &staff).await?;
    let draft = draft_view(&state, &chrome, tenant_id, id).await?;
    Ok(DraftPage { chrome, draft })
}
