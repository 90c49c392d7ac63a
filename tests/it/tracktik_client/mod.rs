//! The TrackTik client against the in-process TrackTik sandbox (port 0): OAuth grants, every
//! collection, paging past 1,000 rows, and each injected fault.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use ledgerbridge::providers::tracktik::{
    AccessToken, ClientConfig, Invoice, InvoiceStatus, OAuthApp, Portal, Query, Record,
    RefreshToken, Region, RetryPolicy, TrackTikClient, TrackTikError, Window,
};
use ledgerbridge::sandbox::tracktik::{
    self, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, DEMO_USERNAME, Options, Running,
    SeedConfig,
};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};

const REDIRECT: &str = "http://127.0.0.1:4999/oauth/tracktik/callback";

struct Sandbox {
    running: Running,
    portal: Portal,
    client: TrackTikClient,
    control: reqwest::Client,
}

impl Sandbox {
    async fn start() -> Sandbox {
        Self::start_with(Self::test_config()).await
    }

    /// Fast retries, a one-minute smallest window.
    fn test_config() -> ClientConfig {
        ClientConfig {
            retry: RetryPolicy::fast(),
            min_window: Duration::from_secs(60),
            request_timeout: Duration::from_secs(20),
            ..ClientConfig::default()
        }
    }

    async fn start_with(config: ClientConfig) -> Sandbox {
        let running = tracktik::start(Options {
            seed: SeedConfig::small(),
            ..Default::default()
        })
        .await
        .expect("the sandbox starts");
        let portal = Portal::new(running.base_url()).expect("the sandbox URL is a portal URL");
        let client = TrackTikClient::new(config).expect("the client builds");
        let control = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap();
        Sandbox {
            running,
            portal,
            client,
            control,
        }
    }

    fn app(&self) -> OAuthApp {
        OAuthApp {
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: SecretString::from(DEMO_CLIENT_SECRET.to_owned()),
            redirect_uri: Some(REDIRECT.into()),
        }
    }

    async fn token(&self) -> AccessToken {
        self.tokens().await.access_token
    }

    async fn tokens(&self) -> ledgerbridge::providers::tracktik::TokenSet {
        let password = SecretString::from(DEMO_PASSWORD.to_owned());
        self.client
            .password_grant(&self.portal, &self.app(), DEMO_USERNAME, &password)
            .await
            .expect("the password grant succeeds")
    }

    /// Calls the sandbox control API and returns its JSON answer.
    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = format!("{}/__sandbox/{path}", self.running.base_url());
        let response = self
            .control
            .request(method, url)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "control {path}: {status} {value}");
        value
    }

    async fn fault(&self, status: u16, count: u32, path_contains: &str) {
        self.control(
            reqwest::Method::POST,
            "faults",
            json!({"status": status, "count": count, "pathContains": path_contains}),
        )
        .await;
    }

    async fn clear_log(&self) {
        self.control(reqwest::Method::DELETE, "requests", Value::Null)
            .await;
    }

    /// `(status, decoded query pairs)` of every logged request whose path contains `path`.
    async fn logged(&self, path: &str) -> Vec<(u16, Vec<(String, String)>)> {
        let log = self
            .control(reqwest::Method::GET, "requests", Value::Null)
            .await;
        log["requests"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["path"].as_str().unwrap().contains(path))
            .map(|r| {
                let query = r["query"].as_str().unwrap_or("");
                (
                    r["status"].as_u64().unwrap() as u16,
                    serde_urlencoded::from_str(query).unwrap(),
                )
            })
            .collect()
    }

    /// A window that holds all seeded approvals.
    fn everything(&self) -> Window {
        let now = Utc::now();
        Window::new(now - TimeDelta::days(120), now + TimeDelta::days(2)).unwrap()
    }
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Drives the sandbox's sign-in and Allow pages like a browser; returns the callback URL.
async fn consent(sandbox: &Sandbox, authorize_url: &reqwest::Url) -> reqwest::Url {
    let browser = &sandbox.control;
    let form = browser.get(authorize_url.clone()).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let mut fields: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
    fields.push(("username".into(), DEMO_USERNAME.into()));
    fields.push(("password".into(), DEMO_PASSWORD.into()));
    let signin_url = format!("{}/rest/oauth2/authorize", sandbox.running.base_url());
    let allow = browser.post(signin_url).form(&fields).send().await.unwrap();
    assert_eq!(allow.status(), StatusCode::OK);
    let ticket = hidden(&allow.text().await.unwrap(), "ticket");
    let decision_url = format!(
        "{}/rest/oauth2/authorize/decision",
        sandbox.running.base_url()
    );
    let done = browser
        .post(decision_url)
        .form(&[("ticket", ticket.as_str()), ("decision", "allow")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::FOUND);
    reqwest::Url::parse(done.headers()["location"].to_str().unwrap()).unwrap()
}

mod collections;
mod faults;
mod oauth;
