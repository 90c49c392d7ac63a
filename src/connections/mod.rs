//! OAuth connections to TrackTik and QuickBooks: tokens sealed at rest, single-flight refresh,
//! health, reconnect and disconnect.
//!
//! Tokens never leave this module in the clear except as the `SecretString` handed to a
//! provider call. The `Connection` row type carries no token at all.

pub mod db;
mod refresh;
pub mod signin;

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::ids::{ConnectionId, IntegrationId, TenantId};

pub(crate) use refresh::notify_restored;
pub use refresh::{access_token, disconnect, force_refresh, keep_alive, rotate_keys};

/// Which side a connection is to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "provider", rename_all = "snake_case")]
pub enum Provider {
    /// A TrackTik portal.
    Tracktik,
    /// A QuickBooks Online company.
    Quickbooks,
}

impl Provider {
    /// The product name people know.
    pub fn label(self) -> &'static str {
        match self {
            Self::Tracktik => "TrackTik",
            Self::Quickbooks => "QuickBooks Online",
        }
    }
}

/// How a connection is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "connection_health", rename_all = "snake_case")]
pub enum Health {
    /// Working.
    Ok,
    /// Working, but its refresh token runs out soon.
    Expiring,
    /// Refused by the provider; the customer must sign in again.
    NeedsReconnect,
    /// Disconnected on purpose; tokens deleted.
    Disconnected,
}

impl Health {
    /// The word people see.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "Connected",
            Self::Expiring => "Expiring soon",
            Self::NeedsReconnect => "Needs reconnect",
            Self::Disconnected => "Disconnected",
        }
    }

    /// The CSS modifier for its badge.
    pub fn css(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Expiring => "warn",
            Self::NeedsReconnect | Self::Disconnected => "bad",
        }
    }
}

/// A connection as stored, without its tokens.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Connection {
    /// Its id.
    pub connection_id: ConnectionId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The integration (QuickBooks connections only).
    pub integration_id: Option<IntegrationId>,
    /// Which side.
    pub provider: Provider,
    /// Portal URL (TrackTik) or realm id (QuickBooks).
    pub external_id: String,
    /// Stored health.
    pub health: Health,
    /// Why it needs a reconnect, in words.
    pub health_reason: Option<String>,
    /// When the access token expires.
    pub access_expires_at: Option<DateTime<Utc>>,
    /// When the refresh token expires, if known.
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// Last successful refresh or connect.
    pub refreshed_at: Option<DateTime<Utc>>,
}

/// Refresh tokens that end within this are reported as expiring.
pub const EXPIRING_WITHIN_DAYS: i64 = 14;

impl Connection {
    /// The health to show: stored health, or `Expiring` when the refresh token ends soon.
    pub fn effective_health(&self, now: DateTime<Utc>) -> Health {
        match (self.health, self.refresh_expires_at) {
            (Health::Ok, Some(end)) if end - now < Duration::days(EXPIRING_WITHIN_DAYS) => {
                Health::Expiring
            }
            (h, _) => h,
        }
    }
}

/// A fresh token pair from either provider.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// Bearer token.
    pub access: SecretString,
    /// The refresh token to store.
    pub refresh: SecretString,
    /// When the access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// When the refresh token expires, if the provider says.
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

impl From<crate::providers::quickbooks::oauth::TokenSet> for Tokens {
    fn from(t: crate::providers::quickbooks::oauth::TokenSet) -> Self {
        Self {
            access: t.access_token,
            refresh: t.refresh_token,
            access_expires_at: t.access_expires_at,
            refresh_expires_at: t.refresh_expires_at,
        }
    }
}

impl Tokens {
    /// From a TrackTik token answer; `previous_refresh` is kept when no new one came back.
    pub fn from_tracktik(
        t: crate::providers::tracktik::TokenSet,
        previous_refresh: Option<&SecretString>,
    ) -> Self {
        let refresh = match (&t.refresh_token, previous_refresh) {
            (Some(r), _) => SecretString::from(r.secret().to_owned()),
            (None, Some(p)) => p.clone(),
            (None, None) => SecretString::from(String::new()),
        };
        Self {
            access: SecretString::from(t.access_token.secret().to_owned()),
            refresh,
            access_expires_at: t.expires_at,
            refresh_expires_at: None,
        }
    }
}

/// Why a token could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// No such connection for this tenant.
    #[error("connection not found")]
    NotFound,
    /// The provider refused; the customer must reconnect.
    #[error("the {provider} connection needs the customer to sign in again: {reason}")]
    NeedsReconnect {
        /// Which side.
        provider: &'static str,
        /// Why, in words.
        reason: String,
    },
    /// A stored token could not be decrypted.
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
    /// The provider could not be reached or failed; try later.
    #[error("{0}")]
    Provider(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
