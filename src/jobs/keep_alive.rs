//! Keep-alive, every hour on every worker: refresh each connection not refreshed for 20 hours,
//! so no refresh token lapses from disuse. The refresh is single-flight per connection (a row
//! lock), so several workers running this at once refresh each connection once.

use apalis::prelude::*;

use crate::connections;
use crate::state::AppState;

/// Seconds, minutes, hours, day of month, month, day of week.
pub const SCHEDULE: &str = "0 7 * * * *";

/// The cron tick's payload.
#[derive(Clone, Debug, Default)]
pub struct KeepAlive;

/// One keep-alive pass.
pub async fn run(_: KeepAlive, state: Data<AppState>) -> Result<(), Error> {
    let (ok, refused, failed) = connections::keep_alive(&state)
        .await
        .map_err(|e| super::job_error(e.into()))?;
    tracing::info!(
        refreshed = ok,
        needs_reconnect = refused,
        failed,
        "keep-alive done"
    );
    Ok(())
}
