//! Express setup against the in-process QuickBooks sandbox, over real HTTP: every object is read
//! back through the client, and object counts prove nothing is ever duplicated.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use ledgerbridge::mapping::express::{
    Action, ExpressError, ExpressOptions, ExpressOutcome, ObjectKind, Purpose, TaxClassInput,
    ensure_defaults,
};
use ledgerbridge::providers::quickbooks::models::*;
use ledgerbridge::providers::quickbooks::oauth::{QuickBooksOAuth, TokenSet};
use ledgerbridge::providers::quickbooks::{
    AppCredentials, Company, Endpoints, QuickBooksClient, RequestId, RetryPolicy,
};
use ledgerbridge::sandbox::quickbooks::{
    self as sandbox, CA_REALM_ID, US_NO_ACCTNUM_REALM_ID, US_REALM_ID,
};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:9/oauth/quickbooks/callback";
/// Attempts per call in these tests; a fault armed this many times defeats every retry.
const ATTEMPTS: u32 = 4;

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
        let client = QuickBooksClient::new(endpoints.clone(), Duration::from_secs(5)).with_retry(
            RetryPolicy {
                max_attempts: ATTEMPTS,
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(50),
                throttle_wait: Duration::from_millis(1_100),
            },
        );
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

    async fn connect(&self, realm: &str) -> TokenSet {
        let code: Value = self
            .control("/__sandbox/oauth/code", json!({"client_id": sandbox::DEMO_CLIENT_ID, "redirect_uri": REDIRECT, "realm_id": realm}))
            .await;
        self.oauth
            .exchange_code(code["code"].as_str().unwrap())
            .await
            .expect("code exchange")
    }

    async fn new_company(&self, flavour: &str) -> String {
        let made = self
            .control(
                "/__sandbox/companies",
                json!({"flavour": flavour, "name": "Fresh Co"}),
            )
            .await;
        made["realmId"].as_str().unwrap().to_owned()
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

    async fn express(
        &self,
        co: &Company<'_>,
        tax_classes: &[TaxClassInput],
    ) -> Result<ExpressOutcome, ExpressError> {
        ensure_defaults(&self.client, co, tax_classes, &ExpressOptions::default()).await
    }

    async fn accounts(&self, co: &Company<'_>) -> Vec<Account> {
        self.client
            .query(co, "SELECT * FROM Account WHERE Active IN (true,false)")
            .await
            .unwrap()
    }

    async fn items(&self, co: &Company<'_>) -> Vec<Item> {
        self.client
            .query(co, "SELECT * FROM Item WHERE Active IN (true,false)")
            .await
            .unwrap()
    }

    /// Accounts and items, active or not.
    async fn counts(&self, co: &Company<'_>) -> (usize, usize) {
        (self.accounts(co).await.len(), self.items(co).await.len())
    }
}

fn company<'a>(realm: &'a str, tokens: &'a TokenSet) -> Company<'a> {
    Company {
        realm_id: realm,
        access_token: &tokens.access_token,
    }
}

fn tc(id: i64, name: &str) -> TaxClassInput {
    TaxClassInput {
        id,
        name: name.into(),
    }
}

fn us_tax_classes() -> Vec<TaxClassInput> {
    vec![tc(42, "State Sales Tax"), tc(7, "County Tax")]
}

/// (name, AccountType, AccountSubType, AcctNum, with an item)
type Expected = (&'static str, &'static str, &'static str, &'static str, bool);

/// PRODUCT.md §3 for `us_tax_classes()`: County Tax (id 7) is TT-8101, State Sales Tax TT-8102.
const US_TABLE: [Expected; 6] = [
    (
        "TrackTik Direct Wages",
        "Expense",
        "PayrollWageExpenses",
        "TT-3000",
        false,
    ),
    (
        "TrackTik Direct Wages Liability",
        "Credit Card",
        "CreditCard",
        "TT-9000",
        false,
    ),
    (
        "TrackTik Service Income",
        "Income",
        "ServiceFeeIncome",
        "TT-2000",
        true,
    ),
    (
        "TrackTik County Tax",
        "Other Current Liability",
        "OtherCurrentLiabilities",
        "TT-8101",
        true,
    ),
    (
        "TrackTik State Sales Tax",
        "Other Current Liability",
        "OtherCurrentLiabilities",
        "TT-8102",
        true,
    ),
    (
        "TrackTik Automated Calculated Tax",
        "Other Current Liability",
        "OtherCurrentLiabilities",
        "TT-8000",
        true,
    ),
];

