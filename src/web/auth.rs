//! Customer sign-in with TrackTik (OAuth code flow with PKCE, state bound to the session),
//! and sign-out.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;
use serde::Deserialize;
use tower_sessions::Session;

use super::extract::{ClientAddr, Form, QueryParams};
use super::pages::{Chrome, LandingPage};
use super::session::{OAUTH_TRACKTIK, PendingTrackTik, SignedInUser, USER};
use super::{csrf, limit};
use crate::connections::signin::{self, FlowError};
use crate::error::AppResult;
use crate::providers::tracktik::Portal;
use crate::state::AppState;
use crate::tenants;

/// A page explaining why a sign-in or connect did not finish, with the way forward.
#[derive(Template, WebTemplate)]
#[template(path = "auth/problem.html")]
pub struct ProblemPage {
    pub(super) chrome: Chrome,
    pub(super) title: String,
    pub(super) message: String,
    pub(super) action_label: &'static str,
    pub(super) action_href: String,
}

/// The landing page's form.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    portal: String,
}

/// `POST /sign-in`: checks the portal address and sends the browser to TrackTik. Limited per
/// client address (`LEDGERBRIDGE_SIGN_IN_PER_MINUTE`).
pub async fn sign_in(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<SignInForm>,
) -> AppResult<Response> {
    if let Err(wait) = state.limits.sign_in.try_take(&addr) {
        return Ok(limit::too_many(
            wait,
            "Too many sign-ins were started from your network in the last minute.",
        ));
    }
    let address = match tenants::portal::parse(&form.portal, &state.portal_guard) {
        Ok(address) => address,
        Err(message) => {
            let page = LandingPage {
                chrome: Chrome::public(&session).await?,
                portal: form.portal,
                portal_error: Some(message),
                demo: state.config.demo.clone(),
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let portal = Portal::new(&address.origin)
        .map_err(|e| anyhow::anyhow!("a validated portal origin was refused: {e}"))?;
    let request = state
        .providers
        .tracktik
        .authorize_url(&portal, &state.providers.tracktik_app, &[])
        .map_err(|e| anyhow::anyhow!("building the TrackTik authorize URL failed: {e}"))?;
    session
        .insert(
            OAUTH_TRACKTIK,
            PendingTrackTik {
                state: request.state,
                verifier: secrecy::ExposeSecret::expose_secret(&request.pkce_verifier).to_owned(),
                portal: address.origin,
                portal_key: address.key,
            },
        )
        .await?;
    Ok(Redirect::to(request.url.as_str()).into_response())
}

/// What TrackTik sends back.
#[derive(Deserialize)]
pub struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/tracktik/callback`.
pub async fn tracktik_callback(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    QueryParams(callback): QueryParams<Callback>,
) -> AppResult<Response> {
    // The pending flow is used once, whatever happens next.
    let pending = session.remove::<PendingTrackTik>(OAUTH_TRACKTIK).await?;
    let Some(pending) = pending.filter(|p| callback.state.as_deref() == Some(p.state.as_str()))
    else {
        return problem(
            &session,
            StatusCode::BAD_REQUEST,
            "This sign-in link is not valid any more",
            "It was already used, it expired, or it was opened in another browser. Nothing was changed. Start again from the home page.",
        )
        .await;
    };
    if let Some(error) = callback.error {
        let message = if error == "access_denied" {
            "You chose not to allow Ledgerbridge to read your TrackTik portal, so nothing was set up. To continue, sign in again and click Allow."
        } else {
            "TrackTik did not complete the sign-in. Nothing was set up. Try again; if it keeps happening, contact support."
        };
        return problem(
            &session,
            StatusCode::OK,
            "Sign-in was not completed",
            message,
        )
        .await;
    }
    let Some(code) = callback.code else {
        return problem(
            &session,
            StatusCode::BAD_REQUEST,
            "Sign-in was not completed",
            "TrackTik sent no authorization code. Start again from the home page.",
        )
        .await;
    };
    let portal =
        Portal::new(&pending.portal).map_err(|e| anyhow::anyhow!("stored portal refused: {e}"))?;
    let verifier = SecretString::from(pending.verifier);
    let typed_key = match pending.portal_key.as_str() {
        // A sign-in started before the key was kept: work it out again.
        "" => tenants::portal::parse(&pending.portal, &state.portal_guard)
            .map(|a| a.key)
            .unwrap_or_else(|_| pending.portal.clone()),
        key => key.to_owned(),
    };
    match signin::complete_tracktik_sign_in(&state, &portal, &typed_key, &code, &verifier, &addr).await {
        Ok((tenant, user)) => {
            // A new session id and a new form token at sign-in: neither a planted id nor a
            // token seen before signing in is worth anything after.
            session.cycle_id().await?;
            csrf::rotate(&session).await?;
            session.insert(USER, SignedInUser { tenant_id: tenant.tenant_id, user_id: user.tenant_user_id }).await?;
            Ok((csrf::forget_anonymous_token(&state), Redirect::to("/integrations")).into_response())
        }
        Err(FlowError::NotAnAdministrator) => {
            problem(
                &session,
                StatusCode::FORBIDDEN,
                "Ask a portal administrator to set up Ledgerbridge first",
                "Only a TrackTik portal administrator can connect your portal to Ledgerbridge. Once one has signed in, you can sign in here to see your integrations. Nothing was set up.",
            )
            .await
        }
        Err(FlowError::PortalRefused(reason)) => {
            tracing::warn!(portal = %pending.portal, reason = %reason, "TrackTik sign-in refused by the portal guard");
            problem(
                &session,
                StatusCode::BAD_REQUEST,
                "We do not connect to that address",
                "That portal address does not lead to a TrackTik server we can use, so nothing was sent to it and nothing was set up. Check the address you use for TrackTik and start again.",
            )
            .await
        }
        Err(FlowError::CodeRefused(_)) => {
            problem(
                &session,
                StatusCode::BAD_REQUEST,
                "This sign-in was already used",
                "TrackTik refused the sign-in code: it was used before or has expired. Nothing was changed. Start again from the home page.",
            )
            .await
        }
        Err(FlowError::Provider(e)) => {
            tracing::warn!(portal = %pending.portal, error = %e, "TrackTik sign-in failed");
            problem(
                &session,
                StatusCode::BAD_GATEWAY,
                "We could not reach your TrackTik portal",
                "Your portal did not answer as expected, so nothing was set up. Check the address and try again in a few minutes.",
            )
            .await
        }
        Err(e) => Err(anyhow::anyhow!(e).into()),
    }
}

async fn problem(
    session: &Session,
    status: StatusCode,
    title: &str,
    message: &str,
) -> AppResult<Response> {
    let page = ProblemPage {
        chrome: Chrome::public(session).await?,
        title: title.to_owned(),
        message: message.to_owned(),
        action_label: "Start again",
        action_href: "/".into(),
    };
    Ok((status, page).into_response())
}

/// `POST /sign-out`.
pub async fn sign_out(session: Session) -> AppResult<Redirect> {
    session.flush().await?;
    Ok(Redirect::to("/"))
}
