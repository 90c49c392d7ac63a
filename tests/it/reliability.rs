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
//! The QuickBooks sandbox's rate limits (10 requests a second per company) are turned off
//! through its options: they would make a 200-document run take minutes without testing
//! anything these tests are about (the limiter has its own tests).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use apalis::prelude::Storage;
use apalis_sql::postgres::PostgresStorage;
use chrono::{Days, NaiveDate, NaiveTime, Utc};
use ledgerbridge::providers::quickbooks::Company;
use ledgerbridge::providers::quickbooks::models::{Invoice, Purchase};
use ledgerbridge::providers::tracktik::Window;
use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
use ledgerbridge::sandbox::{quickbooks, tracktik};
use ledgerbridge::sync::controls::{self, SyncIntegration};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::helpers::{
    ActiveIntegration, AppProcess, Sandboxes, TempDir, TestApp, TestDb, TestSettings,
    token_key_spec,
};

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

/// The seeded portal for about `docs` approved invoices: 14 days of invoices (the last two
/// days' are mostly not approved yet), 6 clients, pay runs every two weeks in 3 regions.
fn portal_for(docs: u64) -> tracktik::SeedConfig {
    tracktik::SeedConfig {
        days_of_invoices: 14,
        invoices_per_day: (docs as usize).div_ceil(11).max(1),
        payrun_weeks: 4,
        ..tracktik::SeedConfig::small()
    }
}

/// Ledger rows per state.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct LedgerCounts {
    total: i64,
    pending: i64,
    posting: i64,
    posted: i64,
    failed: i64,
    skipped: i64,
}

/// What QuickBooks holds, compared with what TrackTik approved.
#[derive(Debug, Default)]
struct Verdict {
    /// Document numbers QuickBooks holds more than once (per entity).
    duplicates: Vec<String>,
    /// Document numbers TrackTik approved that QuickBooks does not hold.
    missing: Vec<String>,
    /// Document numbers QuickBooks holds that TrackTik did not approve.
    unexpected: Vec<String>,
    /// Creates QuickBooks performed, per entity (replays of a request id are not creates).
    creates: BTreeMap<String, i64>,
    ledger: LedgerCounts,
}

/// A connected, active integration over a seeded portal, and what a worker process needs.
struct Rig {
    app: TestApp,
    active: ActiveIntegration,
    key: String,
    dir: TempDir,
    invoices: BTreeSet<String>,
    purchases: BTreeSet<String>,
}

impl Rig {
    /// Sandboxes (QBO limits off), the app on `db`, sign-in, connect, Express setup, active
    /// from 30 days ago; then TrackTik's approved documents are read as the expectation.
    async fn start(db: TestDb, docs: u64) -> Self {
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
        let mut rig = Self {
            app,
            active,
            key,
            dir: TempDir::new("lb-reliability"),
            invoices: BTreeSet::new(),
            purchases: BTreeSet::new(),
        };
        rig.read_expectation().await;
        rig
    }

    /// TrackTik's approved invoices and pay runs of the window the job covers.
    async fn read_expectation(&mut self) {
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
            .map(|i| ledgerbridge::sync::fit_doc_number(&i.document_number.unwrap()))
            .collect();
        self.purchases = state
            .providers
            .tracktik
            .approved_payruns_between(&portal, &tt, window)
            .await
            .unwrap()
            .into_iter()
            .map(|p| format!("PR-{}", p.id))
            .collect();
    }

    fn documents(&self) -> i64 {
        (self.invoices.len() + self.purchases.len()) as i64
    }

    fn log(&self) -> std::path::PathBuf {
        self.dir.path().join("worker.log")
    }

    /// The worker's configuration: the same database, token key and sandboxes as the app.
    fn worker_env(&self) -> Vec<(&'static str, String)> {
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
            ("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "10".into()),
            ("RUST_LOG", "info,ledgerbridge=debug,sqlx=warn".into()),
        ]
    }

    fn worker(&self) -> AppProcess {
        AppProcess::start(&["worker"], &self.worker_env(), &self.log())
    }

