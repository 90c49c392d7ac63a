//! Things that are not persisted: the request log, statistics, armed faults and rate windows. Also
//! the middleware that stamps `intuit_tid` / `QBO-Version` on every response and logs the call.

use std::collections::{BTreeMap, HashMap, VecDeque};

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::SandboxState;

const LOG_CAPACITY: usize = 50_000;
/// Per realm: requests per minute, per second, batches per minute.
pub const PER_MINUTE: usize = 500;
/// Requests per second per realm.
pub const PER_SECOND: usize = 10;
/// Batch requests per minute per realm.
pub const BATCHES_PER_MINUTE: usize = 40;

/// One logged request.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// Sequence number.
    pub seq: u64,
    /// Sandbox time of the request.
    pub time: String,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string.
    pub query: String,
    /// Realm, for API calls.
    pub realm_id: Option<String>,
    /// `minorversion` as sent.
    pub minorversion: Option<String>,
    /// The minor version QBO answers with (<75 or absent ⇒ 75).
    pub effective_minorversion: u32,
    /// `requestid` as sent.
    pub requestid: Option<String>,
    /// Response status (0 when the connection was dropped on purpose).
    pub status: u16,
    /// `intuit_tid` sent back.
    pub intuit_tid: String,
}

/// What an armed fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 500 with a JSON SystemFault (code 10000).
    #[serde(alias = "500")]
    ServerError,
    /// 503 with the load balancer's HTML page.
    #[serde(alias = "503")]
    Unavailable,
    /// 502 with an HTML gateway page.
    #[serde(alias = "502")]
    BadGateway,
    /// 504 with an HTML gateway page, at once.
    #[serde(alias = "504")]
    GatewayTimeout,
    /// 429 with the XML ThrottleExceeded body, whatever the windows say (counted as throttled).
    #[serde(alias = "429")]
    Throttle,
    /// Hold the request `seconds`, then process it normally.
    Timeout,
    /// Process (and commit) the request, then drop the connection without answering.
    #[serde(alias = "drop_connection")]
    Drop,
}

/// An armed fault.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FaultRule {
    /// Id (for listing).
    #[serde(default)]
    pub id: u64,
    /// What happens.
    pub kind: FaultKind,
    /// How many matching calls it still affects.
    #[serde(default = "one")]
    pub count: u32,
    /// Only calls whose path contains this.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Only calls with this method.
    #[serde(default)]
    pub method: Option<String>,
    /// For `timeout`: how long to hold the request.
    #[serde(default = "default_hold")]
    pub seconds: u64,
}

fn one() -> u32 {
    1
}

fn default_hold() -> u64 {
    130
}

/// Recent call times and recent batch times of one realm.
type Windows = (VecDeque<DateTime<Utc>>, VecDeque<DateTime<Utc>>);

/// Non-persisted runtime state.
#[derive(Debug, Default)]
pub struct Runtime {
    /// Request log (bounded).
    pub log: VecDeque<LogEntry>,
    next_seq: u64,
    /// Armed faults.
    pub faults: Vec<FaultRule>,
    next_fault: u64,
    /// API calls per realm.
    pub calls_per_realm: BTreeMap<String, u64>,
    /// 429s per realm.
    pub throttled_per_realm: BTreeMap<String, u64>,
    /// Creates per realm and entity.
    pub creates: BTreeMap<String, BTreeMap<String, u64>>,
    windows: HashMap<String, Windows>,
    /// When set, `GET /connect/oauth2` skips the page and consents for this realm at once.
    pub auto_consent: Option<String>,
}

impl Runtime {
    /// Appends to the log.
    pub fn log(&mut self, mut entry: LogEntry) {
        self.next_seq += 1;
        entry.seq = self.next_seq;
        if self.log.len() >= LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(entry);
    }

    /// Arms a fault; returns its id.
    pub fn arm(&mut self, mut rule: FaultRule) -> u64 {
        self.next_fault += 1;
        rule.id = self.next_fault;
        self.faults.push(rule);
        self.next_fault
    }

