//! The QuickBooks client against the in-process QuickBooks sandbox, over real HTTP.

use std::str::FromStr;
use std::time::Duration;

use ledgerbridge::providers::quickbooks::limiter::Limits;
use ledgerbridge::providers::quickbooks::models::*;
use ledgerbridge::providers::quickbooks::oauth::{QuickBooksOAuth, TokenSet};
use ledgerbridge::providers::quickbooks::{
    AppCredentials, BatchItem, Company, Endpoints, QboError, QuickBooksClient, RequestId,
    RetryPolicy,
};
use ledgerbridge::sandbox::quickbooks::{self as sandbox, CA_REALM_ID, US_REALM_ID};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/oauth/quickbooks/callback";

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        throttle_wait: Duration::from_millis(1_100),
    }
}

struct Qbo {
    sandbox: sandbox::Running,
    client: QuickBooksClient,
    oauth: QuickBooksOAuth,
    control: reqwest::Client,
}

impl Qbo {
    async fn start() -> Self {
        let sandbox = sandbox::start(sandbox::Options::default())
            .await
            .expect("sandbox starts");
        let endpoints = Endpoints::single_host(sandbox.base_url());
        let client = QuickBooksClient::new(endpoints.clone(), Duration::from_secs(5))
            .with_retry(fast_retry());
        let oauth = QuickBooksOAuth::new(
            endpoints,
            AppCredentials {
                client_id: sandbox::DEMO_CLIENT_ID.into(),
                client_secret: SecretString::from(sandbox::DEMO_CLIENT_SECRET),
                redirect_uri: REDIRECT.into(),
            },
        )
        .unwrap();
        Self {
            sandbox,
            client,
            oauth,
            control: reqwest::Client::new(),
        }
    }

