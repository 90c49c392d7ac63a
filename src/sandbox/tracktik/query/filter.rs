//! Filters: `field=value`, `field:op=value`, dotted relation paths.

use std::cmp::Ordering;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{ApiError, MAX_IN_VALUES, check_path};
use crate::sandbox::tracktik::schema::{Kind, Resource, Ty, resource};
use crate::sandbox::tracktik::store::{Portal, Row, dec};

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Eq(String),
    In(Vec<String>),
    Not(String),
    Gt(String),
    Gte(String),
    Lt(String),
    Lte(String),
    IsNull,
    IsNotNull,
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    Before(String),
    After(String),
    Between(String, String),
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub path: Vec<String>,
    pub ty: Ty,
    pub op: Op,
    /// Parsed bounds of the range operators: (lower or single value, upper end).
    lo: Option<Key>,
    hi: Option<Key>,
    /// The values of `eq`, `in` and `not` on a number field, parsed once (a filter is tried on
    /// every row of its table).
    nums: Vec<Decimal>,
}

/// The type of the last field of a (checked) dotted path.
fn path_type(res: &'static Resource, path: &[String]) -> Ty {
    let mut current = res;
    let mut ty = Ty::Str;
    for seg in path {
        let Some(f) = current.field(seg) else {
            return ty;
        };
        ty = f.ty;
        if let Kind::Rel(t) | Kind::RelList(t) = f.kind {
            current = resource(t).unwrap_or(current);
        }
    }
    ty
}

impl Filter {
    pub fn parse(res: &'static Resource, param: &str, value: &str) -> Result<Filter, ApiError> {
        let (field, op) = param.split_once(':').unwrap_or((param, ""));
        check_path(res, field)?;
        let v = value.to_owned();
        let op = match op {
            "" | "eq" => Op::Eq(v),
            "in" | "inSet" => {
                let vals: Vec<String> = value
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
                if vals.len() > MAX_IN_VALUES {
                    return Err(ApiError::bad(format!(
                        "{field}:in accepts at most {MAX_IN_VALUES} values"
                    )));
                }
                Op::In(vals)
            }
            "not" | "neq" => Op::Not(v),
            "gt" => Op::Gt(v),
            "gte" => Op::Gte(v),
            "lt" => Op::Lt(v),
            "lte" => Op::Lte(v),
            "isnull" => Op::IsNull,
            "isnotnull" => Op::IsNotNull,
            "contains" => Op::Contains(v.to_lowercase()),
            "startswith" => Op::StartsWith(v.to_lowercase()),
            "endswith" => Op::EndsWith(v.to_lowercase()),
            "before" => Op::Before(v),
            "after" => Op::After(v),
            "between" => {
                let (a, b) = value.split_once('|').ok_or_else(|| {
                    ApiError::bad(format!("{field}:between expects two values separated by |"))
                })?;
                Op::Between(a.trim().to_owned(), b.trim().to_owned())
            }
            other => {
                return Err(ApiError::bad(format!(
                    "{other} is not a valid operator for {field}"
                )));
            }
        };
        let path: Vec<String> = field.split('.').map(str::to_owned).collect();
        let ty = path_type(res, &path);
        let name = field;
        let parse = |v: &str, upper: bool| {
            key(ty, v, upper)
                .map(Some)
                .ok_or_else(|| ApiError::bad(format!("{v} is not a valid value for {name}")))
        };
        let (lo, hi) = match &op {
            Op::Gt(v) | Op::Gte(v) | Op::Lt(v) | Op::Before(v) | Op::After(v) => {
                (parse(v, false)?, None)
            }
            Op::Lte(v) => (None, parse(v, true)?),
            Op::Between(a, b) => (parse(a, false)?, parse(b, true)?),
            _ => (None, None),
        };
        let nums = match (&op, ty) {
            (Op::Eq(x) | Op::Not(x), Ty::Int | Ty::Num) => {
                Decimal::from_str(x.trim()).into_iter().collect()
            }
            (Op::In(xs), Ty::Int | Ty::Num) => xs
                .iter()
                .filter_map(|x| Decimal::from_str(x.trim()).ok())
                .collect(),
            _ => Vec::new(),
        };
        Ok(Filter {
            path,
            ty,
            op,
            lo,
            hi,
            nums,
        })
    }

    /// The ids this filter names, when it is `id=…` or `id:in=…` (so the table can be read by
    /// key instead of scanned).
    pub fn id_set(&self) -> Option<Vec<i64>> {
        if self.path != ["id"] || !matches!(self.op, Op::Eq(_) | Op::In(_)) {
            return None;
        }
        Some(
            self.nums
                .iter()
                .filter_map(|d| i64::try_from(*d).ok())
                .collect(),
        )
    }

