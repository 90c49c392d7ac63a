//! The page frame every template shares, the landing page and the 404 page.

use askama::Template;
use askama_web::WebTemplate;
use tower_sessions::Session;

use super::csrf;
use crate::error::{AppError, AppResult};
use crate::staff::StaffUser;

/// What the frame around every page needs: the form token for the sign-out button and who is
/// signed in (staff pages get a distinct top bar).
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    /// The session's CSRF token, for every form on the page.
    pub csrf: String,
    /// The staff member signed in, if this is a console page.
    pub staff: Option<StaffNav>,
}

/// The staff member shown in the console's top bar.
#[derive(Clone, Debug)]
pub struct StaffNav {
    /// Their email.
    pub email: String,
    /// Their role, as people read it.
    pub role: &'static str,
}

impl Chrome {
    /// The frame for a public page.
    pub async fn public(session: &Session) -> AppResult<Self> {
        Ok(Self {
            csrf: csrf::token(session).await?,
            staff: None,
        })
    }

    /// The frame for a support-console page.
    pub async fn staff(session: &Session, user: &StaffUser) -> AppResult<Self> {
        Ok(Self {
            csrf: csrf::token(session).await?,
            staff: Some(StaffNav {
                email: user.email.clone(),
                role: user.role.label(),
            }),
        })
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "landing.html")]
pub struct LandingPage {
    chrome: Chrome,
}

/// `GET /`: what Ledgerbridge does.
pub async fn landing(session: Session) -> AppResult<LandingPage> {
    Ok(LandingPage {
        chrome: Chrome::public(&session).await?,
    })
}

/// Any unknown path.
pub async fn not_found() -> AppError {
    AppError::NotFound
}
