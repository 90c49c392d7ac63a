//! The browser half of the authorization-code flow: a portal-style sign-in form, then an
//! Allow / Deny page, then a redirect with `code` (or `error=access_denied`) and `state`.
//! No cookies: the OAuth parameters ride in hidden fields, the consent page in a one-time ticket.

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::{AuthCode, CODE_TTL_SECS, Users, random_hex};
use crate::sandbox::tracktik::server::Shared;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
}

#[derive(Deserialize)]
pub struct SignIn {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct Decision {
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    decision: String,
}

/// A signed-in user waiting on the Allow page.
#[derive(Clone, Debug)]
pub struct Ticket {
    params: AuthorizeParams,
    user: i64,
    expires: DateTime<Utc>,
}

#[derive(Template)]
#[template(path = "sandbox/tracktik/sign_in.html")]
struct SignInPage<'a> {
    portal: &'a str,
    p: &'a AuthorizeParams,
    username: &'a str,
    error: &'a str,
}

#[derive(Template)]
#[template(path = "sandbox/tracktik/allow.html")]
struct AllowPage<'a> {
    portal: &'a str,
    client_id: &'a str,
    user_name: &'a str,
    ticket: &'a str,
}

#[derive(Template)]
#[template(path = "sandbox/tracktik/error.html")]
struct ErrorPage<'a> {
    portal: &'a str,
    message: &'a str,
}

fn page(status: StatusCode, html: askama::Result<String>) -> Response {
    match html {
        Ok(body) => (status, Html(body)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn error_page(shared: &Shared, status: StatusCode, message: &str) -> Response {
    let portal = shared.portal().name.clone();
    page(
        status,
        ErrorPage {
            portal: &portal,
            message,
        }
        .render(),
    )
}

fn redirect(uri: &str, pairs: &[(&str, &str)]) -> Response {
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    let sep = if uri.contains('?') { '&' } else { '?' };
    let location = format!("{uri}{sep}{query}");
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// Checks client and redirect URI; errors here are shown, never redirected.
fn check(shared: &Shared, p: &AuthorizeParams) -> Result<(), Box<Response>> {
    let problem = {
        let auth = shared.auth_peek();
        match auth.clients.get(&p.client_id) {
            None => Some("Unknown client_id."),
            Some(c) if !c.allows_redirect(&p.redirect_uri) => {
                Some("The redirect_uri is not registered for this client.")
            }
            Some(_) => None,
        }
    };
    if let Some(message) = problem {
        return Err(Box::new(error_page(
            shared,
            StatusCode::BAD_REQUEST,
            message,
        )));
    }
    if p.response_type != "code" {
        let pairs = [
            ("error", "unsupported_response_type"),
            ("state", p.state.as_str()),
        ];
        return Err(Box::new(redirect(&p.redirect_uri, &pairs)));
    }
    if !p.code_challenge.is_empty()
        && !matches!(p.code_challenge_method.as_str(), "S256" | "plain" | "")
    {
        let pairs = [
            ("error", "invalid_request"),
            (
                "error_description",
                "code_challenge_method must be S256 or plain",
            ),
            ("state", p.state.as_str()),
        ];
        return Err(Box::new(redirect(&p.redirect_uri, &pairs)));
    }
    Ok(())
}

pub async fn authorize_form(
    State(shared): State<Arc<Shared>>,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    if let Err(r) = check(&shared, &p) {
        return *r;
    }
    let portal = shared.portal().name.clone();
    page(
        StatusCode::OK,
        SignInPage {
            portal: &portal,
            p: &p,
            username: "",
            error: "",
        }
        .render(),
    )
}

pub async fn sign_in(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Form(form): Form<SignIn>,
) -> Response {
    let p = form.params;
    if let Err(r) = check(&shared, &p) {
        return *r;
    }
    let (portal, users) = {
        let p = shared.portal();
        (p.name.clone(), Users::of(&p))
    };
    let now = shared.now();
    let mut auth = shared.auth();
    if let Some(until) = auth.locked(addr.ip(), now) {
        drop(auth);
        let msg = format!(
            "Too many failed sign-in attempts. Sign-in is blocked until {}.",
            until.format("%Y-%m-%d %H:%M UTC")
        );
        let html = SignInPage {
            portal: &portal,
            p: &p,
            username: &form.username,
            error: &msg,
        }
        .render();
        return page(StatusCode::TOO_MANY_REQUESTS, html);
    }
    let Some(user) = users.check(&form.username, &form.password) else {
        auth.fail(addr.ip(), now);
        drop(auth);
        let msg = "Invalid username or password.";
        let html = SignInPage {
            portal: &portal,
            p: &p,
            username: &form.username,
            error: msg,
        }
        .render();
        return page(StatusCode::UNAUTHORIZED, html);
    };
    let ticket = random_hex(24);
    auth.tickets.retain(|_, t| t.expires > now);
    auth.tickets.insert(
        ticket.clone(),
        Ticket {
            params: p.clone(),
            user,
            expires: now + Duration::seconds(CODE_TTL_SECS),
        },
    );
    drop(auth);
    let user_name = shared
        .portal()
        .get("employees", user)
        .and_then(|e| e.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or("Portal user")
        .to_owned();
    let html = AllowPage {
        portal: &portal,
        client_id: &p.client_id,
        user_name: &user_name,
        ticket: &ticket,
    }
    .render();
    page(StatusCode::OK, html)
}

pub async fn decision(State(shared): State<Arc<Shared>>, Form(form): Form<Decision>) -> Response {
    let now = shared.now();
    let mut auth = shared.auth();
    let Some(t) = auth
        .tickets
        .remove(&form.ticket)
        .filter(|t| t.expires > now)
    else {
        drop(auth);
        return error_page(
            &shared,
            StatusCode::BAD_REQUEST,
            "This sign-in has expired. Start again from the application.",
        );
    };
    let p = t.params;
    if form.decision != "allow" {
        return redirect(
            &p.redirect_uri,
            &[
                ("error", "access_denied"),
                (
                    "error_description",
                    "The resource owner denied the request.",
                ),
                ("state", &p.state),
            ],
        );
    }
    let code = format!("def50200{}", random_hex(48));
    let challenge = (!p.code_challenge.is_empty()).then(|| {
        let method = if p.code_challenge_method.is_empty() {
            "plain"
        } else {
            &p.code_challenge_method
        };
        (p.code_challenge.clone(), method.to_owned())
    });
    auth.codes.retain(|_, c| c.expires > now);
    auth.codes.insert(
        code.clone(),
        AuthCode {
            client_id: p.client_id.clone(),
            redirect_uri: p.redirect_uri.clone(),
            user: t.user,
            challenge,
            expires: now + Duration::seconds(CODE_TTL_SECS),
        },
    );
    let _ = &p.scope;
    redirect(&p.redirect_uri, &[("code", &code), ("state", &p.state)])
}
