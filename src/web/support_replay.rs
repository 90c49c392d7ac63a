//! Replays from the support console, each asked once: a confirmation page says exactly what
//! will happen (or why nothing can), the POST queues the work through `console::replay`, which
//! audits it, and the browser goes on to the integration's runs (post/redirect/GET).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use tower_sessions::Session;

use super::extract::{ClientAddr, CurrentStaff, Form, PathParam, QueryParams};
use super::pages::Chrome;
use crate::audit::Actor;
use crate::console::replay::{self, DayRun, DocumentPlan, DocumentRow, ReplayError, Replayed};
use crate::error::{AppError, AppResult};
use crate::ids::{IntegrationId, TenantId};
use crate::state::AppState;
use crate::sync::controls::Queued;
use crate::sync::ledger::Source;

fn after_replay(integration_id: IntegrationId, replayed: &Replayed) -> Redirect {
    let queued = match replayed.queued {
        Queued::Added => "added",
        Queued::AlreadyQueued => "already_queued",
    };
    Redirect::to(&format!(
        "/support/runs?integration={integration_id}&queued={queued}"
    ))
}

/// `/support/documents/{id}/replay`.
#[derive(Template, WebTemplate)]
#[template(path = "support/replay_document.html")]
pub struct ReplayDocumentPage {
    chrome: Chrome,
    doc: DocumentRow,
    retry: bool,
    reread: Option<DayRun>,
    refusal: Option<String>,
}

async fn document_page(
    state: &AppState,
    session: &Session,
    staff: &crate::staff::StaffUser,
    doc: DocumentRow,
    refusal: Option<String>,
) -> AppResult<ReplayDocumentPage> {
    let (retry, reread, refusal) = match refusal {
        Some(r) => (false, None, Some(r)),
        None => match replay::plan_document(state, &doc).await {
            Ok(DocumentPlan::Retry) => (true, None, None),
            Ok(DocumentPlan::Reread(run)) => (false, Some(run), None),
            Err(ReplayError::Refused(r)) => (false, None, Some(r)),
            Err(ReplayError::NotFound) => return Err(AppError::NotFound),
            Err(ReplayError::Internal(e)) => return Err(AppError::Internal(e)),
        },
    };
    Ok(ReplayDocumentPage {
        chrome: Chrome::staff(session, staff).await?,
        doc,
        retry,
        reread,
        refusal,
    })
}

/// `GET /support/documents/{id}/replay`: what replaying this document would do.
pub async fn document_form(
    State(state): State<AppState>,
    session: Session,
    current: CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<i64>,
) -> AppResult<ReplayDocumentPage> {
    current.require_admin()?;
    let CurrentStaff(staff) = current;
    let doc = replay::find_document(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    super::support::staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_replay",
        Some(doc.tenant_id),
        serde_json::json!({ "integration": doc.integration_id, "ledger_entry": id, "document": doc.title() }),
    )
    .await?;
    document_page(&state, &session, &staff, doc, None).await
}

