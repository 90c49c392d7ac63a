//! The counting proxies in front of the sandboxes: each forwards to its sandbox, adds the
//! configured latency, and tallies requests by kind and status (see the parent module).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    TrackTik,
    QuickBooks,
}

#[derive(Default)]
struct Tally {
    by_kind: BTreeMap<String, u64>,
    by_status: BTreeMap<u16, u64>,
    total: u64,
}

#[derive(Clone)]
pub(super) struct Proxy(Arc<ProxyInner>);

struct ProxyInner {
    upstream: String,
    side: Side,
    http: reqwest::Client,
    latency_ms: AtomicU64,
    tally: Mutex<Tally>,
}

impl Proxy {
    pub(super) fn new(upstream: String, side: Side) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(1024)
            .build()
            .expect("the proxy's client builds");
        Self(Arc::new(ProxyInner {
            upstream,
            side,
            http,
            latency_ms: AtomicU64::new(0),
            tally: Mutex::default(),
        }))
    }
}

pub(super) async fn serve_proxy(
    listener: tokio::net::TcpListener,
    proxy: Proxy,
) -> anyhow::Result<()> {
    let app = Router::new()
        .route("/__proxy/latency", post(set_latency))
        .route("/__proxy/counts", get(counts).delete(reset_counts))
        .fallback(forward)
        .with_state(proxy);
    axum::serve(listener, app).await?;
    Ok(())
}

#[derive(Deserialize)]
struct LatencyIn {
    ms: u64,
}

async fn set_latency(
    State(p): State<Proxy>,
    axum::Json(l): axum::Json<LatencyIn>,
) -> axum::Json<Value> {
    p.0.latency_ms.store(l.ms, Ordering::Relaxed);
    axum::Json(json!({ "ms": l.ms }))
}

async fn counts(State(p): State<Proxy>) -> axum::Json<Value> {
    let t = p.0.tally.lock().expect("tally lock");
    axum::Json(json!({ "by_kind": t.by_kind, "by_status": t.by_status, "total": t.total }))
}

async fn reset_counts(State(p): State<Proxy>) -> axum::Json<Value> {
    *p.0.tally.lock().expect("tally lock") = Tally::default();
    axum::Json(json!({ "reset": true }))
}

/// `/p/{n}/rest/…` → `/rest/…` (TrackTik only).
fn upstream_path(side: Side, path: &str) -> &str {
    if side == Side::TrackTik
        && let Some(rest) = path.strip_prefix("/p/")
        && let Some(i) = rest.find('/')
    {
        return &rest[i..];
    }
    path
}

/// What a request is, for counting: method and resource, ids left out.
fn kind(side: Side, method: &str, path: &str, query: &str, body: &[u8]) -> String {
    match side {
        Side::QuickBooks => {
            if path.starts_with("/oauth2/") {
                return format!("{method} oauth token");
            }
            let Some(rest) = path.strip_prefix("/v3/company/") else {
                return format!("{method} {path}");
            };
            let parts: Vec<&str> = rest.split('/').skip(1).collect();
            match parts.as_slice() {
                ["query"] => {
                    let params: Vec<(String, String)> =
                        serde_urlencoded::from_str(query).unwrap_or_default();
                    // The statement is a `query` parameter (GET) or the body (POST).
                    let statement = params
                        .iter()
                        .find(|(k, _)| k == "query")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
                    let entity = statement
                        .split_whitespace()
                        .skip_while(|w| !w.eq_ignore_ascii_case("from"))
                        .nth(1)
                        .unwrap_or("?")
                        .to_owned();
                    format!("query {entity}")
                }
                ["batch"] => format!("{method} batch"),
                [entity] if method == "POST" => {
                    let op = if query.contains("operation=") {
                        "update"
                    } else {
                        "create"
                    };
                    format!("{method} {op} {}", entity.to_lowercase())
                }
                [entity, ..] => format!("{method} read {}", entity.to_lowercase()),
                [] => format!("{method} ?"),
            }
        }
        Side::TrackTik => {
            if let Some(rest) = path.strip_prefix("/rest/v1/") {
                let resource = rest.split('/').next().unwrap_or("?");
                let action = if rest.contains("/actions/") {
                    " action"
                } else {
                    ""
                };
                format!("{method} {resource}{action}")
            } else if path.starts_with("/rest/oauth2/") {
                format!(
                    "{method} oauth {}",
                    path.trim_start_matches("/rest/oauth2/")
                )
            } else {
                format!("{method} {path}")
            }
        }
    }
}

/// The kinds of the items of a QBO batch request (`{"BatchItemRequest": [...]}`).
fn batch_items(side: Side, path: &str, body: &[u8]) -> Vec<String> {
    if side != Side::QuickBooks || !path.ends_with("/batch") {
        return Vec::new();
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let Some(items) = v["BatchItemRequest"].as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            if let Some(q) = item["Query"].as_str() {
                let entity = q
                    .split_whitespace()
                    .skip_while(|w| !w.eq_ignore_ascii_case("from"))
                    .nth(1)
                    .unwrap_or("?");
                return format!("batch item query {entity}");
            }
            let op = item["operation"].as_str().unwrap_or("create");
            let entity = item
                .as_object()
                .and_then(|o| {
                    o.keys()
                        .find(|k| !matches!(k.as_str(), "bId" | "operation" | "optionsData"))
                })
                .map_or("?".to_owned(), |k| k.to_lowercase());
            format!("batch item {op} {entity}")
        })
        .collect()
}

async fn forward(State(p): State<Proxy>, req: Request) -> Response {
    let p = &p.0;
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let target_path = upstream_path(p.side, &path).to_owned();
    let control = target_path.starts_with("/__sandbox");
    if !control {
        let ms = p.latency_ms.load(Ordering::Relaxed);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
    let headers = req.headers().clone();
    let body = match axum::body::to_bytes(req.into_body(), 64 << 20).await {
        Ok(b) => b,
        Err(e) => return (axum::http::StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let url = if query.is_empty() {
        format!("{}{target_path}", p.upstream)
    } else {
        format!("{}{target_path}?{query}", p.upstream)
    };
    let sent = body.clone();
    let mut out = p.http.request(method.clone(), url).body(body);
    for (name, value) in &headers {
        if !matches!(
            name.as_str(),
            "host" | "connection" | "content-length" | "transfer-encoding"
        ) {
            out = out.header(name, value);
        }
    }
    let answer = match out.send().await {
        Ok(a) => a,
        Err(e) => return (axum::http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = answer.status();
    if !control {
        let mut t = p.tally.lock().expect("tally lock");
        *t.by_kind
            .entry(kind(p.side, method.as_str(), &target_path, &query, &sent))
            .or_default() += 1;
        for item in batch_items(p.side, &target_path, &sent) {
            *t.by_kind.entry(item).or_default() += 1;
        }
        *t.by_status.entry(status.as_u16()).or_default() += 1;
        t.total += 1;
    }
    let mut response = Response::builder().status(status);
    for (name, value) in answer.headers() {
        if !matches!(
            name.as_str(),
            "connection" | "content-length" | "transfer-encoding"
        ) {
            response = response.header(name, value);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    response
        .body(Body::from(bytes))
        .unwrap_or_else(|_| axum::http::StatusCode::BAD_GATEWAY.into_response())
}
