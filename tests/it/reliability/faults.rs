//! The worker through QuickBooks' and TrackTik's faults.

use super::*;

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
        json!({"kind": "timeout", "count": 2, "seconds": CLIENT_TIMEOUT_SECONDS + 2,
               "path_contains": "/batch"}),
        json!({"kind": "drop", "count": 2, "path_contains": "/batch"}),
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