/// Reads every Express object back and checks it against the table; returns name → account id.
async fn assert_table(
    qbo: &Qbo,
    co: &Company<'_>,
    outcome: &ExpressOutcome,
    table: &[Expected],
    numbers: bool,
) -> BTreeMap<String, String> {
    let mut account_ids = BTreeMap::new();
    for (name, account_type, sub_type, number, with_item) in table {
        let listed = outcome
            .objects
            .iter()
            .find(|o| o.kind == ObjectKind::Account && o.name == *name)
            .unwrap_or_else(|| panic!("the outcome lists the account {name}"));
        let account: Account = qbo.client.read(co, &listed.qbo_id).await.unwrap();
        assert_eq!(account.name.as_deref(), Some(*name));
        assert_eq!(
            account.account_type.as_deref(),
            Some(*account_type),
            "{name}"
        );
        assert_eq!(
            account.account_sub_type.as_deref(),
            Some(*sub_type),
            "{name}"
        );
        let expected_number = numbers.then_some(*number);
        assert_eq!(account.acct_num.as_deref(), expected_number, "{name}");
        assert_eq!(account.active, Some(true), "{name}");
        assert_eq!(listed.object_type, *account_type);
        assert_eq!(listed.detail_type.as_deref(), Some(*sub_type));
        assert_eq!(listed.number.as_deref(), expected_number);
        account_ids.insert(name.to_string(), listed.qbo_id.clone());

        let items: Vec<_> = outcome
            .objects
            .iter()
            .filter(|o| o.kind == ObjectKind::Item && o.purpose == listed.purpose)
            .collect();
        if !with_item {
            assert!(items.is_empty(), "{name} has no item");
            continue;
        }
        assert_eq!(items.len(), 1, "{name} has one item");
        let item: Item = qbo.client.read(co, &items[0].qbo_id).await.unwrap();
        assert_eq!(item.name.as_deref(), Some(*name));
        assert_eq!(item.item_type.as_deref(), Some("NonInventory"));
        assert_eq!(item.sku.as_deref(), Some(*number), "{name}");
        assert_eq!(item.active, Some(true), "{name}");
        assert_eq!(
            item.income_account_ref.map(|r| r.value),
            Some(listed.qbo_id.clone()),
            "the item {name} sells into its account"
        );
    }
    let expected_objects: usize = table.iter().map(|t| if t.4 { 2 } else { 1 }).sum();
    assert_eq!(outcome.objects.len(), expected_objects);
    account_ids
}

#[tokio::test]
async fn express_on_a_us_company_creates_exactly_the_objects_of_the_table() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let (accounts_before, items_before) = qbo.counts(&co).await;

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    assert!(
        outcome.objects.iter().all(|o| o.action == Action::Created),
        "{:#?}",
        outcome.objects
    );
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    let ids = assert_table(&qbo, &co, &outcome, &US_TABLE, true).await;
    assert_eq!(
        qbo.counts(&co).await,
        (accounts_before + 6, items_before + 4),
        "six accounts and four items, nothing else"
    );

    let refs = &outcome.refs;
    assert_eq!(refs.wages_account.value, ids["TrackTik Direct Wages"]);
    assert_eq!(
        refs.wages_liability_account.value,
        ids["TrackTik Direct Wages Liability"]
    );
    assert_eq!(
        refs.service_income_account.value,
        ids["TrackTik Service Income"]
    );
    assert_eq!(refs.tax_classes.len(), 2);
    assert_eq!(
        refs.tax_classes[&7].account.value,
        ids["TrackTik County Tax"]
    );
    assert_eq!(
        refs.tax_classes[&42].account.value,
        ids["TrackTik State Sales Tax"]
    );
    assert_eq!(
        refs.automated_tax.account.value,
        ids["TrackTik Automated Calculated Tax"]
    );
    let item: Item = qbo
        .client
        .read(&co, &refs.tax_classes[&42].item.value)
        .await
        .unwrap();
    assert_eq!(item.sku.as_deref(), Some("TT-8102"));
    assert_eq!(
        item.taxable,
        Some(false),
        "US tax lines are not taxed again"
    );
    let item: Item = qbo
        .client
        .read(&co, &refs.service_income_item.value)
        .await
        .unwrap();
    assert_eq!(item.name.as_deref(), Some("TrackTik Service Income"));
}

