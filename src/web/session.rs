//! Typed session keys. The session holds only who is signed in and short-lived flow state
//! (CSRF token, OAuth state); everything else lives in Postgres.

use serde::{Deserialize, Serialize};

use crate::ids::IntegrationId;

/// The form token compared by the CSRF check.
pub const CSRF_TOKEN: &str = "csrf.token";
/// The signed-in staff member's id.
pub const STAFF_USER_ID: &str = "staff.user_id";
/// The signed-in customer: [`SignedInUser`].
pub const USER: &str = "user";
/// A TrackTik sign-in in progress: [`PendingTrackTik`].
pub const OAUTH_TRACKTIK: &str = "oauth.tracktik";
/// A QuickBooks connect in progress: [`PendingQuickBooks`].
pub const OAUTH_QUICKBOOKS: &str = "oauth.quickbooks";

/// Who is signed in, by id.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct SignedInUser {
    /// Their tenant.
    pub tenant_id: crate::ids::TenantId,
    /// Themselves.
    pub user_id: crate::ids::TenantUserId,
}

/// What the TrackTik callback must match.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingTrackTik {
    /// The `state` sent to TrackTik.
    pub state: String,
    /// The PKCE verifier.
    pub verifier: String,
    /// The portal the customer typed, made canonical: where to reach it.
    pub portal: String,
    /// Its canonical host, the tenant's key unless the portal names itself otherwise.
    #[serde(default)]
    pub portal_key: String,
}

/// What the QuickBooks callback must match.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingQuickBooks {
    /// The `state` sent to Intuit.
    pub state: String,
    /// The integration being reconnected, if this is a reconnect.
    pub reconnect: Option<IntegrationId>,
}
