//! Nothing is ever stranded: `skipped` only on TrackTik's direct word, retries and back-syncs on
//! each document's own day, sources switched off and on, a revision that comes back, and the
//! wizard's back-sync date.

use super::*;

/// Retires the product every invoice is posted with: QuickBooks refuses them until it is put
/// back. Returns the good one.
async fn retire_the_product(s: &Synced) -> QboRef {
    let mut settings = s.settings().await;
    let good = settings.billing.default_item.clone().unwrap();
    settings.billing.default_item = Some(QboRef::new("999999", "Retired Guarding Service"));
    s.save(&settings).await;
    good
}

async fn restore_the_product(s: &Synced, good: QboRef) {
    let mut settings = s.settings().await;
    settings.billing.default_item = Some(good);
    s.save(&settings).await;
}

async fn patch_invoice(s: &Synced, id: i64, patch: Value) {
    let r = reqwest::Client::new()
        .patch(format!("{}/__sandbox/invoices/{id}", s.tt_base()))
        .json(&patch)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

async fn row_of(s: &Synced, id: i64) -> ledger::LedgerEntry {
    s.ledger()
        .await
        .into_iter()
        .find(|r| r.source == Source::Invoice && r.source_id == id)
        .expect("a ledger row")
}

/// QuickBooks invoices per document number.
async fn numbered(s: &Synced) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for i in s.qbo_invoices().await {
        *n.entry(i.doc_number.unwrap_or_default()).or_default() += 1;
    }
    n
}

