//! Worker processes for the fleet's scale-out (`LB_BENCH_WORKERS`): this benchmark binary
//! started again with `LB_BENCH_ROLE=worker`. The child reads its configuration from its
//! environment and runs the worker as `ledgerbridge worker` does (`Config::from_env`,
//! `server::build_state`, `server::run_worker`); it exits when its stdin closes. Its logging
//! is the benchmarks' (warnings only), not the binary's `info`.
//!
//! Also the arithmetic of PostgreSQL's connections: every worker's pool must fit in the server's
//! `max_connections` together with everyone else's.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use ledgerbridge::config::{Config, sizing};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

const ROLE: &str = "LB_BENCH_ROLE";

/// What a worker process says once its state is built: its configuration as it read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ready {
    /// Sync runs it takes at once (`LEDGERBRIDGE_WORKER_CONCURRENCY`).
    pub concurrency: usize,
    /// Its database pool (`LEDGERBRIDGE_DB_MAX_CONNECTIONS`, or sized from the concurrency).
    pub pool: u32,
}

/// One running worker process.
pub struct WorkerProcess {
    /// Its configuration, as it reported it.
    pub ready: Ready,
    child: Child,
}

impl WorkerProcess {
    /// Starts `n` worker processes with these configuration variables (see
    /// [`super::app_env`]) and waits until each has built its state. The app's variables this
    /// process happens to have are not passed on: the children see only `env`.
    pub fn start_all(n: usize, env: &BTreeMap<&'static str, String>) -> anyhow::Result<Vec<Self>> {
        let exe = std::env::current_exe()?;
        let mut children = Vec::with_capacity(n);
        for _ in 0..n {
            let mut command = std::process::Command::new(&exe);
            for (name, _) in std::env::vars_os() {
                let name = name.to_string_lossy();
                if is_app_variable(&name) {
                    command.env_remove(name.as_ref());
                }
            }
            let child = command
                .env(ROLE, "worker")
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .context("starting a worker process")?;
            children.push(child);
        }
        let mut workers = Vec::with_capacity(n);
        for (i, mut child) in children.into_iter().enumerate() {
            let stdout = child.stdout.take().context("a worker's stdout")?;
            let mut first = String::new();
            BufReader::new(stdout).read_line(&mut first)?;
            let ready: Ready = serde_json::from_str(first.trim()).with_context(|| {
                format!(
                    "worker process {} said {first:?} instead of being ready",
                    i + 1
                )
            })?;
            workers.push(Self { ready, child });
        }
        Ok(workers)
    }

    /// Its pid.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its CPU time so far (user + system, from `/proc/<pid>/stat`).
    pub fn cpu(&self) -> Duration {
        super::measure::cpu_time(&self.pid().to_string(), false).unwrap_or_default()
    }

