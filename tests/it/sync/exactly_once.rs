//! Exactly once without QuickBooks' duplicate-number check: sends recorded before they go,
//! sent again under the same request id, never regrouped while in doubt; fenced outcomes.

use super::*;

/// Turns the company's duplicate-document-number check off (QuickBooks then keeps a second
/// document with a number it already has).
async fn duplicate_check_off(s: &Synced) {
    let answer = Sandboxes::control(
        s.qbo_base(),
        &format!("/__sandbox/companies/{}/settings", s.realm),
        json!({"duplicate_doc_check": false}),
    )
    .await;
    assert_eq!(answer["duplicate_doc_check"], json!(false));
}

async fn fault(s: &Synced, fault: Value) {
    Sandboxes::control(s.qbo_base(), "/__sandbox/faults", fault).await;
}

async fn clear_faults(s: &Synced) {
    let r = reqwest::Client::new()
        .delete(format!("{}/__sandbox/faults", s.qbo_base()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

/// QuickBooks invoices per TrackTik document (by its number, unique in TrackTik).
async fn copies(s: &Synced) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for i in s.qbo_invoices().await {
        *n.entry(i.doc_number.unwrap_or_default()).or_default() += 1;
    }
    n
}

/// The `requestid` of every batch request the sandbox logged for the company.
async fn batch_request_ids(s: &Synced) -> Vec<String> {
    let log: Vec<Value> = reqwest::get(format!(
        "{}/__sandbox/requests?realm_id={}",
        s.qbo_base(),
        s.realm
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    log.iter()
        .filter(|e| e["path"].as_str().is_some_and(|p| p.ends_with("/batch")))
        .map(|e| e["requestid"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_batch_held_longer_than_the_client_waits_is_posted_once_with_the_duplicate_check_off() {
    let s = Synced::start(US_REALM_ID, today()).await;
    duplicate_check_off(&s).await;
    let client = s.first_client().await;
    let item = s.first_bill_item().await;
    s.approved_invoices(1, client, |_| item).await;
    assert_eq!(s.run(today()).await.unwrap().counts.posted, 1);
    let ids = s.approved_invoices(5, client, |_| item).await;
    s.clear_qbo_requests().await;
    // Every try of the batch is held 10 s before QuickBooks processes it; the client gives up
    // after 2 s a try. When the run looks, nothing is there yet.
    fault(
        &s,
        json!({"kind": "timeout", "seconds": 10, "count": 3, "path_contains": "/batch"}),
    )
    .await;
    let report = s.run(today()).await.unwrap();
    assert_eq!(report.counts.posted, 5, "{report:?}");
    // The held tries wake up and are processed after the run: they carry the same request id.
    tokio::time::sleep(Duration::from_secs(12)).await;
    // (The sandbox logs a request when it answers it; the held ones were given up on.)
    let sent = batch_request_ids(&s).await;
    assert!(!sent.is_empty());
    assert!(
        sent.iter().all(|r| *r == sent[0]),
        "never regrouped: {sent:?}"
    );
    let rows = s.ledger().await;
    assert!(
        rows.iter()
            .filter(|r| ids.contains(&r.source_id))
            .all(|r| r.state == LedgerState::Posted),
        "{rows:#?}"
    );
    assert!(
        copies(&s).await.values().all(|n| *n == 1),
        "{:?}",
        copies(&s).await
    );
    assert_eq!(s.creates("Invoice").await, 6);
}

#[tokio::test]
async fn a_batch_refused_by_a_busy_quickbooks_is_sent_again_under_its_own_request_id() {
    let s = Synced::start(US_REALM_ID, today()).await;
    duplicate_check_off(&s).await;
    let client = s.first_client().await;
    let item = s.first_bill_item().await;
    s.approved_invoices(3, client, |_| item).await;
    s.clear_qbo_requests().await;
    // QuickBooks answers 503 to every try: the client gives up, the run looks (nothing), and
    // sends the same batch again.
    fault(
        &s,
        json!({"kind": "unavailable", "count": 3, "path_contains": "/batch"}),
    )
    .await;
    let report = s.run(today()).await.unwrap();
    assert_eq!(report.counts.posted, 3, "{report:?}");
    let sent = batch_request_ids(&s).await;
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert!(sent.iter().all(|r| *r == sent[0]), "{sent:?}");
    assert!(copies(&s).await.values().all(|n| *n == 1));
}

#[tokio::test]
async fn documents_in_doubt_keep_their_request_id_through_retry_failed_and_post_once() {
    let s = Synced::start(US_REALM_ID, today()).await;
    duplicate_check_off(&s).await;
    let client = s.first_client().await;
    let item = s.first_bill_item().await;
    s.approved_invoices(1, client, |_| item).await;
    s.run(today()).await.unwrap();
    let ids = s.approved_invoices(4, client, |_| item).await;
    // Committed, every answer lost, and QuickBooks cannot be asked.
    fault(
        &s,
        json!({"kind": "drop", "count": 3, "path_contains": "/batch"}),
    )
    .await;
    fault(
        &s,
        json!({"kind": "server_error", "count": 100, "path_contains": "/query"}),
    )
    .await;
    let report = s.run(today()).await.unwrap();
    assert_eq!(report.waiting, 4, "{report:?}");
    let before: Vec<(i64, Option<String>)> = s
        .ledger()
        .await
        .into_iter()
        .filter(|r| ids.contains(&r.source_id))
        .map(|r| (r.source_id, r.request_id))
        .collect();

    // "Retry failed" does not touch a document whose outcome is unknown.
    let retried = controls::retry_failed(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(retried.counts.posted, 0, "{retried:?}");
    let rows = s.ledger().await;
    for (id, rid) in &before {
        let row = rows.iter().find(|r| r.source_id == *id).unwrap();
        assert_eq!(row.state, LedgerState::Posting);
        assert_eq!(&row.request_id, rid);
    }

    clear_faults(&s).await;
    s.run(today()).await.unwrap();
    assert!(
        s.ledger()
            .await
            .iter()
            .all(|r| r.state == LedgerState::Posted)
    );
    assert!(
        copies(&s).await.values().all(|n| *n == 1),
        "{:?}",
        copies(&s).await
    );
    assert_eq!(s.creates("Invoice").await, 5);
}

#[tokio::test]
async fn a_late_writer_is_recorded_as_a_conflict_and_never_overwrites_a_quickbooks_id() {
    let s = Synced::start(US_REALM_ID, days_ago(3)).await;
    s.run(days_ago(1)).await.unwrap();
    let row = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.state == LedgerState::Posted)
        .unwrap();
    let posted = |id: &'static str| ledger::Posted {
        entity: "Invoice",
        id,
        doc_number: None,
        link: "http://example.invalid/late",
        amount: None,
    };
    // A run that lost its lock answers late for a send the row has left.
    let late = ledger::settle_posted(
        &s.state.db,
        s.tenant_id,
        row.ledger_entry_id,
        i64::MAX,
        posted("999999"),
    )
    .await
    .unwrap();
    assert_eq!(late, ledger::Settled::Conflict);
    let failed = ledger::settle_failed(
        &s.state.db,
        s.tenant_id,
        row.ledger_entry_id,
        i64::MAX,
        &ledger::Failure {
            message: "refused late".into(),
            code: "6000".into(),
            fix: String::new(),
            fix_at: None,
            retryable: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(failed, ledger::Settled::Conflict);
    let now = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.ledger_entry_id == row.ledger_entry_id)
        .unwrap();
    assert_eq!(now.state, LedgerState::Posted);
    assert_eq!(
        now.qbo_id, row.qbo_id,
        "the QuickBooks id is never overwritten"
    );
    assert!(now.conflict.as_deref().unwrap().contains("refused late"));
    assert!(now.conflict_at.is_some());
    // The same answer twice (a replay) is no conflict.
    let again = ledger::settle_posted(
        &s.state.db,
        s.tenant_id,
        row.ledger_entry_id,
        i64::MAX,
        ledger::Posted {
            id: row.qbo_id.as_deref().unwrap(),
            ..posted("unused")
        },
    )
    .await
    .unwrap();
    assert_eq!(again, ledger::Settled::AlreadyDone);
}
