//! Signing in without TrackTik: an invited member opens their single-use link
//! (`/sign-in/link`) or asks for a new one by e-mail (`/sign-in/email`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::extract::{ClientAddr, Form, QueryParams};
use super::members::link_url;
use super::pages::Chrome;
use super::session::{SignedInUser, USER};
use super::{csrf, limit};
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::members::{self, LinkInfo, LinkPurpose, db, mail};
use crate::state::AppState;

/// `/sign-in/link` and `/sign-in/email`.
#[derive(Template, WebTemplate)]
#[template(path = "members/sign_in.html")]
pub struct LinkSignInPage {
    chrome: Chrome,
    /// The link to confirm, when it still works.
    token: Option<String>,
    link: Option<LinkInfo>,
    refusal: Option<&'static str>,
    email: String,
    email_error: Option<&'static str>,
    sent_to: Option<String>,
}

impl LinkSignInPage {
    async fn new(session: &Session) -> AppResult<Self> {
        Ok(Self {
            chrome: Chrome::public(session).await?,
            token: None,
            link: None,
            refusal: None,
            email: String::new(),
            email_error: None,
            sent_to: None,
        })
    }
}

/// The link's secret.
#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// `GET /sign-in/link?token=…`: says whom the link signs in, with one button to do it. (A GET
/// never uses the link: mail scanners that open links would otherwise spend it.)
pub async fn link_form(
    State(state): State<AppState>,
    session: Session,
    QueryParams(q): QueryParams<TokenQuery>,
) -> AppResult<Response> {
    let mut page = LinkSignInPage::new(&session).await?;
    let link = if q.token.trim().is_empty() {
        None
    } else {
        db::find_link(&state.db, &q.token).await?
    };
    let status = match link {
        Some(link) => match link.refusal(chrono::Utc::now()) {
            None => {
                page.token = Some(q.token.trim().to_owned());
                page.link = Some(link);
                StatusCode::OK
            }
            Some(why) => {
                page.refusal = Some(why);
                StatusCode::GONE
            }
        },
        None => {
            page.refusal = Some(
                "This sign-in link is not valid. Check that the whole link was copied, or ask for a new one below.",
            );
            StatusCode::NOT_FOUND
        }
    };
    Ok((status, page).into_response())
}

/// `POST /sign-in/link`: uses the link (once) and signs the member in.
pub async fn use_link(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<TokenQuery>,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let Some(link) = db::use_link(&mut tx, &form.token).await? else {
        drop(tx);
        let mut page = LinkSignInPage::new(&session).await?;
        page.refusal = Some(match db::find_link(&state.db, &form.token).await? {
            Some(l) => l
                .refusal(chrono::Utc::now())
                .unwrap_or("This sign-in link no longer works. Ask for a new one below."),
            None => {
                "This sign-in link is not valid. Check that the whole link was copied, or ask for a new one below."
            }
        });
        return Ok((StatusCode::GONE, page).into_response());
    };
    audit::record(
        &mut *tx,
        Actor::User(link.tenant_user_id, link.display_name.clone()),
        "user.sign_in",
        Some(link.tenant_id),
        serde_json::json!({ "method": "e-mail link", "role": "Accountant" }),
        Some(&addr),
    )
    .await?;
    tx.commit().await?;
    session.cycle_id().await?;
    csrf::rotate(&session).await?;
    session
        .insert(
            USER,
            SignedInUser {
                tenant_id: link.tenant_id,
                user_id: link.tenant_user_id,
            },
        )
        .await?;
    Ok((
        csrf::forget_anonymous_token(&state),
        Redirect::to("/integrations"),
    )
        .into_response())
}

/// `GET /sign-in/email`: ask for a sign-in link.
pub async fn email_form(session: Session) -> AppResult<LinkSignInPage> {
    LinkSignInPage::new(&session).await
}

/// The address to send a link to.
#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

/// `POST /sign-in/email`: mails a link for each company the address is a member of. The answer
/// is the same whether or not it is one, so nobody learns who is a member. Limited per client
/// address like TrackTik sign-ins.
pub async fn request_link(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<EmailForm>,
) -> AppResult<Response> {
    if let Err(wait) = state.limits.sign_in.try_take(&addr) {
        return Ok(limit::too_many(
            wait,
            "Too many sign-ins were started from your network in the last minute.",
        ));
    }
    let mut page = LinkSignInPage::new(&session).await?;
    let email = match members::check_email(&form.email) {
        Ok(e) => e,
        Err(msg) => {
            page.email = form.email;
            page.email_error = Some(msg);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    for (tenant_id, tenant_name, member_id) in db::invited_by_email(&state.db, &email).await? {
        let mut tx = state.db.begin().await?;
        let link = db::issue_link(&mut tx, tenant_id, member_id, LinkPurpose::SignIn).await?;
        audit::record(
            &mut *tx,
            Actor::Anonymous,
            "member.link_requested",
            Some(tenant_id),
            serde_json::json!({ "member": member_id }),
            Some(&addr),
        )
        .await?;
        tx.commit().await?;
        let name = crate::tenants::db::get_user(&state.db, tenant_id, member_id)
            .await?
            .map(|u| u.display_name)
            .unwrap_or_default();
        let message = mail::sign_in_link(
            &email,
            &name,
            &tenant_name,
            &link_url(&state, &link.token),
            link.expires_at,
        );
        crate::notices::deliver(
            &state.db,
            &state.mailer,
            tenant_id,
            None,
            "member_sign_in_link",
            &format!(
                "member_link:{member_id}:{}",
                link.expires_at.timestamp_micros()
            ),
            &message,
        )
        .await
        .map_err(AppError::Internal)?;
    }
    page.sent_to = Some(email);
    Ok(page.into_response())
}
