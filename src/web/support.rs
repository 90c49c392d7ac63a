//! The support console (staff only).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;
use tower_sessions::Session;

use super::extract::{ClientAddr, CurrentStaff, QueryParams};
use super::pages::Chrome;
use crate::error::AppResult;
use crate::state::AppState;
use crate::tenants::{self, Tenant};

#[derive(Template, WebTemplate)]
#[template(path = "support/tenants.html")]
pub struct TenantsPage {
    chrome: Chrome,
    tenants: Vec<Tenant>,
    search: String,
}

/// The console's search box.
#[derive(Deserialize, Default)]
pub struct TenantSearch {
    #[serde(default)]
    q: String,
}

/// Records that `staff` looked at customer data (`action`, e.g. `staff.viewed_runs`), with the
/// tenant when one page shows one tenant, and what was asked for in `detail` (empty and
/// missing values left out).
pub(super) async fn staff_viewed(
    state: &AppState,
    staff: &crate::staff::StaffUser,
    addr: &str,
    action: &str,
    tenant_id: Option<crate::ids::TenantId>,
    mut detail: serde_json::Value,
) -> AppResult<()> {
    // Only the filters that were used.
    if let serde_json::Value::Object(fields) = &mut detail {
        fields.retain(|_, v| !(v.is_null() || v.as_str().is_some_and(str::is_empty)));
    }
    crate::audit::record(
        &state.db,
        crate::audit::Actor::Staff(staff.staff_user_id, staff.email.clone()),
        action,
        tenant_id,
        detail,
        Some(addr),
    )
    .await?;
    Ok(())
}

/// `GET /support`: every tenant, newest first. Audited.
pub async fn tenants(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    QueryParams(search): QueryParams<TenantSearch>,
) -> AppResult<TenantsPage> {
    let tenants = tenants::db::list_all(&state.db, Some(&search.q)).await?;
    staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_customers",
        None,
        serde_json::json!({ "search": search.q.trim() }),
    )
    .await?;
    Ok(TenantsPage {
        chrome: Chrome::staff(&session, &staff).await?,
        tenants,
        search: search.q,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "support/tenant.html")]
pub struct TenantPage {
    chrome: Chrome,
    tenant: crate::tenants::Tenant,
    views: Vec<super::integrations::IntegrationView>,
}

/// `GET /support/tenants/{id}`: one customer, read-only. Every view is audited.
pub async fn tenant(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    super::extract::ClientAddr(addr): super::extract::ClientAddr,
    super::extract::PathParam(tenant_id): super::extract::PathParam<crate::ids::TenantId>,
) -> AppResult<TenantPage> {
    let tenant = tenants::db::get(&state.db, tenant_id)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    crate::audit::record(
        &state.db,
        crate::audit::Actor::Staff(staff.staff_user_id, staff.email.clone()),
        "staff.viewed_tenant",
        Some(tenant_id),
        serde_json::json!({ "page": "tenant" }),
        Some(&addr),
    )
    .await?;
    let mut views = Vec::new();
    for integration in crate::integrations::db::list(&state.db, tenant_id).await? {
        views.push(
            super::integrations::load_view(&state, tenant_id, integration.integration_id).await?,
        );
    }
    Ok(TenantPage {
        chrome: Chrome::staff(&session, &staff).await?,
        tenant,
        views,
    })
}
