//! The sandbox host: both sandboxes, each behind a small counting proxy that can add latency,
//! in a child process (this same benchmark binary started again with `LB_BENCH_ROLE=sandboxes`).
//!
//! The proxies are the only way in: the sandboxes' public URLs are the proxies' URLs, so every
//! link they hand out comes back through them. The TrackTik proxy also serves many portals from
//! one sandbox: `/p/{n}/rest/…` is forwarded as `/rest/…`, so each tenant has its own portal URL.
//!
//! Proxy control (not delayed, not counted): `POST /__proxy/latency {"ms": 100}`,
//! `GET /__proxy/counts` (requests by kind and status), `DELETE /__proxy/counts`.

mod proxy;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use ledgerbridge::sandbox::{quickbooks, tracktik};
use proxy::{Proxy, Side, serve_proxy};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const ROLE: &str = "LB_BENCH_ROLE";
const SEED: &str = "LB_BENCH_TRACKTIK_SEED";

/// Where the child's servers listen.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Urls {
    /// The TrackTik proxy (portal URLs are `{tracktik}/p/{n}`, or `{tracktik}` itself).
    pub tracktik: String,
    /// The QuickBooks proxy (OAuth and API host).
    pub quickbooks: String,
}

/// Requests seen by a proxy since the last reset.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Counts {
    /// By kind, e.g. `POST create invoice`, `query Customer`, `GET invoices`; the items of batch
    /// requests are counted too, as `batch item create invoice` and so on.
    pub by_kind: BTreeMap<String, u64>,
    /// By HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Total.
    pub total: u64,
}

impl Counts {
    /// Requests of kinds starting with `prefix`.
    pub fn starting_with(&self, prefix: &str) -> u64 {
        self.by_kind
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }

    /// Answers with this status.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

/// The running child process.
pub struct SandboxHost {
    /// Its URLs.
    pub urls: Urls,
    child: std::process::Child,
    http: reqwest::Client,
}

impl SandboxHost {
    /// Starts the child with this TrackTik seed and waits for its URLs.
    pub fn start(seed: &tracktik::SeedConfig) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        let mut child = std::process::Command::new(exe)
            .env(ROLE, "sandboxes")
            .env(SEED, serde_json::to_string(seed)?)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the sandbox host")?;
        let stdout = child.stdout.take().context("the host's stdout")?;
        let mut first = String::new();
        std::io::BufReader::new(stdout).read_line(&mut first)?;
        let urls: Urls = serde_json::from_str(first.trim())
            .with_context(|| format!("the sandbox host said {first:?}"))?;
        Ok(Self {
            urls,
            child,
            http: reqwest::Client::new(),
        })
    }

    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child's CPU time so far.
    pub fn cpu(&self) -> Duration {
        super::measure::cpu_time(&self.pid().to_string(), false).unwrap_or_default()
    }

    /// Sets the latency both proxies add to every request.
    pub async fn set_latency(&self, ms: u64) -> anyhow::Result<()> {
        for base in [&self.urls.tracktik, &self.urls.quickbooks] {
            self.http
                .post(format!("{base}/__proxy/latency"))
                .json(&json!({ "ms": ms }))
                .send()
                .await?
                .error_for_status()?;
        }
        Ok(())
    }

    /// Forgets both proxies' counts.
    pub async fn reset_counts(&self) -> anyhow::Result<()> {
        for base in [&self.urls.tracktik, &self.urls.quickbooks] {
            self.http
                .delete(format!("{base}/__proxy/counts"))
                .send()
                .await?
                .error_for_status()?;
        }
        Ok(())
    }

    /// (TrackTik, QuickBooks) counts.
    pub async fn counts(&self) -> anyhow::Result<(Counts, Counts)> {
        let get = |base: String| async move {
            self.http
                .get(format!("{base}/__proxy/counts"))
                .send()
                .await?
                .error_for_status()?
                .json::<Counts>()
                .await
        };
        Ok((
            get(self.urls.tracktik.clone()).await?,
            get(self.urls.quickbooks.clone()).await?,
        ))
    }

    /// POSTs JSON to a sandbox control route (through the proxy, never delayed).
    pub async fn control(&self, base: &str, path: &str, body: Value) -> anyhow::Result<Value> {
        let r = self
            .http
            .post(format!("{base}{path}"))
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok(body)
    }

    /// GETs JSON from a sandbox control route.
    pub async fn control_get(&self, base: &str, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(format!("{base}{path}"))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

impl Drop for SandboxHost {
    fn drop(&mut self) {
        // Closing its stdin tells the child to exit; wait so it leaves no zombie.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// When this process is the sandbox host, runs it and never returns; otherwise returns.
/// Call first thing in every benchmark's `main`.
pub fn serve_if_host() {
    if std::env::var(ROLE).as_deref() != Ok("sandboxes") {
        return;
    }
    // The parent closes our stdin when it is done (or dies): then we exit.
    std::thread::spawn(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
        std::process::exit(0);
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the host's runtime starts");
    if let Err(e) = runtime.block_on(host()) {
        eprintln!("sandbox host failed: {e:#}");
        std::process::exit(1);
    }
    std::process::exit(0);
}

async fn host() -> anyhow::Result<()> {
    super::init_logging();
    let seed: tracktik::SeedConfig = match std::env::var(SEED) {
        Ok(s) => serde_json::from_str(&s).context("the TrackTik seed")?,
        Err(_) => tracktik::SeedConfig::small(),
    };
    let tt_proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let qbo_proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let tt_url = format!("http://{}", tt_proxy.local_addr()?);
    let qbo_url = format!("http://{}", qbo_proxy.local_addr()?);

    let tt = tracktik::start(tracktik::Options {
        public_url: Some(tt_url.clone()),
        seed,
        // Long-lived tokens: a refresh halfway through a long run would be noise here.
        access_token_ttl: Duration::from_secs(24 * 3600),
        ..Default::default()
    })
    .await?;
    let qbo = quickbooks::start(quickbooks::Options {
        public_url: Some(qbo_url.clone()),
        // The real limits, enforced (the default; stated here because the numbers depend on it).
        enforce_rate_limits: true,
        ..Default::default()
    })
    .await?;

    let tt_upstream = format!("http://{}", tt.local_addr());
    let qbo_upstream = format!("http://{}", qbo.local_addr());
    let tt_task = tokio::spawn(serve_proxy(
        tt_proxy,
        Proxy::new(tt_upstream, Side::TrackTik),
    ));
    let qbo_task = tokio::spawn(serve_proxy(
        qbo_proxy,
        Proxy::new(qbo_upstream, Side::QuickBooks),
    ));
    println!(
        "{}",
        serde_json::to_string(&Urls {
            tracktik: tt_url,
            quickbooks: qbo_url,
        })?
    );
    let (a, b) = tokio::join!(tt_task, qbo_task);
    a??;
    b??;
    Ok(())
}
