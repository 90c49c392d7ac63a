//! Benchmark 4: the web pages under load. A signed-in customer (signed in through the TrackTik
//! sandbox's pages, QuickBooks connected through its consent page, as the tests do) requests,
//! from `LB_BENCH_CONNECTIONS` (32) concurrent connections for `LB_BENCH_SECONDS` (10) each:
//!
//! - a bare axum handler returning a short string, on its own port in this same process;
//! - `/healthz` (the app's whole middleware stack, no session, no database);
//! - the integration page `/integrations/{id}`;
//! - a wizard step, `/integrations/{id}/setup/method`.
//!
//! Prints requests per second and latency percentiles (sorted samples, nearest rank). The load
//! generator runs in the same process and shares the two cores with the server.
//!
//! `cargo bench --bench web [-- --quick]`; see docs/benchmarks.md.

#[allow(dead_code)]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use common::host::SandboxHost;
use common::measure::{self, ms, percentile};
use common::{AppSettings, BenchDb, heading, line};
use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
use ledgerbridge::sandbox::tracktik::{DEMO_PASSWORD, DEMO_USERNAME, SeedConfig};

fn main() -> anyhow::Result<()> {
    common::host::serve_if_host();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    common::init_logging();
    let seconds = common::size("LB_BENCH_SECONDS", 3, 10) as u64;
    let connections = common::size("LB_BENCH_CONNECTIONS", 16, 32);
    measure::print_machine();
    heading("benchmark: web pages under load");
    line("concurrent connections", connections);
    line("seconds per target (after 1 s of warm-up)", seconds);

    let host = SandboxHost::start(&SeedConfig::small())?;
    let db = BenchDb::create().await?;
    let (listener, addr) = common::free_addr().await?;
    let state = common::app_state(AppSettings {
        db: &db,
        listen: addr,
        tracktik_portals: vec![host.urls.tracktik.clone()],
        quickbooks: host.urls.quickbooks.clone(),
        // A `web` process's shipped defaults: no variable sets the pool (80 connections), so
        // 32 views at once never wait for one.
        worker_concurrency: None,
        db_connections: None,
    })
    .await?;
    line("database pool", state.config.db_max_connections);
    tokio::spawn(ledgerbridge::server::run_web(
        state.clone(),
        listener,
        std::future::pending(),
    ));
    let bare = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let bare_url = format!("http://{}/", bare.local_addr()?);
    tokio::spawn(async move {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let _ = axum::serve(bare, app).await;
    });

    let app = format!("http://{addr}");
    let browser = Browser::new(&app)?;
    browser.sign_in(&host.urls.tracktik).await?;
    browser
        .connect_quickbooks(&host.urls.quickbooks, US_REALM_ID)
        .await?;
    let (integration,): (uuid::Uuid,) = sqlx::query_as("select integration_id from integration")
        .fetch_one(&state.db)
        .await?;

    let targets = [
        ("bare axum handler", bare_url.clone(), "ok"),
        ("/healthz", format!("{app}/healthz"), ""),
        (
            "/integrations/{id}",
            format!("{app}/integrations/{integration}"),
            "</html>",
        ),
        (
            "/integrations/{id}/setup/method",
            format!("{app}/integrations/{integration}/setup/method"),
            "</html>",
        ),
    ];
    heading("results");
    println!(
        "  {:<34} {:>9} {:>10} {:>10} {:>10} {:>10} {:>7} {:>12}",
        "target", "req/s", "p50", "p90", "p99", "max", "errors", "CPU/req"
    );
    // `LB_BENCH_ONLY=/healthz,/integrations/{id}` (names, comma-separated): only those targets
    // (to profile one page).
    let only = std::env::var("LB_BENCH_ONLY").unwrap_or_default();
    for (name, url, marker) in targets {
        if !only.is_empty() && !only.split(',').any(|n| n == name) {
            continue;
        }
        // Each page must answer 200 with the page itself (not a sign-in redirect).
        let probe = browser.client.get(&url).send().await?;
        let status = probe.status();
        let body = probe.text().await?;
        anyhow::ensure!(
            status == 200 && body.contains(marker),
            "{name} answered {status}: {}",
            &body[..body.len().min(300)]
        );
        let _ = load(&browser.client, &url, connections, Duration::from_secs(1)).await;
        let cpu0 = measure::self_cpu();
        let r = load(
            &browser.client,
            &url,
            connections,
            Duration::from_secs(seconds),
        )
        .await;
        let cpu = measure::self_cpu() - cpu0;
        let mut lat = r.latencies;
        lat.sort();
        let n = lat.len().max(1);
        println!(
            "  {:<34} {:>9.0} {:>10} {:>10} {:>10} {:>10} {:>7} {:>12}",
            name,
            lat.len() as f64 / r.elapsed.as_secs_f64(),
            ms(percentile(&lat, 50.0)),
            ms(percentile(&lat, 90.0)),
            ms(percentile(&lat, 99.0)),
            ms(percentile(&lat, 100.0)),
            r.errors,
            format!("{:.3} ms", cpu.as_secs_f64() * 1000.0 / n as f64),
        );
    }
    println!(
        "  (CPU/req: this process's CPU time — server and load generator together — per request)"
    );
    line("load average at the end", measure::loadavg());

    state.db.close().await;
    db.drop_now().await;
    Ok(())
}

