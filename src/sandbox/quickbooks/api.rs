//! The Accounting API under `/v3/company/{realmId}/`: auth, throttling, fault injection,
//! `requestid` replay, then routing to reads, writes, queries and batches.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::SandboxState;
use super::entities::{self, Ctx};
use super::fault::{QboError, SERVICE_UNAVAILABLE_HTML, auth_response, throttle_xml};
use super::json::{envelope, envelope_time, to_wire};
use super::oauth::TokenProblem;
use super::runtime::{FaultKind, Tid, entry};
use super::store::{Company, Kind, Stored};
use super::{batch, cdc, query};

/// A computed answer: status and exact JSON body.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body bytes (UTF-8 JSON).
    pub body: String,
}

impl Answer {
    fn into_response(self) -> Response {
        (
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK),
            [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
            self.body,
        )
            .into_response()
    }
}

/// A fault as a full response body.
pub fn fault_answer(co: &Company, err: &QboError, now: chrono::DateTime<chrono::Utc>) -> Answer {
    let mut m = serde_json::Map::new();
    m.insert("Fault".into(), err.fault_value());
    if !err.omit_time {
        m.insert("time".into(), Value::String(envelope_time(now, co.tz())));
    }
    Answer {
        status: err.status,
        body: to_wire(&Value::Object(m)),
    }
}

/// Unknown paths: QBO's "Unsupported Operation".
pub async fn not_found(uri: Uri) -> Response {
    let err = QboError::unsupported(&format!(
        "Could not find resource for relative : {} of full path: {uri}",
        uri.path()
    ));
    let time = envelope_time(chrono::Utc::now(), chrono_tz::America::Los_Angeles);
    let body = serde_json::json!({"Fault": err.fault_value(), "time": time});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// `ANY /v3/company/{realm}/{*rest}`. A request QuickBooks has received is processed to the
/// end even when the client stops waiting for the answer (as a server does): the work runs in
/// its own task, which a closed connection does not cancel.
pub async fn handle(
    State(state): State<SandboxState>,
    Path((realm, rest)): Path<(String, String)>,
    Extension(tid): Extension<Tid>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let work = tokio::spawn(process(state, realm, rest, tid, method, uri, headers, body));
    match work.await {
        Ok(response) => response,
        // A dropped connection is injected by unwinding (see below): pass it on.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn process(
    state: SandboxState,
    realm: String,
    rest: String,
    tid: Tid,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = gate(&state, &headers, &realm, rest == "batch") {
        return refused;
    }
    let drop_after = match inject(&state, &method, &uri).await {
        Injected::Proceed { drop_after } => drop_after,
        Injected::Answer(injected) => return injected,
    };
    let params: HashMap<String, String> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let outcome = state.with_store(|s| {
        let now = s.clock.now();
        let co = s.companies.get_mut(&realm)?;
        Some(dispatch(
            co,
            &method,
            &rest,
            &params,
            &content_type,
            &body,
            now,
        ))
    });
    let Some((answer, wrote, created)) = outcome else {
        return auth_response(403, "The company no longer exists.", 0);
    };
    if wrote {
        state.save();
    }
    if let Some(kinds) = created {
        state.with_runtime(|r| {
            for k in kinds {
                r.count_create(&realm, k.name());
            }
        });
    }
    if drop_after {
        let query = uri.query().unwrap_or_default();
        let e = entry(&state, method.as_str(), uri.path(), query, 0, &tid.0);
        state.with_runtime(|r| r.log(e));
        // Unwinding out of the connection task closes the socket without a response; with
        // `resume_unwind` no panic hook runs, so nothing is printed.
        std::panic::resume_unwind(Box::new("sandbox fault injection: connection dropped"));
    }
    answer.into_response()
}

/// Authentication (401/403) and throttling (429), in that order, as Intuit's gateway does.
fn gate(
    state: &SandboxState,
    headers: &HeaderMap,
    realm: &str,
    is_batch: bool,
) -> Option<Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let (now, auth) = state.with_store(|s| {
        let now = s.clock.now();
        let auth = match token {
            None => Err(TokenProblem::Unauthorized(
                "Authorization header is missing or is not a Bearer token".into(),
            )),
            Some(t) => s.oauth.check_access(t, Some(realm), now),
        };
        let auth = auth.and_then(|r| {
            if s.companies.contains_key(&r) {
                Ok(r)
            } else {
                Err(TokenProblem::WrongRealm)
            }
        });
        (now, auth)
    });
    let millis = now.timestamp_millis();
    match auth {
        Err(TokenProblem::Unauthorized(d)) => return Some(auth_response(401, &d, millis)),
        Err(TokenProblem::WrongRealm) => {
            let detail = "The application is not authorized to access this company (realmId).";
            return Some(auth_response(403, detail, millis));
        }
        Ok(_) => {}
    }
    let enforce = state.rate_limits_enforced();
    if !state.with_runtime(|r| r.admit(realm, is_batch, now, enforce)) {
        return Some(throttled(state, realm, now));
    }
    None
}

/// What fault injection decided.
enum Injected {
    /// Answer with this instead of processing.
    Answer(Response),
    /// Process; maybe drop the connection afterwards.
    Proceed { drop_after: bool },
}

fn gateway_page(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let html = format!(
        "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
        code = status.as_u16()
    );
    (status, Html(html)).into_response()
}

/// The company's time zone (for `time` in fault bodies); Intuit's Pacific time when unknown.
fn realm_tz(state: &SandboxState, realm: &str) -> chrono_tz::Tz {
    state.with_store(|s| {
        s.companies
            .get(realm)
            .map_or(chrono_tz::America::Los_Angeles, Company::tz)
    })
}

/// The 429 answer: XML `ThrottleExceeded`, whatever `Accept` says; `time` in milliseconds and
/// the company's offset, as in JSON bodies.
fn throttled(state: &SandboxState, realm: &str, now: chrono::DateTime<chrono::Utc>) -> Response {
    let time = envelope_time(now, realm_tz(state, realm));
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::CONTENT_TYPE, "application/xml")],
        throttle_xml(&time),
    )
        .into_response()
}

