//! Liveness, readiness and metrics for the platform running us.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::state::AppState;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The process can serve: the database answers within two seconds.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let probe = sqlx::query_scalar::<_, i32>("select 1").fetch_one(&state.db);
    match tokio::time::timeout(Duration::from_secs(2), probe).await {
        Ok(Ok(1)) => (StatusCode::OK, "ready\n"),
        Ok(Ok(_)) | Ok(Err(_)) | Err(_) => {
            tracing::warn!("readiness check failed: the database did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n")
        }
    }
}

/// Prometheus text exposition. The figures kept in the database are read first (within two
/// seconds); if the database does not answer, the process's own counters are still served.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let refresh = state.metrics.refresh_from_db(&state.db);
    match tokio::time::timeout(Duration::from_secs(2), refresh).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics: the database figures could not be read"),
        Err(_) => tracing::warn!("metrics: the database figures took too long to read"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
