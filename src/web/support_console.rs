//! The support console's lists across tenants: integrations with their state and wizard step,
//! sync runs, failed documents grouped by reason, and the audit log of staff actions. Staff
//! only (`CurrentStaff`), read-only, paginated.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;
use tower_sessions::Session;

use super::extract::{ClientAddr, CurrentStaff, QueryParams};
use super::pages::Chrome;
use super::support::staff_viewed;
use crate::audit::{self, StaffAction};
use crate::console::{self, FailureGroup, FailureRow, IntegrationRow, RunRow, RunStatusFilter};
use crate::error::{AppError, AppResult};
use crate::ids::{IntegrationId, StaffUserId, TenantId};
use crate::integrations::IntegrationState;
use crate::state::AppState;

/// Links to the neighbouring pages of a list, keeping its filters.
#[derive(Clone, Debug, Default)]
pub struct Pager {
    /// This page, from 1.
    pub page: u32,
    /// The previous page's address.
    pub prev: Option<String>,
    /// The next page's address.
    pub next: Option<String>,
}

impl Pager {
    /// The pager of `path` with `filters` (empty ones left out) on `page`.
    fn new(path: &str, filters: &[(&str, String)], page: u32, has_next: bool) -> Self {
        let href = |p: u32| {
            let mut pairs: Vec<(&str, String)> = filters
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .cloned()
                .collect();
            if p > 1 {
                pairs.push(("page", p.to_string()));
            }
            let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
            if query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{query}")
            }
        };
        Self {
            page,
            prev: (page > 1).then(|| href(page - 1)),
            next: has_next.then(|| href(page + 1)),
        }
    }
}

fn page_of(page: Option<u32>) -> u32 {
    page.unwrap_or(1).max(1)
}

/// Parses an optional id filter from the address; empty means none.
fn id_filter<T: std::str::FromStr>(value: &str, field: &str) -> AppResult<Option<T>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        AppError::BadRequest(format!(
            "The {field} filter is not a valid id; pick it from the list again."
        ))
    })
}

const STATES: [IntegrationState; 4] = [
    IntegrationState::Draft,
    IntegrationState::Active,
    IntegrationState::Paused,
    IntegrationState::NeedsReconnect,
];

fn state_key(state: IntegrationState) -> &'static str {
    match state {
        IntegrationState::Draft => "draft",
        IntegrationState::Active => "active",
        IntegrationState::Paused => "paused",
        IntegrationState::NeedsReconnect => "needs_reconnect",
    }
}

/// The integration a list is filtered to, with its tenant and names (404 if there is none).
async fn named(
    state: &AppState,
    integration_id: Option<IntegrationId>,
) -> AppResult<(Option<TenantId>, Option<(IntegrationId, String, String)>)> {
    match integration_id {
        Some(id) => {
            let (tenant_id, tenant, company) = console::integration_names(&state.db, id)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok((Some(tenant_id), Some((id, tenant, company))))
        }
        None => Ok((None, None)),
    }
}

/// `/support/integrations`.
#[derive(Template, WebTemplate)]
#[template(path = "support/integrations.html")]
pub struct IntegrationsPage {
    chrome: Chrome,
    rows: Vec<IntegrationRow>,
    search: String,
    state: String,
    states: Vec<(&'static str, &'static str)>,
    pager: Pager,
}

/// The integrations list's filters.
#[derive(Deserialize, Default)]
pub struct IntegrationsQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    page: Option<u32>,
}

/// `GET /support/integrations`: every tenant and its integrations, with a search and a state
/// filter.
pub async fn integrations(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    QueryParams(query): QueryParams<IntegrationsQuery>,
) -> AppResult<IntegrationsPage> {
    let filter = match query.state.trim() {
        "" => None,
        key => Some(
            STATES
                .into_iter()
                .find(|s| state_key(*s) == key)
                .ok_or_else(|| {
                    AppError::BadRequest(
                        "The state filter is unknown; choose a state from the list.".into(),
                    )
                })?,
        ),
    };
    let page = page_of(query.page);
    let rows = console::integrations(&state.db, &query.q, filter, page).await?;
    staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_integrations",
        None,
        serde_json::json!({ "search": query.q.trim(), "state": query.state.trim(), "page": page }),
    )
    .await?;
    let pager = Pager::new(
        "/support/integrations",
        &[
            ("q", query.q.trim().to_owned()),
            ("state", query.state.clone()),
        ],
        page,
        rows.has_next,
    );
    Ok(IntegrationsPage {
        chrome: Chrome::staff(&session, &staff).await?,
        rows: rows.rows,
        search: query.q.trim().to_owned(),
        state: query.state.trim().to_owned(),
        states: STATES.iter().map(|s| (state_key(*s), s.label())).collect(),
        pager,
    })
}

/// `/support/runs`.
#[derive(Template, WebTemplate)]
#[template(path = "support/runs.html")]
pub struct RunsPage {
    chrome: Chrome,
    runs: Vec<RunRow>,
    status: String,
    integration: Option<(IntegrationId, String, String)>,
    queued: String,
    pager: Pager,
    admin: bool,
}

/// The runs list's filters; `queued` is the outcome of a replay just queued.
#[derive(Deserialize, Default)]
pub struct RunsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    integration: String,
    #[serde(default)]
    queued: String,
    page: Option<u32>,
}