/// Applies the first armed fault matching the call.
async fn inject(state: &SandboxState, method: &Method, uri: &Uri) -> Injected {
    let Some(fault) = state.with_runtime(|r| r.take_fault(method.as_str(), uri.path())) else {
        return Injected::Proceed { drop_after: false };
    };
    match fault.kind {
        FaultKind::ServerError => {
            let now = state.with_store(|s| s.clock.now());
            let realm = super::runtime::realm_of(uri.path()).unwrap_or_default();
            let time = envelope_time(now, realm_tz(state, &realm));
            let body = serde_json::json!({"Fault": QboError::system().fault_value(), "time": time});
            Injected::Answer((StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response())
        }
        FaultKind::Unavailable => Injected::Answer(
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Html(SERVICE_UNAVAILABLE_HTML),
            )
                .into_response(),
        ),
        FaultKind::BadGateway => Injected::Answer(gateway_page(StatusCode::BAD_GATEWAY)),
        FaultKind::GatewayTimeout => Injected::Answer(gateway_page(StatusCode::GATEWAY_TIMEOUT)),
        FaultKind::Throttle => {
            let realm = super::runtime::realm_of(uri.path()).unwrap_or_default();
            if !realm.is_empty() {
                state.with_runtime(|r| r.count_throttled(&realm));
            }
            let now = state.with_store(|s| s.clock.now());
            Injected::Answer(throttled(state, &realm, now))
        }
        FaultKind::Timeout => {
            tokio::time::sleep(std::time::Duration::from_secs(fault.seconds)).await;
            Injected::Proceed { drop_after: false }
        }
        FaultKind::Drop => Injected::Proceed { drop_after: true },
    }
}

