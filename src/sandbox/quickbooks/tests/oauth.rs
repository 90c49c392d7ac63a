use reqwest::StatusCode;
use serde_json::json;

use super::{CA_REALM_ID, REDIRECT, Sb, US_REALM_ID};
use crate::sandbox::quickbooks::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

pub(super) fn authorize_url(sb: &Sb, scope: &str) -> String {
    let q = serde_urlencoded::to_string([
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", scope),
        ("state", "st-123"),
    ])
    .expect("encode");
    sb.url(&format!("/connect/oauth2?{q}"))
}

pub(super) fn location(r: &reqwest::Response) -> url_parts::Parts {
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location header")
        .to_string();
    url_parts::Parts::parse(&loc)
}

/// Tiny URL splitter (no extra crate).
mod url_parts {
    use std::collections::HashMap;

    pub struct Parts {
        pub base: String,
        pub params: HashMap<String, String>,
    }

    impl Parts {
        pub fn parse(url: &str) -> Parts {
            let (base, q) = url.split_once('?').unwrap_or((url, ""));
            Parts {
                base: base.to_string(),
                params: serde_urlencoded::from_str(q).expect("query"),
            }
        }
    }
}

async fn submit(sb: &Sb, decision: &str, realm: &str) -> reqwest::Response {
    sb.http
        .post(sb.url("/connect/oauth2"))
        .form(&[
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("state", "st-123"),
            ("realm_id", realm),
            ("decision", decision),
        ])
        .send()
        .await
        .expect("consent post")
}

