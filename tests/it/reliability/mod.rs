//! Reliability of the real `worker` process: killed with SIGKILL at random points, PostgreSQL
//! restarted under it, QuickBooks and TrackTik misbehaving. Each run must end with every
//! TrackTik document in QuickBooks exactly once: no duplicate, nothing missing, every ledger row
//! `posted`. Each test prints a report (run with `--nocapture` to see it); `docs/reliability.md`
//! explains the knobs:
//!
//! - `LEDGERBRIDGE_RELIABILITY_DOCS`: invoices in the portal (default 200; the run is
//!   2000).
//! - `LEDGERBRIDGE_RELIABILITY_KILLS`: SIGKILLs (default 20).
//! - `LEDGERBRIDGE_RELIABILITY_SEED`: the random seed (default: the clock; always printed).
//!
//! QuickBooks is set up at its least forgiving: the company's duplicate-document-number check
//! is off (QuickBooks then keeps a second invoice with a number it already has), so exactly
//! once can only come from the engine. The worker gives up on a QuickBooks request after 3 s,
//! so answers slower than that can be played. The QuickBooks sandbox's rate limits (10
//! requests a second per company) are turned off through its options: they would make a
//! 200-document run take minutes without testing anything these tests are about (the limiter
//! has its own tests). The verdict counts QuickBooks' copies per TrackTik document.

pub(super) use std::collections::BTreeMap;
pub(super) use std::time::{Duration, Instant};

pub(super) use chrono::{Days, NaiveDate, NaiveTime, Utc};
pub(super) use ledgerbridge::providers::quickbooks::Company;
pub(super) use ledgerbridge::providers::quickbooks::models::{Invoice, Purchase};
pub(super) use ledgerbridge::providers::tracktik::Window;
pub(super) use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
pub(super) use ledgerbridge::sandbox::{quickbooks, tracktik};
pub(super) use ledgerbridge::sync::controls;
pub(super) use rand::rngs::StdRng;
pub(super) use rand::{Rng, SeedableRng};
pub(super) use serde_json::{Value, json};

pub(super) use crate::helpers::{
    ActiveIntegration, AppProcess, Sandboxes, TempDir, TestApp, TestDb, TestSettings,
    token_key_spec,
};

pub(super) fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

pub(super) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub(super) fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

/// How long the worker waits for one QuickBooks answer.
pub(super) const CLIENT_TIMEOUT_SECONDS: u64 = 3;

/// The seeded portal for about `docs` approved invoices: 14 days of invoices (the last two
/// days' are mostly not approved yet), 6 clients, pay runs every two weeks in 3 regions.
pub(super) fn portal_for(docs: u64) -> tracktik::SeedConfig {
    tracktik::SeedConfig {
        days_of_invoices: 14,
        invoices_per_day: (docs as usize).div_ceil(11).max(1),
        payrun_weeks: 4,
        ..tracktik::SeedConfig::small()
    }
}

/// Ledger rows per state.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct LedgerCounts {
    pub(super) total: i64,
    pub(super) pending: i64,
    pub(super) posting: i64,
    pub(super) posted: i64,
    pub(super) failed: i64,
    pub(super) skipped: i64,
}

/// What QuickBooks holds, compared with what TrackTik approved.
#[derive(Debug, Default)]
pub(super) struct Verdict {
    /// Document numbers QuickBooks holds more than once (per entity).
    pub(super) duplicates: Vec<String>,
    /// Document numbers TrackTik approved that QuickBooks does not hold.
    pub(super) missing: Vec<String>,
    /// Document numbers QuickBooks holds that TrackTik did not approve.
    pub(super) unexpected: Vec<String>,
    /// Creates QuickBooks performed, per entity (replays of a request id are not creates).
    pub(super) creates: BTreeMap<String, i64>,
    pub(super) ledger: LedgerCounts,
}

/// A connected, active integration over a seeded portal, and what a worker process needs.
pub(super) struct Rig {
    pub(super) app: TestApp,
    pub(super) active: ActiveIntegration,
    pub(super) key: String,
    pub(super) dir: TempDir,
    /// QuickBooks document number → TrackTik id, of every approved invoice.
    pub(super) invoices: BTreeMap<String, i64>,
    /// The same for pay runs.
    pub(super) purchases: BTreeMap<String, i64>,
}

