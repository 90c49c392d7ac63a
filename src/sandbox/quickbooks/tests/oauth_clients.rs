use reqwest::StatusCode;
use serde_json::json;

use super::oauth::{authorize_url, location};
use super::{CA_REALM_ID, REDIRECT, Sb, US_REALM_ID};
use crate::sandbox::quickbooks::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

#[tokio::test]
async fn a_client_registered_through_the_control_api_can_connect_with_its_exact_redirect_uri() {
    let sb = Sb::start().await;
    sb.control(
        "clients",
        json!({"client_id": "acme-app", "client_secret": "s3cret", "redirect_uris": ["https://app.example.com/qbo/callback"]}),
    )
    .await;
    let q = serde_urlencoded::to_string([
        ("client_id", "acme-app"),
        ("redirect_uri", "https://app.example.com/qbo/callback"),
        ("response_type", "code"),
        ("scope", "com.intuit.quickbooks.accounting"),
        ("state", "s"),
    ])
    .expect("encode");
    let r = sb
        .http
        .get(sb.url(&format!("/connect/oauth2?{q}")))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), StatusCode::OK);
    let other = q.replace("app.example.com", "other.example.com");
    let r = sb
        .http
        .get(sb.url(&format!("/connect/oauth2?{other}")))
        .send()
        .await
        .expect("page");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = sb
        .http
        .post(sb.url("/oauth2/v1/tokens/bearer"))
        .basic_auth("acme-app", Some("s3cret"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "unknown"),
        ])
        .send()
        .await
        .expect("call");
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "authenticated, but the grant is invalid"
    );
}

#[tokio::test]
async fn the_hard_expiry_is_reported_only_when_asked_for() {
    let sb = Sb::start().await;
    let code = sb.code(US_REALM_ID).await;
    let r = sb
        .http
        .post(sb.url("/oauth2/v1/tokens/bearer"))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .header("x-include-refresh-token-hard-expires-in", "true")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .expect("call");
    let v: serde_json::Value = r.json().await.expect("json");
    assert!(v["x_refresh_token_hard_expires_in"].as_i64().expect("hard") > 4 * 365 * 86_400);
    assert!(
        sb.connect(US_REALM_ID)
            .await
            .get("x_refresh_token_hard_expires_in")
            .is_none()
    );
}

#[tokio::test]
async fn with_auto_consent_the_authorize_url_redirects_straight_back_with_a_code() {
    let sb = Sb::start().await;
    sb.control("oauth/auto-consent", json!({"realm_id": CA_REALM_ID}))
        .await;
    let r = sb
        .http
        .get(authorize_url(&sb, "com.intuit.quickbooks.accounting"))
        .send()
        .await
        .expect("authorize");
    assert_eq!(r.status(), StatusCode::FOUND);
    let loc = location(&r);
    assert_eq!(loc.params["realmId"], CA_REALM_ID);
    assert_eq!(loc.params["state"], "st-123");
    let (status, _) = sb
        .token_call(&[
            ("grant_type", "authorization_code"),
            ("code", &loc.params["code"]),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn revoke_also_accepts_an_rfc_7009_form_body_and_form_encoded_basic_credentials() {
    let sb = Sb::start().await;
    let redirect = "https://app.example.com/cb";
    sb.control(
        "clients",
        json!({"client_id": "app id", "client_secret": "s/e:c", "redirect_uris": [redirect]}),
    )
    .await;
    let code = sb
        .control(
            "oauth/code",
            json!({"client_id": "app id", "redirect_uri": redirect, "realm_id": US_REALM_ID}),
        )
        .await["code"]
        .as_str()
        .expect("code")
        .to_string();
    let tokens: serde_json::Value = sb
        .http
        .post(sb.url("/oauth2/v1/tokens/bearer"))
        .basic_auth("app id", Some("s/e:c"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let rt = tokens["refresh_token"].as_str().expect("rt");
    let demo = sb.connect(US_REALM_ID).await;
    let revoke = |token: String| {
        sb.http
            .post(sb.url("/v2/oauth2/tokens/revoke"))
            .basic_auth("app+id", Some("s%2Fe%3Ac"))
            .form(&[("token", token)])
            .send()
    };
    let other = revoke(demo["refresh_token"].as_str().expect("rt").to_string())
        .await
        .expect("revoke");
    assert_eq!(
        other.status(),
        StatusCode::OK,
        "unknown-to-this-client tokens are a no-op (RFC 7009)"
    );
    let (status, _) = sb
        .token_call(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", demo["refresh_token"].as_str().expect("rt")),
        ])
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another client's grant is untouched"
    );
    assert_eq!(
        revoke(rt.to_string()).await.expect("revoke").status(),
        StatusCode::OK
    );
    let r = sb
        .http
        .post(sb.url("/oauth2/v1/tokens/bearer"))
        .basic_auth("app id", Some("s/e:c"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", rt)])
        .send()
        .await
        .expect("refresh");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
