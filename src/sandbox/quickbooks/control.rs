//! The test-only control API under `/__sandbox/` (JSON in and out, no auth): companies, settings,
//! faults, tokens, clock, request log, stats, OAuth clients, rate limits.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::runtime::FaultRule;
use super::seed;
use super::store::Flavour;
use super::{OAuthClient, SandboxState};

/// Control routes.
pub fn routes() -> Router<SandboxState> {
    Router::new()
        .route(
            "/__sandbox/companies",
            get(list_companies).post(create_company),
        )
        .route("/__sandbox/companies/{realm}/reset", post(reset_company))
        .route("/__sandbox/companies/{realm}/settings", post(settings))
        .route(
            "/__sandbox/faults",
            get(list_faults).post(arm_fault).delete(clear_faults),
        )
        .route("/__sandbox/tokens/revoke", post(revoke_tokens))
        .route("/__sandbox/tokens/expire", post(expire_tokens))
        .route("/__sandbox/clock", get(get_clock).post(set_clock))
        .route("/__sandbox/requests", get(requests).delete(clear_requests))
        .route("/__sandbox/stats", get(stats))
        .route("/__sandbox/clients", post(register_client))
        .route("/__sandbox/rate-limits", post(rate_limits))
        .route("/__sandbox/oauth/code", post(issue_code))
        .route("/__sandbox/oauth/auto-consent", post(auto_consent))
}

fn bad(msg: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": msg}))).into_response()
}

fn company_json(c: &super::store::Company) -> Value {
    json!({
        "realmId": c.realm_id,
        "name": c.info.get("CompanyName"),
        "flavour": c.flavour,
        "country": c.info.get("Country"),
    })
}

async fn list_companies(State(state): State<SandboxState>) -> Json<Value> {
    Json(state.with_store(|s| Value::Array(s.companies.values().map(company_json).collect())))
}

#[derive(Deserialize)]
struct NewCompany {
    flavour: Flavour,
    name: Option<String>,
    realm_id: Option<String>,
}

