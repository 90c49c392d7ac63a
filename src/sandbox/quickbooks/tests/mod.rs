//! End-to-end tests of the QuickBooks sandbox over real HTTP (reqwest against `start`).

mod accounts;
mod api_basics;
mod app_pages;
mod batch;
mod canada;
mod duplicates;
mod idempotency;
mod limits_and_faults;
mod oauth;
mod oauth_clients;
mod openid;
mod perf;
mod query;
mod state_and_pages;
mod validation;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Options, Running, start};

pub use super::{CA_REALM_ID, US_NO_ACCTNUM_REALM_ID, US_REALM_ID};

/// Redirect URI the tests use with the demo client.
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// A running sandbox plus an HTTP client.
pub struct Sb {
    pub running: Running,
    pub http: reqwest::Client,
}

impl Sb {
    /// Starts a sandbox with `Options::default()`, then switches rate limits off through the
    /// control API (most tests make more than 10 calls a second).
    pub async fn start() -> Sb {
        let sb = Self::start_with(Options::default()).await;
        sb.control("rate-limits", json!({"enforce": false})).await;
        sb
    }

    /// Starts a sandbox with `Options::default()` as is (rate limits on).
    pub async fn strict() -> Sb {
        Self::start_with(Options::default()).await
    }

    /// Starts with the given options.
    pub async fn start_with(options: Options) -> Sb {
        let running = start(options).await.expect("sandbox starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Sb { running, http }
    }

    /// Absolute URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    /// POST JSON to the control API.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.url(&format!("/__sandbox/{path}")))
            .json(&body)
            .send()
            .await
            .expect("control call");
        assert!(r.status().is_success(), "control {path}: {}", r.status());
        r.json().await.expect("control json")
    }

    /// GET from the control API.
    pub async fn control_get(&self, path: &str) -> Value {
        self.http
            .get(self.url(&format!("/__sandbox/{path}")))
            .send()
            .await
            .expect("control call")
            .json()
            .await
            .expect("control json")
    }

    /// A code for `realm` through the control shortcut.
    pub async fn code(&self, realm: &str) -> String {
        let v = self
            .control(
                "oauth/code",
                json!({"client_id": DEMO_CLIENT_ID, "redirect_uri": REDIRECT, "realm_id": realm}),
            )
            .await;
        v["code"].as_str().expect("code").to_string()
    }

    /// Calls the token endpoint with the demo client's Basic auth.
    pub async fn token_call(&self, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url("/oauth2/v1/tokens/bearer"))
            .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("token call");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Connects to `realm`: returns the token JSON.
    pub async fn connect(&self, realm: &str) -> Value {
        let code = self.code(realm).await;
        let (status, body) = self
            .token_call(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ])
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// An access token for `realm`.
    pub async fn token(&self, realm: &str) -> String {
        self.connect(realm).await["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// A client bound to one realm.
    pub async fn api(&self, realm: &str) -> Api<'_> {
        Api {
            sb: self,
            realm: realm.to_string(),
            token: self.token(realm).await,
        }
    }

    /// A fresh company of a flavour (`us`, `ca`, `us_no_acctnum`) and a client for it.
    pub async fn fresh(&self, flavour: &str) -> Api<'_> {
        let c = self.control("companies", json!({"flavour": flavour})).await;
        let realm = c["realmId"].as_str().expect("realmId").to_string();
        self.api(&realm).await
    }
}

/// Calls on one realm with one token.
pub struct Api<'a> {
    pub sb: &'a Sb,
    pub realm: String,
    pub token: String,
}