impl Rig {
    /// Sandboxes (QBO limits off), the app on `db`, sign-in, connect, Express setup, active
    /// from 30 days ago; then TrackTik's approved documents are read as the expectation.
    pub(super) async fn start(db: TestDb, docs: u64) -> Self {
        let sandboxes = Sandboxes::start_with(
            tracktik::Options {
                seed: portal_for(docs),
                ..Default::default()
            },
            quickbooks::Options {
                enforce_rate_limits: false,
                ..Default::default()
            },
        )
        .await;
        let key = token_key_spec();
        let mut settings = TestSettings::default();
        settings.env.insert("LEDGERBRIDGE_TOKEN_KEYS", key.clone());
        let app = TestApp::spawn_with_these_sandboxes(db, sandboxes, settings).await;
        let active = app.activate_integration(US_REALM_ID, days_ago(30)).await;
        Sandboxes::control(
            app.sandboxes().quickbooks.base_url(),
            &format!("/__sandbox/companies/{US_REALM_ID}/settings"),
            json!({"duplicate_doc_check": false}),
        )
        .await;
        let mut rig = Self {
            app,
            active,
            key,
            dir: TempDir::new("lb-reliability"),
            invoices: BTreeMap::new(),
            purchases: BTreeMap::new(),
        };
        rig.read_expectation().await;
        rig
    }

    /// TrackTik's approved invoices and pay runs of the window the job covers.
    pub(super) async fn read_expectation(&mut self) {
        let state = &self.app.state;
        let (portal, tt) = self.active.tracktik(state).await;
        let window = Window::new(
            days_ago(30).and_time(NaiveTime::MIN).and_utc(),
            today().and_time(NaiveTime::MIN).and_utc(),
        )
        .unwrap();
        self.invoices = state
            .providers
            .tracktik
            .approved_invoices_between(&portal, &tt, window)
            .await
            .unwrap()
            .into_iter()
            .map(|i| {
                (
                    ledgerbridge::sync::fit_doc_number(&i.document_number.unwrap()),
                    i.id,
                )
            })
            .collect();
        self.purchases = state
            .providers
            .tracktik
            .approved_payruns_between(&portal, &tt, window)
            .await
            .unwrap()
            .into_iter()
            .map(|p| (format!("PR-{}", p.id), p.id))
            .collect();
    }

    pub(super) fn documents(&self) -> i64 {
        (self.invoices.len() + self.purchases.len()) as i64
    }

    pub(super) fn log(&self) -> std::path::PathBuf {
        self.dir.path().join("worker.log")
    }

