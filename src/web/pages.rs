//! The page frame every template shares, the landing page and the 404 page.

use askama::Template;
use askama_web::WebTemplate;
use tower_sessions::Session;

use super::csrf;
use super::extract::CurrentUser;
use super::session::{SignedInUser, USER};
use crate::error::{AppError, AppResult};
use crate::staff::StaffUser;
use crate::state::AppState;

/// What the frame around every page needs: the form token for the sign-out button and who is
/// signed in (staff pages get a distinct top bar).
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    /// The session's CSRF token, for every form on the page.
    pub csrf: String,
    /// The staff member signed in, if this is a console page.
    pub staff: Option<StaffNav>,
    /// The customer signed in, if this is a customer page.
    pub user: Option<UserNav>,
}

/// The customer shown in the top bar, with the integration switcher.
#[derive(Clone, Debug)]
pub struct UserNav {
    /// Their name.
    pub display_name: String,
    /// Their company (the portal's name).
    pub tenant_name: String,
    /// Every integration of the tenant: (id, company name).
    pub integrations: Vec<(String, String)>,
    /// Whether their role lets them change anything (else the pages say they can only view).
    pub can_change: bool,
}

/// The staff member shown in the console's top bar.
#[derive(Clone, Debug)]
pub struct StaffNav {
    /// Their email.
    pub email: String,
    /// Their role, as people read it.
    pub role: &'static str,
    /// Whether they are an `admin` (replays and the audit log).
    pub admin: bool,
}

impl Chrome {
    /// The frame for a public page.
    pub async fn public(session: &Session) -> AppResult<Self> {
        Ok(Self {
            csrf: csrf::token(session).await?,
            staff: None,
            user: None,
        })
    }

    /// The frame for a signed-in customer's page.
    pub async fn customer(
        state: &AppState,
        session: &Session,
        current: &CurrentUser,
    ) -> AppResult<Self> {
        let integrations = crate::integrations::db::list(&state.db, current.tenant.tenant_id)
            .await?
            .into_iter()
            .map(|i| (i.integration_id.to_string(), i.company_name))
            .collect();
        Ok(Self {
            csrf: csrf::token(session).await?,
            staff: None,
            user: Some(UserNav {
                display_name: current.user.display_name.clone(),
                tenant_name: current.tenant.name.clone(),
                integrations,
                can_change: current.user.role.can_change(),
            }),
        })
    }

    /// The frame for a support-console page.
    pub async fn staff(session: &Session, user: &StaffUser) -> AppResult<Self> {
        Ok(Self {
            csrf: csrf::token(session).await?,
            staff: Some(StaffNav {
                email: user.email.clone(),
                role: user.role.label(),
                admin: user.role == crate::staff::StaffRole::Admin,
            }),
            user: None,
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "landing.html")]
pub struct LandingPage {
    pub(super) chrome: Chrome,
    pub(super) portal: String,
    pub(super) portal_error: Option<String>,
    pub(super) demo: Option<crate::config::DemoHints>,
}

/// `GET /`: what Ledgerbridge does, and sign-in with TrackTik. Signed-in customers go on to
/// their integrations.
pub async fn landing(
    axum::extract::State(state): axum::extract::State<AppState>,
    session: Session,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    if session.get::<SignedInUser>(USER).await?.is_some() {
        return Ok(axum::response::Redirect::to("/integrations").into_response());
    }
    Ok(LandingPage {
        chrome: Chrome::public(&session).await?,
        portal: String::new(),
        portal_error: None,
        demo: state.config.demo.clone(),
    }
    .into_response())
}

/// Any unknown path.
pub async fn not_found() -> AppError {
    AppError::NotFound
}
