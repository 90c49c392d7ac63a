//! Route layers for customers' state-changing routes: only people whose role allows the route's
//! [`Right`] reach them ([`require_right`]), and manual runs are limited per tenant
//! ([`manual_runs`]). Applied in `web::mod` to each such route, so the handlers stay as they
//! are; also the "too many" answer every limit gives.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::extract::refusal;
use super::session::{SignedInUser, USER};
use crate::error::AppError;
use crate::state::AppState;
use crate::tenants::Right;

/// A 429 page saying `message` and when to try again, with `Retry-After`.
pub fn too_many(wait: Duration, message: &str) -> Response {
    let seconds = wait.as_secs().max(1);
    let when = if seconds < 90 {
        format!("{seconds} seconds")
    } else {
        format!("{} minutes", seconds.div_ceil(60))
    };
    let mut response =
        AppError::TooManyRequests(format!("{message} Try again in {when}.")).into_response();
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(&seconds.to_string()).expect("digits are a valid header"),
    );
    response
}

/// Who is signed in, from the request's session. (The session is taken out of the request
/// first: a request is not `Sync`, so no reference to it may be held across an await.)
async fn signed_in(session: Option<Session>) -> Result<Option<SignedInUser>, AppError> {
    match session {
        Some(session) => Ok(session.get::<SignedInUser>(USER).await?),
        None => Ok(None),
    }
}

fn session_of(request: &Request) -> Option<Session> {
    request.extensions().get::<Session>().cloned()
}

/// Lets through only customers whose role allows `right`; others get a 403 that says who can.
/// Visitors who are not signed in pass on, to be sent to sign in by the handler.
pub async fn require_right(
    State((state, right)): State<(AppState, Right)>,
    request: Request,
    next: Next,
) -> Response {
    let who = signed_in(session_of(&request));
    let check = async {
        if let Some(who) = who.await? {
            let user = crate::tenants::db::get_user(&state.db, who.tenant_id, who.user_id).await?;
            if let Some(user) = user.filter(|u| !u.may(right)) {
                return Err(AppError::NotPermitted(refusal(user.role, right).into()));
            }
        }
        Ok(())
    };
    match check.await {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

/// Counts a manual run (Sync now, Retry, Back-sync) against the tenant's hourly allowance
/// (`LEDGERBRIDGE_MANUAL_RUNS_PER_HOUR`); beyond it, a 429 that says when to try again.
pub async fn manual_runs(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match signed_in(session_of(&request)).await {
        Ok(Some(who)) => {
            if let Err(wait) = state.limits.manual_runs.try_take(&who.tenant_id) {
                return too_many(
                    wait,
                    "Your company has started many syncs in the last hour; the nightly sync still runs as scheduled.",
                );
            }
            next.run(request).await
        }
        Ok(None) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}
