//! Support staff: accounts, passwords, and the sign-in rules (waits that double after failed
//! tries, a cap on concurrent password checks, audit).

pub mod db;
pub mod password;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tokio::sync::Semaphore;

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
    /// Their time zone (IANA name): console times and their availability are in it.
    pub time_zone: String,
}

/// Why a sign-in did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong email or password (we do not say which).
    #[error("email or password is incorrect")]
    BadCredentials,
    /// Too many recent failures for this account from this address, or from this address
    /// overall: the next try must wait.
    #[error("too many failed sign-ins; try again in {seconds} seconds")]
    TryLater {
        /// How long the caller should wait.
        seconds: i64,
    },
    /// Every password check slot is taken; nothing was checked or counted.
    #[error("too many sign-ins at once")]
    Busy,
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
    /// Failures allowed for one account from one address (four times as many from one
    /// address overall) before each further try must wait.
    pub max_failures: i64,
    /// The longest wait, in minutes.
    pub max_wait_minutes: i64,
}

/// The first wait once the free failures are used up; each further failure doubles it.
pub const FIRST_WAIT_SECONDS: i64 = 30;

impl SignInPolicy {
    /// How long to wait after `failures` failures, the last at `last`, as of `now`: nothing
    /// for the first `free`, then 30 s, 60 s, 2 min, … up to the longest wait.
    pub fn wait(
        &self,
        failures: i64,
        free: i64,
        last: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> i64 {
        let (Some(last), true) = (last, failures >= free) else {
            return 0;
        };
        let doublings = u32::try_from((failures - free).min(20)).unwrap_or(20);
        let delay = (FIRST_WAIT_SECONDS << doublings).min(self.max_wait_minutes * 60);
        (last + chrono::TimeDelta::seconds(delay) - now)
            .num_seconds()
            .max(0)
    }
}

/// The e-mail as typed, kept (lower-cased) only when it is a well-formed address: a password
/// typed into the wrong field must never be stored or logged.
pub fn well_formed_email(typed: &str) -> Option<String> {
    let typed = typed.trim();
    let address = typed.parse::<lettre::Address>().ok()?;
    (typed.len() <= 254 && address.domain().contains('.') && !typed.contains(char::is_whitespace))
        .then(|| typed.to_lowercase())
}

/// Checks a staff member's email and password. At most `hashing`'s permits are checked at
/// once ([`SignInError::Busy`] beyond). The attempt is recorded before the password is
/// checked, in one transaction per client address with the decision to allow it, so
/// concurrent tries cannot get past the limits; then it is marked as it turned out.
/// Failures make further tries for the same account from the same address wait, doubling
/// (and, more leniently, any try from that address), so nobody can lock out an account from
/// elsewhere. Every outcome is audited, with the e-mail only when it is well-formed.
pub async fn sign_in(
    db: &PgPool,
    policy: SignInPolicy,
    hashing: &Semaphore,
    email: &str,
    password: &str,
    client_addr: &str,
) -> Result<StaffUser, SignInError> {
    let account = well_formed_email(email);
    let key = account.as_deref().unwrap_or(db::NOT_AN_ADDRESS);
    let shown =
        serde_json::json!({ "email": account.as_deref().unwrap_or("(not an e-mail address)") });
    let _permit = hashing.try_acquire().map_err(|_| SignInError::Busy)?;

    let mut tx = db.begin().await?;
    let recent = db::recent_failures(&mut tx, key, client_addr).await?;
    let wait = policy
        .wait(
            recent.account,
            policy.max_failures,
            recent.account_last,
            recent.now,
        )
        .max(policy.wait(
            recent.address,
            policy.max_failures * 4,
            recent.address_last,
            recent.now,
        ));
    if wait > 0 {
        tx.commit().await?;
        audit::record(
            db,
            Actor::Anonymous,
            "staff.sign_in_refused",
            None,
            serde_json::json!({ "email": shown["email"], "wait_seconds": wait }),
            Some(client_addr),
        )
        .await?;
        return Err(SignInError::TryLater { seconds: wait });
    }
    let attempt = db::begin_attempt(&mut *tx, key, client_addr).await?;
    tx.commit().await?;

    let user = match &account {
        Some(email) => db::find_by_email(db, email).await?,
        None => None,
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let ok = password::verify(password.to_owned(), hash).await? && user.is_some();
    db::finish_attempt(db, attempt, ok).await?;
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
                shown,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_failures_and_double_up_to_the_longest() {
        let policy = SignInPolicy {
            max_failures: 5,
            max_wait_minutes: 15,
        };
        let now = Utc::now();
        assert_eq!(policy.wait(4, 5, Some(now), now), 0);
        assert_eq!(policy.wait(5, 5, Some(now), now), 30);
        assert_eq!(policy.wait(6, 5, Some(now), now), 60);
        assert_eq!(policy.wait(8, 5, Some(now), now), 240);
        assert_eq!(policy.wait(40, 5, Some(now), now), 900, "capped");
        let long_ago = now - chrono::TimeDelta::minutes(20);
        assert_eq!(
            policy.wait(40, 5, Some(long_ago), now),
            0,
            "the wait is over"
        );
    }

    #[test]
    fn only_a_well_formed_email_is_kept() {
        assert_eq!(
            well_formed_email(" Ada@Ledgerbridge.test ").as_deref(),
            Some("ada@ledgerbridge.test")
        );
        for not_an_address in [
            "hunter2 correct horse",
            "P@ssw0rd!",
            "ada@localhost",
            "",
            "a b@c.d",
        ] {
            assert_eq!(well_formed_email(not_an_address), None, "{not_an_address}");
        }
    }
}
