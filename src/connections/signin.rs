//! Completing the two OAuth flows: TrackTik sign-in (creates the tenant and the user) and
//! QuickBooks connect (creates or reconnects an integration).

use secrecy::SecretString;

use super::{Tokens, db};
use crate::audit::{self, Actor};
use crate::ids::{IntegrationId, TenantId};
use crate::integrations::{self, CompanyProfile, Integration};
use crate::providers::quickbooks::{Company, QboError};
use crate::providers::tracktik::{AccessToken, Portal, TrackTikError};
use crate::state::AppState;
use crate::tenants::{self, MemberRole, Tenant, TenantUser};

/// Why a sign-in or connect did not complete. Each variant becomes a page that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The provider refused the code: used already, expired, or for another app.
    #[error("the authorization code was refused: {0}")]
    CodeRefused(String),
    /// The provider could not be reached or answered badly.
    #[error("{0}")]
    Provider(String),
    /// The customer tried to reconnect an integration to another QuickBooks company.
    #[error("the integration belongs to {expected}, not {got}")]
    DifferentCompany {
        /// The company the integration was set up with.
        expected: String,
        /// The company just chosen.
        got: String,
    },
    /// The integration to reconnect is gone (or belongs to someone else).
    #[error("integration not found")]
    NotFound,
    /// The portal address is not one we connect to; nothing was sent to it.
    #[error("portal refused: {0}")]
    PortalRefused(String),
    /// Someone who is not a portal administrator signed in to a portal with no tenant yet.
    #[error("only a portal administrator can set up a portal")]
    NotAnAdministrator,
    /// The QuickBooks company is connected by another tenant.
    #[error("the QuickBooks company {company} belongs to another customer")]
    CompanyHeldElsewhere {
        /// The company's name.
        company: String,
    },
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Exchanges the TrackTik code, reads who signed in and their role, then finds the tenant of
/// this portal (keyed on the portal's own name for itself when its tokens give one, else on
/// `typed_key`) and records the person. A portal administrator's sign-in creates the tenant
/// the first time and stores the tokens; anyone else's only signs them in to an existing
/// tenant. Nothing is written unless every step worked.
pub async fn complete_tracktik_sign_in(
    state: &AppState,
    portal: &Portal,
    typed_key: &str,
    code: &str,
    pkce_verifier: &SecretString,
    client_addr: &str,
) -> Result<(Tenant, TenantUser), FlowError> {
    let p = &state.providers;
    let tokens = p
        .tracktik
        .exchange_code(portal, &p.tracktik_app, code, Some(pkce_verifier))
        .await
        .map_err(flow_error)?;
    let token = AccessToken::new(tokens.access_token.secret().to_owned());
    let tokens = Tokens::from_tracktik(tokens, None);
    let person = p
        .tracktik
        .signed_in_user(portal, &token)
        .await
        .map_err(flow_error)?;
    let key = person
        .issuer
        .as_deref()
        .and_then(|iss| tenants::portal::key_from_issuer(iss, &state.portal_guard))
        .unwrap_or_else(|| typed_key.to_owned());
    let role = if person.administrator {
        MemberRole::PortalAdmin
    } else {
        MemberRole::Viewer
    };
    let existing = tenants::db::find_by_key(&state.db, &key).await?;
    if existing.is_none() && !role.can_change() {
        return Err(FlowError::NotAnAdministrator);
    }
    let name = match (&existing, role) {
        (Some(tenant), MemberRole::Viewer) => tenant.name.clone(),
        _ => company_name(state, portal, &token, &key).await?,
    };
    let display_name = person
        .name
        .clone()
        .unwrap_or_else(|| format!("TrackTik user {}", person.user_id));
    let profile = tenants::db::UserProfile {
        tracktik_user_id: &person.user_id,
        display_name: &display_name,
        email: person.email.as_deref(),
        role,
    };

    let mut tx = state.db.begin().await?;
    let tenant = match existing {
        Some(tenant) if !role.can_change() => tenant,
        _ => tenants::db::upsert_by_portal(&mut *tx, &key, portal.base_url(), &name).await?,
    };
    let user = tenants::db::upsert_user(&mut *tx, tenant.tenant_id, &profile).await?;
    // Only an administrator's tokens become the tenant's connection: the syncs read the portal
    // with them, and a viewer's sign-in must not replace them.
    let restored = if role.can_change() {
        let before = db::tracktik_for_tenant(&mut *tx, tenant.tenant_id).await?;
        let after = db::save_tracktik(
            &mut tx,
            &state.cipher,
            tenant.tenant_id,
            portal.base_url(),
            &tokens,
        )
        .await?;
        integrations::db::restore_after_reconnect(&mut *tx, tenant.tenant_id).await?;
        Some((before, after))
    } else {
        None
    };
    audit::record(
        &mut *tx,
        Actor::User(user.tenant_user_id, user.display_name.clone()),
        "user.sign_in",
        Some(tenant.tenant_id),
        serde_json::json!({
            "portal": portal.base_url(),
            "tracktik_user": person.user_id,
            "role": role.label(),
        }),
        Some(client_addr),
    )
    .await?;
    tx.commit().await?;
    if let Some((before, after)) = restored {
        super::notify_restored(state, before.as_ref(), &after).await;
    }
    Ok((tenant, user))
}