/// A response: status, headers and body.
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The first fault error's `code`.
    pub fn code(&self) -> String {
        self.json()["Fault"]["Error"][0]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The first fault error's `element`.
    pub fn element(&self) -> String {
        self.json()["Fault"]["Error"][0]["element"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The first fault error's `Detail`.
    pub fn detail(&self) -> String {
        self.json()["Fault"]["Error"][0]["Detail"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Api<'_> {
    fn url(&self, path: &str) -> String {
        self.sb.url(&format!("/v3/company/{}/{path}", self.realm))
    }

    async fn finish(r: reqwest::RequestBuilder) -> Resp {
        let r = r.send().await.expect("api call");
        Resp {
            status: r.status(),
            headers: r.headers().clone(),
            text: r.text().await.expect("body"),
        }
    }

    /// `GET {path}` (path may carry a query string).
    pub async fn get(&self, path: &str) -> Resp {
        Self::finish(
            self.sb
                .http
                .get(self.url(path))
                .bearer_auth(&self.token)
                .header("Accept", "application/json"),
        )
        .await
    }

    /// `POST {path}` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        Self::finish(
            self.sb
                .http
                .post(self.url(path))
                .bearer_auth(&self.token)
                .header("Accept", "application/json")
                .json(&body),
        )
        .await
    }

    /// Creates an entity and asserts success; returns the entity object.
    pub async fn create(&self, entity: &str, body: Value) -> Value {
        let r = self.post(&format!("{entity}?minorversion=75"), body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let v = r.json();
        let key = v
            .as_object()
            .and_then(|m| m.keys().find(|k| *k != "time").cloned())
            .expect("entity key");
        v[key].clone()
    }

    /// Runs a query through `GET ?query=`.
    pub async fn query(&self, q: &str) -> Resp {
        let encoded: String =
            serde_urlencoded::to_string([("query", q), ("minorversion", "75")]).expect("encode");
        self.get(&format!("query?{encoded}")).await
    }
}

/// Ids of seeded entities, found through the query API (so tests do not hard-code them).
pub struct Ids {
    pub customer: String,
    pub vendor: String,
    pub employee: String,
    pub guard_item: String,
    pub checking: String,
    pub ap: String,
    pub ar: String,
    pub card: String,
    pub payroll_expense: String,
    pub services_income: String,
}

impl Api<'_> {
    async fn id_of(&self, entity: &str, field: &str, value: &str) -> String {
        let r = self
            .query(&format!("select * from {entity} where {field} = '{value}'"))
            .await;
        let v = r.json();
        v["QueryResponse"][entity][0]["Id"]
            .as_str()
            .unwrap_or_else(|| panic!("{entity} {value} not found: {}", r.text))
            .to_string()
    }

    /// Looks up the seeded ids.
    pub async fn ids(&self) -> Ids {
        Ids {
            customer: self
                .id_of("Customer", "DisplayName", "Northwind Mall")
                .await,
            vendor: self
                .id_of("Vendor", "DisplayName", "Allied Uniform Supply")
                .await,
            employee: self.id_of("Employee", "DisplayName", "Jordan Smith").await,
            guard_item: self.id_of("Item", "Name", "Guard Services").await,
            checking: self.id_of("Account", "Name", "Checking").await,
            ap: self
                .id_of("Account", "Name", "Accounts Payable (A/P)")
                .await,
            ar: self
                .id_of("Account", "Name", "Accounts Receivable (A/R)")
                .await,
            card: self.id_of("Account", "Name", "Visa Business Card").await,
            payroll_expense: self.id_of("Account", "Name", "Payroll Expenses").await,
            services_income: self.id_of("Account", "Name", "Services").await,
        }
    }
}

/// An amount written as text, sent as an exact JSON number.
fn money(amount: &str) -> rust_decimal::Decimal {
    amount.parse().expect("test amounts are decimals")
}

/// A US invoice with real ids.
pub fn invoice(ids: &Ids, doc: &str, amount: &str) -> Value {
    let amount = money(amount);
    json!({
        "DocNumber": doc,
        "TxnDate": "2026-11-20",
        "CustomerRef": {"value": ids.customer},
        "Line": [{
            "DetailType": "SalesItemLineDetail",
            "Amount": amount,
            "SalesItemLineDetail": {"ItemRef": {"value": ids.guard_item}}
        }]
    })
}

/// A US bill with one expense line.
pub fn bill(ids: &Ids, doc: &str, amount: &str) -> Value {
    let amount = money(amount);
    json!({
        "DocNumber": doc,
        "TxnDate": "2026-11-20",
        "VendorRef": {"value": ids.vendor},
        "APAccountRef": {"value": ids.ap},
        "Line": [{
            "DetailType": "AccountBasedExpenseLineDetail",
            "Amount": amount,
            "AccountBasedExpenseLineDetail": {"AccountRef": {"value": ids.payroll_expense}}
        }]
    })
}
