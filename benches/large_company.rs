//! Benchmarks 1 and 2: one large company. A portal with `LB_BENCH_DOCS` approved invoices
//! (5,000; 200 with `--quick`) is synced into one QuickBooks company by the real engine
//! (`sync::run_day`) against the QuickBooks sandbox enforcing Intuit's limits (500 requests a
//! minute, 10 a second, 40 batches a minute per company).
//!
//! Prints documents per minute against the 500-a-minute ceiling, the 429s, and every request
//! QuickBooks received by kind (calls per posted document, reads after writes).
//!
//! `cargo bench --bench large_company [-- --quick]`; see docs/benchmarks.md.

#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveTime, Utc};
use common::host::SandboxHost;
use common::measure::{self, ms};
use common::{AppSettings, BenchDb, heading, line, seed};
use ledgerbridge::sandbox::tracktik::SeedConfig;
use ledgerbridge::sync::{self, runs::RunKind};
use serde_json::json;

/// The per-company ceiling QuickBooks enforces, requests per minute.
const CEILING: f64 = 500.0;

fn main() -> anyhow::Result<()> {
    common::host::serve_if_host();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    common::init_logging();
    let docs = common::size("LB_BENCH_DOCS", 200, 5_000);
    measure::print_machine();
    heading("benchmark: one large company");
    line("approved invoices", docs);

    // A portal with 40 billed clients and no generated documents: the invoices are made below.
    let host = SandboxHost::start(&SeedConfig {
        clients: 40,
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
        worker_concurrency: Some(1),
        db_connections: Some(10),
    })
    .await?;

    let day = Utc::now().date_naive().pred_opt().expect("a yesterday");
    let approved_at = day
        .and_time(NaiveTime::from_hms_opt(6, 0, 0).unwrap())
        .and_utc();
    let setup = Instant::now();
    let tax = seed::tax_inputs(&state, &host.urls.tracktik).await?;
    let realm = seed::new_company(&host, "Bench Security Inc.").await?;
    let tenant = seed::tenant(&state, &host, &host.urls.tracktik, &realm, &tax, day, false).await?;
    let cat = seed::catalogue(&state, &host.urls.tracktik).await?;
    seed::approved_invoices(&host, &cat, docs, day, approved_at, 16).await?;
    line(
        "set-up time (not measured)",
        format!("{:.1} s", setup.elapsed().as_secs_f64()),
    );

    let qbo = host.urls.quickbooks.clone();
    // Fresh rate windows; the answer says whether the limits are enforced.
    let limits = host
        .control(&qbo, "/__sandbox/rate-limits", json!({"reset": true}))
        .await?;
    line("sandbox enforces the rate limits", &limits["enforce"]);
    let seq_before = last_seq(&host, &realm).await?;
    let throttled_before = throttled(&host, &realm).await?;
    host.reset_counts().await?;
    let client_before = state.providers.quickbooks.stats();
    let cpu_before = measure::self_cpu();

    let started = Instant::now();
    let report = sync::run_day(
        &state,
        tenant.tenant_id,
        tenant.integration_id,
        day,
        RunKind::Nightly,
    )
    .await?;
    let wall = started.elapsed();

    let cpu = measure::self_cpu() - cpu_before;
    let client = state.providers.quickbooks.stats();
    let (tt_counts, qbo_counts) = host.counts().await?;
    let log = log_since(&host, &realm, seq_before).await?;
    let throttled_by_sandbox = throttled(&host, &realm).await? - throttled_before;

    heading("results");
    line(
        "run",
        format!(
            "posted {}, failed {}, skipped {}, of {}",
            report.counts.posted, report.counts.failed, report.counts.skipped, report.counts.total
        ),
    );
    let posted = f64::from(report.counts.posted.max(1));
    let minutes = wall.as_secs_f64() / 60.0;
    line(
        "wall time of the run",
        format!("{:.1} s", wall.as_secs_f64()),
    );
    let docs_per_minute = posted / minutes;
    line(
        "documents per minute (whole run)",
        format!(
            "{docs_per_minute:.1} = {:.1} % of the {CEILING} requests/min ceiling",
            100.0 * docs_per_minute / CEILING
        ),
    );
    let api: Vec<&Entry> = log.iter().filter(|e| e.realm_id.is_some()).collect();
    line(
        "QuickBooks API requests per minute",
        format!(
            "{:.1} = {:.1} % of the ceiling",
            api.len() as f64 / minutes,
            100.0 * api.len() as f64 / minutes / CEILING
        ),
    );
    let creates: Vec<DateTime<Utc>> = api
        .iter()
        .filter(|e| {
            e.method == "POST"
                && !e.path.ends_with("/batch")
                && !e.path.ends_with("/query")
                && e.status < 300
        })
        .map(|e| e.time)
        .collect();
    if let (Some(first), Some(last)) = (creates.first(), creates.last())
        && creates.len() > 1
    {
        let span = (*last - *first).num_milliseconds() as f64 / 60_000.0;
        line(
            "creates per minute, first to last create",
            format!(
                "{:.1} ({} creates in {:.1} s)",
                (creates.len() - 1) as f64 / span,
                creates.len(),
                span * 60.0
            ),
        );
    }
    line(
        "most API requests in any 60 s",
        busiest_minute(&api.iter().map(|e| e.time).collect::<Vec<_>>()),
    );
    line(
        "busiest second",
        busiest(&api.iter().map(|e| e.time).collect::<Vec<_>>(), 1_000),
    );
    line(
        "429s (sandbox count / seen by the proxy / by our client)",
        format!(
            "{throttled_by_sandbox} / {} / {}",
            qbo_counts.status(429),
            client.throttled - client_before.throttled
        ),
    );
    line(
        "retries by our client",
        client.retries - client_before.retries,
    );

    heading("QuickBooks requests by kind (benchmark 2)");
    for (kind, n) in &qbo_counts.by_kind {
        line(kind, n);
    }
    let oauth = qbo_counts.starting_with("POST oauth");
    let api_calls = qbo_counts.total - oauth;
    line("total API requests (sandbox log)", api.len());
    line("total API requests (proxy)", api_calls);
    line(
        "API requests per posted document",
        format!("{:.4}", api_calls as f64 / posted),
    );
    let batches = qbo_counts.starting_with("POST batch");
    let batch_items = qbo_counts.starting_with("batch item");
    line(
        "batch requests / items in them",
        format!("{batches} / {batch_items}"),
    );
    // QuickBooks meters each item of a batch against the 500 a minute.
    let metered = api_calls - batches + batch_items;
    line(
        "metered operations per posted document",
        format!("{:.4}", metered as f64 / posted),
    );
    let reads_of_documents = [
        "GET read invoice",
        "GET read purchase",
        "GET read bill",
        "GET read journalentry",
    ]
    .iter()
    .map(|k| qbo_counts.by_kind.get(*k).copied().unwrap_or(0))
    .sum::<u64>();
    line(
        "reads of posted documents (read after write)",
        reads_of_documents,
    );
    let queries = qbo_counts.starting_with("query");
    line("queries (lookups)", queries);
    line("token requests", oauth);
    let statuses: BTreeMap<_, _> = qbo_counts.by_status.iter().collect();
    line("answers by status", format!("{statuses:?}"));

    heading("TrackTik requests by kind");
    for (kind, n) in &tt_counts.by_kind {
        line(kind, n);
    }
    line("total", tt_counts.total);

    heading("this process");
    line("CPU time during the run", ms(cpu));
    line(
        "CPU per posted document",
        ms(Duration::from_secs_f64(cpu.as_secs_f64() / posted)),
    );
    line(
        "peak resident memory (VmHWM)",
        measure::status_kib("VmHWM").map_or("?".into(), measure::mib),
    );
    line("load average at the end", measure::loadavg());

    state.db.close().await;
    db.drop_now().await;
    Ok(())
}

