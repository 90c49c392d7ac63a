//! Completing the two OAuth flows: TrackTik sign-in (creates the tenant and the user) and
//! QuickBooks connect (creates or reconnects an integration).

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};

use super::{Tokens, db};
use crate::audit::{self, Actor};
use crate::ids::{IntegrationId, TenantId};
use crate::integrations::{self, CompanyProfile, Integration};
use crate::providers::quickbooks::{Company, QboError};
use crate::providers::tracktik::{AccessToken, Portal, TrackTikError};
use crate::state::AppState;
use crate::tenants::{self, Tenant, TenantUser};

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
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The user id in a TrackTik access token (a JWT: the `sub` claim). The token came straight
/// from the portal's token endpoint, so its claims are read without verifying the signature.
pub fn tracktik_user_id(access_token: &SecretString) -> Option<String> {
    let payload = access_token.expose_secret().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match claims.get("sub")? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Exchanges the TrackTik code, then creates (first time) or finds the tenant of this portal
/// and its user, and stores the sealed tokens. Nothing is written unless the exchange worked.
pub async fn complete_tracktik_sign_in(
    state: &AppState,
    portal: &Portal,
    code: &str,
    pkce_verifier: &SecretString,
    client_addr: &str,
) -> Result<(Tenant, TenantUser), FlowError> {
    let p = &state.providers;
    let tokens = p
        .tracktik
        .exchange_code(portal, &p.tracktik_app, code, Some(pkce_verifier))
        .await
        .map_err(|e| match e {
            TrackTikError::ReauthorizationRequired { reason } => FlowError::CodeRefused(reason),
            other => FlowError::Provider(other.to_string()),
        })?;
    let tokens = Tokens::from_tracktik(tokens, None);
    let user_id = tracktik_user_id(&tokens.access).unwrap_or_else(|| "portal-user".to_owned());
    let token = AccessToken::new(tokens.access.expose_secret().to_owned());
    let host = reqwest::Url::parse(portal.base_url())
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let name = match p.tracktik.regions(portal, &token).await {
        Ok(regions) => regions
            .iter()
            .find_map(|r| r.company.clone())
            .filter(|c| !c.trim().is_empty())
            .unwrap_or(host),
        Err(e) => {
            tracing::warn!(portal = portal.base_url(), error = %e, "could not read the portal's regions at sign-in");
            host
        }
    };

    let display_name = display_name(state, portal, &token, &user_id).await;

    let mut tx = state.db.begin().await?;
    let tenant = tenants::db::upsert_by_portal(&mut *tx, portal.base_url(), &name).await?;
    let user =
        tenants::db::upsert_user(&mut *tx, tenant.tenant_id, &user_id, &display_name).await?;
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
    audit::record(
        &mut *tx,
        Actor::User(user.tenant_user_id, user.display_name.clone()),
        "user.sign_in",
        Some(tenant.tenant_id),
        serde_json::json!({ "portal": portal.base_url() }),
        Some(client_addr),
    )
    .await?;
    tx.commit().await?;
    super::notify_restored(state, before.as_ref(), &after).await;
    Ok((tenant, user))
}

/// The signed-in person's name from their employee record, or a neutral label.
async fn display_name(
    state: &AppState,
    portal: &Portal,
    token: &AccessToken,
    user_id: &str,
) -> String {
    use crate::providers::tracktik::{Query, models::Employee};
    let fallback = || format!("TrackTik user {user_id}");
    let Ok(id) = user_id.parse::<i64>() else {
        return fallback();
    };
    match state
        .providers
        .tracktik
        .get::<Employee>(portal, token, id, &Query::new())
        .await
    {
        Ok(e) => e
            .name
            .or_else(|| match (e.first_name, e.last_name) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                (f, l) => f.or(l),
            })
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(fallback),
        Err(_) => fallback(),
    }
}

/// Exchanges the QuickBooks code, reads the company, and creates its integration, or
/// reconnects `reconnect` (refused if the customer picked a different company).
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
    let integration = match reconnect {
        Some(id) => {
            let existing = integrations::db::get(&mut *tx, tenant_id, id)
                .await?
                .ok_or(FlowError::NotFound)?;
            if existing.realm_id != realm_id {
                drop(tx);
                // We will not keep tokens for a company the customer did not mean to connect.
                let _ = p.quickbooks_oauth.revoke(&tokens.refresh).await;
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
        &tokens,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_id_is_read_from_a_jwt_access_token() {
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"1001","iss":"acme"}"#);
        let jwt = SecretString::from(format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln"));
        assert_eq!(tracktik_user_id(&jwt).as_deref(), Some("1001"));
        let numeric = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":42}"#);
        assert_eq!(
            tracktik_user_id(&SecretString::from(format!("a.{numeric}.b"))).as_deref(),
            Some("42")
        );
        assert_eq!(
            tracktik_user_id(&SecretString::from("opaque-token".to_owned())),
            None
        );
    }
}
