//! Rolling back a night: every document the day posted is voided (invoices, renamed so their
//! number is free) or deleted (credits) in QuickBooks, once, even when answers are lost; the
//! documents are owed again and the next sync posts each of them once more.

use super::*;
use ledgerbridge::providers::quickbooks::models::CreditMemo;
use ledgerbridge::sync::queue::{RunRequest, SyncIntegration};
use ledgerbridge::sync::rollback;

/// An invoice and a credit memo for it, both approved a minute ago and posted by "Sync now".
async fn posted_night(s: &Synced) -> (i64, i64, NaiveDate) {
    let invoice = s
        .new_invoice(today(), Utc::now() - chrono::Duration::minutes(1))
        .await;
    controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    let made = Sandboxes::control(
        s.tt_base(),
        "/__sandbox/credit-memos",
        json!({"invoice": invoice, "approve": true}),
    )
    .await;
    let memo = made["data"]["id"].as_i64().unwrap();
    let report = controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(report.counts.failed, 0, "{report:?}");
    let rows = s.ledger().await;
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{rows:?}"
    );
    let day = rows
        .iter()
        .find(|r| r.source_id == invoice)
        .unwrap()
        .trading_day;
    (invoice, memo, day)
}

async fn roll_back(s: &Synced, day: NaiveDate) -> SyncIntegration {
    let id = controls::roll_back(&s.state, s.tenant_id, s.integration_id, day, "Pat Reyes")
        .await
        .unwrap();
    SyncIntegration {
        integration_id: s.integration_id,
        day,
        request: RunRequest::Rollback { rollback_id: id },
        first_day: None,
    }
}

async fn qbo_writes(s: &Synced) -> usize {
    s.qbo_requests()
        .await
        .iter()
        .filter(|(method, _)| method == "POST")
        .count()
}

#[tokio::test]
async fn rolling_back_a_night_voids_and_deletes_once_and_the_next_sync_posts_each_document_once_again()
 {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let (invoice, memo, day) = posted_night(&s).await;
    let before = s.ledger().await;
    let planned = rollback::plan(&s.state.db, s.tenant_id, s.integration_id, day)
        .await
        .unwrap();
    let on_day = before.iter().filter(|r| r.trading_day == day).count();
    assert_eq!(planned.len(), on_day, "{planned:?}");
    let posted_number = before
        .iter()
        .find(|r| r.source_id == invoice)
        .and_then(|r| r.qbo_doc_number.clone())
        .unwrap();

    let job = roll_back(&s, day).await;
    controls::run_job(&s.state, s.tenant_id, &job)
        .await
        .unwrap();

    let posted_id = before
        .iter()
        .find(|r| r.source_id == invoice)
        .and_then(|r| r.qbo_id.clone());
    let invoices: Vec<_> = s
        .qbo_invoices()
        .await
        .into_iter()
        .filter(|i| i.id == posted_id)
        .collect();
    assert_eq!(invoices.len(), 1, "an invoice is voided, never deleted");
    assert_eq!(
        invoices[0].doc_number.as_deref(),
        Some(format!("{posted_number}-VOID").as_str()),
        "renamed so that its number is free"
    );
    assert_eq!(invoices[0].total_amt, Some(Decimal::ZERO), "voided");
    if before
        .iter()
        .any(|r| r.source_id == memo && r.trading_day == day)
    {
        assert!(s.qbo_all::<CreditMemo>().await.is_empty(), "deleted");
    }
    for r in s.ledger().await.iter().filter(|r| r.trading_day == day) {
        assert_eq!(r.state, LedgerState::Pending, "owed again: {r:?}");
        assert_eq!(r.qbo_id, None);
        assert!(
            r.reversal_note.as_deref().unwrap().contains("Pat Reyes"),
            "{r:?}"
        );
    }
    let recent = rollback::recent(&s.state.db, s.tenant_id, s.integration_id)
        .await
        .unwrap();
    assert_eq!(recent[0].status, "done");
    assert_eq!(recent[0].reversed as usize, on_day);

    // Running the finished rollback again writes nothing.
    let writes = qbo_writes(&s).await;
    controls::run_job(&s.state, s.tenant_id, &job)
        .await
        .unwrap();
    assert_eq!(qbo_writes(&s).await, writes, "nothing reversed twice");

    // The next sync posts each document again, once; later syncs add nothing.
    for _ in 0..2 {
        let report = controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
            .await
            .unwrap();
        assert_eq!(report.counts.failed, 0, "{report:?}");
    }
    let again = s.ledger().await;
    assert!(
        again.iter().all(|r| r.state == LedgerState::Posted),
        "{again:?}"
    );
    let live: Vec<_> = s
        .qbo_invoices()
        .await
        .into_iter()
        .filter(|i| i.doc_number.as_deref() == Some(posted_number.as_str()))
        .collect();
    assert_eq!(live.len(), 1, "posted again once, under its own number");
    assert_ne!(live[0].total_amt, Some(Decimal::ZERO));
    assert_eq!(s.qbo_all::<CreditMemo>().await.len(), 1);
}

#[tokio::test]
async fn a_rollback_whose_answers_are_lost_goes_on_later_and_voids_the_invoice_once() {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let (invoice, _, day) = posted_night(&s).await;
    let posted_id = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.source_id == invoice)
        .and_then(|r| r.qbo_id);
    let job = roll_back(&s, day).await;
    // QuickBooks commits the rename, then the void, but both answers are lost.
    Sandboxes::control(
        s.qbo_base(),
        "/__sandbox/faults",
        json!({"kind": "drop", "count": 2, "method": "POST", "path_contains": "/invoice"}),
    )
    .await;
    let mut tries = 0;
    loop {
        tries += 1;
        match controls::run_job(&s.state, s.tenant_id, &job).await {
            Ok(_) => break,
            Err(SyncError::Unavailable(_)) if tries < 5 => continue,
            Err(e) => panic!("{e:?}"),
        }
    }
    let invoices: Vec<_> = s
        .qbo_invoices()
        .await
        .into_iter()
        .filter(|i| i.id == posted_id)
        .collect();
    assert_eq!(invoices.len(), 1);
    assert!(
        invoices[0]
            .doc_number
            .as_deref()
            .unwrap()
            .ends_with("-VOID")
    );
    assert_eq!(invoices[0].total_amt, Some(Decimal::ZERO));
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
    let lost = log.iter().filter(|e| e["status"] == json!(0)).count();
    assert_eq!(lost, 2, "both answers were lost");
    // Tried again under the same request id, so QuickBooks voids once.
    let voids: std::collections::BTreeSet<_> = log
        .iter()
        .filter(|e| {
            e["query"]
                .as_str()
                .is_some_and(|q| q.contains("operation=void"))
        })
        .map(|e| e["requestid"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        voids.len(),
        1,
        "one void, however often it was sent: {voids:?}"
    );
}

#[tokio::test]
async fn a_night_with_nothing_posted_cannot_be_rolled_back() {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let err = controls::roll_back(&s.state, s.tenant_id, s.integration_id, days_ago(1), "Pat")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SyncError::NotReady(m) if m.contains("nothing to roll back")),
        "{err:?}"
    );
}
