use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use super::{Sb, US_REALM_ID};

#[tokio::test]
async fn a_burst_beyond_10_requests_a_second_gets_the_xml_429_and_is_counted() {
    let sb = Sb::strict().await;
    let api = sb.api(US_REALM_ID).await;
    sb.control("clock", json!({"freeze": true})).await;
    let mut statuses = Vec::new();
    let mut throttled_body = None;
    for _ in 0..15 {
        let r = api.get("preferences").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            throttled_body = Some(r.text.clone());
        }
        statuses.push(r.status);
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 10, "{statuses:?}");
    let body = throttled_body.expect("at least one 429");
    assert!(body.starts_with("<?xml"), "{body}");
    assert!(body.contains("<Error code=\"3001\">"));
    assert!(body.contains("message=ThrottleExceeded; errorCode=003001; statusCode=429"));
    assert!(body.contains("The request limit was reached.  Try again later"));
    let stats = sb.control_get("stats").await;
    assert_eq!(stats["throttled"], 5);
    assert_eq!(
        stats["throttled_per_realm"][US_REALM_ID],
        stats["throttled"]
    );
}

#[tokio::test]
async fn more_than_40_batches_a_minute_are_throttled() {
    let sb = Sb::strict().await;
    let api = sb.api(US_REALM_ID).await;
    sb.control("clock", json!({"freeze": true})).await;
    let batch = json!({"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]});
    for round in 0..5 {
        for _ in 0..8 {
            let r = api.post("batch", batch.clone()).await;
            assert_eq!(r.status, StatusCode::OK, "round {round}: {}", r.text);
        }
        sb.control("clock", json!({"advance_seconds": 2})).await;
    }
    let r = api.post("batch", batch).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn more_than_500_requests_a_minute_are_throttled_and_the_window_rolls_on() {
    let sb = Sb::strict().await;
    let api = sb.api(US_REALM_ID).await;
    sb.control("clock", json!({"freeze": true})).await;
    for n in 0..500 {
        if n % 10 == 0 && n > 0 {
            sb.control("clock", json!({"advance_seconds": 1})).await;
        }
        let r = api.get("preferences").await;
        assert_eq!(r.status, StatusCode::OK, "call {n}");
    }
    sb.control("clock", json!({"advance_seconds": 1})).await;
    assert_eq!(
        api.get("preferences").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    sb.control("clock", json!({"advance_seconds": 12})).await;
    assert_eq!(
        api.get("preferences").await.status,
        StatusCode::OK,
        "the oldest calls left the window"
    );
}

#[tokio::test]
async fn an_injected_500_is_a_json_system_fault_and_only_hits_matching_calls() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    sb.control(
        "faults",
        json!({"kind": "server_error", "count": 2, "path_contains": "/preferences"}),
    )
    .await;
    assert_eq!(
        api.get(&format!("companyinfo/{US_REALM_ID}")).await.status,
        StatusCode::OK
    );
    let r = api.get("preferences").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.json()["Fault"]["type"], "SystemFault");
    assert_eq!(r.code(), "10000");
    assert!(r.headers.contains_key("intuit_tid"));
    assert_eq!(
        api.get("preferences").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        api.get("preferences").await.status,
        StatusCode::OK,
        "count used up"
    );
}

#[tokio::test]
async fn an_injected_503_has_an_html_body() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    sb.control("faults", json!({"kind": "503"})).await;
    let r = api.get("preferences").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.text.contains("<html>"));
}

#[tokio::test]
async fn an_injected_timeout_holds_the_request_longer_than_the_client_waits() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    sb.control("faults", json!({"kind": "timeout", "seconds": 3}))
        .await;
    let r = sb
        .http
        .get(sb.url(&format!("/v3/company/{US_REALM_ID}/preferences")))
        .bearer_auth(&api.token)
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(r.is_err_and(|e| e.is_timeout()));
    assert_eq!(api.get("preferences").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_control_api_can_revoke_a_realms_tokens_and_expire_access_tokens() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    sb.control("tokens/expire", json!({"realm_id": US_REALM_ID}))
        .await;
    let r = api.get("preferences").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.json()["fault"]["error"][0]["detail"]
            .as_str()
            .expect("detail")
            .starts_with("Token expired")
    );
    let api = sb.api(US_REALM_ID).await;
    sb.control("tokens/revoke", json!({"realm_id": US_REALM_ID}))
        .await;
    assert_eq!(
        api.get("preferences").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_missing_bearer_is_401_with_the_gateway_body() {
    let sb = Sb::start().await;
    let r = sb
        .http
        .get(sb.url(&format!("/v3/company/{US_REALM_ID}/preferences")))
        .send()
        .await
        .expect("call");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().contains_key("www-authenticate"));
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(
        v["fault"]["error"][0]["message"],
        "message=AuthenticationFailed; errorCode=003200; statusCode=401"
    );
    assert!(v["intuitObject"].is_null() && v["warnings"].is_null());
}

#[tokio::test]
async fn injected_gateway_errors_and_throttles_answer_like_the_real_edge() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    for (kind, status) in [
        ("502", StatusCode::BAD_GATEWAY),
        ("gateway_timeout", StatusCode::GATEWAY_TIMEOUT),
        ("throttle", StatusCode::TOO_MANY_REQUESTS),
    ] {
        sb.control("faults", json!({"kind": kind})).await;
        let r = api.get("preferences").await;
        assert_eq!(r.status, status, "{kind}");
    }
    let stats = sb.control_get("stats").await;
    assert_eq!(stats["throttled"], 1);
    assert_eq!(api.get("preferences").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_lapsed_subscription_refuses_writes_with_6190_but_still_answers_reads() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    sb.control(
        &format!("companies/{US_REALM_ID}/settings"),
        json!({"subscription_lapsed": true}),
    )
    .await;
    let r = api.post("vendor", json!({"DisplayName": "Anyone"})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "6190".to_string())
    );
    assert_eq!(api.get("preferences").await.status, StatusCode::OK);
}
