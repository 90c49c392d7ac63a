//! Housekeeping, every 15 minutes on every worker (each step is idempotent): forget expired
//! sessions and day-old sign-in attempts.

use apalis::prelude::*;
use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::PostgresStore;

use crate::staff;
use crate::state::AppState;

/// Seconds, minutes, hours, day of month, month, day of week.
pub const SCHEDULE: &str = "0 */15 * * * *";

/// The cron tick's payload.
#[derive(Clone, Debug, Default)]
pub struct Housekeeping;

/// One housekeeping pass.
pub async fn run(_: Housekeeping, state: Data<AppState>) -> Result<(), Error> {
    let attempts = staff::db::delete_old_attempts(&state.db)
        .await
        .map_err(|e| super::job_error(e.into()))?;
    PostgresStore::new(state.db.clone())
        .delete_expired()
        .await
        .map_err(|e| super::job_error(anyhow::anyhow!(e)))?;
    tracing::info!(sign_in_attempts_deleted = attempts, "housekeeping done");
    Ok(())
}
