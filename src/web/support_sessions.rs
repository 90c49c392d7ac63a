//! The console's side of expert sessions: each staff member publishes their availability
//! (`/support/availability`); upcoming sessions with the customer's read-only draft, its
//! blockers and a link to the preview (`/support/sessions`); notes and the outcome afterwards,
//! which the customer then sees. Every look at a customer's session is audited.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::drafts::{DraftView, draft_view};
use super::extract::{ClientAddr, CurrentStaff, Form, PathParam};
use super::pages::Chrome;
use super::support::staff_viewed;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::experts::mail::{Event, notify};
use crate::experts::{self, Hours, OUTCOMES, Schedule, db};
use crate::staff::StaffUser;
use crate::state::AppState;

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const LENGTHS: [u32; 6] = [15, 30, 45, 60, 90, 120];

/// `/support/availability`.
#[derive(Template, WebTemplate)]
#[template(path = "support/availability.html")]
pub struct AvailabilityPage {
    chrome: Chrome,
    form: AvailabilityForm,
    zones: Vec<&'static str>,
    lengths: [u32; 6],
    /// (weekday name, field name, value, error).
    days: Vec<(&'static str, String, String, Option<String>)>,
    errors: Vec<String>,
    saved: bool,
}

/// The availability form.
#[derive(Deserialize, Default, Clone)]
pub struct AvailabilityForm {
    #[serde(default)]
    zone: String,
    #[serde(default)]
    minutes: String,
    published: Option<String>,
    #[serde(default)]
    exceptions: String,
    #[serde(default)]
    d1: String,
    #[serde(default)]
    d2: String,
    #[serde(default)]
    d3: String,
    #[serde(default)]
    d4: String,
    #[serde(default)]
    d5: String,
    #[serde(default)]
    d6: String,
    #[serde(default)]
    d7: String,
}

impl AvailabilityForm {
    fn day(&self, n: u8) -> &str {
        match n {
            1 => &self.d1,
            2 => &self.d2,
            3 => &self.d3,
            4 => &self.d4,
            5 => &self.d5,
            6 => &self.d6,
            _ => &self.d7,
        }
    }
}

fn page(
    chrome: Chrome,
    form: AvailabilityForm,
    day_errors: &BTreeMap<u8, String>,
    errors: Vec<String>,
    saved: bool,
) -> AvailabilityPage {
    let days = (1..=7u8)
        .map(|n| {
            (
                WEEKDAYS[usize::from(n - 1)],
                format!("d{n}"),
                form.day(n).to_owned(),
                day_errors.get(&n).cloned(),
            )
        })
        .collect();
    AvailabilityPage {
        chrome,
        form,
        zones: super::time::zone_names(),
        lengths: LENGTHS,
        days,
        errors,
        saved,
    }
}

/// `GET /support/availability`: the signed-in staff member's own availability.
pub async fn availability_form(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
) -> AppResult<AvailabilityPage> {
    let mut form = AvailabilityForm {
        zone: staff.time_zone.clone(),
        minutes: "30".into(),
        ..Default::default()
    };
    if let Some((row, s)) = db::schedules(&state.db, Some(staff.staff_user_id))
        .await?
        .into_iter()
        .next()
    {
        form.zone = row.time_zone;
        form.minutes = row.session_minutes.to_string();
        form.published = row.published.then(|| "yes".to_owned());
        let text = |n: u8| {
            s.weekly
                .get(&n)
                .map(|h| experts::format_hours(h))
                .unwrap_or_default()
        };
        (
            form.d1, form.d2, form.d3, form.d4, form.d5, form.d6, form.d7,
        ) = (
            text(1),
            text(2),
            text(3),
            text(4),
            text(5),
            text(6),
            text(7),
        );
        form.exceptions = s
            .exceptions
            .iter()
            .map(|(day, h)| {
                if h.is_empty() {
                    format!("{day} off")
                } else {
                    format!("{day} {}", experts::format_hours(h))
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    let saved = session
        .remove::<bool>("support.availability_saved")
        .await?
        .unwrap_or(false);
    Ok(page(
        Chrome::staff(&session, &staff).await?,
        form,
        &BTreeMap::new(),
        Vec::new(),
        saved,
    ))
}

/// Reads the exceptions, one a line: `2026-12-24 off` or `2026-12-24 10:00-14:00`.
fn parse_exceptions(text: &str) -> Result<BTreeMap<NaiveDate, Vec<Hours>>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (day, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let day = NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| format!("Exceptions: “{line}” must start with a date like 2026-12-24."))?;
        let rest = rest.trim();
        let hours = if rest.eq_ignore_ascii_case("off") || rest.is_empty() {
            Vec::new()
        } else {
            experts::parse_hours(rest).map_err(|e| format!("Exceptions, {day}: {e}"))?
        };
        if out.insert(day, hours).is_some() {
            return Err(format!(
                "Exceptions: {day} is listed twice; put its hours on one line."
            ));
        }
    }
    Ok(out)
}

/// `POST /support/availability`.
pub async fn save_availability(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    Form(form): Form<AvailabilityForm>,
) -> AppResult<Response> {
    let mut errors = Vec::new();
    let zone: Option<Tz> = form.zone.trim().parse().ok();
    if zone.is_none() {
        errors.push("Choose your time zone.".to_owned());
    }
    let minutes = form
        .minutes
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|m| LENGTHS.contains(m));
    if minutes.is_none() {
        errors.push("Choose a session length.".to_owned());
    }
    let mut weekly = BTreeMap::new();
    let mut day_errors = BTreeMap::new();
    for n in 1..=7u8 {
        match experts::parse_hours(form.day(n)) {
            Ok(h) if h.is_empty() => {}
            Ok(h) => {
                weekly.insert(n, h);
            }
            Err(e) => {
                day_errors.insert(n, e);
            }
        }
    }
    let exceptions = parse_exceptions(&form.exceptions).unwrap_or_else(|e| {
        errors.push(e);
        BTreeMap::new()
    });
    let (Some(zone), Some(minutes)) = (zone, minutes) else {
        let page = page(
            Chrome::staff(&session, &staff).await?,
            form,
            &day_errors,
            errors,
            false,
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    if !errors.is_empty() || !day_errors.is_empty() {
        let page = page(
            Chrome::staff(&session, &staff).await?,
            form,
            &day_errors,
            errors,
            false,
        );
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let schedule = Schedule {
        staff_user_id: staff.staff_user_id,
        zone,
        session_minutes: minutes,
        weekly,
        exceptions,
    };
    let mut tx = state.db.begin().await?;
    db::save_availability(&mut tx, &schedule, form.published.is_some()).await?;
    crate::staff::db::set_time_zone(&mut *tx, staff.staff_user_id, zone.name()).await?;
    audit::record(
        &mut *tx,
        Actor::Staff(staff.staff_user_id, staff.email.clone()),
        "staff.saved_availability",
        None,
        serde_json::json!({ "zone": zone.name(), "minutes": minutes, "published": form.published.is_some() }),
        Some(&addr),
    )
    .await?;
    tx.commit().await?;
    session.insert("support.availability_saved", true).await?;
    Ok(Redirect::to("/support/availability").into_response())
}

/// `/support/sessions`.
#[derive(Template, WebTemplate)]
#[template(path = "support/sessions.html")]
pub struct SessionsPage {
    chrome: Chrome,
    upcoming: Vec<experts::Session>,
    past: Vec<experts::Session>,
}

/// `GET /support/sessions`: upcoming sessions, soonest first, and the latest past ones. Audited.
pub async fn sessions(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
) -> AppResult<SessionsPage> {
    staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_sessions",
        None,
        serde_json::json!({}),
    )
    .await?;
    Ok(SessionsPage {
        chrome: Chrome::staff(&session, &staff).await?,
        upcoming: db::list_for_console(&state.db, false, 100).await?,
        past: db::list_for_console(&state.db, true, 50).await?,
    })
}

/// `/support/sessions/{id}`.
#[derive(Template, WebTemplate)]
#[template(path = "support/session.html")]
pub struct SessionPage {
    chrome: Chrome,
    s: experts::Session,
    draft: DraftView,
    outcomes: [(&'static str, &'static str); 3],
    notes: String,
    outcome: String,
    notes_error: Option<&'static str>,
    upcoming: bool,
}

async fn load(
    state: &AppState,
    session: &Session,
    staff: &StaffUser,
    addr: &str,
    id: Uuid,
) -> AppResult<SessionPage> {
    let s = db::get_for_staff(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &state.db,
        Actor::Staff(staff.staff_user_id, staff.email.clone()),
        "staff.viewed_session",
        Some(s.tenant_id),
        serde_json::json!({ "session": id, "integration": s.integration_id }),
        Some(addr),
    )
    .await?;
    let chrome = Chrome::staff(session, staff).await?;
    let draft = draft_view(state, &chrome, s.tenant_id, s.integration_id).await?;
    Ok(SessionPage {
        notes: s.notes.clone().unwrap_or_default(),
        outcome: s.outcome.clone().unwrap_or_default(),
        upcoming: s.upcoming(Utc::now()),
        chrome,
        draft,
        outcomes: OUTCOMES,
        notes_error: None,
        s,
    })
}

/// `GET /support/sessions/{id}`: the session, and the customer's draft read-only. Audited.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<Uuid>,
) -> AppResult<SessionPage> {
    load(&state, &session, &staff, &addr, id).await
}

/// Notes as posted.
#[derive(Deserialize)]
pub struct NotesForm {
    #[serde(default)]
    notes: String,
    #[serde(default)]
    outcome: String,
}

/// `POST /support/sessions/{id}/notes`: the notes and outcome, shown to the customer.
pub async fn save_notes(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<Uuid>,
    Form(form): Form<NotesForm>,
) -> AppResult<Response> {
    let s = db::get_for_staff(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let notes = form.notes.trim();
    let error = if notes.is_empty() {
        Some(
            "Write what was done and what comes next; the customer reads it on their session page.",
        )
    } else if notes.chars().count() > experts::MAX_NOTES_CHARS {
        Some("Shorten the notes to 8,000 characters or fewer.")
    } else if !OUTCOMES.iter().any(|(k, _)| *k == form.outcome) {
        Some("Choose the outcome.")
    } else {
        None
    };
    if error.is_some() {
        let mut page = load(&state, &session, &staff, &addr, id).await?;
        page.notes = form.notes;
        page.outcome = form.outcome;
        page.notes_error = error;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    db::record_notes(
        &state.db,
        s.tenant_id,
        id,
        notes,
        &form.outcome,
        &staff.email,
    )
    .await?;
    audit::record(
        &state.db,
        Actor::Staff(staff.staff_user_id, staff.email.clone()),
        "staff.noted_session",
        Some(s.tenant_id),
        serde_json::json!({ "session": id, "integration": s.integration_id, "outcome": form.outcome }),
        Some(&addr),
    )
    .await?;
    Ok(Redirect::to(&format!("/support/sessions/{id}")).into_response())
}

/// `POST /support/sessions/{id}/cancel`: the expert cannot make it; the customer is told.
pub async fn cancel(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<Uuid>,
) -> AppResult<Redirect> {
    let s = db::get_for_staff(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if db::cancel(&state.db, s.tenant_id, id, "the Ledgerbridge expert").await? {
        audit::record(
            &state.db,
            Actor::Staff(staff.staff_user_id, staff.email.clone()),
            "staff.cancelled_session",
            Some(s.tenant_id),
            serde_json::json!({ "session": id, "integration": s.integration_id }),
            Some(&addr),
        )
        .await?;
        let fresh = db::get_for_staff(&state.db, id)
            .await?
            .ok_or(AppError::NotFound)?;
        notify(
            &state.db,
            &state.mailer,
            &state.config.public_url,
            &fresh,
            Event::Cancelled,
        )
        .await
        .map_err(AppError::Internal)?;
    }
    Ok(Redirect::to(&format!("/support/sessions/{id}")))
}