#[tokio::test]
async fn running_express_twice_creates_nothing_new() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let first = qbo.express(&co, &us_tax_classes()).await.unwrap();
    let after_first = qbo.counts(&co).await;

    let second = qbo.express(&co, &us_tax_classes()).await.unwrap();

    assert_eq!(qbo.counts(&co).await, after_first);
    assert!(
        second.objects.iter().all(|o| o.action == Action::Reused),
        "{:#?}",
        second.objects
    );
    assert!(second.objects.iter().all(|o| o.notes.is_empty()));
    assert_eq!(second.refs, first.refs);
    let writes = qbo
        .requests()
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["requestid"].is_string())
        .count();
    assert_eq!(writes, 10, "only the first run wrote");
}

#[tokio::test]
async fn a_run_that_fails_halfway_completes_on_the_next_run_without_duplicates() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let before = qbo.counts(&co).await;
    // The 4th write (the first item) fails on every attempt.
    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "server_error", "count": ATTEMPTS, "path_contains": "/item", "method": "POST"}),
    )
    .await;

    let err = qbo.express(&co, &us_tax_classes()).await.unwrap_err();
    match &err {
        ExpressError::Write {
            kind,
            purpose,
            name,
            verb,
            ..
        } => {
            assert_eq!(*kind, ObjectKind::Item);
            assert_eq!(*purpose, Purpose::ServiceIncome);
            assert_eq!(name, "TrackTik Service Income");
            assert_eq!(*verb, "create");
        }
        other => panic!("expected a write error, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("TrackTik Service Income") && message.contains("Run Express setup again"),
        "{message}"
    );
    assert_eq!(qbo.counts(&co).await, (before.0 + 3, before.1));

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();
    let actions: Vec<(ObjectKind, Action)> =
        outcome.objects.iter().map(|o| (o.kind, o.action)).collect();
    assert_eq!(
        actions[..4],
        [
            (ObjectKind::Account, Action::Reused),
            (ObjectKind::Account, Action::Reused),
            (ObjectKind::Account, Action::Reused),
            (ObjectKind::Item, Action::Created),
        ]
    );
    assert!(actions[4..].iter().all(|(_, a)| *a == Action::Created));
    assert_table(&qbo, &co, &outcome, &US_TABLE, true).await;
    assert_eq!(qbo.counts(&co).await, (before.0 + 6, before.1 + 4));
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_is_replayed_and_never_duplicated() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let before = qbo.counts(&co).await;
    // The first account create is committed, then its answer is lost: the client retries with
    // the same request id.
    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "drop", "count": 1, "path_contains": "/account", "method": "POST"}),
    )
    .await;
    // Every attempt of the first item create is committed-then-lost: the run fails …
    qbo.control(
        "/__sandbox/faults",
        json!({"kind": "drop", "count": ATTEMPTS, "path_contains": "/item", "method": "POST"}),
    )
    .await;
    let err = qbo.express(&co, &us_tax_classes()).await.unwrap_err();
    assert!(
        matches!(
            err,
            ExpressError::Write {
                kind: ObjectKind::Item,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(qbo.counts(&co).await, (before.0 + 3, before.1 + 1));
    let account_writes: Vec<String> = qbo
        .requests()
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap_or("").ends_with("/account"))
        .map(|r| r["requestid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(account_writes.len(), 4, "one retry: {account_writes:?}");
    assert_eq!(
        account_writes[0], account_writes[1],
        "the retry reuses the request id"
    );

    // … and the next run finds the item that was committed.
    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();
    let item = outcome
        .objects
        .iter()
        .find(|o| o.kind == ObjectKind::Item && o.purpose == Purpose::ServiceIncome)
        .unwrap();
    assert_eq!(item.action, Action::Reused);
    assert_table(&qbo, &co, &outcome, &US_TABLE, true).await;
    assert_eq!(qbo.counts(&co).await, (before.0 + 6, before.1 + 4));
}

#[tokio::test]
async fn without_account_numbers_wages_fall_back_to_payroll_expenses_and_names_are_matched() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_NO_ACCTNUM_REALM_ID).await;
    let co = company(US_NO_ACCTNUM_REALM_ID, &tokens);
    let before = qbo.counts(&co).await;

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    let mut table = US_TABLE;
    table[0].2 = "PayrollExpenses";
    assert_table(&qbo, &co, &outcome, &table, false).await;
    assert!(outcome.objects.iter().all(|o| o.action == Action::Created));
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains("Account numbers are turned off")),
        "{:?}",
        outcome.notes
    );
    let wages = &outcome.objects[0];
    assert!(
        wages.notes.iter().any(
            |n| n.contains("refused the detail type Payroll Wage Expenses")
                && n.contains("created with Payroll Expenses")
        ),
        "{:?}",
        wages.notes
    );
    assert!(
        wages
            .notes
            .iter()
            .any(|n| n.contains("account numbers are off")),
        "{:?}",
        wages.notes
    );
    let items: Vec<_> = outcome
        .objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Item)
        .collect();
    assert!(
        items.iter().all(|i| i.number.is_some()),
        "SKUs are still set"
    );
    let after_first = qbo.counts(&co).await;
    assert_eq!(after_first, (before.0 + 6, before.1 + 4));

    let again = qbo.express(&co, &us_tax_classes()).await.unwrap();
    assert_eq!(qbo.counts(&co).await, after_first, "matched by name");
    assert!(again.objects.iter().all(|o| o.action == Action::Reused));
    assert!(
        again.objects[0]
            .notes
            .iter()
            .any(|n| n.contains("Payroll Expenses rather than Payroll Wage Expenses")),
        "{:?}",
        again.objects[0].notes
    );
    assert_eq!(again.refs, outcome.refs);
}

