//! Renders every [`ErrorReport`] as the error page, and logs internal failures once.

use askama::Template;
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::REQUEST_ID;
use crate::error::ErrorReport;

#[derive(Template)]
#[template(path = "errors/error.html")]
pub(super) struct ErrorPage<'a> {
    pub(super) chrome: super::Chrome,
    pub(super) status: u16,
    pub(super) title: &'a str,
    pub(super) message: &'a str,
    pub(super) request_id: &'a str,
}

/// The middleware: lets successful responses through, replaces error reports by the page.
pub async fn render(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let Some(report) = response.extensions().get::<ErrorReport>().cloned() else {
        return response;
    };
    if let Some(internal) = &report.internal {
        if report.status.is_server_error() {
            tracing::error!(%request_id, %method, %path, error = %internal, "request failed");
        } else {
            tracing::warn!(%request_id, %method, %path, reason = %internal, "request refused");
        }
    }
    let page = ErrorPage {
        chrome: super::Chrome::default(),
        status: report.status.as_u16(),
        title: report.title,
        message: &report.message,
        request_id: &request_id,
    };
    match page.render() {
        Ok(html) => {
            let mut out = (report.status, Html(html)).into_response();
            if let Some(retry) = response.headers().get(header::RETRY_AFTER) {
                out.headers_mut().insert(header::RETRY_AFTER, retry.clone());
            }
            out
        }
        Err(e) => {
            tracing::error!(%request_id, error = %e, "the error page failed to render");
            (report.status, report.message).into_response()
        }
    }
}
