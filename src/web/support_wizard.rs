//! The support console's side of the wizard: the queue of "Talk to an expert" requests, and a
//! read-only view of the draft's every answer with internal notes. Every look at a customer's
//! draft and every change to a request is audited.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::extract::{ClientAddr, CurrentStaff, Form, PathParam};
use super::pages::Chrome;
use super::wizard::steps_views::{ChangeView, GroupView, change_views, group_views};
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::wizard::answers::Names;
use crate::wizard::db::{self, RequestNote, SupportRequest};
use crate::wizard::express::ExpressRecord;
use crate::wizard::review;

/// `/support/requests`.
#[derive(Template, WebTemplate)]
#[template(path = "support/requests.html")]
pub struct RequestsPage {
    chrome: Chrome,
    requests: Vec<SupportRequest>,
}

/// `GET /support/requests`: open requests first, oldest first.
pub async fn requests(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
) -> AppResult<RequestsPage> {
    super::support::staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_requests",
        None,
        serde_json::json!({}),
    )
    .await?;
    Ok(RequestsPage {
        chrome: Chrome::staff(&session, &staff).await?,
        requests: db::list_requests_for_staff(&state.db).await?,
    })
}

/// `/support/requests/{id}`.
#[derive(Template, WebTemplate)]
#[template(path = "support/request.html")]
pub struct RequestPage {
    chrome: Chrome,
    request: SupportRequest,
    notes: Vec<RequestNote>,
    groups: Vec<GroupView>,
    problems: Vec<String>,
    state_label: &'static str,
    state_css: &'static str,
    wizard_step: &'static str,
    saved: String,
    express: Option<ExpressRecord>,
    changes: Vec<ChangeView>,
    note_error: Option<&'static str>,
    note: String,
}

async fn request_page(
    state: &AppState,
    session: &Session,
    staff: &crate::staff::StaffUser,
    addr: &str,
    id: Uuid,
    note_error: Option<&'static str>,
    note: String,
) -> AppResult<RequestPage> {
    let request = db::find_request_for_staff(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let draft = crate::wizard::db::get(&state.db, request.tenant_id, request.integration_id)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::record(
        &state.db,
        Actor::Staff(staff.staff_user_id, staff.email.clone()),
        "staff.viewed_draft",
        Some(request.tenant_id),
        serde_json::json!({ "request": id, "integration": request.integration_id }),
        Some(addr),
    )
    .await?;
    let today = super::wizard::today_for(&draft);
    Ok(RequestPage {
        chrome: Chrome::staff(session, staff).await?,
        notes: db::list_notes(&state.db, request.tenant_id, id).await?,
        groups: group_views(&draft, &Names::default(), None),
        problems: review::local_problems(&draft, today)
            .into_iter()
            .map(|p| format!("{}: {}", p.step.label(), p.message))
            .collect(),
        state_label: draft.state.label(),
        state_css: draft.state.css(),
        wizard_step: draft.resume_step().label(),
        saved: draft
            .settings_saved_at
            .map(|t| crate::wizard::ago(t, chrono::Utc::now()))
            .unwrap_or_else(|| "never".into()),
        express: if draft.is_express() {
            draft.express_outcome.as_ref().map(|r| r.0.clone())
        } else {
            None
        },
        changes: change_views(
            state,
            &draft,
            super::time::Zone::named(Some(&staff.time_zone)),
        )
        .await?,
        request,
        note_error,
        note,
    })
}

/// `GET /support/requests/{id}`: the request and the draft's every answer, read-only.
pub async fn request(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<Uuid>,
) -> AppResult<RequestPage> {
    request_page(&state, &session, &staff, &addr, id, None, String::new()).await
}

/// A staff note as posted.
#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    body: String,
}

/// `POST /support/requests/{id}/notes`: an internal note (never shown to the customer).
pub async fn add_note(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<Uuid>,
    Form(form): Form<NoteForm>,
) -> AppResult<Response> {
    let request = db::find_request_for_staff(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let body = form.body.trim();
    if body.is_empty() || body.chars().count() > 4000 {
        let msg = if body.is_empty() {
            "Write the note before adding it."
        } else {
            "Shorten the note to 4,000 characters or fewer."
        };
        let page = request_page(&state, &session, &staff, &addr, id, Some(msg), form.body).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    db::insert_note(
        &state.db,
        request.tenant_id,
        id,
        staff.staff_user_id,
        &staff.email,
        body,
    )
    .await?;
    audit::record(
        &state.db,
        Actor::Staff(staff.staff_user_id, staff.email.clone()),
        "staff.noted_request",
        Some(request.tenant_id),
        serde_json::json!({ "request": id, "integration": request.integration_id }),
        Some(&addr),
    )
    .await?;
    Ok(Redirect::to(&format!("/support/requests/{id}")).into_response())
}

/// `POST /support/requests/{id}/done`.
pub async fn mark_done(
    State(state): State<AppState>,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<Uuid>,
) -> AppResult<Redirect> {
    let request = db::find_request_for_staff(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    db::mark_done(&state.db, request.tenant_id, id, &staff.email).await?;
    audit::record(
        &state.db,
        Actor::Staff(staff.staff_user_id, staff.email.clone()),
        "staff.closed_request",
        Some(request.tenant_id),
        serde_json::json!({ "request": id, "integration": request.integration_id }),
        Some(&addr),
    )
    .await?;
    Ok(Redirect::to("/support/requests"))
}
