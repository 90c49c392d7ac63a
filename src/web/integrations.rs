//! A customer's integrations: connect QuickBooks Online, reconnect, disconnect. (Each
//! integration's page is the dashboard, in `dashboard.rs`.)

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;
use tower_sessions::Session;

use super::auth::ProblemPage;
use super::extract::{ClientAddr, CurrentUser, PathParam, QueryParams};
use super::pages::Chrome;
use super::session::{OAUTH_QUICKBOOKS, PendingQuickBooks};
use crate::audit::{self, Actor};
use crate::connections::signin::{self, FlowError};
use crate::connections::{self, Connection, Health};
use crate::error::{AppError, AppResult};
use crate::ids::IntegrationId;
use crate::integrations::{self, Integration};
use crate::state::AppState;
use crate::tenants::Right;

/// One integration with the health of both of its connections, as pages show it.
pub struct IntegrationView {
    /// The integration.
    pub integration: Integration,
    /// Its QuickBooks connection.
    pub quickbooks: Option<Connection>,
    /// The tenant's TrackTik connection.
    pub tracktik: Option<Connection>,
}

impl IntegrationView {
    /// The QuickBooks side's health.
    pub fn quickbooks_health(&self) -> Health {
        self.quickbooks.as_ref().map_or(Health::Disconnected, |c| {
            c.effective_health(chrono::Utc::now())
        })
    }

    /// The TrackTik side's health.
    pub fn tracktik_health(&self) -> Health {
        self.tracktik.as_ref().map_or(Health::Disconnected, |c| {
            c.effective_health(chrono::Utc::now())
        })
    }

    /// Why a side needs attention, in words.
    pub fn problem(&self) -> Option<String> {
        [&self.tracktik, &self.quickbooks]
            .into_iter()
            .flatten()
            .find(|c| matches!(c.health, Health::NeedsReconnect | Health::Disconnected))
            .and_then(|c| c.health_reason.clone())
    }
}

