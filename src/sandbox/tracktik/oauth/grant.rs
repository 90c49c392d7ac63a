//! The token endpoint's grants: parsing the request, checking the client, the code (with
//! PKCE), the refresh token (single use) or the user's password, and counting failures.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{AuthState, Users};
use crate::sandbox::tracktik::server::json as json_response;

const INVALID_GRANT: &str = "The provided authorization grant (e.g., authorization code, resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const MISSING: &str = "The request is missing a required parameter.";

/// An OAuth error in the shape of the PHP League server TrackTik runs:
/// `{"error","error_description","hint","message"}`.
#[derive(Debug)]
pub struct OAuthError {
    status: u16,
    error: &'static str,
    description: &'static str,
    hint: String,
}

impl OAuthError {
    fn new(
        status: u16,
        error: &'static str,
        description: &'static str,
        hint: impl Into<String>,
    ) -> Self {
        OAuthError {
            status,
            error,
            description,
            hint: hint.into(),
        }
    }
    fn invalid_grant(hint: &str) -> Self {
        Self::new(400, "invalid_grant", INVALID_GRANT, hint)
    }
    fn missing(param: &str) -> Self {
        Self::new(
            400,
            "invalid_request",
            MISSING,
            format!("Check the `{param}` parameter"),
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        json_response(
            self.status,
            json!({
                "error": self.error,
                "error_description": self.description,
                "hint": self.hint,
                "message": self.description,
            }),
        )
    }
}

/// Form-encoded or JSON body; client credentials may also come as HTTP Basic.
pub fn parse_body(headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let mut out: HashMap<String, String> = if is_json {
        serde_json::from_slice::<serde_json::Map<String, Value>>(body)
            .map(|m| {
                m.into_iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => (k, s),
                        other => (k, other.to_string()),
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .map(|v| v.into_iter().collect())
            .unwrap_or_default()
    };
    if let Some((id, secret)) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(a, b)| (a.to_owned(), b.to_owned())))
    {
        out.entry("client_id".into()).or_insert(id);
        out.entry("client_secret".into()).or_insert(secret);
    }
    out
}

/// Checks a token request; on success returns (client id, user id) to issue tokens for.
pub fn token(
    auth: &mut AuthState,
    p: &HashMap<String, String>,
    ip: IpAddr,
    now: DateTime<Utc>,
    users: &Users,
) -> Result<(String, i64), OAuthError> {
    let get = |k: &str| p.get(k).map(String::as_str).unwrap_or("");
    let grant = get("grant_type");
    match grant {
        "authorization_code" | "refresh_token" | "password" => {}
        "" => return Err(OAuthError::missing("grant_type")),
        _ => {
            return Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
                "Check that all required parameters have been provided",
            ));
        }
    }
    if let Some(until) = auth.locked(ip, now) {
        return Err(OAuthError::new(
            429,
            "access_denied",
            "Too many failed sign-in attempts from this address.",
            format!("Try again after {}", until.to_rfc3339()),
        ));
    }
    let client_id = get("client_id").to_owned();
    if client_id.is_empty() {
        return Err(OAuthError::missing("client_id"));
    }
    if auth.client(&client_id, get("client_secret")).is_none() {
        auth.fail(ip, now);
        return Err(OAuthError::new(
            401,
            "invalid_client",
            "Client authentication failed",
            "",
        ));
    }
    let user = match grant {
        "password" => match users.check(get("username"), get("password")) {
            Some(user) => user,
            None => {
                auth.fail(ip, now);
                return Err(OAuthError::invalid_grant(
                    "The user credentials were incorrect.",
                ));
            }
        },
        "authorization_code" => code(
            auth,
            &client_id,
            get("code"),
            get("redirect_uri"),
            get("code_verifier"),
            now,
        )?,
        _ => {
            let r = auth
                .refresh
                .get_mut(get("refresh_token"))
                .filter(|r| !r.used)
                .ok_or_else(|| OAuthError::invalid_grant("Token has been revoked"))?;
            if r.expires <= now {
                return Err(OAuthError::invalid_grant("Token has expired"));
            }
            if r.client_id != client_id {
                return Err(OAuthError::invalid_grant("Token is not linked to client"));
            }
            r.used = true;
            r.user
        }
    };
    Ok((client_id, user))
}

/// Redeems an authorization code (single use, whatever the outcome).
fn code(
    auth: &mut AuthState,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
    now: DateTime<Utc>,
) -> Result<i64, OAuthError> {
    let code = auth.codes.remove(code).ok_or_else(|| {
        OAuthError::invalid_grant("Authorization code is invalid or has already been used")
    })?;
    if code.expires <= now {
        return Err(OAuthError::invalid_grant("Authorization code has expired"));
    }
    if code.client_id != client_id {
        return Err(OAuthError::invalid_grant(
            "Authorization code was not issued to this client",
        ));
    }
    if code.redirect_uri != redirect_uri {
        return Err(OAuthError::invalid_grant("Invalid redirect URI"));
    }
    if let Some((challenge, method)) = &code.challenge {
        if verifier.is_empty() {
            return Err(OAuthError::missing("code_verifier"));
        }
        let computed = match method.as_str() {
            "plain" => verifier.to_owned(),
            _ => {
                URL_SAFE_NO_PAD.encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()))
            }
        };
        if &computed != challenge {
            return Err(OAuthError::invalid_grant(
                "Failed to verify `code_verifier`.",
            ));
        }
    }
    Ok(code.user)
}