    /// The last lines of the worker's log, for failure messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// One `SyncIntegration` job for yesterday, pushed as `PostgresStorage::push` does: the
    /// window runs from the start date to the end of yesterday, so it owes every document.
    async fn push_job(&self) {
        let mut storage = PostgresStorage::<SyncIntegration>::new(self.app.db.clone());
        // Through serde, as the worker reads it: fields added later keep their defaults.
        let job: SyncIntegration = serde_json::from_value(
            json!({"integration_id": self.active.integration_id, "day": days_ago(1)}),
        )
        .unwrap();
        storage.push(job).await.expect("the job is queued");
    }

    async fn ledger(&self) -> LedgerCounts {
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
    async fn jobs(&self) -> BTreeMap<String, i64> {
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

    /// Done: every queued job finished and every document posted.
    async fn done(&self) -> bool {
        let jobs = self.jobs().await;
        let open = jobs
            .iter()
            .filter(|(s, _)| s.as_str() != "Done")
            .map(|(_, n)| n)
            .sum::<i64>();
        open == 0 && self.ledger().await.posted == self.documents()
    }

    /// Waits until [`Rig::done`], or fails after `limit` with the state and the log.
    async fn wait_done(&self, worker: &mut AppProcess, limit: Duration) -> Duration {
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
    async fn wait_posted(&self, worker: &mut AppProcess, than: i64, limit: Duration) -> Duration {
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

    /// QuickBooks read back through its API, against TrackTik.
    async fn verdict(&self) -> Verdict {
        let state = &self.app.state;
        let token = self.active.qbo_token(state).await;
        let co = Company {
            realm_id: &self.active.realm,
            access_token: &token,
        };
        let invoices: Vec<Invoice> = state
            .providers
            .quickbooks
            .query(&co, "SELECT * FROM Invoice")
            .await
            .unwrap();
        let purchases: Vec<Purchase> = state
            .providers
            .quickbooks
            .query(&co, "SELECT * FROM Purchase")
            .await
            .unwrap();
        let mut v = Verdict::default();
        let numbers = [
            (
                "Invoice",
                invoices.into_iter().filter_map(|i| i.doc_number).collect(),
                &self.invoices,
            ),
            (
                "Purchase",
                purchases
                    .into_iter()
                    .filter_map(|p| p.doc_number)
                    .collect::<Vec<_>>(),
                &self.purchases,
            ),
        ];
        let stats: Value = reqwest::get(format!(
            "{}/__sandbox/stats",
            self.app.sandboxes().quickbooks.base_url()
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        for (entity, held, expected) in numbers {
            let mut count: BTreeMap<String, usize> = BTreeMap::new();
            for n in held {
                *count.entry(n).or_default() += 1;
            }
            v.duplicates.extend(
                count
                    .iter()
                    .filter(|(_, n)| **n > 1)
                    .map(|(d, n)| format!("{entity} {d} ×{n}")),
            );
            v.missing.extend(
                expected
                    .iter()
                    .filter(|d| !count.contains_key(*d))
                    .map(|d| format!("{entity} {d}")),
            );
            v.unexpected.extend(
                count
                    .keys()
                    .filter(|d| !expected.contains(*d))
                    .map(|d| format!("{entity} {d}")),
            );
            v.creates.insert(
                entity.to_owned(),
                stats["creates_per_entity"][&self.active.realm][entity]
                    .as_i64()
                    .unwrap_or(0),
            );
        }
        v.ledger = self.ledger().await;
        v
    }

    /// Asserts exactly once: nothing duplicated, missing or unexpected, one create per document,
    /// every ledger row posted.
    fn assert_exactly_once(&self, v: &Verdict) {
        assert!(v.duplicates.is_empty(), "duplicates: {:?}", v.duplicates);
        assert!(v.missing.is_empty(), "missing: {:?}", v.missing);
        assert!(v.unexpected.is_empty(), "unexpected: {:?}", v.unexpected);
        assert_eq!(
            v.creates.get("Invoice").copied(),
            Some(self.invoices.len() as i64),
            "one create per invoice"
        );
        assert_eq!(
            v.creates.get("Purchase").copied(),
            Some(self.purchases.len() as i64),
            "one create per pay run"
        );
        assert_eq!(
            v.ledger,
            LedgerCounts {
                total: self.documents(),
                posted: self.documents(),
                ..Default::default()
            },
            "every ledger row posted"
        );
    }

    /// `sync_run` rows a killed worker left `running` (they are never finished).
    async fn runs_left_running(&self) -> i64 {
        sqlx::query_scalar(
            "select count(*) from sync_run where integration_id = $1 and status = 'running'",
        )
        .bind(self.active.integration_id)
        .fetch_one(&self.app.db)
        .await
        .unwrap()
    }
}

fn seed() -> u64 {
    let seed = env_number(
        "LEDGERBRIDGE_RELIABILITY_SEED",
        Utc::now().timestamp_micros() as u64,
    );
    println!("reliability seed: {seed} (LEDGERBRIDGE_RELIABILITY_SEED={seed} repeats this run)");
    seed
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_twenty_times_at_random_points_posts_every_document_exactly_once() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let docs = env_number("LEDGERBRIDGE_RELIABILITY_DOCS", 200);
    let kills = env_number("LEDGERBRIDGE_RELIABILITY_KILLS", 20) as usize;
    let rig = Rig::start(TestDb::new().await, docs).await;
    let n = rig.documents();
    assert!(n as u64 >= docs * 3 / 4, "the portal has {n} documents");
    rig.push_job().await;

    // Kill points: mostly once a random number of documents is posted (spread over the
    // run), plus a random few milliseconds so the kill lands anywhere in a document's
    // posting; some at a random time after start (start-up, reading TrackTik, recording).
    let mut targets: Vec<i64> = (0..kills).map(|_| rng.random_range(1..n)).collect();
    targets.sort();
    let limit = Duration::from_secs(60 + n as u64 / 10);
    let started = Instant::now();
    let mut recoveries = Vec::new();
    let mut kill_log = Vec::new();
    let mut posted_at_kill = 0;
    for target in targets {
        let mut worker = rig.worker();
        let spawned = Instant::now();
        if posted_at_kill > 0 {
            rig.wait_posted(&mut worker, posted_at_kill, limit).await;
            recoveries.push(spawned.elapsed());
        }
        let how = if rng.random_bool(0.2) {
            let after = Duration::from_millis(rng.random_range(0..1500));
            tokio::time::sleep(after.saturating_sub(spawned.elapsed())).await;
            format!("{} ms after start", after.as_millis())
        } else {
            rig.wait_posted(&mut worker, target - 1, limit).await;
            let jitter = rng.random_range(0..15);
            tokio::time::sleep(Duration::from_millis(jitter)).await;
            format!("{target} posted + {jitter} ms")
        };
        worker.kill();
        let c = rig.ledger().await;
        kill_log.push(format!("{how}: posted {}, posting {}", c.posted, c.posting));
        posted_at_kill = c.posted;
    }
    let mut worker = rig.worker();
    let spawned = Instant::now();
    let finish = rig.wait_done(&mut worker, limit).await;
    let last_recovery = spawned.elapsed();
    worker.kill();
    let total = started.elapsed();

    let v = rig.verdict().await;
    println!(
        "SIGKILL run: {} documents ({} invoices, {} pay runs), {kills} kills\n  kills: {}\n  \
         restart → next document posted: median {:?}, max {:?}\n  last restart → all posted: \
         {finish:?} ({last_recovery:?})\n  whole run: {total:?}\n  duplicates {}, missing {}, \
         unexpected {}, creates {:?}, ledger {:?}\n  sync_run rows left 'running' by kills: {}",
        n,
        rig.invoices.len(),
        rig.purchases.len(),
        kill_log.join("; "),
        median(recoveries.clone()),
        recoveries.iter().max().copied().unwrap_or_default(),
        v.duplicates.len(),
        v.missing.len(),
        v.unexpected.len(),
        v.creates,
        v.ledger,
        rig.runs_left_running().await,
    );
    rig.assert_exactly_once(&v);
}
