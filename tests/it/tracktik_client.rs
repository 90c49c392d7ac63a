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

#[tokio::test]
async fn the_authorization_code_flow_with_pkce_yields_tokens_that_read_the_api() {
    let sandbox = Sandbox::start().await;
    let start = sandbox
        .client
        .authorize_url(&sandbox.portal, &sandbox.app(), &[])
        .unwrap();
    let callback = consent(&sandbox, &start.url).await;
    assert!(callback.as_str().starts_with(REDIRECT), "{callback}");
    let query: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    assert_eq!(param(&query, "state"), Some(start.state.as_str()));
    let code = param(&query, "code").expect("a code on the callback");

    let tokens = sandbox
        .client
        .exchange_code(
            &sandbox.portal,
            &sandbox.app(),
            code,
            Some(&start.pkce_verifier),
        )
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_some());
    assert!(tokens.expires_at > Utc::now() + TimeDelta::minutes(50));
    assert!(!tokens.expires_within(TimeDelta::minutes(5)));
    let regions = sandbox
        .client
        .regions(&sandbox.portal, &tokens.access_token)
        .await
        .unwrap();
    assert!(!regions.is_empty());

    let again = sandbox
        .client
        .exchange_code(
            &sandbox.portal,
            &sandbox.app(),
            code,
            Some(&start.pkce_verifier),
        )
        .await
        .unwrap_err();
    assert!(
        again.needs_reauthorization(),
        "a used code must be refused: {again:?}"
    );
}

#[tokio::test]
async fn a_code_exchange_with_the_wrong_pkce_verifier_is_refused() {
    let sandbox = Sandbox::start().await;
    let start = sandbox
        .client
        .authorize_url(&sandbox.portal, &sandbox.app(), &[])
        .unwrap();
    let callback = consent(&sandbox, &start.url).await;
    let query: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    let code = param(&query, "code").unwrap();
    let wrong = SecretString::from("x".repeat(64));
    let error = sandbox
        .client
        .exchange_code(&sandbox.portal, &sandbox.app(), code, Some(&wrong))
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_a_spent_one_is_refused() {
    let sandbox = Sandbox::start().await;
    let first = sandbox.tokens().await;
    let spent = first
        .refresh_token
        .clone()
        .expect("the password grant returns a refresh token");

    let second = sandbox
        .client
        .refresh(&sandbox.portal, &sandbox.app(), &spent)
        .await
        .unwrap();
    let next = second
        .refresh_token
        .clone()
        .expect("a rotated refresh token");
    assert_ne!(
        next.secret(),
        spent.secret(),
        "the refresh token must rotate"
    );
    assert_ne!(second.access_token.secret(), first.access_token.secret());
    sandbox
        .client
        .regions(&sandbox.portal, &second.access_token)
        .await
        .unwrap();

    let reuse = sandbox
        .client
        .refresh(&sandbox.portal, &sandbox.app(), &spent)
        .await
        .unwrap_err();
    assert!(
        matches!(reuse, TrackTikError::ReauthorizationRequired { .. }),
        "reusing a spent refresh token: {reuse:?}"
    );
    assert!(!format!("{reuse} {reuse:?}").contains(spent.secret()));
}

#[tokio::test]
async fn a_revoked_or_unknown_refresh_token_requires_reauthorization() {
    let sandbox = Sandbox::start().await;
    let tokens = sandbox.tokens().await;
    sandbox
        .control(
            reqwest::Method::POST,
            "tokens/revoke",
            json!({"refreshTokens": true}),
        )
        .await;
    let error = sandbox
        .client
        .refresh(
            &sandbox.portal,
            &sandbox.app(),
            tokens.refresh_token.as_ref().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");

    let unknown = RefreshToken::new("def50200not-a-real-token");
    let error = sandbox
        .client
        .refresh(&sandbox.portal, &sandbox.app(), &unknown)
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");
}

#[tokio::test]
async fn the_password_grant_works_and_bad_credentials_are_told_apart() {
    let sandbox = Sandbox::start().await;
    let tokens = sandbox.tokens().await;
    assert!(!tokens.access_token.secret().is_empty());

    let wrong_password = SecretString::from("not-the-password".to_owned());
    let error = sandbox
        .client
        .password_grant(
            &sandbox.portal,
            &sandbox.app(),
            DEMO_USERNAME,
            &wrong_password,
        )
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");

    let mut app = sandbox.app();
    app.client_secret = SecretString::from("wrong-secret".to_owned());
    let right_password = SecretString::from(DEMO_PASSWORD.to_owned());
    let error = sandbox
        .client
        .password_grant(&sandbox.portal, &app, DEMO_USERNAME, &right_password)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, TrackTikError::OAuth { code, .. } if code == "invalid_client"),
        "{error:?}"
    );
    assert!(!format!("{error:?}").contains("wrong-secret"));
}

