//! Cross-site request forgery protection for every state-changing request, and the limits
//! every posted form must respect.
//!
//! Two independent checks, both required for POST/PUT/PATCH/DELETE:
//! 1. the request comes from our own pages: `Sec-Fetch-Site` is not `cross-site`, and an
//!    `Origin` header, when present, equals our public origin;
//! 2. the form carries `csrf_token` equal to the expected token, compared in constant time:
//!    the session's token (synchroniser token pattern) once the visitor has a session, else
//!    the anonymous token kept in the `lb_csrf` cookie (double submit). Anonymous visitors
//!    (the landing page, the staff sign-in form) thus need no session row at all.
//!
//! Every posted field must also be at most [`MAX_FIELD_CHARS`] long and free of NUL bytes
//! (which PostgreSQL cannot store); otherwise the request is refused with a 400 that names
//! the field. Forms may set tighter limits of their own.
//!
//! The token is rotated at sign-in ([`rotate`], [`forget_anonymous_token`]). Because this is a
//! middleware over every page route, no form can forget any of it.

use std::cell::Cell;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
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
/// The cookie holding an anonymous visitor's token.
pub const COOKIE: &str = "lb_csrf";
/// The longest value any posted field may have, in characters.
/// (The refusal's message says "10,000": keep them together.)
pub const MAX_FIELD_CHARS: usize = 10_000;
const MAX_FORM_BYTES: usize = 1024 * 1024;

/// An anonymous visitor's token for the request being served, and whether a page used it.
struct Anonymous {
    value: String,
    used: Cell<bool>,
}

tokio::task_local! {
    static ANONYMOUS: Anonymous;
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The token for the page being rendered: the session's once there is a session (created on
/// first use), else the anonymous visitor's, which costs no session row.
pub async fn token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(CSRF_TOKEN).await? {
        return Ok(token);
    }
    if session.id().is_none() {
        let anonymous = ANONYMOUS.try_with(|a| {
            a.used.set(true);
            a.value.clone()
        });
        if let Ok(token) = anonymous {
            return Ok(token);
        }
    }
    let token = random_token();
    session.insert(CSRF_TOKEN, &token).await?;
    Ok(token)
}

/// Forgets the session's token, so the next page gets a new one (at sign-in).
pub async fn rotate(session: &Session) -> Result<(), AppError> {
    session.remove::<String>(CSRF_TOKEN).await?;
    Ok(())
}

/// A `Set-Cookie` that deletes the anonymous token (at sign-in: a signed-in visitor uses the
/// session's token, and the next anonymous page gets a new one).
pub fn forget_anonymous_token(state: &AppState) -> [(header::HeaderName, HeaderValue); 1] {
    let cookie = format!(
        "{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{}",
        if state.config.serves_https() {
            "; Secure"
        } else {
            ""
        }
    );
    [(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).expect("the cookie is ASCII"),
    )]
}

fn anonymous_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The middleware. Safe methods pass the origin and token checks; every request may use the
/// anonymous token, which is set as a cookie when a page used a new one.
pub async fn verify(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let existing = anonymous_cookie(request.headers());
    let anonymous = Anonymous {
        value: existing.clone().unwrap_or_else(random_token),
        used: Cell::new(false),
    };
    ANONYMOUS
        .scope(anonymous, async move {
            let response = if matches!(
                *request.method(),
                Method::GET | Method::HEAD | Method::OPTIONS
            ) {
                next.run(request).await
            } else {
                match check(&state, request, existing.as_deref()).await {
                    Ok(request) => next.run(request).await,
                    Err(e) => e.into_response(),
                }
            };
            let fresh =
                ANONYMOUS.with(|a| (existing.is_none() && a.used.get()).then(|| a.value.clone()));
            match fresh {
                Some(value) => with_cookie(&state, response, &value),
                None => response,
            }
        })
        .await
}

fn with_cookie(state: &AppState, mut response: Response, value: &str) -> Response {
    let cookie = format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{}",
        if state.config.serves_https() {
            "; Secure"
        } else {
            ""
        }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

async fn check(
    state: &AppState,
    request: Request,
    anonymous: Option<&str>,
) -> Result<Request, AppError> {
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
    let expected = match session.get::<String>(CSRF_TOKEN).await? {
        Some(token) => token,
        None => anonymous
            .map(str::to_owned)
            .ok_or(AppError::CsrfRejected("no token in session or cookie"))?,
    };

    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::BadRequest("That form is too large to accept.".into()))?;
    let fields = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .map_err(|_| AppError::CsrfRejected("the form cannot be read"))?;
    let sent = fields
        .iter()
        .find_map(|(k, v)| (k == FIELD).then_some(v))
        .ok_or(AppError::CsrfRejected("no token in form"))?;
    if !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) {
        return Err(AppError::CsrfRejected("token mismatch"));
    }
    check_fields(&fields)?;
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Refuses a field that is too long or holds a NUL byte, naming it.
pub fn check_fields(fields: &[(String, String)]) -> Result<(), AppError> {
    for (name, value) in fields {
        let field = name.replace('_', " ");
        if value.contains('\0') || name.contains('\0') {
            return Err(AppError::BadRequest(format!(
                "The field “{}” contains a character that cannot be saved (a NUL byte). Remove it and try again.",
                field.replace('\0', "")
            )));
        }
        if value.chars().count() > MAX_FIELD_CHARS {
            return Err(AppError::BadRequest(format!(
                "The field “{field}” is too long: shorten it to 10,000 characters or fewer and try again."
            )));
        }
    }
    Ok(())
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
    use super::*;

    #[test]
    fn the_origin_of_a_public_url_drops_the_path() {
        assert_eq!(
            public_origin("https://lb.example.com/app"),
            "https://lb.example.com"
        );
        assert_eq!(
            public_origin("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn the_anonymous_cookie_is_read_among_others_and_must_look_like_a_token() {
        let token = random_token();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("lb_session=x; {COOKIE}={token}; other=y")).unwrap(),
        );
        assert_eq!(anonymous_cookie(&headers), Some(token));
        headers.insert(header::COOKIE, HeaderValue::from_static("lb_csrf=short"));
        assert_eq!(anonymous_cookie(&headers), None);
    }

    #[test]
    fn long_fields_and_nul_bytes_are_refused_naming_the_field() {
        let ok = vec![("note".to_owned(), "fine".to_owned())];
        assert!(check_fields(&ok).is_ok());
        let nul = vec![("preferred_times".to_owned(), "a\0b".to_owned())];
        let err = check_fields(&nul).unwrap_err().to_string();
        assert!(
            err.contains("“preferred times”") && err.contains("NUL"),
            "{err}"
        );
        let long = vec![("note".to_owned(), "x".repeat(MAX_FIELD_CHARS + 1))];
        let err = check_fields(&long).unwrap_err().to_string();
        assert!(err.contains("“note”") && err.contains("10,000"), "{err}");
    }
}
