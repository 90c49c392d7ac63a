//! "Talk to an expert": a quiet link on every step leads here; the request and the draft
//! appear in the support console.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::ids::IntegrationId;
use crate::state::AppState;
use crate::web::extract::{ClientAddr, CurrentUser, Form, PathParam, QueryParams};
use crate::web::pages::Chrome;
use crate::wizard::db::{self, SupportRequest};
use crate::wizard::{Draft, Step};

/// The request form.
#[derive(Template, WebTemplate)]
#[template(path = "wizard/expert.html")]
pub struct ExpertPage {
    chrome: Chrome,
    id: String,
    company_name: String,
    from: String,
    from_label: &'static str,
    preferred_times: String,
    note: String,
    times_error: Option<&'static str>,
    note_error: Option<&'static str>,
}

/// The confirmation.
#[derive(Template, WebTemplate)]
#[template(path = "wizard/expert_sent.html")]
pub struct ExpertSentPage {
    chrome: Chrome,
    request: SupportRequest,
    back_href: String,
}

/// Which step the customer came from.
#[derive(Deserialize, Default)]
pub struct From {
    #[serde(default)]
    from: String,
}

async fn load(state: &AppState, current: &CurrentUser, id: IntegrationId) -> AppResult<Draft> {
    db::get(&state.db, current.tenant.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

fn step_of(slug: &str, draft: &Draft) -> Step {
    Step::from_slug(slug).unwrap_or_else(|| draft.resume_step())
}

/// `GET /integrations/{id}/expert?from=billing`.
pub async fn expert_form(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    PathParam(id): PathParam<IntegrationId>,
    QueryParams(q): QueryParams<From>,
) -> AppResult<ExpertPage> {
    let draft = load(&state, &current, id).await?;
    let step = step_of(&q.from, &draft);
    Ok(ExpertPage {
        chrome: Chrome::customer(&state, &session, &current).await?,
        id: id.to_string(),
        company_name: draft.company_name,
        from: step.slug().into(),
        from_label: step.label(),
        preferred_times: String::new(),
        note: String::new(),
        times_error: None,
        note_error: None,
    })
}

/// The posted request.
#[derive(Deserialize)]
pub struct ExpertForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    preferred_times: String,
    #[serde(default)]
    note: String,
}

/// `POST /integrations/{id}/expert`.
pub async fn request_expert(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<IntegrationId>,
    Form(form): Form<ExpertForm>,
) -> AppResult<Response> {
    let draft = load(&state, &current, id).await?;
    let step = step_of(&form.from, &draft);
    let times = form.preferred_times.trim();
    let note = form.note.trim();
    let times_error = if times.is_empty() {
        Some("Tell us when you are free, for example “Tuesday or Wednesday, 9–11 am Eastern”.")
    } else if times.chars().count() > 500 {
        Some("Shorten your preferred times to 500 characters or fewer.")
    } else {
        None
    };
    let note_error =
        (note.chars().count() > 4000).then_some("Shorten the note to 4,000 characters or fewer.");
    if times_error.is_some() || note_error.is_some() {
        let page = ExpertPage {
            chrome: Chrome::customer(&state, &session, &current).await?,
            id: id.to_string(),
            company_name: draft.company_name,
            from: step.slug().into(),
            from_label: step.label(),
            preferred_times: form.preferred_times,
            note: form.note,
            times_error,
            note_error,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let tenant_id = current.tenant.tenant_id;
    let request_id = db::insert_request(
        &state.db,
        tenant_id,
        id,
        step,
        times,
        note,
        &current.user.display_name,
    )
    .await?;
    audit::record(
        &state.db,
        Actor::User(
            current.user.tenant_user_id,
            current.user.display_name.clone(),
        ),
        "support_request.created",
        Some(tenant_id),
        serde_json::json!({ "integration": id, "request": request_id, "step": step.key() }),
        Some(&addr),
    )
    .await?;
    Ok(Redirect::to(&format!("/integrations/{id}/expert/{request_id}")).into_response())
}

/// `GET /integrations/{id}/expert/{request}`: the confirmation.
pub async fn expert_sent(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    PathParam((id, request_id)): PathParam<(IntegrationId, Uuid)>,
) -> AppResult<ExpertSentPage> {
    let request = db::get_request(&state.db, current.tenant.tenant_id, request_id)
        .await?
        .filter(|r| r.integration_id == id)
        .ok_or(AppError::NotFound)?;
    Ok(ExpertSentPage {
        chrome: Chrome::customer(&state, &session, &current).await?,
        back_href: format!(
            "/integrations/{id}/setup/{}",
            Step::from_key(&request.step).slug()
        ),
        request,
    })
}