#[tokio::test]
async fn names_taken_by_incompatible_objects_are_left_alone_and_ours_get_the_ledgerbridge_suffix() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let bank = qbo
        .client
        .create(
            &co,
            &Account {
                name: Some("TrackTik Service Income".into()),
                account_type: Some("Bank".into()),
                account_sub_type: Some("Checking".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "bank named like express"]),
        )
        .await
        .unwrap();
    let services = qbo
        .accounts(&co)
        .await
        .into_iter()
        .find(|a| a.name.as_deref() == Some("Services"))
        .unwrap();
    let other_item = qbo
        .client
        .create(
            &co,
            &Item {
                name: Some("TrackTik Automated Calculated Tax".into()),
                sku: Some("OTHER-1".into()),
                item_type: Some("NonInventory".into()),
                income_account_ref: Some(Ref::id(services.id.clone().unwrap())),
                ..Default::default()
            },
            &RequestId::derive(&["test", "item named like express"]),
        )
        .await
        .unwrap();
    let before = qbo.counts(&co).await;

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    let income = &outcome.objects[2];
    assert_eq!(income.purpose, Purpose::ServiceIncome);
    assert_eq!(income.action, Action::CreatedUnderOtherName);
    assert_eq!(income.name, "TrackTik Service Income (Ledgerbridge)");
    assert_eq!(income.number.as_deref(), Some("TT-2000"));
    assert!(
        income
            .notes
            .iter()
            .any(|n| n.contains("\"TrackTik Service Income\"") && n.contains("type Bank")),
        "{:?}",
        income.notes
    );
    let read: Account = qbo.client.read(&co, &income.qbo_id).await.unwrap();
    assert_eq!(read.account_type.as_deref(), Some("Income"));
    assert_eq!(read.account_sub_type.as_deref(), Some("ServiceFeeIncome"));
    let service_item = &outcome.objects[3];
    assert_eq!(
        service_item.name, "TrackTik Service Income",
        "items have their own names"
    );
    assert_eq!(service_item.action, Action::Created);

    let tax_item = outcome
        .objects
        .iter()
        .find(|o| o.purpose == Purpose::AutomatedTax && o.kind == ObjectKind::Item)
        .unwrap();
    assert_eq!(tax_item.action, Action::CreatedUnderOtherName);
    assert_eq!(
        tax_item.name,
        "TrackTik Automated Calculated Tax (Ledgerbridge)"
    );
    assert!(
        tax_item.notes.iter().any(|n| n.contains("SKU OTHER-1")),
        "{:?}",
        tax_item.notes
    );
    let read: Item = qbo.client.read(&co, &tax_item.qbo_id).await.unwrap();
    assert_eq!(read.sku.as_deref(), Some("TT-8000"));
    assert_eq!(
        read.income_account_ref.map(|r| r.value),
        Some(outcome.refs.automated_tax.account.value.clone())
    );

    // The customer's own objects are untouched.
    let bank_now: Account = qbo
        .client
        .read(&co, bank.id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(bank_now, bank);
    let item_now: Item = qbo
        .client
        .read(&co, other_item.id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(item_now, other_item);
    assert_eq!(qbo.counts(&co).await, (before.0 + 6, before.1 + 4));

    // A second run finds the suffixed objects and creates nothing.
    let again = qbo.express(&co, &us_tax_classes()).await.unwrap();
    assert!(again.objects.iter().all(|o| o.action == Action::Reused));
    assert_eq!(again.refs, outcome.refs);
    assert_eq!(qbo.counts(&co).await, (before.0 + 6, before.1 + 4));
}

#[tokio::test]
async fn an_account_already_carrying_an_express_number_is_reused_under_its_own_name() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let mine = qbo
        .client
        .create(
            &co,
            &Account {
                name: Some("Guard wages".into()),
                acct_num: Some("TT-3000".into()),
                account_type: Some("Expense".into()),
                account_sub_type: Some("PayrollExpenses".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "own wages"]),
        )
        .await
        .unwrap();

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    let wages = &outcome.objects[0];
    assert_eq!(wages.action, Action::Reused);
    assert_eq!(Some(wages.qbo_id.clone()), mine.id);
    assert_eq!(wages.name, "Guard wages");
    assert!(
        wages
            .notes
            .iter()
            .any(|n| n.contains("TT-3000") && n.contains("Guard wages")),
        "{:?}",
        wages.notes
    );
    assert!(
        qbo.accounts(&co)
            .await
            .iter()
            .all(|a| a.name.as_deref() != Some("TrackTik Direct Wages")),
        "no second wages account"
    );
}

