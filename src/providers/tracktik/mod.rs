//! TrackTik client: typed access to a TrackTik portal's REST API (`/rest/v1`) and its OAuth 2
//! endpoints (`/rest/oauth2`).
//!
//! One [`TrackTikClient`] serves every tenant. It holds only a `reqwest::Client` (timeouts,
//! redirects off) and a [`ClientConfig`] (page size, retry policy, smallest date window);
//! each call takes the tenant's [`Portal`] and an [`AccessToken`]. Nothing is cached: token
//! storage, refresh scheduling and single-flight belong to the `connections` module.
//!
//! - [`models`]: wire DTOs from TrackTik's OpenAPI schemas.
//! - [`Query`]: filters, `include`, `sort`, `fields`.
//! - `list_all` / `list_window` (in `paging`): page to the end; narrow a date window on 504.
//! - `api`: typed helpers (`approved_invoices_between`, `payrun_items`, …).
//! - `oauth`: authorize URL with PKCE, code exchange, rotating refresh, password grant.
//!
//! Facts and their sources: `/work/shared/spec/tracktik-api.md`.

mod api;
mod error;
pub mod guard;
mod http;
pub mod models;
mod oauth;
mod paging;
mod query;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

pub use api::{MAX_BATCH_IDS, REFERENCE_DATA, ReferenceData};
pub use error::TrackTikError;
pub use guard::PortalGuard;
pub use http::RetryPolicy;
pub use models::{
    BackOfficeSettings, BillItem, BillableItem, BillableItemType, Client, ClientType, Employee,
    Invoice, InvoiceLine, InvoiceLineTax, InvoiceStatus, OneOrMany, PayCodeType, PayrollCode,
    Payrun, PayrunItem, PayrunStatus, Record, Region, Related, Relation, ServiceModel, TaxClass,
    TaxClassItem,
};
pub use oauth::{
    ADMIN_PERMISSION, AuthorizationRequest, OAuthApp, PortalUser, TokenSet, token_claims,
};
pub use paging::Window;
pub use query::{MAX_IN_VALUES, Op, Query, timestamp};

/// The most rows TrackTik returns per page (`limit` above this is rejected).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// A TrackTik portal (one customer's tenant), identified by its base URL, e.g.
/// `https://acme.staffr.us`. Configured in full, never derived from a tenant name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Portal {
    base: String,
}

impl Portal {
    /// Validates a portal base URL: absolute `http(s)`, no query or fragment. A trailing slash
    /// is dropped; a path prefix is kept.
    pub fn new(base_url: &str) -> Result<Self, TrackTikError> {
        let url = Url::parse(base_url.trim())
            .map_err(|e| TrackTikError::Config(format!("portal URL is not a valid URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(TrackTikError::Config(
                "portal URL must be an http(s) URL with a host".into(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(TrackTikError::Config(
                "portal URL must not have a query or fragment".into(),
            ));
        }
        Ok(Portal {
            base: url.as_str().trim_end_matches('/').to_owned(),
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `…/rest/v1/{path}`.
    pub fn api_url(&self, path: &str) -> Result<Url, TrackTikError> {
        self.url(&format!("rest/v1/{}", path.trim_start_matches('/')))
    }

    /// `…/rest/oauth2/authorize`.
    pub fn authorize_url(&self) -> Result<Url, TrackTikError> {
        self.url("rest/oauth2/authorize")
    }

    /// `…/rest/oauth2/access_token`.
    pub fn token_url(&self) -> Result<Url, TrackTikError> {
        self.url("rest/oauth2/access_token")
    }

    fn url(&self, path: &str) -> Result<Url, TrackTikError> {
        Url::parse(&format!("{}/{path}", self.base))
            .map_err(|e| TrackTikError::Config(format!("cannot build a portal URL: {e}")))
    }
}

/// An OAuth access token (a JWT, valid about an hour). Its `Debug` output is redacted.
#[derive(Clone)]
pub struct AccessToken(SecretString);

impl AccessToken {
    /// Wraps a token read from storage or a token response.
    pub fn new(token: impl Into<String>) -> Self {
        AccessToken(SecretString::from(token.into()))
    }

    /// The token text, for the `Authorization` header or encrypted storage only.
    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken(<redacted>)")
    }
}

/// An OAuth refresh token. TrackTik's are **single-use**: each refresh consumes it and returns
/// a new one. Its `Debug` output is redacted.
#[derive(Clone)]
pub struct RefreshToken(SecretString);

impl RefreshToken {
    /// Wraps a token read from storage or a token response.
    pub fn new(token: impl Into<String>) -> Self {
        RefreshToken(SecretString::from(token.into()))
    }

    /// The token text, for encrypted storage only.
    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// Tunables of a [`TrackTikClient`]. `Default` suits production.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout. TrackTik itself gives up after 30 s with a 504.
    pub request_timeout: Duration,
    /// Rows per page, at most [`MAX_PAGE_SIZE`].
    pub page_size: u32,
    /// When and how long to wait before retrying.
    pub retry: RetryPolicy,
    /// A date window is not split below this span when TrackTik answers 504.
    pub min_window: Duration,
    /// `User-Agent` sent with every request.
    pub user_agent: String,
    /// The largest API answer read; a bigger one is abandoned with
    /// [`TrackTikError::TooLarge`]. A full page of 1,000 records is well under it.
    pub max_body_bytes: usize,
}

/// The largest answer read from a token endpoint.
pub const MAX_TOKEN_BODY_BYTES: usize = 64 * 1024;

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(45),
            page_size: MAX_PAGE_SIZE,
            retry: RetryPolicy::default(),
            min_window: Duration::from_secs(5 * 60),
            user_agent: concat!("ledgerbridge/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_body_bytes: 10 * 1024 * 1024,
        }
    }
}

/// The TrackTik API client, shared by all tenants. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TrackTikClient {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    guard: Option<PortalGuard>,
}

impl TrackTikClient {
    /// Builds the client and its `reqwest::Client` (timeouts from `config`, redirects off:
    /// OAuth endpoints must not be followed elsewhere and API calls never redirect).
    pub fn new(config: ClientConfig) -> Result<Self, TrackTikError> {
        let http = Self::builder(&config)
            .build()
            .map_err(|e| TrackTikError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self::with_http_client(http, config))
    }

    /// Like [`TrackTikClient::new`], but every request first passes `guard` (see [`guard`]):
    /// the client the web app and the workers use, since portal addresses come from customers.
    pub fn guarded(config: ClientConfig, guard: PortalGuard) -> Result<Self, TrackTikError> {
        let http = Self::builder(&config)
            .dns_resolver(guard.resolver())
            .build()
            .map_err(|e| TrackTikError::Config(format!("cannot build the HTTP client: {e}")))?;
        let mut client = Self::with_http_client(http, config);
        client.guard = Some(guard);
        Ok(client)
    }

    fn builder(config: &ClientConfig) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(config.user_agent.clone())
    }

    /// Refuses a URL the guard does not allow (nothing is sent); an unguarded client allows all.
    pub(crate) fn check_url(&self, url: &Url) -> Result<(), TrackTikError> {
        match &self.guard {
            Some(guard) => guard.check_url(url),
            None => Ok(()),
        }
    }

    /// Uses a `reqwest::Client` built elsewhere, which must have timeouts set and redirects
    /// disabled.
    pub fn with_http_client(http: reqwest::Client, mut config: ClientConfig) -> Self {
        config.page_size = config.page_size.clamp(1, MAX_PAGE_SIZE);
        TrackTikClient {
            http,
            config: Arc::new(config),
            guard: None,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }
}
