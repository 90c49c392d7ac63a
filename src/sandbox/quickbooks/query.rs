//! The QBO query language subset:
//! `SELECT * | count(*) FROM E [WHERE f op v [AND …]] [ORDERBY f [ASC|DESC]] [STARTPOSITION n] [MAXRESULTS n]`
//! with `= < > <= >= IN LIKE`. OR, JOIN, projections and anything else ⇒ 4001.

use std::cmp::Ordering;
use std::str::FromStr;

use chrono::DateTime;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::fault::QboError;
use super::json::{envelope_time, lookup};
use super::store::{Company, Kind};

const DEFAULT_PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(String),
    Op(String),
    LParen,
    RParen,
    Comma,
    Star,
}

fn tokenize(q: &str) -> Result<Vec<Tok>, QboError> {
    let chars: Vec<char> = q.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '*' => {
                out.push(Tok::Star);
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(QboError::query("unterminated string literal")),
                        Some('\\') => {
                            if let Some(n) = chars.get(i + 1) {
                                s.push(*n);
                            }
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            '<' | '>' | '=' | '!' => {
                let mut op = c.to_string();
                if matches!(chars.get(i + 1), Some('=') | Some('>')) && c != '=' {
                    op.push(chars[i + 1]);
                    i += 1;
                }
                out.push(Tok::Op(op));
                i += 1;
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                out.push(Tok::Num(chars[start..i].iter().collect()));
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.'))
                {
                    i += 1;
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
            other => return Err(QboError::query(&format!("unexpected character '{other}'"))),
        }
    }
    Ok(out)
}

/// A condition `field op value(s)`.
#[derive(Debug, Clone)]
struct Cond {
    field: String,
    op: String,
    values: Vec<String>,
}

/// A parsed query.
#[derive(Debug, Clone)]
struct Parsed {
    count: bool,
    entity: String,
    conds: Vec<Cond>,
    order: Option<(String, bool)>,
    start: usize,
    max: usize,
}

struct P {
    toks: Vec<Tok>,
    i: usize,
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }
    fn keyword(&mut self, kw: &str) -> bool {
        if let Some(Tok::Word(w)) = self.peek()
            && w.eq_ignore_ascii_case(kw)
        {
            self.i += 1;
            return true;
        }
        false
    }
    fn expect_kw(&mut self, kw: &str) -> Result<(), QboError> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(QboError::query(&format!("expected {kw}")))
        }
    }
    fn word(&mut self, what: &str) -> Result<String, QboError> {
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            _ => Err(QboError::query(&format!("expected {what}"))),
        }
    }
    fn number(&mut self) -> Result<usize, QboError> {
        match self.next() {
            Some(Tok::Num(n)) => n
                .parse()
                .map_err(|_| QboError::query("expected a positive number")),
            _ => Err(QboError::query("expected a number")),
        }
    }
    fn value(&mut self) -> Result<String, QboError> {
        match self.next() {
            Some(Tok::Str(s)) | Some(Tok::Num(s)) => Ok(s),
            Some(Tok::Word(w))
                if w.eq_ignore_ascii_case("true") || w.eq_ignore_ascii_case("false") =>
            {
                Ok(w.to_ascii_lowercase())
            }
            _ => Err(QboError::query("expected a value")),
        }
    }
}