#[tokio::test]
async fn inactive_express_objects_are_reactivated_not_duplicated() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let first = qbo.express(&co, &us_tax_classes()).await.unwrap();
    let counts = qbo.counts(&co).await;
    let wages: Account = qbo
        .client
        .read(&co, &first.refs.wages_account.value)
        .await
        .unwrap();
    let item: Item = qbo
        .client
        .read(&co, &first.refs.service_income_item.value)
        .await
        .unwrap();
    let off = qbo
        .client
        .update(
            &co,
            &Account {
                id: wages.id.clone(),
                sync_token: wages.sync_token.clone(),
                sparse: Some(true),
                active: Some(false),
                ..Default::default()
            },
            &RequestId::derive(&["test", "deactivate wages"]),
        )
        .await
        .unwrap();
    assert_eq!(off.name.as_deref(), Some("TrackTik Direct Wages (deleted)"));
    qbo.client
        .update(
            &co,
            &Item {
                id: item.id.clone(),
                sync_token: item.sync_token.clone(),
                sparse: Some(true),
                active: Some(false),
                ..Default::default()
            },
            &RequestId::derive(&["test", "deactivate item"]),
        )
        .await
        .unwrap();

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    assert_eq!(qbo.counts(&co).await, counts);
    assert_eq!(
        outcome.refs.wages_account.value,
        first.refs.wages_account.value
    );
    assert_eq!(
        outcome.refs.service_income_item.value,
        first.refs.service_income_item.value
    );
    let reactivated: Vec<_> = outcome.with_action(Action::Reactivated).collect();
    assert_eq!(reactivated.len(), 2, "{:#?}", outcome.objects);
    assert!(
        reactivated
            .iter()
            .all(|o| o.notes.iter().any(|n| n.contains("made active again")))
    );
    assert_table(&qbo, &co, &outcome, &US_TABLE, true).await;
}

