//! Structural comparison of a sandbox answer with a recorded one: keys at every level, value
//! types, string formats (dates, times with milliseconds and offsets, numeric ids), and the
//! values that identify a fault (`code`, `Message`, `element`, `type`).

use serde_json::Value;

/// The format class of a string value.
fn format_of(s: &str) -> &'static str {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let date = b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10);
    if date && b.len() == 10 {
        return "date";
    }
    if date && b.len() > 19 && b[10] == b'T' {
        let rest = &s[19..];
        let offset = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
        let millis = rest.starts_with('.');
        let zone = if offset == "Z" {
            "Z"
        } else if offset.len() == 6 && (offset.starts_with('+') || offset.starts_with('-')) {
            "offset"
        } else {
            "other"
        };
        return match (millis, zone) {
            (true, "offset") => "date-time with milliseconds and offset",
            (false, "offset") => "date-time with offset",
            (_, "Z") => "date-time in UTC",
            _ => "date-time of another form",
        };
    }
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        return "numeric text";
    }
    "text"
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Values compared exactly: what a client branches on in a fault.
const EXACT_IN_FAULTS: &[&str] = &["code", "Message", "element", "type"];

/// Every structural difference between `expected` (recorded shape) and `actual`.
pub fn differences(expected: &Value, actual: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(expected, actual, "$", false, &mut out);
    out
}

fn walk(expected: &Value, actual: &Value, path: &str, in_fault: bool, out: &mut Vec<String>) {
    if kind_of(expected) != kind_of(actual) {
        out.push(format!(
            "{path}: recorded {} but the sandbox answers {}",
            kind_of(expected),
            kind_of(actual)
        ));
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for k in e.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!(
                    "{path}.{k}: recorded, missing from the sandbox's answer"
                ));
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{k}: in the sandbox's answer, not recorded"));
            }
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    let fault = in_fault || k == "Fault" || k == "fault";
                    let here = format!("{path}.{k}");
                    if fault && EXACT_IN_FAULTS.contains(&k.as_str()) && ev.is_string() && ev != av
                    {
                        out.push(format!("{here}: recorded {ev}, the sandbox answers {av}"));
                        continue;
                    }
                    walk(ev, av, &here, fault, out);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            // A NameValue list holds a company's settings: which ones varies by company and year.
            if e.len() != a.len() && !path.ends_with(".NameValue") {
                out.push(format!(
                    "{path}: recorded {} items, the sandbox answers {}",
                    e.len(),
                    a.len()
                ));
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                walk(ev, av, &format!("{path}[{i}]"), in_fault, out);
            }
        }
        (Value::String(e), Value::String(a)) => {
            let (fe, fa) = (format_of(e), format_of(a));
            let free = |f: &str| f == "text" || f == "numeric text";
            if fe != fa && !(free(fe) && free(fa)) {
                out.push(format!(
                    "{path}: recorded {fe} ({e}), the sandbox answers {fa} ({a})"
                ));
            } else if (fe == "numeric text") != (fa == "numeric text") && path.ends_with(".Id") {
                out.push(format!("{path}: recorded {fe}, the sandbox answers {fa}"));
            }
        }
        _ => {}
    }
}

#[test]
fn formats_are_told_apart() {
    assert_eq!(
        format_of("2015-02-09T10:17:20.251-08:00"),
        "date-time with milliseconds and offset"
    );
    assert_eq!(
        format_of("2014-11-06T15:37:25-08:00"),
        "date-time with offset"
    );
    assert_eq!(
        format_of("2026-11-20T18:17:20+00:00"),
        "date-time with offset"
    );
    assert_eq!(format_of("2026-11-20T18:17:20.1234Z"), "date-time in UTC");
    assert_eq!(format_of("2014-11-06"), "date");
    assert_eq!(format_of("266"), "numeric text");
    let d = differences(
        &serde_json::json!({"a": {"b": 1, "c": "2014-11-06"}, "Fault": {"Error": [{"code": "6240"}]}}),
        &serde_json::json!({"a": {"b": "1", "d": true, "c": "x"}, "Fault": {"Error": [{"code": "6140"}]}}),
    );
    assert_eq!(d.len(), 4, "{d:#?}");
}
