//! Support staff: accounts, passwords, and the sign-in rules (rate limit, audit).

pub mod db;
pub mod password;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use crate::audit::{self, Actor};
use crate::ids::StaffUserId;

/// What a staff member may do.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, clap::ValueEnum,
)]
#[sqlx(type_name = "staff_role", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Reviews customers' setups and failures.
    Support,
    /// Support, plus administration.
    Admin,
}

impl StaffRole {
    /// The role as people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Support => "Support",
            Self::Admin => "Admin",
        }
    }
}

/// A staff account as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StaffUser {
    /// Its id.
    pub staff_user_id: StaffUserId,
    /// Sign-in address.
    pub email: String,
    /// argon2 PHC string.
    pub password_hash: String,
    /// What they may do.
    pub role: StaffRole,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
}

/// Why a sign-in did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong email or password (we do not say which).
    #[error("email or password is incorrect")]
    BadCredentials,
    /// Too many recent failures for this account or this address.
    #[error("too many failed sign-ins; try again in {minutes} minutes")]
    LockedOut {
        /// How long the caller should wait.
        minutes: i64,
    },
    /// The database or the hasher failed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for SignInError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(e.into())
    }
}

/// The limits that apply to failed sign-ins.
#[derive(Clone, Copy, Debug)]
pub struct SignInPolicy {
    /// Failures allowed in the window, per account and per client address.
    pub max_failures: i64,
    /// The window, in minutes.
    pub window_minutes: i64,
}

/// Checks a staff member's email and password, applying the rate limit and writing the
/// attempt and an audit event either way.
pub async fn sign_in(
    db: &PgPool,
    policy: SignInPolicy,
    email: &str,
    password: &str,
    client_addr: &str,
) -> Result<StaffUser, SignInError> {
    let email = email.trim();
    let failures = db::count_recent_failures(db, email, client_addr, policy.window_minutes).await?;
    if failures >= policy.max_failures {
        audit::record(
            db,
            Actor::Anonymous,
            "staff.sign_in_refused",
            None,
            serde_json::json!({ "email": email, "reason": "too many failures" }),
            Some(client_addr),
        )
        .await?;
        return Err(SignInError::LockedOut {
            minutes: policy.window_minutes,
        });
    }

    let user = db::find_by_email(db, email).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = password::verify(password.to_owned(), hash).await?;

    db::record_attempt(db, email, client_addr, ok).await?;
    match (ok, user) {
        (true, Some(user)) => {
            audit::record(
                db,
                Actor::Staff(user.staff_user_id, user.email.clone()),
                "staff.sign_in",
                None,
                serde_json::json!({}),
                Some(client_addr),
            )
            .await?;
            Ok(user)
        }
        _ => {
            audit::record(
                db,
                Actor::Anonymous,
                "staff.sign_in_failed",
                None,
                serde_json::json!({ "email": email }),
                Some(client_addr),
            )
            .await?;
            Err(SignInError::BadCredentials)
        }
    }
}

/// Creates a staff account, or replaces the password and role of an existing one.
pub async fn add(
    db: &PgPool,
    email: &str,
    role: StaffRole,
    password: &str,
) -> anyhow::Result<StaffUser> {
    let email = email.trim();
    anyhow::ensure!(
        email.contains('@') && !email.starts_with('@') && !email.ends_with('@'),
        "EMAIL must be an email address such as support@ledgerbridge.example"
    );
    anyhow::ensure!(
        password.chars().count() >= 12,
        "the password must be at least 12 characters long"
    );
    let hash = password::hash(password.to_owned()).await?;
    let user = db::upsert(db, email, &hash, role).await?;
    audit::record(
        db,
        Actor::System,
        "staff.account_saved",
        None,
        serde_json::json!({ "email": email, "role": role }),
        None,
    )
    .await?;
    Ok(user)
}