/// `POST /support/documents/{id}/replay`: queues the replay; a posted or waiting document is
/// refused (409) and nothing is queued.
pub async fn replay_document(
    State(state): State<AppState>,
    session: Session,
    current: CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<i64>,
) -> AppResult<Response> {
    current.require_admin()?;
    let CurrentStaff(staff) = current;
    let actor = Actor::Staff(staff.staff_user_id, staff.email.clone());
    match replay::replay_document(&state, actor, &addr, id).await {
        Ok((doc, replayed)) => Ok(after_replay(doc.integration_id, &replayed).into_response()),
        Err(ReplayError::Refused(reason)) => {
            let doc = replay::find_document(&state.db, id)
                .await?
                .ok_or(AppError::NotFound)?;
            let page = document_page(&state, &session, &staff, doc, Some(reason)).await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(ReplayError::NotFound) => Err(AppError::NotFound),
        Err(ReplayError::Internal(e)) => Err(AppError::Internal(e)),
    }
}

/// `/support/replay-day`.
#[derive(Template, WebTemplate)]
#[template(path = "support/replay_day.html")]
pub struct ReplayDayPage {
    chrome: Chrome,
    integration_id: IntegrationId,
    tenant_name: String,
    company_name: String,
    day: NaiveDate,
    run: Option<DayRun>,
    failed: Vec<String>,
    refusal: Option<String>,
}

/// Which day of which integration; from the address (GET) or the form (POST).
#[derive(Deserialize)]
pub struct DayChoice {
    #[serde(default)]
    integration: String,
    #[serde(default)]
    day: String,
}

impl DayChoice {
    fn parse(&self) -> AppResult<(IntegrationId, NaiveDate)> {
        let integration = self.integration.trim().parse().map_err(|_| {
            AppError::BadRequest(
                "The integration is missing from the address; open the replay from the runs list."
                    .into(),
            )
        })?;
        let day = NaiveDate::parse_from_str(self.day.trim(), "%Y-%m-%d").map_err(|_| {
            AppError::BadRequest(
                "Choose the day to replay as a date (YYYY-MM-DD), then continue.".into(),
            )
        })?;
        Ok((integration, day))
    }
}

async fn day_page(
    state: &AppState,
    session: &Session,
    staff: &crate::staff::StaffUser,
    (integration_id, day): (IntegrationId, NaiveDate),
    refusal: Option<String>,
) -> AppResult<(TenantId, ReplayDayPage)> {
    let (tenant_id, tenant_name, company_name) =
        crate::console::integration_names(&state.db, integration_id)
            .await?
            .ok_or(AppError::NotFound)?;
    let (run, refusal) = match refusal {
        Some(r) => (None, Some(r)),
        None => match replay::plan_day(state, tenant_id, integration_id, day).await {
            Ok(run) => (Some(run), None),
            Err(ReplayError::Refused(r)) => (None, Some(r)),
            Err(ReplayError::NotFound) => return Err(AppError::NotFound),
            Err(ReplayError::Internal(e)) => return Err(AppError::Internal(e)),
        },
    };
    let failed = replay::failed_on_day(&state.db, tenant_id, integration_id, day)
        .await?
        .into_iter()
        .map(|(_, source, number): (i64, Source, String)| format!("{} {number}", source.label()))
        .collect();
    Ok((
        tenant_id,
        ReplayDayPage {
            chrome: Chrome::staff(session, staff).await?,
            integration_id,
            tenant_name,
            company_name,
            day,
            run,
            failed,
            refusal,
        },
    ))
}

/// `GET /support/replay-day?integration=…&day=…`: what replaying that trading day would do.
pub async fn day_form(
    State(state): State<AppState>,
    session: Session,
    current: CurrentStaff,
    ClientAddr(addr): ClientAddr,
    QueryParams(choice): QueryParams<DayChoice>,
) -> AppResult<ReplayDayPage> {
    current.require_admin()?;
    let CurrentStaff(staff) = current;
    let (integration_id, day) = choice.parse()?;
    let (tenant_id, page) = day_page(&state, &session, &staff, (integration_id, day), None).await?;
    super::support::staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_replay_day",
        Some(tenant_id),
        serde_json::json!({ "integration": integration_id, "day": day }),
    )
    .await?;
    Ok(page)
}

/// `POST /support/replay-day`: gives the day's failed documents a new attempt and queues a
/// run of the day.
pub async fn replay_day(
    State(state): State<AppState>,
    session: Session,
    current: CurrentStaff,
    ClientAddr(addr): ClientAddr,
    Form(choice): Form<DayChoice>,
) -> AppResult<Response> {
    current.require_admin()?;
    let CurrentStaff(staff) = current;
    let (integration_id, day) = choice.parse()?;
    let tenant_id = crate::sync::controls::tenant_of(&state.db, integration_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let actor = Actor::Staff(staff.staff_user_id, staff.email.clone());
    match replay::replay_day(&state, actor, &addr, tenant_id, integration_id, day).await {
        Ok(replayed) => Ok(after_replay(integration_id, &replayed).into_response()),
        Err(ReplayError::Refused(reason)) => {
            let (_, page) = day_page(
                &state,
                &session,
                &staff,
                (integration_id, day),
                Some(reason),
            )
            .await?;
            Ok((StatusCode::CONFLICT, page).into_response())
        }
        Err(ReplayError::NotFound) => Err(AppError::NotFound),
        Err(ReplayError::Internal(e)) => Err(AppError::Internal(e)),
    }
}
