//! The sandbox host: both sandboxes, each behind a small counting proxy that can add latency,
//! in a child process (this same benchmark binary started again with `LB_BENCH_ROLE=sandboxes`).
//!
//! The proxies are the only way in: the sandboxes' public URLs are the proxies' URLs, so every
//! link they hand out comes back through them. The TrackTik proxy also serves many portals from
//! one sandbox: `/p/{n}/rest/…` is forwarded as `/rest/…`, so each tenant has its own portal URL.
//!
//! Proxy control (not delayed, not counted): `POST /__proxy/latency {"ms": 100}`,
//! `GET /__proxy/counts` (requests by kind and status), `DELETE /__proxy/counts`.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ledgerbridge::sandbox::{quickbooks, tracktik};
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    TrackTik,
    QuickBooks,
}

#[derive(Default)]
struct Tally {
    by_kind: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    total: u64,
}

#[derive(Clone)]
struct Proxy(Arc<ProxyInner>);

struct ProxyInner {
    upstream: String,
    side: Side,
    http: reqwest::Client,
    latency_ms: AtomicU64,
    tally: Mutex<Tally>,
}

impl Proxy {
    fn new(upstream: String, side: Side) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1024)
            .build()
            .expect("the proxy's client builds");
        Self(Arc::new(ProxyInner {
            upstream,
            side,
            http,
            latency_ms: AtomicU64::new(0),
            tally: Mutex::default(),
        }))
    }
}

async fn serve_proxy(listener: tokio::net::TcpListener, proxy: Proxy) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/__proxy/latency", post(set_latency))
        .route("/__proxy/counts", get(counts).delete(reset_counts))
        .fallback(forward)
        .with_state(proxy);
    axum::serve(listener, app).await?;
    Ok(())
}

#[derive(Deserialize)]
struct LatencyIn {
    ms: u64,
}

async fn set_latency(
    State(p): State<Proxy>,
    axum::Json(l): axum::Json<LatencyIn>,
) -> axum::Json<Value> {
    p.0.latency_ms.store(l.ms, Ordering::Relaxed);
    axum::Json(json!({ "ms": l.ms }))
}

async fn counts(State(p): State<Proxy>) -> axum::Json<Value> {
    let t = p.0.tally.lock().expect("tally lock");
    axum::Json(json!({ "by_kind": t.by_kind, "by_status": t.by_status, "total": t.total }))
}

async fn reset_counts(State(p): State<Proxy>) -> axum::Json<Value> {
    *p.0.tally.lock().expect("tally lock") = Tally::default();
    axum::Json(json!({ "reset": true }))
}

/// `/p/{n}/rest/…` → `/rest/…` (TrackTik only).
fn upstream_path(side: Side, path: &str) -> &str {
    if side == Side::TrackTik
        && let Some(rest) = path.strip_prefix("/p/")
        && let Some(i) = rest.find('/')
    {
        return &rest[i..];
    }
    path
}

/// What a request is, for counting: method and resource, ids left out.
fn kind(side: Side, method: &str, path: &str, query: &str, body: &[u8]) -> String {
    match side {
        Side::QuickBooks => {
            if path.starts_with("/oauth2/") {
                return format!("{method} oauth token");
            }
            let Some(rest) = path.strip_prefix("/v3/company/") else {
                return format!("{method} {path}");
            };
            let parts: Vec<&str> = rest.split('/').skip(1).collect();
            match parts.as_slice() {
                ["query"] => {
                    let params: Vec<(String, String)> =
                        serde_urlencoded::from_str(query).unwrap_or_default();
                    // The statement is a `query` parameter (GET) or the body (POST).
                    let statement = params
                        .iter()
                        .find(|(k, _)| k == "query")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
                    let entity = statement
                        .split_whitespace()
                        .skip_while(|w| !w.eq_ignore_ascii_case("from"))
                        .nth(1)
                        .unwrap_or("?")
                        .to_owned();
                    format!("query {entity}")
                }
                ["batch"] => format!("{method} batch"),
                [entity] if method == "POST" => {
                    let op = if query.contains("operation=") {
                        "update"
                    } else {
                        "create"
                    };
                    format!("{method} {op} {}", entity.to_lowercase())
                }
                [entity, ..] => format!("{method} read {}", entity.to_lowercase()),
                [] => format!("{method} ?"),
            }
        }
        Side::TrackTik => {
            if let Some(rest) = path.strip_prefix("/rest/v1/") {
                let resource = rest.split('/').next().unwrap_or("?");
                let action = if rest.contains("/actions/") {
                    " action"
                } else {
                    ""
                };
                format!("{method} {resource}{action}")
            } else if path.starts_with("/rest/oauth2/") {
                format!(
                    "{method} oauth {}",
                    path.trim_start_matches("/rest/oauth2/")
                )
            } else {
                format!("{method} {path}")
            }
        }
    }
}

/// The kinds of the items of a QBO batch request (`{"BatchItemRequest": [...]}`).
fn batch_items(side: Side, path: &str, body: &[u8]) -> Vec<String> {
    if side != Side::QuickBooks || !path.ends_with("/batch") {
        return Vec::new();
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let Some(items) = v["BatchItemRequest"].as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            if let Some(q) = item["Query"].as_str() {
                let entity = q
                    .split_whitespace()
                    .skip_while(|w| !w.eq_ignore_ascii_case("from"))
                    .nth(1)
                    .unwrap_or("?");
                return format!("batch item query {entity}");
            }
            let op = item["operation"].as_str().unwrap_or("create");
            let entity = item
                .as_object()
                .and_then(|o| {
                    o.keys()
                        .find(|k| !matches!(k.as_str(), "bId" | "operation" | "optionsData"))
                })
                .map_or("?".to_owned(), |k| k.to_lowercase());
            format!("batch item {op} {entity}")
        })
        .collect()
}

async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    let p = &p.0;
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let target_path = upstream_path(p.side, &path).to_owned();
    let control = target_path.starts_with("/__sandbox");
    if !control {
        let ms = p.latency_ms.load(Ordering::Relaxed);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
    let headers = req.headers().clone();
    let body = match axum::body::to_bytes(req.into_body(), 64 << 20).await {
        Ok(b) => b,
        Err(e) => return (axum::http::StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let url = if query.is_empty() {
        format!("{}{target_path}", p.upstream)
    } else {
        format!("{}{target_path}?{query}", p.upstream)
    };
    let sent = body.clone();
    let mut out = p.http.request(method.clone(), url).body(body);
    for (name, value) in &headers {
        if !matches!(
            name.as_str(),
            "host" | "connection" | "content-length" | "transfer-encoding"
        ) {
            out = out.header(name, value);
        }
    }
    let answer = match out.send().await {
        Ok(a) => a,
        Err(e) => return (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    if !control {
        let mut t = p.tally.lock().expect("tally lock");
        *t.by_kind
            .entry(kind(p.side, method.as_str(), &target_path, &query, &sent))
            .or_default() += 1;
        for item in batch_items(p.side, &target_path, &sent) {
            *t.by_kind.entry(item).or_default() += 1;
        }
        *t.by_status.entry(status.as_u16()).or_default() += 1;
        t.total += 1;
    }
    let mut response = Response::builder().status(status);
    for (name, value) in answer.headers() {
        if !matches!(
            name.as_str(),
            "connection" | "content-length" | "transfer-encoding"
        ) {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    response
        .body(Body::from(bytes))
        .unwrap_or_else(|_| axum::http::StatusCode::BAD_GATEWAY.into_response())
}
