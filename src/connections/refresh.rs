//! Getting a working access token: single-flight refresh under a row lock, keep-alive,
//! disconnect and key rotation.
//!
//! Single flight: a refresh happens inside a transaction that holds `SELECT … FOR UPDATE` on
//! the connection row, so two workers on two machines cannot both spend the same refresh
//! token. The second waits for the lock, then finds a fresh access token and uses it. The
//! rotated refresh token is committed before the new access token is returned to anyone.

use chrono::{Duration, Utc};
use secrecy::SecretString;

use super::{ConnectionError, Provider, Tokens, db};
use crate::ids::{ConnectionId, TenantId};
use crate::integrations;
use crate::providers::quickbooks::QboError;
use crate::providers::tracktik::{Portal, RefreshToken, TrackTikError};
use crate::state::AppState;

/// Access tokens closer than this to expiry are refreshed first.
const MARGIN_SECONDS: i64 = 120;

/// A working access token for the connection, refreshing it first if it is about to expire.
pub async fn access_token(
    state: &AppState,
    tenant_id: TenantId,
    id: ConnectionId,
) -> Result<SecretString, ConnectionError> {
    let row = db::sealed(&state.db, tenant_id, id, false)
        .await?
        .ok_or(ConnectionError::NotFound)?;
    guard_health(&row)?;
    if let (Some(expires), Some(token)) = (row.access_expires_at, row.access(&state.cipher)?) {
        if expires - Utc::now() > Duration::seconds(MARGIN_SECONDS) {
            return Ok(token);
        }
    }
    refresh(state, tenant_id, id, false).await
}

/// Refreshes now, whatever the expiry (keep-alive, or after a 401 on a token that looked valid).
pub async fn force_refresh(
    state: &AppState,
    tenant_id: TenantId,
    id: ConnectionId,
) -> Result<SecretString, ConnectionError> {
    refresh(state, tenant_id, id, true).await
}

fn guard_health(row: &db::SealedRow) -> Result<(), ConnectionError> {
    match row.health {
        super::Health::NeedsReconnect | super::Health::Disconnected => {
            Err(ConnectionError::NeedsReconnect {
                provider: row.provider.label(),
                reason: "the connection was refused earlier".into(),
            })
        }
        _ => Ok(()),
    }
}

async fn refresh(
    state: &AppState,
    tenant_id: TenantId,
    id: ConnectionId,
    force: bool,
) -> Result<SecretString, ConnectionError> {
    let started = Utc::now();
    let mut tx = state.db.begin().await?;
    let row = db::sealed(&mut *tx, tenant_id, id, true)
        .await?
        .ok_or(ConnectionError::NotFound)?;
    guard_health(&row)?;
    // Someone else may have refreshed while we waited for the lock.
    if let (Some(expires), Some(token)) = (row.access_expires_at, row.access(&state.cipher)?) {
        let fresh = expires - Utc::now() > Duration::seconds(MARGIN_SECONDS);
        let refreshed_by_other = row.refreshed_at.is_some_and(|t| t >= started);
        if fresh && (!force || refreshed_by_other) {
            tx.commit().await?;
            return Ok(token);
        }
    }
    let Some(refresh_token) = row.refresh(&state.cipher)? else {
        return Err(ConnectionError::NeedsReconnect {
            provider: row.provider.label(),
            reason: "no refresh token is stored".into(),
        });
    };

    let outcome = match row.provider {
        Provider::Quickbooks => state
            .providers
            .quickbooks_oauth
            .refresh(&refresh_token)
            .await
            .map(Tokens::from)
            .map_err(|e| match e {
                QboError::ReauthorizationRequired(reason) => Refusal::Reauthorize(reason),
                other => Refusal::Transient(other.to_string()),
            }),
        Provider::Tracktik => {
            let portal = Portal::new(&row.external_id)
                .map_err(|e| ConnectionError::Provider(e.to_string()))?;
            let rt =
                RefreshToken::new(secrecy::ExposeSecret::expose_secret(&refresh_token).to_owned());
            state
                .providers
                .tracktik
                .refresh(&portal, &state.providers.tracktik_app, &rt)
                .await
                .map(|t| Tokens::from_tracktik(t, Some(&refresh_token)))
                .map_err(|e| match e {
                    TrackTikError::ReauthorizationRequired { reason } => {
                        Refusal::Reauthorize(reason)
                    }
                    other => Refusal::Transient(other.to_string()),
                })
        }
    };

    match outcome {
        Ok(tokens) => {
            db::store_tokens(&mut *tx, &state.cipher, tenant_id, &row.owner(), &tokens).await?;
            tx.commit().await?;
            tracing::info!(tenant.id = %tenant_id, connection.id = %id, provider = row.provider.label(), "token refreshed");
            state
                .metrics
                .record_token_refresh(row.provider.label(), "ok");
            Ok(tokens.access)
        }
        Err(Refusal::Reauthorize(reason)) => {
            let words = format!(
                "{} refused the saved sign-in ({reason}). Reconnect to resume.",
                row.provider.label()
            );
            db::set_needs_reconnect(&mut *tx, tenant_id, id, &words).await?;
            let conn = db::get(&mut *tx, tenant_id, id)
                .await?
                .ok_or(ConnectionError::NotFound)?;
            integrations::db::mark_needs_reconnect(&mut *tx, tenant_id, conn.integration_id)
                .await?;
            tx.commit().await?;
            tracing::warn!(tenant.id = %tenant_id, connection.id = %id, provider = row.provider.label(), "connection needs reconnect");
            state
                .metrics
                .record_token_refresh(row.provider.label(), "refused");
            notify_lost(state, &conn, &words).await;
            Err(ConnectionError::NeedsReconnect {
                provider: row.provider.label(),
                reason,
            })
        }
        Err(Refusal::Transient(message)) => {
            tx.rollback().await?;
            state
                .metrics
                .record_token_refresh(row.provider.label(), "failed");
            Err(ConnectionError::Provider(message))
        }
    }
}