    /// The worker's configuration: the same database, token key and sandboxes as the app.
    pub(super) fn worker_env(&self) -> Vec<(&'static str, String)> {
        let sandboxes = self.app.sandboxes();
        vec![
            ("DATABASE_URL", self.app.db_url.clone()),
            ("LEDGERBRIDGE_TOKEN_KEYS", self.key.clone()),
            (
                "TRACKTIK_HTTP_PORTALS",
                sandboxes.tracktik.base_url().to_owned(),
            ),
            (
                "QUICKBOOKS_BASE_URL",
                sandboxes.quickbooks.base_url().to_owned(),
            ),
            ("LEDGERBRIDGE_WORKER_CONCURRENCY", "4".into()),
            (
                "LEDGERBRIDGE_QUICKBOOKS_TIMEOUT_SECONDS",
                CLIENT_TIMEOUT_SECONDS.to_string(),
            ),
            ("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "10".into()),
            ("RUST_LOG", "info,ledgerbridge=debug,sqlx=warn".into()),
        ]
    }

    pub(super) fn worker(&self) -> AppProcess {
        AppProcess::start(&["worker"], &self.worker_env(), &self.log())
    }

    /// With `LEDGERBRIDGE_RELIABILITY_KEEP_LOGS` set, copies the worker's log (all its runs)
    /// next to the temp dir as `<name>.log` and prints where.
    pub(super) fn keep_log(&self, name: &str) {
        if std::env::var_os("LEDGERBRIDGE_RELIABILITY_KEEP_LOGS").is_some() {
            let to = std::env::temp_dir().join(format!("{name}.log"));
            if std::fs::copy(self.log(), &to).is_ok() {
                println!("  worker log: {}", to.display());
            }
        }
    }

    /// The last lines of the worker's log, for failure messages.
    pub(super) fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// What the worker's cron tick does (`controls::enqueue_due`), done now rather than at
    /// the next five-minute mark: one `SyncIntegration` job per day from the start date to
    /// yesterday, each day claimed so the worker's own tick adds nothing. Returns the count.
    pub(super) async fn enqueue(&self) -> usize {
        let jobs = controls::enqueue_due(&self.app.state.db, Utc::now())
            .await
            .expect("the tick enqueues");
        assert!(!jobs.is_empty(), "days are due");
        jobs.len()
    }

    /// Pairs of finished runs of the integration whose lifetimes overlapped (the advisory lock
    /// should make that impossible). Runs a kill left `running` have no end and are left out.
    pub(super) async fn overlapping_runs(&self) -> Vec<String> {
        let runs: Vec<(i64, chrono::DateTime<Utc>, chrono::DateTime<Utc>)> = sqlx::query_as(
            "select sync_run_id, started_at, finished_at from sync_run
             where integration_id = $1 and finished_at is not null order by started_at",
        )
        .bind(self.active.integration_id)
        .fetch_all(&self.app.db)
        .await
        .unwrap();
        let mut out = Vec::new();
        for (i, a) in runs.iter().enumerate() {
            for b in &runs[i + 1..] {
                if b.1 < a.2 {
                    out.push(format!(
                        "run {} ({} → {}) and run {} ({} → {})",
                        a.0,
                        a.1.format("%T%.3f"),
                        a.2.format("%T%.3f"),
                        b.0,
                        b.1.format("%T%.3f"),
                        b.2.format("%T%.3f")
                    ));
                }
            }
        }
        out
    }

    pub(super) async fn ledger(&self) -> LedgerCounts {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "select state::text, count(*) from ledger_entry
             where tenant_id = $1 and integration_id = $2 group by state",
        )
        .bind(self.active.tenant_id)
        .bind(self.active.integration_id)
        .fetch_all(&self.app.db)
        .await
        .unwrap_or_default();
        let mut c = LedgerCounts::default();
        for (state, n) in rows {
            c.total += n;
            match state.as_str() {
                "pending" => c.pending = n,
                "posting" => c.posting = n,
                "posted" => c.posted = n,
                "failed" => c.failed = n,
                _ => c.skipped = n,
            }
        }
        c
    }

    /// apalis job rows of the sync job type, per status.
    pub(super) async fn jobs(&self) -> BTreeMap<String, i64> {
        sqlx::query_as::<_, (String, i64)>(
            "select status, count(*) from apalis.jobs where job_type = $1 group by status",
        )
        .bind(controls::job_type())
        .fetch_all(&self.app.db)
        .await
        .unwrap_or_default()
        .into_iter()
        .collect()
    }

    /// `(lock_at, attempts, last_error)` of every `Running` job, for failure messages.
    pub(super) async fn running_jobs(
        &self,
    ) -> Vec<(Option<chrono::DateTime<Utc>>, i32, Option<String>)> {
        sqlx::query_as(
            "select lock_at, attempts, last_error from apalis.jobs
             where job_type = $1 and status = 'Running' order by lock_at",
        )
        .bind(controls::job_type())
        .fetch_all(&self.app.db)
        .await
        .unwrap_or_default()
    }

    /// Jobs still `Running` whose worker took them before `before` (a restart in between
    /// means their run is gone).
    pub(super) async fn running_since_before(&self, before: chrono::DateTime<Utc>) -> i64 {
        sqlx::query_scalar(
            "select count(*) from apalis.jobs where job_type = $1 and status = 'Running'
             and lock_at < $2",
        )
        .bind(controls::job_type())
        .bind(before)
        .fetch_one(&self.app.db)
        .await
        .unwrap_or(0)
    }

