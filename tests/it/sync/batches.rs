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