    /// Consent without a browser: the sandbox issues the code the consent page would have.
    async fn connect(&self, realm: &str) -> TokenSet {
        let code: Value = self
            .control("/__sandbox/oauth/code", json!({"client_id": sandbox::DEMO_CLIENT_ID, "redirect_uri": REDIRECT, "realm_id": realm}))
            .await;
        self.oauth
            .exchange_code(code["code"].as_str().unwrap())
            .await
            .expect("code exchange")
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .control
            .post(format!("{}{path}", self.sandbox.base_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    async fn requests(&self) -> Vec<Value> {
        let r = self
            .control
            .get(format!("{}/__sandbox/requests", self.sandbox.base_url()))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }
}

fn company<'a>(realm: &'a str, tokens: &'a TokenSet) -> Company<'a> {
    Company {
        realm_id: realm,
        access_token: &tokens.access_token,
    }
}

async fn account_of_type(qbo: &Qbo, co: &Company<'_>, account_type: &str) -> Account {
    let found: Vec<Account> = qbo
        .client
        .query(
            co,
            &format!("select * from Account where AccountType = '{account_type}'"),
        )
        .await
        .unwrap();
    found
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("the sandbox company has a {account_type} account"))
}

#[tokio::test]
async fn the_consent_url_names_the_accounting_scope_and_the_state() {
    let qbo = Qbo::start().await;
    let url = qbo.oauth.authorize_url("state-123");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(query.contains(&("scope".into(), "com.intuit.quickbooks.accounting".into())));
    assert!(query.contains(&("state".into(), "state-123".into())));
    assert!(query.contains(&("response_type".into(), "code".into())));
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(page.status(), 200, "the sandbox shows its consent page");
}

#[tokio::test]
async fn a_code_is_exchanged_refreshed_and_revoked() {
    let qbo = Qbo::start().await;
    let first = qbo.connect(US_REALM_ID).await;
    assert!(first.access_expires_at > chrono::Utc::now() + chrono::Duration::minutes(55));
    assert!(first.refresh_expires_at.is_some());
    let info = qbo
        .client
        .company_info(&company(US_REALM_ID, &first))
        .await
        .unwrap();
    assert_eq!(
        info.company_name.as_deref(),
        Some("Acme Security Inc. (US)")
    );
    assert_eq!(info.country.as_deref(), Some("US"));

    let second = qbo.oauth.refresh(&first.refresh_token).await.unwrap();
    use secrecy::ExposeSecret;
    assert_ne!(
        second.refresh_token.expose_secret(),
        first.refresh_token.expose_secret(),
        "refresh tokens rotate"
    );
    let user = qbo.oauth.userinfo(&second.access_token).await.unwrap();
    assert!(user.email.is_some() || user.sub.is_some());

    qbo.oauth.revoke(&second.refresh_token).await.unwrap();
    let err = qbo
        .client
        .company_info(&company(US_REALM_ID, &second))
        .await
        .unwrap_err();
    assert!(matches!(err, QboError::Unauthorized { .. }), "{err}");
    let err = qbo.oauth.refresh(&second.refresh_token).await.unwrap_err();
    assert!(matches!(err, QboError::ReauthorizationRequired(_)), "{err}");
}

#[tokio::test]
async fn an_old_refresh_token_dies_a_day_after_rotation() {
    let qbo = Qbo::start().await;
    let first = qbo.connect(US_REALM_ID).await;
    let _second = qbo.oauth.refresh(&first.refresh_token).await.unwrap();
    assert!(
        qbo.oauth.refresh(&first.refresh_token).await.is_ok(),
        "still valid within 24 hours"
    );
    qbo.control("/__sandbox/clock", json!({"advance_seconds": 25 * 3600}))
        .await;
    let err = qbo.oauth.refresh(&first.refresh_token).await.unwrap_err();
    assert!(matches!(err, QboError::ReauthorizationRequired(_)), "{err}");
}

#[tokio::test]
async fn an_expired_access_token_is_unauthorized_and_another_realm_is_forbidden() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let err = qbo
        .client
        .preferences(&company(CA_REALM_ID, &tokens))
        .await
        .unwrap_err();
    match &err {
        QboError::Forbidden { fault, intuit_tid } => {
            assert_eq!(fault.code(), Some("3100"));
            assert!(intuit_tid.is_some(), "intuit_tid kept for support");
        }
        other => panic!("expected Forbidden, got {other}"),
    }
    qbo.control("/__sandbox/tokens/expire", json!({"realm_id": US_REALM_ID}))
        .await;
    let err = qbo
        .client
        .preferences(&company(US_REALM_ID, &tokens))
        .await
        .unwrap_err();
    match err {
        QboError::Unauthorized { fault, .. } => assert_eq!(fault.code(), Some("3200")),
        other => panic!("expected Unauthorized, got {other}"),
    }
}

#[tokio::test]
async fn accounts_are_created_read_updated_sparsely_and_a_stale_sync_token_is_refused() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let created = qbo
        .client
        .create(
            &co,
            &Account {
                name: Some("TrackTik Service Income".into()),
                acct_num: Some("TT-2000".into()),
                account_type: Some("Income".into()),
                account_sub_type: Some("ServiceFeeIncome".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "account", "TT-2000"]),
        )
        .await
        .unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(created.sync_token.as_deref(), Some("0"));
    assert_eq!(created.classification.as_deref(), Some("Revenue"));

    let read: Account = qbo.client.read(&co, &id).await.unwrap();
    assert_eq!(read.acct_num.as_deref(), Some("TT-2000"));

    let renamed = qbo
        .client
        .update(
            &co,
            &Account {
                id: Some(id.clone()),
                sync_token: Some("0".into()),
                sparse: Some(true),
                description: Some("Billing income from TrackTik".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "account", "TT-2000", "describe"]),
        )
        .await
        .unwrap();
    assert_eq!(renamed.sync_token.as_deref(), Some("1"));
    assert_eq!(
        renamed.name.as_deref(),
        Some("TrackTik Service Income"),
        "sparse update keeps other fields"
    );

    let stale = qbo
        .client
        .update(
            &co,
            &Account {
                id: Some(id),
                sync_token: Some("0".into()),
                sparse: Some(true),
                description: Some("x".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "account", "TT-2000", "stale"]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        stale.fault().and_then(|f| f.code()),
        Some("5010"),
        "{stale}"
    );
}

#[tokio::test]
async fn an_invoice_a_bill_an_expense_and_a_journal_entry_are_posted_with_server_totals() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let customers: Vec<Customer> = qbo
        .client
        .query(&co, "select * from Customer")
        .await
        .unwrap();
    let items: Vec<Item> = qbo
        .client
        .query(&co, "select * from Item where Type = 'Service'")
        .await
        .unwrap();
    let vendors: Vec<Vendor> = qbo.client.query(&co, "select * from Vendor").await.unwrap();
    let ap = account_of_type(&qbo, &co, "Accounts Payable").await;
    let expense = account_of_type(&qbo, &co, "Expense").await;
    let card = account_of_type(&qbo, &co, "Credit Card").await;