#[tokio::test]
async fn every_collection_is_listed_and_relations_resolve() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let (client, portal) = (&sandbox.client, &sandbox.portal);

    let reference = client.reference_data(portal, &token).await.unwrap();
    assert!(!reference.regions.is_empty());
    assert!(
        reference.regions.iter().all(|r| r.time_zone.is_some()),
        "timeZone was included"
    );
    assert!(!reference.back_office_settings.is_empty());
    assert!(
        reference
            .back_office_settings
            .iter()
            .all(|s| s.billing_base_currency.is_some())
    );
    assert!(!reference.clients.is_empty());
    assert!(!reference.bill_items.is_empty());
    assert!(!reference.tax_classes.is_empty());
    assert!(!reference.tax_class_items.is_empty());
    assert!(!reference.payroll_codes.is_empty());
    assert!(!reference.employees.is_empty());

    let invoices = client
        .approved_invoices_between(portal, &token, sandbox.everything())
        .await
        .unwrap();
    assert!(!invoices.is_empty(), "the seed has approved invoices");
    assert!(
        invoices
            .iter()
            .all(|i| i.status == InvoiceStatus::Approved && i.approved_on.is_some())
    );
    let client_ids: Vec<i64> = reference.clients.iter().map(|c| c.id).collect();
    assert!(
        invoices
            .iter()
            .all(|i| client_ids.contains(&i.client.as_ref().unwrap().id()))
    );

    let with_lines = client
        .invoice_with_lines(portal, &token, invoices[0].id)
        .await
        .unwrap();
    let lines = with_lines.lines.expect("lines were included");
    assert!(!lines.is_empty());
    let invoice_ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    let detailed = client
        .invoices_with_lines(portal, &token, &invoice_ids)
        .await
        .unwrap();
    assert_eq!(detailed.len(), invoices.len());
    assert!(
        detailed
            .iter()
            .all(|i| i.lines.as_ref().is_some_and(|l| !l.is_empty()))
    );
    let taxes = client
        .line_taxes_for_invoices(portal, &token, &invoice_ids)
        .await
        .unwrap();
    assert!(!taxes.is_empty());
    let line_ids: Vec<i64> = lines.iter().map(|l| l.id).collect();
    let line_taxes = client
        .line_taxes_for_lines(portal, &token, &line_ids)
        .await
        .unwrap();
    assert!(
        line_taxes
            .iter()
            .all(|t| line_ids.contains(&t.invoice_line_id().unwrap()))
    );
    let billables = client
        .billable_items_for_invoices(portal, &token, &invoice_ids)
        .await
        .unwrap();
    assert!(!billables.is_empty());
    assert!(
        billables
            .iter()
            .all(|b| b.bill_item.as_ref().is_some_and(|r| r.object().is_some()))
    );

    let payruns = client
        .approved_payruns_between(portal, &token, sandbox.everything())
        .await
        .unwrap();
    assert!(!payruns.is_empty(), "the seed has approved pay runs");
    assert!(payruns.iter().all(|p| p.approved_on.is_some()));
    let items = client
        .payrun_items(portal, &token, payruns[0].id)
        .await
        .unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i.payrun.id() == payruns[0].id));
    assert!(
        items
            .iter()
            .all(|i| i.employee.as_ref().is_some_and(|e| e.object().is_some()))
    );
}

