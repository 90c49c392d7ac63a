//! One database connection for a page's reads, shared with the sign-in check before it.
//!
//! sqlx tests a connection with a round trip when it is taken from the pool and again when it
//! goes back (and spawns a task to put it back), so every checkout costs two round trips
//! besides the statements run on it. [`CurrentUser`](super::extract::CurrentUser) leaves the
//! connection it read the member on in the request, on a GET; a page that takes [`Db`] after
//! it runs its own statements on that same connection. A page that does not take it gives it
//! back as soon as its extractors are done (axum drops the request's parts then), and POSTs
//! never hold one while their body is read.

use std::sync::{Arc, Mutex};

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

use crate::error::AppError;

/// The connection [`CurrentUser`](super::extract::CurrentUser) used, left for the page.
#[derive(Clone)]
pub(super) struct Held(Arc<Mutex<Option<PoolConnection<Postgres>>>>);

impl Held {
    /// Leaves `conn` in the request for a [`Db`] after it, on requests without a body.
    pub(super) fn leave(parts: &mut Parts, conn: PoolConnection<Postgres>) {
        if parts.method == axum::http::Method::GET || parts.method == axum::http::Method::HEAD {
            parts
                .extensions
                .insert(Self(Arc::new(Mutex::new(Some(conn)))));
        }
    }

    fn take(&self) -> Option<PoolConnection<Postgres>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// A pooled connection for the page: the one the sign-in check used when there is one, else
/// a fresh one. Dereferences to the connection (`&mut *db` is an executor); it goes back to
/// the pool when dropped, so a page drops it before anything slow (a provider's API).
pub struct Db(pub PoolConnection<Postgres>);

impl<S> FromRequestParts<S> for Db
where
    S: Send + Sync,
    PgPool: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(conn) = parts.extensions.get::<Held>().and_then(Held::take) {
            return Ok(Self(conn));
        }
        Ok(Self(PgPool::from_ref(state).acquire().await?))
    }
}

impl std::ops::Deref for Db {
    type Target = sqlx::PgConnection;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Db {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}
