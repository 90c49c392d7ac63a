//! Cross-site request forgery protection for every state-changing request.
//!
//! Two independent checks, both required for POST/PUT/PATCH/DELETE:
//! 1. the request comes from our own pages: `Sec-Fetch-Site` is not `cross-site`, and an
//!    `Origin` header, when present, equals our public origin;
//! 2. the form carries `csrf_token` equal to the token kept in the session (synchroniser
//!    token pattern, compared in constant time).
//!
//! Because this is a middleware over every page route, no form can forget it.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::session::CSRF_TOKEN;
use crate::error::AppError;
use crate::state::AppState;

/// The form field every state-changing form carries.
pub const FIELD: &str = "csrf_token";
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// The session's CSRF token, created on first use.
pub async fn token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(CSRF_TOKEN).await? {
        return Ok(token);
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    session.insert(CSRF_TOKEN, &token).await?;
    Ok(token)
}

/// The middleware. Safe methods pass untouched.
pub async fn verify(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    match check(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, request: Request) -> Result<Request, AppError> {
    let headers = request.headers();
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return Err(AppError::CsrfRejected("Sec-Fetch-Site says cross-site"));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let expected = public_origin(&state.config.public_url);
        if origin.to_str().ok().map(|o| o.trim_end_matches('/')) != Some(expected.as_str()) {
            return Err(AppError::CsrfRejected("Origin is not ours"));
        }
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(AppError::CsrfRejected("not a form submission"));
    }

    let session = request
        .extensions()
        .get::<Session>()
        .cloned()
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("CSRF check ran outside the session layer"))
        })?;
    let expected = session
        .get::<String>(CSRF_TOKEN)
        .await?
        .ok_or(AppError::CsrfRejected("no token in session"))?;

    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::BadRequest("That form is too large to accept.".into()))?;
    let sent =
        form_urlencoded_value(&bytes, FIELD).ok_or(AppError::CsrfRejected("no token in form"))?;
    if !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(AppError::CsrfRejected("token mismatch"));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn form_urlencoded_value(body: &[u8], field: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == field).then_some(v))
}

/// `scheme://host[:port]` of a URL, as browsers send it in `Origin`.
pub fn public_origin(public_url: &str) -> String {
    match reqwest::Url::parse(public_url) {
        Ok(url) => url.origin().ascii_serialization(),
        Err(_) => public_url.trim_end_matches('/').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_origin_of_a_public_url_drops_the_path() {
        assert_eq!(
            super::public_origin("https://lb.example.com/app"),
            "https://lb.example.com"
        );
        assert_eq!(
            super::public_origin("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn the_token_is_found_among_other_fields() {
        let body = b"email=a%40b.c&csrf_token=abc-123&password=x";
        assert_eq!(
            super::form_urlencoded_value(body, "csrf_token").as_deref(),
            Some("abc-123")
        );
        assert_eq!(super::form_urlencoded_value(b"email=a", "csrf_token"), None);
    }
}
