//! Staff sign-in and sign-out.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::csrf;
use super::extract::{ClientAddr, Form};
use super::pages::Chrome;
use super::session::STAFF_USER_ID;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::staff::{self, SignInError, SignInPolicy};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "staff/sign_in.html")]
pub struct SignInPage {
    chrome: Chrome,
    email: String,
    error: Option<String>,
    email_error: Option<&'static str>,
    password_error: Option<&'static str>,
}

/// `GET /staff/sign-in`.
pub async fn sign_in_form(session: Session) -> AppResult<Response> {
    if session
        .get::<crate::ids::StaffUserId>(STAFF_USER_ID)
        .await?
        .is_some()
    {
        return Ok(Redirect::to("/support").into_response());
    }
    Ok(SignInPage {
        chrome: Chrome::public(&session).await?,
        email: String::new(),
        error: None,
        email_error: None,
        password_error: None,
    }
    .into_response())
}

/// The sign-in form as posted.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /staff/sign-in`: checks the credentials, cycles the session id, goes to the console.
pub async fn sign_in(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<SignInForm>,
) -> AppResult<Response> {
    let email_error = form
        .email
        .trim()
        .is_empty()
        .then_some("Enter your work email address.");
    let password_error = form.password.is_empty().then_some("Enter your password.");
    if email_error.is_some() || password_error.is_some() {
        return page_with_error(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            form.email,
            None,
            email_error,
            password_error,
        )
        .await;
    }

    let policy = SignInPolicy {
        max_failures: state.config.staff_max_failures,
        max_wait_minutes: state.config.staff_lockout_minutes,
    };
    let outcome = staff::sign_in(
        &state.db,
        policy,
        &state.limits.staff_hashing,
        &form.email,
        &form.password,
        &addr,
    )
    .await;
    let label = match &outcome {
        Ok(_) => "success",
        Err(SignInError::BadCredentials) => "failure",
        Err(SignInError::TryLater { .. }) => "locked_out",
        Err(SignInError::Busy) => "busy",
        Err(SignInError::Internal(_)) => "error",
    };
    state
        .metrics
        .staff_sign_ins
        .get_or_create(&crate::metrics::OutcomeLabels {
            outcome: label.to_owned(),
        })
        .inc();

    match outcome {
        Ok(user) => {
            // A new session id and form token at sign-in, so a planted id or a token seen
            // before is worthless.
            session.cycle_id().await?;
            csrf::rotate(&session).await?;
            session.insert(STAFF_USER_ID, user.staff_user_id).await?;
            Ok((
                csrf::forget_anonymous_token(&state),
                Redirect::to("/support"),
            )
                .into_response())
        }
        Err(SignInError::BadCredentials) => page_with_error(
            &session,
            StatusCode::UNAUTHORIZED,
            form.email,
            Some(
                "That email and password do not match a staff account. Check both and try again."
                    .into(),
            ),
            None,
            None,
        )
        .await,
        Err(SignInError::TryLater { seconds }) => {
            let when = if seconds < 90 {
                format!("{seconds} seconds")
            } else {
                format!("{} minutes", (seconds + 59) / 60)
            };
            let mut response = page_with_error(
                &session,
                StatusCode::TOO_MANY_REQUESTS,
                form.email,
                Some(format!(
                    "Too many failed sign-ins. For your security, wait {when} before trying again."
                )),
                None,
                None,
            )
            .await?;
            response.headers_mut().insert(
                "retry-after",
                seconds
                    .to_string()
                    .parse()
                    .expect("digits are a valid header"),
            );
            Ok(response)
        }
        Err(SignInError::Busy) => {
            let mut response = page_with_error(
                &session,
                StatusCode::TOO_MANY_REQUESTS,
                form.email,
                Some(
                    "Too many sign-ins are being checked right now. Try again in a moment.".into(),
                ),
                None,
                None,
            )
            .await?;
            response
                .headers_mut()
                .insert("retry-after", axum::http::HeaderValue::from_static("2"));
            Ok(response)
        }
        Err(SignInError::Internal(e)) => Err(AppError::Internal(e)),
    }
}

async fn page_with_error(
    session: &Session,
    status: StatusCode,
    email: String,
    error: Option<String>,
    email_error: Option<&'static str>,
    password_error: Option<&'static str>,
) -> AppResult<Response> {
    let page = SignInPage {
        chrome: Chrome::public(session).await?,
        email,
        error,
        email_error,
        password_error,
    };
    Ok((status, page).into_response())
}

/// `POST /staff/sign-out`.
pub async fn sign_out(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
) -> AppResult<Redirect> {
    let id = session
        .get::<crate::ids::StaffUserId>(STAFF_USER_ID)
        .await?;
    let user = match id {
        Some(id) => staff::db::get(&state.db, id).await?,
        None => None,
    };
    if let Some(user) = user {
        audit::record(
            &state.db,
            Actor::Staff(user.staff_user_id, user.email.clone()),
            "staff.sign_out",
            None,
            serde_json::json!({}),
            Some(&addr),
        )
        .await?;
    }
    session.flush().await?;
    Ok(Redirect::to("/staff/sign-in"))
}
