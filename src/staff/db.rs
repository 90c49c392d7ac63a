//! SQL for staff accounts and sign-in attempts.

use sqlx::PgExecutor;

use super::{StaffRole, StaffUser};
use crate::ids::StaffUserId;

const COLUMNS: &str = "staff_user_id, email, password_hash, role, created_at";

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

/// Records one sign-in attempt.
pub async fn record_attempt(
    db: impl PgExecutor<'_>,
    email: &str,
    client_addr: &str,
    succeeded: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into staff_sign_in_attempt (email, client_addr, succeeded) values ($1, $2, $3)",
    )
    .bind(email)
    .bind(client_addr)
    .bind(succeeded)
    .execute(db)
    .await?;
    Ok(())
}

/// Failed attempts in the last `minutes`, counted for this email or this client address,
/// whichever is higher. A success for the email resets its count.
pub async fn count_recent_failures(
    db: impl PgExecutor<'_>,
    email: &str,
    client_addr: &str,
    minutes: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "with recent as (
             select * from staff_sign_in_attempt
             where attempted_at > now() - make_interval(mins => $3::int)
         ),
         by_email as (
             select count(*) as n from recent
             where lower(email) = lower($1) and not succeeded
               and attempted_at > coalesce((select max(attempted_at) from recent
                                            where lower(email) = lower($1) and succeeded), '-infinity')
         ),
         by_addr as (
             select count(*) as n from recent where client_addr = $2 and not succeeded
         )
         select greatest((select n from by_email), (select n from by_addr))",
    )
    .bind(email)
    .bind(client_addr)
    .bind(minutes)
    .fetch_one(db)
    .await
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
