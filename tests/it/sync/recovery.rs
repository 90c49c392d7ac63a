//! Crashes, lost answers, faults, and changes after posting.

use super::*;

#[tokio::test]
async fn a_posting_row_left_without_a_recorded_send_by_an_older_version_ends_posted_exactly_once() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    s.run_every_day(start).await;
    let invoices = s.creates("Invoice").await;

    // A crash right after QuickBooks committed, before the ledger heard back.
    let victim = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.source == Source::Invoice)
        .unwrap();
    sqlx::query(
        "update ledger_entry set state = 'posting', qbo_id = null, qbo_link = null, posted_at = null
         where ledger_entry_id = $1",
    )
    .bind(victim.ledger_entry_id)
    .execute(&s.state.db)
    .await
    .unwrap();
    // A crash right before the call: a new document marked posting, never sent.
    let fresh = s
        .new_invoice(days_ago(2), Utc::now() - chrono::Duration::days(1))
        .await;
    let doc: Value = reqwest::get(format!("{}/__sandbox/invoices/{fresh}", s.tt_base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = doc["data"]["documentNumber"].as_str().unwrap().to_owned();
    sqlx::query(
        "insert into ledger_entry (tenant_id, integration_id, source, source_id, revision,
            doc_number, trading_day, approved_at, amount, state, qbo_entity, qbo_doc_number,
            request_id, attempts, posting_started_at)
         values ($1, $2, 'invoice', $3, 'before-crash', $4, $5, now() - interval '1 day', 242,
            'posting', 'Invoice', $6, 'never-sent', 1, now() - interval '10 minutes')",
    )
    .bind(s.tenant_id)
    .bind(s.integration_id)
    .bind(fresh)
    .bind(&number)
    .bind(days_ago(1))
    .bind(sync::fit_doc_number(&number))
    .execute(&s.state.db)
    .await
    .unwrap();
    assert_eq!(s.creates("Invoice").await, invoices);

    let report = s.run(days_ago(1)).await.unwrap();
    let rows = s.ledger().await;
    let victim_now = rows
        .iter()
        .find(|r| r.ledger_entry_id == victim.ledger_entry_id)
        .unwrap();
    assert_eq!(victim_now.state, LedgerState::Posted);
    assert_eq!(
        victim_now.qbo_id, victim.qbo_id,
        "found by lookup, not re-posted"
    );
    let fresh_now = rows.iter().find(|r| r.source_id == fresh).unwrap();
    assert_eq!(fresh_now.state, LedgerState::Posted, "{report:?}");
    // Not found by lookup, so posted: exactly one invoice carries the number.
    let numbered: Vec<Invoice> = s
        .qbo_invoices()
        .await
        .into_iter()
        .filter(|i| i.doc_number.as_deref() == Some(fresh_now.qbo_doc_number.as_deref().unwrap()))
        .collect();
    assert_eq!(numbered.len(), 1);
    let posted_numbers: Vec<String> = s
        .qbo_invoices()
        .await
        .into_iter()
        .filter_map(|i| i.doc_number)
        .collect();
    let mut unique = posted_numbers.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), posted_numbers.len(), "no duplicates");
}

#[tokio::test]
async fn a_connection_dropped_after_quickbooks_committed_is_resolved_by_lookup_without_a_duplicate()
{
    let s = Synced::start(US_REALM_ID, days_ago(10)).await;
    // Every try of the first invoice create is committed (or replayed) and then dropped.
    Sandboxes::control(
        s.qbo_base(),
        "/__sandbox/faults",
        json!({"kind": "drop", "count": 3, "path_contains": "/invoice", "method": "POST"}),
    )
    .await;
    s.run_every_day(days_ago(10)).await;
    let rows = s.ledger().await;
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{rows:#?}"
    );
    let invoices = s.qbo_invoices().await;
    assert_eq!(
        invoices.len(),
        rows.iter().filter(|r| r.source == Source::Invoice).count()
    );
    assert_eq!(s.creates("Invoice").await as usize, invoices.len());
}

