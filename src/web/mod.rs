//! The web layer: every route in one place, and the middleware stack around them.
//!
//! Handlers are thin: they parse input, call a domain module, and render a page or redirect
//! (post/redirect/get). No SQL lives here.

mod assets;
mod auth;
mod chart;
mod controls;
pub mod csrf;
mod dashboard;
pub(crate) mod db_conn;
mod documents;
mod drafts;
mod errors;
mod expert_booking;
mod expert_sessions;
pub mod extract;
mod health;
mod integrations;
mod limit;
mod member_links;
mod members;
mod outbox;
mod pages;
mod progress;
mod rollback;
mod security;
pub mod session;
mod session_store;
mod staff;
mod support;
mod support_console;
mod support_replay;
mod support_sessions;
mod support_wizard;
pub mod time;
mod wizard;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::handler::Handler;
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::metrics::{HttpLabels, RouteLabels};
use crate::state::AppState;
use crate::tenants::Right;

pub use pages::Chrome;
pub use security::content_security_policy;

/// The header that carries each request's id, in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The operations endpoints alone (`/healthz`, `/readyz`, `/metrics`), served on
/// `LEDGERBRIDGE_METRICS_LISTEN` by every kind of process when it is set.
pub fn ops_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// A customer's POST route that changes something: only people whose role allows `right`
/// reach `handler` (see `limit::require_right`).
fn change<H, T>(state: &AppState, right: Right, handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    post(handler).route_layer(middleware::from_fn_with_state(
        (state.clone(), right),
        limit::require_right,
    ))
}

/// A manual run (Sync now, Retry, Back-sync): a change, and limited per tenant per hour.
fn manual_run<H, T>(state: &AppState, right: Right, handler: H) -> MethodRouter<AppState>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    post(handler)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            limit::manual_runs,
        ))
        .route_layer(middleware::from_fn_with_state(
            (state.clone(), right),
            limit::require_right,
        ))
}

