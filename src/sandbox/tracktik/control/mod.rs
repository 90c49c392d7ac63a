//! The control API under `/__sandbox/` (JSON in and out, no auth): shape the portal's data,
//! move the clock, inject faults, expire or revoke tokens, read the request log, register
//! OAuth clients, reseed. Documented in `docs/sandbox-tracktik.md`.

mod extra;
mod history;
mod records;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use records::{
    approve_invoice, approve_payrun, create_invoice, create_payrun, delete_invoice, delete_payrun,
    edit_invoice, show_invoice, when,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::OAuthClient;
use super::query::ApiError;
use super::schema;
use super::seed::SeedConfig;
use super::server::{Fault, Shared, json as json_response, lock};
use super::store::StoreError;

fn err(status: u16, message: impl std::fmt::Display) -> Response {
    json_response(
        status,
        json!({"status": status, "error": message.to_string()}),
    )
}

fn store_err(e: StoreError) -> Response {
    match e {
        StoreError::NotFound(..) => err(404, e),
        StoreError::Invalid(_) => err(400, e),
    }
}

fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad(format!("invalid JSON body: {e}")))
}

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/__sandbox", get(index))
        .route("/__sandbox/", get(index))
        .route("/__sandbox/invoices", post(create_invoice))
        .route("/__sandbox/invoices/history", post(history::make_history))
        .route(
            "/__sandbox/invoices/{id}",
            get(show_invoice).patch(edit_invoice).delete(delete_invoice),
        )
        .route("/__sandbox/invoices/{id}/approve", post(approve_invoice))
        .route("/__sandbox/payruns", post(create_payrun))
        .route(
            "/__sandbox/payruns/{id}",
            axum::routing::delete(delete_payrun),
        )
        .route("/__sandbox/payruns/{id}/approve", post(approve_payrun))
        .route("/__sandbox/clock", get(clock).post(set_clock))
        .route(
            "/__sandbox/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route("/__sandbox/tokens/expire", post(expire_tokens))
        .route("/__sandbox/tokens/revoke", post(revoke_tokens))
        .route("/__sandbox/requests", get(requests).delete(clear_requests))
        .route("/__sandbox/stats", get(stats))
        .route(
            "/__sandbox/oauth-clients",
            get(list_clients).post(register_client),
        )
        .route("/__sandbox/reseed", post(reseed))
        .route("/__sandbox/credit-memos", post(extra::create_credit_memo))
        .route("/__sandbox/positions", post(extra::create_position))
}

async fn index(State(shared): State<Arc<Shared>>) -> Response {
    json_response(
        200,
        json!({
            "portal": shared.portal().name,
            "baseUrl": shared.base_url,
            "restRoot": format!("{}/rest/v1", shared.base_url),
            "tokenUrl": format!("{}/rest/oauth2/access_token", shared.base_url),
            "authorizeUrl": format!("{}/rest/oauth2/authorize", shared.base_url),
            "now": shared.now().to_rfc3339(),
            "seed": shared.seed_config(),
            "endpoints": [
                "POST /__sandbox/invoices", "POST /__sandbox/invoices/history", "GET|PATCH|DELETE /__sandbox/invoices/{id}",
                "POST /__sandbox/invoices/{id}/approve", "POST /__sandbox/payruns",
                "DELETE /__sandbox/payruns/{id}", "POST /__sandbox/payruns/{id}/approve",
                "GET|POST /__sandbox/clock", "GET|POST|DELETE /__sandbox/faults",
                "POST /__sandbox/tokens/expire", "POST /__sandbox/tokens/revoke",
                "GET|DELETE /__sandbox/requests", "GET /__sandbox/stats",
                "GET|POST /__sandbox/oauth-clients", "POST /__sandbox/reseed"
            ],
        }),
    )
}