    let invoice = qbo
        .client
        .create(
            &co,
            &Invoice {
                doc_number: Some("INV-000123".into()),
                txn_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
                customer_ref: Some(Ref::id(customers[0].id.clone().unwrap())),
                line: vec![Line::sales(
                    d("1020.00"),
                    SalesItemLineDetail {
                        item_ref: Some(Ref::id(items[0].id.clone().unwrap())),
                        qty: Some(d("40")),
                        unit_price: Some(d("25.50")),
                        ..Default::default()
                    },
                )],
                ..Default::default()
            },
            &RequestId::derive(&["test", "invoice", "INV-000123"]),
        )
        .await
        .unwrap();
    assert_eq!(invoice.total_amt, Some(d("1020.00")));
    assert!(
        invoice
            .line
            .iter()
            .any(|l| l.detail_type == DetailType::SubTotalLineDetail)
    );

    let expense_line = |amount: &str| {
        Line::account_expense(
            d(amount),
            AccountBasedExpenseLineDetail {
                account_ref: Some(Ref::id(expense.id.clone().unwrap())),
                ..Default::default()
            },
        )
    };
    let bill = qbo
        .client
        .create(
            &co,
            &Bill {
                vendor_ref: Some(Ref::id(vendors[0].id.clone().unwrap())),
                a_p_account_ref: Some(Ref::id(ap.id.clone().unwrap())),
                total_amt: Some(d("999999")), // ignored by QBO
                line: vec![expense_line("880.00"), expense_line("132.00")],
                ..Default::default()
            },
            &RequestId::derive(&["test", "bill", "1"]),
        )
        .await
        .unwrap();
    assert_eq!(bill.total_amt, Some(d("1012.00")), "QBO computes the total");

    let purchase = qbo
        .client
        .create(
            &co,
            &Purchase {
                account_ref: Some(Ref::id(card.id.clone().unwrap())),
                payment_type: Some("CreditCard".into()),
                line: vec![expense_line("2106.45")],
                ..Default::default()
            },
            &RequestId::derive(&["test", "purchase", "1"]),
        )
        .await
        .unwrap();
    assert_eq!(purchase.total_amt, Some(d("2106.45")));

    let je_line = |posting: &str, account: &Account| {
        Line::journal(
            d("500.00"),
            JournalEntryLineDetail {
                posting_type: posting.into(),
                account_ref: Ref::id(account.id.clone().unwrap()),
                ..Default::default()
            },
        )
    };
    let je = qbo
        .client
        .create(
            &co,
            &JournalEntry {
                line: vec![je_line("Debit", &expense), je_line("Credit", &card)],
                ..Default::default()
            },
            &RequestId::derive(&["test", "je", "1"]),
        )
        .await
        .unwrap();
    assert!(je.id.is_some());

