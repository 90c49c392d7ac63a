//! PostgreSQL restarted under a running worker.

use super::*;

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
