//! Benchmark 3: a fleet. `LB_BENCH_TENANTS` tenants (5,000; 50 with `--quick`), each with its
//! own portal URL and QuickBooks company, each owing 20 approved invoices and one approved pay
//! run for yesterday. Both sandboxes sit behind proxies adding `LB_BENCH_LATENCY_MS` (100) to
//! every request. The nightly tick (`controls::enqueue_due`) enqueues every tenant's day and
//! the real worker (`jobs::run`) runs them, on the shipped defaults (no
//! `LEDGERBRIDGE_WORKER_CONCURRENCY` or `LEDGERBRIDGE_DB_MAX_CONNECTIONS` set) unless
//! `LB_BENCH_CONCURRENCY` or `LB_BENCH_DB_POOL` says otherwise.
//!
//! Prints wall time, documents per second, the worker's CPU per document, its peak memory,
//! and the requests each side received. Tenants are seeded through library calls, not browser
//! flows (see `common::seed`); the sync is the real engine.
//!
//! **Scale-out**, `LB_BENCH_WORKERS=N` or a series `LB_BENCH_WORKERS=1,2,4`: instead of running
//! the worker in this process, starts N worker processes on the benchmark's database (see
//! `common::workers`), each at `LB_BENCH_CONCURRENCY` runs at once (if unset: the most at which
//! the largest N's pools fit in PostgreSQL's `max_connections`; refused when they would not
//! fit). Each N gets a fleet of its own, set up again the same way, and the series ends with
//! throughput(N) / (N × throughput(1)). Per N it prints each worker process's CPU and peak
//! memory, their idle cost before the tick (`LB_BENCH_IDLE_SECONDS`, 3), PostgreSQL's and the
//! sandboxes' CPU, and how busy the whole machine was. `LB_BENCH_LATE_WORKER_SECONDS=s` starts
//! the last of N ≥ 2 workers s seconds after the tick, as one added during the night would.
//!
//! `cargo bench --bench fleet [-- --quick]`; see docs/benchmarks.md.

#[allow(dead_code)]
mod common;
#[path = "fleet/report.rs"]
mod report;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{NaiveTime, Utc};
use common::host::SandboxHost;
use common::measure;
use common::seed::futures_like::for_each_limited;
use common::workers::{ServerConnections, WorkerProcess, pool_for};
use common::{AppSettings, BenchDb, heading, line, seed};
use ledgerbridge::config::sizing::DEFAULT_WORKER_CONCURRENCY;
use ledgerbridge::sandbox::tracktik::SeedConfig;
use ledgerbridge::state::AppState;
use ledgerbridge::sync::controls;
use report::{Marks, Outcome, ProcessUse};