    let count = qbo
        .client
        .count(
            &co,
            "select count(*) from Invoice where DocNumber = 'INV-000123'",
        )
        .await
        .unwrap();
    assert_eq!(count, 1);
    let link = qbo
        .client
        .endpoints()
        .app_link("invoice", invoice.id.as_deref().unwrap());
    assert!(link.ends_with(&format!("invoice?txnId={}", invoice.id.unwrap())));
}

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
async fn a_canadian_company_computes_tax_from_the_line_tax_codes() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(CA_REALM_ID).await;
    let co = company(CA_REALM_ID, &tokens);
    let prefs = qbo.client.preferences(&co).await.unwrap();
    assert_eq!(
        prefs
            .currency_prefs
            .as_ref()
            .and_then(|c| c.multi_currency_enabled),
        Some(true)
    );
    let codes: Vec<TaxCode> = qbo
        .client
        .query(&co, "select * from TaxCode")
        .await
        .unwrap();
    let hst = codes
        .iter()
        .find(|c| c.name.as_deref().is_some_and(|n| n.starts_with("HST")))
        .expect("an HST code");
    let customers: Vec<Customer> = qbo
        .client
        .query(&co, "select * from Customer")
        .await
        .unwrap();
    let customer = customers
        .iter()
        .find(|c| c.currency_ref.as_ref().is_some_and(|r| r.value == "CAD"))
        .unwrap();
    let items: Vec<Item> = qbo
        .client
        .query(&co, "select * from Item where Type = 'Service'")
        .await
        .unwrap();
    let line = Line::sales(
        d("100.00"),
        SalesItemLineDetail {
            item_ref: Some(Ref::id(items[0].id.clone().unwrap())),
            tax_code_ref: Some(Ref::id(hst.id.clone().unwrap())),
            ..Default::default()
        },
    );
    let mut invoice = Invoice {
        customer_ref: Some(Ref::id(customer.id.clone().unwrap())),
        currency_ref: Some(Ref::id("CAD")),
        line: vec![line.clone()],
        ..Default::default()
    };
    let err = qbo
        .client
        .create(&co, &invoice, &RequestId::derive(&["ca", "no-gtc"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.fault().and_then(|f| f.code()),
        Some("2020"),
        "GlobalTaxCalculation is required: {err}"
    );
    invoice.global_tax_calculation = Some("TaxExcluded".into());
    let saved = qbo
        .client
        .create(&co, &invoice, &RequestId::derive(&["ca", "ok"]))
        .await
        .unwrap();
    assert_eq!(
        saved.txn_tax_detail.and_then(|t| t.total_tax),
        Some(d("13.00"))
    );
    assert_eq!(saved.total_amt, Some(d("113.00")));
}

#[tokio::test]
async fn queries_page_to_the_end_across_a_thousand_rows() {
    let qbo = Qbo::start().await;
    qbo.control("/__sandbox/rate-limits", json!({"enforce": false}))
        .await;
    let client = qbo.client.clone().with_limits(Limits {
        per_minute: 100_000,
        per_second: 100_000,
        batches_per_minute: 100_000,
        ..Limits::default()
    });
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    for chunk in 0..35 {
        let items: Vec<BatchItem> = (0..30)
            .map(|i| {
                BatchItem::create(
                    format!("c{i}"),
                    &Customer {
                        display_name: Some(format!("Paging Customer {:04}", chunk * 30 + i)),
                        ..Default::default()
                    },
                )
                .unwrap()
            })
            .collect();
        let outcomes = client
            .batch(
                &co,
                &items,
                &RequestId::derive(&["paging", &chunk.to_string()]),
            )
            .await
            .unwrap();
        assert!(outcomes.iter().all(|o| o.result.is_ok()));
    }
    let all: Vec<Customer> = client
        .query(
            &co,
            "select * from Customer where DisplayName LIKE 'Paging Customer%'",
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 1050);
    let count = client
        .count(
            &co,
            "select count(*) from Customer where DisplayName LIKE 'Paging Customer%'",
        )
        .await
        .unwrap();
    assert_eq!(count, 1050);
}

#[tokio::test]
async fn a_batch_returns_each_items_outcome_and_a_replayed_batch_creates_nothing_twice() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let items = vec![
        BatchItem::create(
            "ok1",
            &Vendor {
                display_name: Some("Batch Vendor One".into()),
                ..Default::default()
            },
        )
        .unwrap(),
        BatchItem::create(
            "dup",
            &Vendor {
                display_name: Some("Jordan Smith".into()),
                ..Default::default()
            },
        )
        .unwrap(),
        BatchItem::create(
            "ok2",
            &Vendor {
                display_name: Some("Batch Vendor Two".into()),
                ..Default::default()
            },
        )
        .unwrap(),
    ];
    let rid = RequestId::derive(&["batch", "vendors"]);
    let outcomes = qbo.client.batch(&co, &items, &rid).await.unwrap();
    assert_eq!(outcomes.len(), 3);
    let by_id = |b: &str| outcomes.iter().find(|o| o.b_id == b).unwrap();
    assert_eq!(
        by_id("ok1")
            .entity::<Vendor>()
            .unwrap()
            .display_name
            .as_deref(),
        Some("Batch Vendor One")
    );
    assert_eq!(
        by_id("dup").result.as_ref().unwrap_err().code(),
        Some("6240")
    );
    assert!(by_id("ok2").result.is_ok());

    let again = qbo.client.batch(&co, &items, &rid).await.unwrap();
    assert_eq!(again.len(), 3);
    let n = qbo
        .client
        .count(
            &co,
            "select count(*) from Vendor where DisplayName LIKE 'Batch Vendor%'",
        )
        .await
        .unwrap();
    assert_eq!(n, 2, "the replay created nothing");
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

#[tokio::test]
async fn every_call_carries_minorversion_75_and_every_write_a_request_id() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    qbo.client.preferences(&co).await.unwrap();
    let _: Vec<Account> = qbo
        .client
        .query(&co, "select * from Account")
        .await
        .unwrap();
    qbo.client
        .create(
            &co,
            &Vendor {
                display_name: Some("Minor Version Co".into()),
                ..Default::default()
            },
            &RequestId::derive(&["mv"]),
        )
        .await
        .unwrap();
    let api: Vec<Value> = qbo
        .requests()
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/v3/")))
        .collect();
    assert!(api.len() >= 3);
    for r in &api {
        assert_eq!(r["minorversion"], "75", "{r}");
    }
    let write = api
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("/vendor"))
        .unwrap();
    assert_eq!(write["requestid"], RequestId::derive(&["mv"]).as_str());
}

