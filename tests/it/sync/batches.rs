//! Sends of up to 30 documents.

use super::*;

#[tokio::test]
async fn seventy_five_invoices_go_in_three_batch_requests_and_nothing_is_read_back() {
    let s = Synced::start(US_REALM_ID, today()).await;
    let client = s.first_client().await;
    let item = s.first_bill_item().await;
    let ids = s.approved_invoices(75, client, |_| item).await;
    s.clear_qbo_requests().await;

    let report = s.run(today()).await.unwrap();
    assert_eq!(report.counts.posted, 75, "{report:?}");

    let calls = s.qbo_requests().await;
    let batches = calls
        .iter()
        .filter(|(m, p)| m == "POST" && p.ends_with("/batch"))
        .count();
    assert_eq!(batches, 3, "30 + 30 + 15: {calls:?}");
    // Besides the batches: the customer list, read once, and the new customer.
    assert!(
        calls.iter().all(|(_, p)| !p.contains("/invoice")),
        "no single creates, no reads of what was written: {calls:?}"
    );
    assert_eq!(calls.len(), 3 + 2, "{calls:?}");
    assert!(calls.len() as f64 / 75.0 <= 1.05);

    let rows = s.ledger().await;
    assert_eq!(rows.len(), 75);
    assert!(rows.iter().all(|r| ids.contains(&r.source_id)));
    for r in &rows {
        assert_eq!(r.state, LedgerState::Posted, "{r:?}");
        assert!(r.qbo_link.as_deref().is_some_and(|l| l.contains("txnId=")));
        assert_eq!(
            r.qbo_amount,
            Some(r.amount),
            "QBO's total is recorded: {r:?}"
        );
    }
    let mut request_ids: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.request_id.as_deref())
        .collect();
    request_ids.sort_unstable();
    request_ids.dedup();
    assert_eq!(request_ids.len(), 3, "one request id per batch");
    assert_eq!(s.qbo_invoices().await.len(), 75);
    assert_eq!(s.creates("Invoice").await, 75);
}

#[tokio::test]
async fn one_refused_item_fails_alone_in_plain_words_and_the_rest_of_its_batch_posts() {
    let s = Synced::start(US_REALM_ID, today()).await;
    let (portal, tt) = s.tracktik().await;
    let items = s
        .state
        .providers
        .tracktik
        .bill_items(&portal, &tt)
        .await
        .unwrap();
    let (good, retired) = (items[0].id, items[1].id);
    let mut settings = s.settings().await;
    settings
        .billing
        .items
        .insert(retired, QboRef::new("999999", "Retired Alarm Response"));
    s.save(&settings).await;
    let client = s.first_client().await;
    let ids = s
        .approved_invoices(6, client, |k| if k == 2 { retired } else { good })
        .await;
    s.clear_qbo_requests().await;

    let report = s.run(today()).await.unwrap();
    assert_eq!(
        (report.counts.posted, report.counts.failed),
        (5, 1),
        "{report:?}"
    );
    let calls = s.qbo_requests().await;
    assert_eq!(
        calls.iter().filter(|(_, p)| p.ends_with("/batch")).count(),
        1,
        "{calls:?}"
    );
    let rows = s.ledger().await;
    let refused = rows.iter().find(|r| r.source_id == ids[2]).unwrap();
    assert_eq!(refused.state, LedgerState::Failed);
    assert!(!refused.retryable);
    let why = refused.last_error.as_deref().unwrap();
    assert!(why.contains("\"Retired Alarm Response\""), "{why}");
    assert!(why.contains("inactive or was deleted"), "{why}");
    assert_eq!(refused.fix_at.as_deref(), Some("settings"));
    assert!(refused.qbo_amount.is_none());
    assert!(
        rows.iter()
            .filter(|r| r.source_id != ids[2])
            .all(|r| r.state == LedgerState::Posted && r.qbo_amount == Some(r.amount))
    );
    assert_eq!(s.qbo_invoices().await.len(), 5);
}