async fn clock(State(shared): State<Arc<Shared>>) -> Response {
    json_response(200, json!({"now": shared.now().to_rfc3339()}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClockIn {
    #[serde(default)]
    now: Option<String>,
    #[serde(default)]
    advance_seconds: Option<i64>,
}

async fn set_clock(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let input: ClockIn = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let mut now = match when(&shared, input.now.as_deref()) {
        Ok(t) => t,
        Err(e) => return e.into(),
    };
    if let Some(s) = input.advance_seconds {
        now += chrono::Duration::seconds(s);
    }
    shared.set_now(now);
    json_response(200, json!({"now": shared.now().to_rfc3339()}))
}

async fn faults(State(shared): State<Arc<Shared>>) -> Response {
    json_response(200, json!({"faults": *lock(&shared.faults)}))
}

async fn add_fault(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let fault: Fault = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    if !(fault.status == 200 || (400..=599).contains(&fault.status)) || fault.count == 0 {
        return err(
            400,
            "status must be 400..=599 (or 200 for a slow answer) and count at least 1",
        );
    }
    let mut faults = lock(&shared.faults);
    faults.push(fault);
    json_response(200, json!({"faults": *faults}))
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.faults).clear();
    json_response(200, json!({"faults": []}))
}

async fn expire_tokens(State(shared): State<Arc<Shared>>) -> Response {
    let now = shared.now();
    let n = shared.auth().expire_access_tokens(now);
    json_response(200, json!({"expiredAccessTokens": n}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevokeIn {
    #[serde(default = "yes")]
    refresh_tokens: bool,
}

fn yes() -> bool {
    true
}

async fn revoke_tokens(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let input: RevokeIn = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let (a, r) = shared.auth().revoke(input.refresh_tokens);
    json_response(
        200,
        json!({"revokedAccessTokens": a, "revokedRefreshTokens": r}),
    )
}

#[derive(Deserialize)]
struct LogQuery {
    #[serde(default)]
    limit: Option<usize>,
}

async fn requests(State(shared): State<Arc<Shared>>, Query(q): Query<LogQuery>) -> Response {
    let log = lock(&shared.log);
    let n = q.limit.unwrap_or(log.len()).min(log.len());
    let entries: Vec<_> = log.iter().skip(log.len() - n).cloned().collect();
    json_response(200, json!({"requests": entries}))
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> Response {
    lock(&shared.log).clear();
    json_response(200, json!({"requests": []}))
}

async fn stats(State(shared): State<Arc<Shared>>) -> Response {
    let mut by_status = std::collections::BTreeMap::<u16, u64>::new();
    let mut by_path = std::collections::BTreeMap::<String, u64>::new();
    for r in lock(&shared.log).iter() {
        *by_status.entry(r.status).or_default() += 1;
        *by_path.entry(r.path.clone()).or_default() += 1;
    }
    let portal = shared.portal();
    let counts: serde_json::Map<String, Value> = schema::ALL
        .iter()
        .map(|r| (r.tag.to_owned(), json!(portal.count(r.tag))))
        .collect();
    json_response(
        200,
        json!({
            "totalRequests": *lock(&shared.total_requests),
            "byStatus": by_status,
            "byPath": by_path,
            "records": counts,
        }),
    )
}

async fn list_clients(State(shared): State<Arc<Shared>>) -> Response {
    let ids: Vec<String> = shared.auth_peek().clients.keys().cloned().collect();
    json_response(200, json!({"clients": ids}))
}

async fn register_client(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let client: OAuthClient = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    if client.client_id.is_empty() || client.client_secret.is_empty() {
        return err(400, "client_id and client_secret are required");
    }
    let id = client.client_id.clone();
    shared.auth().register(client);
    json_response(201, json!({"client_id": id}))
}

async fn reseed(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let config: SeedConfig = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    shared.reseed(config);
    let portal = shared.portal();
    json_response(
        200,
        json!({
            "seed": shared.seed_config(),
            "invoices": portal.count("invoices"),
            "payruns": portal.count("payroll-payruns"),
            "clients": portal.count("clients"),
        }),
    )
}
