use reqwest::StatusCode;
use serde_json::json;

use super::{Sb, invoice};

#[tokio::test]
async fn a_reused_requestid_replays_the_original_body_byte_for_byte_and_creates_nothing_twice() {
    let sb = Sb::start().await;
    let api = sb.fresh("us").await;
    let ids = api.ids().await;
    let first = api
        .post(
            "invoice?requestid=tt-inv-1001-r1&minorversion=75",
            invoice(&ids, "1001", "10.0"),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let again = api
        .post(
            "invoice?requestid=tt-inv-1001-r1&minorversion=75",
            invoice(&ids, "1001", "99.0"),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.text, first.text, "replayed byte for byte");
    let count = api.query("select count(*) from Invoice").await.json();
    assert_eq!(count["QueryResponse"]["totalCount"], 1);
    let stats = sb.control_get("stats").await;
    assert_eq!(stats["creates_per_entity"][&api.realm]["Invoice"], 1);
}

#[tokio::test]
async fn a_failed_write_is_replayed_as_the_same_fault_for_the_same_requestid() {
    let sb = Sb::start().await;
    let api = sb.fresh("us").await;
    let ids = api.ids().await;
    let mut bad = invoice(&ids, "1002", "10.0");
    bad["Bogus"] = json!(true);
    let first = api.post("invoice?requestid=rid-bad", bad).await;
    assert_eq!(first.code(), "2010");
    let again = api
        .post("invoice?requestid=rid-bad", invoice(&ids, "1002", "10.0"))
        .await;
    assert_eq!(again.text, first.text);
}

#[tokio::test]
async fn requestids_longer_than_50_characters_or_36_for_a_batch_are_refused() {
    let sb = Sb::start().await;
    let api = sb.fresh("us").await;
    let ids = api.ids().await;
    let long = "r".repeat(51);
    let r = api
        .post(
            &format!("invoice?requestid={long}"),
            invoice(&ids, "L-1", "1.0"),
        )
        .await;
    assert_eq!(
        (r.status, r.element()),
        (StatusCode::BAD_REQUEST, "requestid".to_string())
    );
    let ok = "r".repeat(50);
    assert_eq!(
        api.post(
            &format!("invoice?requestid={ok}"),
            invoice(&ids, "L-1", "1.0")
        )
        .await
        .status,
        StatusCode::OK
    );
    let batch = json!({"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]});
    let r = api
        .post(
            &format!("batch?requestid={}", "b".repeat(37)),
            batch.clone(),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        api.post(&format!("batch?requestid={}", "b".repeat(36)), batch)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn after_a_dropped_connection_the_retry_with_the_same_requestid_gets_the_committed_result() {
    let sb = Sb::start().await;
    let api = sb.fresh("us").await;
    let ids = api.ids().await;
    sb.control(
        "faults",
        json!({"kind": "drop", "count": 1, "path_contains": "/invoice", "method": "POST"}),
    )
    .await;
    let url = sb.url(&format!(
        "/v3/company/{}/invoice?requestid=drop-1&minorversion=75",
        api.realm
    ));
    let lost = sb
        .http
        .post(&url)
        .bearer_auth(&api.token)
        .json(&invoice(&ids, "2001", "42.0"))
        .send()
        .await;
    assert!(lost.is_err(), "the client gets no response");
    let retry = api
        .post(
            "invoice?requestid=drop-1&minorversion=75",
            invoice(&ids, "2001", "42.0"),
        )
        .await;
    assert_eq!(retry.status, StatusCode::OK, "{}", retry.text);
    assert_eq!(retry.json()["Invoice"]["TotalAmt"], json!(42));
    let count = api
        .query("select count(*) from Invoice where DocNumber = '2001'")
        .await
        .json();
    assert_eq!(
        count["QueryResponse"]["totalCount"], 1,
        "committed exactly once"
    );
    let log = sb
        .control_get(&format!("requests?realm_id={}", api.realm))
        .await;
    assert!(
        log.as_array()
            .expect("log")
            .iter()
            .any(|e| e["status"] == 0 && e["requestid"] == "drop-1")
    );
}

#[tokio::test]
async fn a_retried_batch_with_the_same_requestid_replays_and_creates_nothing_twice() {
    let sb = Sb::start().await;
    let api = sb.fresh("us").await;
    let ids = api.ids().await;
    let body = json!({"BatchItemRequest": [
        {"bId": "1", "operation": "create", "Invoice": invoice(&ids, "3001", "1.0")},
        {"bId": "2", "operation": "create", "Invoice": invoice(&ids, "3002", "2.0")}
    ]});
    let first = api
        .post("batch?requestid=night-2026-11-20", body.clone())
        .await;
    let again = api.post("batch?requestid=night-2026-11-20", body).await;
    assert_eq!(first.text, again.text);
    let count = api.query("select count(*) from Invoice").await.json();
    assert_eq!(count["QueryResponse"]["totalCount"], 2);
}
