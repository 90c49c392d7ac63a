//! The QuickBooks Online client: OAuth, the Accounting API v3, and QBO's protocol rules.
//!
//! - every call carries `minorversion=75`;
//! - every write carries a deterministic `requestid` ([`RequestId`]), reused on every retry, so
//!   QBO replays the first answer instead of creating a second object;
//! - a per-realm limiter keeps each company under 500 requests/min and 10/s by itself;
//! - 429 (after 60 s), 5xx and timeouts are retried with backoff; everything else is returned
//!   as a typed [`QboError`] carrying Intuit's `intuit_tid`;
//! - queries page to the end; batches hold at most 30 items.
//!
//! Base URLs come from configuration ([`Endpoints`]), so the same client talks to Intuit in
//! production and to our sandbox in tests and `demo`.

mod batch;
mod client;
pub mod error;
pub mod limiter;
pub mod models;
pub mod oauth;
mod reads;

use secrecy::SecretString;
use uuid::Uuid;

pub use batch::{BatchItem, BatchOperation, BatchOutcome};
pub use client::{CallStats, QuickBooksClient, RetryPolicy};
pub use error::{Fault, FaultError, QboError};
pub use models::Entity;

/// The minor version sent on every call.
pub const MINOR_VERSION: u32 = 75;
/// The OAuth scope for the Accounting API.
pub const ACCOUNTING_SCOPE: &str = "com.intuit.quickbooks.accounting";
/// At most this many items in one batch request.
pub const MAX_BATCH_ITEMS: usize = 30;

/// Where Intuit's services live.
#[derive(Clone, Debug)]
pub struct Endpoints {
    /// Browser redirect for consent (`/connect/oauth2`).
    pub authorize: reqwest::Url,
    /// Code exchange and refresh (`/oauth2/v1/tokens/bearer`).
    pub token: reqwest::Url,
    /// Token revocation (`/v2/oauth2/tokens/revoke`).
    pub revoke: reqwest::Url,
    /// OpenID user info.
    pub userinfo: reqwest::Url,
    /// Accounting API base; paths are `/v3/company/{realmId}/…` under it.
    pub api_base: reqwest::Url,
    /// Base of the QBO web app, for "View in QuickBooks" links.
    pub app_base: reqwest::Url,
}

impl Endpoints {
    /// Intuit production.
    pub fn production() -> Self {
        Self::from_parts(
            "https://appcenter.intuit.com/connect/oauth2",
            "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
            "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
            "https://accounts.platform.intuit.com/v1/openid_connect/userinfo",
            "https://quickbooks.api.intuit.com",
            "https://qbo.intuit.com/app/",
        )
    }

    /// Intuit's development sandbox companies.
    pub fn intuit_sandbox() -> Self {
        Self::from_parts(
            "https://appcenter.intuit.com/connect/oauth2",
            "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
            "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
            "https://sandbox-accounts.platform.intuit.com/v1/openid_connect/userinfo",
            "https://sandbox-quickbooks.api.intuit.com",
            "https://sandbox.qbo.intuit.com/app/",
        )
    }

    /// Everything on one host, as our own QBO sandbox serves it.
    pub fn single_host(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Self::from_parts(
            &format!("{base}/connect/oauth2"),
            &format!("{base}/oauth2/v1/tokens/bearer"),
            &format!("{base}/v2/oauth2/tokens/revoke"),
            &format!("{base}/v1/openid_connect/userinfo"),
            base,
            &format!("{base}/app/"),
        )
    }

    fn from_parts(
        authorize: &str,
        token: &str,
        revoke: &str,
        userinfo: &str,
        api: &str,
        app: &str,
    ) -> Self {
        let url = |s: &str| reqwest::Url::parse(s).expect("endpoint URLs are valid");
        Self {
            authorize: url(authorize),
            token: url(token),
            revoke: url(revoke),
            userinfo: url(userinfo),
            api_base: url(api),
            app_base: url(app),
        }
    }

    /// A link to a transaction in the QBO web app, e.g. `…/app/invoice?txnId=42`.
    pub fn app_link(&self, entity_path: &str, id: &str) -> String {
        format!("{}{}?txnId={}", self.app_base, entity_path, id)
    }
}

/// Who we are to Intuit.
#[derive(Clone, Debug)]
pub struct AppCredentials {
    /// OAuth client id.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: SecretString,
    /// Our callback URL, registered with Intuit.
    pub redirect_uri: String,
}

/// One company and a valid access token for it, passed to every API call.
#[derive(Clone, Debug)]
pub struct Company<'a> {
    /// The realm id (company id).
    pub realm_id: &'a str,
    /// The current access token.
    pub access_token: &'a SecretString,
}

/// A deterministic request id: the same logical write always gets the same id, so a retry
/// (even after a crash) is recognised by QBO and answered with the original response.
/// 36 characters, within the batch limit.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(String);

const REQUEST_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6c65_6467_6572_6272_6964_6765_7271_626f);

impl RequestId {
    /// Derives an id from the parts that identify the write (integration, document, revision…).
    pub fn derive(parts: &[&str]) -> Self {
        Self(Uuid::new_v5(&REQUEST_ID_NAMESPACE, parts.join("\u{1f}").as_bytes()).to_string())
    }

    /// An id recorded before it was sent, to send it again exactly.
    pub fn from_recorded(id: &str) -> Self {
        Self(id.to_owned())
    }

    /// The id as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for RequestId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;