#[tokio::test]
async fn an_invoice_approved_outside_the_window_is_not_returned() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let all = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, sandbox.everything())
        .await
        .unwrap();
    let first = all
        .iter()
        .filter_map(|i| i.approved_on)
        .min()
        .unwrap()
        .to_utc();
    let narrow = Window::new(first, first + TimeDelta::seconds(1)).unwrap();
    let found = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, narrow)
        .await
        .unwrap();
    assert!(!found.is_empty());
    assert!(found.len() < all.len());
    assert!(
        found
            .iter()
            .all(|i| i.approved_on.unwrap().to_utc() == first)
    );
    let before = Window::new(first - TimeDelta::hours(1), first).unwrap();
    let none = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, before)
        .await
        .unwrap();
    assert!(none.is_empty(), "the window's end is exclusive");
}

/// Creates an approved pay run with `n` items through the control API; returns its id.
async fn payrun_with_items(sandbox: &Sandbox, token: &AccessToken, n: usize) -> i64 {
    let employees = sandbox
        .client
        .employees(&sandbox.portal, token)
        .await
        .unwrap();
    let regions = sandbox
        .client
        .regions(&sandbox.portal, token)
        .await
        .unwrap();
    let items: Vec<Value> = (0..n)
        .map(|i| {
            json!({"employee": employees[i % employees.len()].id, "code": "REG",
                   "quantity": "8", "rate": format!("{}.25", 15 + i % 10)})
        })
        .collect();
    let created = sandbox
        .control(
            reqwest::Method::POST,
            "payruns",
            json!({"region": regions[0].id, "occurrenceDate": "2024-06-15", "items": items, "approve": true}),
        )
        .await;
    created["data"]["id"]
        .as_i64()
        .expect("the new pay run's id")
}

#[tokio::test]
async fn paging_reads_more_than_a_thousand_rows_to_the_end() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let payrun = payrun_with_items(&sandbox, &token, 1234).await;
    sandbox.clear_log().await;

    let items = sandbox
        .client
        .payrun_items(&sandbox.portal, &token, payrun)
        .await
        .unwrap();
    assert_eq!(items.len(), 1234);
    let mut ids: Vec<i64> = items.iter().map(Record::id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 1234, "no duplicates");

    let pages = sandbox.logged("payroll-payrun-items").await;
    let keys: Vec<(Option<&str>, Option<&str>, Option<&str>)> = pages
        .iter()
        .map(|(_, q)| (param(q, "limit"), param(q, "id:gt"), param(q, "offset")))
        .collect();
    let after = ids[999].to_string();
    assert_eq!(
        keys,
        vec![
            (Some("1000"), None, None),
            (Some("1000"), Some(after.as_str()), None)
        ]
    );
}

#[tokio::test]
async fn a_smaller_page_size_reads_the_same_rows_in_more_pages() {
    let sandbox = Sandbox::start_with(ClientConfig {
        page_size: 400,
        ..Default::default()
    })
    .await;
    let token = sandbox.token().await;
    let payrun = payrun_with_items(&sandbox, &token, 1000).await;
    sandbox.clear_log().await;
    let items = sandbox
        .client
        .payrun_items(&sandbox.portal, &token, payrun)
        .await
        .unwrap();
    assert_eq!(items.len(), 1000);
    let pages = sandbox.logged("payroll-payrun-items").await;
    let after: Vec<Option<&str>> = pages.iter().map(|(_, q)| param(q, "id:gt")).collect();
    let (i399, i799) = (
        Record::id(&items[399]).to_string(),
        Record::id(&items[799]).to_string(),
    );
    assert_eq!(after, vec![None, Some(i399.as_str()), Some(i799.as_str())]);
}

