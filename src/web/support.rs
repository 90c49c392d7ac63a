//! The support console (staff only).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::Deserialize;
use tower_sessions::Session;

use super::extract::{CurrentStaff, QueryParams};
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

/// `GET /support`: every tenant, newest first.
pub async fn tenants(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    QueryParams(search): QueryParams<TenantSearch>,
) -> AppResult<TenantsPage> {
    let tenants = tenants::db::list_all(&state.db, Some(&search.q)).await?;
    Ok(TenantsPage {
        chrome: Chrome::staff(&session, &staff).await?,
        tenants,
        search: search.q,
    })
}
