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

mod auth;
mod entities;
mod faults;
mod traffic;
