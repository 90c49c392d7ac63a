//! Benchmark: tonight's run costs the same whatever the history. Two tenants owe the same new
//! invoices tonight (`LB_BENCH_TONIGHT`, 300): one with years of approved and posted history
//! (`LB_BENCH_HISTORY_DAYS` × `LB_BENCH_PER_DAY`: 1,095 × 300 ≈ 330,000 invoices; 30 days with
//! `--quick`), the other with one day of it. Each runs tonight's sync against its own sandboxes
//! (QuickBooks enforcing Intuit's limits); the benchmark compares TrackTik requests, database
//! round trips (statements sent), wall time and this process's peak memory. The goal: every
//! ratio within 1.1.
//!
//! `cargo bench --bench history [-- --quick]`; see docs/benchmarks.md.

#[allow(dead_code)]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, NaiveTime, Utc};
use common::host::SandboxHost;
use common::measure::{self, ms};
use common::{AppSettings, BenchDb, heading, line, seed};
use ledgerbridge::ids::{IntegrationId, TenantId};
use ledgerbridge::sandbox::tracktik::SeedConfig;
use ledgerbridge::state::AppState;
use ledgerbridge::sync::{self, RunPlan, runs::RunKind};
use serde_json::json;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Statements sent to PostgreSQL (sqlx logs each one under `sqlx::query`).
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

struct CountStatements;

impl<S: tracing::Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        STATEMENTS.fetch_add(1, Ordering::Relaxed);
    }
}

fn main() -> anyhow::Result<()> {
    common::host::serve_if_host();
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(tracing_subscriber::EnvFilter::new("warn"));
    let count = CountStatements.with_filter(
        tracing_subscriber::filter::Targets::new()
            .with_target("sqlx::query", tracing::Level::TRACE),
    );
    tracing_subscriber::registry().with(fmt).with(count).init();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

/// One tenant on its own sandboxes.
struct Side {
    name: &'static str,
    host: SandboxHost,
    tenant_id: TenantId,
    integration_id: IntegrationId,
}

/// What tonight's run cost.
#[derive(Debug, Default, Clone, Copy)]
struct Cost {
    tracktik_requests: u64,
    statements: u64,
    wall: Duration,
    peak_kib: u64,
    posted: i32,
    cpu: Duration,
    /// CPU of the side's sandboxes (a child process): what the stand-ins cost, not us.
    sandbox_cpu: Duration,
}

async fn side(
    state: &AppState,
    name: &'static str,
    host: SandboxHost,
    history_days: u32,
    per_day: u32,
    today: NaiveDate,
) -> anyhow::Result<Side> {
    let first_day = today - Days::new(u64::from(history_days));
    let tt = host.urls.tracktik.clone();
    let tax = seed::tax_inputs(state, &tt).await?;
    // Each side has its own QuickBooks sandbox; their companies must not share a realm id.
    let made = host
        .control(
            &host.urls.quickbooks,
            "/__sandbox/companies",
            json!({"flavour": "us", "name": format!("Bench {name} Inc."),
                   "realm_id": format!("93414530{:08}", history_days)}),
        )
        .await?;
    let realm = made["realmId"].as_str().unwrap_or_default().to_owned();
    seed::multicurrency(&host, &realm).await?;
    let t = seed::tenant(state, &host, &tt, &realm, &tax, first_day, false).await?;
    let cat = seed::catalogue(state, &tt).await?;
    // The history: made and approved on their days, and posted by earlier nights.
    let made = host
        .control(
            &tt,
            "/__sandbox/invoices/history",
            json!({"firstDay": first_day, "days": history_days, "perDay": per_day,
                   "clients": cat.clients, "billItems": cat.bill_items}),
        )
        .await?;
    let (first_id, last_id) = (
        made["firstId"].as_i64().unwrap_or(0),
        made["lastId"].as_i64().unwrap_or(-1),
    );
    sqlx::query(
        "insert into ledger_entry (tenant_id, integration_id, source, source_id, revision,
            doc_number, trading_day, approved_at, amount, currency, state, qbo_entity, qbo_id,
            qbo_doc_number, qbo_link, qbo_amount, posted_at)
         select $1, $2, 'invoice', id, md5(id::text), 'INV-' || id,
                $3::date + ((id - $4) / $6)::int, $3::date + ((id - $4) / $6)::int + time '06:00',
                100, 'USD', 'posted', 'Invoice', id::text, 'INV-' || id, 'https://example.invalid',
                100, now() - interval '1 day'
         from generate_series($4::bigint, $5::bigint) as id",
    )
    .bind(t.tenant_id)
    .bind(t.integration_id)
    .bind(first_day)
    .bind(first_id)
    .bind(last_id)
    .bind(i64::from(per_day))
    .execute(&state.db)
    .await?;
    // Last night's run read TrackTik up to the start of today.
    let start_of_today = today.and_time(NaiveTime::MIN).and_utc();
    sqlx::query(
        "insert into sync_cursor (tenant_id, integration_id, source, read_through, covered_from)
         values ($1, $2, 'invoice', $3, $4)",
    )
    .bind(t.tenant_id)
    .bind(t.integration_id)
    .bind(start_of_today)
    .bind(first_day)
    .execute(&state.db)
    .await?;
    sqlx::query("analyze ledger_entry")
        .execute(&state.db)
        .await?;
    // Tonight's invoices, the same on both sides.
    let tonight = common::size("LB_BENCH_TONIGHT", 300, 300);
    seed::approved_invoices(
        &host,
        &cat,
        tonight,
        today,
        start_of_today + chrono::Duration::hours(1),
        16,
    )
    .await?;
    Ok(Side {
        name,
        host,
        tenant_id: t.tenant_id,
        integration_id: t.integration_id,
    })
}