#[tokio::test]
async fn the_fault_mix_ends_with_every_document_posted_and_a_revoked_integration_in_needs_reconnect()
 {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    for fault in [
        json!({"kind": "throttle", "count": 2}),
        json!({"kind": "server_error", "count": 2, "method": "POST"}),
        json!({"kind": "503", "count": 1}),
        json!({"kind": "timeout", "count": 1, "seconds": 3, "path_contains": "/invoice"}),
        json!({"kind": "drop", "count": 1, "path_contains": "/purchase"}),
    ] {
        Sandboxes::control(s.qbo_base(), "/__sandbox/faults", fault).await;
    }
    // Tokens expire on both sides (our stored expiry still says they are good).
    Sandboxes::control(s.qbo_base(), "/__sandbox/tokens/expire", json!({})).await;
    Sandboxes::control(s.tt_base(), "/__sandbox/tokens/expire", json!({})).await;
    Sandboxes::control(
        s.tt_base(),
        "/__sandbox/faults",
        json!({"status": 503, "count": 1, "pathContains": "/invoices"}),
    )
    .await;

    // Each night runs once; a night that QuickBooks kept too busy is caught up by the next.
    let mut day = start;
    while day < today() {
        let _ = s.run(day).await;
        day = day.succ_opt().unwrap();
    }
    let _ = s.run(days_ago(1)).await;
    let rows = s.ledger().await;
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{:#?}",
        rows.iter()
            .filter(|r| r.state != LedgerState::Posted)
            .collect::<Vec<_>>()
    );
    let invoices = s.qbo_invoices().await;
    assert_eq!(
        invoices.len(),
        rows.iter().filter(|r| r.source == Source::Invoice).count(),
        "no duplicates"
    );

    // Revoked: the run stops, the integration waits for a reconnect.
    Sandboxes::control(
        s.qbo_base(),
        "/__sandbox/tokens/revoke",
        json!({"realm_id": s.realm}),
    )
    .await;
    s.new_invoice(days_ago(1), Utc::now() - chrono::Duration::hours(20))
        .await;
    let stopped = s.run(days_ago(1)).await;
    assert!(
        matches!(stopped, Err(SyncError::NeedsReconnect(_))),
        "{stopped:?}"
    );
    assert_eq!(
        s.integration_state().await,
        IntegrationState::NeedsReconnect
    );
    // The tick skips it until it is fixed; its owed documents stay pending.
    assert!(
        controls::enqueue_due(&s.state.db, Utc::now() + chrono::Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_batch_answer_lost_after_quickbooks_committed_it_leaves_no_duplicate_after_the_next_run()
{
    let s = Synced::start(US_REALM_ID, today()).await;
    let client = s.first_client().await;
    let item = s.first_bill_item().await;
    // The first night posts one invoice alone and remembers the customer.
    s.approved_invoices(1, client, |_| item).await;
    assert_eq!(s.run(today()).await.unwrap().counts.posted, 1);

    let ids = s.approved_invoices(5, client, |_| item).await;
    // QuickBooks commits the batch but every try's answer is lost, and it cannot be asked.
    Sandboxes::control(
        s.qbo_base(),
        "/__sandbox/faults",
        json!({"kind": "drop", "count": 3, "path_contains": "/batch"}),
    )
    .await;
    Sandboxes::control(
        s.qbo_base(),
        "/__sandbox/faults",
        json!({"kind": "server_error", "count": 100, "path_contains": "/query"}),
    )
    .await;
    let lost = s.run(today()).await.unwrap();
    assert_eq!(lost.counts.posted, 0, "{lost:?}");
    assert_eq!(lost.waiting, 5, "{lost:?}");
    let rows = s.ledger().await;
    assert!(
        rows.iter()
            .filter(|r| ids.contains(&r.source_id))
            .all(|r| r.state == LedgerState::Posting),
        "{rows:#?}"
    );
    assert_eq!(s.creates("Invoice").await, 6, "QuickBooks has them");

    // The next run looks them up before sending anything.
    let cleared = reqwest::Client::new()
        .delete(format!("{}/__sandbox/faults", s.qbo_base()))
        .send()
        .await
        .unwrap();
    assert!(cleared.status().is_success());
    s.clear_qbo_requests().await;
    let next = s.run(today()).await.unwrap();
    assert_eq!(next.counts.total, 0, "nothing left to send: {next:?}");
    let calls = s.qbo_requests().await;
    assert!(
        calls.iter().all(|(_, p)| !p.ends_with("/batch")),
        "{calls:?}"
    );
    let rows = s.ledger().await;
    assert!(
        rows.iter()
            .all(|r| r.state == LedgerState::Posted && r.qbo_amount == Some(r.amount))
    );
    assert_eq!(s.qbo_invoices().await.len(), 6);
    assert_eq!(s.creates("Invoice").await, 6);
}

#[tokio::test]
async fn an_invoice_edited_or_deleted_in_tracktik_after_posting_is_flagged_by_the_changes_check_and_not_reposted()
 {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    s.run_every_day(start).await;
    let creates = s.creates("Invoice").await;
    let rows = s.ledger().await;
    let invoices: Vec<_> = rows
        .iter()
        .filter(|r| r.source == Source::Invoice)
        .collect();
    let (edited, deleted) = (invoices[0].source_id, invoices[1].source_id);
    let r = reqwest::Client::new()
        .patch(format!("{}/__sandbox/invoices/{edited}", s.tt_base()))
        .json(&json!({"dueDate": "2030-01-01"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let r = reqwest::Client::new()
        .delete(format!("{}/__sandbox/invoices/{deleted}", s.tt_base()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    // The nightly run does not look at posted documents any more: nothing flagged, nothing sent.
    let report = s.run(days_ago(1)).await.unwrap();
    assert_eq!(report.counts.total, 0, "{report:?}");
    assert!(s.ledger().await.iter().all(|r| !r.changed_in_tracktik));
    let flagged = sync::changes::check(&s.state, s.tenant_id, s.integration_id)
        .await
        .unwrap();
    assert_eq!(flagged, 2);
    assert_eq!(s.creates("Invoice").await, creates, "nothing re-posted");
    let rows = s.ledger().await;
    for id in [edited, deleted] {
        let row = rows
            .iter()
            .find(|r| r.source_id == id && r.state == LedgerState::Posted)
            .unwrap();
        assert!(row.changed_in_tracktik, "{row:?}");
        assert!(row.change_note.is_some());
    }
    // Flagged once: the next pass does not count them again.
    assert_eq!(
        sync::changes::check(&s.state, s.tenant_id, s.integration_id)
            .await
            .unwrap(),
        0
    );
}