fn parse(q: &str) -> Result<Parsed, QboError> {
    let mut p = P {
        toks: tokenize(q)?,
        i: 0,
    };
    p.expect_kw("select")?;
    let count = match p.next() {
        Some(Tok::Star) => false,
        Some(Tok::Word(w)) if w.eq_ignore_ascii_case("count") => {
            if p.next() != Some(Tok::LParen)
                || p.next() != Some(Tok::Star)
                || p.next() != Some(Tok::RParen)
            {
                return Err(QboError::query("expected count(*)"));
            }
            true
        }
        _ => {
            return Err(QboError::query(
                "only SELECT * and SELECT count(*) are supported",
            ));
        }
    };
    p.expect_kw("from")?;
    let entity = p.word("an entity name")?;
    let mut conds = Vec::new();
    if p.keyword("where") {
        loop {
            let field = p.word("a field name")?;
            let op = match p.next() {
                Some(Tok::Op(o)) if ["=", "<", ">", "<=", ">="].contains(&o.as_str()) => o,
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => "in".to_string(),
                Some(Tok::Word(w)) if w.eq_ignore_ascii_case("like") => "like".to_string(),
                _ => {
                    return Err(QboError::query(&format!(
                        "unsupported operator after {field}"
                    )));
                }
            };
            let values = if op == "in" {
                if p.next() != Some(Tok::LParen) {
                    return Err(QboError::query("expected ( after IN"));
                }
                let mut vs = vec![p.value()?];
                loop {
                    match p.next() {
                        Some(Tok::Comma) => vs.push(p.value()?),
                        Some(Tok::RParen) => break,
                        _ => return Err(QboError::query("expected , or ) in IN list")),
                    }
                }
                vs
            } else {
                vec![p.value()?]
            };
            conds.push(Cond { field, op, values });
            if !p.keyword("and") {
                break;
            }
        }
    }
    let mut order = None;
    if p.keyword("orderby") || (p.keyword("order") && p.keyword("by")) {
        let field = p.word("a field name")?;
        let desc = if p.keyword("desc") {
            true
        } else {
            p.keyword("asc");
            false
        };
        order = Some((field, desc));
    }
    let mut start = None;
    let mut max = None;
    // QBO takes the two paging clauses in either order.
    loop {
        if start.is_none() && p.keyword("startposition") {
            start = Some(p.number()?);
        } else if max.is_none() && p.keyword("maxresults") {
            max = Some(p.number()?);
        } else {
            break;
        }
    }
    if start == Some(0) {
        return Err(QboError::query(
            "value 0 is too small. Min allowed value is 1",
        ));
    }
    let start = start.unwrap_or(1);
    let mut max = max.unwrap_or(DEFAULT_PAGE);
    if let Some(t) = p.peek() {
        return Err(QboError::query(&format!("unexpected token {t:?}")));
    }
    if max > MAX_PAGE {
        max = MAX_PAGE;
    }
    Ok(Parsed {
        count,
        entity,
        conds,
        order,
        start,
        max,
    })
}

fn compare(actual: &Value, expected: &str) -> Option<Ordering> {
    let text = value_text(actual)?;
    if let (Ok(a), Ok(b)) = (Decimal::from_str(&text), Decimal::from_str(expected)) {
        return Some(a.cmp(&b));
    }
    if let (Ok(a), Ok(b)) = (
        DateTime::parse_from_rfc3339(&text),
        DateTime::parse_from_rfc3339(expected),
    ) {
        return Some(a.cmp(&b));
    }
    Some(text.to_lowercase().cmp(&expected.to_lowercase()))
}

fn like(actual: &Value, pattern: &str) -> bool {
    let Some(text) = actual.as_str() else {
        return false;
    };
    let text = text.to_lowercase();
    let pat = pattern.to_lowercase();
    let parts: Vec<&str> = pat.split('%').collect();
    if parts.len() == 1 {
        return text == pat;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) {
        return false;
    }
    let mut pos = first.len();
    for part in &parts[1..parts.len() - 1] {
        match text[pos..].find(part) {
            Some(found) => pos += found + part.len(),
            None => return false,
        }
    }
    text.len() >= pos + last.len() && text[pos..].ends_with(last)
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn matches(e: &Map<String, Value>, c: &Cond) -> bool {
    let Some(actual) = lookup(e, &c.field) else {
        return false;
    };
    match c.op.as_str() {
        "=" => compare(actual, &c.values[0]) == Some(Ordering::Equal),
        "<" => compare(actual, &c.values[0]) == Some(Ordering::Less),
        ">" => compare(actual, &c.values[0]) == Some(Ordering::Greater),
        "<=" => matches!(
            compare(actual, &c.values[0]),
            Some(Ordering::Less | Ordering::Equal)
        ),
        ">=" => matches!(
            compare(actual, &c.values[0]),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        "in" => c
            .values
            .iter()
            .any(|v| compare(actual, v) == Some(Ordering::Equal)),
        "like" => like(actual, &c.values[0]),
        _ => false,
    }
}

/// Candidate rows, narrowed through an index when the query pins `DocNumber` or `Id`.
fn candidates<'a>(co: &'a Company, kind: Kind, conds: &[Cond]) -> Vec<&'a Map<String, Value>> {
    for c in conds.iter().filter(|c| c.op == "=") {
        if kind.is_transaction() && c.field.eq_ignore_ascii_case("DocNumber") {
            return co
                .by_doc_number(kind, &c.values[0])
                .iter()
                .filter_map(|id| co.get(kind, &id.0))
                .collect();
        }
        if c.field.eq_ignore_ascii_case("Id") {
            return co.get(kind, &c.values[0]).into_iter().collect();
        }
    }
    co.all(kind).collect()
}

