//! The HTTP core: limiter, retries, request ids, fault mapping, paging and batches.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;

use super::error::{QboError, parse_fault};
use super::limiter::{Limits, RealmLimiter};
use super::models::Entity;
use super::{Company, Endpoints, MINOR_VERSION, RequestId};

/// How hard to try before giving up on a call.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Tries in total, the first included.
    pub max_attempts: u32,
    /// First wait after a 5xx or a timeout; doubles each time.
    pub initial_backoff: Duration,
    /// Longest wait between tries.
    pub max_backoff: Duration,
    /// Wait after a 429: Intuit asks for 60 seconds.
    pub throttle_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            throttle_wait: Duration::from_secs(60),
        }
    }
}

/// Counters since the client was made, for metrics and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// HTTP requests sent to the Accounting API (retries included).
    pub calls: u64,
    /// 429 answers received.
    pub throttled: u64,
    /// Retries made.
    pub retries: u64,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    throttled: AtomicU64,
    retries: AtomicU64,
}

/// Told about every answer of the Accounting API (retries included) as `(entity, outcome)`:
/// the entity is the first part of the path (`invoice`, `query`, `batch`, …), the outcome
/// `ok`, `throttled` (429), `unauthorized`, `forbidden`, `rejected` (other 4xx),
/// `server_error` or `transport_error`. Metrics use it.
pub type CallObserver = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// A QBO client for every company: credentials are passed per call.
#[derive(Clone)]
pub struct QuickBooksClient {
    pub(super) http: reqwest::Client,
    pub(super) endpoints: Endpoints,
    limiter: RealmLimiter,
    retry: RetryPolicy,
    counters: Arc<Counters>,
    observer: Option<CallObserver>,
    timeout: Duration,
}

