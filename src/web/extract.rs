//! Extractors: the signed-in staff member or customer (with what their role allows), the
//! client's address, and forms, paths and query strings whose rejection becomes an
//! [`AppError`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use sqlx::PgPool;
use tower_sessions::Session;

use super::session::{STAFF_USER_ID, SignedInUser, USER};
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::ids::StaffUserId;
use crate::staff::{self, StaffRole, StaffUser};
use crate::tenants::{self, MemberRole, Right, Tenant, TenantUser};

/// A form body; a malformed one is a 400 that says so.
#[derive(FromRequest)]
#[from_request(via(axum::Form), rejection(AppError))]
pub struct Form<T>(pub T);

impl From<axum::extract::rejection::FormRejection> for AppError {
    fn from(rejection: axum::extract::rejection::FormRejection) -> Self {
        AppError::BadRequest(format!(
            "The form could not be read: {}",
            rejection.body_text()
        ))
    }
}

/// The address of the client that sent the request: the socket peer, or, when the peer is
/// one of `LEDGERBRIDGE_TRUSTED_PROXIES`, the address the proxies name in `X-Forwarded-For`.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    Arc<Config>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let config = Arc::<Config>::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip());
        Ok(Self(client_addr(
            peer,
            &parts.headers,
            &config.trusted_proxies,
        )))
    }
}

/// Walks `X-Forwarded-For` from the nearest hop back, past every trusted proxy: the first
/// address not trusted is the client. Headers from anyone but a trusted proxy are ignored, and
/// an entry that is not an address ends the walk at the proxy that passed it on.
pub fn client_addr(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> String {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    let Some(mut client) = peer else {
        return "unknown".to_owned();
    };
    if is_trusted(&client) {
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .collect();
        for hop in hops.iter().rev() {
            match hop.parse::<IpAddr>() {
                Ok(ip) => {
                    client = ip;
                    if !is_trusted(&ip) {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    }
    client.to_canonical().to_string()
}

/// The signed-in staff member; anyone else is sent to the staff sign-in page.
#[derive(Clone, Debug)]
pub struct CurrentStaff(pub StaffUser);

impl<S> FromRequestParts<S> for CurrentStaff
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, msg)| AppError::Internal(anyhow::anyhow!(msg)))?;
        let Some(id) = session.get::<StaffUserId>(STAFF_USER_ID).await? else {
            return Err(AppError::StaffSignInRequired);
        };
        let db = PgPool::from_ref(state);
        match staff::db::get(&db, id).await? {
            Some(user) => {
                tracing::Span::current().record("staff", tracing::field::display(&id.0));
                Ok(Self(user))
            }
            // The account was removed since sign-in.
            None => {
                session.flush().await?;
                Err(AppError::StaffSignInRequired)
            }
        }
    }
}

impl CurrentStaff {
    /// Refuses anyone but an `admin` (replays, the audit log): `support` reads and adds notes.
    pub fn require_admin(&self) -> AppResult<()> {
        match self.0.role {
            StaffRole::Admin => Ok(()),
            StaffRole::Support => Err(AppError::NotPermitted(
                "Only an admin can do this. Ask an admin on your team.".into(),
            )),
        }
    }
}

/// A path parameter; a malformed one is a 404 (the page does not exist).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct PathParam<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for AppError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        AppError::NotFound
    }
}

/// A query string; a malformed one is a 400 that says so, as is a value longer than
/// [`MAX_QUERY_CHARS`] or holding a NUL byte (named in the message).
pub struct QueryParams<T>(pub T);

/// The longest value a query string parameter (a search, a filter) may have.
pub const MAX_QUERY_CHARS: usize = 1_000;

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw)
            .map_err(|e| AppError::BadRequest(format!("The address has a bad parameter: {e}")))?;
        for (name, value) in &pairs {
            if value.contains('\0') || name.contains('\0') {
                return Err(AppError::BadRequest(format!(
                    "The “{}” filter contains a character that cannot be searched for (a NUL byte). Remove it and try again.",
                    name.replace('\0', "")
                )));
            }
            if value.chars().count() > MAX_QUERY_CHARS {
                return Err(AppError::BadRequest(format!(
                    "The “{name}” filter is too long: use at most 1,000 characters."
                )));
            }
        }
        serde_urlencoded::from_str(raw)
            .map(Self)
            .map_err(|e| AppError::BadRequest(format!("The address has a bad parameter: {e}")))
    }
}