/// Runs a query and builds the `{"QueryResponse":…,"time":…}` envelope.
pub fn respond(
    co: &Company,
    q: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Value, Vec<Kind>), QboError> {
    let qr = run(co, q)?;
    Ok((
        json!({"QueryResponse": qr, "time": envelope_time(now, co.tz())}),
        vec![],
    ))
}

/// Runs a query; returns the `QueryResponse` object. Like QBO, a `SELECT *` page carries
/// `startPosition` and `maxResults` (rows returned) but no `totalCount`; only `count(*)` does.
pub fn run(co: &Company, q: &str) -> Result<Value, QboError> {
    let p = parse(q)?;
    let rows: Vec<&Map<String, Value>> = match p.entity.as_str() {
        "CompanyInfo" => vec![&co.info],
        "Preferences" => vec![&co.prefs],
        name => {
            let kind = Kind::from_query_name(name)
                .ok_or_else(|| QboError::query(&format!("invalid context declaration: {name}")))?;
            let active_filtered = p
                .conds
                .iter()
                .any(|c| c.field.eq_ignore_ascii_case("Active"));
            candidates(co, kind, &p.conds)
                .into_iter()
                .filter(|e| {
                    !kind.is_name_list()
                        || active_filtered
                        || e.get("Active").and_then(Value::as_bool) != Some(false)
                })
                .collect()
        }
    };
    let mut rows: Vec<&Map<String, Value>> = rows
        .into_iter()
        .filter(|e| p.conds.iter().all(|c| matches(e, c)))
        .collect();
    if p.count {
        return Ok(json!({"totalCount": rows.len()}));
    }
    if let Some((field, desc)) = &p.order {
        rows.sort_by(|a, b| {
            let ord = match (lookup(a, field), lookup(b, field).and_then(value_text)) {
                (Some(va), Some(tb)) => compare(va, &tb).unwrap_or(Ordering::Equal),
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            if *desc { ord.reverse() } else { ord }
        });
    }
    let page: Vec<Value> = rows
        .into_iter()
        .skip(p.start - 1)
        .take(p.max)
        .map(|e| Value::Object(e.clone()))
        .collect();
    if page.is_empty() {
        return Ok(json!({}));
    }
    let mut m = Map::new();
    m.insert("startPosition".into(), json!(p.start));
    m.insert("maxResults".into(), json!(page.len()));
    m.insert(p.entity.clone(), Value::Array(page));
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn or_and_projections_and_joins_are_refused_with_4001() {
        for q in [
            "select * from Invoice where DocNumber = '1' or DocNumber = '2'",
            "select Id, DocNumber from Invoice",
            "select * from Invoice join Customer",
        ] {
            assert_eq!(parse(q).map(|_| ()).unwrap_err().code, "4001", "{q}");
        }
    }

    #[test]
    fn paging_clauses_come_in_either_order_and_startposition_0_is_4001() {
        let a = parse("select * from Vendor MAXRESULTS 5 STARTPOSITION 6").expect("parses");
        let b = parse("select * from Vendor STARTPOSITION 6 MAXRESULTS 5").expect("parses");
        assert_eq!((a.start, a.max), (6, 5));
        assert_eq!((b.start, b.max), (6, 5));
        let err = parse("select * from Invoice startPosition 0 maxResults 500").unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.detail.as_str()),
            (
                "4001",
                "QueryValidationError: value 0 is too small. Min allowed value is 1"
            )
        );
    }

    #[test]
    fn like_matches_prefix_suffix_and_infix_patterns() {
        let v = json!("Guard Services");
        assert!(like(&v, "guard%"));
        assert!(like(&v, "%services"));
        assert!(like(&v, "%d S%"));
        assert!(!like(&v, "%patrol%"));
        assert!(!like(&v, "services%"));
    }

    #[test]
    fn escaped_quotes_are_part_of_the_string() {
        let p = parse(r"select * from Vendor where DisplayName = 'O\'Brien Ltd'").expect("parses");
        assert_eq!(p.conds[0].values[0], "O'Brien Ltd");
    }
}