    /// `field` and its integer values, when this filter is `field=…` or `field:in=…` on an
    /// integer field of the row itself (so the rows can be found through an index).
    pub fn int_values(&self) -> Option<(&str, Vec<i64>)> {
        let [field] = self.path.as_slice() else {
            return None;
        };
        if self.ty != Ty::Int || !matches!(self.op, Op::Eq(_) | Op::In(_)) {
            return None;
        }
        let values = self
            .nums
            .iter()
            .filter(|d| d.fract().is_zero())
            .filter_map(|d| i64::try_from(*d).ok())
            .collect();
        Some((field.as_str(), values))
    }

    /// The id every matching row is above, when this filter is `id:gt=…` (keyset paging).
    pub fn id_above(&self) -> Option<i64> {
        match (&self.op, &self.lo) {
            (Op::Gt(_), Some(Key::Num(d))) if self.path == ["id"] => i64::try_from(d.floor()).ok(),
            _ => None,
        }
    }

    fn is_number(&self) -> bool {
        matches!(self.ty, Ty::Int | Ty::Num)
    }

    /// Whether the number `v` equals one of this filter's parsed values.
    fn num_equals(&self, v: &Value) -> bool {
        let n = match v.as_i64() {
            Some(i) => Some(Decimal::from(i)),
            None => dec(v),
        };
        n.is_some_and(|n| self.nums.contains(&n))
    }

    /// Whether `row` (a record of `res`) passes the filter.
    pub fn matches(&self, portal: &Portal, res: &'static Resource, row: &Row) -> bool {
        static NULL: Value = Value::Null;
        // A field of the row itself (the usual case) is read in place, without copying.
        if let [field] = self.path.as_slice() {
            return match row.get(field.as_str()).unwrap_or(&NULL) {
                Value::Array(items) if !items.is_empty() => self.check(items.iter()),
                Value::Array(_) => self.check(std::iter::once(&NULL)),
                v => self.check(std::iter::once(v)),
            };
        }
        let mut values = Vec::new();
        resolve(portal, res, row, &self.path, &mut values);
        self.check(values.iter())
    }

    /// Whether the values found at the path pass the filter.
    fn check<'v>(&self, mut values: impl Iterator<Item = &'v Value>) -> bool {
        match &self.op {
            Op::IsNull => values.all(|v| v.is_null()),
            Op::IsNotNull => values.any(|v| !v.is_null()),
            Op::Not(_) if self.is_number() => values.all(|v| !v.is_null() && !self.num_equals(v)),
            Op::Not(x) => values.all(|v| !v.is_null() && !equals(self.ty, v, x)),
            op => values.any(|v| !v.is_null() && self.test(op, v)),
        }
    }

    fn test(&self, op: &Op, v: &Value) -> bool {
        let row = || match v.as_str() {
            Some(s) => key(self.ty, s, false),
            None => key(self.ty, &text(v), false),
        };
        let vs = |bound: &Option<Key>| -> Option<Ordering> { Some(row()?.cmp(bound.as_ref()?)) };
        use Ordering::{Equal, Greater, Less};
        match op {
            Op::Eq(_) | Op::In(_) if self.is_number() => self.num_equals(v),
            Op::Eq(x) => equals(self.ty, v, x),
            Op::In(xs) => xs.iter().any(|x| equals(self.ty, v, x)),
            Op::Gt(_) | Op::After(_) => vs(&self.lo) == Some(Greater),
            Op::Gte(_) => matches!(vs(&self.lo), Some(Greater | Equal)),
            Op::Lt(_) | Op::Before(_) => vs(&self.lo) == Some(Less),
            Op::Lte(_) => matches!(vs(&self.hi), Some(Less | Equal)),
            Op::Between(..) => {
                let Some(r) = row() else { return false };
                self.lo.as_ref().is_some_and(|lo| r >= *lo)
                    && self.hi.as_ref().is_some_and(|hi| r <= *hi)
            }
            Op::Contains(x) => text(v).to_lowercase().contains(x.as_str()),
            Op::StartsWith(x) => text(v).to_lowercase().starts_with(x.as_str()),
            Op::EndsWith(x) => text(v).to_lowercase().ends_with(x.as_str()),
            Op::IsNull | Op::IsNotNull | Op::Not(_) => false,
        }
    }
}

