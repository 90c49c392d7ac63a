//! One document's fate: refusals, retries, customers, preview, back-sync, closed books.

use super::*;

#[tokio::test]
async fn a_refused_document_fails_alone_in_plain_words_and_retry_failed_posts_it_with_a_new_request_id()
 {
    let start = days_ago(30);
    let s = Synced::start(US_REALM_ID, start).await;
    // The service item goes inactive in QuickBooks: every invoice is refused, pay runs are not.
    let mut settings = s.settings().await;
    let good = settings.billing.default_item.clone().unwrap();
    settings.billing.default_item = Some(QboRef::new("999999", "Retired Guarding Service"));
    s.save(&settings).await;
    let mut day = start;
    while day < today() {
        s.run(day).await.unwrap();
        day = day.succ_opt().unwrap();
    }
    let rows = s.ledger().await;
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| r.state == LedgerState::Failed)
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|r| r.source == Source::Invoice && !r.retryable)
    );
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("Retired Guarding Service"),
        "{:?}",
        failed[0]
    );
    assert_eq!(failed[0].fix_at.as_deref(), Some("settings"));
    assert!(
        rows.iter()
            .any(|r| r.source == Source::Payrun && r.state == LedgerState::Posted)
    );
    let old_request = failed[0].request_id.clone().unwrap();

    let notices = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from notice where kind = 'sync_failures'")
            .fetch_one(&s.state.db)
            .await
            .unwrap()
    };
    let sent = notices().await;
    assert!(sent >= 1, "new failures trigger a notice");

    // A nightly run does not hammer QuickBooks with the same refusal, nor mail about it again.
    let again = s.run(days_ago(1)).await.unwrap();
    assert_eq!(again.counts.total, 0);
    assert_eq!(notices().await, sent);

    // Fixed, then retried on purpose: a new generation, so a new request id.
    settings.billing.default_item = Some(good);
    s.save(&settings).await;
    let report = controls::retry_failed(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(report.counts.posted as usize, failed.len(), "{report:?}");
    let row = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.ledger_entry_id == failed[0].ledger_entry_id)
        .unwrap();
    assert_eq!(row.state, LedgerState::Posted);
    assert_eq!(row.generation, 1);
    assert_ne!(row.request_id.unwrap(), old_request);
}

#[tokio::test]
async fn a_client_whose_name_a_vendor_holds_becomes_a_customer_named_with_a_suffix() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let client = s.first_client().await;
    let (portal, tt) = s.tracktik().await;
    let name = s
        .state
        .providers
        .tracktik
        .clients(&portal, &tt)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == client)
        .unwrap()
        .display_name()
        .unwrap()
        .to_owned();
    let token = s.qbo_token().await;
    let co = Company {
        realm_id: &s.realm,
        access_token: &token,
    };
    s.state
        .providers
        .quickbooks
        .create(
            &co,
            &Vendor {
                display_name: Some(name.clone()),
                ..Default::default()
            },
            &RequestId::derive(&["test-vendor"]),
        )
        .await
        .unwrap();
    s.new_invoice(days_ago(3), Utc::now() - chrono::Duration::days(2))
        .await;
    s.run_every_day(start).await;
    let (qbo_name, note): (String, Option<String>) = sqlx::query_as(
        "select display_name, note from sync_customer where integration_id = $1 and client_id = $2",
    )
    .bind(s.integration_id)
    .bind(client)
    .fetch_one(&s.state.db)
    .await
    .unwrap();
    assert_eq!(qbo_name, format!("{name} (Customer)"));
    assert!(note.unwrap().contains("vendor"));
}

#[tokio::test]
async fn preview_lists_what_would_be_posted_and_writes_nothing() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let items = controls::preview(&s.state, s.tenant_id, s.integration_id, Some(days_ago(1)))
        .await
        .unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i.problem.is_none()), "{items:#?}");
    assert!(s.ledger().await.is_empty());
    assert_eq!(s.creates("Invoice").await, 0);
    assert_eq!(s.creates("Customer").await, 0);

    // Sync now then posts exactly those.
    let report = controls::sync_now(&s.state, s.tenant_id, s.integration_id, Some(days_ago(1)))
        .await
        .unwrap();
    assert_eq!(report.counts.posted as usize, items.len());
}

#[tokio::test]
async fn back_sync_posts_documents_approved_before_the_start_date() {
    let s = Synced::start(US_REALM_ID, days_ago(3)).await;
    s.run_every_day(days_ago(3)).await;
    let before = s.ledger().await.len();
    let report = controls::back_sync(
        &s.state,
        s.tenant_id,
        s.integration_id,
        days_ago(10),
        days_ago(1),
    )
    .await
    .unwrap();
    assert!(report.counts.posted > 0, "{report:?}");
    assert_eq!(
        s.ledger().await.len(),
        before + report.counts.posted as usize
    );
    let run = runs::recent(&s.state.db, s.tenant_id, s.integration_id, 1)
        .await
        .unwrap();
    assert_eq!(run[0].kind, RunKind::BackSync);
}

