//! Members: a tenant's administrators invite an accountant or bookkeeper by e-mail, see
//! everyone of the tenant, resend a link and revoke access (`/members`); invited members sign
//! in with a single-use link (`/sign-in/link`) or ask for a new one (`/sign-in/email`).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::dashboard::Flash;
use super::extract::{ClientAddr, CurrentUser, Form, PathParam};
use super::pages::Chrome;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::ids::TenantUserId;
use crate::members::db::InviteError;
use crate::members::{self, LinkPurpose, Member, db, mail};
use crate::state::AppState;
use crate::tenants::Right;

/// The session key of the members page's one-time confirmation.
const FLASH: &str = "members.flash";

/// `/members`.
#[derive(Template, WebTemplate)]
#[template(path = "members/list.html")]
pub struct MembersPage {
    chrome: Chrome,
    members: Vec<MemberLine>,
    flash: Option<Flash>,
    name: String,
    email: String,
    may_activate: bool,
    name_error: Option<&'static str>,
    email_error: Option<String>,
    where_mail_goes: Option<&'static str>,
}

/// One person on the members page.
pub struct MemberLine {
    member: Member,
    invited: String,
    last_sign_in: String,
    link: String,
}

fn line(member: Member, chrome: &Chrome) -> MemberLine {
    let zone = &chrome.zone;
    let invited = match (&member.invited_by_name, member.invited_at) {
        (Some(by), Some(at)) => format!("by {by}, {}", zone.short(at)),
        (None, Some(at)) => zone.short(at),
        _ => String::new(),
    };
    let last_sign_in = member
        .last_signed_in_at
        .map(|t| zone.short(t))
        .unwrap_or_else(|| "Not yet".to_owned());
    let link = match member.link_expires_at {
        Some(t) if t > chrono::Utc::now() => format!("Link valid until {}", zone.short(t)),
        Some(_) => "Link expired: resend it".to_owned(),
        None => String::new(),
    };
    MemberLine {
        member,
        invited,
        last_sign_in,
        link,
    }
}

async fn page(
    state: &AppState,
    session: &Session,
    current: &CurrentUser,
    form: InviteForm,
    name_error: Option<&'static str>,
    email_error: Option<String>,
) -> AppResult<MembersPage> {
    let chrome = Chrome::customer(session, current).await?;
    let members = db::list(&state.db, current.tenant.tenant_id)
        .await?
        .into_iter()
        .map(|m| line(m, &chrome))
        .collect();
    Ok(MembersPage {
        flash: session.remove::<Flash>(FLASH).await?,
        chrome,
        members,
        name: form.name,
        email: form.email,
        may_activate: form.may_activate.is_some(),
        name_error,
        email_error,
        where_mail_goes: (!state.mailer.is_configured()).then_some(if state.mailer.outbox().is_some() {
            "This demo sends no e-mail: invitations appear in its outbox (/demo/outbox)."
        } else {
            "No e-mail server is configured (LEDGERBRIDGE_SMTP_URL), so invitations cannot be delivered yet."
        }),
    })
}

/// `GET /members`: everyone of the tenant, and the invitation form. Administrators only.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
) -> AppResult<MembersPage> {
    current.require(Right::ManageMembers)?;
    page(
        &state,
        &session,
        &current,
        InviteForm::default(),
        None,
        None,
    )
    .await
}

/// The invitation form.
#[derive(Deserialize, Default)]
pub struct InviteForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    may_activate: Option<String>,
}

pub(super) fn link_url(state: &AppState, token: &str) -> String {
    format!("{}/sign-in/link?token={token}", state.config.public_url)
}

fn actor(current: &CurrentUser) -> Actor {
    Actor::User(
        current.user.tenant_user_id,
        current.user.display_name.clone(),
    )
}

async fn flash(session: &Session, ok: bool, message: String) -> AppResult<()> {
    session.insert(FLASH, Flash { ok, message }).await?;
    Ok(())
}

/// Mails a new link to an invited member; says whether it left.
async fn send_link(
    state: &AppState,
    current: &CurrentUser,
    member_id: TenantUserId,
    name: &str,
    email: &str,
) -> AppResult<bool> {
    let tenant_id = current.tenant.tenant_id;
    let mut tx = state.db.begin().await?;
    let link = db::issue_link(&mut tx, tenant_id, member_id, LinkPurpose::Invite).await?;
    tx.commit().await?;
    let message = mail::invitation(
        email,
        name,
        &current.user.display_name,
        &current.tenant.name,
        &link_url(state, &link.token),
        link.expires_at,
    );
    let sent = crate::notices::deliver(
        &state.db,
        &state.mailer,
        tenant_id,
        None,
        "member_invitation",
        &format!(
            "member_link:{member_id}:{}",
            link.expires_at.timestamp_micros()
        ),
        &message,
    )
    .await
    .map_err(AppError::Internal)?;
    Ok(sent && (state.mailer.is_configured() || state.mailer.outbox().is_some()))
}

