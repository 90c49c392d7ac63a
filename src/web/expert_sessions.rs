//! An expert session's own page: its details, the expert's notes afterwards, and while it is to
//! come, Move and Cancel, for the signed-in customer or whoever holds the e-mail's link
//! (`/sessions/manage?token=…`, no sign-in needed).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::expert_booking::{DayView, day_views};
use super::extract::{ClientAddr, CurrentUser, Form, PathParam, QueryParams};
use super::pages::Chrome;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::experts;
use crate::experts::booking::{self, BookError};
use crate::experts::db;
use crate::experts::mail::{Event, notify};
use crate::ids::IntegrationId;
use crate::state::AppState;
use crate::tenants::Right;

/// One session: its details, the expert's notes, and (while it is to come) Move and Cancel.
#[derive(Template, WebTemplate)]
#[template(path = "experts/session.html")]
pub struct SessionPage {
    chrome: Chrome,
    s: experts::Session,
    when: String,
    zone: String,
    /// Where Move and Cancel post (`/integrations/{id}/sessions/{sid}` or `/sessions/manage`).
    action: String,
    /// The e-mail link's secret, when opened from it.
    token: Option<String>,
    can_manage: bool,
    days: Vec<DayView>,
    back_href: Option<String>,
    flash: Option<String>,
}

async fn session_page(
    state: &AppState,
    chrome: Chrome,
    s: experts::Session,
    action: String,
    token: Option<String>,
    can_manage: bool,
    back_href: Option<String>,
) -> AppResult<SessionPage> {
    let zone = s.zone();
    let start = s.starts_at.with_timezone(&zone);
    let when = format!(
        "{} to {}",
        start.format("%A %-d %B %Y, %H:%M"),
        s.ends_at.with_timezone(&zone).format("%H:%M %Z")
    );
    let manage = can_manage && s.upcoming(Utc::now());
    let days = if manage {
        day_views(&booking::open_slots(&state.db, Utc::now()).await?, zone)
    } else {
        Vec::new()
    };
    Ok(SessionPage {
        chrome,
        when,
        zone: zone.name().to_owned(),
        action,
        token,
        can_manage: manage,
        days,
        back_href,
        flash: None,
        s,
    })
}

/// `GET /integrations/{id}/sessions/{sid}`.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    PathParam((id, sid)): PathParam<(IntegrationId, Uuid)>,
) -> AppResult<SessionPage> {
    let s = db::get(&state.db, current.tenant.tenant_id, sid)
        .await?
        .filter(|s| s.integration_id == id)
        .ok_or(AppError::NotFound)?;
    let chrome = Chrome::customer(&session, &current).await?;
    let mut page = session_page(
        &state,
        chrome,
        s,
        format!("/integrations/{id}/sessions/{sid}"),
        None,
        current.user.may(Right::BookExpert),
        Some(format!("/integrations/{id}")),
    )
    .await?;
    page.flash = session.remove::<String>(FLASH).await?;
    Ok(page)
}

const FLASH: &str = "experts.flash";

/// The link's secret.
#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// `GET /sessions/manage?token=…`: the session from the e-mail's link, no sign-in needed.
pub async fn manage(
    State(state): State<AppState>,
    session: Session,
    QueryParams(q): QueryParams<TokenQuery>,
) -> AppResult<SessionPage> {
    let s = db::get_by_token(&state.db, &q.token)
        .await?
        .ok_or(AppError::NotFound)?;
    let chrome = Chrome::public(&session).await?;
    let mut page = session_page(
        &state,
        chrome,
        s,
        "/sessions/manage".into(),
        Some(q.token.trim().to_owned()),
        true,
        None,
    )
    .await?;
    page.flash = session.remove::<String>(FLASH).await?;
    Ok(page)
}

/// Move or cancel, as posted.
#[derive(Deserialize, Default)]
pub struct ChangeForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    slot: String,
}

/// Who is changing a session: the signed-in customer, or whoever holds the e-mail's link.
struct By {
    actor: Actor,
    name: String,
}

/// What is asked: cancel, or move to the slot named in the form.
enum Change {
    Cancel,
    Move(String),
}

