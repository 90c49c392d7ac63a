//! The confirmation of an old free-text "Talk to an expert" request, kept readable. (Sessions
//! are now booked in slots: `web::expert_booking`.)

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use tower_sessions::Session;
use uuid::Uuid;

use crate::error::{AppError, AppResult};
use crate::ids::IntegrationId;
use crate::state::AppState;
use crate::web::extract::{CurrentUser, PathParam};
use crate::web::pages::Chrome;
use crate::wizard::Step;
use crate::wizard::db::{self, SupportRequest};

/// The confirmation.
#[derive(Template, WebTemplate)]
#[template(path = "wizard/expert_sent.html")]
pub struct ExpertSentPage {
    chrome: Chrome,
    request: SupportRequest,
    back_href: String,
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
        chrome: Chrome::customer(&session, &current).await?,
        back_href: format!(
            "/integrations/{id}/setup/{}",
            Step::from_key(&request.step).slug()
        ),
        request,
    })
}
