//! Intuit OAuth 2.0: consent page, token endpoint (code + refresh grants), revoke, userinfo.
//!
//! Codes live 10 minutes, are single-use and bound to their redirect URI. Access tokens live one
//! hour. Every refresh issues a new refresh token; the previous one keeps working for 24 hours
//! after that, then answers `invalid_grant`. Revoking any token of a grant kills the whole grant.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::SandboxState;
use super::fault::auth_response;

mod grants;
mod jwt;

pub use grants::{OAuthStore, TokenProblem};

/// Query of `GET /connect/oauth2`.
#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
}

#[derive(Template)]
#[template(path = "sandbox/quickbooks/consent.html")]
struct ConsentPage {
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    companies: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "sandbox/quickbooks/oauth_error.html")]
struct OAuthErrorPage {
    message: String,
}

fn error_page(message: &str) -> Response {
    let page = OAuthErrorPage {
        message: message.into(),
    };
    let html = page.render().unwrap_or_else(|_| message.to_string());
    (StatusCode::BAD_REQUEST, Html(html)).into_response()
}

/// A 302 to `url` (Intuit answers the consent with 302, not 303).
fn found(url: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, url.to_string())]).into_response()
}

fn with_params(uri: &str, params: &[(&str, &str)]) -> String {
    let q = serde_urlencoded::to_string(params).unwrap_or_default();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{q}")
}

/// `GET /connect/oauth2`: validates the request and shows the consent page.
pub async fn authorize(
    State(state): State<SandboxState>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    let client_id = q.client_id.unwrap_or_default();
    let redirect_uri = q.redirect_uri.unwrap_or_default();
    if !state.client_allows(&client_id, &redirect_uri) {
        return error_page(
            "The client_id is unknown or the redirect_uri is not registered for it.",
        );
    }
    let st = q.state.unwrap_or_default();
    if q.response_type.as_deref() != Some("code") {
        return found(&with_params(
            &redirect_uri,
            &[("error", "unsupported_response_type"), ("state", &st)],
        ))
        .into_response();
    }
    let scope = q.scope.unwrap_or_default();
    if !scope
        .split_whitespace()
        .any(|s| s == "com.intuit.quickbooks.accounting")
    {
        return found(&with_params(
            &redirect_uri,
            &[("error", "invalid_scope"), ("state", &st)],
        ))
        .into_response();
    }
    if let Some(realm) = state.with_runtime(|r| r.auto_consent.clone()) {
        let code = state.with_store(|s| {
            let now = s.clock.now();
            s.oauth
                .issue_code(&client_id, &redirect_uri, &realm, &scope, now)
        });
        state.save();
        return found(&with_params(
            &redirect_uri,
            &[("code", &code), ("state", &st), ("realmId", &realm)],
        ));
    }
    let companies = state.company_names();
    let page = ConsentPage {
        client_id,
        redirect_uri,
        scope,
        state: st,
        companies,
    };
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// Form posted by the consent page.
#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    client_id: String,
    redirect_uri: String,
    state: String,
    realm_id: Option<String>,
    #[serde(default)]
    scope: String,
    decision: String,
}

/// `POST /connect/oauth2`: Allow → code; Deny → `error=access_denied`.
pub async fn consent(
    State(state): State<SandboxState>,
    axum::Form(f): axum::Form<ConsentForm>,
) -> Response {
    if !state.client_allows(&f.client_id, &f.redirect_uri) {
        return error_page(
            "The client_id is unknown or the redirect_uri is not registered for it.",
        );
    }
    if f.decision != "allow" {
        return found(&with_params(
            &f.redirect_uri,
            &[("error", "access_denied"), ("state", &f.state)],
        ))
        .into_response();
    }
    let Some(realm) = f.realm_id.filter(|r| state.has_company(r)) else {
        return error_page("Choose a company.");
    };
    let code = state.with_store(|s| {
        let now = s.clock.now();
        s.oauth
            .issue_code(&f.client_id, &f.redirect_uri, &realm, &f.scope, now)
    });
    state.save();
    found(&with_params(
        &f.redirect_uri,
        &[("code", &code), ("state", &f.state), ("realmId", &realm)],
    ))
    .into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        json!({"error": error, "error_description": description}).to_string(),
    )
        .into_response()
}

