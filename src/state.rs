//! The application state every handler can reach through axum's `State`.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use std::time::Duration;

use anyhow::Context;

use crate::config::Config;
use crate::crypto::TokenCipher;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::providers::Providers;
use crate::providers::mail::Mailer;
use crate::providers::quickbooks::oauth::QuickBooksOAuth;
use crate::providers::quickbooks::{AppCredentials, Endpoints, QuickBooksClient};
use crate::providers::tracktik::{ClientConfig, OAuthApp, PortalGuard, TrackTikClient};

/// Shared, cheap to clone: the pool, the configuration, the token cipher, the provider
/// clients and the metrics registry.
#[derive(Clone)]
pub struct AppState {
    /// The PostgreSQL pool.
    pub db: PgPool,
    /// Settings read at start.
    pub config: Arc<Config>,
    /// Seals and opens OAuth tokens.
    pub cipher: TokenCipher,
    /// TrackTik and QuickBooks clients (behind an `Arc`: their URLs and credentials are a few
    /// dozen allocations, and the state is cloned several times per request).
    pub providers: Arc<Providers>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// The Content-Security-Policy header value.
    pub csp: Arc<str>,
    /// Sends e-mail (notices, members' links, expert sessions).
    pub mailer: Mailer,
    /// Which portal addresses TrackTik calls may go to (the TrackTik client applies it too).
    pub portal_guard: PortalGuard,
    /// Rate limits and the password-hashing cap.
    pub limits: Limits,
}

/// What the layers above the plumbing give the state, built where the process starts
/// (`server::build_state`), so that the state never reaches up into the web or the domain.
pub struct Wiring {
    /// The Content-Security-Policy header value (`web::content_security_policy`).
    pub csp: String,
    /// The sync job's type in the job queue (`sync::controls::job_type`): `/metrics` reports
    /// it at zero when no such job waits or runs.
    pub sync_job_type: String,
}

impl AppState {
    /// Builds the state from an open pool.
    pub fn new(db: PgPool, config: Config, wiring: Wiring) -> anyhow::Result<Self> {
        config.check_production()?;
        let cipher = config.token_cipher()?;
        let metrics = Arc::new(Metrics::new(&wiring.sync_job_type));
        let portal_guard = PortalGuard::new(
            &config.tracktik_portal_domains,
            &config.tracktik_http_portals,
        );
        let providers = build_providers(&config, &metrics, &portal_guard)?;
        let limits = Limits::new(&config);
        let csp = wiring.csp.into();
        let mailer = Mailer::new(config.smtp_url.as_deref(), &config.mail_from)?;
        Ok(Self {
            db,
            config: Arc::new(config),
            cipher,
            providers: Arc::new(providers),
            metrics,
            csp,
            mailer,
            portal_guard,
            limits,
        })
    }
}

/// Where Intuit lives for this configuration.
pub fn quickbooks_endpoints(config: &Config) -> Endpoints {
    match config.quickbooks_base_url.as_deref() {
        None => Endpoints::production(),
        Some("intuit-sandbox") => Endpoints::intuit_sandbox(),
        Some(base) => Endpoints::single_host(base),
    }
}

fn build_providers(
    config: &Config,
    metrics: &Arc<Metrics>,
    guard: &PortalGuard,
) -> anyhow::Result<Providers> {
    let tracktik = TrackTikClient::guarded(ClientConfig::default(), guard.clone())
        .context("building the TrackTik client")?;
    let tracktik_app = OAuthApp {
        client_id: config.tracktik_client_id.clone(),
        client_secret: config.tracktik_client_secret.clone(),
        redirect_uri: Some(format!("{}/auth/tracktik/callback", config.public_url)),
    };
    let endpoints = quickbooks_endpoints(config);
    let counted = metrics.clone();
    let quickbooks = QuickBooksClient::new(
        endpoints.clone(),
        Duration::from_secs(config.quickbooks_timeout_seconds),
    )
    .with_observer(Arc::new(move |entity: &str, outcome: &str| {
        counted.record_quickbooks_call(entity, outcome);
    }));
    let quickbooks_oauth = QuickBooksOAuth::new(
        endpoints,
        AppCredentials {
            client_id: config.quickbooks_client_id.clone(),
            client_secret: config.quickbooks_client_secret.clone(),
            redirect_uri: format!("{}/auth/quickbooks/callback", config.public_url),
        },
    )
    .context("building the QuickBooks OAuth client")?;
    Ok(Providers {
        tracktik,
        tracktik_app,
        quickbooks,
        quickbooks_oauth,
    })
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(state: &AppState) -> Self {
        state.config.clone()
    }
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}