pub(super) struct Call<'a> {
    pub(super) method: Method,
    pub(super) path: String,
    pub(super) request_id: Option<&'a RequestId>,
    pub(super) extra_query: Vec<(&'static str, String)>,
    pub(super) body: Option<(String, &'static str)>,
    pub(super) weight: usize,
    pub(super) batch: bool,
}

/// The largest answer read from the Accounting API (a full query page is a few MB).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

impl QuickBooksClient {
    /// A client for `endpoints`, with a `timeout` per HTTP request.
    pub fn new(endpoints: Endpoints, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Ledgerbridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds");
        Self {
            http,
            endpoints,
            limiter: RealmLimiter::new(Limits::default()),
            retry: RetryPolicy::default(),
            counters: Arc::default(),
            observer: None,
            timeout,
        }
    }

    /// How long one HTTP request may take before the client gives up on it. A request given
    /// up on may still be processed by QuickBooks for about this long.
    pub fn request_timeout(&self) -> Duration {
        self.timeout
    }

    /// Reports every call's outcome to `observer` (see [`CallObserver`]).
    pub fn with_observer(mut self, observer: CallObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Replaces the retry policy (tests use short waits).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Replaces the per-realm limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limiter = RealmLimiter::new(limits);
        self
    }

    /// The endpoints this client talks to.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Counters since creation.
    pub fn stats(&self) -> CallStats {
        CallStats {
            calls: self.counters.calls.load(Ordering::Relaxed),
            throttled: self.counters.throttled.load(Ordering::Relaxed),
            retries: self.counters.retries.load(Ordering::Relaxed),
        }
    }

    /// Reads one entity by id.
    pub async fn read<E: Entity>(&self, co: &Company<'_>, id: &str) -> Result<E, QboError> {
        let path = format!("{}/{}", E::PATH, urlencode(id));
        let body = self.send(co, self.call(Method::GET, path)).await?;
        unwrap_entity(&body, E::NAME)
    }

    /// Creates an entity. The same `request_id` on a retry returns the first answer.
    pub async fn create<E: Entity>(
        &self,
        co: &Company<'_>,
        entity: &E,
        request_id: &RequestId,
    ) -> Result<E, QboError> {
        self.write(co, E::PATH, E::NAME, entity, request_id, None)
            .await
    }

    /// Creates an entity from its JSON text exactly as given (`path` e.g. `invoice`, `name`
    /// e.g. `Invoice`), returning QuickBooks' JSON of it. A send recorded before it was made is
    /// made again byte for byte with this.
    pub async fn create_text(
        &self,
        co: &Company<'_>,
        path: &str,
        name: &str,
        body: &str,
        request_id: &RequestId,
    ) -> Result<Value, QboError> {
        let mut call = self.call(Method::POST, path.to_owned());
        call.request_id = Some(request_id);
        call.body = Some((body.to_owned(), "application/json"));
        let text = self.send(co, call).await?;
        unwrap_entity(&text, name)
    }

    /// Updates an entity: it must carry `Id` and the current `SyncToken`; with `sparse: true`
    /// only the fields present change.
    pub async fn update<E: Entity>(
        &self,
        co: &Company<'_>,
        entity: &E,
        request_id: &RequestId,
    ) -> Result<E, QboError> {
        self.write(co, E::PATH, E::NAME, entity, request_id, None)
            .await
    }

    /// Deletes a transaction (`operation=delete`).
    pub async fn delete<E: Entity>(
        &self,
        co: &Company<'_>,
        id: &str,
        sync_token: &str,
        request_id: &RequestId,
    ) -> Result<(), QboError> {
        let body = serde_json::json!({ "Id": id, "SyncToken": sync_token });
        self.write::<Value, _>(co, E::PATH, E::NAME, &body, request_id, Some("delete"))
            .await?;
        Ok(())
    }

    /// Voids a transaction (`operation=void`), e.g. an invoice.
    pub async fn void<E: Entity>(
        &self,
        co: &Company<'_>,
        id: &str,
        sync_token: &str,
        request_id: &RequestId,
    ) -> Result<E, QboError> {
        let body = serde_json::json!({ "Id": id, "SyncToken": sync_token });
        self.write(co, E::PATH, E::NAME, &body, request_id, Some("void"))
            .await
    }

    async fn write<T: serde::de::DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        co: &Company<'_>,
        path: &str,
        name: &str,
        body: &B,
        request_id: &RequestId,
        operation: Option<&str>,
    ) -> Result<T, QboError> {
        let json = serde_json::to_string(body).map_err(|e| QboError::InvalidResponse {
            context: format!("serialising a {name}"),
            detail: e.to_string(),
        })?;
        let mut call = self.call(Method::POST, path.to_owned());
        call.request_id = Some(request_id);
        call.body = Some((json, "application/json"));
        if let Some(op) = operation {
            call.extra_query.push(("operation", op.to_owned()));
        }
        let text = self.send(co, call).await?;
        unwrap_entity(&text, name)
    }

    pub(super) fn call(&self, method: Method, path: String) -> Call<'static> {
        Call {
            method,
            path,
            request_id: None,
            extra_query: Vec::new(),
            body: None,
            weight: 1,
            batch: false,
        }
    }

    /// Sends one call with limiter, retries and fault mapping; returns the body of a 2xx.
    ///
    /// Every Accounting API request (reads, creates, queries, batches) goes through here, and
    /// every HTTP try is counted here (`counters`: calls, 429s, retries): the one place to
    /// meter QuickBooks traffic.
    pub(super) async fn send(&self, co: &Company<'_>, call: Call<'_>) -> Result<String, QboError> {
        let url = format!(
            "{}/v3/company/{}/{}",
            self.endpoints.api_base.as_str().trim_end_matches('/'),
            urlencode(co.realm_id),
            call.path
        );
        let mut query: Vec<(&str, String)> = vec![("minorversion", MINOR_VERSION.to_string())];
        if let Some(rid) = call.request_id {
            query.push(("requestid", rid.as_str().to_owned()));
        }
        query.extend(call.extra_query.iter().cloned());

        let mut attempt = 0;
        let mut backoff = self.retry.initial_backoff;
        loop {
            attempt += 1;
            self.limiter
                .acquire(co.realm_id, call.weight, call.batch)
                .await;
            self.counters.calls.fetch_add(1, Ordering::Relaxed);
            let mut request = self
                .http
                .request(call.method.clone(), &url)
                .query(&query)
                .bearer_auth(co.access_token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some((body, content_type)) = &call.body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, *content_type)
                    .body(body.clone());
            }
            let started = std::time::Instant::now();
            let outcome = request.send().await;
            let (wait, error) = match outcome {
                Err(e) => {
                    self.observe(&call, "transport_error");
                    let what = if e.is_timeout() {
                        "timed out"
                    } else {
                        "connection failed"
                    };
                    (
                        backoff,
                        QboError::Transport(format!("{} {what}: {}", call.path, without_url(&e))),
                    )
                }
                Ok(response) => {
                    let status = response.status();
                    let tid = intuit_tid(response.headers());
                    let text = match crate::providers::read_capped(response, MAX_BODY_BYTES).await {
                        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                        Err(crate::providers::BodyError::TooLarge) => {
                            self.log(co, &call, status, &tid, started);
                            return Err(QboError::InvalidResponse {
                                context: call.path.clone(),
                                detail: format!(
                                    "the answer is larger than {}, so it was not read",
                                    crate::providers::size_in_words(MAX_BODY_BYTES)
                                ),
                            });
                        }
                        Err(crate::providers::BodyError::Transport(e)) => {
                            let err = QboError::Transport(format!(
                                "{} body lost: {}",
                                call.path,
                                without_url(&e)
                            ));
                            self.log(co, &call, status, &tid, started);
                            if attempt >= self.retry.max_attempts {
                                return Err(err);
                            }
                            self.pause(backoff).await;
                            backoff = (backoff * 2).min(self.retry.max_backoff);
                            continue;
                        }
                    };
                    self.log(co, &call, status, &tid, started);
                    if status.is_success() {
                        return Ok(text);
                    }
                    let fault = parse_fault(&text);
                    if status == StatusCode::TOO_MANY_REQUESTS || fault.has_code("3001") {
                        self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                        (
                            self.retry.throttle_wait,
                            QboError::Throttled { intuit_tid: tid },
                        )
                    } else if status == StatusCode::UNAUTHORIZED {
                        return Err(QboError::Unauthorized {
                            fault,
                            intuit_tid: tid,
                        });
                    } else if status == StatusCode::FORBIDDEN {
                        return Err(QboError::Forbidden {
                            fault,
                            intuit_tid: tid,
                        });
                    } else if status.is_server_error() {
                        (
                            backoff,
                            QboError::Server {
                                status: status.as_u16(),
                                fault,
                                intuit_tid: tid,
                            },
                        )
                    } else {
                        return Err(QboError::Rejected {
                            status: status.as_u16(),
                            fault,
                            intuit_tid: tid,
                        });
                    }
                }
            };
            if attempt >= self.retry.max_attempts {
                return Err(error);
            }
            tracing::warn!(realm = co.realm_id, path = %call.path, attempt, error = %error, "retrying a QuickBooks call");
            self.pause(wait).await;
            if !matches!(error, QboError::Throttled { .. }) {
                backoff = (backoff * 2).min(self.retry.max_backoff);
            }
        }
    }

    fn observe(&self, call: &Call<'_>, outcome: &str) {
        if let Some(observer) = &self.observer {
            let entity = call.path.split(['/', '?']).next().unwrap_or_default();
            observer(&entity.to_ascii_lowercase(), outcome);
        }
    }

    async fn pause(&self, wait: Duration) {
        self.counters.retries.fetch_add(1, Ordering::Relaxed);
        // Up to 10 % jitter, so many companies retrying together do not stampede.
        let jitter = wait.mul_f64(rand::random::<f64>() * 0.1);
        tokio::time::sleep(wait + jitter).await;
    }

    fn log(
        &self,
        co: &Company<'_>,
        call: &Call<'_>,
        status: StatusCode,
        tid: &Option<String>,
        started: std::time::Instant,
    ) {
        self.observe(
            call,
            match status {
                s if s.is_success() => "ok",
                StatusCode::TOO_MANY_REQUESTS => "throttled",
                StatusCode::UNAUTHORIZED => "unauthorized",
                StatusCode::FORBIDDEN => "forbidden",
                s if s.is_server_error() => "server_error",
                _ => "rejected",
            },
        );
        tracing::debug!(
            realm = co.realm_id,
            method = %call.method,
            path = %call.path,
            status = status.as_u16(),
            intuit_tid = tid.as_deref().unwrap_or("-"),
            duration_ms = started.elapsed().as_millis() as u64,
            "QuickBooks call"
        );
    }
}