    /// Takes one use of the first fault matching the call.
    pub fn take_fault(&mut self, method: &str, path: &str) -> Option<FaultRule> {
        let i = self.faults.iter().position(|f| {
            f.count > 0
                && f.path_contains.as_deref().is_none_or(|p| path.contains(p))
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        let rule = self.faults[i].clone();
        self.faults[i].count -= 1;
        if self.faults[i].count == 0 {
            self.faults.remove(i);
        }
        Some(rule)
    }

    /// Counts a call against the realm's windows; `false` means throttle (429).
    pub fn admit(
        &mut self,
        realm: &str,
        is_batch: bool,
        now: DateTime<Utc>,
        enforce: bool,
    ) -> bool {
        *self.calls_per_realm.entry(realm.to_string()).or_default() += 1;
        let (calls, batches) = self.windows.entry(realm.to_string()).or_default();
        let minute_ago = now - Duration::seconds(60);
        while calls.front().is_some_and(|t| *t <= minute_ago) {
            calls.pop_front();
        }
        while batches.front().is_some_and(|t| *t <= minute_ago) {
            batches.pop_front();
        }
        let second_ago = now - Duration::seconds(1);
        let last_second = calls.iter().rev().take_while(|t| **t > second_ago).count();
        let over = calls.len() >= PER_MINUTE
            || last_second >= PER_SECOND
            || (is_batch && batches.len() >= BATCHES_PER_MINUTE);
        if enforce && over {
            *self
                .throttled_per_realm
                .entry(realm.to_string())
                .or_default() += 1;
            return false;
        }
        calls.push_back(now);
        if is_batch {
            batches.push_back(now);
        }
        true
    }

    /// Counts an injected 429.
    pub fn count_throttled(&mut self, realm: &str) {
        *self
            .throttled_per_realm
            .entry(realm.to_string())
            .or_default() += 1;
    }

    /// Forgets the rate windows (control API).
    pub fn reset_windows(&mut self) {
        self.windows.clear();
    }

    /// Counts a successful create.
    pub fn count_create(&mut self, realm: &str, entity: &str) {
        *self
            .creates
            .entry(realm.to_string())
            .or_default()
            .entry(entity.to_string())
            .or_default() += 1;
    }
}

/// A fresh `intuit_tid`, shaped like Intuit's (`1-5f733c5a-55d0ff60812923e8b22c622b`).
pub fn new_tid() -> String {
    let mut rng = rand::rng();
    format!(
        "1-{:08x}-{:024x}",
        rng.random::<u32>(),
        rng.random::<u128>() & ((1u128 << 96) - 1)
    )
}

/// The realm of an API path `/v3/company/{realm}/…`.
pub fn realm_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/v3/company/")?;
    Some(rest.split('/').next()?.to_string())
}

/// Builds a log entry for a call.
pub fn entry(
    state: &SandboxState,
    method: &str,
    path: &str,
    query: &str,
    status: u16,
    tid: &str,
) -> LogEntry {
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let param = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let minorversion = param("minorversion");
    let effective = minorversion
        .as_deref()
        .and_then(|m| m.parse::<u32>().ok())
        .map_or(75, |m| m.max(75));
    let now = state.with_store(|s| s.clock.now());
    LogEntry {
        seq: 0,
        time: now.to_rfc3339(),
        method: method.into(),
        path: path.into(),
        query: query.into(),
        realm_id: realm_of(path),
        minorversion,
        effective_minorversion: effective,
        requestid: param("requestid"),
        status,
        intuit_tid: tid.into(),
    }
}

/// Middleware: `intuit_tid` + `QBO-Version` on every response; logs Intuit-facing calls.
pub async fn tag_and_log(State(state): State<SandboxState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let tid = new_tid();
    let mut req = req;
    req.extensions_mut().insert(Tid(tid.clone()));
    let mut resp = next.run(req).await;
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&tid) {
        headers.insert("intuit_tid", v);
    }
    headers.insert("qbo-version", HeaderValue::from_static("1944.190"));
    headers.insert("server", HeaderValue::from_static("nginx"));
    if !path.starts_with("/__sandbox") {
        let e = entry(&state, &method, &path, &query, resp.status().as_u16(), &tid);
        state.with_runtime(|r| r.log(e));
    }
    resp
}

/// The `intuit_tid` of the current request (request extension).
#[derive(Debug, Clone)]
pub struct Tid(pub String);
