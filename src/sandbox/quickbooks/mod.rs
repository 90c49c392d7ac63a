//! QuickBooks Online sandbox: an in-process HTTP server that speaks Intuit's OAuth 2.0 and the QBO
//! Accounting API v3 (paths, envelopes, faults, limits) closely enough for our QBO client, the
//! tests, the benchmarks and `demo` mode. See `docs/sandbox-quickbooks.md`.
//!
//! One `std::sync::Mutex` guards the whole store; no lock is held across an `.await`.

mod api;
mod app;
mod batch;
mod cdc;
mod control;
mod entities;
mod fault;
mod json;
mod oauth;
mod pages;
mod query;
mod runtime;
mod schema;
mod seed;
mod store;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context;
use axum::Router;
use axum::routing::{any, get, post};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use runtime::Runtime;
use store::Store;

/// Client id of the app registered by default (demo mode and tests).
pub const DEMO_CLIENT_ID: &str = "ledgerbridge-demo";
/// Client secret of the default app.
pub const DEMO_CLIENT_SECRET: &str = "demo-secret";

/// Realm id of the seeded US company "Acme Security Inc. (US)".
pub const US_REALM_ID: &str = "9341453000000001";
/// Realm id of the seeded Canadian company "Acme Security Ltd (CA)".
pub const CA_REALM_ID: &str = "9341453000000002";
/// Realm id of the seeded US company without account numbers that refuses `PayrollWageExpenses`.
pub const US_NO_ACCTNUM_REALM_ID: &str = "9341453000000003";

/// How to run the sandbox.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address to bind (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Base URL to put in links and discovery; default `http://{bound addr}`.
    pub public_url: Option<String>,
    /// Demo mode: load at start, save after every write (temp file + rename).
    pub state_file: Option<PathBuf>,
    /// Registered OAuth apps.
    pub clients: Vec<OAuthClient>,
    /// Enforce 500/min, 10/s and 40 batches/min per realm (429 beyond).
    pub enforce_rate_limits: bool,
    /// Initial clock offset from real time, in seconds (the control API can change it).
    pub clock_offset_seconds: i64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            state_file: None,
            clients: vec![OAuthClient {
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: DEMO_CLIENT_SECRET.into(),
                redirect_uris: Vec::new(),
            }],
            enforce_rate_limits: true,
            clock_offset_seconds: 0,
        }
    }
}

/// A registered OAuth app.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OAuthClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// Exact redirect URIs accepted (the demo client also accepts any loopback http URI).
    pub redirect_uris: Vec<String>,
}

/// Shared state of one sandbox server.
#[derive(Clone)]
pub struct SandboxState(Arc<Inner>);

struct Inner {
    store: Mutex<Store>,
    runtime: Mutex<Runtime>,
    clients: Mutex<Vec<OAuthClient>>,
    public_url: RwLock<String>,
    state_file: Option<PathBuf>,
    enforce_rate_limits: AtomicBool,
    save_lock: Mutex<()>,
}

impl SandboxState {
    /// Builds the state: loads the state file if there is one, else seeds the three companies.
    pub fn new(options: &Options) -> anyhow::Result<Self> {
        let store = match &options.state_file {
            Some(path) if path.exists() => {
                let bytes =
                    std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                let mut s: Store = serde_json::from_slice(&bytes)
                    .with_context(|| format!("parsing {}", path.display()))?;
                s.reindex();
                s
            }
            _ => {
                let mut s = Store {
                    clock: store::Clock {
                        offset_seconds: options.clock_offset_seconds,
                        frozen_at: None,
                    },
                    ..Store::default()
                };
                seed::seed_defaults(&mut s);
                s
            }
        };
        Ok(Self(Arc::new(Inner {
            store: Mutex::new(store),
            runtime: Mutex::new(Runtime::default()),
            clients: Mutex::new(options.clients.clone()),
            public_url: RwLock::new(options.public_url.clone().unwrap_or_default()),
            state_file: options.state_file.clone(),
            enforce_rate_limits: AtomicBool::new(options.enforce_rate_limits),
            save_lock: Mutex::new(()),
        })))
    }

