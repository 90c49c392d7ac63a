//! One error type for the web layer.
//!
//! Handlers return `Result<_, AppError>`. Turning an `AppError` into a response only records
//! what went wrong (a [`ErrorReport`] extension); the `render_errors` middleware in `web/` then
//! renders the askama error page with the request id, and logs internal failures exactly once.
//! People see a sentence that says what to do, never a stack trace or an SQL error.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 404: the page or object does not exist, or belongs to someone else.
    #[error("not found")]
    NotFound,
    /// 403: signed in, but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// 403: signed in, but this person's role does not allow it; the message says who can.
    #[error("not permitted: {0}")]
    NotPermitted(String),
    /// 400: the request itself is malformed; the message says what to fix.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 403: a state-changing request without a valid form token, or from another site.
    #[error("request refused by cross-site request forgery protection: {0}")]
    CsrfRejected(&'static str),
    /// 429: too many attempts; the message says when to try again.
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// 303 to the staff sign-in page.
    #[error("staff sign-in required")]
    StaffSignInRequired,
    /// 303 to the home page, where customers sign in with TrackTik.
    #[error("sign-in required")]
    SignInRequired,
    /// 500: anything unexpected. Logged once with its cause chain; never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(e: tower_sessions::session::Error) -> Self {
        Self::Internal(e.into())
    }
}

/// What the error page shows, carried from the handler to the rendering middleware.
#[derive(Clone, Debug)]
pub struct ErrorReport {
    /// The HTTP status.
    pub status: StatusCode,
    /// A short heading.
    pub title: &'static str,
    /// What happened and what to do, in words for people.
    pub message: String,
    /// For internal errors only: the cause chain, for the log.
    pub internal: Option<String>,
}

impl AppError {
    fn report(&self) -> ErrorReport {
        let (status, title, message) = match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing here. Check the address, or go back to the page you came from."
                    .to_owned(),
            ),
            Self::Forbidden => (
                StatusCode::FORBIDDEN,
                "Not allowed",
                "Your account cannot open this page.".to_owned(),
            ),
            Self::NotPermitted(msg) => (StatusCode::FORBIDDEN, "Not allowed", msg.clone()),
            Self::BadRequest(msg) => (StatusCode::BAD_REQUEST, "Something is wrong with that request", msg.clone()),
            Self::CsrfRejected(_) => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "For your security we could not accept that submission. Go back, reload the page and try again."
                    .to_owned(),
            ),
            Self::TooManyRequests(msg) => (StatusCode::TOO_MANY_REQUESTS, "Too many attempts", msg.clone()),
            Self::StaffSignInRequired | Self::SignInRequired => (
                StatusCode::SEE_OTHER,
                "Sign in required",
                "Sign in to continue.".to_owned(),
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side",
                "We could not finish that. Nothing you entered was lost. Try again in a minute; if it keeps happening, contact support and quote the reference below."
                    .to_owned(),
            ),
        };
        let internal = match self {
            Self::Internal(e) => Some(format!("{e:#}")),
            Self::CsrfRejected(why) => Some((*why).to_owned()),
            _ => None,
        };
        ErrorReport {
            status,
            title,
            message,
            internal,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            Self::StaffSignInRequired => return Redirect::to("/staff/sign-in").into_response(),
            Self::SignInRequired => return Redirect::to("/").into_response(),
            _ => {}
        }
        let report = self.report();
        let mut response = (
            report.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            report.message.clone(),
        )
            .into_response();
        response.extensions_mut().insert(report);
        response
    }
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;
