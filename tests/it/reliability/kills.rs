//! The worker killed with SIGKILL, again and again: around sends to QuickBooks, after a number
//! of documents, at random times; with answers lost after QuickBooks committed and answers
//! slower than the client waits; restarted at once every time.

use super::*;

impl Rig {
    /// Waits until a send is recorded (rows `posting`: committed just before QuickBooks is
    /// called), or until everything is posted. The time it took.
    async fn wait_posting(&self, worker: &mut AppProcess, limit: Duration) -> Duration {
        let started = Instant::now();
        loop {
            let c = self.ledger().await;
            if c.posting > 0 || c.posted == self.documents() {
                return started.elapsed();
            }
            if let Some(status) = worker.exited() {
                panic!("the worker exited ({status}): {c:?}\n{}", self.log_tail());
            }
            assert!(
                started.elapsed() < limit,
                "nothing was sent within {limit:?}: {c:?}\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    async fn arm(&self, fault: Value) {
        Sandboxes::control(
            self.app.sandboxes().quickbooks.base_url(),
            "/__sandbox/faults",
            fault,
        )
        .await;
    }
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

    // Kill points: four in ten while a send is out (its rows are `posting`, plus 0–5 ms), four
    // in ten once a random number of documents is posted (plus 0–15 ms, anywhere in a
    // document's posting), two in ten at a random time after start (start-up, reading
    // TrackTik, recording). Before some starts, QuickBooks is told to lose the next batch's
    // answer after committing it, or to answer it only after the client gave up.
    let mut targets: Vec<i64> = (0..kills).map(|_| rng.random_range(1..n)).collect();
    targets.sort();
    let limit = Duration::from_secs(60 + n as u64 / 10);
    let started = Instant::now();
    let mut recoveries = Vec::new();
    let mut kill_log = Vec::new();
    let mut posted_at_kill = 0;
    let (mut lost, mut slow) = (0, 0);
    for target in targets {
        if rng.random_bool(0.3) {
            rig.arm(json!({"kind": "drop", "count": 1, "path_contains": "/batch"}))
                .await;
            lost += 1;
        }
        if rng.random_bool(0.2) {
            rig.arm(
                json!({"kind": "timeout", "count": 1, "path_contains": "/batch",
                           "seconds": CLIENT_TIMEOUT_SECONDS + 2}),
            )
            .await;
            slow += 1;
        }
        let mut worker = rig.worker();
        let spawned = Instant::now();
        if posted_at_kill > 0 {
            rig.wait_posted(&mut worker, posted_at_kill, limit).await;
            recoveries.push(spawned.elapsed());
        }
        let kind = rng.random_range(0..10);
        let how = if kind < 2 {
            let after = Duration::from_millis(rng.random_range(0..1500));
            tokio::time::sleep(after.saturating_sub(spawned.elapsed())).await;
            format!("{} ms after start", after.as_millis())
        } else if kind < 6 {
            rig.wait_posting(&mut worker, limit).await;
            let jitter = rng.random_range(0..6);
            tokio::time::sleep(Duration::from_millis(jitter)).await;
            format!("send out + {jitter} ms")
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
        "SIGKILL run (duplicate check off): {} documents ({} invoices, {} pay runs), {jobs} jobs, \
         {kills} kills, {lost} answers lost after commit, {slow} answers slower than the client \
         waits\n  kills: {}\n  \
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