/// `GET /support/runs`: recent runs across tenants, newest first.
pub async fn runs(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    QueryParams(query): QueryParams<RunsQuery>,
) -> AppResult<RunsPage> {
    let status = match query.status.trim() {
        "" => None,
        s => Some(
            serde_json::from_value::<RunStatusFilter>(serde_json::Value::String(s.to_owned()))
                .map_err(|_| {
                    AppError::BadRequest(
                        "The status filter is unknown; choose a status from the list.".into(),
                    )
                })?
                .status(),
        ),
    };
    let integration_id: Option<IntegrationId> = id_filter(&query.integration, "integration")?;
    let (tenant_id, integration) = named(&state, integration_id).await?;
    let page = page_of(query.page);
    let runs = console::runs(&state.db, status, integration_id, page).await?;
    staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_runs",
        tenant_id,
        serde_json::json!({ "integration": integration_id, "status": query.status.trim(), "page": page }),
    )
    .await?;
    let pager = Pager::new(
        "/support/runs",
        &[
            ("status", query.status.trim().to_owned()),
            ("integration", query.integration.trim().to_owned()),
        ],
        page,
        runs.has_next,
    );
    Ok(RunsPage {
        chrome: Chrome::staff(&session, &staff).await?,
        runs: runs.rows,
        status: query.status.trim().to_owned(),
        integration,
        queued: query.queued,
        pager,
        admin: staff.role == crate::staff::StaffRole::Admin,
    })
}

/// `/support/failures`.
#[derive(Template, WebTemplate)]
#[template(path = "support/failures.html")]
pub struct FailuresPage {
    chrome: Chrome,
    groups: Vec<FailureGroup>,
    rows: Vec<FailureRow>,
    code: String,
    integration: Option<(IntegrationId, String, String)>,
    pager: Pager,
    admin: bool,
}

/// The failures list's filters.
#[derive(Deserialize, Default)]
pub struct FailuresQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    integration: String,
    page: Option<u32>,
}

/// `GET /support/failures`: failed documents across tenants, grouped by error code, then the
/// documents themselves.
pub async fn failures(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    QueryParams(query): QueryParams<FailuresQuery>,
) -> AppResult<FailuresPage> {
    let code = query.code.trim().to_owned();
    let integration_id: Option<IntegrationId> = id_filter(&query.integration, "integration")?;
    let (tenant_id, integration) = named(&state, integration_id).await?;
    let page = page_of(query.page);
    staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_failures",
        tenant_id,
        serde_json::json!({ "integration": integration_id, "code": code, "page": page }),
    )
    .await?;
    let rows = console::failures(
        &state.db,
        (!code.is_empty()).then_some(code.as_str()),
        integration_id,
        page,
    )
    .await?;
    let pager = Pager::new(
        "/support/failures",
        &[
            ("code", code.clone()),
            ("integration", query.integration.trim().to_owned()),
        ],
        page,
        rows.has_next,
    );
    Ok(FailuresPage {
        chrome: Chrome::staff(&session, &staff).await?,
        groups: console::failure_groups(&state.db).await?,
        rows: rows.rows,
        code,
        integration,
        pager,
        admin: staff.role == crate::staff::StaffRole::Admin,
    })
}

/// `/support/audit`.
#[derive(Template, WebTemplate)]
#[template(path = "support/audit.html")]
pub struct AuditPage {
    chrome: Chrome,
    actions: Vec<StaffAction>,
    staff_members: Vec<(StaffUserId, String)>,
    tenants: Vec<(TenantId, String)>,
    staff: String,
    tenant: String,
    pager: Pager,
}

/// The audit log's filters.
#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    staff: String,
    #[serde(default)]
    tenant: String,
    page: Option<u32>,
}

/// `GET /support/audit`: what staff did, newest first, by staff member and tenant. Admins
/// only.
pub async fn audit_log(
    State(state): State<AppState>,
    session: Session,
    current: CurrentStaff,
    ClientAddr(addr): ClientAddr,
    QueryParams(query): QueryParams<AuditQuery>,
) -> AppResult<AuditPage> {
    current.require_admin()?;
    let CurrentStaff(staff) = current;
    let staff_id: Option<StaffUserId> = id_filter(&query.staff, "staff member")?;
    let tenant_id: Option<TenantId> = id_filter(&query.tenant, "customer")?;
    let page = page_of(query.page);
    staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_audit_log",
        tenant_id,
        serde_json::json!({ "staff": staff_id, "page": page }),
    )
    .await?;
    let (limit, offset) = console::limit(page);
    let mut actions = audit::staff_actions(&state.db, staff_id, tenant_id, limit, offset).await?;
    let has_next = actions.len() as i64 > console::PAGE_SIZE;
    actions.truncate(console::PAGE_SIZE as usize);
    let pager = Pager::new(
        "/support/audit",
        &[
            ("staff", query.staff.trim().to_owned()),
            ("tenant", query.tenant.trim().to_owned()),
        ],
        page,
        has_next,
    );
    Ok(AuditPage {
        chrome: Chrome::staff(&session, &staff).await?,
        actions,
        staff_members: audit::staff_actors(&state.db).await?,
        tenants: audit::staff_tenants(&state.db).await?,
        staff: query.staff.trim().to_owned(),
        tenant: query.tenant.trim().to_owned(),
        pager,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_keeps_filters_and_leaves_out_empty_ones() {
        let p = Pager::new(
            "/support/runs",
            &[("status", "failed".into()), ("integration", String::new())],
            2,
            true,
        );
        assert_eq!(p.prev.as_deref(), Some("/support/runs?status=failed"));
        assert_eq!(
            p.next.as_deref(),
            Some("/support/runs?status=failed&page=3")
        );
        let first = Pager::new("/support/audit", &[], 1, false);
        assert_eq!((first.prev, first.next), (None, None));
    }
}
