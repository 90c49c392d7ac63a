//! Change data capture: `GET /cdc?entities=Invoice,Bill&changedSince=<ISO date or date-time>`.
//! Entities changed at or after `changedSince` (look-back at most 30 days), at most 1000 per
//! entity, deleted transactions as `{"Id","status":"Deleted","domain":"QBO","MetaData"}`.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use super::fault::QboError;
use super::json::{envelope_time, meta_time};
use super::store::{Company, Kind};

const MAX_PER_ENTITY: usize = 1000;

fn parse_since(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

fn last_updated(e: &Map<String, Value>) -> Option<DateTime<Utc>> {
    e.get("MetaData")?
        .get("LastUpdatedTime")?
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
}

/// Builds the `CDCResponse` envelope.
pub fn respond(
    co: &Company,
    params: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Result<(Value, Vec<Kind>), QboError> {
    let names = params
        .get("entities")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| QboError::required("entities"))?;
    let since_raw = params
        .get("changedSince")
        .ok_or_else(|| QboError::required("changedSince"))?;
    let since =
        parse_since(since_raw).ok_or_else(|| QboError::unparseable("changedSince", since_raw))?;
    if since < now - Duration::days(30) {
        return Err(QboError::unsupported(&format!(
            "Operation cdc with changedSince date {since_raw} which is older than fixed days is not supported."
        )));
    }
    let mut responses = Vec::new();
    for name in names.split(',').map(str::trim) {
        // Entity names are case-insensitive here (unlike in queries).
        let kind = Kind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
            .filter(|k| !matches!(k, Kind::TaxCode | Kind::TaxRate | Kind::TaxAgency))
            .ok_or_else(|| QboError::bad_enum("entities", name))?;
        let mut rows: Vec<Value> = co
            .all(kind)
            .filter(|e| last_updated(e).is_some_and(|t| t >= since))
            .map(|e| Value::Object(e.clone()))
            .collect();
        for (id, (k, at)) in &co.deleted {
            if *k == kind && *at >= since {
                let t = meta_time(*at, co.tz());
                rows.push(json!({"Id": id.0, "status": "Deleted", "domain": "QBO",
                                 "MetaData": {"LastUpdatedTime": t}}));
            }
        }
        rows.truncate(MAX_PER_ENTITY);
        let mut qr = Map::new();
        if !rows.is_empty() {
            qr.insert("startPosition".into(), json!(1));
            qr.insert("maxResults".into(), json!(rows.len()));
            qr.insert(kind.name().into(), Value::Array(rows));
        }
        responses.push(Value::Object(qr));
    }
    Ok((
        json!({"CDCResponse": [{"QueryResponse": responses}], "time": envelope_time(now, co.tz())}),
        vec![],
    ))
}
