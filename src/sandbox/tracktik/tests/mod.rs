//! Tests of the TrackTik sandbox, over real HTTP on port 0.

mod collections;
mod control;
mod credit_memos_positions;
mod more;
mod oauth;
mod openapi;
mod seed;

use reqwest::StatusCode;
use serde_json::Value;

use super::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, DEMO_USERNAME, Options, Running, SeedConfig,
    start,
};

pub async fn sandbox_with(seed: SeedConfig) -> Running {
    start(Options {
        seed,
        ..Default::default()
    })
    .await
    .expect("sandbox starts")
}

pub async fn sandbox() -> Running {
    sandbox_with(SeedConfig::small()).await
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub async fn password_grant(base: &str) -> Value {
    let r = http()
        .post(format!("{base}/rest/oauth2/access_token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("username", DEMO_USERNAME),
            ("password", DEMO_PASSWORD),
        ])
        .send()
        .await
        .expect("token call");
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.expect("json")
}

pub async fn token(base: &str) -> String {
    password_grant(base).await["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// GET `path` (relative to `/rest/v1/`) with a bearer token.
pub async fn get(base: &str, token: &str, path: &str) -> (StatusCode, Value) {
    let r = http()
        .get(format!("{base}/rest/v1/{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("api call");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// GET a collection expecting 200; returns its `data` array.
pub async fn rows(base: &str, token: &str, path: &str) -> Vec<Value> {
    let (status, body) = get(base, token, path).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body["data"].as_array().expect("data array").clone()
}

pub fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|r| r["id"].as_i64().expect("id")).collect()
}

pub async fn control(
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = http()
        .request(method, format!("{base}/__sandbox/{path}"))
        .json(&body)
        .send()
        .await
        .expect("control call");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}