    /// Settled after a restart: every document posted and every job either done or `Running`
    /// since before `restart`, twice in a row three seconds apart (so a run that was going on
    /// through the restart can finish). Returns the jobs left `Running`.
    pub(super) async fn wait_settled(
        &self,
        worker: &mut AppProcess,
        restart: chrono::DateTime<Utc>,
        limit: Duration,
    ) -> i64 {
        let started = Instant::now();
        let mut seen = None;
        loop {
            let jobs = self.jobs().await;
            let done = jobs.get("Done").copied().unwrap_or(0);
            let total: i64 = jobs.values().sum();
            let stale = self.running_since_before(restart).await;
            let settled = self.ledger().await.posted == self.documents() && done + stale == total;
            match (settled, seen) {
                (true, Some(s)) if s == stale => return stale,
                (true, _) => seen = Some(stale),
                (false, _) => seen = None,
            }
            if let Some(status) = worker.exited() {
                panic!("the worker exited ({status})\n{}", self.log_tail());
            }
            assert!(
                started.elapsed() < limit,
                "not finished after {limit:?} (restart at {restart}): {:?} {jobs:?} {:#?}\n{}",
                self.ledger().await,
                self.running_jobs().await,
                self.log_tail()
            );
            tokio::time::sleep(
                Duration::from_secs(if settled { 3 } else { 0 }) + Duration::from_millis(50),
            )
            .await;
        }
    }

    /// Done: every queued job finished and every document posted.
    pub(super) async fn done(&self) -> bool {
        let jobs = self.jobs().await;
        let open = jobs
            .iter()
            .filter(|(s, _)| s.as_str() != "Done")
            .map(|(_, n)| n)
            .sum::<i64>();
        open == 0 && self.ledger().await.posted == self.documents()
    }

    /// Waits until [`Rig::done`], or fails after `limit` with the state and the log.
    pub(super) async fn wait_done(&self, worker: &mut AppProcess, limit: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if self.done().await {
                return started.elapsed();
            }
            if let Some(status) = worker.exited() {
                panic!(
                    "the worker exited ({status}) before finishing: {:?} {:?}\n{}",
                    self.ledger().await,
                    self.jobs().await,
                    self.log_tail()
                );
            }
            assert!(
                started.elapsed() < limit,
                "not finished after {limit:?}: {:?} {:?}\n{}",
                self.ledger().await,
                self.jobs().await,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until more than `than` documents are posted; the time it took.
    pub(super) async fn wait_posted(
        &self,
        worker: &mut AppProcess,
        than: i64,
        limit: Duration,
    ) -> Duration {
        let started = Instant::now();
        loop {
            let c = self.ledger().await;
            if c.posted > than || (c.posted == self.documents() && c.posted == than) {
                return started.elapsed();
            }
            if let Some(status) = worker.exited() {
                panic!(
                    "the worker exited ({status}): {c:?} {:?}\n{}",
                    self.jobs().await,
                    self.log_tail()
                );
            }
            assert!(
                started.elapsed() < limit,
                "no document posted within {limit:?} (more than {than} expected): {c:?} {:?}\n{}",
                self.jobs().await,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// `sync_run` rows a killed worker left `running` (they are never finished).
    pub(super) async fn runs_left_running(&self) -> i64 {
        sqlx::query_scalar(
            "select count(*) from sync_run where integration_id = $1 and status = 'running'",
        )
        .bind(self.active.integration_id)
        .fetch_one(&self.app.db)
        .await
        .unwrap()
    }
}

pub(super) fn seed() -> u64 {
    let seed = env_number(
        "LEDGERBRIDGE_RELIABILITY_SEED",
        Utc::now().timestamp_micros() as u64,
    );
    println!("reliability seed: {seed} (LEDGERBRIDGE_RELIABILITY_SEED={seed} repeats this run)");
    seed
}

pub(super) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

mod faults;
mod kills;
mod postgres;
mod verdict;
