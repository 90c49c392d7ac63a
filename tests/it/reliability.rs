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

use chrono::{Days, NaiveDate, NaiveTime, Utc};
use ledgerbridge::providers::quickbooks::Company;
use ledgerbridge::providers::quickbooks::models::{Invoice, Purchase};
use ledgerbridge::providers::tracktik::Window;
use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
use ledgerbridge::sandbox::{quickbooks, tracktik};
use ledgerbridge::sync::controls;
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

    /// With `LEDGERBRIDGE_RELIABILITY_KEEP_LOGS` set, copies the worker's log (all its runs)
    /// next to the temp dir as `<name>.log` and prints where.
    fn keep_log(&self, name: &str) {
        if std::env::var_os("LEDGERBRIDGE_RELIABILITY_KEEP_LOGS").is_some() {
            let to = std::env::temp_dir().join(format!("{name}.log"));
            if std::fs::copy(self.log(), &to).is_ok() {
                println!("  worker log: {}", to.display());
            }
        }
    }

    /// The last lines of the worker's log, for failure messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// What the worker's cron tick does (`controls::enqueue_due`), done now rather than at
    /// the next five-minute mark: one `SyncIntegration` job per day from the start date to
    /// yesterday, each day claimed so the worker's own tick adds nothing. Returns the count.
    async fn enqueue(&self) -> usize {
        let jobs = controls::enqueue_due(&self.app.state.db, Utc::now())
            .await
            .expect("the tick enqueues");
        assert!(!jobs.is_empty(), "days are due");
        jobs.len()
    }

    /// Pairs of finished runs of the integration whose lifetimes overlapped (the advisory lock
    /// should make that impossible). Runs a kill left `running` have no end and are left out.
    async fn overlapping_runs(&self) -> Vec<String> {
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

    /// `(lock_at, attempts, last_error)` of every `Running` job, for failure messages.
    async fn running_jobs(&self) -> Vec<(Option<chrono::DateTime<Utc>>, i32, Option<String>)> {
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
    async fn running_since_before(&self, before: chrono::DateTime<Utc>) -> i64 {
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
    async fn wait_settled(
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
    let jobs = rig.enqueue().await;

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
        "SIGKILL run: {} documents ({} invoices, {} pay runs), {jobs} jobs, {kills} kills\n  kills: {}\n  \
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
    rig.keep_log("lb-reliability-sigkill");
    rig.assert_exactly_once(&v);
}

/// Where Debian puts PostgreSQL 15's server binaries.
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A throw-away PostgreSQL cluster on a free port, in a temp dir owned by the `postgres` user
/// (initdb refuses to run as root), stopped and removed on drop. The shared server on :5432 is
/// never touched.
struct Cluster {
    dir: TempDir,
    port: u16,
}

impl Cluster {
    /// `None` (with the reason printed) when the binaries or the `postgres` user are missing.
    async fn start() -> Option<Self> {
        if !std::path::Path::new(PG_BIN).join("initdb").exists() {
            println!("skipped: no PostgreSQL binaries at {PG_BIN}");
            return None;
        }
        let dir = TempDir::new("lb-pg");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self { dir, port };
        if is_root() {
            let chown = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status();
            if !chown.is_ok_and(|s| s.success()) {
                println!("skipped: cannot give the cluster's directory to a `postgres` user");
                return None;
            }
        }
        let data = cluster.data();
        cluster
            .run(
                "initdb",
                &[
                    "-D",
                    &data,
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ],
            )
            .await;
        cluster.pg_ctl(&["start"]).await;
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A server binary, as the `postgres` user when we are root.
    fn command(&self, program: &str, args: &[&str]) -> tokio::process::Command {
        let path = format!("{PG_BIN}/{program}");
        let mut c = if is_root() {
            let mut c = tokio::process::Command::new("runuser");
            c.args(["-u", "postgres", "--", &path]);
            c
        } else {
            tokio::process::Command::new(path)
        };
        c.args(args);
        c
    }

    async fn run(&self, program: &str, args: &[&str]) {
        let out = self.command(program, args).output().await.unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `pg_ctl <action>` on this cluster's port and socket directory, waiting for it.
    async fn pg_ctl(&self, action: &[&str]) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c fsync=off \
             -c max_connections=60",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        let data = self.data();
        let mut args = vec!["-D", &data, "-l", &log, "-o", &options, "-w"];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args).await;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let path = format!("{PG_BIN}/pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = if is_root() {
            std::process::Command::new("runuser")
                .args(["-u", "postgres", "--", &path])
                .args(args)
                .output()
        } else {
            std::process::Command::new(path).args(args).output()
        };
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// How a run with a PostgreSQL restart in the middle went.
struct RestartRun {
    verdict: Verdict,
    overlaps: Vec<String>,
    /// Jobs left `Running` for good: their run died with its connection and the failure was
    /// never written down.
    stuck: i64,
}

/// The queued days' runs on a worker process; PostgreSQL is restarted (immediate shutdown:
/// every connection cut, crash recovery at start) once a third of the documents are posted.
/// The worker is not restarted: it must go on by itself. `None` when PostgreSQL's binaries
/// are missing.
async fn run_with_a_postgres_restart(name: &str) -> Option<RestartRun> {
    let cluster = Cluster::start().await?;
    let docs = env_number("LEDGERBRIDGE_RELIABILITY_DOCS", 200);
    let rig = Rig::start(TestDb::new_on(&cluster.url()).await, docs).await;
    let n = rig.documents();
    let jobs = rig.enqueue().await;
    let limit = Duration::from_secs(60 + n as u64 / 10);
    let mut worker = rig.worker();
    rig.wait_posted(&mut worker, n / 3, limit).await;

    let before = rig.ledger().await;
    let down = Instant::now();
    let restart = Utc::now();
    cluster.pg_ctl(&["-m", "immediate", "restart"]).await;
    let back_up = down.elapsed();
    let recovered = loop {
        let c = rig.ledger().await;
        if c.posted > before.posted + before.posting {
            break down.elapsed();
        }
        if let Some(status) = worker.exited() {
            panic!(
                "the worker exited ({status}) when PostgreSQL restarted\n{}",
                rig.log_tail()
            );
        }
        assert!(
            down.elapsed() < limit,
            "no document posted within {limit:?} of the restart: {c:?} {:?}\n{}",
            rig.jobs().await,
            rig.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let stuck = rig.wait_settled(&mut worker, restart, limit).await;
    let all_posted = down.elapsed();
    worker.kill();

    let verdict = rig.verdict().await;
    let overlaps = rig.overlapping_runs().await;
    println!(
        "PostgreSQL restart: {n} documents, {jobs} jobs; restarted with {} posted, {} posting; \
         server back in {back_up:?}; next document posted {recovered:?} after the restart \
         began; settled {all_posted:?} after it (includes a 3 s settle check)\n  duplicates {}, \
         missing {}, unexpected {}, creates {:?}, ledger {:?}\n  jobs left 'Running' for good: \
         {stuck}; runs of the integration that overlapped: {}",
        before.posted,
        before.posting,
        verdict.duplicates.len(),
        verdict.missing.len(),
        verdict.unexpected.len(),
        verdict.creates,
        verdict.ledger,
        overlaps.len(),
    );
    for o in &overlaps {
        println!("    {o}");
    }
    rig.keep_log(name);
    rig.assert_exactly_once(&verdict);
    Some(RestartRun {
        verdict,
        overlaps,
        stuck,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgresql_restarted_under_a_running_worker_loses_and_duplicates_nothing() {
    if let Some(run) = run_with_a_postgres_restart("lb-reliability-postgres-restart").await {
        assert!(run.verdict.duplicates.is_empty() && run.verdict.missing.is_empty());
        assert_eq!(
            run.stuck, 0,
            "jobs whose run died with the database are run again"
        );
    }
}

/// Known limit (see docs/reliability.md): the run's advisory lock lives on one connection; when
/// PostgreSQL drops it the lock is gone. The run now checks that connection before every send
/// and stops, but the batch already in flight and the run's own bookkeeping can still overlap
/// a queued run that took the lock, by milliseconds. Exactly once holds throughout (ledger rows
/// are taken by compare-and-set, request ids are deterministic, QBO replays them); "no overlap
/// at all" does not, so this strict check fails now and then.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "known limit: a run that lost its lock overlaps the next one by its in-flight batch"]
async fn a_run_that_lost_its_lock_with_the_database_does_not_run_alongside_another() {
    if let Some(run) = run_with_a_postgres_restart("lb-reliability-lost-lock").await {
        assert!(run.overlaps.is_empty(), "{:#?}", run.overlaps);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_process_through_the_fault_mix_posts_every_document_exactly_once() {
    let docs = env_number("LEDGERBRIDGE_RELIABILITY_DOCS", 200);
    let rig = Rig::start(TestDb::new().await, docs).await;
    let n = rig.documents();
    let (qbo, tt) = (
        rig.app.sandboxes().quickbooks.base_url().to_owned(),
        rig.app.sandboxes().tracktik.base_url().to_owned(),
    );
    // Throttling is left out: the worker's client waits a minute after a 429 (the in-process
    // fault-mix test in sync.rs covers it with a fast retry policy).
    for fault in [
        json!({"kind": "server_error", "count": 3, "method": "POST"}),
        json!({"kind": "503", "count": 2}),
        json!({"kind": "502", "count": 1}),
        json!({"kind": "timeout", "count": 1, "seconds": 2, "path_contains": "/invoice"}),
        json!({"kind": "drop", "count": 2, "path_contains": "/invoice", "method": "POST"}),
        json!({"kind": "drop", "count": 1, "path_contains": "/purchase"}),
    ] {
        Sandboxes::control(&qbo, "/__sandbox/faults", fault).await;
    }
    Sandboxes::control(&qbo, "/__sandbox/tokens/expire", json!({})).await;
    Sandboxes::control(&tt, "/__sandbox/tokens/expire", json!({})).await;
    Sandboxes::control(
        &tt,
        "/__sandbox/faults",
        json!({"status": 503, "count": 2, "pathContains": "/invoices"}),
    )
    .await;
    let jobs = rig.enqueue().await;
    let mut worker = rig.worker();
    let limit = Duration::from_secs(120 + n as u64 / 10);
    let took = rig.wait_done(&mut worker, limit).await;
    worker.kill();
    let armed: Value = reqwest::get(format!("{qbo}/__sandbox/faults"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let v = rig.verdict().await;
    println!(
        "fault mix through the worker: {n} documents, {jobs} jobs, all done in {took:?}; QBO \
         faults left unused: {}\n  duplicates {}, missing {}, unexpected {}, creates {:?}, \
         ledger {:?}",
        armed.as_array().map_or(0, Vec::len),
        v.duplicates.len(),
        v.missing.len(),
        v.unexpected.len(),
        v.creates,
        v.ledger,
    );
    rig.keep_log("lb-reliability-fault-mix");
    rig.assert_exactly_once(&v);
}