#[tokio::test]
async fn a_429_is_retried_until_the_call_succeeds() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    sandbox.clear_log().await;
    sandbox.fault(429, 2, "/regions").await;
    let regions = sandbox
        .client
        .regions(&sandbox.portal, &token)
        .await
        .unwrap();
    assert!(!regions.is_empty());
    let statuses: Vec<u16> = sandbox
        .logged("/regions")
        .await
        .iter()
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(statuses, vec![429, 429, 200]);
}

#[tokio::test]
async fn a_500_is_retried_until_the_call_succeeds() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    sandbox.clear_log().await;
    sandbox.fault(500, 1, "/bill-items").await;
    let bill_items = sandbox
        .client
        .bill_items(&sandbox.portal, &token)
        .await
        .unwrap();
    assert!(!bill_items.is_empty());
    let statuses: Vec<u16> = sandbox
        .logged("/bill-items")
        .await
        .iter()
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(statuses, vec![500, 200]);
}

#[tokio::test]
async fn rate_limiting_that_outlasts_the_retries_is_reported_as_rate_limited() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    sandbox.fault(429, 50, "/regions").await;
    let error = sandbox
        .client
        .regions(&sandbox.portal, &token)
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackTikError::RateLimited { attempts, .. } if attempts == RetryPolicy::fast().max_attempts),
        "{error:?}"
    );
    sandbox.fault(503, 50, "/employees").await;
    let error = sandbox
        .client
        .employees(&sandbox.portal, &token)
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackTikError::Server { status: 503, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_504_narrows_the_window_and_every_row_is_still_returned() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let expected = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, sandbox.everything())
        .await
        .unwrap();
    assert!(expected.len() > 3);
    sandbox.clear_log().await;

    // The whole window, then its first half, then that half's first half time out.
    sandbox.fault(504, 3, "/invoices").await;
    let found = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, sandbox.everything())
        .await
        .unwrap();
    let ids = |v: &[Invoice]| v.iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(&found), ids(&expected));

    let log = sandbox.logged("/invoices").await;
    let timed_out = log.iter().filter(|(s, _)| *s == 504).count();
    assert_eq!(timed_out, 3);
    let windows: Vec<&str> = log
        .iter()
        .map(|(_, q)| param(q, "approvedOn:between").unwrap())
        .collect();
    // Three 504s along the left edge, then the four windows they left behind: 2·3 + 1.
    assert_eq!(windows.len(), 7, "{windows:?}");
    let spans: Vec<i64> = windows
        .iter()
        .map(|w| {
            let (from, to) = w.split_once('|').unwrap();
            let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
            (parse(to) - parse(from)).num_seconds() + 1
        })
        .collect();
    assert_eq!(
        spans.iter().skip(3).sum::<i64>(),
        spans[0],
        "the successful windows tile the original one"
    );
    assert!(
        spans[1] * 2 == spans[0] && spans[2] * 2 == spans[1],
        "each 504 halved the window: {spans:?}"
    );
    assert!(
        windows.windows(2).all(|w| w[0] != w[1] || w[0].is_empty()),
        "each retry used a new window"
    );
}

