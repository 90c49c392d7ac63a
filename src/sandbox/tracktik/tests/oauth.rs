use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::sandbox::tracktik::oauth::MAX_FAILURES;

const REDIRECT: &str = "http://127.0.0.1:4999/callback";

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in page"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Walks sign-in form → Allow page → decision; returns the redirect Location.
async fn consent(base: &str, extra: &[(&str, &str)], decision: &str) -> String {
    let c = http();
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("state", "st-42"),
    ];
    params.extend_from_slice(extra);
    let form = c
        .get(format!("{base}/rest/oauth2/authorize"))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    assert!(
        html.contains("name=\"username\"") && html.contains("name=\"password\""),
        "{html}"
    );
    assert!(html.contains("Acme Security"));
    let mut post: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    post.push(("username".into(), DEMO_USERNAME.into()));
    post.push(("password".into(), DEMO_PASSWORD.into()));
    let allow = c
        .post(format!("{base}/rest/oauth2/authorize"))
        .form(&post)
        .send()
        .await
        .unwrap();
    assert_eq!(allow.status(), StatusCode::OK);
    let html = allow.text().await.unwrap();
    assert!(html.contains("Allow") && html.contains("Deny"), "{html}");
    let ticket = hidden(&html, "ticket");
    let done = c
        .post(format!("{base}/rest/oauth2/authorize/decision"))
        .form(&[("ticket", ticket.as_str()), ("decision", decision)])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::FOUND);
    done.headers()["location"].to_str().unwrap().to_owned()
}