async fn create_company(
    State(state): State<SandboxState>,
    Json(req): Json<NewCompany>,
) -> Response {
    if req
        .realm_id
        .as_deref()
        .is_some_and(|r| !super::entities::is_numeric(r))
    {
        return bad("realm_id must be numeric");
    }
    let body = state.with_store(|s| {
        let realm = req.realm_id.clone().unwrap_or_else(|| {
            s.next_realm += 1;
            format!("{}", 9_341_453_000_000_100u64 + s.next_realm)
        });
        let now = s.clock.now();
        let co = seed::company(&realm, req.flavour, req.name.as_deref(), now);
        let body = company_json(&co);
        s.companies.insert(realm, co);
        body
    });
    state.save();
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn reset_company(State(state): State<SandboxState>, Path(realm): Path<String>) -> Response {
    let body = state.with_store(|s| {
        let now = s.clock.now();
        let old = s.companies.get(&realm)?;
        let name = old
            .info
            .get("CompanyName")
            .and_then(Value::as_str)
            .map(str::to_string);
        let co = seed::company(&realm, old.flavour, name.as_deref(), now);
        let body = company_json(&co);
        s.companies.insert(realm.clone(), co);
        Some(body)
    });
    match body {
        Some(b) => {
            state.save();
            Json(b).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such company"})),
        )
            .into_response(),
    }
}

#[derive(Deserialize)]
struct Settings {
    /// `Some(None)` clears the date.
    #[serde(default, deserialize_with = "serde_with_option::deserialize")]
    book_close_date: Option<Option<String>>,
    reject_payroll_wage_expenses: Option<bool>,
    subscription_lapsed: Option<bool>,
    duplicate_doc_check: Option<bool>,
    /// `Preferences.OtherPrefs.NameValue` values to set, e.g. `{"WarnDuplicateBillNumber": "true"}`.
    other_prefs: Option<std::collections::BTreeMap<String, String>>,
    use_account_numbers: Option<bool>,
    multicurrency: Option<bool>,
    class_tracking: Option<bool>,
    department_tracking: Option<bool>,
}

/// Distinguishes an absent field from an explicit `null`.
mod serde_with_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

async fn settings(
    State(state): State<SandboxState>,
    Path(realm): Path<String>,
    Json(req): Json<Settings>,
) -> Response {
    if let Some(Some(d)) = &req.book_close_date
        && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
    {
        return bad("book_close_date must be YYYY-MM-DD");
    }
    let prefs = state.with_store(|s| {
        let co = s.companies.get_mut(&realm)?;
        let set = |co: &mut super::store::Company, section: &str, key: &str, v: Value| {
            if let Some(Value::Object(sec)) = co.prefs.get_mut(section) {
                sec.insert(key.into(), v);
            }
        };
        match &req.book_close_date {
            Some(Some(d)) => set(co, "AccountingInfoPrefs", "BookCloseDate", json!(d)),
            Some(None) => {
                if let Some(Value::Object(sec)) = co.prefs.get_mut("AccountingInfoPrefs") {
                    sec.remove("BookCloseDate");
                }
            }
            None => {}
        }
        if let Some(b) = req.reject_payroll_wage_expenses {
            co.reject_payroll_wage = b;
        }
        if let Some(b) = req.subscription_lapsed {
            co.subscription_lapsed = b;
        }
        if let Some(b) = req.duplicate_doc_check {
            // The whole check, and with it QuickBooks' three per-type preferences.
            co.duplicate_doc_check = b;
            for name in [
                "WarnDuplicateCheckNumber",
                "WarnDuplicateBillNumber",
                "WarnDuplicateJournalNumber",
            ] {
                co.set_other_pref(name, if b { "true" } else { "false" });
            }
        }
        for (name, value) in req.other_prefs.iter().flatten() {
            co.set_other_pref(name, value);
        }
        if let Some(b) = req.use_account_numbers {
            set(co, "AccountingInfoPrefs", "UseAccountNumbers", json!(b));
        }
        if let Some(b) = req.multicurrency {
            set(co, "CurrencyPrefs", "MultiCurrencyEnabled", json!(b));
        }
        if let Some(b) = req.class_tracking {
            set(
                co,
                "AccountingInfoPrefs",
                "ClassTrackingPerTxnLine",
                json!(b),
            );
        }
        if let Some(b) = req.department_tracking {
            set(co, "AccountingInfoPrefs", "TrackDepartments", json!(b));
        }
        Some(json!({
            "Preferences": co.prefs,
            "reject_payroll_wage_expenses": co.reject_payroll_wage,
            "subscription_lapsed": co.subscription_lapsed,
            "duplicate_doc_check": co.duplicate_doc_check,
        }))
    });
    match prefs {
        Some(p) => {
            state.save();
            Json(p).into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such company"})),
        )
            .into_response(),
    }
}

async fn list_faults(State(state): State<SandboxState>) -> Json<Value> {
    Json(state.with_runtime(|r| json!(r.faults)))
}

async fn arm_fault(State(state): State<SandboxState>, Json(rule): Json<FaultRule>) -> Json<Value> {
    let id = state.with_runtime(|r| r.arm(rule));
    Json(json!({"id": id}))
}

async fn clear_faults(State(state): State<SandboxState>) -> Json<Value> {
    state.with_runtime(|r| r.faults.clear());
    Json(json!({"cleared": true}))
}

#[derive(Deserialize)]
struct TokenTarget {
    token: Option<String>,
    realm_id: Option<String>,
}

async fn revoke_tokens(
    State(state): State<SandboxState>,
    Json(t): Json<TokenTarget>,
) -> Json<Value> {
    let n = state.with_store(|s| match &t.token {
        Some(tok) => usize::from(s.oauth.revoke_token(tok, None)),
        None => s.oauth.revoke_realm(t.realm_id.as_deref()),
    });
    state.save();
    Json(json!({"revoked": n}))
}

async fn expire_tokens(
    State(state): State<SandboxState>,
    Json(t): Json<TokenTarget>,
) -> Json<Value> {
    let n = state.with_store(|s| {
        let now = s.clock.now();
        s.oauth.expire_access(t.realm_id.as_deref(), now)
    });
    state.save();
    Json(json!({"expired": n}))
}

fn clock_json(state: &SandboxState) -> Json<Value> {
    Json(state.with_store(
        |s| json!({"now": s.clock.now().to_rfc3339(), "offset_seconds": s.clock.offset_seconds, "frozen": s.clock.frozen_at.is_some()}),
    ))
}

async fn get_clock(State(state): State<SandboxState>) -> Json<Value> {
    clock_json(&state)
}

#[derive(Deserialize)]
struct ClockChange {
    offset_seconds: Option<i64>,
    freeze: Option<bool>,
    advance_seconds: Option<i64>,
    now: Option<DateTime<Utc>>,
}

async fn set_clock(State(state): State<SandboxState>, Json(c): Json<ClockChange>) -> Json<Value> {
    state.with_store(|s| {
        if let Some(f) = c.freeze {
            s.clock.set_frozen(f);
        }
        if let Some(o) = c.offset_seconds {
            s.clock.offset_seconds = o;
        }
        if let Some(a) = c.advance_seconds {
            s.clock.offset_seconds += a;
        }
        if let Some(n) = c.now {
            s.clock.set_now(n);
        }
    });
    state.save();
    clock_json(&state)
}

#[derive(Deserialize)]
struct LogFilter {
    realm_id: Option<String>,
    since_seq: Option<u64>,
}

async fn requests(State(state): State<SandboxState>, Query(f): Query<LogFilter>) -> Json<Value> {
    Json(state.with_runtime(|r| {
        let rows: Vec<_> = r
            .log
            .iter()
            .filter(|e| f.realm_id.is_none() || e.realm_id == f.realm_id)
            .filter(|e| f.since_seq.is_none_or(|s| e.seq > s))
            .collect();
        json!(rows)
    }))
}

async fn clear_requests(State(state): State<SandboxState>) -> Json<Value> {
    state.with_runtime(|r| r.log.clear());
    Json(json!({"cleared": true}))
}

async fn stats(State(state): State<SandboxState>) -> Json<Value> {
    Json(state.with_runtime(|r| {
        json!({
            "calls_per_realm": r.calls_per_realm,
            "throttled": r.throttled_per_realm.values().sum::<u64>(),
            "throttled_per_realm": r.throttled_per_realm,
            "creates_per_entity": r.creates,
        })
    }))
}

async fn register_client(
    State(state): State<SandboxState>,
    Json(c): Json<OAuthClient>,
) -> Json<Value> {
    let id = c.client_id.clone();
    state.register_client(c);
    Json(json!({"registered": id}))
}

#[derive(Deserialize)]
struct RateLimits {
    enforce: Option<bool>,
    #[serde(default)]
    reset: bool,
}

async fn rate_limits(State(state): State<SandboxState>, Json(r): Json<RateLimits>) -> Json<Value> {
    if let Some(on) = r.enforce {
        state.set_rate_limits(on);
    }
    if r.reset {
        state.with_runtime(|rt| rt.reset_windows());
    }
    Json(json!({"enforce": state.rate_limits_enforced()}))
}

#[derive(Deserialize)]
struct CodeRequest {
    client_id: String,
    redirect_uri: String,
    realm_id: String,
    /// Scopes consented to; default the accounting scope alone (`openid` adds an id_token).
    #[serde(default = "accounting_scope")]
    scope: String,
}

fn accounting_scope() -> String {
    "com.intuit.quickbooks.accounting".into()
}

async fn issue_code(State(state): State<SandboxState>, Json(c): Json<CodeRequest>) -> Response {
    if !state.client_allows(&c.client_id, &c.redirect_uri) {
        return bad("unknown client_id or unregistered redirect_uri");
    }
    if !state.has_company(&c.realm_id) {
        return bad("no such company");
    }
    let code = state.with_store(|s| {
        let now = s.clock.now();
        s.oauth
            .issue_code(&c.client_id, &c.redirect_uri, &c.realm_id, &c.scope, now)
    });
    state.save();
    Json(json!({"code": code, "realmId": c.realm_id})).into_response()
}

#[derive(Deserialize)]
struct AutoConsent {
    realm_id: Option<String>,
}

async fn auto_consent(State(state): State<SandboxState>, Json(a): Json<AutoConsent>) -> Response {
    if let Some(r) = &a.realm_id
        && !state.has_company(r)
    {
        return bad("no such company");
    }
    state.with_runtime(|rt| rt.auto_consent.clone_from(&a.realm_id));
    Json(json!({"auto_consent": a.realm_id})).into_response()
}
