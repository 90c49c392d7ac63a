//! Lenient deserializers for TrackTik's scalar types.
//!
//! TrackTik's OpenAPI document types money (`Currency`, `CurrencyRate`) and quantities
//! (`Decimal`) as JSON numbers, `Date` as `YYYY-MM-DD` and timestamps (`TimeStampNumber`,
//! `TimeStampDate`, `DateTime`) as strings. Real portals are looser: a `Date` has been seen as
//! `2023-02-20T00:00:00+00:00`, numbers sometimes arrive as strings, and an empty string stands
//! for "no value". These helpers accept all of that and never go through `f64` for money.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::Deserializer;
use serde::de::{self, Visitor};

/// A loosely typed scalar: what any TrackTik scalar field may carry on the wire.
enum Scalar {
    Null,
    Bool(bool),
    Int(i128),
    /// A JSON number with a fraction or exponent, as serde_json printed it (shortest
    /// round-trip form, so `25.5` stays `25.5`).
    Float(f64),
    Str(String),
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a string, a boolean or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

/// Parses a decimal from its text form (`"25.50"`, `"1e3"`).
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .ok()
        .or_else(|| Decimal::from_scientific(text).ok())
}

fn decimal_from<E: de::Error>(value: Scalar) -> Result<Option<Decimal>, E> {
    match value {
        Scalar::Null => Ok(None),
        Scalar::Int(i) => Decimal::try_from_i128_with_scale(i, 0)
            .map(Some)
            .map_err(|_| E::custom("integer does not fit in a decimal")),
        // `f64::to_string` prints the shortest text that reads back as the same float, which is
        // the text TrackTik wrote for any amount with at most ~15 significant digits.
        Scalar::Float(f) if f.is_finite() => parse_decimal(&f.to_string())
            .map(Some)
            .ok_or_else(|| E::custom("number is not a decimal")),
        Scalar::Float(_) => Err(E::custom("number is not a decimal")),
        Scalar::Str(s) if s.trim().is_empty() => Ok(None),
        Scalar::Str(s) => parse_decimal(&s)
            .map(Some)
            .ok_or_else(|| E::custom(format!("expected a decimal number, found {s:?}"))),
        Scalar::Bool(b) => Err(E::custom(format!("expected a decimal number, found {b}"))),
    }
}

/// An optional decimal given as a JSON number or a numeric string; `null` and `""` are `None`.
pub(crate) fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    decimal_from(scalar(d)?)
}

/// An integer given as a JSON number or a numeric string (ids, counts).
pub(crate) fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match scalar(d)? {
        Scalar::Null => Ok(None),
        Scalar::Int(i) => i64::try_from(i)
            .map(Some)
            .map_err(|_| de::Error::custom("integer out of range")),
        Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        Scalar::Str(s) if s.trim().is_empty() => Ok(None),
        Scalar::Str(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected an integer, found {s:?}"))),
        _ => Err(de::Error::custom("expected an integer")),
    }
}

/// A boolean given as `true`/`false`, `1`/`0` or `"1"`/`"0"`/`"true"`/`"false"`.
pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match scalar(d)? {
        Scalar::Null => Ok(None),
        Scalar::Bool(b) => Ok(Some(b)),
        Scalar::Int(0) => Ok(Some(false)),
        Scalar::Int(1) => Ok(Some(true)),
        Scalar::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "1" | "true" | "yes" => Ok(Some(true)),
            "0" | "false" | "no" => Ok(Some(false)),
            _ => Err(de::Error::custom(format!(
                "expected a boolean, found {s:?}"
            ))),
        },
        _ => Err(de::Error::custom("expected a boolean")),
    }
}

/// A string field that TrackTik sometimes sends as a number (e.g. `aging`, `locked`).
pub(crate) fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match scalar(d)? {
        Scalar::Null => Ok(None),
        Scalar::Str(s) => Ok(Some(s)),
        Scalar::Int(i) => Ok(Some(i.to_string())),
        Scalar::Float(f) => Ok(Some(f.to_string())),
        Scalar::Bool(b) => Ok(Some(b.to_string())),
    }
}

/// Parses a timestamp: RFC 3339 (`2024-07-01T02:15:00+00:00`, `…Z`), the same with a
/// `+0000` offset, `YYYY-MM-DD HH:MM:SS` / `YYYY-MM-DDTHH:MM:SS` (taken as UTC), a bare
/// `YYYY-MM-DD` (midnight UTC) or Unix epoch seconds.
pub fn parse_timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(text, fmt) {
            return Some(t);
        }
    }
    let utc = FixedOffset::east_opt(0)?;
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, fmt) {
            return Some(utc.from_utc_datetime(&t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)));
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok().and_then(epoch);
    }
    None
}

fn epoch(seconds: i64) -> Option<DateTime<FixedOffset>> {
    Utc.timestamp_opt(seconds, 0)
        .single()
        .map(|t| t.fixed_offset())
}

/// Parses a calendar date: `YYYY-MM-DD`, or any timestamp [`parse_timestamp`] accepts, in
/// which case the date is the one written (in the timestamp's own offset, not converted).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .or_else(|| parse_timestamp(text).map(|t| t.date_naive()))
}

/// An optional `Date` in either form; `null` and `""` are `None`.
pub(crate) fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match scalar(d)? {
        Scalar::Null => Ok(None),
        Scalar::Str(s) if s.trim().is_empty() => Ok(None),
        Scalar::Str(s) => parse_date(&s)
            .map(Some)
            .ok_or_else(|| de::Error::custom(format!("expected a date (YYYY-MM-DD), found {s:?}"))),
        _ => Err(de::Error::custom("expected a date string")),
    }
}

/// An optional timestamp (ISO-8601 with offset, or epoch seconds); `null` and `""` are `None`.
pub(crate) fn opt_timestamp<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
    match scalar(d)? {
        Scalar::Null => Ok(None),
        Scalar::Str(s) if s.trim().is_empty() => Ok(None),
        Scalar::Str(s) => parse_timestamp(&s).map(Some).ok_or_else(|| {
            de::Error::custom(format!("expected an ISO-8601 timestamp, found {s:?}"))
        }),
        Scalar::Int(i) => i64::try_from(i)
            .ok()
            .and_then(epoch)
            .map(Some)
            .ok_or_else(|| de::Error::custom("epoch timestamp out of range")),
        _ => Err(de::Error::custom("expected a timestamp string")),
    }
}

/// A required integer id given as a number or a numeric string.
pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    opt_i64(d)?.ok_or_else(|| de::Error::custom("id is null"))
}