/// `POST /members`: invites an accountant or bookkeeper and mails their link.
pub async fn invite(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<InviteForm>,
) -> AppResult<Response> {
    current.require(Right::ManageMembers)?;
    let invitation =
        match members::check_invitation(&form.name, &form.email, form.may_activate.is_some()) {
            Ok(i) => i,
            Err(errors) => {
                let page =
                    page(&state, &session, &current, form, errors.name, errors.email).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
            }
        };
    let tenant_id = current.tenant.tenant_id;
    let mut tx = state.db.begin().await?;
    let member = match db::invite(&mut tx, tenant_id, current.user.tenant_user_id, &invitation)
        .await
    {
        Ok(m) => m,
        Err(InviteError::AlreadyMember) => {
            drop(tx);
            let msg = format!(
                "{} is already a member. Use Resend link below to send them a new sign-in link.",
                invitation.email
            );
            let page = page(&state, &session, &current, form, None, Some(msg)).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
        Err(InviteError::Database(e)) => return Err(e.into()),
    };
    audit::record(
        &mut *tx,
        actor(&current),
        "member.invited",
        Some(tenant_id),
        serde_json::json!({ "member": member.tenant_user_id, "name": invitation.name, "email": invitation.email, "may_activate": invitation.may_activate }),
        Some(&addr),
    )
    .await?;
    tx.commit().await?;
    let sent = send_link(
        &state,
        &current,
        member.tenant_user_id,
        &invitation.name,
        &invitation.email,
    )
    .await?;
    let message = if sent {
        format!(
            "Invitation sent to {}. Their link works once, for 7 days.",
            invitation.email
        )
    } else {
        format!(
            "{} was added, but the e-mail could not be sent. Check the e-mail settings, then use Resend link.",
            invitation.name
        )
    };
    flash(&session, sent, message).await?;
    Ok(Redirect::to("/members").into_response())
}

async fn invited(
    state: &AppState,
    current: &CurrentUser,
    id: TenantUserId,
) -> AppResult<(crate::tenants::TenantUser, bool)> {
    current.require(Right::ManageMembers)?;
    db::get_invited(&state.db, current.tenant.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `POST /members/{id}/resend`: a new link (the old one stops working).
pub async fn resend(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<TenantUserId>,
) -> AppResult<Redirect> {
    let (member, revoked) = invited(&state, &current, id).await?;
    if revoked {
        flash(
            &session,
            false,
            format!(
                "{} no longer has access. Invite them again to let them back in.",
                member.display_name
            ),
        )
        .await?;
        return Ok(Redirect::to("/members"));
    }
    let email = member.email.clone().unwrap_or_default();
    let sent = send_link(&state, &current, id, &member.display_name, &email).await?;
    audit::record(
        &state.db,
        actor(&current),
        "member.link_resent",
        Some(current.tenant.tenant_id),
        serde_json::json!({ "member": id, "name": member.display_name }),
        Some(&addr),
    )
    .await?;
    let message = if sent {
        format!("A new link was sent to {email}; the previous one no longer works.")
    } else {
        "The e-mail could not be sent. Check the e-mail settings and try again.".to_owned()
    };
    flash(&session, sent, message).await?;
    Ok(Redirect::to("/members"))
}

/// `POST /members/{id}/revoke`: ends their access at once (their open sessions too).
pub async fn revoke(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<TenantUserId>,
) -> AppResult<Redirect> {
    let (member, _) = invited(&state, &current, id).await?;
    let tenant_id = current.tenant.tenant_id;
    let mut tx = state.db.begin().await?;
    if db::revoke(&mut tx, tenant_id, id, &current.user.display_name).await? {
        audit::record(
            &mut *tx,
            actor(&current),
            "member.revoked",
            Some(tenant_id),
            serde_json::json!({ "member": id, "name": member.display_name }),
            Some(&addr),
        )
        .await?;
    }
    tx.commit().await?;
    flash(
        &session,
        true,
        format!(
            "{} no longer has access. If they were signed in, they are signed out.",
            member.display_name
        ),
    )
    .await?;
    Ok(Redirect::to("/members"))
}

/// The activation switch.
#[derive(Deserialize)]
pub struct ActivationForm {
    #[serde(default)]
    allow: String,
}

/// `POST /members/{id}/activation`: lets an accountant activate, or stops letting them.
pub async fn activation(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<TenantUserId>,
    Form(form): Form<ActivationForm>,
) -> AppResult<Redirect> {
    let (member, _) = invited(&state, &current, id).await?;
    let allow = form.allow == "yes";
    if db::set_may_activate(&state.db, current.tenant.tenant_id, id, allow).await? {
        audit::record(
            &state.db,
            actor(&current),
            if allow {
                "member.activation_allowed"
            } else {
                "member.activation_withdrawn"
            },
            Some(current.tenant.tenant_id),
            serde_json::json!({ "member": id, "name": member.display_name }),
            Some(&addr),
        )
        .await?;
    }
    let message = if allow {
        format!("{} may now activate the integration.", member.display_name)
    } else {
        format!(
            "{} can no longer activate the integration.",
            member.display_name
        )
    };
    flash(&session, true, message).await?;
    Ok(Redirect::to("/members"))
}

impl MembersPage {
    /// Times on this page, e.g. "Tue 8 Dec 2026, 14:05 EST".
    pub fn zone_name(&self) -> &str {
        self.chrome.zone.name()
    }
}