#[tokio::test]
async fn closed_books_fail_the_document_or_post_it_on_the_first_open_date_as_chosen() {
    use ledgerbridge::integrations::settings::ClosedBooks;
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let closed = days_ago(1);
    Sandboxes::control(
        s.qbo_base(),
        &format!("/__sandbox/companies/{}/settings", s.realm),
        json!({"book_close_date": closed.to_string()}),
    )
    .await;
    let mut day = start;
    while day < today() {
        s.run(day).await.unwrap();
        day = day.succ_opt().unwrap();
    }
    let rows = s.ledger().await;
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| r.state == LedgerState::Failed)
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|r| r.error_code.as_deref() == Some("6210"))
    );
    assert!(failed[0].last_error.as_deref().unwrap().contains("closed"));

    let mut settings = s.settings().await;
    settings.schedule.closed_books = ClosedBooks::PostOnFirstOpenDate;
    s.save(&settings).await;
    let report = controls::retry_failed(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(report.counts.posted as usize, failed.len(), "{report:?}");
    let first_open = today();
    let invoices = s.qbo_invoices().await;
    let moved = invoices
        .iter()
        .filter(|i| i.txn_date == Some(first_open))
        .count();
    assert!(
        moved
            >= failed
                .iter()
                .filter(|r| r.source == Source::Invoice)
                .count()
    );
}

#[tokio::test]
async fn tracktik_totals_that_do_not_add_up_fail_the_invoice_instead_of_being_adjusted() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let id = s
        .new_invoice(days_ago(3), Utc::now() - chrono::Duration::days(2))
        .await;
    let doc: Value = reqwest::get(format!("{}/__sandbox/invoices/{id}", s.tt_base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total: Decimal = doc["data"]["total"].to_string().parse().unwrap();
    let r = reqwest::Client::new()
        .patch(format!("{}/__sandbox/invoices/{id}", s.tt_base()))
        .json(&json!({"total": total + Decimal::new(1, 2)}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let mut day = start;
    while day < today() {
        s.run(day).await.unwrap();
        day = day.succ_opt().unwrap();
    }
    let row = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.source_id == id)
        .unwrap();
    assert_eq!(row.state, LedgerState::Failed);
    assert_eq!(row.error_code.as_deref(), Some("tracktik_totals"));
    assert_eq!(row.fix_at.as_deref(), Some("tracktik"));
    let number = sync::fit_doc_number(doc["data"]["documentNumber"].as_str().unwrap());
    assert!(
        !s.qbo_invoices()
            .await
            .iter()
            .any(|i| i.doc_number.as_deref() == Some(number.as_str())),
        "nothing was posted for it"
    );
}

#[tokio::test]
async fn a_document_number_quickbooks_already_has_fails_that_document_alone() {
    use ledgerbridge::providers::quickbooks::models::{Line, Ref, SalesItemLineDetail};
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let id = s
        .new_invoice(days_ago(3), Utc::now() - chrono::Duration::days(2))
        .await;
    let doc: Value = reqwest::get(format!("{}/__sandbox/invoices/{id}", s.tt_base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = doc["data"]["documentNumber"].as_str().unwrap().to_owned();
    // Someone typed an invoice with that number into QuickBooks last month.
    let token = s.qbo_token().await;
    let co = Company {
        realm_id: &s.realm,
        access_token: &token,
    };
    s.state
        .providers
        .quickbooks
        .create(
            &co,
            &Invoice {
                doc_number: Some(sync::fit_doc_number(&number)),
                customer_ref: Some(Ref::id("28")),
                currency_ref: Some(Ref::id("USD")),
                line: vec![Line::sales(
                    Decimal::new(100, 0),
                    SalesItemLineDetail {
                        item_ref: Some(Ref::id("22")),
                        ..Default::default()
                    },
                )],
                ..Default::default()
            },
            &RequestId::derive(&["typed-by-hand"]),
        )
        .await
        .unwrap();
    let mut day = start;
    while day < today() {
        s.run(day).await.unwrap();
        day = day.succ_opt().unwrap();
    }
    let rows = s.ledger().await;
    let row = rows.iter().find(|r| r.source_id == id).unwrap();
    assert_eq!(row.state, LedgerState::Failed, "{row:?}");
    assert_eq!(row.error_code.as_deref(), Some("6140"));
    assert!(
        row.last_error
            .as_deref()
            .unwrap()
            .contains("did not create")
    );
    assert!(
        rows.iter()
            .filter(|r| r.source_id != id)
            .all(|r| r.state == LedgerState::Posted)
    );
}
