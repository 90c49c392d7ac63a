//! The fleet benchmark's results: what one measurement found, and the scale-out series.

use std::time::Duration;

use crate::common::host::Counts;
use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::common::measure::{self, ms};
use crate::common::{heading, line};
use crate::{Fleet, Options};

/// What every measurement takes at its start, to subtract at its end.
pub struct Marks {
    host_cpu: Duration,
    pg_cpu: Duration,
    backends: BTreeMap<i32, Duration>,
    machine: (Duration, Duration),
    load: String,
}

impl Marks {
    /// Now.
    pub async fn now(fleet: &Fleet) -> anyhow::Result<Self> {
        Ok(Self {
            backends: own_backends(&fleet.state.db).await?,
            host_cpu: fleet.host.cpu(),
            pg_cpu: measure::postgres_cpu(),
            machine: measure::machine_cpu(),
            load: measure::loadavg(),
        })
    }
}

/// CPU time of each PostgreSQL backend serving the benchmark's database now, by pid: the
/// PostgreSQL work that is this fleet's and no one else's on a shared server (background
/// processes, and backends that closed in between, are left out).
pub async fn own_backends(db: &PgPool) -> anyhow::Result<BTreeMap<i32, Duration>> {
    let pids: Vec<i32> =
        sqlx::query_scalar("select pid from pg_stat_activity where datname = current_database()")
            .fetch_all(db)
            .await?;
    Ok(measure::cpu_of(&pids))
}

/// The CPU the benchmark database's backends used since `start` ([`own_backends`] then);
/// backends opened since count from zero.
pub async fn own_backend_cpu_since(
    db: &PgPool,
    start: &BTreeMap<i32, Duration>,
) -> anyhow::Result<Duration> {
    Ok(own_backends(db)
        .await?
        .iter()
        .map(|(pid, cpu)| cpu.saturating_sub(start.get(pid).copied().unwrap_or_default()))
        .sum())
}

/// One worker process's use of the machine during the measurement.
pub struct ProcessUse {
    /// Its pid.
    pub pid: u32,
    /// CPU time (user + system) from the tick to the last run finished.
    pub cpu: Duration,
    /// Peak resident memory (`VmHWM`), KiB.
    pub peak_kib: Option<u64>,
}

/// What the worker processes cost before the tick, with nothing to run: the job queue's
/// polling, heartbeats and cron streams.
pub struct Idle {
    /// How long it was measured.
    pub window: Duration,
    /// All worker processes' CPU in that time.
    pub workers: Duration,
    /// PostgreSQL's CPU in that time (the benchmark database's backends).
    pub postgres: Duration,
}

/// What one measurement found.
pub struct Outcome {
    /// The worker processes (this one, when the worker ran in it).
    pub processes: Vec<ProcessUse>,
    /// Whether the worker ran in this process.
    pub in_process: bool,
    /// Each worker's concurrency and pool.
    pub concurrency: usize,
    pub pool: u32,
    /// Since when the peak memory counts.
    pub peak_note: String,
    /// The worker processes' idle cost, when they ran as processes.
    pub idle: Option<Idle>,
    tenants: usize,
    invoices: usize,
    enqueued: usize,
    tick: Duration,
    wall: Duration,
    runs: Vec<(String, i64)>,
    ledger: Vec<(String, i64)>,
    durations: Vec<f64>,
    posted: i64,
    sync_runs: i64,
    host_cpu: Duration,
    host_peak_kib: Option<u64>,
    pg_cpu: Duration,
    pg_own_cpu: Duration,
    machine_busy: Duration,
    machine_total: Duration,
    load_start: String,
    load_end: String,
    tt: Counts,
    qbo: Counts,
}

impl Outcome {
    /// Takes the end marks first (before this function's own queries), then reads what the
    /// runs left in the database and the proxies' counts.
    pub async fn finish(
        fleet: &Fleet,
        o: &Options,
        marks: Marks,
        enqueued: usize,
        tick: Duration,
        wall: Duration,
        processes: Vec<ProcessUse>,
    ) -> anyhow::Result<Self> {
        let pg_own_cpu = own_backend_cpu_since(&fleet.state.db, &marks.backends).await?;
        let host_cpu = fleet.host.cpu().saturating_sub(marks.host_cpu);
        let pg_cpu = measure::postgres_cpu().saturating_sub(marks.pg_cpu);
        let (busy, total) = measure::machine_cpu();
        let load_end = measure::loadavg();
        let host_peak_kib = measure::status_kib_of(fleet.host.pid(), "VmHWM");
        let (tt, qbo) = fleet.host.counts().await?;
        let db = &fleet.state.db;
        let ledger: Vec<(String, i64)> = sqlx::query_as(
            "select state::text, count(*) from ledger_entry group by state order by state",
        )
        .fetch_all(db)
        .await?;
        let runs: Vec<(String, i64)> = sqlx::query_as(
            "select status::text, count(*) from sync_run group by status order by status",
        )
        .fetch_all(db)
        .await?;
        let durations: Vec<f64> = sqlx::query_scalar(
            "select extract(epoch from finished_at - started_at)::float8 from sync_run
             where finished_at is not null order by 1",
        )
        .fetch_all(db)
        .await?;
        let posted = ledger
            .iter()
            .find(|(s, _)| s == "posted")
            .map_or(0, |(_, n)| *n);
        Ok(Self {
            processes,
            in_process: false,
            concurrency: 0,
            pool: 0,
            peak_note: String::new(),
            idle: None,
            tenants: o.tenants,
            invoices: o.invoices,
            enqueued,
            tick,
            wall,
            sync_runs: runs.iter().map(|(_, n)| n).sum(),
            runs,
            ledger,
            durations,
            posted,
            host_cpu,
            host_peak_kib,
            pg_cpu,
            pg_own_cpu,
            machine_busy: busy.saturating_sub(marks.machine.0),
            machine_total: total.saturating_sub(marks.machine.1),
            load_start: marks.load,
            load_end,
            tt,
            qbo,
        })
    }