fn main() -> anyhow::Result<()> {
    common::host::serve_if_host();
    common::workers::serve_if_worker();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

/// The benchmark's settings, from the environment.
struct Options {
    tenants: usize,
    concurrency: Option<usize>,
    db_pool: Option<u32>,
    latency: u64,
    invoices: usize,
    setup_parallel: usize,
    /// `LB_BENCH_IDLE_SECONDS`: how long the worker processes' idle cost is measured.
    idle_seconds: u64,
    /// `LB_BENCH_SPARE_CONNECTIONS`: connections left free for others when the concurrency
    /// per worker is chosen (10).
    spare_connections: u32,
    /// `LB_BENCH_LATE_WORKER_SECONDS`: the last of N ≥ 2 workers starts this long after the tick.
    late_worker_seconds: Option<u64>,
    /// `LB_BENCH_WORKERS`: the numbers of worker processes to run, in order; `None`: the
    /// worker runs in this process.
    workers: Option<Vec<usize>>,
}

impl Options {
    fn read() -> anyhow::Result<Self> {
        let workers = match std::env::var("LB_BENCH_WORKERS") {
            Ok(v) if !v.trim().is_empty() => Some(
                v.split(',')
                    .map(|n| n.trim().parse::<usize>().ok().filter(|&n| n > 0))
                    .collect::<Option<Vec<_>>>()
                    .with_context(|| {
                        format!("LB_BENCH_WORKERS={v:?}: expected a number or a list like 1,2,4")
                    })?,
            ),
            _ => None,
        };
        Ok(Self {
            tenants: common::size("LB_BENCH_TENANTS", 50, 5_000),
            concurrency: optional("LB_BENCH_CONCURRENCY"),
            db_pool: optional("LB_BENCH_DB_POOL")
                .map(u32::try_from)
                .transpose()?,
            latency: common::size("LB_BENCH_LATENCY_MS", 100, 100) as u64,
            invoices: common::size("LB_BENCH_INVOICES", 20, 20),
            setup_parallel: common::size("LB_BENCH_SETUP_PARALLEL", 8, 8),
            idle_seconds: common::size("LB_BENCH_IDLE_SECONDS", 3, 3) as u64,
            spare_connections: common::size("LB_BENCH_SPARE_CONNECTIONS", 10, 10) as u32,
            late_worker_seconds: optional("LB_BENCH_LATE_WORKER_SECONDS").map(|s| s as u64),
            workers,
        })
    }

    /// This process's own pool when workers run elsewhere: enough for the set-up.
    fn own_pool(&self) -> u32 {
        self.setup_parallel as u32 + 2
    }
}

async fn run() -> anyhow::Result<()> {
    common::init_logging();
    let o = Options::read()?;
    measure::print_machine();
    heading("benchmark: a fleet");
    line("tenants", o.tenants);
    line(
        "documents owed per tenant",
        format!("{} invoices + 1 pay run", o.invoices),
    );
    line(
        "latency added per request, both sides",
        format!("{} ms", o.latency),
    );
    let Some(series) = o.workers.clone() else {
        let fleet = Fleet::set_up(&o, None).await?;
        let outcome = in_process(&fleet, &o).await;
        fleet.close().await;
        report::print(&outcome?, &o);
        return Ok(());
    };
    let largest = series.iter().copied().max().unwrap_or(1);
    let connections = ServerConnections::read(None).await?;
    let concurrency = match o.concurrency {
        Some(c) => {
            connections.check(largest, pool_for(c, o.db_pool)?, o.own_pool())?;
            c
        }
        None => connections
            .largest_concurrency(
                largest,
                o.own_pool() + o.spare_connections,
                DEFAULT_WORKER_CONCURRENCY,
            )
            .with_context(|| {
                format!(
                    "not even one run per worker fits {largest} worker pools in PostgreSQL's \
                     connections ({connections:?})"
                )
            })?,
    };
    let pool = pool_for(concurrency, o.db_pool)?;
    line("worker processes, in turn", format!("{series:?}"));
    line(
        "PostgreSQL connections",
        format!(
            "max_connections {}, {} reserved, {} held by others at the start",
            connections.max, connections.reserved, connections.others
        ),
    );
    line(
        "per worker: concurrency / pool",
        format!(
            "{concurrency} / {pool}{}",
            if o.concurrency.is_some() {
                " (LB_BENCH_CONCURRENCY)".to_owned()
            } else {
                format!(
                    " (chosen: the most at which {largest} pools of it, this process's {} and \
                     {} spare for others fit; the shipped {DEFAULT_WORKER_CONCURRENCY} gives \
                     pools of {})",
                    o.own_pool(),
                    o.spare_connections,
                    pool_for(DEFAULT_WORKER_CONCURRENCY, None)?
                )
            }
        ),
    );
    let mut outcomes = Vec::new();
    for n in series {
        heading(&format!("{n} worker process(es)"));
        let fleet = Fleet::set_up(&o, Some(o.own_pool())).await?;
        let outcome = in_processes(&fleet, &o, n, concurrency).await;
        fleet.close().await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(e) => {
                report::print_series(&outcomes);
                return Err(e);
            }
        };
        report::print(&outcome, &o);
        outcomes.push(outcome);
    }
    report::print_series(&outcomes);
    Ok(())
}

/// A fleet set up and waiting for its tick: the sandboxes, the database, this process's state.
struct Fleet {
    host: SandboxHost,
    db: BenchDb,
    state: AppState,
    /// The configuration variables the state was built from (workers get the same).
    env: BTreeMap<&'static str, String>,
}

impl Fleet {
    /// Sets up `o.tenants` tenants. With `own_pool`, this process's state gets that pool (the
    /// workers run elsewhere); without, it gets the worker's settings.
    async fn set_up(o: &Options, own_pool: Option<u32>) -> anyhow::Result<Self> {
        // One TrackTik sandbox serves every tenant's portal (`{proxy}/p/{n}`): the same 20
        // invoices and pay run, posted into each tenant's own QuickBooks company.
        let host = SandboxHost::start(&SeedConfig {
            clients: 5,
            sites_per_client: 1,
            days_of_invoices: 0,
            invoices_per_day: 0,
            payrun_weeks: 0,
            employees: 5,
            // The portal's scope extras (a sub-region, a client without a region) are what the
            // wizard's Regions step shows; their invoices could not post without a currency.
            scope_extras: false,
            ..SeedConfig::default()
        })?;
        let db = BenchDb::create().await?;
        let (listener, addr) = common::free_addr().await?;
        drop(listener);
        let (worker_concurrency, db_connections) = match own_pool {
            Some(pool) => (Some(pool as usize - 2), Some(pool)),
            None => (o.concurrency, o.db_pool),
        };
        let env = common::app_env(&AppSettings {
            db: &db,
            listen: addr,
            tracktik_portals: vec![host.urls.tracktik.clone()],
            quickbooks: host.urls.quickbooks.clone(),
            worker_concurrency,
            db_connections,
        });
        let state = match common::state_from_env(&env).await {
            Ok(state) => state,
            Err(e) => {
                db.drop_now().await;
                return Err(e);
            }
        };
        if let Err(e) = seed_fleet(o, &host, &state).await {
            state.db.close().await;
            db.drop_now().await;
            return Err(e);
        }
        Ok(Self {
            host,
            db,
            state,
            env,
        })
    }