enum Refusal {
    Reauthorize(String),
    Transient(String),
}

/// Refreshes every connection not refreshed for 20 hours, so none lapses from disuse.
/// Returns (refreshed, refused, failed).
pub async fn keep_alive(state: &AppState) -> Result<(usize, usize, usize), ConnectionError> {
    let due = db::due_for_keep_alive(&state.db, 20).await?;
    let (mut ok, mut refused, mut failed) = (0, 0, 0);
    for (tenant_id, id) in due {
        match force_refresh(state, tenant_id, id).await {
            Ok(_) => ok += 1,
            Err(ConnectionError::NeedsReconnect { .. }) => refused += 1,
            Err(e) => {
                tracing::warn!(tenant.id = %tenant_id, connection.id = %id, error = %e, "keep-alive refresh failed");
                failed += 1;
            }
        }
    }
    Ok((ok, refused, failed))
}

/// Revokes the connection's tokens at the provider (where it offers revocation) and deletes
/// them here. The integration keeps every setting and waits for a reconnect.
pub async fn disconnect(
    state: &AppState,
    tenant_id: TenantId,
    id: ConnectionId,
) -> Result<(), ConnectionError> {
    let mut tx = state.db.begin().await?;
    let row = db::sealed(&mut *tx, tenant_id, id, true)
        .await?
        .ok_or(ConnectionError::NotFound)?;
    if row.provider == Provider::Quickbooks {
        if let Some(refresh) = row.refresh(&state.cipher).ok().flatten() {
            // Revoking the refresh token ends the whole grant at Intuit.
            if let Err(e) = state.providers.quickbooks_oauth.revoke(&refresh).await {
                tracing::warn!(tenant.id = %tenant_id, connection.id = %id, error = %e, "revoking at Intuit failed; tokens deleted here anyway");
            }
        }
    }
    db::set_disconnected(&mut *tx, tenant_id, id).await?;
    let conn = db::get(&mut *tx, tenant_id, id)
        .await?
        .ok_or(ConnectionError::NotFound)?;
    integrations::db::mark_needs_reconnect(&mut *tx, tenant_id, conn.integration_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Re-encrypts every stored token under the current key. Returns how many connections changed.
pub async fn rotate_keys(state: &AppState) -> Result<usize, ConnectionError> {
    let current = state.cipher.current_key_id().to_owned();
    let rows = db::sealed_under_other_keys(&state.db, &current).await?;
    let mut n = 0;
    for (tenant_id, id) in rows {
        let mut tx = state.db.begin().await?;
        let Some(row) = db::sealed(&mut *tx, tenant_id, id, true).await? else {
            continue;
        };
        let (access, refresh) = db::reseal_values(
            &state.cipher,
            &row.owner(),
            row.access(&state.cipher)?,
            row.refresh(&state.cipher)?,
        );
        db::reseal(&mut *tx, tenant_id, id, access, refresh, &current).await?;
        tx.commit().await?;
        n += 1;
    }
    Ok(n)
}

/// Mails "connection lost" once per loss (the episode is the last successful refresh).
async fn notify_lost(state: &AppState, conn: &super::Connection, words: &str) {
    let base = &state.config.public_url;
    let (link, integration) = match conn.integration_id {
        Some(id) => (
            format!("{base}/integrations/{id}"),
            integrations::db::get(&state.db, conn.tenant_id, id)
                .await
                .ok()
                .flatten(),
        ),
        None => (format!("{base}/"), None),
    };
    let episode = format!(
        "{}:{}",
        conn.connection_id,
        conn.refreshed_at.map(|t| t.timestamp()).unwrap_or_default()
    );
    let notice = crate::notices::connection_lost(
        conn.provider.label(),
        integration.as_ref(),
        words,
        &link,
        &episode,
    );
    if let Err(e) = crate::notices::send(
        &state.db,
        &state.mailer,
        conn.tenant_id,
        conn.integration_id,
        notice,
    )
    .await
    {
        tracing::warn!(tenant.id = %conn.tenant_id, error = %e, "recording the connection-lost notice failed");
    }
}

/// Mails "connection restored" when a connection that had been lost works again.
pub(crate) async fn notify_restored(
    state: &AppState,
    before: Option<&super::Connection>,
    after: &super::Connection,
) {
    if !before.is_some_and(|c| {
        matches!(
            c.health,
            super::Health::NeedsReconnect | super::Health::Disconnected
        )
    }) {
        return;
    }
    let base = &state.config.public_url;
    let (link, integration) = match after.integration_id {
        Some(id) => (
            format!("{base}/integrations/{id}"),
            integrations::db::get(&state.db, after.tenant_id, id)
                .await
                .ok()
                .flatten(),
        ),
        None => (format!("{base}/integrations"), None),
    };
    let episode = format!(
        "{}:{}",
        after.connection_id,
        after
            .refreshed_at
            .map(|t| t.timestamp())
            .unwrap_or_default()
    );
    let notice = crate::notices::connection_restored(
        after.provider.label(),
        integration.as_ref(),
        &link,
        &episode,
    );
    if let Err(e) = crate::notices::send(
        &state.db,
        &state.mailer,
        after.tenant_id,
        after.integration_id,
        notice,
    )
    .await
    {
        tracing::warn!(tenant.id = %after.tenant_id, error = %e, "recording the connection-restored notice failed");
    }
}