fn intuit_tid(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get("intuit_tid")
        .or_else(|| headers.get("intuit-tid"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// reqwest errors print the URL, which is harmless here but noisy; keep the kind only.
fn without_url(e: &reqwest::Error) -> String {
    let mut e = e.to_string();
    if let Some(i) = e.find(" for url (") {
        e.truncate(i);
    }
    e
}

pub(super) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) fn parse_json(text: &str, context: &str) -> Result<Value, QboError> {
    serde_json::from_str(text).map_err(|e| QboError::InvalidResponse {
        context: context.to_owned(),
        detail: e.to_string(),
    })
}

/// Takes `{"Invoice":{…},"time":…}` apart. A 2xx that carries a fault is a refusal.
pub(super) fn unwrap_entity<T: serde::de::DeserializeOwned>(
    text: &str,
    name: &str,
) -> Result<T, QboError> {
    let mut value = parse_json(text, name)?;
    if let Some(inner) = value.get_mut(name).map(Value::take) {
        return serde_json::from_value(inner).map_err(|e| QboError::InvalidResponse {
            context: name.to_owned(),
            detail: e.to_string(),
        });
    }
    let fault = parse_fault(text);
    if !fault.errors.is_empty() {
        return Err(QboError::Rejected {
            status: 200,
            fault,
            intuit_tid: None,
        });
    }
    Err(QboError::InvalidResponse {
        context: name.to_owned(),
        detail: format!("the response has no {name}"),
    })
}
