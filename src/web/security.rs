//! Security headers on every response.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// No inline scripts or styles, nothing from other origins, no framing. Forms may lead only to
/// us and, through the redirects of the sign-in flows, to https sites (TrackTik portals, Intuit)
/// and the plain-http sandboxes the configuration allows.
pub fn content_security_policy(config: &crate::config::Config) -> String {
    let mut form_action = vec!["'self'".to_owned(), "https:".to_owned()];
    form_action.extend(config.tracktik_http_portals.iter().cloned());
    if let Some(base) = config
        .quickbooks_base_url
        .as_deref()
        .filter(|b| b.starts_with("http://"))
    {
        if let Ok(url) = reqwest::Url::parse(base) {
            form_action.push(url.origin().ascii_serialization());
        }
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self'; form-action {}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        form_action.join(" ")
    )
}

/// Adds the headers; a handler may set a stricter value of its own. Over https, browsers are
/// also told to use https only (HSTS).
pub async fn headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    if state.config.serves_https() {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(v) = HeaderValue::from_str(&state.csp) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    let defaults = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ),
    ];
    for (name, value) in defaults {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
