//! SQL for connections. Tokens are sealed before they reach SQL and opened after they leave it.

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use sqlx::{PgConnection, PgExecutor};

use super::{Connection, Health, Provider, Tokens};
use crate::crypto::{Sealed, TokenCipher};
use crate::ids::{ConnectionId, IntegrationId, TenantId};

pub(crate) const COLUMNS: &str = "connection_id, tenant_id, integration_id, provider, external_id, health, health_reason, \
                       access_expires_at, refresh_expires_at, refreshed_at";

/// The binding every new seal uses (see [`context`]).
const BINDING: i16 = 2;

/// Which connection a token belongs to, as the sealing names it.
#[derive(Clone, Copy, Debug)]
pub struct TokenOwner<'a> {
    /// The connection.
    pub id: ConnectionId,
    /// Its side.
    pub provider: Provider,
    /// Its portal URL (TrackTik) or realm id (QuickBooks).
    pub external_id: &'a str,
}

/// The associated data a token is sealed with. Binding 1 (tokens sealed before bindings
/// existed) names the connection and the column; binding 2 also names the portal or the
/// realm, so a ciphertext copied to a row that points elsewhere, or a row whose portal or
/// realm is changed under it, does not open. Refreshes and `rotate-keys` move old tokens to 2.
fn context(owner: &TokenOwner<'_>, which: &str, binding: i16) -> String {
    let id = owner.id;
    match binding {
        1 => format!("connection:{id}:{which}"),
        _ => format!(
            "connection:{id}:{which}:{}:{}",
            match owner.provider {
                Provider::Tracktik => "tracktik",
                Provider::Quickbooks => "quickbooks",
            },
            owner.external_id
        ),
    }
}

/// The tenant's TrackTik connection.
pub async fn tracktik_for_tenant(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
) -> sqlx::Result<Option<Connection>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from connection where tenant_id = $1 and provider = 'tracktik'"
    ))
    .bind(tenant_id)
    .fetch_optional(db)
    .await
}

/// The QuickBooks connection of an integration.
pub async fn quickbooks_for_integration(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Option<Connection>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from connection where tenant_id = $1 and integration_id = $2 and provider = 'quickbooks'"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_optional(db)
    .await
}