async fn change(
    state: &AppState,
    session: &Session,
    by: By,
    addr: &str,
    s: experts::Session,
    what: Change,
    back: String,
) -> AppResult<Response> {
    let By { actor, name } = by;
    let cancel = matches!(what, Change::Cancel);
    let (event, result) = if cancel {
        let done = db::cancel(&state.db, s.tenant_id, s.expert_session_id, &name).await?;
        (
            Event::Cancelled,
            if done {
                Ok(())
            } else {
                Err(BookError::NotBooked)
            },
        )
    } else {
        let Change::Move(slot) = what else {
            return Err(AppError::NotFound);
        };
        let Some((at, minutes)) = experts::parse_slot_key(&slot) else {
            return Err(AppError::BadRequest(
                "Choose the new time for the session.".into(),
            ));
        };
        (
            Event::Rescheduled,
            booking::reschedule(&state.db, s.tenant_id, s.expert_session_id, at, minutes)
                .await
                .map(|_| ()),
        )
    };
    let message = match result {
        Ok(()) => {
            let fresh = db::get(&state.db, s.tenant_id, s.expert_session_id)
                .await?
                .ok_or(AppError::NotFound)?;
            audit::record(&state.db, actor, if cancel { "expert_session.cancelled" } else { "expert_session.rescheduled" }, Some(s.tenant_id),
                serde_json::json!({ "integration": s.integration_id, "session": s.expert_session_id, "starts_at": fresh.starts_at }), Some(addr)).await?;
            notify(
                &state.db,
                &state.mailer,
                &state.config.public_url,
                &fresh,
                event,
            )
            .await
            .map_err(AppError::Internal)?;
            if cancel {
                "The session is cancelled; the expert was told.".to_owned()
            } else {
                "The session was moved; both of you received the new invitation.".to_owned()
            }
        }
        Err(BookError::Taken) => {
            "That time was just taken by someone else. Choose another time.".to_owned()
        }
        Err(BookError::NotBooked) => {
            "This session is not booked any more, so it cannot be changed.".to_owned()
        }
        Err(BookError::Database(e)) => return Err(e.into()),
    };
    session.insert(FLASH, message).await?;
    Ok(Redirect::to(&back).into_response())
}

fn change_of(what: &str, form: ChangeForm) -> AppResult<Change> {
    match what {
        "cancel" => Ok(Change::Cancel),
        "reschedule" => Ok(Change::Move(form.slot)),
        _ => Err(AppError::NotFound),
    }
}

/// `POST /integrations/{id}/sessions/{sid}/cancel` and `…/reschedule`.
pub async fn change_signed_in(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam((id, sid, what)): PathParam<(IntegrationId, Uuid, String)>,
    Form(form): Form<ChangeForm>,
) -> AppResult<Response> {
    current.require(Right::BookExpert)?;
    let s = db::get(&state.db, current.tenant.tenant_id, sid)
        .await?
        .filter(|s| s.integration_id == id)
        .ok_or(AppError::NotFound)?;
    let by = By {
        actor: Actor::User(
            current.user.tenant_user_id,
            current.user.display_name.clone(),
        ),
        name: current.user.display_name.clone(),
    };
    let back = format!("/integrations/{id}/sessions/{sid}");
    change(
        &state,
        &session,
        by,
        &addr,
        s,
        change_of(&what, form)?,
        back,
    )
    .await
}

/// `POST /sessions/manage/cancel` and `…/reschedule`, with the e-mail link's secret.
pub async fn change_with_link(
    State(state): State<AppState>,
    session: Session,
    ClientAddr(addr): ClientAddr,
    PathParam(what): PathParam<String>,
    Form(form): Form<ChangeForm>,
) -> AppResult<Response> {
    let s = db::get_by_token(&state.db, &form.token)
        .await?
        .ok_or(AppError::NotFound)?;
    let back = format!("/sessions/manage?token={}", form.token.trim());
    let by = By {
        actor: Actor::Anonymous,
        name: s.booked_by_name.clone(),
    };
    change(
        &state,
        &session,
        by,
        &addr,
        s,
        change_of(&what, form)?,
        back,
    )
    .await
}
