//! `POST /batch`: up to 30 independent items (create/update/delete/void/query), each answered with
//! its entity, its `QueryResponse` or its own `Fault`; the HTTP status stays 200. An entity created
//! by one item is not visible to the others.

use serde_json::{Map, Value, json};

use super::api::{Op, apply};
use super::entities::Ctx;
use super::fault::QboError;
use super::json::envelope_time;
use super::query;
use super::store::{Company, Kind};

/// Most items one batch may carry.
pub const MAX_ITEMS: usize = 30;

/// Runs a batch; `Err` only for a malformed or oversized batch (HTTP 400).
/// With a `requestid`, every `bId` must be at most 10 characters (requestid + bId ≤ 50 at Intuit).
pub fn run(
    co: &mut Company,
    body: &[u8],
    base: &Ctx,
    with_requestid: bool,
) -> Result<(Value, Vec<Kind>), QboError> {
    let parsed: Value = serde_json::from_slice(body).map_err(|e| {
        QboError::unknown_property(&format!("(unparseable JSON: {e})"), "BatchItemRequest")
    })?;
    let Some(items) = parsed.get("BatchItemRequest").and_then(Value::as_array) else {
        return Err(QboError::required("BatchItemRequest"));
    };
    if items.len() > MAX_ITEMS {
        return Err(QboError::business(
            &format!(
                "A batch can hold at most {MAX_ITEMS} items; this one has {}.",
                items.len()
            ),
            "BatchItemRequest",
        ));
    }
    if with_requestid {
        for item in items {
            let len = item
                .get("bId")
                .and_then(Value::as_str)
                .map_or(0, |s| s.chars().count());
            if len > 10 {
                return Err(QboError::too_long("bId", 10, len));
            }
        }
    }
    let mut ctx = base.clone();
    ctx.visible_below = Some(co.next_id);
    let mut created = Vec::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let bid = item
            .get("bId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut m = Map::new();
        m.insert("bId".into(), json!(bid));
        match one(co, item, &ctx) {
            Ok((key, value, kinds)) => {
                m.insert(key, value);
                created.extend(kinds);
            }
            Err(err) => {
                m.insert("Fault".into(), err.fault_value());
            }
        }
        out.push(Value::Object(m));
    }
    Ok((
        json!({"BatchItemResponse": out, "time": envelope_time(ctx.now, co.tz())}),
        created,
    ))
}

fn one(co: &mut Company, item: &Value, base: &Ctx) -> Result<(String, Value, Vec<Kind>), QboError> {
    let Some(obj) = item.as_object() else {
        return Err(QboError::required("BatchItemRequest"));
    };
    if let Some(q) = obj.get("Query").and_then(Value::as_str) {
        return Ok(("QueryResponse".into(), query::run(co, q)?, vec![]));
    }
    let options = obj
        .get("optionsData")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut ctx = base.clone();
    if options.contains("allowduplicatedocnum") {
        ctx.allow_dup_doc = true;
    }
    let (kind, body) = obj
        .iter()
        .find_map(|(k, v)| Kind::from_query_name(k).map(|kind| (kind, v.clone())))
        .ok_or_else(|| QboError::required("BatchItemRequest entity"))?;
    let op = match obj.get("operation").and_then(Value::as_str) {
        Some("update") if options.contains("void") => Op::Void,
        Some("create") => Op::Create,
        Some("update") => Op::Update,
        Some("delete") => Op::Delete,
        Some("void") => Op::Void,
        Some(other) => return Err(QboError::bad_enum("operation", other)),
        None => return Err(QboError::required("operation")),
    };
    let (env, kinds) = apply(co, kind, op, body, &ctx)?;
    let entity = env.get(kind.name()).cloned().unwrap_or(Value::Null);
    Ok((kind.name().to_string(), entity, kinds))
}