/// Client id and secret from HTTP Basic.
fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// The registered client id behind the request's Basic credentials.
fn authenticated_client(state: &SandboxState, headers: &HeaderMap) -> Option<String> {
    let (id, secret) = basic_client(headers)?;
    state.authenticate_client(&id, &secret)
}

/// `POST /oauth2/v1/tokens/bearer`.
pub async fn token(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    // client_secret_basic, or client_secret_post (both in Intuit's discovery document).
    let posted = || {
        let id = form.get("client_id")?;
        state.authenticate_client(id, form.get("client_secret")?)
    };
    let Some(client_id) = authenticated_client(&state, &headers).or_else(posted) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    };
    let hard = headers
        .get("x-include-refresh-token-hard-expires-in")
        .and_then(|v| v.to_str().ok())
        == Some("true");
    let result = state.with_store(|s| {
        let now = s.clock.now();
        let o = &mut s.oauth;
        match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {
                let code = form.get("code").map(String::as_str).unwrap_or_default();
                let redirect = form
                    .get("redirect_uri")
                    .map(String::as_str)
                    .unwrap_or_default();
                o.exchange_code(&client_id, code, redirect, now, hard)
            }
            Some("refresh_token") => {
                let token = form
                    .get("refresh_token")
                    .map(String::as_str)
                    .unwrap_or_default();
                o.refresh(&client_id, token, now, hard)
            }
            Some(_) => Err(("unsupported_grant_type", "Unsupported grant type")),
            None => Err(("invalid_request", "grant_type is required")),
        }
    });
    match result {
        Ok(body) => {
            state.save();
            (
                [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
                body.to_string(),
            )
                .into_response()
        }
        Err((e, d)) => oauth_error(StatusCode::BAD_REQUEST, e, d),
    }
}

/// `POST /v2/oauth2/tokens/revoke`.
pub async fn revoke(
    State(state): State<SandboxState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(client_id) = authenticated_client(&state, &headers) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    };
    // Intuit documents a JSON body; RFC 7009 clients (e.g. the `oauth2` crate) send a form. Both work.
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_string))
        .or_else(|| {
            serde_urlencoded::from_bytes::<HashMap<String, String>>(&body)
                .ok()
                .and_then(|f| f.get("token").cloned())
        });
    let Some(token) = token else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "token is required",
        );
    };
    state.with_store(|s| s.oauth.revoke_token(&token, Some(&client_id)));
    state.save();
    StatusCode::OK.into_response()
}

/// `GET /v1/openid_connect/userinfo`.
pub async fn userinfo(State(state): State<SandboxState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let (now, result) = state.with_store(|s| {
        let now = s.clock.now();
        (now, s.oauth.check_access(&token, None, now))
    });
    match result {
        Ok(realm) => (
            [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
            json!({
                "sub": grants::user_sub(&realm),
                "email": "owner@acme-security.test",
                "emailVerified": true,
                "givenName": "Alex",
                "familyName": "Owner",
                "phoneNumber": "+1 (555) 010-0100",
                "phoneNumberVerified": false,
                "address": {"streetAddress": "100 Main St", "locality": "Springfield", "region": "CA", "postalCode": "90001", "country": "US"}
            })
            .to_string(),
        )
            .into_response(),
        Err(TokenProblem::Unauthorized(d)) => auth_response(401, &d, now.timestamp_millis()),
        Err(TokenProblem::WrongRealm) => auth_response(403, "wrong realm", now.timestamp_millis()),
    }
}

/// `GET /.well-known/openid_configuration` and `…/openid_sandbox_configuration`: discovery with
/// every key Intuit's documents carry, pointing at this server.
pub async fn discovery(State(state): State<SandboxState>) -> Response {
    let base = state.public_url();
    axum::Json(json!({
        "issuer": jwt::ISSUER,
        "authorization_endpoint": format!("{base}/connect/oauth2"),
        "token_endpoint": format!("{base}/oauth2/v1/tokens/bearer"),
        "userinfo_endpoint": format!("{base}/v1/openid_connect/userinfo"),
        "revocation_endpoint": format!("{base}/v2/oauth2/tokens/revoke"),
        "jwks_uri": format!("{base}/op/v1/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"]
    }))
    .into_response()
}

/// `GET /op/v1/jwks`: the key that signs id_tokens.
pub async fn jwks() -> Response {
    axum::Json(jwt::jwks()).into_response()
}