    /// Its peak resident memory since it was ready (`VmHWM`, reset then), in KiB.
    pub fn peak_kib(&self) -> Option<u64> {
        super::measure::status_kib_of(self.pid(), "VmHWM")
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        // Closing its stdin tells the child to exit; wait so it leaves no zombie.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// A variable the app reads, which a worker must not inherit from this process.
fn is_app_variable(name: &str) -> bool {
    name == "DATABASE_URL"
        || ["LEDGERBRIDGE_", "QUICKBOOKS_", "TRACKTIK_"]
            .iter()
            .any(|p| name.starts_with(p))
}

/// When this process is a worker, runs it and never returns; otherwise returns.
/// Call first thing in `main` of a benchmark that starts workers.
pub fn serve_if_worker() {
    if std::env::var(ROLE).as_deref() != Ok("worker") {
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
    // The runtime `#[tokio::main]` gives the binary: multi-threaded, a thread per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the worker's runtime starts");
    if let Err(e) = runtime.block_on(worker()) {
        eprintln!("worker process failed: {e:#}");
        std::process::exit(1);
    }
    std::process::exit(0);
}

async fn worker() -> anyhow::Result<()> {
    super::init_logging();
    let config = Config::from_env().map_err(|e| anyhow::anyhow!("worker configuration: {e}"))?;
    let state = ledgerbridge::server::build_state(config).await?;
    // Peak memory from here on: the sync, not the start.
    super::measure::reset_peak_memory();
    let ready = Ready {
        concurrency: state.config.worker_concurrency,
        pool: state.config.db_max_connections,
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", serde_json::to_string(&ready)?)?;
        out.flush()?;
    }
    ledgerbridge::server::run_worker(state).await
}

/// The pool a worker gets for this concurrency (and pool, when set), as the app sizes it.
pub fn pool_for(concurrency: usize, pool: Option<u32>) -> anyhow::Result<u32> {
    let (_, connections) = sizing::read(
        Some((concurrency.to_string(), "LEDGERBRIDGE_WORKER_CONCURRENCY")),
        pool.map(|p| (p.to_string(), "LEDGERBRIDGE_DB_MAX_CONNECTIONS")),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(connections)
}

/// The server's connection limits and what others hold now.
#[derive(Debug, Clone, Copy)]
pub struct ServerConnections {
    /// `max_connections`.
    pub max: u32,
    /// `superuser_reserved_connections` (kept free here, though the benchmark's user may be a
    /// superuser: other sessions may need them).
    pub reserved: u32,
    /// Client connections open now to other databases (other programs' and tests').
    pub others: u32,
}

impl ServerConnections {
    /// Reads them, counting as "others" every client connection not to `own_database`.
    pub async fn read(own_database: Option<&str>) -> anyhow::Result<Self> {
        let mut conn = PgConnectOptions::from_str(&super::server_url())?
            .database("postgres")
            .connect()
            .await
            .context("PostgreSQL must run on 127.0.0.1:5432 (or at DATABASE_URL)")?;
        let max: String = sqlx::query_scalar("show max_connections")
            .fetch_one(&mut conn)
            .await?;
        let reserved: String = sqlx::query_scalar("show superuser_reserved_connections")
            .fetch_one(&mut conn)
            .await?;
        let others: i64 = sqlx::query_scalar(
            "select count(*) from pg_stat_activity
             where backend_type = 'client backend' and pid <> pg_backend_pid()
               and datname is distinct from $1",
        )
        .bind(own_database)
        .fetch_one(&mut conn)
        .await?;
        conn.close().await?;
        Ok(Self {
            max: max.trim().parse()?,
            reserved: reserved.trim().parse()?,
            others: u32::try_from(others)?,
        })
    }

    /// Connections left for the benchmark: `max_connections` less the reserved and the others'.
    pub fn available(&self) -> u32 {
        self.max
            .saturating_sub(self.reserved)
            .saturating_sub(self.others)
    }

    /// Refuses, saying why, when `workers` pools of `pool` and the benchmark's own `own_pool`
    /// do not fit.
    pub fn check(&self, workers: usize, pool: u32, own_pool: u32) -> anyhow::Result<()> {
        let need = workers as u64 * u64::from(pool) + u64::from(own_pool);
        anyhow::ensure!(
            need <= u64::from(self.available()),
            "{workers} worker process(es) with a pool of {pool} each, plus {own_pool} for the \
             benchmark's own pool, need {need} connections; PostgreSQL allows {} \
             (max_connections) less {} reserved for superusers less {} held by others now = {}. \
             Lower LB_BENCH_CONCURRENCY (or LB_BENCH_DB_POOL) per worker, run fewer workers, \
             or raise max_connections.",
            self.max,
            self.reserved,
            self.others,
            self.available()
        );
        Ok(())
    }

    /// The highest concurrency (up to `ceiling`) whose pool, `workers` times over, fits beside
    /// `own_pool`; `None` when not even 1 does.
    pub fn largest_concurrency(
        &self,
        workers: usize,
        own_pool: u32,
        ceiling: usize,
    ) -> Option<usize> {
        (1..=ceiling).rev().find(|&c| {
            pool_for(c, None).is_ok_and(|pool| self.check(workers, pool, own_pool).is_ok())
        })
    }
}
