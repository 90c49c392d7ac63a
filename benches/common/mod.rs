//! What every benchmark shares: options, a database of its own, the app's state wired to the
//! sandboxes, and reporting helpers. The sandboxes run in a child process (see [`host`]) so that
//! the CPU time and memory measured for this process are Ledgerbridge's own.
//!
//! Not part of the tests: run with `cargo bench --bench <name>` (see docs/benchmarks.md).

pub mod host;
pub mod measure;
pub mod seed;
pub mod workers;

/// The allocator the `ledgerbridge` binary ships with (`src/main.rs`), so the numbers are its.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::str::FromStr;

use anyhow::Context;
use ledgerbridge::config::Config;
use ledgerbridge::state::AppState;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// `--quick` on the command line or `LB_BENCH_QUICK=1`: a smoke run with small sizes.
pub fn quick() -> bool {
    std::env::args().any(|a| a == "--quick")
        || std::env::var("LB_BENCH_QUICK").is_ok_and(|v| v == "1" || v == "true")
}

/// A size from the environment (`name`), else `quick` or `full` depending on [`quick`].
pub fn size(name: &str, quick_value: usize, full_value: usize) -> usize {
    match std::env::var(name).ok().and_then(|v| v.trim().parse().ok()) {
        Some(n) => n,
        None if quick() => quick_value,
        None => full_value,
    }
}

/// Logs warnings and errors only (`RUST_LOG` overrides): a benchmark's output is its numbers.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// The PostgreSQL server's URL: `DATABASE_URL`, else the app's default.
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| ledgerbridge::config::DEFAULT_DATABASE_URL.to_owned())
}

/// A database made for one benchmark run, dropped by [`BenchDb::drop_now`] unless
/// `LB_BENCH_KEEP_DB=1`.
pub struct BenchDb {
    /// Its name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl BenchDb {
    /// Creates an empty database (the app migrates it).
    pub async fn create() -> anyhow::Result<Self> {
        let base = PgConnectOptions::from_str(&server_url())?;
        let name = format!("lb_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = base
            .clone()
            .database("postgres")
            .connect()
            .await
            .context("PostgreSQL must run on 127.0.0.1:5432 (or at DATABASE_URL)")?;
        sqlx::query(&format!("create database \"{name}\""))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        // The server's URL with only the database changed: `to_url_lossy` would spell out
        // every option (`sslmode=prefer` among them), which the app reads as chosen.
        let mut url = reqwest::Url::parse(&server_url())?;
        url.set_path(&format!("/{name}"));
        let url = url.to_string();
        Ok(Self { name, url })
    }

    /// Drops the database (after the app's pool is closed).
    pub async fn drop_now(&self) {
        if std::env::var("LB_BENCH_KEEP_DB").is_ok_and(|v| v == "1") {
            eprintln!("keeping database {}", self.name);
            return;
        }
        let Ok(base) = PgConnectOptions::from_str(&server_url()) else {
            return;
        };
        if let Ok(mut admin) = base.database("postgres").connect().await {
            let _ = sqlx::query(&format!(
                "drop database if exists \"{}\" with (force)",
                self.name
            ))
            .execute(&mut admin)
            .await;
        }
    }
}

/// How to build the app's state for a benchmark.
pub struct AppSettings<'a> {
    /// The database.
    pub db: &'a BenchDb,
    /// The address the web server will listen on (also the public URL).
    pub listen: std::net::SocketAddr,
    /// TrackTik portals allowed over plain http (sign-in).
    pub tracktik_portals: Vec<String>,
    /// The QuickBooks base URL (the sandbox, or a proxy in front of it).
    pub quickbooks: String,
    /// Worker concurrency (`None`: the shipped default).
    pub worker_concurrency: Option<usize>,
    /// Database pool size (`None`: the shipped default, sized to the concurrency).
    pub db_connections: Option<u32>,
}

/// The configuration variables the app is given (a fresh token key among them): what
/// [`app_state`] reads, and what a worker process is started with (see [`workers`]).
pub fn app_env(s: &AppSettings<'_>) -> BTreeMap<&'static str, String> {
    let mut env = BTreeMap::new();
    env.insert("DATABASE_URL", s.db.url.clone());
    env.insert("LEDGERBRIDGE_LISTEN", s.listen.to_string());
    if let Some(n) = s.db_connections {
        env.insert("LEDGERBRIDGE_DB_MAX_CONNECTIONS", n.to_string());
    }
    if let Some(n) = s.worker_concurrency {
        env.insert("LEDGERBRIDGE_WORKER_CONCURRENCY", n.to_string());
    }
    env.insert("TRACKTIK_HTTP_PORTALS", s.tracktik_portals.join(","));
    env.insert("QUICKBOOKS_BASE_URL", s.quickbooks.clone());
    env.insert(
        "LEDGERBRIDGE_TOKEN_KEYS",
        secrecy::ExposeSecret::expose_secret(&ledgerbridge::crypto::TokenCipher::generate_spec(
            "bench",
        ))
        .to_owned(),
    );
    env
}

/// Builds the state exactly as `ledgerbridge serve` does, from these configuration variables.
pub async fn state_from_env(env: &BTreeMap<&'static str, String>) -> anyhow::Result<AppState> {
    let config = Config::from_lookup(|name| env.get(name).cloned())
        .map_err(|e| anyhow::anyhow!("bench configuration: {e}"))?;
    ledgerbridge::server::build_state(config).await
}

/// Builds the state exactly as `ledgerbridge serve` does, from configuration variables.
pub async fn app_state(s: AppSettings<'_>) -> anyhow::Result<AppState> {
    state_from_env(&app_env(&s)).await
}

/// A free loopback address (bound and released; the web server binds it again at once).
pub async fn free_addr() -> anyhow::Result<(tokio::net::TcpListener, std::net::SocketAddr)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Prints a section heading.
pub fn heading(title: &str) {
    println!();
    println!("== {title} ==");
}

/// Prints `label: value`, aligned.
pub fn line(label: &str, value: impl std::fmt::Display) {
    println!("  {label:<44} {value}");
}