/// Loads an integration of this tenant with both connections (404 for anyone else's).
pub async fn load_view(
    state: &AppState,
    tenant_id: crate::ids::TenantId,
    id: IntegrationId,
) -> AppResult<IntegrationView> {
    let integration = integrations::db::get(&state.db, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (tracktik, quickbooks) = connections::db::both_sides(&state.db, tenant_id, id).await?;
    Ok(IntegrationView {
        integration,
        quickbooks,
        tracktik,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/list.html")]
pub struct ListPage {
    chrome: Chrome,
    portal: String,
    views: Vec<IntegrationView>,
    can_change: bool,
    can_edit: bool,
}

/// `GET /integrations`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
) -> AppResult<ListPage> {
    let tenant_id = current.tenant.tenant_id;
    let mut views = Vec::new();
    for integration in integrations::db::list(&state.db, tenant_id).await? {
        views.push(load_view(&state, tenant_id, integration.integration_id).await?);
    }
    Ok(ListPage {
        chrome: Chrome::customer(&session, &current).await?,
        portal: current.tenant.portal_url.clone(),
        views,
        can_change: current.user.may(Right::Connect),
        can_edit: current.user.may(Right::EditSetup),
    })
}

fn random_state() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn send_to_intuit(
    state: &AppState,
    session: &Session,
    reconnect: Option<IntegrationId>,
) -> AppResult<Response> {
    let oauth_state = random_state();
    session
        .insert(
            OAUTH_QUICKBOOKS,
            PendingQuickBooks {
                state: oauth_state.clone(),
                reconnect,
            },
        )
        .await?;
    Ok(Redirect::to(
        state
            .providers
            .quickbooks_oauth
            .authorize_url(&oauth_state)
            .as_str(),
    )
    .into_response())
}

/// `POST /integrations/connect`: "Connect new account".
pub async fn connect(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
) -> AppResult<Response> {
    current.require(Right::Connect)?;
    send_to_intuit(&state, &session, None).await
}

/// `POST /integrations/{id}/reconnect`: sign in to Intuit again; every setting is kept.
pub async fn reconnect(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    PathParam(id): PathParam<IntegrationId>,
) -> AppResult<Response> {
    current.require(Right::Connect)?;
    integrations::db::get(&state.db, current.tenant.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    send_to_intuit(&state, &session, Some(id)).await
}

/// What Intuit sends back.
#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    #[serde(rename = "realmId")]
    realm_id: Option<String>,
    error: Option<String>,
}

/// `GET /auth/quickbooks/callback`.
pub async fn quickbooks_callback(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    QueryParams(callback): QueryParams<Callback>,
) -> AppResult<Response> {
    current.require(Right::Connect)?;
    let pending = session
        .remove::<PendingQuickBooks>(OAUTH_QUICKBOOKS)
        .await?;
    let Some(pending) = pending.filter(|p| callback.state.as_deref() == Some(p.state.as_str()))
    else {
        return problem(&session, &current, StatusCode::BAD_REQUEST, "This connection link is not valid any more",
            "It was already used, it expired, or it was opened in another browser. Nothing was changed.").await;
    };
    if callback.error.is_some() {
        return problem(&session, &current, StatusCode::OK, "QuickBooks Online was not connected",
            "You chose not to allow access, so nothing was connected. To continue, connect again and click Allow access.").await;
    }
    let (Some(code), Some(realm_id)) = (callback.code, callback.realm_id) else {
        return problem(
            &session,
            &current,
            StatusCode::BAD_REQUEST,
            "QuickBooks Online was not connected",
            "Intuit did not send back a company. Nothing was changed. Try connecting again.",
        )
        .await;
    };
    let tenant_id = current.tenant.tenant_id;
    match signin::complete_quickbooks_connect(&state, tenant_id, &code, &realm_id, pending.reconnect).await {
        Ok(integration) => {
            audit::record(
                &state.db,
                Actor::User(current.user.tenant_user_id, current.user.display_name.clone()),
                if pending.reconnect.is_some() { "integration.reconnected" } else { "integration.connected" },
                Some(tenant_id),
                serde_json::json!({ "integration": integration.integration_id, "realm_id": realm_id, "company": integration.company_name }),
                Some(&addr),
            )
            .await?;
            // A new company goes straight into the wizard; a reconnect back to its dashboard.
            let next = if pending.reconnect.is_some() {
                format!("/integrations/{}", integration.integration_id)
            } else {
                format!("/integrations/{}/setup", integration.integration_id)
            };
            Ok(Redirect::to(&next).into_response())
        }
        Err(FlowError::DifferentCompany { expected, got }) => {
            problem(&session, &current, StatusCode::CONFLICT, "That is a different QuickBooks company",
                &format!("This integration was set up with {expected}, but you chose {got}. Nothing was changed. Reconnect and choose {expected}, or use “Connect new account” to set up {got} as a separate integration.")).await
        }
        Err(FlowError::CodeRefused(_)) => {
            problem(&session, &current, StatusCode::BAD_REQUEST, "This connection was already used",
                "Intuit refused the authorization code: it was used before or has expired. Nothing was changed. Connect again.").await
        }
        Err(FlowError::Provider(e)) => {
            tracing::warn!(tenant.id = %tenant_id, error = %e, "QuickBooks connect failed");
            problem(&session, &current, StatusCode::BAD_GATEWAY, "We could not reach QuickBooks Online",
                "Intuit did not answer as expected, so nothing was connected. Try again in a few minutes.").await
        }
        Err(FlowError::CompanyHeldElsewhere { company }) => {
            problem(&session, &current, StatusCode::CONFLICT, "That QuickBooks company is connected by another customer",
                &format!("{company} is already connected to Ledgerbridge by another TrackTik portal, so it was not connected here and nothing was changed. Posting from two portals into one company would enter invoices twice. If this company should move to your portal, contact Ledgerbridge support.")).await
        }
        Err(FlowError::NotFound) => Err(AppError::NotFound),
        Err(FlowError::Database(e)) => Err(e.into()),
        Err(e @ (FlowError::PortalRefused(_) | FlowError::NotAnAdministrator)) => {
            Err(AppError::Internal(anyhow::anyhow!(e)))
        }
    }
}

async fn problem(
    session: &Session,
    current: &CurrentUser,
    status: StatusCode,
    title: &str,
    message: &str,
) -> AppResult<Response> {
    let page = ProblemPage {
        chrome: Chrome::customer(session, current).await?,
        title: title.to_owned(),
        message: message.to_owned(),
        action_label: "Back to your integrations",
        action_href: "/integrations".into(),
    };
    Ok((status, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "integrations/disconnect.html")]
pub struct DisconnectPage {
    chrome: Chrome,
    view: IntegrationView,
}

/// `GET /integrations/{id}/disconnect`: says exactly what will happen, asks once.
pub async fn disconnect_form(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    PathParam(id): PathParam<IntegrationId>,
) -> AppResult<DisconnectPage> {
    current.require(Right::Connect)?;
    let view = load_view(&state, current.tenant.tenant_id, id).await?;
    Ok(DisconnectPage {
        chrome: Chrome::customer(&session, &current).await?,
        view,
    })
}

/// `POST /integrations/{id}/disconnect`: revokes at Intuit, deletes the tokens here.
pub async fn disconnect(
    State(state): State<AppState>,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<IntegrationId>,
) -> AppResult<Redirect> {
    current.require(Right::Connect)?;
    let tenant_id = current.tenant.tenant_id;
    let view = load_view(&state, tenant_id, id).await?;
    if let Some(conn) = &view.quickbooks {
        connections::disconnect(&state, tenant_id, conn.connection_id)
            .await
            .map_err(|e| anyhow::anyhow!(e))?;
    }
    audit::record(
        &state.db,
        Actor::User(
            current.user.tenant_user_id,
            current.user.display_name.clone(),
        ),
        "integration.disconnected",
        Some(tenant_id),
        serde_json::json!({ "integration": id, "company": view.integration.company_name }),
        Some(&addr),
    )
    .await?;
    Ok(Redirect::to(&format!("/integrations/{id}")))
}
