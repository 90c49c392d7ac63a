//! Benchmark 3: a fleet. `LB_BENCH_TENANTS` tenants (5,000; 50 with `--quick`), each with its
//! own portal URL and QuickBooks company, each owing 20 approved invoices and one approved pay
//! run for yesterday. Both sandboxes sit behind proxies adding `LB_BENCH_LATENCY_MS` (100) to
//! every request. The nightly tick (`controls::enqueue_due`) enqueues every tenant's day and
//! the real worker (`jobs::run`) runs them, on the shipped defaults (no
//! `LEDGERBRIDGE_WORKER_CONCURRENCY` or `LEDGERBRIDGE_DB_MAX_CONNECTIONS` set) unless
//! `LB_BENCH_CONCURRENCY` or `LB_BENCH_DB_POOL` says otherwise.
//!
//! Prints wall time, documents per second, this process's CPU per document, its peak memory,
//! and the requests each side received. Tenants are seeded through library calls, not browser
//! flows (see `common::seed`); the sync is the real engine.
//!
//! `cargo bench --bench fleet [-- --quick]`; see docs/benchmarks.md.

#[allow(dead_code)]
mod common;

use std::time::{Duration, Instant};

use chrono::{NaiveTime, Utc};
use common::host::SandboxHost;
use common::measure::{self, ms};
use common::seed::futures_like::for_each_limited;
use common::{AppSettings, BenchDb, heading, line, seed};
use ledgerbridge::sandbox::tracktik::SeedConfig;
use ledgerbridge::sync::controls;