#[tokio::test]
async fn a_large_night_is_posted_while_tracktik_is_still_read_and_a_read_failing_midway_loses_nothing()
 {
    let s = Synced::start(US_REALM_ID, today()).await;
    let client = s.first_client().await;
    let item = s.first_bill_item().await;
    let ids = s.approved_invoices(250, client, |_| item).await;
    // TrackTik answers the first chunk's billable items (100 invoices), then fails every try
    // of the next chunk's: the client gives up on that read.
    Sandboxes::control(
        s.tt_base(),
        "/__sandbox/faults",
        json!({"status": 500, "count": 50, "after": 1, "pathContains": "billable-items"}),
    )
    .await;

    let failed = s.run(today()).await;
    assert!(
        matches!(&failed, Err(SyncError::Unavailable(why)) if why.contains("TrackTik")),
        "{failed:?}"
    );
    // The first chunk was posted while the second was being read, and stays posted.
    let rows = s.ledger().await;
    let posted: Vec<i64> = rows
        .iter()
        .filter(|r| r.state == LedgerState::Posted)
        .map(|r| r.source_id)
        .collect();
    assert_eq!(posted.len(), 100, "{rows:?}");
    assert!(posted.iter().all(|id| ids[..100].contains(id)));
    assert_eq!(s.qbo_invoices().await.len(), 100);

    // TrackTik answers again: the next run reads from the old watermark and posts the rest,
    // each once.
    let cleared = reqwest::Client::new()
        .delete(format!("{}/__sandbox/faults", s.tt_base()))
        .send()
        .await
        .unwrap();
    assert!(cleared.status().is_success());
    let report = s.run(today()).await.unwrap();
    assert_eq!(
        (report.counts.posted, report.counts.failed),
        (150, 0),
        "{report:?}"
    );
    let rows = s.ledger().await;
    assert_eq!(rows.len(), 250);
    assert!(rows.iter().all(|r| r.state == LedgerState::Posted));
    assert_eq!(s.qbo_invoices().await.len(), 250);
    assert_eq!(s.creates("Invoice").await, 250);
}

#[tokio::test]
async fn a_first_night_creates_its_new_clients_customers_in_one_batch_request() {
    let s = Synced::start(US_REALM_ID, today()).await;
    let (portal, tt) = s.tracktik().await;
    let clients: Vec<i64> = s
        .state
        .providers
        .tracktik
        .clients(&portal, &tt)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.kind == Some(ledgerbridge::providers::tracktik::models::ClientType::Client))
        .map(|c| c.id)
        .collect();
    assert!(clients.len() >= 3, "{clients:?}");
    let item = s.first_bill_item().await;
    for client in &clients {
        s.approved_invoices(2, *client, |_| item).await;
    }
    s.clear_qbo_requests().await;

    let report = s.run(today()).await.unwrap();
    assert_eq!(
        report.counts.posted as usize,
        2 * clients.len(),
        "{report:?}"
    );
    let calls = s.qbo_requests().await;
    assert!(
        calls.iter().all(|(_, p)| !p.ends_with("/customer")),
        "no customer created on its own: {calls:?}"
    );
    // The customer list, one batch of customers, one batch of invoices.
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(s.creates("Customer").await as usize, clients.len());
    let remembered: i64 =
        sqlx::query_scalar("select count(*) from sync_customer where integration_id = $1")
            .bind(s.integration_id)
            .fetch_one(&s.state.db)
            .await
            .unwrap();
    assert_eq!(remembered as usize, clients.len());
    let customers: std::collections::HashSet<String> = s
        .qbo_invoices()
        .await
        .into_iter()
        .filter_map(|i| i.customer_ref.map(|c| c.value))
        .collect();
    assert_eq!(
        customers.len(),
        clients.len(),
        "each client its own customer"
    );

    // The next night's new invoice finds its customer remembered: no customer call at all.
    s.approved_invoices(1, clients[0], |_| item).await;
    s.clear_qbo_requests().await;
    let report = s.run(today()).await.unwrap();
    assert_eq!(report.counts.posted, 1, "{report:?}");
    assert_eq!(s.qbo_requests().await.len(), 1);
    assert_eq!(s.creates("Customer").await as usize, clients.len());
}
