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
    /// The zone times are shown in: the customer's on their pages, the staff member's on the
    /// console, UTC on public pages.
    pub zone: super::time::Zone,
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
    /// Their role in words, when it is not an administrator's (shown beside their name).
    pub role_label: Option<&'static str>,
    /// Whether they manage the tenant's members (the Members link).
    pub manages_members: bool,
    /// What else their role lets them do (the pages show only the controls they may use).
    pub may: Mays,
}

/// The controls a customer's role lets them use.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mays {
    /// Change the setup.
    pub edit: bool,
    /// Sync now and Retry.
    pub sync: bool,
    /// Back-sync earlier days.
    pub back_sync: bool,
    /// Connect, reconnect, disconnect.
    pub connect: bool,
    /// Roll back a night.
    pub roll_back: bool,
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
    /// The signed-in customer's controls (none for staff and visitors).
    pub fn may(&self) -> Mays {
        self.user.as_ref().map(|u| u.may).unwrap_or_default()
    }
    /// The frame for a public page.
    pub async fn public(session: &Session) -> AppResult<Self> {
        Ok(Self {
            csrf: csrf::token(session).await?,
            ..Self::default()
        })
    }

    /// The frame for a signed-in customer's page: no database read of its own (the
    /// integrations and their zones came with [`CurrentUser`]). Times are shown in the zone of
    /// the tenant's oldest integration that has chosen a valid one (UTC until one has).
    pub async fn customer(session: &Session, current: &CurrentUser) -> AppResult<Self> {
        let zone = current.integrations.iter().find_map(|i| {
            i.time_zone
                .as_deref()
                .filter(|z| z.parse::<chrono_tz::Tz>().is_ok())
        });
        let role = current.user.role;
        Ok(Self {
            csrf: csrf::token(session).await?,
            staff: None,
            user: Some(UserNav {
                display_name: current.user.display_name.clone(),
                tenant_name: current.tenant.name.clone(),
                integrations: current
                    .integrations
                    .iter()
                    .map(|i| (i.integration_id.to_string(), i.company_name.clone()))
                    .collect(),
                can_change: role.can_change(),
                role_label: (role != crate::tenants::MemberRole::PortalAdmin).then(|| role.label()),
                manages_members: current.user.may(crate::tenants::Right::ManageMembers),
                may: Mays {
                    edit: current.user.may(crate::tenants::Right::EditSetup),
                    sync: current.user.may(crate::tenants::Right::RunSync),
                    back_sync: current.user.may(crate::tenants::Right::BackSync),
                    connect: current.user.may(crate::tenants::Right::Connect),
                    roll_back: current.user.may(crate::tenants::Right::RollBack),
                },
            }),
            zone: super::time::Zone::named(zone),
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
            zone: super::time::Zone::named(Some(&user.time_zone)),
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

/// Any unknown path: the 404 page, inside the signed-in person's own frame (their top bar
/// stays, so they can find their way back).
pub async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    session: Session,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    use askama::Template;
    use axum::response::IntoResponse;
    let chrome = async {
        if let Some(who) = session.get::<SignedInUser>(USER).await? {
            if let Some(current) = CurrentUser::load(&state.db, &who).await? {
                return Chrome::customer(&session, &current).await;
            }
        }
        if let Some(id) = session
            .get::<crate::ids::StaffUserId>(super::session::STAFF_USER_ID)
            .await?
        {
            if let Some(staff) = crate::staff::db::get(&state.db, id).await? {
                return Chrome::staff(&session, &staff).await;
            }
        }
        Chrome::public(&session).await
    };
    let Ok(chrome) = chrome.await else {
        return AppError::NotFound.into_response();
    };
    let request_id = headers
        .get(super::REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let page = super::errors::ErrorPage {
        chrome,
        status: 404,
        title: "Page not found",
        message: "There is nothing here. Check the address, or go back to the page you came from.",
        request_id,
    };
    match page.render() {
        Ok(html) => (
            axum::http::StatusCode::NOT_FOUND,
            axum::response::Html(html),
        )
            .into_response(),
        Err(_) => AppError::NotFound.into_response(),
    }
}
