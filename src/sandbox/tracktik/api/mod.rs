//! `/rest/v1`: bearer-token check, the `{meta, data}` envelope, collections, single records and
//! the pay-run approve action.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::oauth::Caller;
use super::query::{ApiError, Query, Renderer, select};
use super::schema::{self, Resource};
use super::server::{Shared, json as json_response};

/// TrackTik's error body: `{"status":…,"error":…}`.
pub fn error_response(status: u16, message: &str) -> Response {
    let mut r = json_response(status, json!({"status": status, "error": message}));
    if status == 401 {
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

impl From<ApiError> for Response {
    fn from(e: ApiError) -> Self {
        error_response(e.status, &e.message)
    }
}

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/rest/v1/{tag}", get(list))
        .route("/rest/v1/{tag}/{id}", get(one))
        .route("/rest/v1/{tag}/{id}/actions/{action}", post(action))
}

fn routed(tag: &str) -> Result<&'static Resource, ApiError> {
    schema::resource(tag)
        .filter(|r| r.routed)
        .ok_or_else(|| ApiError::new(404, format!("No route found for {tag}")))
}

fn pairs(raw: Option<String>) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|_| ApiError::bad("Malformed query string"))
}

fn meta(res: &Resource, request: Vec<String>, admin: bool) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("request".into(), json!(request));
    let (requested, granted_by) = if admin {
        (format!("admin:{}:view", res.tag), "admin:*")
    } else {
        ("employee:self:view".to_owned(), "employee:self:view")
    };
    m.insert(
        "security".into(),
        json!({
            "granted": true,
            "requested": requested,
            "grantedBy": granted_by,
            "scope": format!("core:entities:{}:read", res.tag),
        }),
    );
    m.insert("debug".into(), Value::Null);
    m.insert("resource".into(), json!(res.tag));
    m
}

/// What the caller may read: the administrator (`admin:*`) everything; anyone else only their
/// own employee record (`GET /employees/{their id}`), with a 403 for the rest. Returns whether
/// the caller is the administrator.
fn permit(shared: &Shared, caller: &Caller, tag: &str, id: Option<&str>) -> Result<bool, ApiError> {
    if caller.user == shared.portal().admin_employee {
        return Ok(true);
    }
    if tag == "employees" && id == Some(caller.user.to_string().as_str()) {
        return Ok(false);
    }
    Err(ApiError::new(
        403,
        format!("Your role does not give you access to {tag}"),
    ))
}

fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::new(
                401,
                "Authentication required: send an Authorization: Bearer token",
            )
        })?;
    let now = shared.now();
    shared
        .auth_peek()
        .caller(token, now)
        .ok_or_else(|| ApiError::new(401, "The access token is invalid or has expired"))
}

async fn list(
    State(shared): State<Arc<Shared>>,
    Path(tag): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    list_inner(&shared, &tag, &headers, raw).unwrap_or_else(Response::from)
}

fn list_inner(
    shared: &Shared,
    tag: &str,
    headers: &HeaderMap,
    raw: Option<String>,
) -> Result<Response, ApiError> {
    let caller = authorize(shared, headers)?;
    let res = routed(tag)?;
    let admin = permit(shared, &caller, tag, None)?;
    let mut query = Query::parse(res, &pairs(raw)?, true)?;
    let portal = shared.portal();
    region_filter(&portal, res, headers, &mut query)?;
    let (count, rows) = query.run(&portal, &shared.indexes, res);
    let mut renderer = Renderer::new(&portal, &shared.base_url, &shared.indexes);
    let data: Vec<Value> = rows
        .iter()
        .map(|r| {
            let v = renderer.render(res, r, &query.includes);
            match &query.fields {
                Some(f) => select(v, f),
                None => v,
            }
        })
        .collect();
    let mut m = meta(res, vec![res.tag.to_owned()], admin);
    m.insert("count".into(), json!(count));
    m.insert("itemCount".into(), json!(data.len()));
    m.insert("limit".into(), json!(query.limit));
    m.insert("offset".into(), json!(query.offset));
    Ok(json_response(200, json!({"meta": m, "data": data})))
}

