//! Extractors: the signed-in staff member, the client's address, and a form whose
//! rejection becomes an [`AppError`].

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use sqlx::PgPool;
use tower_sessions::Session;

use super::session::{STAFF_USER_ID, SignedInUser, USER};
use crate::error::AppError;
use crate::ids::StaffUserId;
use crate::staff::{self, StaffUser};
use crate::tenants::{self, Tenant, TenantUser};

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

/// The address of the client that sent the request (the socket peer).
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ci| ci.0.ip().to_string())
                .unwrap_or_else(|| "unknown".to_owned()),
        ))
    }
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

/// A path parameter; a malformed one is a 404 (the page does not exist).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct PathParam<T>(pub T);

impl From<axum::extract::rejection::PathRejection> for AppError {
    fn from(_: axum::extract::rejection::PathRejection) -> Self {
        AppError::NotFound
    }
}

/// A query string; a malformed one is a 400 that says so.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct QueryParams<T>(pub T);

impl From<axum::extract::rejection::QueryRejection> for AppError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        AppError::BadRequest(format!(
            "The address has a bad parameter: {}",
            rejection.body_text()
        ))
    }
}

/// The signed-in customer and their tenant; anyone else is sent to the home page to sign in.
/// Every customer page takes this, so every query it makes is scoped to `tenant`.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    /// The person.
    pub user: TenantUser,
    /// Their tenant.
    pub tenant: Tenant,
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
        let db = PgPool::from_ref(state);
        let user = tenants::db::get_user(&db, signed_in.tenant_id, signed_in.user_id).await?;
        let tenant = tenants::db::get(&db, signed_in.tenant_id).await?;
        match (user, tenant) {
            (Some(user), Some(tenant)) => {
                tracing::Span::current()
                    .record("tenant", tracing::field::display(&tenant.tenant_id));
                Ok(Self { user, tenant })
            }
            _ => {
                session.flush().await?;
                Err(AppError::SignInRequired)
            }
        }
    }
}
