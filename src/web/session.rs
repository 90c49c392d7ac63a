//! Typed session keys. The session holds only who is signed in and short-lived flow state
//! (CSRF token, OAuth state); everything else lives in Postgres.

/// The form token compared by the CSRF check.
pub const CSRF_TOKEN: &str = "csrf.token";
/// The signed-in staff member's id.
pub const STAFF_USER_ID: &str = "staff.user_id";
