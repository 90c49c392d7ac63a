//! The stylesheet, script and icon in `static/`, compiled into the binary so the service
//! runs from any directory and works offline.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::extract::PathParam;

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/app.css"),
    ),
    (
        "dashboard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/dashboard.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
    (
        "wizard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/wizard.js"),
    ),
];

/// Serves one file, cached for a day.
pub async fn serve(PathParam(file): PathParam<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