    async fn close(self) {
        self.state.db.close().await;
        self.db.drop_now().await;
    }
}

/// Seeds the TrackTik documents and `o.tenants` tenants, then sets the proxies' latency.
async fn seed_fleet(o: &Options, host: &SandboxHost, state: &AppState) -> anyhow::Result<()> {
    let day = Utc::now().date_naive().pred_opt().expect("a yesterday");
    let approved_at = day
        .and_time(NaiveTime::from_hms_opt(6, 0, 0).unwrap())
        .and_utc();
    let setup = Instant::now();
    let tax = seed::tax_inputs(state, &host.urls.tracktik).await?;
    let cat = seed::catalogue(state, &host.urls.tracktik).await?;
    seed::approved_invoices(host, &cat, o.invoices, day, approved_at, 4).await?;
    seed::approved_payrun(host, &cat, day, approved_at).await?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    for_each_limited(0..o.tenants, o.setup_parallel, |i| {
        let (tax, done) = (&tax, &done);
        async move {
            let realm = seed::new_company(host, &format!("Fleet Company {i}")).await?;
            let portal = format!("{}/p/{i}", host.urls.tracktik);
            seed::tenant(state, host, &portal, &realm, tax, day, true).await?;
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if n % 500 == 0 {
                eprintln!(
                    "  set up {n} tenants in {:.0} s",
                    setup.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
    })
    .await?;
    line(
        "set-up time (not measured)",
        format!("{:.1} s", setup.elapsed().as_secs_f64()),
    );
    host.set_latency(o.latency).await?;
    host.reset_counts().await?;
    Ok(())
}

/// The tick, then the worker in this process until every job is finished.
async fn in_process(fleet: &Fleet, o: &Options) -> anyhow::Result<Outcome> {
    let state = &fleet.state;
    let shipped = |set: bool| if set { "" } else { " (shipped default)" };
    line(
        "worker concurrency (LEDGERBRIDGE_WORKER_CONCURRENCY)",
        format!(
            "{}{}",
            state.config.worker_concurrency,
            shipped(o.concurrency.is_some())
        ),
    );
    line(
        "database pool (LEDGERBRIDGE_DB_MAX_CONNECTIONS)",
        format!(
            "{}{}",
            state.config.db_max_connections,
            shipped(o.db_pool.is_some())
        ),
    );
    let peak_reset = measure::reset_peak_memory();
    let rss_before = measure::status_kib("VmRSS").unwrap_or(0);
    let cpu0 = measure::self_cpu();
    let marks = Marks::now(fleet).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(ledgerbridge::jobs::run(state.clone(), async move {
        let _ = stopped.await;
    }));
    let (enqueued, tick, wall) = tick_and_wait(state).await?;
    let process = ProcessUse {
        pid: std::process::id(),
        cpu: measure::self_cpu() - cpu0,
        peak_kib: measure::status_kib("VmHWM"),
    };
    let mut outcome = Outcome::finish(fleet, o, marks, enqueued, tick, wall, vec![process]).await?;
    outcome.peak_note = if peak_reset {
        format!("resident before: {}", measure::mib(rss_before))
    } else {
        "whole process life: clear_refs refused".into()
    };
    outcome.in_process = true;
    outcome.concurrency = state.config.worker_concurrency;
    outcome.pool = state.config.db_max_connections;
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), worker).await;
    Ok(outcome)
}

/// `n` worker processes, then the tick, until every job is finished.
async fn in_processes(
    fleet: &Fleet,
    o: &Options,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Outcome> {
    // Checked again now: others' connections come and go.
    let own_pool = fleet.state.config.db_max_connections;
    ServerConnections::read(Some(&fleet.db.name)).await?.check(
        n,
        pool_for(concurrency, o.db_pool)?,
        own_pool,
    )?;
    let mut env = fleet.env.clone();
    env.insert("LEDGERBRIDGE_WORKER_CONCURRENCY", concurrency.to_string());
    match o.db_pool {
        Some(pool) => env.insert("LEDGERBRIDGE_DB_MAX_CONNECTIONS", pool.to_string()),
        None => env.remove("LEDGERBRIDGE_DB_MAX_CONNECTIONS"),
    };
    // `LB_BENCH_LATE_WORKER_SECONDS`: the last worker joins that long after the tick, as one
    // added or restarted during the night would.
    let late = o.late_worker_seconds.filter(|_| n >= 2);
    let early = n - usize::from(late.is_some());
    let mut workers = tokio::task::block_in_place(|| WorkerProcess::start_all(early, &env))?;
    let ready = workers[0].ready.clone();
    line(
        "each worker: concurrency / pool (as it read them)",
        format!(
            "{} / {} (the pool sized from the concurrency{})",
            ready.concurrency,
            ready.pool,
            if o.db_pool.is_some() {
                ", or LB_BENCH_DB_POOL"
            } else {
                ""
            }
        ),
    );
    line(
        "worker pids",
        workers
            .iter()
            .map(|w| w.pid().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    // Every worker's job poller running before the tick; then what they cost idle.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_window = Duration::from_secs(o.idle_seconds);
    let idle_cpu0: Duration = workers.iter().map(WorkerProcess::cpu).sum();
    let idle_pg0 = report::own_backends(&fleet.state.db).await?;
    tokio::time::sleep(idle_window).await;
    let mut cpu0: Vec<Duration> = workers.iter().map(WorkerProcess::cpu).collect();
    let idle = report::Idle {
        window: idle_window,
        workers: cpu0.iter().sum::<Duration>().saturating_sub(idle_cpu0),
        postgres: report::own_backend_cpu_since(&fleet.state.db, &idle_pg0).await?,
    };
    let marks = Marks::now(fleet).await?;
    let late = late.map(|seconds| {
        line("last worker joins after the tick", format!("{seconds} s"));
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            tokio::task::spawn_blocking(move || WorkerProcess::start_all(1, &env)).await?
        })
    });
    let (enqueued, tick, wall) = tick_and_wait(&fleet.state).await?;
    if let Some(late) = late {
        workers.extend(late.await??);
        cpu0.push(Duration::ZERO);
    }
    let processes: Vec<ProcessUse> = workers
        .iter()
        .zip(cpu0)
        .map(|(w, cpu0)| ProcessUse {
            pid: w.pid(),
            cpu: w.cpu().saturating_sub(cpu0),
            peak_kib: w.peak_kib(),
        })
        .collect();
    let mut outcome = Outcome::finish(fleet, o, marks, enqueued, tick, wall, processes).await?;
    outcome.peak_note = "reset when the process was ready".into();
    outcome.idle = Some(idle);
    outcome.concurrency = ready.concurrency;
    outcome.pool = ready.pool;
    drop(workers);
    Ok(outcome)
}

/// The tick, then waits until every job it enqueued is finished: (jobs, the tick, wall time
/// from the tick to the last run finished).
async fn tick_and_wait(state: &AppState) -> anyhow::Result<(usize, Duration, Duration)> {
    line("load average at the start", measure::loadavg());
    let started = Instant::now();
    let enqueued = controls::enqueue_due(&state.db, Utc::now()).await?.len();
    let tick = started.elapsed();
    let mut last_print = Instant::now();
    let mut last_progress = (0_i64, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (finished, pending) = job_progress(state).await?;
        if finished >= enqueued as i64 {
            break;
        }
        if finished != last_progress.0 {
            last_progress = (finished, Instant::now());
        } else if last_progress.1.elapsed() > Duration::from_secs(600) {
            eprintln!("no job finished for 10 minutes; stopping ({finished} of {enqueued})");
            break;
        }
        if last_print.elapsed() > Duration::from_secs(15) {
            eprintln!(
                "  {finished} of {enqueued} runs finished, {pending} waiting, {:.0} s",
                started.elapsed().as_secs_f64()
            );
            last_print = Instant::now();
        }
    }
    Ok((enqueued, tick, started.elapsed()))
}

/// A number from the environment, or `None` when it is not set (the shipped default).
fn optional(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// (finished, still to run) sync jobs: done, killed, or failed with no attempt left count as
/// finished.
async fn job_progress(state: &AppState) -> anyhow::Result<(i64, i64)> {
    let (finished, waiting): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where status in ('Done', 'Killed')
                                   or (status = 'Failed' and attempts >= max_attempts)),
                count(*) filter (where status = 'Pending')
         from apalis.jobs where job_type = $1",
    )
    .bind(controls::job_type())
    .fetch_one(&state.db)
    .await?;
    Ok((finished, waiting))
}