#[tokio::test]
async fn a_throttled_burst_waits_out_the_429s_and_a_client_out_of_retries_gets_a_typed_error() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    // A client without its own limiter hits the sandbox's 10/s wall.
    let unlimited = qbo.client.clone().with_limits(Limits {
        per_minute: 100_000,
        per_second: 100_000,
        batches_per_minute: 100_000,
        ..Limits::default()
    });
    let _ = co;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let client = unlimited.clone();
        let token = tokens.access_token.clone();
        calls.spawn(async move {
            client
                .preferences(&Company {
                    realm_id: US_REALM_ID,
                    access_token: &token,
                })
                .await
                .map(|_| ())
        });
    }
    while let Some(result) = calls.join_next().await {
        result
            .unwrap()
            .expect("every call passes after waiting out the 429s");
    }
    assert!(
        unlimited.stats().throttled > 0,
        "the sandbox did throttle the burst"
    );

    let impatient = unlimited.clone().with_retry(RetryPolicy {
        max_attempts: 1,
        ..fast_retry()
    });
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let client = impatient.clone();
        let token = tokens.access_token.clone();
        calls.spawn(async move {
            client
                .preferences(&Company {
                    realm_id: US_REALM_ID,
                    access_token: &token,
                })
                .await
                .map(|_| ())
        });
    }
    let mut throttled = 0;
    while let Some(result) = calls.join_next().await {
        if let Err(e) = result.unwrap() {
            assert!(matches!(e, QboError::Throttled { .. }), "{e}");
            throttled += 1;
        }
    }
    assert!(
        throttled > 0,
        "with no retries left the 429 surfaces as Throttled"
    );
}

#[tokio::test]
async fn the_limiter_keeps_a_burst_of_two_thousand_writes_free_of_429s() {
    let qbo = Qbo::start().await;
    // Four companies: 600 writes to one (past both the 10/s and the 500/min windows), 500 to each other.
    let mut realms = vec![US_REALM_ID.to_owned()];
    for name in ["Burst Two", "Burst Three", "Burst Four"] {
        let created = qbo
            .control(
                "/__sandbox/companies",
                json!({"flavour": "us", "name": name}),
            )
            .await;
        realms.push(created["realmId"].as_str().unwrap().to_owned());
    }
    let mut tasks = Vec::new();
    for (n, realm) in realms.into_iter().enumerate() {
        let tokens = qbo.connect(&realm).await;
        let client = qbo.client.clone();
        let writes = if n == 0 { 600 } else { 500 };
        tasks.push(tokio::spawn(async move {
            let mut pending = Vec::new();
            for i in 0..writes {
                let vendor = Vendor {
                    display_name: Some(format!("Burst Vendor {i:04}")),
                    ..Default::default()
                };
                let rid = RequestId::derive(&["burst", &realm, &i.to_string()]);
                let client = client.clone();
                let realm = realm.clone();
                let token = tokens.access_token.clone();
                pending.push(tokio::spawn(async move {
                    let co = Company {
                        realm_id: &realm,
                        access_token: &token,
                    };
                    client.create(&co, &vendor, &rid).await.map(|_| ())
                }));
            }
            for p in pending {
                p.await.unwrap().unwrap();
            }
            writes
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 2100);
    assert_eq!(qbo.client.stats().throttled, 0, "our client saw no 429");
    let stats: Value = reqwest::get(format!("{}/__sandbox/stats", qbo.sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["throttled"], 0, "the sandbox sent no 429: {stats}");
}
