//! Query strings for TrackTik collections: filters (`field=value`, `field:op=value`),
//! `include`, `sort`, `fields`, `limit` and `offset`.
//!
//! Syntax from TrackTik's "Filters" and "include/fields" support articles: operators are a
//! `:`-suffix on the field name, `:between` takes `a|b` (inclusive), `:in` takes a comma list
//! of at most [`MAX_IN_VALUES`] values, relation paths are dotted (`region.id=15`).

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};

/// TrackTik's limit on the number of values in one `:in` filter.
pub const MAX_IN_VALUES: usize = 100;

/// A filter operator, written as a `:suffix` on the field name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `field=value` (no suffix).
    Eq,
    /// `:not`
    Not,
    /// `:gt`
    Gt,
    /// `:gte`
    Gte,
    /// `:lt`
    Lt,
    /// `:lte`
    Lte,
    /// `:in` (comma list).
    In,
    /// `:inSet`
    InSet,
    /// `:contains`
    Contains,
    /// `:startswith`
    StartsWith,
    /// `:endswith`
    EndsWith,
    /// `:before` (dates, exclusive).
    Before,
    /// `:after` (dates, exclusive).
    After,
    /// `:between` (`a|b`, inclusive).
    Between,
    /// `:isnull`
    IsNull,
    /// `:isnotnull`
    IsNotNull,
}

impl Op {
    /// The suffix as written after the field name (empty for [`Op::Eq`]).
    pub fn suffix(self) -> &'static str {
        match self {
            Op::Eq => "",
            Op::Not => ":not",
            Op::Gt => ":gt",
            Op::Gte => ":gte",
            Op::Lt => ":lt",
            Op::Lte => ":lte",
            Op::In => ":in",
            Op::InSet => ":inSet",
            Op::Contains => ":contains",
            Op::StartsWith => ":startswith",
            Op::EndsWith => ":endswith",
            Op::Before => ":before",
            Op::After => ":after",
            Op::Between => ":between",
            Op::IsNull => ":isnull",
            Op::IsNotNull => ":isnotnull",
        }
    }
}

/// A TrackTik collection query. Filters are ANDed; `include`, `sort` and `fields` accumulate
/// into comma lists. Paging parameters are set by the client, not here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    filters: Vec<(String, String)>,
    include: Vec<String>,
    sort: Vec<String>,
    fields: Vec<String>,
}

impl Query {
    /// An empty query (all records, default order by id ascending).
    pub fn new() -> Self {
        Self::default()
    }

    /// `field=value`.
    pub fn eq(self, field: &str, value: impl fmt::Display) -> Self {
        self.filter(field, Op::Eq, value)
    }

    /// `field:op=value`.
    pub fn filter(mut self, field: &str, op: Op, value: impl fmt::Display) -> Self {
        self.filters
            .push((format!("{field}{}", op.suffix()), value.to_string()));
        self
    }

    /// `field:between=from|to` (inclusive on both ends).
    pub fn between(self, field: &str, from: impl fmt::Display, to: impl fmt::Display) -> Self {
        self.filter(field, Op::Between, format!("{from}|{to}"))
    }

    /// `field:between=…|…` for two instants, written as RFC 3339 in UTC.
    pub fn between_instants(self, field: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        self.between(field, timestamp(from), timestamp(to))
    }

    /// `field:in=a,b,c`. Callers must keep the list within [`MAX_IN_VALUES`]; the typed helpers
    /// of the client batch longer lists.
    pub fn is_in<I, V>(self, field: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: fmt::Display,
    {
        let list = values
            .into_iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",");
        self.filter(field, Op::In, list)
    }

    /// `field:isnull=true`.
    pub fn is_null(self, field: &str) -> Self {
        self.filter(field, Op::IsNull, "true")
    }

    /// `field:isnotnull=true`.
    pub fn is_not_null(self, field: &str) -> Self {
        self.filter(field, Op::IsNotNull, "true")
    }

    /// Adds relations or on-demand fields to `include` (dotted paths allowed).
    pub fn include<I, S>(mut self, relations: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        for relation in relations {
            let relation = relation.into();
            if !self.include.contains(&relation) {
                self.include.push(relation);
            }
        }
        self
    }

    /// Sorts ascending by `field` (appended after earlier sort keys).
    pub fn sort_asc(mut self, field: &str) -> Self {
        self.sort.push(field.to_owned());
        self
    }

    /// Sorts descending by `field` (`-field`).
    pub fn sort_desc(mut self, field: &str) -> Self {
        self.sort.push(format!("-{field}"));
        self
    }

