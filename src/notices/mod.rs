//! E-mail notices: connection lost, connection restored, and (from the sync) new failures;
//! and the mail of members and expert sessions, through the same [`deliver`].
//!
//! Each notice has a key; the `notice` table holds one row per key, so the same event never
//! mails twice, even when several workers see it. Recipients are the notification addresses
//! of the integration's schedule step. Without `LEDGERBRIDGE_SMTP_URL` nothing is sent: the
//! notice is recorded as not delivered and logged (in `demo`, it goes to the outbox page).

use sqlx::PgPool;

pub use crate::providers::mail::{Attachment, Email, Mailer, Outbox, OutboxMessage};

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::{self, Integration};

/// One notice to send.
#[derive(Clone, Debug)]
pub struct Notice {
    /// `connection_lost`, `connection_restored`, `sync_failures`.
    pub kind: &'static str,
    /// One row per key: the same key never mails twice.
    pub dedupe_key: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// The notification addresses of an integration, or of every integration of the tenant.
async fn recipients(
    db: &PgPool,
    tenant_id: TenantId,
    only: Option<IntegrationId>,
) -> sqlx::Result<Vec<String>> {
    let mut all: Vec<String> = Vec::new();
    for integration in integrations::db::list(db, tenant_id).await? {
        if only.is_some_and(|id| id != integration.integration_id) {
            continue;
        }
        let settings =
            integrations::db::settings(db, tenant_id, integration.integration_id).await?;
        for email in settings.schedule.notify_emails {
            if !all.iter().any(|e| e.eq_ignore_ascii_case(&email)) {
                all.push(email);
            }
        }
    }
    Ok(all)
}

/// Sends `notice` once per key to the integration's (or the tenant's) notification addresses.
/// Returns whether a new notice was recorded.
pub async fn send(
    db: &PgPool,
    mailer: &Mailer,
    tenant_id: TenantId,
    integration_id: Option<IntegrationId>,
    notice: Notice,
) -> anyhow::Result<bool> {
    let to = recipients(db, tenant_id, integration_id).await?;
    let email = Email {
        to,
        subject: notice.subject,
        text: notice.body,
        attachments: Vec::new(),
    };
    deliver(
        db,
        mailer,
        tenant_id,
        integration_id,
        notice.kind,
        &notice.dedupe_key,
        &email,
    )
    .await
}

/// Sends `email` once per `dedupe_key` of the tenant, recording it in `notice` (its subject
/// and recipients, whether it was delivered; never its body). Returns whether this call
/// claimed the key (a second call with the same key sends nothing).
pub async fn deliver(
    db: &PgPool,
    mailer: &Mailer,
    tenant_id: TenantId,
    integration_id: Option<IntegrationId>,
    kind: &str,
    dedupe_key: &str,
    email: &Email,
) -> anyhow::Result<bool> {
    // Claim the key first: only one process sends a given message.
    let claimed = sqlx::query(
        "insert into notice (tenant_id, integration_id, dedupe_key, kind, subject, recipients, delivered)
         values ($1, $2, $3, $4, $5, $6, false) on conflict (tenant_id, dedupe_key) do nothing",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(dedupe_key)
    .bind(kind)
    .bind(&email.subject)
    .bind(&email.to)
    .execute(db)
    .await?
    .rows_affected()
        == 1;
    if !claimed {
        return Ok(false);
    }
    let outcome = if email.to.is_empty() {
        Err(anyhow::anyhow!(
            "no notification address is set in the schedule step"
        ))
    } else {
        mailer.send_email(email).await
    };
    let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
    sqlx::query(
        "update notice set delivered = $3, error = $4 where tenant_id = $1 and dedupe_key = $2",
    )
    .bind(tenant_id)
    .bind(dedupe_key)
    .bind(outcome.is_ok())
    .bind(&error)
    .execute(db)
    .await?;
    match error {
        None => {
            tracing::info!(tenant.id = %tenant_id, kind, recipients = email.to.len(), "notice sent")
        }
        Some(e) => {
            tracing::warn!(tenant.id = %tenant_id, kind, error = %e, "notice not delivered")
        }
    }
    Ok(true)
}

fn company_line(integration: Option<&Integration>) -> String {
    integration
        .map(|i| format!(" for {}", i.company_name))
        .unwrap_or_default()
}

/// "We lost the connection": sent once per loss.
pub fn connection_lost(
    provider: &str,
    integration: Option<&Integration>,
    reason: &str,
    link: &str,
    episode: &str,
) -> Notice {
    Notice {
        kind: "connection_lost",
        dedupe_key: format!("connection_lost:{episode}"),
        subject: format!(
            "Action needed: reconnect {provider}{}",
            company_line(integration)
        ),
        body: format!(
            "Ledgerbridge can no longer reach {provider}{}.\n\n{reason}\n\nNightly syncs are paused until you reconnect. \
             Reconnecting keeps every setting, and the days missed meanwhile are caught up afterwards.\n\nReconnect here: {link}\n",
            company_line(integration)
        ),
    }
}

/// "The connection works again": sent once per restoration.
pub fn connection_restored(
    provider: &str,
    integration: Option<&Integration>,
    link: &str,
    episode: &str,
) -> Notice {
    Notice {
        kind: "connection_restored",
        dedupe_key: format!("connection_restored:{episode}"),
        subject: format!("{provider} reconnected{}", company_line(integration)),
        body: format!(
            "{provider} is connected again{}. Nightly syncs resume, and the days missed while it was disconnected will be caught up.\n\nSee the integration: {link}\n",
            company_line(integration)
        ),
    }
}