/// Routes one API call; returns the answer, whether state changed, and the kinds created.
fn dispatch(
    co: &mut Company,
    method: &Method,
    rest: &str,
    params: &HashMap<String, String>,
    content_type: &str,
    body: &[u8],
    now: chrono::DateTime<chrono::Utc>,
) -> (Answer, bool, Option<Vec<Kind>>) {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let requestid = params.get("requestid").cloned();
    let is_write = *method == Method::POST && !matches!(segments.as_slice(), ["query"]);
    if is_write && let Some(rid) = &requestid {
        let max = if segments.as_slice() == ["batch"] {
            36
        } else {
            50
        };
        if rid.chars().count() > max {
            let err = QboError::too_long("requestid", max, rid.chars().count());
            return (fault_answer(co, &err, now), false, None);
        }
        if let Some(stored) = co.request_ids.get(rid) {
            let a = Answer {
                status: stored.status,
                body: stored.body.clone(),
            };
            return (a, false, None);
        }
    }
    if is_write && co.subscription_lapsed {
        return (
            fault_answer(co, &QboError::subscription_lapsed(), now),
            false,
            None,
        );
    }
    let mut ctx = Ctx::new(now);
    ctx.allow_dup_doc = params.get("include").is_some_and(|v| {
        v.split(',')
            .any(|p| p.eq_ignore_ascii_case("allowduplicatedocnum"))
    });
    let result: Result<(Value, Vec<Kind>), QboError> = match (method, segments.as_slice()) {
        (&Method::GET, ["companyinfo", id]) => {
            if *id == co.realm_id {
                Ok((
                    envelope(
                        "CompanyInfo",
                        Value::Object(co.info.clone()),
                        envelope_time(now, co.tz()),
                    ),
                    vec![],
                ))
            } else {
                Err(QboError::not_found(""))
            }
        }
        (&Method::GET, ["preferences"]) => Ok((
            envelope(
                "Preferences",
                Value::Object(co.prefs.clone()),
                envelope_time(now, co.tz()),
            ),
            vec![],
        )),
        (&Method::GET, ["query"]) => {
            let q = params.get("query").cloned().unwrap_or_default();
            query::respond(co, &q, now)
        }
        (&Method::POST, ["query"]) => match std::str::from_utf8(body) {
            Ok(q) => query::respond(co, q, now),
            Err(_) => Err(QboError::unsupported(
                "MalformedByteSequenceException: Invalid UTF-8",
            )),
        },
        (&Method::GET, ["cdc"]) => cdc::respond(co, params, now),
        (&Method::POST, ["batch"]) => batch::run(co, body, &ctx, requestid.is_some()),
        (&Method::GET, [seg, id]) => match Kind::from_segment(seg) {
            Some(kind) => entities::read(co, kind, id).map(|e| {
                (
                    envelope(kind.name(), Value::Object(e), envelope_time(now, co.tz())),
                    vec![],
                )
            }),
            None => Err(unsupported_path(&co.realm_id, rest)),
        },
        (&Method::POST, [seg]) => match Kind::from_segment(seg) {
            Some(kind) if content_type.is_empty() || content_type.contains("json") => entity_write(
                co,
                kind,
                params.get("operation").map(String::as_str),
                body,
                &ctx,
            ),
            Some(_) => Err(QboError::unsupported(
                "Content-Type must be application/json for entity requests",
            )),
            None => Err(unsupported_path(&co.realm_id, rest)),
        },
        _ => Err(unsupported_path(&co.realm_id, rest)),
    };
    let (answer, created) = match result {
        Ok((v, created)) => (
            Answer {
                status: 200,
                body: to_wire(&v),
            },
            Some(created),
        ),
        Err(err) => (fault_answer(co, &err, now), None),
    };
    if is_write && let Some(rid) = requestid {
        co.request_ids.insert(
            rid,
            Stored {
                status: answer.status,
                body: answer.body.clone(),
            },
        );
    }
    (answer, is_write, created)
}

fn unsupported_path(realm: &str, rest: &str) -> QboError {
    let relative = format!("/v3/company/{realm}/{rest}");
    QboError::unsupported(&format!(
        "Operation Could not find resource for relative : {relative} of full path: https://sandbox.qbo.intuit.com/qbo1{relative} is not supported."
    ))
}

/// Which write an entity POST is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// New entity.
    Create,
    /// Full or sparse update.
    Update,
    /// `operation=delete`.
    Delete,
    /// `operation=void`.
    Void,
}

impl Op {
    /// From `operation=` and the presence of `Id`.
    pub fn pick(operation: Option<&str>, body: &Value) -> Result<Op, QboError> {
        match operation {
            Some("delete") => Ok(Op::Delete),
            Some("void") => Ok(Op::Void),
            Some("update") => Ok(Op::Update),
            Some("create") => Ok(Op::Create),
            Some(other) => Err(QboError::unsupported(&format!(
                "Unsupported operation: {other}"
            ))),
            None if body.get("Id").is_some() => Ok(Op::Update),
            None => Ok(Op::Create),
        }
    }
}

/// Runs one entity write and wraps it in its envelope.
pub fn apply(
    co: &mut Company,
    kind: Kind,
    op: Op,
    body: Value,
    ctx: &Ctx,
) -> Result<(Value, Vec<Kind>), QboError> {
    let e = match op {
        Op::Create => entities::create(co, kind, body, ctx)?,
        Op::Update => entities::update(co, kind, body, ctx)?,
        Op::Delete => entities::delete(co, kind, body, ctx)?,
        Op::Void => entities::void(co, kind, body, ctx)?,
    };
    let created = if op == Op::Create { vec![kind] } else { vec![] };
    Ok((
        envelope(
            kind.name(),
            Value::Object(e),
            envelope_time(ctx.now, co.tz()),
        ),
        created,
    ))
}

fn entity_write(
    co: &mut Company,
    kind: Kind,
    operation: Option<&str>,
    body: &[u8],
    ctx: &Ctx,
) -> Result<(Value, Vec<Kind>), QboError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| QboError::unsupported("MalformedByteSequenceException: Invalid UTF-8"))?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        QboError::unknown_property(&format!("(unparseable JSON: {e})"), kind.name())
    })?;
    let op = Op::pick(operation, &value)?;
    apply(co, kind, op, value, ctx)
}
