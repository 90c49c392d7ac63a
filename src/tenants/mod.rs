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
    /// Their user id on the portal; none for a member invited by e-mail (an accountant).
    pub tracktik_user_id: Option<String>,
    /// How we greet them.
    pub display_name: String,
    /// Their e-mail address, as the portal has it.
    pub email: Option<String>,
    /// What they may do, as of their latest sign-in.
    pub role: MemberRole,
    /// For an accountant: whether their administrators let them activate the integration.
    pub may_activate: bool,
}

/// What a person may do in their tenant: read from TrackTik at every sign-in for portal users;
/// given by an administrator's invitation for accountants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "member_role", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MemberRole {
    /// A TrackTik portal administrator: connects, disconnects, sets up, runs syncs, invites.
    PortalAdmin,
    /// Any other portal user: sees everything, changes nothing.
    Viewer,
    /// An accountant or bookkeeper invited by e-mail (no TrackTik account): works on the
    /// wizard and the dashboard, never connects, disconnects or invites.
    Accountant,
}

/// Something a person may or may not do; [`MemberRole::may`] decides, in one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Right {
    /// Connect, reconnect or disconnect a QuickBooks company.
    Connect,
    /// Change the setup (the wizard's steps, Express).
    EditSetup,
    /// Activate an integration (Save + Continue on the review); an accountant only when
    /// their administrators allow it.
    Activate,
    /// Sync now and Retry failed.
    RunSync,
    /// Back-sync a range of earlier days.
    BackSync,
    /// Roll back a night: void or delete what it posted in QuickBooks.
    RollBack,
    /// Book, reschedule or cancel an expert session.
    BookExpert,
    /// Invite members, resend their links and revoke them.
    ManageMembers,
}

impl MemberRole {
    /// Whether this role may do `right` (`may_activate` is the person's own permission to
    /// activate, which only matters for accountants).
    pub fn may(self, right: Right, may_activate: bool) -> bool {
        match self {
            Self::PortalAdmin => true,
            Self::Viewer => false,
            Self::Accountant => match right {
                Right::EditSetup | Right::RunSync | Right::RollBack | Right::BookExpert => true,
                Right::Activate => may_activate,
                Right::Connect | Right::BackSync | Right::ManageMembers => false,
            },
        }
    }

    /// Whether they may change anything at all (else the pages say they can only view).
    pub fn can_change(self) -> bool {
        !matches!(self, Self::Viewer)
    }

    /// The role in words.
    pub fn label(self) -> &'static str {
        match self {
            Self::PortalAdmin => "Portal administrator",
            Self::Viewer => "View only",
            Self::Accountant => "Accountant",
        }
    }
}

impl TenantUser {
    /// Whether this person may do `right`.
    pub fn may(&self, right: Right) -> bool {
        self.role.may(right, self.may_activate)
    }
}