#[tokio::test]
async fn a_skipped_document_approved_again_unchanged_is_posted_by_the_next_run() {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let good = retire_the_product(&s).await;
    let id = s
        .new_invoice(days_ago(1), Utc::now() - chrono::Duration::hours(1))
        .await;
    controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(row_of(&s, id).await.state, LedgerState::Failed);

    // Set back to draft in TrackTik, then retried: TrackTik, asked about it, says so.
    patch_invoice(&s, id, json!({"status": "DRAFT"})).await;
    ledger::retry_failed(&s.state.db, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    let row = row_of(&s, id).await;
    assert_eq!(row.state, LedgerState::Skipped);
    assert_eq!(row.error_code.as_deref(), Some("not_approved"));
    let why = row.last_error.unwrap();
    assert!(why.contains("asked directly"), "{why}");
    assert!(
        why.contains("approved again, the next run posts it"),
        "{why}"
    );

    // Approved again, unchanged: the next run posts it, once.
    restore_the_product(&s, good).await;
    patch_invoice(&s, id, json!({"status": "APPROVED"})).await;
    controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    let row = row_of(&s, id).await;
    assert_eq!(row.state, LedgerState::Posted, "{row:?}");
    assert!(numbered(&s).await.values().all(|n| *n == 1));
}

#[tokio::test]
async fn retry_after_a_back_sync_posts_documents_of_days_before_the_start_date() {
    let s = Synced::start(US_REALM_ID, days_ago(3)).await;
    let good = retire_the_product(&s).await;
    let report = controls::back_sync(
        &s.state,
        s.tenant_id,
        s.integration_id,
        days_ago(14),
        days_ago(4),
    )
    .await
    .unwrap();
    assert!(report.counts.failed >= 3, "{report:?}");
    let failed: Vec<i64> = s
        .ledger()
        .await
        .iter()
        .filter(|r| r.state == LedgerState::Failed)
        .map(|r| r.source_id)
        .collect();

    // Fixed, then "Retry failed": each document on its own trading day, before the start date.
    restore_the_product(&s, good).await;
    let retried = controls::retry_failed(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(retried.counts.skipped, 0, "{retried:?}");
    let rows = s.ledger().await;
    for id in &failed {
        let row = rows.iter().find(|r| r.source_id == *id).unwrap();
        assert_eq!(row.state, LedgerState::Posted, "{row:?}");
        assert!(row.trading_day < days_ago(3));
    }
}

#[tokio::test]
async fn switching_billing_off_for_a_while_skips_nothing_and_resume_from_leaves_out_the_days_off() {
    let s = Synced::start(US_REALM_ID, days_ago(3)).await;
    let good = retire_the_product(&s).await;
    let owed = s
        .new_invoice(days_ago(2), Utc::now() - chrono::Duration::days(2))
        .await;
    s.run(days_ago(1)).await.unwrap();
    ledger::retry_failed(&s.state.db, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    restore_the_product(&s, good).await;

    // Billing off: the run posts pay runs and leaves the owed invoice as it is.
    let mut settings = s.settings().await;
    settings.billing.enabled = false;
    s.save(&settings).await;
    s.run(days_ago(1)).await.unwrap();
    assert_eq!(row_of(&s, owed).await.state, LedgerState::Pending);
    // Approved while billing was off.
    let while_off = s
        .new_invoice(days_ago(1), Utc::now() - chrono::Duration::hours(30))
        .await;

    // Back on, resuming from today: the owed invoice posts, the one of the days off does not.
    let mut settings = s.settings().await;
    settings.billing.enabled = true;
    settings.billing.resume_from = Some(today());
    s.save(&settings).await;
    s.run(days_ago(1)).await.unwrap();
    assert_eq!(row_of(&s, owed).await.state, LedgerState::Posted);
    assert!(
        s.ledger().await.iter().all(|r| r.source_id != while_off),
        "left out, not skipped"
    );

    // Resuming from the day it was switched off instead: it posts too.
    settings.billing.resume_from = Some(days_ago(3));
    s.save(&settings).await;
    controls::back_sync(
        &s.state,
        s.tenant_id,
        s.integration_id,
        days_ago(3),
        days_ago(1),
    )
    .await
    .unwrap();
    assert_eq!(row_of(&s, while_off).await.state, LedgerState::Posted);
}

#[tokio::test]
async fn a_document_whose_revision_goes_a_b_a_never_stops_a_run() {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let good = retire_the_product(&s).await;
    let id = s
        .new_invoice(days_ago(1), Utc::now() - chrono::Duration::hours(2))
        .await;
    let first_due = (days_ago(1) + chrono::Days::new(30)).to_string();
    controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(row_of(&s, id).await.state, LedgerState::Failed);
    let revision_a = row_of(&s, id).await.revision;

    // Taken back to draft (skipped on TrackTik's word), approved again with a new due date (B,
    // fails again), then the due date put back (A).
    patch_invoice(&s, id, json!({"status": "DRAFT"})).await;
    ledger::retry_failed(&s.state.db, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(row_of(&s, id).await.state, LedgerState::Skipped);
    patch_invoice(
        &s,
        id,
        json!({"status": "APPROVED", "dueDate": "2031-01-31"}),
    )
    .await;
    controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    let b = row_of(&s, id).await;
    assert_eq!(b.state, LedgerState::Failed);
    assert_ne!(b.revision, revision_a);
    patch_invoice(&s, id, json!({"dueDate": first_due})).await;

    // The run goes through: the document follows its revision, the others post.
    restore_the_product(&s, good).await;
    let other = s
        .new_invoice(days_ago(1), Utc::now() - chrono::Duration::minutes(30))
        .await;
    let report = controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .expect("no single document stops a run");
    let row = row_of(&s, id).await;
    assert_eq!(row.revision, revision_a);
    assert_eq!(row.state, LedgerState::Posted, "{report:?}");
    assert_eq!(row_of(&s, other).await.state, LedgerState::Posted);
    assert_eq!(
        s.ledger()
            .await
            .iter()
            .filter(|r| r.source_id == id)
            .count(),
        1,
        "one row per document"
    );
}

#[tokio::test]
async fn the_wizards_back_sync_from_date_is_acted_on_by_the_first_run() {
    let start = days_ago(3);
    let from = days_ago(12);
    let s = Synced::start(US_REALM_ID, start).await;
    let mut settings = s.settings().await;
    settings.schedule.back_sync_from = Some(from);
    s.save(&settings).await;

    s.run(days_ago(1)).await.unwrap();
    let expected = s.tracktik_invoices(start_of(from), start_of(today())).await;
    assert!(
        expected.len()
            > s.tracktik_invoices(start_of(start), start_of(today()))
                .await
                .len(),
        "the seeded portal has invoices before the start date"
    );
    let posted: BTreeMap<String, Decimal> = s
        .ledger()
        .await
        .into_iter()
        .filter(|r| r.source == Source::Invoice && r.state == LedgerState::Posted)
        .map(|r| (sync::fit_doc_number(&r.doc_number), r.amount))
        .collect();
    assert_eq!(posted, expected);
}