/// The tenant's TrackTik connection and the integration's QuickBooks one (what
/// [`tracktik_for_tenant`] and [`quickbooks_for_integration`] read), in one statement.
pub async fn both_sides(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<(Option<Connection>, Option<Connection>)> {
    let rows: Vec<Connection> = sqlx::query_as(&format!(
        "select {COLUMNS} from connection where tenant_id = $1
         and (provider = 'tracktik' or (provider = 'quickbooks' and integration_id = $2))"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(db)
    .await?;
    let mut sides = (None, None);
    for c in rows {
        match c.provider {
            Provider::Tracktik => sides.0 = Some(c),
            Provider::Quickbooks => sides.1 = Some(c),
        }
    }
    Ok(sides)
}

/// One connection of the tenant.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: ConnectionId,
) -> sqlx::Result<Option<Connection>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from connection where tenant_id = $1 and connection_id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Saves the TrackTik connection of a tenant with fresh tokens (first sign-in or a later one).
pub async fn save_tracktik(
    conn: &mut PgConnection,
    cipher: &TokenCipher,
    tenant_id: TenantId,
    portal_url: &str,
    tokens: &Tokens,
) -> sqlx::Result<Connection> {
    let id: ConnectionId = sqlx::query_scalar(
        "insert into connection (tenant_id, provider, external_id) values ($1, 'tracktik', $2)
         on conflict (tenant_id) where provider = 'tracktik' do update set external_id = excluded.external_id
         returning connection_id",
    )
    .bind(tenant_id)
    .bind(portal_url)
    .fetch_one(&mut *conn)
    .await?;
    let owner = TokenOwner {
        id,
        provider: Provider::Tracktik,
        external_id: portal_url,
    };
    store_tokens(&mut *conn, cipher, tenant_id, &owner, tokens).await?;
    Ok(get(&mut *conn, tenant_id, id).await?.expect("just saved"))
}

/// Saves the QuickBooks connection of an integration with fresh tokens.
pub async fn save_quickbooks(
    conn: &mut PgConnection,
    cipher: &TokenCipher,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    realm_id: &str,
    tokens: &Tokens,
) -> sqlx::Result<Connection> {
    let id: ConnectionId = sqlx::query_scalar(
        "insert into connection (tenant_id, integration_id, provider, external_id) values ($1, $2, 'quickbooks', $3)
         on conflict (tenant_id, integration_id) where provider = 'quickbooks' do update set external_id = excluded.external_id
         returning connection_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(realm_id)
    .fetch_one(&mut *conn)
    .await?;
    let owner = TokenOwner {
        id,
        provider: Provider::Quickbooks,
        external_id: realm_id,
    };
    store_tokens(&mut *conn, cipher, tenant_id, &owner, tokens).await?;
    Ok(get(&mut *conn, tenant_id, id).await?.expect("just saved"))
}

/// Seals and stores a token pair for `owner` (whose `external_id` must be the row's); the
/// connection is healthy again.
pub async fn store_tokens(
    db: impl PgExecutor<'_>,
    cipher: &TokenCipher,
    tenant_id: TenantId,
    owner: &TokenOwner<'_>,
    tokens: &Tokens,
) -> sqlx::Result<()> {
    let access = cipher.seal(&tokens.access, &context(owner, "access", BINDING));
    let refresh = cipher.seal(&tokens.refresh, &context(owner, "refresh", BINDING));
    let stored = sqlx::query(
        "update connection set access_token_enc = $3, refresh_token_enc = $4, token_key_id = $5,
                access_expires_at = $6, refresh_expires_at = $7, refreshed_at = clock_timestamp(),
                health = 'ok', health_reason = null, token_binding = $8
         where tenant_id = $1 and connection_id = $2 and external_id = $9",
    )
    .bind(tenant_id)
    .bind(owner.id)
    .bind(access.bytes)
    .bind(refresh.bytes)
    .bind(access.key_id)
    .bind(tokens.access_expires_at)
    .bind(tokens.refresh_expires_at)
    .bind(BINDING)
    .bind(owner.external_id)
    .execute(db)
    .await?;
    // Sealed for a portal or realm the row does not name: store nothing rather than tokens
    // that would never open.
    if stored.rows_affected() == 0 {
        return Err(sqlx::Error::RowNotFound);
    }
    Ok(())
}

/// The sealed tokens of a connection, locked `FOR UPDATE` when `lock` (single-flight refresh).
#[derive(sqlx::FromRow)]
pub struct SealedRow {
    /// The connection.
    pub connection_id: ConnectionId,
    /// Which side.
    pub provider: Provider,
    /// Portal URL or realm id.
    pub external_id: String,
    /// Current health.
    pub health: Health,
    access_token_enc: Option<Vec<u8>>,
    refresh_token_enc: Option<Vec<u8>>,
    token_key_id: Option<String>,
    token_binding: i16,
    /// When the access token expires.
    pub access_expires_at: Option<DateTime<Utc>>,
    /// When the tokens were last refreshed.
    pub refreshed_at: Option<DateTime<Utc>>,
}

impl SealedRow {
    /// Who the tokens belong to.
    pub fn owner(&self) -> TokenOwner<'_> {
        TokenOwner {
            id: self.connection_id,
            provider: self.provider,
            external_id: &self.external_id,
        }
    }

    /// The access token, in the clear.
    pub fn access(
        &self,
        cipher: &TokenCipher,
    ) -> Result<Option<SecretString>, crate::crypto::CryptoError> {
        self.open(cipher, self.access_token_enc.as_ref(), "access")
    }

    /// The refresh token, in the clear.
    pub fn refresh(
        &self,
        cipher: &TokenCipher,
    ) -> Result<Option<SecretString>, crate::crypto::CryptoError> {
        self.open(cipher, self.refresh_token_enc.as_ref(), "refresh")
    }

    fn open(
        &self,
        cipher: &TokenCipher,
        bytes: Option<&Vec<u8>>,
        which: &str,
    ) -> Result<Option<SecretString>, crate::crypto::CryptoError> {
        match (bytes, &self.token_key_id) {
            (Some(bytes), Some(key_id)) => cipher
                .open(
                    &Sealed {
                        key_id: key_id.clone(),
                        bytes: bytes.clone(),
                    },
                    &context(&self.owner(), which, self.token_binding),
                )
                .map(Some),
            _ => Ok(None),
        }
    }
}

/// Loads a connection's sealed tokens, optionally locking the row until the transaction ends.
pub async fn sealed(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: ConnectionId,
    lock: bool,
) -> sqlx::Result<Option<SealedRow>> {
    let lock = if lock { " for update" } else { "" };
    sqlx::query_as(&format!(
        "select connection_id, provider, external_id, health, access_token_enc, refresh_token_enc, token_key_id, token_binding, access_expires_at, refreshed_at
         from connection where tenant_id = $1 and connection_id = $2{lock}"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Marks a connection as refused by its provider.
pub async fn set_needs_reconnect(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: ConnectionId,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query("update connection set health = 'needs_reconnect', health_reason = $3 where tenant_id = $1 and connection_id = $2")
        .bind(tenant_id)
        .bind(id)
        .bind(reason)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes a connection's tokens and marks it disconnected.
pub async fn set_disconnected(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: ConnectionId,
) -> sqlx::Result<()> {
    sqlx::query(
        "update connection set health = 'disconnected', health_reason = 'Disconnected by the customer',
                access_token_enc = null, refresh_token_enc = null, token_key_id = null,
                access_expires_at = null, refresh_expires_at = null
         where tenant_id = $1 and connection_id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Connections due for a keep-alive refresh: working, and not refreshed in `hours` hours.
/// Not tenant-scoped: the keep-alive job serves every tenant.
pub async fn due_for_keep_alive(
    db: impl PgExecutor<'_>,
    hours: i64,
) -> sqlx::Result<Vec<(TenantId, ConnectionId)>> {
    sqlx::query_as(
        "select tenant_id, connection_id from connection
         where health in ('ok', 'expiring') and refresh_token_enc is not null
           and (refreshed_at is null or refreshed_at < now() - make_interval(hours => $1::int))
         order by refreshed_at nulls first",
    )
    .bind(hours)
    .fetch_all(db)
    .await
}

/// Every connection whose tokens are sealed under a key other than `current`, or with an
/// older binding (for rotation).
pub async fn sealed_under_other_keys(
    db: impl PgExecutor<'_>,
    current: &str,
) -> sqlx::Result<Vec<(TenantId, ConnectionId)>> {
    sqlx::query_as("select tenant_id, connection_id from connection where token_key_id is not null and (token_key_id <> $1 or token_binding < 2)")
        .bind(current)
        .fetch_all(db)
        .await
}

/// Rewrites the sealed tokens of one connection (key rotation), keeping expiries and health.
pub async fn reseal(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: ConnectionId,
    access: Option<Sealed>,
    refresh: Option<Sealed>,
    key_id: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update connection set access_token_enc = $3, refresh_token_enc = $4, token_key_id = $5,
                token_binding = 2
         where tenant_id = $1 and connection_id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(access.map(|s| s.bytes))
    .bind(refresh.map(|s| s.bytes))
    .bind(key_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Reseals with `cipher`'s current key and the current binding; used by rotation.
pub(super) fn reseal_values(
    cipher: &TokenCipher,
    owner: &TokenOwner<'_>,
    access: Option<SecretString>,
    refresh: Option<SecretString>,
) -> (Option<Sealed>, Option<Sealed>) {
    (
        access.map(|a| cipher.seal(&a, &context(owner, "access", BINDING))),
        refresh.map(|r| cipher.seal(&r, &context(owner, "refresh", BINDING))),
    )
}

/// Whether a tenant other than `tenant_id` has an integration with this QuickBooks company,
/// as its company name. Serialises concurrent connects of one company (until the end of the
/// transaction), so two tenants cannot both take it.
pub async fn realm_held_elsewhere(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    realm_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('quickbooks-realm:' || $1, 0))")
        .bind(realm_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar(
        "select company_name from integration where realm_id = $2 and tenant_id <> $1 limit 1",
    )
    .bind(tenant_id)
    .bind(realm_id)
    .fetch_optional(&mut *conn)
    .await
}