async fn exchange(base: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = http()
        .post(format!("{base}/rest/oauth2/access_token"))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn the_code_flow_goes_through_sign_in_and_allow_and_the_code_works_once() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let location = consent(base, &[], "allow").await;
    assert!(location.starts_with(REDIRECT));
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-42"));
    let code = query_param(&location, "code").expect("code");
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", DEMO_CLIENT_ID),
        ("client_secret", DEMO_CLIENT_SECRET),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let (status, body) = exchange(base, &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("def50200")
    );
    let access = body["access_token"].as_str().unwrap();
    let parts: Vec<&str> = access.split('.').collect();
    assert_eq!(parts.len(), 3, "JWT-looking");
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[0])
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&header).unwrap()["alg"],
        "RS256"
    );
    let (status, _) = get(base, access, "regions").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = exchange(base, &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_the_state() {
    let sb = sandbox().await;
    let location = consent(sb.base_url(), &[], "deny").await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-42"));
    assert!(query_param(&location, "code").is_none());
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_shown_an_error_not_redirected() {
    let sb = sandbox().await;
    let r = http()
        .get(format!("{}/rest/oauth2/authorize", sb.base_url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", "https://evil.example/cb"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn pkce_is_verified_when_the_code_was_issued_with_a_challenge() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let pkce = [
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    for (given, want) in [
        (Some("wrong-verifier-wrong-verifier-wrong-verifier"), 400),
        (None, 400),
        (Some(verifier), 200),
    ] {
        let location = consent(base, &pkce, "allow").await;
        let code = query_param(&location, "code").unwrap();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ];
        if let Some(v) = given {
            form.push(("code_verifier", v));
        }
        let (status, body) = exchange(base, &form).await;
        assert_eq!(status.as_u16(), want, "verifier {given:?}: {body}");
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_used_one_is_refused() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let first = password_grant(base).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let refresh = |t: String| async move {
        let form = [
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", DEMO_CLIENT_ID.to_owned()),
            ("client_secret", DEMO_CLIENT_SECRET.to_owned()),
            ("refresh_token", t),
        ];
        let r = http()
            .post(format!("{base}/rest/oauth2/access_token"))
            .form(&form)
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    let (status, second) = refresh(r1.to_owned()).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let r2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r2, r1);
    assert_ne!(second["access_token"], first["access_token"]);
    let (status, again) = refresh(r1.to_owned()).await;
    assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED);
    assert_eq!(again["error"], "invalid_grant");
    let (status, _) = refresh(r2).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_password_grant_accepts_json_and_rejects_bad_credentials_and_client_credentials() {
    let sb = sandbox().await;
    let url = format!("{}/rest/oauth2/access_token", sb.base_url());
    let ok = http()
        .post(&url)
        .json(&json!({"grant_type":"password","client_id":DEMO_CLIENT_ID,"client_secret":DEMO_CLIENT_SECRET,"username":DEMO_USERNAME,"password":DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let bad = http()
        .post(&url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("username", "demo"),
            ("password", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let secret = http()
        .post(&url)
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", "wrong"),
            ("username", "demo"),
            ("password", "demo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(secret.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        secret.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let cc = http()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(cc.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        cc.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
}

#[tokio::test]
async fn forty_failed_sign_ins_lock_the_client_out_of_both_sign_in_paths() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let url = format!("{base}/rest/oauth2/access_token");
    let attempt = |password: &'static str| {
        let url = url.clone();
        async move {
            http()
                .post(url)
                .form(&[
                    ("grant_type", "password"),
                    ("client_id", DEMO_CLIENT_ID),
                    ("client_secret", DEMO_CLIENT_SECRET),
                    ("username", "demo"),
                    ("password", password),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for _ in 0..MAX_FAILURES - 1 {
        assert_eq!(attempt("wrong").await, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        attempt(DEMO_PASSWORD).await,
        StatusCode::OK,
        "39 failures do not lock"
    );
    assert_eq!(attempt("wrong").await, StatusCode::BAD_REQUEST);
    assert_eq!(
        attempt(DEMO_PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the 40th failure locks"
    );
    let form = http()
        .post(format!("{base}/rest/oauth2/authorize"))
        .form(&[
            ("response_type", "code"),
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("username", "demo"),
            ("password", "demo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::TOO_MANY_REQUESTS);
    // Two hours later (sandbox clock) the lock is gone.
    control(
        base,
        reqwest::Method::POST,
        "clock",
        json!({"advanceSeconds": 2 * 3600 + 1}),
    )
    .await;
    assert_eq!(attempt(DEMO_PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn access_tokens_expire_after_their_lifetime() {
    let sb = start(Options {
        seed: SeedConfig::small(),
        access_token_ttl: Duration::from_secs(1),
        ..Default::default()
    })
    .await
    .unwrap();
    let body = password_grant(sb.base_url()).await;
    assert_eq!(body["expires_in"], 1);
    let t = body["access_token"].as_str().unwrap();
    assert_eq!(get(sb.base_url(), t, "regions").await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = get(sb.base_url(), t, "regions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["status"], 401);
}

#[tokio::test]
async fn api_calls_without_a_valid_bearer_token_get_401() {
    let sb = sandbox().await;
    let r = http()
        .get(format!("{}/rest/v1/invoices", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(sb.base_url(), "not-a-token", "invoices").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_v1_prefixed_oauth_paths_work_too() {
    let sb = sandbox().await;
    let r = http()
        .post(format!("{}/rest/v1/oauth2/access_token", sb.base_url()))
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("username", "demo"),
            ("password", "demo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn authorization_codes_expire_after_ten_minutes() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let location = consent(base, &[], "allow").await;
    let code = query_param(&location, "code").unwrap();
    control(
        base,
        reqwest::Method::POST,
        "clock",
        json!({"advanceSeconds": 601}),
    )
    .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", DEMO_CLIENT_ID),
        ("client_secret", DEMO_CLIENT_SECRET),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let (status, body) = exchange(base, &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn the_access_token_claims_name_the_client_the_user_and_the_lifetime() {
    let sb = sandbox().await;
    let t = token(sb.base_url()).await;
    let claims = t.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], DEMO_CLIENT_ID);
    assert_eq!(claims["sub"], "1001");
    assert_eq!(claims["iss"], sb.base_url());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
}
