//! Tenants (one per TrackTik portal) and the people who sign in to them.

pub mod db;
pub mod portal;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{TenantId, TenantUserId};

/// A tenant.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Tenant {
    /// Its id.
    pub tenant_id: TenantId,
    /// The TrackTik portal's base URL (its origin, e.g. `https://acme.tracktik.com`).
    pub portal_url: String,
    /// What identifies the portal: its canonical host as TrackTik names it (the access
    /// token's issuer), else as typed, made canonical (see [`portal`]).
    pub portal_key: String,
    /// The company's name.
    pub name: String,
    /// When it first signed in.
    pub created_at: DateTime<Utc>,
}

/// Someone who signed in with TrackTik.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TenantUser {
    /// Their id here.
    pub tenant_user_id: TenantUserId,
    /// Their tenant.
    pub tenant_id: TenantId,
    /// Their user id on the portal.
    pub tracktik_user_id: String,
    /// How we greet them.
    pub display_name: String,
    /// Their e-mail address, as the portal has it.
    pub email: Option<String>,
    /// What they may do, as of their latest sign-in.
    pub role: MemberRole,
}

/// What a person may do in their tenant. Read from TrackTik at every sign-in.
///
/// FUTURE: a member role for accountants and bookkeepers invited by e-mail (PRODUCT.md 5b)
/// joins these; [`MemberRole::can_change`] is where each role's rights are decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "member_role", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// A TrackTik portal administrator: connects, disconnects, sets up and runs syncs.
    PortalAdmin,
    /// Any other portal user: sees everything, changes nothing.
    Viewer,
}

impl MemberRole {
    /// Whether they may connect, disconnect, change settings or start runs.
    pub fn can_change(self) -> bool {
        match self {
            Self::PortalAdmin => true,
            Self::Viewer => false,
        }
    }

    /// The role in words.
    pub fn label(self) -> &'static str {
        match self {
            Self::PortalAdmin => "Portal administrator",
            Self::Viewer => "View only",
        }
    }
}