#[tokio::test]
async fn express_works_on_a_canadian_company_and_its_items_take_gst_hst_codes() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(CA_REALM_ID).await;
    let co = company(CA_REALM_ID, &tokens);
    let before = qbo.counts(&co).await;
    let classes = [tc(3, "HST ON"), tc(1, "GST"), tc(2, "PST BC")];

    let outcome = qbo.express(&co, &classes).await.unwrap();

    assert!(outcome.objects.iter().all(|o| o.action == Action::Created));
    let table: [Expected; 7] = [
        US_TABLE[0],
        US_TABLE[1],
        US_TABLE[2],
        (
            "TrackTik GST",
            "Other Current Liability",
            "OtherCurrentLiabilities",
            "TT-8101",
            true,
        ),
        (
            "TrackTik PST BC",
            "Other Current Liability",
            "OtherCurrentLiabilities",
            "TT-8102",
            true,
        ),
        (
            "TrackTik HST ON",
            "Other Current Liability",
            "OtherCurrentLiabilities",
            "TT-8103",
            true,
        ),
        US_TABLE[5],
    ];
    assert_table(&qbo, &co, &outcome, &table, true).await;
    assert_eq!(qbo.counts(&co).await, (before.0 + 7, before.1 + 5));
    for o in outcome
        .objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Account)
    {
        let a: Account = qbo.client.read(&co, &o.qbo_id).await.unwrap();
        assert_eq!(a.currency_ref.map(|r| r.value).as_deref(), Some("CAD"));
    }

    // The items are usable on a Canadian invoice: service income plus a tax-class line, each
    // with a GST/HST code.
    let codes: Vec<TaxCode> = qbo
        .client
        .query(&co, "select * from TaxCode")
        .await
        .unwrap();
    let hst = codes
        .iter()
        .find(|c| c.name.as_deref() == Some("HST ON"))
        .unwrap();
    let exempt = codes
        .iter()
        .find(|c| c.name.as_deref() == Some("Exempt"))
        .unwrap();
    let customers: Vec<Customer> = qbo
        .client
        .query(&co, "select * from Customer")
        .await
        .unwrap();
    let customer = customers
        .iter()
        .find(|c| c.currency_ref.as_ref().is_some_and(|r| r.value == "CAD"))
        .unwrap();
    let line = |item: &Ref, amount: &str, code: &TaxCode| {
        Line::sales(
            Decimal::from_str(amount).unwrap(),
            SalesItemLineDetail {
                item_ref: Some(item.clone()),
                tax_code_ref: Some(Ref::id(code.id.clone().unwrap())),
                ..Default::default()
            },
        )
    };
    let invoice = Invoice {
        customer_ref: Some(Ref::id(customer.id.clone().unwrap())),
        currency_ref: Some(Ref::id("CAD")),
        global_tax_calculation: Some("TaxExcluded".into()),
        line: vec![
            line(&outcome.refs.service_income_item, "100.00", hst),
            line(&outcome.refs.tax_classes[&3].item, "13.00", exempt),
        ],
        ..Default::default()
    };
    let saved = qbo
        .client
        .create(
            &co,
            &invoice,
            &RequestId::derive(&["test", "ca express invoice"]),
        )
        .await
        .unwrap();
    assert_eq!(saved.total_amt, Some(Decimal::from_str("126.00").unwrap()));
}