fn flow_error(e: TrackTikError) -> FlowError {
    match e {
        TrackTikError::ReauthorizationRequired { reason } => FlowError::CodeRefused(reason),
        TrackTikError::Refused { reason } => FlowError::PortalRefused(reason),
        other => FlowError::Provider(other.to_string()),
    }
}

/// The company's name from the portal's regions, or the portal's host when they do not say.
/// A portal that answers too much, or that the guard refuses, stops the sign-in.
async fn company_name(
    state: &AppState,
    portal: &Portal,
    token: &AccessToken,
    key: &str,
) -> Result<String, FlowError> {
    let host = key.to_owned();
    match state.providers.tracktik.regions(portal, token).await {
        Ok(regions) => Ok(regions
            .iter()
            .find_map(|r| r.company.clone())
            .filter(|c| !c.trim().is_empty())
            .unwrap_or(host)),
        Err(e @ (TrackTikError::TooLarge { .. } | TrackTikError::Refused { .. })) => {
            Err(flow_error(e))
        }
        Err(e) => {
            tracing::warn!(portal = portal.base_url(), error = %e, "could not read the portal's regions at sign-in");
            Ok(host)
        }
    }
}

/// Exchanges the QuickBooks code, reads the company, and creates its integration, or
/// reconnects `reconnect`. Refused (and the new tokens revoked at Intuit, so no grant is left
/// behind) when the customer picked a different company for a reconnect, or a company that
/// another tenant has connected.
pub async fn complete_quickbooks_connect(
    state: &AppState,
    tenant_id: TenantId,
    code: &str,
    realm_id: &str,
    reconnect: Option<IntegrationId>,
) -> Result<Integration, FlowError> {
    let p = &state.providers;
    let tokens: Tokens = p
        .quickbooks_oauth
        .exchange_code(code)
        .await
        .map_err(|e| match e {
            QboError::ReauthorizationRequired(reason) => FlowError::CodeRefused(reason),
            other => FlowError::Provider(other.to_string()),
        })?
        .into();
    let outcome = connect_with(state, tenant_id, realm_id, reconnect, &tokens).await;
    if outcome.is_err() {
        // We will not keep a grant for a company the customer could not connect.
        if let Err(e) = p.quickbooks_oauth.revoke(&tokens.refresh).await {
            tracing::warn!(tenant.id = %tenant_id, error = %e, "revoking a refused QuickBooks grant failed");
        }
    }
    outcome
}

async fn connect_with(
    state: &AppState,
    tenant_id: TenantId,
    realm_id: &str,
    reconnect: Option<IntegrationId>,
    tokens: &Tokens,
) -> Result<Integration, FlowError> {
    let p = &state.providers;
    let co = Company {
        realm_id,
        access_token: &tokens.access,
    };
    let info = p
        .quickbooks
        .company_info(&co)
        .await
        .map_err(|e| FlowError::Provider(e.to_string()))?;
    let prefs = p
        .quickbooks
        .preferences(&co)
        .await
        .map_err(|e| FlowError::Provider(e.to_string()))?;
    let profile = CompanyProfile::from_qbo(realm_id, &info, &prefs);

    let mut tx = state.db.begin().await?;
    if db::realm_held_elsewhere(&mut tx, tenant_id, realm_id)
        .await?
        .is_some()
    {
        return Err(FlowError::CompanyHeldElsewhere {
            company: profile.name,
        });
    }
    let integration = match reconnect {
        Some(id) => {
            let existing = integrations::db::get(&mut *tx, tenant_id, id)
                .await?
                .ok_or(FlowError::NotFound)?;
            if existing.realm_id != realm_id {
                return Err(FlowError::DifferentCompany {
                    expected: existing.company_name,
                    got: profile.name,
                });
            }
            integrations::db::update_company(&mut *tx, tenant_id, id, &profile).await?;
            existing
        }
        None => match integrations::db::find_by_realm(&mut *tx, tenant_id, realm_id).await? {
            Some(existing) => {
                integrations::db::update_company(
                    &mut *tx,
                    tenant_id,
                    existing.integration_id,
                    &profile,
                )
                .await?;
                existing
            }
            None => integrations::db::insert(&mut *tx, tenant_id, &profile).await?,
        },
    };
    let before =
        db::quickbooks_for_integration(&mut *tx, tenant_id, integration.integration_id).await?;
    let after = db::save_quickbooks(
        &mut tx,
        &state.cipher,
        tenant_id,
        integration.integration_id,
        realm_id,
        tokens,
    )
    .await?;
    integrations::db::restore_after_reconnect(&mut *tx, tenant_id).await?;
    let integration = integrations::db::get(&mut *tx, tenant_id, integration.integration_id)
        .await?
        .ok_or(FlowError::NotFound)?;
    tx.commit().await?;
    super::notify_restored(state, before.as_ref(), &after).await;
    Ok(integration)
}
