//! Reminders 24 hours and 1 hour before each booked session, to both sides. Each is claimed
//! in the database before it is sent, so several workers never send one twice.

use chrono::Utc;
use sqlx::PgPool;

use super::mail::{Event, notify};
use crate::notices::Mailer;

/// Sends every reminder due now; returns how many sessions were reminded.
pub async fn send_due(db: &PgPool, mailer: &Mailer, public_url: &str) -> anyhow::Result<usize> {
    let mut sent = 0;
    for hours in [24, 1] {
        for session in super::db::claim_reminders(db, hours, Utc::now()).await? {
            notify(db, mailer, public_url, &session, Event::Reminder(hours)).await?;
            sent += 1;
        }
    }
    Ok(sent)
}
