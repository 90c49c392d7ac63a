//! SQL for staff accounts and sign-in attempts.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::{StaffRole, StaffUser};
use crate::ids::StaffUserId;

const COLUMNS: &str = "staff_user_id, email, password_hash, role, created_at, time_zone";

/// The account with this email (case-insensitive), if any.
pub async fn find_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Option<StaffUser>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from staff_user where lower(email) = lower($1)"
    ))
    .bind(email)
    .fetch_optional(db)
    .await
}

/// The account with this id, if it still exists.
pub async fn get(db: impl PgExecutor<'_>, id: StaffUserId) -> sqlx::Result<Option<StaffUser>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from staff_user where staff_user_id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Every staff account, by email.
pub async fn list(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<StaffUser>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from staff_user order by lower(email)"
    ))
    .fetch_all(db)
    .await
}

/// Sets a staff member's time zone (an IANA name the caller checked).
pub async fn set_time_zone(
    db: impl PgExecutor<'_>,
    id: StaffUserId,
    zone: &str,
) -> sqlx::Result<()> {
    sqlx::query("update staff_user set time_zone = $2 where staff_user_id = $1")
        .bind(id)
        .bind(zone)
        .execute(db)
        .await?;
    Ok(())
}

/// Inserts an account, or updates the password and role of the one with that email.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    email: &str,
    password_hash: &str,
    role: StaffRole,
) -> sqlx::Result<StaffUser> {
    sqlx::query_as(&format!(
        "insert into staff_user (email, password_hash, role) values ($1, $2, $3)
         on conflict (lower(email)) do update set password_hash = excluded.password_hash, role = excluded.role
         returning {COLUMNS}"
    ))
    .bind(email)
    .bind(password_hash)
    .bind(role)
    .fetch_one(db)
    .await
}

/// What is recorded as the e-mail of an attempt whose e-mail was not an address.
pub const NOT_AN_ADDRESS: &str = "";

/// Failed (or still running) attempts of the last day, for one account from one address and
/// for the address overall, each since its last success, with when the latest was.
#[derive(Debug, sqlx::FromRow)]
pub struct RecentFailures {
    /// For the account (lower-cased e-mail) from the address.
    pub account: i64,
    /// When the latest of those was.
    pub account_last: Option<DateTime<Utc>>,
    /// From the address, any account.
    pub address: i64,
    /// When the latest of those was.
    pub address_last: Option<DateTime<Utc>>,
    /// The database's clock.
    pub now: DateTime<Utc>,
}

/// Locks the client address's attempts until the transaction ends (so deciding and
/// recording an attempt is one step for concurrent tries), then counts its recent failures.
pub async fn recent_failures(
    conn: &mut PgConnection,
    email: &str,
    client_addr: &str,
) -> sqlx::Result<RecentFailures> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('staff-sign-in:' || $1, 0))")
        .bind(client_addr)
        .execute(&mut *conn)
        .await?;
    sqlx::query_as(
        "with recent as (
             select * from staff_sign_in_attempt
             where client_addr = $2 and attempted_at > now() - interval '1 day'
         ),
         account as (
             select count(*) as n, max(attempted_at) as last from recent
             where lower(email) = $1 and succeeded is not true
               and attempted_at > coalesce((select max(attempted_at) from recent
                                            where lower(email) = $1 and succeeded), '-infinity')
         ),
         address as (
             select count(*) as n, max(attempted_at) as last from recent
             where succeeded is not true
               and attempted_at > coalesce((select max(attempted_at) from recent where succeeded),
                                           '-infinity')
         )
         select account.n as account, account.last as account_last,
                address.n as address, address.last as address_last, now() as now
         from account, address",
    )
    .bind(email)
    .bind(client_addr)
    .fetch_one(&mut *conn)
    .await
}

/// Records an attempt whose password is about to be checked (`succeeded` null until then).
pub async fn begin_attempt(
    db: impl PgExecutor<'_>,
    email: &str,
    client_addr: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "insert into staff_sign_in_attempt (email, client_addr, succeeded) values ($1, $2, null)
         returning staff_sign_in_attempt_id",
    )
    .bind(email)
    .bind(client_addr)
    .fetch_one(db)
    .await
}

/// Records how a checked attempt turned out.
pub async fn finish_attempt(
    db: impl PgExecutor<'_>,
    attempt: i64,
    succeeded: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "update staff_sign_in_attempt set succeeded = $2 where staff_sign_in_attempt_id = $1",
    )
    .bind(attempt)
    .bind(succeeded)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets attempts older than a day (housekeeping).
pub async fn delete_old_attempts(db: impl PgExecutor<'_>) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "delete from staff_sign_in_attempt where attempted_at < now() - interval '1 day'",
    )
    .execute(db)
    .await?
    .rows_affected())
}
