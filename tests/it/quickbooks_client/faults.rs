//! QuickBooks refusals as typed faults, and retries that still write each object once.

use super::*;

#[tokio::test]
async fn qbo_refusals_arrive_as_typed_faults_with_code_and_element() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let rid = |s: &str| RequestId::derive(&["refusals", s]);

    // 2020: an invoice without a customer.
    let err = qbo
        .client
        .create(
            &co,
            &Invoice {
                line: vec![],
                ..Default::default()
            },
            &rid("no-customer"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.fault().and_then(|f| f.code()), Some("2020"), "{err}");

    // 6240: a customer named like the seeded vendor.
    let vendors: Vec<Vendor> = qbo.client.query(&co, "select * from Vendor").await.unwrap();
    let taken = vendors[0].display_name.clone().unwrap();
    let err = qbo
        .client
        .create(
            &co,
            &Customer {
                display_name: Some(taken),
                ..Default::default()
            },
            &rid("dup-name"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.fault().and_then(|f| f.code()), Some("6240"), "{err}");

    // 2500: an item that does not exist.
    let customers: Vec<Customer> = qbo
        .client
        .query(&co, "select * from Customer")
        .await
        .unwrap();
    let bad_item = Invoice {
        customer_ref: Some(Ref::id(customers[0].id.clone().unwrap())),
        line: vec![Line::sales(
            d("1"),
            SalesItemLineDetail {
                item_ref: Some(Ref::id("99999")),
                ..Default::default()
            },
        )],
        ..Default::default()
    };
    let err = qbo
        .client
        .create(&co, &bad_item, &rid("bad-item"))
        .await
        .unwrap_err();
    let fault = err.fault().unwrap();
    assert_eq!(fault.code(), Some("2500"), "{err}");
    // Real 2500 faults carry an empty element: the reference is named in the detail only.
    assert!(
        fault.errors[0]
            .element
            .as_deref()
            .unwrap_or_default()
            .is_empty(),
        "{err}"
    );
    assert!(
        fault.errors[0].detail.contains("Items element id 99999"),
        "{err}"
    );

    // 6000: an unbalanced journal entry.
    let expense = account_of_type(&qbo, &co, "Expense").await;
    let card = account_of_type(&qbo, &co, "Credit Card").await;
    let je = JournalEntry {
        line: vec![
            Line::journal(
                d("10"),
                JournalEntryLineDetail {
                    posting_type: "Debit".into(),
                    account_ref: Ref::id(expense.id.clone().unwrap()),
                    ..Default::default()
                },
            ),
            Line::journal(
                d("9"),
                JournalEntryLineDetail {
                    posting_type: "Credit".into(),
                    account_ref: Ref::id(card.id.clone().unwrap()),
                    ..Default::default()
                },
            ),
        ],
        ..Default::default()
    };
    let err = qbo
        .client
        .create(&co, &je, &rid("unbalanced"))
        .await
        .unwrap_err();
    assert_eq!(err.fault().and_then(|f| f.code()), Some("6000"), "{err}");

    // 6140: the same document number twice.
    let items: Vec<Item> = qbo
        .client
        .query(&co, "select * from Item where Type = 'Service'")
        .await
        .unwrap();
    let invoice = |n: &str| Invoice {
        doc_number: Some("DUP-1".into()),
        customer_ref: Some(Ref::id(customers[0].id.clone().unwrap())),
        line: vec![Line::sales(
            d(n),
            SalesItemLineDetail {
                item_ref: Some(Ref::id(items[0].id.clone().unwrap())),
                ..Default::default()
            },
        )],
        ..Default::default()
    };
    qbo.client
        .create(&co, &invoice("1"), &rid("dup-doc-1"))
        .await
        .unwrap();
    let err = qbo
        .client
        .create(&co, &invoice("2"), &rid("dup-doc-2"))
        .await
        .unwrap_err();
    assert_eq!(err.fault().and_then(|f| f.code()), Some("6140"), "{err}");

    // 6210: books closed.
    qbo.control(
        &format!("/__sandbox/companies/{US_REALM_ID}/settings"),
        json!({"book_close_date": "2026-01-31"}),
    )
    .await;
    let mut closed = invoice("3");
    closed.doc_number = Some("CLOSED-1".into());
    closed.txn_date = chrono::NaiveDate::from_ymd_opt(2026, 1, 15);
    let err = qbo
        .client
        .create(&co, &closed, &rid("closed"))
        .await
        .unwrap_err();
    assert_eq!(err.fault().and_then(|f| f.code()), Some("6210"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_write_whose_connection_dropped_after_commit_is_retried_and_created_once() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "drop", "count": 1, "path_contains": "/vendor", "method": "POST"}),
    )
    .await;
    let vendor = qbo
        .client
        .create(
            &co,
            &Vendor {
                display_name: Some("Dropped Once Security".into()),
                ..Default::default()
            },
            &RequestId::derive(&["drop", "v"]),
        )
        .await
        .expect("the retry gets the stored answer");
    assert!(vendor.id.is_some());
    let n = qbo
        .client
        .count(
            &co,
            "select count(*) from Vendor where DisplayName = 'Dropped Once Security'",
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let writes: Vec<Value> = qbo
        .requests()
        .await
        .into_iter()
        .filter(|r| {
            r["method"] == "POST" && r["path"].as_str().is_some_and(|p| p.ends_with("/vendor"))
        })
        .collect();
    assert_eq!(writes.len(), 2, "one dropped, one replayed");
    assert_eq!(
        writes[0]["requestid"], writes[1]["requestid"],
        "the same request id on the retry"
    );
    assert_eq!(qbo.client.stats().retries, 1);
}

#[tokio::test]
async fn server_errors_html_pages_and_timeouts_are_retried_until_they_pass() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let client = QuickBooksClient::new(
        Endpoints::single_host(qbo.sandbox.base_url()),
        Duration::from_millis(700),
    )
    .with_retry(fast_retry());
    let co = company(US_REALM_ID, &tokens);
    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "server_error", "count": 1, "path_contains": "/preferences"}),
    )
    .await;
    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "unavailable", "count": 1, "path_contains": "/preferences"}),
    )
    .await;
    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "timeout", "count": 1, "seconds": 2, "path_contains": "/preferences"}),
    )
    .await;
    let prefs = client
        .preferences(&co)
        .await
        .expect("the fourth try succeeds");
    assert!(prefs.accounting_info_prefs.is_some());
    assert_eq!(client.stats().retries, 3);

    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "unavailable", "count": 10, "path_contains": "/preferences"}),
    )
    .await;
    let err = client.preferences(&co).await.unwrap_err();
    assert!(matches!(err, QboError::Server { status: 503, .. }), "{err}");
    assert!(err.is_retryable());
}
