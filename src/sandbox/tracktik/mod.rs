//! TrackTik sandbox: an in-process HTTP server that behaves like a TrackTik portal's REST API
//! (`/rest/v1`) and OAuth 2 endpoints (`/rest/oauth2`), plus a control API under `/__sandbox/`
//! for tests, benchmarks and `demo`. See `docs/sandbox-tracktik.md`.
//!
//! It shares no code with `providers::tracktik`: a sandbox that reused the client's types would
//! agree with any bug.

mod api;
mod control;
mod oauth;
mod query;
mod schema;
mod seed;
mod server;
mod store;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use oauth::{VIEWER_PASSWORD, VIEWER_USERNAME};
pub use seed::{SeedConfig, generate};
pub use store::Portal;

/// The default OAuth client, registered unless [`Options::clients`] is replaced.
pub const DEMO_CLIENT_ID: &str = "ledgerbridge-demo";
/// The demo client's secret.
pub const DEMO_CLIENT_SECRET: &str = "demo-secret";
/// The portal user for the sign-in form and the password grant.
pub const DEMO_USERNAME: &str = "demo";
/// The demo user's password.
pub const DEMO_PASSWORD: &str = "demo";

/// How to run the sandbox.
#[derive(Clone, Debug)]
pub struct Options {
    /// Address to bind (port 0: any free port).
    pub listen: SocketAddr,
    /// The URL clients use; default `http://{bound address}`.
    pub public_url: Option<String>,
    /// Parameters of the generated portal.
    pub seed: SeedConfig,
    /// Registered OAuth clients.
    pub clients: Vec<OAuthClient>,
    /// Lifetime of access tokens (default one hour).
    pub access_token_ttl: Duration,
    /// Persist the store here (JSON, written atomically) so state survives a restart; when the
    /// file exists at start it is loaded instead of generating the seed.
    pub state_file: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            seed: SeedConfig::default(),
            clients: vec![OAuthClient::demo()],
            access_token_ttl: Duration::from_secs(3600),
            state_file: None,
        }
    }
}

/// A registered OAuth client. A redirect URI ending in `*` matches any URI with that prefix.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OAuthClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// Allowed redirect URIs (exact, or a prefix ending in `*`).
    pub redirect_uris: Vec<String>,
}

impl OAuthClient {
    /// The demo client: accepts any `http://127.0.0.1:*/…` or `http://localhost:*/…` redirect.
    pub fn demo() -> Self {
        OAuthClient {
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
            redirect_uris: vec!["http://127.0.0.1:*".into(), "http://localhost:*".into()],
        }
    }

    /// Whether `uri` may receive this client's authorization codes.
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|allowed| match allowed.strip_suffix('*') {
                Some(prefix) => uri.starts_with(prefix),
                None => allowed == uri,
            })
    }
}

/// A started sandbox. Dropping it shuts the server down.
pub struct Running {
    base_url: String,
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Running {
    /// e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
    /// Asks the server to stop (it finishes requests in flight and saves the state file).
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
    }
    /// Waits until the server has stopped.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.task.is_some() {
            self.shutdown();
        }
    }
}

/// Binds, spawns the server and returns at once.
pub async fn start(options: Options) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let base_url = options
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    let shared = Arc::new(server::Shared::new(&options, base_url.clone())?);
    let task = tokio::spawn(server::serve(listener, Arc::clone(&shared)));
    Ok(Running {
        base_url,
        addr,
        shared,
        task: Some(task),
    })
}