    /// Runs `f` with the store locked.
    fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut guard = self.0.store.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// Runs `f` with the runtime (log, stats, faults, rate windows) locked.
    fn with_runtime<T>(&self, f: impl FnOnce(&mut Runtime) -> T) -> T {
        let mut guard = self.0.runtime.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    fn public_url(&self) -> String {
        self.0
            .public_url
            .read()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    fn rate_limits_enforced(&self) -> bool {
        self.0.enforce_rate_limits.load(Ordering::Relaxed)
    }

    fn set_rate_limits(&self, on: bool) {
        self.0.enforce_rate_limits.store(on, Ordering::Relaxed);
    }

    fn client_allows(&self, client_id: &str, redirect_uri: &str) -> bool {
        if client_id == DEMO_CLIENT_ID && is_loopback_http(redirect_uri) {
            return true;
        }
        let clients = self.0.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .iter()
            .any(|c| c.client_id == client_id && c.redirect_uris.iter().any(|u| u == redirect_uri))
    }

    /// Checks Basic credentials. RFC 6749 §2.3.1 clients (the `oauth2` crate) form-encode id and
    /// secret before Base64; Intuit's own SDKs do not. Both forms are accepted.
    fn authenticate_client(&self, client_id: &str, secret: &str) -> Option<String> {
        let decode = |s: &str| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                .ok()
                .and_then(|mut v| v.pop())
                .map(|(_, v)| v)
                .unwrap_or_else(|| s.to_string())
        };
        let (id2, secret2) = (decode(client_id), decode(secret));
        let clients = self.0.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients
            .iter()
            .find(|c| {
                (c.client_id == client_id && c.client_secret == secret)
                    || (c.client_id == id2 && c.client_secret == secret2)
            })
            .map(|c| c.client_id.clone())
    }

    fn register_client(&self, client: OAuthClient) {
        let mut clients = self.0.clients.lock().unwrap_or_else(|e| e.into_inner());
        clients.retain(|c| c.client_id != client.client_id);
        clients.push(client);
    }

    fn company_names(&self) -> Vec<(String, String)> {
        self.with_store(|s| {
            s.companies
                .values()
                .map(|c| {
                    let name = json::str_field(&c.info, "CompanyName").unwrap_or_default();
                    (c.realm_id.clone(), name.to_string())
                })
                .collect()
        })
    }

    fn has_company(&self, realm_id: &str) -> bool {
        self.with_store(|s| s.companies.contains_key(realm_id))
    }

    /// Writes the whole store to the state file (if any): temp file, then rename.
    fn save(&self) {
        let Some(path) = &self.0.state_file else {
            return;
        };
        let _guard = self.0.save_lock.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = match self.with_store(|s| serde_json::to_vec(s)) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "sandbox state could not be serialised");
                return;
            }
        };
        let tmp = path.with_extension("tmp");
        let result = std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            tracing::error!(error = %e, path = %path.display(), "sandbox state could not be saved");
        }
    }
}

fn is_loopback_http(uri: &str) -> bool {
    ["http://127.0.0.1:", "http://localhost:"]
        .iter()
        .any(|p| uri.starts_with(p))
}

/// The sandbox's routes.
pub fn router(state: SandboxState) -> Router {
    Router::new()
        .route(
            "/connect/oauth2",
            get(oauth::authorize).post(oauth::consent),
        )
        .route("/oauth2/v1/tokens/bearer", post(oauth::token))
        .route("/v2/oauth2/tokens/revoke", post(oauth::revoke))
        .route("/v1/openid_connect/userinfo", get(oauth::userinfo))
        .route(
            "/.well-known/openid_sandbox_configuration",
            get(oauth::discovery),
        )
        .route("/.well-known/openid_configuration", get(oauth::discovery))
        .route(
            "/.well-known/openid_sandbox_configuration/",
            get(oauth::discovery),
        )
        .route("/.well-known/openid_configuration/", get(oauth::discovery))
        .route("/op/v1/jwks", get(oauth::jwks))
        .route("/v3/company/{realm}/{*rest}", any(api::handle))
        .merge(control::routes())
        .merge(pages::routes())
        .merge(app::routes())
        .fallback(api::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            runtime::tag_and_log,
        ))
        .with_state(state)
}

/// A running sandbox.
pub struct Running {
    addr: SocketAddr,
    base_url: String,
    stop: Arc<Notify>,
    task: JoinHandle<std::io::Result<()>>,
    state: SandboxState,
}

impl Running {
    /// Base URL of both the OAuth and the API host, e.g. `http://127.0.0.1:43121`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's state (for in-process inspection).
    pub fn state(&self) -> &SandboxState {
        &self.state
    }

    /// Asks the server to stop gracefully.
    pub fn shutdown(&self) {
        self.stop.notify_one();
    }

    /// Waits until the server stops.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("sandbox task panicked")??;
        Ok(())
    }
}

/// Binds, spawns the server task and returns at once.
pub async fn start(options: Options) -> anyhow::Result<Running> {
    let state = SandboxState::new(&options)?;
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("binding {}", options.listen))?;
    let addr = listener.local_addr()?;
    let base_url = options
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    if let Ok(mut url) = state.0.public_url.write() {
        url.clone_from(&base_url);
    }
    let stop = Arc::new(Notify::new());
    let app = router(state.clone());
    let stopped = stop.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { stopped.notified().await })
            .await
    });
    tracing::info!(%base_url, "QuickBooks sandbox listening");
    Ok(Running {
        addr,
        base_url,
        stop,
        task,
        state,
    })
}