async fn tonight(state: &AppState, side: &Side, today: NaiveDate) -> anyhow::Result<Cost> {
    side.host
        .control(
            &side.host.urls.quickbooks,
            "/__sandbox/rate-limits",
            json!({"reset": true}),
        )
        .await?;
    side.host.reset_counts().await?;
    measure::reset_peak_memory();
    let statements = STATEMENTS.load(Ordering::Relaxed);
    let cpu = measure::self_cpu();
    let sandbox_cpu = side.host.cpu();
    let started = Instant::now();
    let report = sync::run(
        state,
        side.tenant_id,
        side.integration_id,
        RunPlan::of(RunKind::Nightly, today),
    )
    .await?;
    let wall = started.elapsed();
    let (tt, _) = side.host.counts().await?;
    Ok(Cost {
        tracktik_requests: tt.total,
        statements: STATEMENTS.load(Ordering::Relaxed) - statements,
        wall,
        peak_kib: measure::status_kib("VmHWM").unwrap_or(0),
        posted: report.counts.posted,
        cpu: measure::self_cpu() - cpu,
        sandbox_cpu: side.host.cpu() - sandbox_cpu,
    })
}

fn ratio(a: f64, b: f64) -> String {
    let r = if b == 0.0 { f64::NAN } else { a / b };
    format!("{r:.3}{}", if r <= 1.1 { "" } else { "  (over 1.1)" })
}

/// The app's state wired to one side's sandboxes (both sides share the database).
async fn state_for(db: &BenchDb, host: &SandboxHost) -> anyhow::Result<AppState> {
    let (listener, addr) = common::free_addr().await?;
    drop(listener);
    common::app_state(AppSettings {
        db,
        listen: addr,
        tracktik_portals: vec![host.urls.tracktik.clone()],
        quickbooks: host.urls.quickbooks.clone(),
        worker_concurrency: Some(1),
        db_connections: Some(10),
    })
    .await
}

async fn run() -> anyhow::Result<()> {
    let history_days = common::size("LB_BENCH_HISTORY_DAYS", 30, 1_095) as u32;
    let per_day = common::size("LB_BENCH_PER_DAY", 300, 300) as u32;
    measure::print_machine();
    heading("benchmark: tonight's run with years of history and with one day");
    line(
        "history (days × invoices a day)",
        format!("{history_days} × {per_day}"),
    );
    line("load average at the start", measure::loadavg());
    let db = BenchDb::create().await?;
    let today = Utc::now().date_naive();
    let setup = Instant::now();
    let mut sides = Vec::new();
    for (name, days) in [
        ("years of history", history_days),
        ("one day of history", 1),
    ] {
        let host = SandboxHost::start(&SeedConfig {
            clients: 40,
            sites_per_client: 1,
            days_of_invoices: 0,
            invoices_per_day: 0,
            payrun_weeks: 0,
            employees: 5,
            ..SeedConfig::default()
        })?;
        let state = state_for(&db, &host).await?;
        let side = side(&state, name, host, days, per_day, today).await?;
        sides.push((state, side));
    }
    line(
        "set-up time (not measured)",
        format!("{:.1} s", setup.elapsed().as_secs_f64()),
    );
    let mut costs = Vec::new();
    for (state, side) in &sides {
        let cost = tonight(state, side, today).await?;
        heading(side.name);
        line("invoices posted tonight", cost.posted);
        line("TrackTik requests", cost.tracktik_requests);
        line("database statements (round trips)", cost.statements);
        line("wall time", format!("{:.2} s", cost.wall.as_secs_f64()));
        line("CPU of this process", ms(cost.cpu));
        line("CPU of the sandboxes (not ours)", ms(cost.sandbox_cpu));
        line(
            "peak memory of this process (VmHWM)",
            measure::mib(cost.peak_kib),
        );
        costs.push(cost);
    }
    let (h, f) = (costs[0], costs[1]);
    heading("years of history ÷ one day of history (goal: every ratio ≤ 1.1)");
    line(
        "TrackTik requests",
        ratio(h.tracktik_requests as f64, f.tracktik_requests as f64),
    );
    line(
        "database statements",
        ratio(h.statements as f64, f.statements as f64),
    );
    line(
        "wall time",
        ratio(h.wall.as_secs_f64(), f.wall.as_secs_f64()),
    );
    line("peak memory", ratio(h.peak_kib as f64, f.peak_kib as f64));
    line("load average at the end", measure::loadavg());
    for (state, _) in &sides {
        state.db.close().await;
    }
    drop(sides);
    db.drop_now().await;
    Ok(())
}