    /// Restricts the returned fields (`fields=a,b`; `src:alias` renames).
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields.extend(fields.into_iter().map(Into::into));
        self
    }

    /// Any other parameter, verbatim (e.g. `scope=NOT_ADHOC`, `includeInactive=true`).
    pub fn param(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.filters.push((name.to_owned(), value.to_string()));
        self
    }

    /// The query as `(name, value)` pairs, unencoded, in a stable order: filters as added,
    /// then `include`, `sort`, `fields`.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs = self.filters.clone();
        for (name, list) in [
            ("include", &self.include),
            ("sort", &self.sort),
            ("fields", &self.fields),
        ] {
            if !list.is_empty() {
                pairs.push((name.to_owned(), list.join(",")));
            }
        }
        pairs
    }

    /// The query as `(name, value)` pairs for one page of a keyset read: sorted by `id` (any
    /// other sort is dropped), the ids after `after`, and `limit`.
    pub(crate) fn keyset_pairs(&self, limit: u32, after: Option<i64>) -> Vec<(String, String)> {
        let mut keyset = Self {
            sort: vec!["id".to_owned()],
            ..self.clone()
        };
        if let Some(after) = after {
            keyset = keyset.filter("id", Op::Gt, after);
        }
        let mut pairs = keyset.pairs();
        pairs.push(("limit".into(), limit.to_string()));
        pairs
    }

    /// The percent-encoded query string, e.g. `status=APPROVED&approvedOn%3Abetween=…`.
    pub fn to_query_string(&self) -> String {
        serde_urlencoded::to_string(self.pairs()).unwrap_or_default()
    }
}

/// An instant as TrackTik's filters accept it: RFC 3339, seconds precision, `+00:00`.
pub fn timestamp(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn filters_are_written_with_operator_suffixes_in_the_order_given() {
        let query = Query::new()
            .eq("status", "APPROVED")
            .filter("total", Op::Gte, 100)
            .is_not_null("approvedOn")
            .between("invoiceDate", "2024-06-01", "2024-06-30")
            .is_in("id", [1, 2, 3]);
        assert_eq!(
            query.pairs(),
            vec![
                ("status".to_owned(), "APPROVED".to_owned()),
                ("total:gte".to_owned(), "100".to_owned()),
                ("approvedOn:isnotnull".to_owned(), "true".to_owned()),
                (
                    "invoiceDate:between".to_owned(),
                    "2024-06-01|2024-06-30".to_owned()
                ),
                ("id:in".to_owned(), "1,2,3".to_owned()),
            ]
        );
    }

    #[test]
    fn include_sort_and_fields_become_comma_lists_after_the_filters() {
        let query = Query::new()
            .include(["lines", "approvedOn"])
            .include(["lines", "lines.billableItems"])
            .eq("client", 500)
            .sort_desc("id")
            .sort_asc("region.name")
            .fields(["id", "startedOn:clockIn"]);
        assert_eq!(
            query.to_query_string(),
            "client=500&include=lines%2CapprovedOn%2Clines.billableItems&sort=-id%2Cregion.name\
             &fields=id%2CstartedOn%3AclockIn"
        );
    }

    #[test]
    fn instants_in_a_between_filter_are_rfc3339_utc_and_survive_encoding() {
        let from = Utc.with_ymd_and_hms(2024, 7, 1, 4, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2024, 7, 2, 3, 59, 59).unwrap();
        let query = Query::new().between_instants("approvedOn", from, to);
        assert_eq!(
            query.pairs()[0].1,
            "2024-07-01T04:00:00+00:00|2024-07-02T03:59:59+00:00"
        );
        let encoded = query.to_query_string();
        assert!(encoded.contains("%2B00%3A00%7C"), "{encoded}");
        let decoded: Vec<(String, String)> = serde_urlencoded::from_str(&encoded).unwrap();
        assert_eq!(decoded, query.pairs());
    }

    #[test]
    fn a_keyset_page_sorts_by_id_asks_for_ids_after_the_last_and_puts_limit_last() {
        let first = Query::new()
            .eq("payrun", 301)
            .sort_desc("id")
            .keyset_pairs(1000, None);
        assert_eq!(
            first,
            vec![
                ("payrun".to_owned(), "301".to_owned()),
                ("sort".to_owned(), "id".to_owned()),
                ("limit".to_owned(), "1000".to_owned()),
            ]
        );
        let next = Query::new()
            .eq("payrun", 301)
            .keyset_pairs(1000, Some(2000));
        assert_eq!(next[1], ("id:gt".to_owned(), "2000".to_owned()));
        assert_eq!(next.last(), Some(&("limit".to_owned(), "1000".to_owned())));
        assert!(next.iter().all(|(k, _)| k != "offset"));
    }

    #[test]
    fn an_empty_query_has_no_parameters() {
        assert!(Query::new().pairs().is_empty());
        assert_eq!(Query::new().to_query_string(), "");
    }
}