fn main() -> anyhow::Result<()> {
    common::host::serve_if_host();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    common::init_logging();
    let tenants = common::size("LB_BENCH_TENANTS", 50, 5_000);
    let concurrency = optional("LB_BENCH_CONCURRENCY");
    let db_pool = optional("LB_BENCH_DB_POOL")
        .map(u32::try_from)
        .transpose()?;
    let latency = common::size("LB_BENCH_LATENCY_MS", 100, 100) as u64;
    let invoices = common::size("LB_BENCH_INVOICES", 20, 20);
    let setup_parallel = common::size("LB_BENCH_SETUP_PARALLEL", 8, 8);
    measure::print_machine();
    heading("benchmark: a fleet");
    line("tenants", tenants);
    line(
        "documents owed per tenant",
        format!("{invoices} invoices + 1 pay run"),
    );
    line(
        "latency added per request, both sides",
        format!("{latency} ms"),
    );

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
    let state = common::app_state(AppSettings {
        db: &db,
        listen: addr,
        tracktik_portals: vec![host.urls.tracktik.clone()],
        quickbooks: host.urls.quickbooks.clone(),
        worker_concurrency: concurrency,
        db_connections: db_pool,
    })
    .await?;
    let shipped = |set: bool| if set { "" } else { " (shipped default)" };
    line(
        "worker concurrency (LEDGERBRIDGE_WORKER_CONCURRENCY)",
        format!(
            "{}{}",
            state.config.worker_concurrency,
            shipped(concurrency.is_some())
        ),
    );
    line(
        "database pool (LEDGERBRIDGE_DB_MAX_CONNECTIONS)",
        format!(
            "{}{}",
            state.config.db_max_connections,
            shipped(db_pool.is_some())
        ),
    );

    let day = Utc::now().date_naive().pred_opt().expect("a yesterday");
    let approved_at = day
        .and_time(NaiveTime::from_hms_opt(6, 0, 0).unwrap())
        .and_utc();
    let setup = Instant::now();
    let tax = seed::tax_inputs(&state, &host.urls.tracktik).await?;
    let cat = seed::catalogue(&state, &host.urls.tracktik).await?;
    seed::approved_invoices(&host, &cat, invoices, day, approved_at, 4).await?;
    seed::approved_payrun(&host, &cat, day, approved_at).await?;
    let done = std::sync::atomic::AtomicUsize::new(0);
    for_each_limited(0..tenants, setup_parallel, |i| {
        let (state, host, tax, done) = (&state, &host, &tax, &done);
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

    // The measured part: tick, then the worker until every job is finished.
    host.set_latency(latency).await?;
    host.reset_counts().await?;
    let peak_reset = measure::reset_peak_memory();
    let rss_before = measure::status_kib("VmRSS").unwrap_or(0);
    let (cpu0, host_cpu0, pg_cpu0) = (measure::self_cpu(), host.cpu(), measure::postgres_cpu());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(ledgerbridge::jobs::run(state.clone(), async move {
        let _ = stopped.await;
    }));
    line("load average at the start", measure::loadavg());
    let started = Instant::now();
    let enqueued = controls::enqueue_due(&state.db, Utc::now()).await?.len();
    let tick = started.elapsed();
    let mut last_print = Instant::now();
    let mut last_progress = (0_i64, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (finished, pending) = job_progress(&state).await?;
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
    let wall = started.elapsed();
    let cpu = measure::self_cpu() - cpu0;
    let host_cpu = host.cpu() - host_cpu0;
    let pg_cpu = measure::postgres_cpu().saturating_sub(pg_cpu0);
    let peak = measure::status_kib("VmHWM").unwrap_or(0);
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(30), worker).await;

    let (tt_counts, qbo_counts) = host.counts().await?;
    let ledger: Vec<(String, i64)> = sqlx::query_as(
        "select state::text, count(*) from ledger_entry group by state order by state",
    )
    .fetch_all(&state.db)
    .await?;
    let runs: Vec<(String, i64)> = sqlx::query_as(
        "select status::text, count(*) from sync_run group by status order by status",
    )
    .fetch_all(&state.db)
    .await?;
    let durations: Vec<f64> = sqlx::query_scalar(
        "select extract(epoch from finished_at - started_at)::float8 from sync_run
         where finished_at is not null order by 1",
    )
    .fetch_all(&state.db)
    .await?;
    let posted = ledger
        .iter()
        .find(|(s, _)| s == "posted")
        .map_or(0, |(_, n)| *n);

    heading("results");
    line("jobs enqueued by the tick", enqueued);
    line(
        "the tick itself (one transaction, 3 statements)",
        format!("{:.1} ms", tick.as_secs_f64() * 1000.0),
    );
    line("runs by status", format!("{runs:?}"));
    line("ledger rows by state", format!("{ledger:?}"));
    line("documents expected", tenants * (invoices + 1));
    line(
        "wall time, tick to last run finished",
        format!("{:.1} s", wall.as_secs_f64()),
    );
    let per_second = posted as f64 / wall.as_secs_f64();
    line("documents posted per second", format!("{per_second:.1}"));
    line(
        "tenants per second",
        format!("{:.2}", tenants as f64 / wall.as_secs_f64()),
    );
    if !durations.is_empty() {
        let pick = |p: f64| {
            durations[((p / 100.0 * durations.len() as f64).ceil() as usize)
                .clamp(1, durations.len())
                - 1]
        };
        line(
            "one tenant's run (p50 / p99 / max)",
            format!(
                "{:.2} s / {:.2} s / {:.2} s",
                pick(50.0),
                pick(99.0),
                pick(100.0)
            ),
        );
    }
    let posted_f = posted.max(1) as f64;
    line("worker process CPU", ms(cpu));
    line(
        "worker CPU per posted document",
        ms(Duration::from_secs_f64(cpu.as_secs_f64() / posted_f)),
    );
    line(
        "worker CPU utilisation (of one core)",
        format!("{:.0} %", 100.0 * cpu.as_secs_f64() / wall.as_secs_f64()),
    );
    line(
        "worker peak memory (VmHWM during the sync)",
        if peak_reset {
            format!(
                "{} (resident before: {})",
                measure::mib(peak),
                measure::mib(rss_before)
            )
        } else {
            format!(
                "{} (whole process life: clear_refs refused)",
                measure::mib(peak)
            )
        },
    );
    line(
        "sandboxes + proxies CPU per document",
        ms(Duration::from_secs_f64(host_cpu.as_secs_f64() / posted_f)),
    );
    line(
        "PostgreSQL CPU per document (whole server)",
        ms(Duration::from_secs_f64(pg_cpu.as_secs_f64() / posted_f)),
    );
    line(
        "sandbox host peak memory",
        measure::status_kib_of(host.pid(), "VmHWM").map_or("?".into(), measure::mib),
    );
    if tenants < 5_000 && per_second > 0.0 {
        let docs = 5_000.0 * (invoices as f64 + 1.0);
        line(
            "extrapolated to 5,000 tenants at this rate",
            format!(
                "{:.0} s ({:.1} min), if the rate holds",
                docs / per_second,
                docs / per_second / 60.0
            ),
        );
    }
    line("load average at the end", measure::loadavg());

    heading("QuickBooks requests by kind");
    for (kind, n) in &qbo_counts.by_kind {
        line(kind, n);
    }
    line("total", qbo_counts.total);
    line(
        "per posted document",
        format!("{:.3}", qbo_counts.total as f64 / posted_f),
    );
    line("429s", qbo_counts.status(429));
    heading("TrackTik requests by kind");
    for (kind, n) in &tt_counts.by_kind {
        line(kind, n);
    }
    line("total", tt_counts.total);
    line(
        "per tenant",
        format!("{:.2}", tt_counts.total as f64 / tenants.max(1) as f64),
    );

    state.db.close().await;
    db.drop_now().await;
    Ok(())
}

/// A number from the environment, or `None` when it is not set (the shipped default).
fn optional(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// (finished, still to run) sync jobs: done, killed, or failed with no attempt left count as
/// finished.
async fn job_progress(state: &ledgerbridge::state::AppState) -> anyhow::Result<(i64, i64)> {
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