#[tokio::test]
async fn the_same_tax_classes_in_another_order_get_the_same_numbers() {
    let qbo = Qbo::start().await;
    let forward = [tc(5, "Alpha"), tc(9, "Bravo"), tc(12, "Charlie")];
    let shuffled = [tc(12, "Charlie"), tc(5, "Alpha"), tc(9, "Bravo")];
    let summary = |o: &ExpressOutcome| -> Vec<(Purpose, ObjectKind, String, Option<String>)> {
        o.objects
            .iter()
            .map(|o| (o.purpose, o.kind, o.name.clone(), o.number.clone()))
            .collect()
    };

    let realm_a = qbo.new_company("us").await;
    let tokens_a = qbo.connect(&realm_a).await;
    let a = qbo
        .express(&company(&realm_a, &tokens_a), &forward)
        .await
        .unwrap();
    let realm_b = qbo.new_company("us").await;
    let tokens_b = qbo.connect(&realm_b).await;
    let co_b = company(&realm_b, &tokens_b);
    let b = qbo.express(&co_b, &shuffled).await.unwrap();

    assert_eq!(summary(&a), summary(&b));
    let numbers: BTreeMap<i64, String> = a
        .objects
        .iter()
        .filter_map(|o| match o.purpose {
            Purpose::TaxClass { id } if o.kind == ObjectKind::Account => {
                Some((id, o.number.clone().unwrap()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        numbers,
        BTreeMap::from([
            (5, "TT-8101".to_owned()),
            (9, "TT-8102".to_owned()),
            (12, "TT-8103".to_owned())
        ])
    );

    // Re-running with yet another order reuses everything.
    let counts = qbo.counts(&co_b).await;
    let again = qbo
        .express(&co_b, &[tc(9, "Bravo"), tc(12, "Charlie"), tc(5, "Alpha")])
        .await
        .unwrap();
    assert!(again.objects.iter().all(|o| o.action == Action::Reused));
    assert_eq!(again.refs, b.refs);
    assert_eq!(qbo.counts(&co_b).await, counts);
}

#[tokio::test]
async fn an_expired_connection_is_reported_in_words_the_customer_can_act_on() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    qbo.control("/__sandbox/tokens/expire", json!({"realm_id": US_REALM_ID}))
        .await;

    let err = qbo.express(&co, &us_tax_classes()).await.unwrap_err();

    assert!(matches!(err, ExpressError::Company(_)), "{err:?}");
    assert!(err.to_string().contains("reconnect QuickBooks"), "{err}");
}

/// The request ids of Express's writes, in order.
async fn express_request_ids(qbo: &Qbo) -> Vec<String> {
    qbo.requests()
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().is_some_and(|p| p.contains("/v3/")))
        .filter_map(|r| r["requestid"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_same_objects_are_always_written_with_the_same_request_ids() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    qbo.express(&co, &us_tax_classes()).await.unwrap();
    let first = express_request_ids(&qbo).await;
    assert_eq!(first.len(), 10);
    // A crash that lost every answer looks, to the next run, like a company without the objects.
    qbo.control(
        &format!("/__sandbox/companies/{US_REALM_ID}/reset"),
        json!({}),
    )
    .await;
    let reqs = qbo
        .control
        .delete(format!("{}/__sandbox/requests", qbo.sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert!(reqs.status().is_success());

    qbo.express(&co, &us_tax_classes()).await.unwrap();

    assert_eq!(express_request_ids(&qbo).await, first);
}

#[tokio::test]
async fn a_replayed_answer_naming_an_object_changed_since_is_not_taken_for_a_new_one() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let first = qbo.express(&co, &us_tax_classes()).await.unwrap();
    let wages: Account = qbo
        .client
        .read(&co, &first.refs.wages_account.value)
        .await
        .unwrap();
    // The customer turns our wages account into something else.
    let changed = qbo
        .client
        .update(
            &co,
            &Account {
                id: wages.id.clone(),
                sync_token: wages.sync_token.clone(),
                sparse: Some(true),
                name: Some("Old wages".into()),
                acct_num: Some("6999".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "rename wages"]),
        )
        .await
        .unwrap();

    // The same create is sent again; QBO replays its first answer, which names that account.
    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    let new_wages = &outcome.objects[0];
    assert_eq!(new_wages.action, Action::Created);
    assert_ne!(Some(new_wages.qbo_id.clone()), wages.id);
    let read: Account = qbo.client.read(&co, &new_wages.qbo_id).await.unwrap();
    assert_eq!(read.name.as_deref(), Some("TrackTik Direct Wages"));
    assert_eq!(read.acct_num.as_deref(), Some("TT-3000"));
    let old: Account = qbo
        .client
        .read(&co, wages.id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(old, changed, "the customer's account is untouched");
}

#[tokio::test]
async fn two_runs_at_once_still_create_each_object_only_once() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let before = qbo.counts(&co).await;
    let classes = us_tax_classes();

    let (a, b) = tokio::join!(qbo.express(&co, &classes), qbo.express(&co, &classes));

    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.refs, b.refs, "both runs ended up with the same objects");
    assert_eq!(qbo.counts(&co).await, (before.0 + 6, before.1 + 4));
    assert_table(&qbo, &co, &a, &US_TABLE, true).await;
}