/// `TTC-Region-Filter: 2,3` narrows collections to those regions (through `region`, or the
/// client's or pay run's region). Ids that are not regions are ignored; when none is valid the
/// header is ignored, as TrackTik falls back to every permitted region.
fn region_filter(
    portal: &super::store::Portal,
    res: &'static Resource,
    headers: &HeaderMap,
    query: &mut Query,
) -> Result<(), ApiError> {
    let Some(raw) = headers
        .get("ttc-region-filter")
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(());
    };
    // Global records (no region) stay visible.
    if matches!(res.tag, "bill-items" | "payroll-codes" | "tax-classes") {
        return Ok(());
    }
    let valid: Vec<String> = raw
        .split(',')
        .filter_map(|s| s.trim().parse::<i64>().ok())
        .filter(|id| portal.get("regions", *id).is_some())
        .map(|id| id.to_string())
        .collect();
    let path = [
        "region",
        "client.region",
        "payrun.region",
        "invoiceLine.invoice.client.region",
    ]
    .into_iter()
    .find(|p| super::query::check_path(res, p).is_ok());
    if let (false, Some(path)) = (valid.is_empty(), path) {
        let f = super::query::Filter::parse(res, &format!("{path}:in"), &valid.join(","))?;
        query.filters.push(f);
    }
    Ok(())
}

async fn one(
    State(shared): State<Arc<Shared>>,
    Path((tag, id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    one_inner(&shared, &tag, &id, &headers, raw).unwrap_or_else(Response::from)
}

fn not_found(res: &Resource, id: &str) -> ApiError {
    ApiError::new(404, format!("{} {id} not found", res.tag))
}

fn render_one(
    shared: &Shared,
    res: &'static Resource,
    id: &str,
    query: &Query,
) -> Result<Value, ApiError> {
    let n: i64 = id.parse().map_err(|_| not_found(res, id))?;
    let portal = shared.portal();
    let row = portal.get(res.tag, n).ok_or_else(|| not_found(res, id))?;
    let v =
        Renderer::new(&portal, &shared.base_url, &shared.indexes).render(res, row, &query.includes);
    Ok(match &query.fields {
        Some(f) => select(v, f),
        None => v,
    })
}

/// TrackTik's schema for a single line-tax record types `invoiceLine` as a list of invoice-line
/// objects (its collection schema: a list of ids), so single records carry the lines expanded.
fn single_record_defaults(res: &Resource, query: &mut Query) {
    if res.tag == "invoice-line-taxes" {
        query.includes.0.entry("invoiceLine".into()).or_default();
    }
}

fn one_inner(
    shared: &Shared,
    tag: &str,
    id: &str,
    headers: &HeaderMap,
    raw: Option<String>,
) -> Result<Response, ApiError> {
    let caller = authorize(shared, headers)?;
    let res = routed(tag)?;
    let admin = permit(shared, &caller, tag, Some(id))?;
    let mut query = Query::parse(res, &pairs(raw)?, false)?;
    single_record_defaults(res, &mut query);
    let data = render_one(shared, res, id, &query)?;
    let m = meta(res, vec![res.tag.to_owned(), id.to_owned()], admin);
    Ok(json_response(200, json!({"meta": m, "data": data})))
}

async fn action(
    State(shared): State<Arc<Shared>>,
    Path((tag, id, action)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    action_inner(&shared, &tag, &id, &action, &headers).unwrap_or_else(Response::from)
}

fn action_inner(
    shared: &Shared,
    tag: &str,
    id: &str,
    action: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(shared, headers)?;
    let res = routed(tag)?;
    permit(shared, &caller, tag, None)?;
    if (tag, action) != ("payroll-payruns", "approve") {
        return Err(ApiError::new(404, format!("No action {action} on {tag}")));
    }
    let n: i64 = id.parse().map_err(|_| not_found(res, id))?;
    let now = shared.now();
    shared
        .portal_mut()
        .approve_payrun(n, Some(caller.user), now)
        .map_err(|e| match e {
            super::store::StoreError::NotFound(..) => not_found(res, id),
            other => ApiError::bad(other.to_string()),
        })?;
    let data = render_one(shared, res, id, &Query::default())?;
    let m = meta(
        res,
        vec![
            res.tag.to_owned(),
            id.to_owned(),
            "actions".into(),
            action.into(),
        ],
        true,
    );
    Ok(json_response(200, json!({"meta": m, "data": data})))
}