/// Builds the whole web application. `/metrics` is served here only with
/// `LEDGERBRIDGE_METRICS_ON_WEB`; otherwise on the operations listener (`ops_router`).
pub fn router(state: AppState) -> Router {
    let store = session_store::WriteWhenChanged::new(PostgresStore::new(state.db.clone()));
    let sessions = SessionManagerLayer::new(store)
        .with_name("lb_session")
        .with_secure(state.config.serves_https())
        .with_http_only(true)
        // Lax, not Strict: the session must survive the redirect back from an OAuth provider.
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(::time::Duration::hours(12)));

    let pages = Router::new()
        .route("/", get(pages::landing))
        .route("/sign-in", post(auth::sign_in))
        .route("/sign-out", post(auth::sign_out))
        .route("/auth/tracktik/callback", get(auth::tracktik_callback))
        // Members invited by e-mail: their single-use links, and the administrators' page.
        .route(
            "/sign-in/link",
            get(member_links::link_form).post(member_links::use_link),
        )
        .route(
            "/sign-in/email",
            get(member_links::email_form).post(member_links::request_link),
        )
        .route("/members", get(members::list).post(members::invite))
        .route("/members/{id}/resend", post(members::resend))
        .route("/members/{id}/revoke", post(members::revoke))
        .route("/members/{id}/activation", post(members::activation))
        .route(
            "/auth/quickbooks/callback",
            get(integrations::quickbooks_callback),
        )
        .route("/integrations", get(integrations::list))
        .route(
            "/integrations/connect",
            change(&state, Right::Connect, integrations::connect),
        )
        .route(
            "/integrations/{id}/reconnect",
            change(&state, Right::Connect, integrations::reconnect),
        )
        .route(
            "/integrations/{id}/disconnect",
            get(integrations::disconnect_form).merge(change(
                &state,
                Right::Connect,
                integrations::disconnect,
            )),
        )
        .route(
            "/staff/sign-in",
            get(staff::sign_in_form).post(staff::sign_in),
        )
        .route("/staff/sign-out", post(staff::sign_out))
        .route("/support", get(support::tenants))
        .route("/support/tenants/{id}", get(support::tenant))
        // The setup wizard (one GET form and one POST per step), "Talk to an expert", and the
        // support console's queue of expert requests with the read-only draft.
        .route("/integrations/{id}/setup", get(wizard::resume))
        .route(
            "/integrations/{id}/setup/{step}",
            get(wizard::step_form).merge(change(&state, Right::EditSetup, wizard::save_step)),
        )
        .route(
            "/integrations/{id}/expert",
            get(expert_booking::book_form).post(expert_booking::book),
        )
        .route(
            "/integrations/{id}/sessions/{sid}",
            get(expert_sessions::show),
        )
        .route(
            "/integrations/{id}/sessions/{sid}/{what}",
            post(expert_sessions::change_signed_in),
        )
        .route("/sessions/manage", get(expert_sessions::manage))
        .route(
            "/sessions/manage/{what}",
            post(expert_sessions::change_with_link),
        )
        .route(
            "/integrations/{id}/expert/{request}",
            get(wizard::expert_sent),
        )
        .route("/support/drafts", get(drafts::list))
        .route("/support/drafts/{id}", get(drafts::show))
        .route(
            "/support/availability",
            get(support_sessions::availability_form).post(support_sessions::save_availability),
        )
        .route("/support/sessions", get(support_sessions::sessions))
        .route("/support/sessions/{id}", get(support_sessions::show))
        .route(
            "/support/sessions/{id}/notes",
            post(support_sessions::save_notes),
        )
        .route(
            "/support/sessions/{id}/cancel",
            post(support_sessions::cancel),
        )
        .route("/support/requests", get(support_wizard::requests))
        .route("/support/requests/{id}", get(support_wizard::request))
        .route(
            "/support/requests/{id}/notes",
            post(support_wizard::add_note),
        )
        .route(
            "/support/requests/{id}/done",
            post(support_wizard::mark_done),
        )
        // The support console across tenants: integrations, runs, failures, the audit log,
        // and replays (each asked once on a confirmation page, then audited).
        .route("/support/integrations", get(support_console::integrations))
        .route("/support/runs", get(support_console::runs))
        .route("/support/failures", get(support_console::failures))
        .route("/support/audit", get(support_console::audit_log))
        .route(
            "/support/documents/{id}/replay",
            get(support_replay::document_form).post(support_replay::replay_document),
        )
        .route(
            "/support/replay-day",
            get(support_replay::day_form).post(support_replay::replay_day),
        )
        // The dashboard, its manual controls and the documents page; read-only copies for
        // staff. (Their live progress streams are below, outside the request timeout.)
        .route("/integrations/{id}", get(dashboard::show))
        .route("/integrations/{id}/documents", get(documents::list))
        .route(
            "/integrations/{id}/sync-now",
            manual_run(&state, Right::RunSync, controls::sync_now),
        )
        .route(
            "/integrations/{id}/nights/{day}/rollback",
            get(rollback::confirm).merge(change(&state, Right::RollBack, rollback::roll_back)),
        )
        .route(
            "/integrations/{id}/retry",
            manual_run(&state, Right::RunSync, controls::retry),
        )
        .route(
            "/integrations/{id}/back-sync",
            manual_run(&state, Right::BackSync, controls::back_sync),
        )
        .route("/integrations/{id}/preview", get(controls::preview))
        .route("/support/integrations/{id}", get(dashboard::support_show))
        .route(
            "/support/integrations/{id}/preview",
            get(controls::support_preview),
        )
        .route(
            "/support/integrations/{id}/documents",
            get(documents::support_list),
        )
        .fallback(pages::not_found);
    // The demo's outbox, only when mail goes there (`demo` without SMTP).
    let pages = if state.mailer.outbox().is_some() {
        pages
            .route("/demo/outbox", get(outbox::list))
            .route("/demo/outbox/{id}/{n}", get(outbox::attachment))
    } else {
        pages
    };
    let pages = pages
        .layer(middleware::from_fn_with_state(state.clone(), csrf::verify))
        .layer(sessions.clone());

    // Live progress as Server-Sent Events: responses that last as long as a run, so they are
    // merged after the request timeout below is applied. GET only, so no CSRF check.
    let streams = Router::new()
        .route("/integrations/{id}/progress", get(progress::progress))
        .route(
            "/support/integrations/{id}/progress",
            get(progress::support_progress),
        )
        .layer(sessions);

    let mut app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if state.config.metrics_on_web {
        app = app.route("/metrics", get(health::metrics));
    }
    app.route("/static/{file}", get(assets::serve))
        .merge(pages)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(60),
        ))
        .merge(streams)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|request: &Request| {
                        let request_id = request
                            .headers()
                            .get(REQUEST_ID)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("-");
                        // `tenant` and `staff` are filled in by the sign-in extractors
                        // (`web::extract`) once they know who is asking.
                        tracing::info_span!(
                            "request",
                            method = %request.method(),
                            path = %request.uri().path(),
                            request_id = %request_id,
                            tenant = tracing::field::Empty,
                            staff = tracing::field::Empty,
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    record_metrics,
                ))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    security::headers,
                ))
                .layer(middleware::from_fn(errors::render)),
        )
        .with_state(state)
}

/// Counts requests and their latency by route template.
async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    state
        .metrics
        .http_duration
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    state
        .metrics
        .http_requests
        .get_or_create(&HttpLabels {
            method,
            route,
            status: response.status().as_u16(),
        })
        .inc();
    response
}
