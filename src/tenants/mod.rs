//! Tenants: one per TrackTik portal.

pub mod db;

use chrono::{DateTime, Utc};

use crate::ids::TenantId;

/// A tenant as listed in the support console.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Tenant {
    /// Its id.
    pub tenant_id: TenantId,
    /// The TrackTik portal's base URL.
    pub portal_url: String,
    /// The company's name.
    pub name: String,
    /// When it first signed in.
    pub created_at: DateTime<Utc>,
}
