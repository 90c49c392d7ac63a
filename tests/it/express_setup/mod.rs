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

mod existing;
mod failures;
mod fresh;