    /// Documents posted per second of wall time.
    fn per_second(&self) -> f64 {
        self.posted as f64 / self.wall.as_secs_f64()
    }

    /// Every worker process's CPU together.
    fn workers_cpu(&self) -> Duration {
        self.processes.iter().map(|p| p.cpu).sum()
    }

    /// `cpu` per posted document.
    fn per_document(&self, cpu: Duration) -> Duration {
        Duration::from_secs_f64(cpu.as_secs_f64() / self.posted.max(1) as f64)
    }

    /// `cpu` as a share of one core over the wall time.
    fn of_a_core(&self, cpu: Duration) -> String {
        format!(
            "{:.0} %",
            100.0 * cpu.as_secs_f64() / self.wall.as_secs_f64()
        )
    }

    /// The machine's busy share over the measurement (all CPUs together).
    fn machine_busy_share(&self) -> f64 {
        self.machine_busy.as_secs_f64() / self.machine_total.as_secs_f64().max(1e-9)
    }
}

/// Prints one measurement.
pub fn print(r: &Outcome, o: &Options) {
    heading("results");
    line("jobs enqueued by the tick", r.enqueued);
    line(
        "the tick itself (one transaction, 3 statements)",
        format!("{:.1} ms", r.tick.as_secs_f64() * 1000.0),
    );
    line("runs by status", format!("{:?}", r.runs));
    line(
        "sync runs recorded / jobs enqueued",
        format!("{} / {}", r.sync_runs, r.enqueued),
    );
    line("ledger rows by state", format!("{:?}", r.ledger));
    line("documents expected", r.tenants * (r.invoices + 1));
    line(
        "wall time, tick to last run finished",
        format!("{:.1} s", r.wall.as_secs_f64()),
    );
    let per_second = r.per_second();
    line("documents posted per second", format!("{per_second:.1}"));
    line(
        "tenants per second",
        format!("{:.2}", r.tenants as f64 / r.wall.as_secs_f64()),
    );
    if !r.durations.is_empty() {
        let d = &r.durations;
        let pick = |p: f64| d[((p / 100.0 * d.len() as f64).ceil() as usize).clamp(1, d.len()) - 1];
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
    let peak = |p: &ProcessUse| p.peak_kib.map_or("?".into(), measure::mib);
    if r.in_process {
        let p = &r.processes[0];
        line("worker process CPU", ms(p.cpu));
        line(
            "worker peak memory (VmHWM during the sync)",
            format!("{} ({})", peak(p), r.peak_note),
        );
    } else {
        for (i, p) in r.processes.iter().enumerate() {
            line(
                &format!("worker process {} (pid {})", i + 1, p.pid),
                format!(
                    "CPU {:.1} s ({} of a core), peak memory {}",
                    p.cpu.as_secs_f64(),
                    r.of_a_core(p.cpu),
                    peak(p)
                ),
            );
        }
        line("worker peak memory counted", r.peak_note.as_str());
        if let Some(idle) = &r.idle {
            let per_second = |cpu: Duration| {
                format!(
                    "{:.1} ms/s",
                    cpu.as_secs_f64() * 1000.0 / idle.window.as_secs_f64()
                )
            };
            line(
                &format!(
                    "idle, before the tick ({} s): workers / PostgreSQL",
                    idle.window.as_secs()
                ),
                format!(
                    "{} / {} of CPU",
                    per_second(idle.workers),
                    per_second(idle.postgres)
                ),
            );
        }
        line("all worker processes' CPU", ms(r.workers_cpu()));
    }
    line(
        "worker CPU per posted document",
        ms(r.per_document(r.workers_cpu())),
    );
    line(
        "worker CPU utilisation (of one core)",
        r.of_a_core(r.workers_cpu()),
    );
    line(
        "sandboxes + proxies CPU per document",
        ms(r.per_document(r.host_cpu)),
    );
    line(
        "sandboxes + proxies CPU (of one core)",
        r.of_a_core(r.host_cpu),
    );
    line(
        "PostgreSQL CPU per document (whole server)",
        ms(r.per_document(r.pg_cpu)),
    );
    line("PostgreSQL CPU (of one core)", r.of_a_core(r.pg_cpu));
    line(
        "PostgreSQL CPU per document (this database's backends)",
        format!(
            "{} ({} of one core)",
            ms(r.per_document(r.pg_own_cpu)),
            r.of_a_core(r.pg_own_cpu)
        ),
    );
    // The fleet's own PostgreSQL work: on a shared machine the whole server's counts others'.
    let all = r.workers_cpu() + r.host_cpu + r.pg_own_cpu;
    line(
        "CPU per document, all three (PostgreSQL: own backends)",
        ms(r.per_document(all)),
    );
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let all_per_doc = r.per_document(all).as_secs_f64();
    if all_per_doc > 0.0 {
        line(
            "the machine's ceiling at that CPU per document",
            format!(
                "{:.0} documents a second ({cpus} CPUs / {})",
                cpus as f64 / all_per_doc,
                ms(r.per_document(all))
            ),
        );
    }
    line(
        "machine busy (all CPUs, /proc/stat)",
        format!("{:.0} %", 100.0 * r.machine_busy_share()),
    );
    line(
        "sandbox host peak memory",
        r.host_peak_kib.map_or("?".into(), measure::mib),
    );
    if r.tenants < 5_000 && per_second > 0.0 {
        let docs = 5_000.0 * (r.invoices as f64 + 1.0);
        line(
            "extrapolated to 5,000 tenants at this rate",
            format!(
                "{:.0} s ({:.1} min), if the rate holds",
                docs / per_second,
                docs / per_second / 60.0
            ),
        );
    }
    line("load average at the end", r.load_end.as_str());

    let posted = r.posted.max(1) as f64;
    heading("QuickBooks requests by kind");
    for (kind, n) in &r.qbo.by_kind {
        line(kind, n);
    }
    line("total", r.qbo.total);
    line(
        "per posted document",
        format!("{:.3}", r.qbo.total as f64 / posted),
    );
    line("429s", r.qbo.status(429));
    heading("TrackTik requests by kind");
    for (kind, n) in &r.tt.by_kind {
        line(kind, n);
    }
    line("total", r.tt.total);
    line(
        "per tenant",
        format!("{:.2}", r.tt.total as f64 / o.tenants.max(1) as f64),
    );
}

/// Prints the series side by side, with throughput(N) / (N × throughput(1)).
pub fn print_series(series: &[Outcome]) {
    heading("scale-out: worker processes on one PostgreSQL, the same fleet each time");
    let one = series
        .iter()
        .find(|r| r.processes.len() == 1)
        .map(Outcome::per_second);
    let head = [
        ["N", "conc./pool", "waves", "wall s", "docs/s", "÷ (N × 1)"],
        ["", "each", "", "", "", ""],
    ];
    let cpu_head = [
        ["workers", "PG own", "PG all", "sandboxes", "machine"],
        ["ms/doc", "ms/doc", "ms/doc", "ms/doc", "busy"],
    ];
    for (h, c) in head.iter().zip(cpu_head) {
        println!(
            "  {:>2} {:>11} {:>6} {:>8} {:>8} {:>10} {:>9} {:>9} {:>9} {:>9} {:>8}{}",
            h[0],
            h[1],
            h[2],
            h[3],
            h[4],
            h[5],
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            if h[0].is_empty() {
                ""
            } else {
                "  load (start → end)"
            }
        );
    }
    for r in series {
        let n = r.processes.len();
        let ratio = one.map_or("—".to_owned(), |one| {
            format!("{:.2}", r.per_second() / (n as f64 * one))
        });
        let per_doc = |cpu: Duration| format!("{:.3}", r.per_document(cpu).as_secs_f64() * 1e3);
        println!(
            "  {:>2} {:>11} {:>6} {:>8.1} {:>8.1} {:>10} {:>9} {:>9} {:>9} {:>9} {:>7.0}%  {} → {}",
            n,
            format!("{}/{}", r.concurrency, r.pool),
            r.tenants.div_ceil(n * r.concurrency.max(1)),
            r.wall.as_secs_f64(),
            r.per_second(),
            ratio,
            per_doc(r.workers_cpu()),
            per_doc(r.pg_own_cpu),
            per_doc(r.pg_cpu),
            per_doc(r.host_cpu),
            100.0 * r.machine_busy_share(),
            r.load_start,
            r.load_end
        );
    }
    if one.is_none() {
        println!("  (no 1-worker run in this series: add 1 to LB_BENCH_WORKERS for the ratio)");
    }
    println!(
        "  waves: tenants ÷ (N × concurrency), rounded up; at small sizes a partial last wave \
         weighs on the ratio, and so does apalis claiming up to 10 jobs a poll for one worker"
    );
    println!(
        "  PG own: the backends serving the benchmark's database; PG all: the whole server, \
         others' work on a shared machine included"
    );
    println!(
        "  goal: throughput(N) ≥ 0.8 × N × throughput(1) until the machine or the sandboxes \
         saturate (machine busy near 100 %, or the sandboxes' CPU near a core each)"
    );
}