/// One row of the QuickBooks sandbox's request log.
#[derive(Debug, serde::Deserialize)]
struct Entry {
    seq: u64,
    time: DateTime<Utc>,
    method: String,
    path: String,
    realm_id: Option<String>,
    status: u16,
}

async fn log_since(host: &SandboxHost, realm: &str, seq: u64) -> anyhow::Result<Vec<Entry>> {
    let rows = host
        .control_get(
            &host.urls.quickbooks,
            &format!("/__sandbox/requests?realm_id={realm}&since_seq={seq}"),
        )
        .await?;
    let mut entries: Vec<Entry> = serde_json::from_value(rows)?;
    entries.sort_by_key(|e| e.seq);
    Ok(entries)
}

async fn last_seq(host: &SandboxHost, realm: &str) -> anyhow::Result<u64> {
    Ok(log_since(host, realm, 0).await?.last().map_or(0, |e| e.seq))
}

async fn throttled(host: &SandboxHost, realm: &str) -> anyhow::Result<u64> {
    let stats = host
        .control_get(&host.urls.quickbooks, "/__sandbox/stats")
        .await?;
    Ok(stats["throttled_per_realm"][realm].as_u64().unwrap_or(0))
}

/// The most requests in any 60-second window.
fn busiest_minute(times: &[DateTime<Utc>]) -> String {
    busiest(times, 60_000)
}

/// The most requests in any window of `millis`.
fn busiest(times: &[DateTime<Utc>], millis: i64) -> String {
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while (times[end] - times[start]).num_milliseconds() >= millis {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best.to_string()
}
