//! The `{"meta": {…}, "data": …}` envelope and record decoding with field-level errors.
//!
//! Records are decoded one by one from `serde_json::Value` so an error can say which record
//! (`data[3]`) and which top-level field (`invoiceDate`) was at fault, without echoing values
//! (which may be personal data) into logs.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{de, kind};
use crate::providers::tracktik::error::TrackTikError;

/// The paging part of a collection's `meta`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageMeta {
    /// Total number of matching records (may change between pages).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub count: Option<i64>,
    /// Rows on this page.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub item_count: Option<i64>,
    /// The page size the server applied.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub limit: Option<i64>,
    /// The offset the server applied.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub offset: Option<i64>,
}

/// One decoded page of a collection.
#[derive(Debug)]
pub(crate) struct Page<T> {
    /// The paging numbers.
    pub meta: PageMeta,
    /// The decoded records, in the server's order.
    pub records: Vec<T>,
}

/// Decodes a collection answer: `data` must be an array; `meta` may lack paging keys.
pub(crate) fn parse_page<T: DeserializeOwned>(
    resource: &str,
    body: Value,
) -> Result<Page<T>, TrackTikError> {
    let Value::Object(mut envelope) = body else {
        return Err(TrackTikError::invalid(
            resource,
            None,
            format!("expected a JSON object, found {}", kind(&body)),
        ));
    };
    let meta = match envelope.remove("meta") {
        None | Some(Value::Null) => PageMeta::default(),
        Some(meta) => PageMeta::deserialize(meta).map_err(|e| {
            TrackTikError::invalid(
                resource,
                Some(format!(
                    "meta.{}",
                    missing_field(&e.to_string()).unwrap_or("count")
                )),
                e.to_string(),
            )
        })?,
    };
    let data = match envelope.remove("data") {
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(TrackTikError::invalid(
                resource,
                Some("data".into()),
                format!("expected an array, found {}", kind(&other)),
            ));
        }
        None => {
            return Err(TrackTikError::invalid(
                resource,
                Some("data".into()),
                "missing field `data`",
            ));
        }
    };
    let records = data
        .into_iter()
        .enumerate()
        .map(|(i, item)| decode_record(resource, Some(i), item))
        .collect::<Result<Vec<T>, _>>()?;
    Ok(Page { meta, records })
}

/// Decodes a single-record answer (`GET /{resource}/{id}`): `data` must be an object.
pub(crate) fn parse_single<T: DeserializeOwned>(
    resource: &str,
    body: Value,
) -> Result<T, TrackTikError> {
    let Value::Object(mut envelope) = body else {
        return Err(TrackTikError::invalid(
            resource,
            None,
            format!("expected a JSON object, found {}", kind(&body)),
        ));
    };
    match envelope.remove("data") {
        Some(data @ Value::Object(_)) => decode_record(resource, None, data),
        Some(other) => Err(TrackTikError::invalid(
            resource,
            Some("data".into()),
            format!("expected an object, found {}", kind(&other)),
        )),
        None => Err(TrackTikError::invalid(
            resource,
            Some("data".into()),
            "missing field `data`",
        )),
    }
}

/// Decodes one record, naming the offending top-level field on failure.
pub(crate) fn decode_record<T: DeserializeOwned>(
    resource: &str,
    index: Option<usize>,
    item: Value,
) -> Result<T, TrackTikError> {
    let error = match T::deserialize(&item) {
        Ok(record) => return Ok(record),
        Err(e) => e.to_string(),
    };
    let field = missing_field(&error)
        .map(str::to_owned)
        .or_else(|| culprit::<T>(&item));
    let field = field.map(|f| match index {
        Some(i) => format!("data[{i}].{f}"),
        None => f,
    });
    let at = index.map(|i| format!("record {i}: ")).unwrap_or_default();
    Err(TrackTikError::invalid(
        resource,
        field,
        format!("{at}{}", redact(&error)),
    ))
}

/// Finds the top-level field whose value breaks decoding: the first one whose removal makes
/// decoding succeed, or changes the error into "missing field" for that very field.
fn culprit<T: DeserializeOwned>(item: &Value) -> Option<String> {
    let Value::Object(fields) = item else {
        return None;
    };
    fields.keys().find_map(|key| {
        let mut without = fields.clone();
        without.remove(key);
        match T::deserialize(&Value::Object(without)) {
            Ok(_) => Some(key.clone()),
            Err(e) if missing_field(&e.to_string()) == Some(key.as_str()) => Some(key.clone()),
            Err(_) => None,
        }
    })
}

/// The field named by serde's "missing field `x`" message.
pub(crate) fn missing_field(message: &str) -> Option<&str> {
    let rest = message.split("missing field `").nth(1)?;
    rest.split('`').next()
}

/// serde's messages quote the offending value (`invalid type: string "Ana Diaz"`); values may
/// be personal data, so keep only the part before the first quote.
fn redact(message: &str) -> String {
    match message.find('"') {
        Some(at) => format!("{}…", message[..at].trim_end()),
        None => message.to_owned(),
    }
}