/// Collects the values at `path` (several when the path crosses an id list).
fn resolve(
    portal: &Portal,
    res: &'static Resource,
    row: &Row,
    path: &[String],
    out: &mut Vec<Value>,
) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let v = row.get(first.as_str()).cloned().unwrap_or(Value::Null);
    if rest.is_empty() {
        match v {
            Value::Array(items) if !items.is_empty() => out.extend(items),
            Value::Array(_) => out.push(Value::Null),
            v => out.push(v),
        }
        return;
    }
    let target = match res.field(first).map(|f| f.kind) {
        Some(Kind::Rel(t) | Kind::RelList(t)) => t,
        _ => return,
    };
    let ids: Vec<i64> = match &v {
        Value::Array(items) => items.iter().filter_map(Value::as_i64).collect(),
        v => v.as_i64().into_iter().collect(),
    };
    if ids.is_empty() {
        out.push(Value::Null);
    }
    for id in ids {
        if rest.len() == 1 && rest[0] == "id" {
            out.push(id.into());
        } else if let (Some(r), Some(t)) = (portal.get(target, id), resource(target)) {
            resolve(portal, t, r, rest, out);
        } else {
            out.push(Value::Null);
        }
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A comparable form of a value of type `ty`. `upper`: a date-only bound on a timestamp
/// field means the end of that day (so `:between=2024-07-01|2024-07-01` is the whole day).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Num(Decimal),
    Date(NaiveDate),
    Instant(DateTime<Utc>),
    Text(String),
}

fn key(ty: Ty, v: &str, upper: bool) -> Option<Key> {
    let v = v.trim();
    match ty {
        Ty::Int | Ty::Num => Decimal::from_str(v).ok().map(Key::Num),
        Ty::Date => parse_instant(v, false).map(|t| Key::Date(t.date_naive())),
        Ty::Ts => canonical_utc(v)
            .or_else(|| parse_instant(v, upper))
            .map(Key::Instant),
        _ => Some(Key::Text(v.to_lowercase())),
    }
}

/// `2024-07-01T02:15:00+00:00`, the way the sandbox stores every timestamp, read without the
/// general parser (a filter on a timestamp reads one on every row of its table).
fn canonical_utc(v: &str) -> Option<DateTime<Utc>> {
    let b = v.as_bytes();
    let shaped = b.len() == 25
        && &b[19..] == b"+00:00"
        && b[..19].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
    if !shaped {
        return None;
    }
    let n = |from: usize, to: usize| v[from..to].parse::<u32>().ok();
    let day = NaiveDate::from_ymd_opt(i32::try_from(n(0, 4)?).ok()?, n(5, 7)?, n(8, 10)?)?;
    let time = NaiveTime::from_hms_opt(n(11, 13)?, n(14, 16)?, n(17, 19)?)?;
    Some(day.and_time(time).and_utc())
}

/// Accepts `2024-07-01`, `2024-07-01 02:15:00`, `2024-07-01T02:15:00` (UTC) and RFC 3339.
pub fn parse_instant(v: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, fmt) {
            return Some(t.and_utc());
        }
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
    let time = if end_of_day {
        NaiveTime::from_hms_opt(23, 59, 59)?
    } else {
        NaiveTime::MIN
    };
    Some(d.and_time(time).and_utc())
}

fn equals(ty: Ty, v: &Value, x: &str) -> bool {
    match ty {
        Ty::Bool => {
            let want = matches!(x.trim().to_lowercase().as_str(), "true" | "1" | "yes");
            v.as_bool() == Some(want)
        }
        Ty::Int | Ty::Num => match (dec(v), Decimal::from_str(x.trim())) {
            (Some(a), Ok(b)) => a == b,
            _ => false,
        },
        Ty::Date | Ty::Ts => match (key(ty, &text(v), false), key(ty, x, false)) {
            (Some(a), Some(b)) => a == b,
            _ => text(v).eq_ignore_ascii_case(x.trim()),
        },
        _ => match v.as_str() {
            Some(s) => s.eq_ignore_ascii_case(x.trim()),
            None => text(v).eq_ignore_ascii_case(x.trim()),
        },
    }
}

/// Ordering used by `sort`: nulls first, then by the field's type.
pub fn compare_values(ty: Ty, a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let norm = |v: Option<&Value>| {
        v.filter(|v| !v.is_null())
            .and_then(|v| key(ty, &text(v), false))
    };
    norm(a).cmp(&norm(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_timestamp_reads_the_same_through_the_short_path_and_the_general_parser() {
        for v in ["2026-12-07T09:30:05+00:00", "2024-02-29T23:59:59+00:00"] {
            assert_eq!(canonical_utc(v), parse_instant(v, false), "{v}");
        }
        for v in [
            "2026-12-07T09:30:05+01:00",
            "2026-12-07 09:30:05",
            "2026-13-07T09:30:05+00:00",
        ] {
            assert_eq!(canonical_utc(v), None, "{v}");
        }
    }
}