#[tokio::test]
async fn consent_page_lists_the_companies_and_allow_redirects_with_code_state_and_realm_id() {
    let sb = Sb::start().await;
    let page = sb
        .http
        .get(authorize_url(
            &sb,
            "com.intuit.quickbooks.accounting openid",
        ))
        .send()
        .await
        .expect("consent page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("Acme Security Inc. (US)"), "{html}");
    assert!(html.contains("Acme Security Ltd (CA)"));
    assert!(html.contains("value=\"allow\"") && html.contains("value=\"deny\""));

    let r = submit(&sb, "allow", CA_REALM_ID).await;
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = location(&r);
    assert_eq!(loc.base, REDIRECT);
    assert_eq!(loc.params["state"], "st-123");
    assert_eq!(loc.params["realmId"], CA_REALM_ID);
    let code = &loc.params["code"];
    let (status, body) = sb
        .token_call(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn deny_redirects_back_with_access_denied_and_the_state() {
    let sb = Sb::start().await;
    let r = submit(&sb, "deny", US_REALM_ID).await;
    let loc = location(&r);
    assert_eq!(loc.params["error"], "access_denied");
    assert_eq!(loc.params["state"], "st-123");
    assert!(!loc.params.contains_key("code"));
}

#[tokio::test]
async fn unknown_client_or_unregistered_redirect_uri_is_refused_without_a_redirect() {
    let sb = Sb::start().await;
    let bad_client =
        authorize_url(&sb, "com.intuit.quickbooks.accounting").replace(DEMO_CLIENT_ID, "nobody");
    let r = sb.http.get(bad_client).send().await.expect("call");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.headers().get("location").is_none());
    let bad_redirect = authorize_url(&sb, "com.intuit.quickbooks.accounting")
        .replace("127.0.0.1%3A9", "evil.example.com");
    let r = sb.http.get(bad_redirect).send().await.expect("call");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_scope_without_accounting_redirects_with_invalid_scope() {
    let sb = Sb::start().await;
    let r = sb
        .http
        .get(authorize_url(&sb, "openid email"))
        .send()
        .await
        .expect("call");
    assert_eq!(location(&r).params["error"], "invalid_scope");
}

#[tokio::test]
async fn code_exchange_returns_bearer_tokens_and_a_code_works_only_once() {
    let sb = Sb::start().await;
    let code = sb.code(US_REALM_ID).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let (status, body) = sb.token_call(&form).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(
        body["x_refresh_token_expires_in"]
            .as_i64()
            .expect("refresh ttl")
            > 86_400
    );
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let (status, body) = sb.token_call(&form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn a_code_is_bound_to_its_redirect_uri_and_expires_after_ten_minutes() {
    let sb = Sb::start().await;
    let code = sb.code(US_REALM_ID).await;
    let (status, body) = sb
        .token_call(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
        ])
        .await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
    let code = sb.code(US_REALM_ID).await;
    sb.control("clock", json!({"advance_seconds": 601})).await;
    let (status, body) = sb
        .token_call(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
}

#[tokio::test]
async fn wrong_client_secret_is_401_invalid_client() {
    let sb = Sb::start().await;
    let r = sb
        .http
        .post(sb.url("/oauth2/v1/tokens/bearer"))
        .basic_auth(DEMO_CLIENT_ID, Some("wrong"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")])
        .send()
        .await
        .expect("call");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn refresh_rotates_and_the_previous_refresh_token_works_for_24_hours_then_invalid_grant() {
    let sb = Sb::start().await;
    let first = sb.connect(US_REALM_ID).await;
    let rt1 = first["refresh_token"].as_str().expect("rt").to_string();
    let (status, second) = sb
        .token_call(&[("grant_type", "refresh_token"), ("refresh_token", &rt1)])
        .await;
    assert_eq!(status, StatusCode::OK);
    let rt2 = second["refresh_token"].as_str().expect("rt").to_string();
    assert_ne!(rt1, rt2, "refresh tokens rotate");
    sb.control("clock", json!({"advance_seconds": 23 * 3600}))
        .await;
    let (status, _) = sb
        .token_call(&[("grant_type", "refresh_token"), ("refresh_token", &rt1)])
        .await;
    assert_eq!(status, StatusCode::OK, "old token still works within 24 h");
    sb.control("clock", json!({"advance_seconds": 2 * 3600}))
        .await;
    let (status, body) = sb
        .token_call(&[("grant_type", "refresh_token"), ("refresh_token", &rt1)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let (status, _) = sb
        .token_call(&[("grant_type", "refresh_token"), ("refresh_token", &rt2)])
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the newest refresh token keeps working"
    );
}

#[tokio::test]
async fn an_access_token_expires_after_an_hour_with_401_3200_and_www_authenticate() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    assert_eq!(
        api.get(&format!("companyinfo/{US_REALM_ID}")).await.status,
        StatusCode::OK
    );
    sb.control("clock", json!({"advance_seconds": 3601})).await;
    let r = api.get(&format!("companyinfo/{US_REALM_ID}")).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer realm=\"Intuit\", error=\"invalid_token\"")
    );
    assert!(r.headers.contains_key("intuit_tid"));
    let body = r.json();
    assert_eq!(body["fault"]["error"][0]["code"], "3200");
    assert_eq!(body["fault"]["type"], "AUTHENTICATION");
    assert!(
        body["fault"]["error"][0]["detail"]
            .as_str()
            .expect("detail")
            .starts_with("Token expired")
    );
    assert!(body["time"].is_i64());
}

#[tokio::test]
async fn revoke_kills_both_the_access_and_the_refresh_token() {
    let sb = Sb::start().await;
    let tokens = sb.connect(US_REALM_ID).await;
    let r = sb
        .http
        .post(sb.url("/v2/oauth2/tokens/revoke"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .json(&json!({"token": tokens["refresh_token"]}))
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status(), StatusCode::OK);
    let at = tokens["access_token"].as_str().expect("at");
    let r = sb
        .http
        .get(sb.url(&format!("/v3/company/{US_REALM_ID}/preferences")))
        .bearer_auth(at)
        .send()
        .await
        .expect("call");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let rt = tokens["refresh_token"].as_str().expect("rt");
    let (status, body) = sb
        .token_call(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
        .await;
    assert_eq!(
        (status, body["error"].clone()),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );
}

#[tokio::test]
async fn userinfo_answers_a_valid_bearer_and_refuses_a_missing_one() {
    let sb = Sb::start().await;
    let at = sb.token(US_REALM_ID).await;
    let r = sb
        .http
        .get(sb.url("/v1/openid_connect/userinfo"))
        .bearer_auth(&at)
        .send()
        .await
        .expect("call");
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.expect("json");
    assert!(v["email"].is_string() && v["givenName"].is_string() && v["sub"].is_string());
    let r = sb
        .http
        .get(sb.url("/v1/openid_connect/userinfo"))
        .send()
        .await
        .expect("call");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_used_on_another_realm_gets_403_with_code_3100() {
    let sb = Sb::start().await;
    let at = sb.token(US_REALM_ID).await;
    let r = sb
        .http
        .get(sb.url(&format!("/v3/company/{CA_REALM_ID}/preferences")))
        .bearer_auth(&at)
        .send()
        .await
        .expect("call");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["fault"]["error"][0]["code"], "3100");
    assert!(
        v["fault"]["error"][0]["message"]
            .as_str()
            .expect("message")
            .contains("ApplicationAuthorizationFailed")
    );
}
