//! Expert-session reminders, every 5 minutes on every worker: e-mails both sides 24 hours and
//! 1 hour before each booked session. Each reminder is claimed in the database first, so
//! several workers send it once.

use std::str::FromStr;

use anyhow::Context;
use apalis::prelude::*;
use apalis_cron::{CronStream, Schedule};

use crate::state::AppState;

/// Seconds, minutes, hours, day of month, month, day of week.
pub const SCHEDULE: &str = "30 */5 * * * *";

/// The cron tick's payload.
#[derive(Clone, Debug, Default)]
pub struct ExpertReminders;

/// One pass: every reminder due now.
pub async fn run(_: ExpertReminders, state: Data<AppState>) -> Result<(), Error> {
    let sent =
        crate::experts::reminders::send_due(&state.db, &state.mailer, &state.config.public_url)
            .await
            .map_err(super::job_error)?;
    if sent > 0 {
        tracing::info!(sessions = sent, "expert-session reminders sent");
    }
    Ok(())
}

/// Adds the cron worker to `monitor`.
pub fn register(monitor: Monitor, state: &AppState) -> anyhow::Result<Monitor> {
    Ok(monitor.register(
        WorkerBuilder::new("expert-reminders")
            .enable_tracing()
            .data(state.clone())
            .backend(CronStream::new(
                Schedule::from_str(SCHEDULE).context("the reminders schedule is invalid")?,
            ))
            .build_fn(run),
    ))
}
