//! JSON helpers: money as `Decimal`, QBO timestamps, and the writer that puts money on the wire as
//! JSON numbers.
//!
//! Entities are kept as `serde_json` maps (QBO's shapes are wide and mostly pass-through), but every
//! money field is normalised into a *decimal string* when it is validated, and computed with
//! `rust_decimal::Decimal`. [`to_wire`] writes such strings back as bare JSON numbers, so no amount
//! ever goes through `f64` on its way out.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// Keys whose values are money or quantities. Stored as decimal strings, written as numbers.
pub const MONEY_KEYS: &[&str] = &[
    "Amount",
    "TotalAmt",
    "Balance",
    "HomeBalance",
    "HomeTotalAmt",
    "UnitPrice",
    "Qty",
    "TotalTax",
    "TaxPercent",
    "NetAmountTaxable",
    "CurrentBalance",
    "CurrentBalanceWithSubAccounts",
    "OpeningBalance",
    "RateValue",
    "PurchaseCost",
    "QtyOnHand",
    "ExchangeRate",
    "TaxAmount",
    "TaxInclusiveAmt",
    "BalanceWithJobs",
    "RemainingCredit",
];

/// Whether `key` holds money (or a quantity/rate) on the wire.
pub fn is_money_key(key: &str) -> bool {
    MONEY_KEYS.contains(&key)
}

/// Reads a decimal from a JSON number or numeric string. JSON numbers are converted through their
/// shortest textual form, never through float arithmetic.
pub fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string())
            .or_else(|_| Decimal::from_scientific(&n.to_string()))
            .ok(),
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        _ => None,
    }
}

/// The stored form of a money amount.
pub fn money(d: Decimal) -> Value {
    Value::String(d.normalize().to_string())
}

/// Rounds to cents, half away from zero (QBO's rounding for tax and amounts).
pub fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// Serialises a stored value for the wire: money strings under money keys become JSON numbers.
pub fn to_wire(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(v, None, &mut out);
    out
}

fn write_value(v: &Value, key: Option<&str>, out: &mut String) {
    match v {
        Value::String(s) if key.is_some_and(is_money_key) && Decimal::from_str(s).is_ok() => {
            out.push_str(s);
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_value(v, Some(k), out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, key, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// QBO's timestamp form with the company's UTC offset, e.g. `2014-11-06T15:37:25-08:00`.
pub fn meta_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The envelope's `time`, with milliseconds, e.g. `2015-02-09T10:17:20.251-08:00`.
pub fn envelope_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// `{"<Entity>": entity, "time": …}`.
pub fn envelope(name: &str, entity: Value, time: String) -> Value {
    let mut m = Map::new();
    m.insert(name.to_string(), entity);
    m.insert("time".into(), Value::String(time));
    Value::Object(m)
}

/// Follows a dotted path (`MetaData.LastUpdatedTime`) from an entity; references resolve to
/// their `value`. Field names match exactly first, then case-insensitively.
pub fn lookup<'a>(entity: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = get_ci(entity, parts.next()?)?;
    for part in parts {
        cur = get_ci(cur.as_object()?, part)?;
    }
    match cur {
        Value::Object(m) if m.contains_key("value") => m.get("value"),
        other => Some(other),
    }
}

fn get_ci<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A reference object `{"value": id, "name": name}`.
pub fn reference(id: &str, name: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("value".into(), Value::String(id.to_string()));
    if let Some(n) = name {
        m.insert("name".into(), Value::String(n.to_string()));
    }
    Value::Object(m)
}

/// The `value` of a reference object, accepting numbers too.
pub fn ref_value(v: Option<&Value>) -> Option<String> {
    match v?.get("value")? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A string field.
pub fn str_field<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros_free::dec;

    mod rust_decimal_macros_free {
        /// Tiny stand-in for `dec!` so the tests need no extra crate.
        pub fn dec(s: &str) -> rust_decimal::Decimal {
            s.parse().expect("decimal literal")
        }
    }

    #[test]
    fn money_strings_are_written_as_bare_numbers_only_under_money_keys() {
        let v = serde_json::json!({"Amount": "103.55", "DocNumber": "103.55", "Line": [{"Amount": "1"}]});
        assert_eq!(
            to_wire(&v),
            r#"{"Amount":103.55,"DocNumber":"103.55","Line":[{"Amount":1}]}"#
        );
    }

    #[test]
    fn json_numbers_become_exact_decimals() {
        assert_eq!(decimal_of(&serde_json::json!(103.55)), Some(dec("103.55")));
        assert_eq!(decimal_of(&serde_json::json!(0.1)), Some(dec("0.1")));
        assert_eq!(cents(dec("2.345")), dec("2.35"));
    }
}