struct Outcome {
    latencies: Vec<Duration>,
    errors: u64,
    elapsed: Duration,
}

/// `connections` loops requesting `url` for `length`; every answer's time, non-200s counted.
async fn load(
    client: &reqwest::Client,
    url: &str,
    connections: usize,
    length: Duration,
) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, stop) = (client.clone(), url.to_owned(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(4096);
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match client.get(&url).send().await {
                    Ok(r) if r.status() == 200 => match r.bytes().await {
                        Ok(_) => latencies.push(t.elapsed()),
                        Err(_) => errors += 1,
                    },
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    let mut out = Outcome {
        latencies: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        if let Ok((l, e)) = t.await {
            out.latencies.extend(l);
            out.errors += e;
        }
    }
    out.elapsed = started.elapsed();
    out
}

/// A browser: a cookie jar, no automatic redirects (each 303 is followed by hand).
struct Browser {
    app: String,
    client: reqwest::Client,
}

impl Browser {
    fn new(app: &str) -> anyhow::Result<Self> {
        Ok(Self {
            app: app.to_owned(),
            client: plain_client()?,
        })
    }

    /// Posts a form with the CSRF token of `form_page`.
    async fn post_form(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<reqwest::Response> {
        let html = self
            .client
            .get(format!("{}{form_page}", self.app))
            .send()
            .await?
            .text()
            .await?;
        let token = csrf_token(&html).context("the page has a CSRF token")?;
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        body.push(("csrf_token", &token));
        Ok(self
            .client
            .post(format!("{}{action}", self.app))
            .form(&body)
            .send()
            .await?)
    }

    /// Signs in through the TrackTik sandbox's sign-in and Allow pages.
    async fn sign_in(&self, tt: &str) -> anyhow::Result<()> {
        let start = self.post_form("/", "/sign-in", &[("portal", tt)]).await?;
        anyhow::ensure!(start.status() == 303, "sign-in answered {}", start.status());
        let sandbox = plain_client()?;
        let form = sandbox.get(location(&start)).send().await?.text().await?;
        let mut fields = inputs(&form);
        fields.push(("username".into(), DEMO_USERNAME.into()));
        fields.push(("password".into(), DEMO_PASSWORD.into()));
        let allow = sandbox
            .post(format!("{tt}/rest/oauth2/authorize"))
            .form(&fields)
            .send()
            .await?
            .text()
            .await?;
        let mut fields = inputs(&allow);
        fields.push(("decision".into(), "allow".into()));
        let back = sandbox
            .post(format!("{tt}/rest/oauth2/authorize/decision"))
            .form(&fields)
            .send()
            .await?;
        let done = self.client.get(location(&back)).send().await?;
        anyhow::ensure!(
            done.status() == 303,
            "the callback answered {}",
            done.status()
        );
        Ok(())
    }

    /// Connects a QuickBooks company through the sandbox's consent page.
    async fn connect_quickbooks(&self, qbo: &str, realm: &str) -> anyhow::Result<()> {
        let start = self
            .post_form("/integrations", "/integrations/connect", &[])
            .await?;
        anyhow::ensure!(start.status() == 303, "connect answered {}", start.status());
        let sandbox = plain_client()?;
        let page = sandbox.get(location(&start)).send().await?.text().await?;
        let mut fields = inputs(&page);
        fields.push(("realm_id".into(), realm.into()));
        fields.push(("decision".into(), "allow".into()));
        let back = sandbox
            .post(format!("{qbo}/connect/oauth2"))
            .form(&fields)
            .send()
            .await?;
        let done = self.client.get(location(&back)).send().await?;
        anyhow::ensure!(
            done.status() == 303,
            "the callback answered {}",
            done.status()
        );
        Ok(())
    }
}

fn plain_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .build()?)
}

fn csrf_token(html: &str) -> Option<String> {
    let key = "name=\"csrf_token\" value=\"";
    let start = html.find(key)? + key.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `(name, value)` of every hidden `<input>` in `html`.
fn inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            tag.find(&key).map(|i| {
                let rest = &tag[i + key.len()..];
                unescape(&rest[..rest.find('"').unwrap_or(rest.len())])
            })
        };
        if let Some(name) = attr("name")
            && attr("type").as_deref() == Some("hidden")
        {
            out.push((name, attr("value").unwrap_or_default()));
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