#[tokio::test]
async fn a_504_on_the_smallest_window_is_reported_as_a_gateway_timeout() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let now = Utc::now();
    let small = Window::new(now - TimeDelta::seconds(90), now).unwrap();
    sandbox.fault(504, 50, "/payroll-payruns").await;
    let error = sandbox
        .client
        .approved_payruns_between(&sandbox.portal, &token, small)
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackTikError::Timeout { gateway: true, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_expired_access_token_is_reported_as_unauthorized_and_a_refresh_fixes_it() {
    let sandbox = Sandbox::start().await;
    let tokens = sandbox.tokens().await;
    sandbox
        .control(reqwest::Method::POST, "tokens/expire", Value::Null)
        .await;
    let error = sandbox
        .client
        .regions(&sandbox.portal, &tokens.access_token)
        .await
        .unwrap_err();
    assert!(error.is_unauthorized(), "{error:?}");
    assert!(!format!("{error} {error:?}").contains(tokens.access_token.secret()));

    let fresh = sandbox
        .client
        .refresh(
            &sandbox.portal,
            &sandbox.app(),
            tokens.refresh_token.as_ref().unwrap(),
        )
        .await
        .unwrap();
    sandbox
        .client
        .regions(&sandbox.portal, &fresh.access_token)
        .await
        .unwrap();
}

#[tokio::test]
async fn tracktik_errors_map_to_bad_request_and_not_found() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let error = sandbox
        .client
        .list::<Region>(&sandbox.portal, &token, &Query::new().eq("noSuchField", 1))
        .await
        .unwrap_err();
    match error {
        TrackTikError::BadRequest {
            status: 400,
            message,
            ..
        } => {
            assert!(message.contains("noSuchField"), "{message}")
        }
        other => panic!("expected BadRequest, got {other:?}"),
    }
    let error = sandbox
        .client
        .get::<Invoice>(&sandbox.portal, &token, 987_654_321, &Query::new())
        .await;
    assert!(
        matches!(error, Err(TrackTikError::NotFound { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn long_id_lists_are_sent_in_batches_of_at_most_one_hundred() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let invoices = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, sandbox.everything())
        .await
        .unwrap();
    let real: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    let expected = sandbox
        .client
        .billable_items_for_invoices(&sandbox.portal, &token, &real)
        .await
        .unwrap();
    let mut ids: Vec<i64> = (1..=230).map(|n| 900_000_000 + n).collect();
    ids.extend(&real);
    sandbox.clear_log().await;
    let found = sandbox
        .client
        .billable_items_for_invoices(&sandbox.portal, &token, &ids)
        .await
        .unwrap();
    assert_eq!(found.len(), expected.len());
    let batches = sandbox.logged("/billable-items").await;
    assert!(batches.len() >= 3);
    assert!(
        batches
            .iter()
            .all(|(_, q)| param(q, "invoice:in").unwrap().split(',').count() <= 100)
    );
}

#[tokio::test]
async fn a_request_that_times_out_on_our_side_is_retried() {
    let config = ClientConfig {
        request_timeout: Duration::from_millis(300),
        ..Sandbox::test_config()
    };
    let sandbox = Sandbox::start_with(config).await;
    let token = sandbox.token().await;
    sandbox.clear_log().await;
    sandbox
        .control(
            reqwest::Method::POST,
            "faults",
            json!({"status": 500, "count": 1, "pathContains": "/tax-classes", "delayMs": 1500}),
        )
        .await;
    let started = std::time::Instant::now();
    let classes = sandbox
        .client
        .tax_classes(&sandbox.portal, &token)
        .await
        .unwrap();
    assert!(!classes.is_empty());
    assert!(
        classes.iter().all(|c| c.items.is_some()),
        "items were included"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "did not wait for the slow answer"
    );
}

#[tokio::test]
async fn invoice_money_read_from_the_portal_adds_up_to_the_cent() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let (client, portal) = (&sandbox.client, &sandbox.portal);
    let invoices = client
        .approved_invoices_with_lines_between(portal, &token, sandbox.everything())
        .await
        .unwrap();
    assert!(!invoices.is_empty());
    let ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    let taxes = client
        .line_taxes_for_invoices(portal, &token, &ids)
        .await
        .unwrap();
    for invoice in &invoices {
        let lines = invoice
            .lines
            .as_ref()
            .expect("lines were included on the collection");
        assert!(!lines.is_empty());
        let sub_total: Decimal = lines.iter().map(|l| l.line_sub_total.unwrap()).sum();
        assert_eq!(Some(sub_total), invoice.sub_total, "invoice {}", invoice.id);
        let line_ids: Vec<i64> = lines.iter().map(|l| l.id).collect();
        let tax_total: Decimal = taxes
            .iter()
            .filter(|t| line_ids.contains(&t.invoice_line_id().unwrap()))
            .map(|t| t.amount)
            .sum();
        assert_eq!(Some(tax_total), invoice.tax_total, "invoice {}", invoice.id);
        assert_eq!(
            invoice.total,
            Some(sub_total + tax_total),
            "invoice {}",
            invoice.id
        );
    }
}
