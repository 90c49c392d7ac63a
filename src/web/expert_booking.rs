//! "Talk to an expert": the customer picks a free slot, shown in their zone, says how to meet
//! and what they need help with, and gets the e-mail with the invitation. The session's own
//! page is `expert_sessions`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use chrono_tz::Tz;
use serde::Deserialize;
use tower_sessions::Session;

use super::extract::{ClientAddr, CurrentUser, Form, PathParam, QueryParams};
use super::pages::Chrome;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::experts::booking::{self, BookError};
use crate::experts::db::{self, Booker};
use crate::experts::mail::{Event, notify};
use crate::experts::{self, BookingErrors, Slot};
use crate::ids::IntegrationId;
use crate::state::AppState;
use crate::tenants::Right;
use crate::wizard::Step;

/// Free slots of one local day.
pub struct DayView {
    /// e.g. "Wednesday 9 December".
    pub label: String,
    /// (form value, "09:00–09:30").
    pub slots: Vec<(String, String)>,
}

/// Groups slots by local day in `zone`.
pub fn day_views(slots: &[Slot], zone: Tz) -> Vec<DayView> {
    let mut days: Vec<DayView> = Vec::new();
    for s in slots {
        let start = s.starts_at.with_timezone(&zone);
        let label = start.format("%A %-d %B").to_string();
        let time = format!(
            "{}–{}",
            start.format("%H:%M"),
            s.ends_at().with_timezone(&zone).format("%H:%M")
        );
        match days.last_mut() {
            Some(d) if d.label == label => d.slots.push((s.key(), time)),
            _ => days.push(DayView {
                label,
                slots: vec![(s.key(), time)],
            }),
        }
    }
    days
}

/// The booking page.
#[derive(Template, WebTemplate)]
#[template(path = "experts/book.html")]
pub struct BookPage {
    chrome: Chrome,
    id: String,
    company_name: String,
    back_href: String,
    back_label: &'static str,
    zone: String,
    zones: Vec<&'static str>,
    days: Vec<DayView>,
    form: BookForm,
    errors: BookingErrors,
    sessions: Vec<experts::Session>,
    can_invite: bool,
}

/// The form, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct BookForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    zone: String,
    #[serde(default)]
    slot: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    email: String,
}

fn zone_of(name: &str, fallback: &Chrome) -> Tz {
    name.trim().parse().unwrap_or(fallback.zone.0)
}

async fn book_page(
    state: &AppState,
    session: &Session,
    current: &CurrentUser,
    id: IntegrationId,
    form: BookForm,
    errors: BookingErrors,
) -> AppResult<BookPage> {
    let tenant_id = current.tenant.tenant_id;
    let draft = crate::wizard::db::get(&state.db, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let chrome = Chrome::customer(session, current).await?;
    let zone = zone_of(&form.zone, &chrome);
    let slots = booking::open_slots(&state.db, Utc::now()).await?;
    let (back_href, back_label) = match Step::from_slug(&form.from) {
        Some(step) => (
            format!("/integrations/{id}/setup/{}", step.slug()),
            step.label(),
        ),
        None => (format!("/integrations/{id}"), "the dashboard"),
    };
    Ok(BookPage {
        id: id.to_string(),
        company_name: draft.company_name,
        back_href,
        back_label,
        zone: zone.name().to_owned(),
        zones: super::time::zone_names(),
        days: day_views(&slots, zone),
        sessions: db::list_for_integration(&state.db, tenant_id, id).await?,
        can_invite: current.user.may(Right::ManageMembers),
        form: BookForm {
            email: if form.email.is_empty() {
                current.user.email.clone().unwrap_or_default()
            } else {
                form.email
            },
            ..form
        },
        errors,
        chrome,
    })
}

/// `GET /integrations/{id}/expert?from=billing&zone=America/Toronto`.
pub async fn book_form(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    PathParam(id): PathParam<IntegrationId>,
    QueryParams(form): QueryParams<BookForm>,
) -> AppResult<BookPage> {
    let form = BookForm {
        slot: String::new(),
        ..form
    };
    book_page(
        &state,
        &session,
        &current,
        id,
        form,
        BookingErrors::default(),
    )
    .await
}

/// `POST /integrations/{id}/expert`: books the slot and mails both sides.
pub async fn book(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<IntegrationId>,
    Form(form): Form<BookForm>,
) -> AppResult<Response> {
    current.require(Right::BookExpert)?;
    let tenant_id = current.tenant.tenant_id;
    crate::integrations::db::get(&state.db, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let zone: Tz = form.zone.trim().parse().unwrap_or(Tz::UTC);
    let checked = experts::check_booking(
        &form.slot,
        zone,
        &form.contact,
        &form.phone,
        &form.topic,
        &form.email,
    );
    let booking = match checked {
        Ok(b) => b,
        Err(errors) => {
            let page = book_page(&state, &session, &current, id, form, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let booker = Booker {
        user: Some(current.user.tenant_user_id),
        name: &current.user.display_name,
    };
    let booked = match booking::book(&state.db, tenant_id, id, &booking, &booker).await {
        Ok(s) => s,
        Err(BookError::Taken | BookError::NotBooked) => {
            let errors = BookingErrors {
                slot: Some("That time was just taken by someone else. Choose another time."),
                ..Default::default()
            };
            let page = book_page(
                &state,
                &session,
                &current,
                id,
                BookForm {
                    slot: String::new(),
                    ..form
                },
                errors,
            )
            .await?;
            return Ok((StatusCode::CONFLICT, page).into_response());
        }
        Err(BookError::Database(e)) => return Err(e.into()),
    };
    audit::record(
        &state.db,
        Actor::User(current.user.tenant_user_id, current.user.display_name.clone()),
        "expert_session.booked",
        Some(tenant_id),
        serde_json::json!({ "integration": id, "session": booked.expert_session_id, "starts_at": booked.starts_at }),
        Some(&addr),
    )
    .await?;
    notify(
        &state.db,
        &state.mailer,
        &state.config.public_url,
        &booked,
        Event::Booked,
    )
    .await
    .map_err(AppError::Internal)?;
    Ok(Redirect::to(&format!(
        "/integrations/{id}/sessions/{}",
        booked.expert_session_id
    ))
    .into_response())
}