/// The signed-in customer and their tenant; anyone else is sent to the home page to sign in.
/// Every customer page takes this, so every query it makes is scoped to `tenant`. What they
/// may do depends on their role ([`CurrentUser::require`]). Read from the database on every
/// request (one statement, with the tenant's integrations for the page frame), so a member
/// revoked or removed loses access at once.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    /// The person.
    pub user: TenantUser,
    /// Their tenant.
    pub tenant: Tenant,
    /// The tenant's integrations, oldest first, for the frame (see `pages::Chrome`).
    pub integrations: Vec<tenants::db::FrameIntegration>,
}

impl CurrentUser {
    /// The member `who` names, if they may still sign in (one statement).
    pub async fn load(
        db: impl sqlx::PgExecutor<'_>,
        who: &SignedInUser,
    ) -> AppResult<Option<Self>> {
        Ok(tenants::db::signed_in(db, who.tenant_id, who.user_id)
            .await?
            .map(|s| Self {
                user: s.user,
                tenant: s.tenant,
                integrations: s.integrations.0,
            }))
    }
}

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, msg)| AppError::Internal(anyhow::anyhow!(msg)))?;
        let Some(signed_in) = session.get::<SignedInUser>(USER).await? else {
            return Err(AppError::SignInRequired);
        };
        let mut conn = PgPool::from_ref(state).acquire().await?;
        match Self::load(&mut *conn, &signed_in).await? {
            Some(current) => {
                tracing::Span::current()
                    .record("tenant", tracing::field::display(&current.tenant.tenant_id));
                // The page's own reads may use the same connection (see `db_conn`).
                super::db_conn::Held::leave(parts, conn);
                Ok(current)
            }
            None => {
                session.flush().await?;
                Err(AppError::SignInRequired)
            }
        }
    }
}

impl CurrentUser {
    /// Refuses anyone whose role does not allow `right` (see [`tenants::MemberRole::may`]),
    /// with a message that says who can.
    pub fn require(&self, right: Right) -> AppResult<()> {
        if self.user.may(right) {
            Ok(())
        } else {
            Err(AppError::NotPermitted(
                refusal(self.user.role, right).into(),
            ))
        }
    }

    /// Refuses anyone who may only view.
    pub fn require_change(&self) -> AppResult<()> {
        self.require(Right::EditSetup)
    }
}

/// What a person is told when their role does not allow `right`.
pub fn refusal(role: MemberRole, right: Right) -> &'static str {
    match (role, right) {
        (MemberRole::Accountant, Right::Activate) => {
            "Your client's administrators have not allowed you to activate this integration. Everything you entered is saved; ask one of them to activate it, or to allow you to."
        }
        (MemberRole::Accountant, Right::ManageMembers) => {
            "Only your client's TrackTik portal administrators can invite people or revoke access."
        }
        (MemberRole::Accountant, _) => {
            "As an invited accountant you can work on the setup and the dashboard, but only a TrackTik portal administrator can connect or disconnect companies and back-sync earlier days."
        }
        _ => VIEW_ONLY,
    }
}

/// What a person who may only view is told when they try to change something.
pub const VIEW_ONLY: &str = "You can view this portal's integrations, but only a TrackTik portal administrator can connect, disconnect, change settings or start a sync. Ask one of your portal's administrators.";

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy = Some("10.0.0.2".parse().unwrap());
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            client_addr(proxy, &h, &[]),
            "10.0.0.2",
            "no proxy is trusted"
        );
        assert_eq!(
            client_addr(proxy, &h, &nets(&["10.0.0.0/8"])),
            "203.0.113.9"
        );
        let stranger = Some("198.51.100.4".parse().unwrap());
        assert_eq!(
            client_addr(stranger, &h, &nets(&["10.0.0.0/8"])),
            "198.51.100.4",
            "a client cannot name itself"
        );
    }

    #[test]
    fn the_walk_skips_trusted_hops_and_stops_at_the_first_untrusted_or_malformed_one() {
        let proxy = Some("10.0.0.2".parse().unwrap());
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&["1.2.3.4, 203.0.113.9", "10.1.1.1"]);
        assert_eq!(
            client_addr(proxy, &h, &trusted),
            "203.0.113.9",
            "a spoofed first entry is ignored"
        );
        let h = headers(&["203.0.113.9, garbage, 10.1.1.1"]);
        assert_eq!(client_addr(proxy, &h, &trusted), "10.1.1.1");
        let h = headers(&["::ffff:203.0.113.9"]);
        assert_eq!(client_addr(proxy, &h, &trusted), "203.0.113.9");
        assert_eq!(client_addr(None, &h, &trusted), "unknown");
    }
}
