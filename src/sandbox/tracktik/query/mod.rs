//! The generic collection engine: `limit`/`offset`, filters with operators, `sort`, `include`
//! and `fields`, applied the same way to every resource.

mod filter;
mod index;
mod render;

pub use filter::Filter;
pub use index::Indexes;

/// Parses `2024-07-01`, `2024-07-01 02:15:00` or RFC 3339 as a UTC instant.
pub fn filter_parse_instant(v: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    filter::parse_instant(v.trim(), false)
}
pub use render::{Renderer, select};

use std::collections::BTreeMap;

use super::schema::{Kind, Resource, resource};
use super::store::{Portal, Row};

/// A 4xx/5xx answer in TrackTik's error shape `{"status":…,"error":…}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }
    pub fn not_a_field(field: &str, tag: &str) -> Self {
        Self::bad(format!("{field} is not a field in {tag}"))
    }
}

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
pub const MAX_IN_VALUES: usize = 100;

/// Nested include names: `lines,lines.billableItems.billItem` → {lines: {billableItems: {billItem}}}.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Includes(pub BTreeMap<String, Includes>);

impl Includes {
    pub fn get(&self, name: &str) -> Option<&Includes> {
        self.0.get(name)
    }
}

#[derive(Debug, Default)]
pub struct Query {
    pub limit: usize,
    pub offset: usize,
    /// (field, descending)
    pub sort: Vec<(String, bool)>,
    pub includes: Includes,
    /// (source path, output name)
    pub fields: Option<Vec<(String, String)>>,
    pub filters: Vec<Filter>,
    pub search: Option<String>,
    /// `scope=IS_ADHOC` matches nothing: every seeded invoice is recurring.
    pub nothing: bool,
}

fn parse_usize(name: &str, v: &str) -> Result<usize, ApiError> {
    v.trim()
        .parse::<usize>()
        .map_err(|_| ApiError::bad(format!("{name} must be a non-negative integer")))
}

/// Checks a dotted field path against the resource tree (`region.id`, `invoiceLine.invoice`).
pub fn check_path(res: &'static Resource, path: &str) -> Result<(), ApiError> {
    let mut current = res;
    let mut segments = path.split('.').peekable();
    while let Some(seg) = segments.next() {
        let field = current
            .field(seg)
            .ok_or_else(|| ApiError::not_a_field(path, res.tag))?;
        if segments.peek().is_none() {
            return match field.kind {
                Kind::Children(..) => Err(ApiError::not_a_field(path, res.tag)),
                _ => Ok(()),
            };
        }
        current = match field.kind {
            Kind::Rel(t) | Kind::RelList(t) => {
                resource(t).ok_or_else(|| ApiError::not_a_field(path, res.tag))?
            }
            _ => return Err(ApiError::not_a_field(path, res.tag)),
        };
    }
    Ok(())
}

fn parse_includes(res: &'static Resource, raw: &str, into: &mut Includes) -> Result<(), ApiError> {
    for path in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let mut current = res;
        let mut node = &mut *into;
        let mut segments = path.split('.').peekable();
        while let Some(seg) = segments.next() {
            if segments.peek().is_none() && super::schema::COMMON_ON_DEMAND.contains(&seg) {
                node.0.entry(seg.to_owned()).or_default();
                break;
            }
            let field = current.field(seg).ok_or_else(|| {
                ApiError::bad(format!("{path} is not a valid include in {}", res.tag))
            })?;
            node = node.0.entry(seg.to_owned()).or_default();
            if let Kind::Rel(t) | Kind::RelList(t) | Kind::Children(t, _) = field.kind {
                current = resource(t).unwrap_or(current);
            }
        }
    }
    Ok(())
}

impl Query {
    /// Parses the query string of a collection (`collection`) or single-record request.
    pub fn parse(
        res: &'static Resource,
        pairs: &[(String, String)],
        collection: bool,
    ) -> Result<Query, ApiError> {
        let mut q = Query {
            limit: DEFAULT_LIMIT,
            ..Default::default()
        };
        for (key, value) in pairs {
            match key.as_str() {
                "limit" if collection => {
                    q.limit = parse_usize("limit", value)?;
                    if q.limit > MAX_LIMIT {
                        return Err(ApiError::bad(format!(
                            "limit must not be greater than {MAX_LIMIT}"
                        )));
                    }
                }
                "offset" if collection => q.offset = parse_usize("offset", value)?,
                "include" => parse_includes(res, value, &mut q.includes)?,
                "fields" => {
                    let mut out = Vec::new();
                    for spec in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let (src, alias) = spec.split_once(':').unwrap_or((spec, spec));
                        check_path(res, src).or_else(|e| {
                            // Included children (`lines`) may be selected too.
                            match res.field(src).map(|f| f.kind) {
                                Some(Kind::Children(..)) => Ok(()),
                                _ if super::schema::COMMON_ON_DEMAND.contains(&src) => Ok(()),
                                _ => Err(e),
                            }
                        })?;
                        out.push((src.to_owned(), alias.to_owned()));
                    }
                    q.fields = Some(out);
                }
                "sort" if collection => {
                    for s in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                        let (name, desc) = match s.strip_prefix('-') {
                            Some(n) => (n, true),
                            None => (s.strip_prefix('+').unwrap_or(s), false),
                        };
                        match res.field(name).map(|f| f.kind) {
                            Some(Kind::Children(..)) | Some(Kind::RelList(_)) | None => {
                                return Err(ApiError::not_a_field(name, res.tag));
                            }
                            _ => q.sort.push((name.to_owned(), desc)),
                        }
                    }
                }
                "q" if collection => q.search = Some(value.to_lowercase()),
                "includeInactive" => {}
                "scope" if collection => {
                    for scope in value.split([',', '|']).map(str::trim) {
                        match (res.tag, scope) {
                            ("invoices", "IS_ADHOC") => q.nothing = true,
                            ("invoices", "NOT_ADHOC") => {}
                            _ => {
                                return Err(ApiError::bad(format!(
                                    "{scope} is not a scope of {}",
                                    res.tag
                                )));
                            }
                        }
                    }
                }
                "idIn" if collection => {
                    q.filters.push(Filter::parse(res, "id:in", value)?);
                }
                "page" => return Err(ApiError::not_a_field("page", res.tag)),
                _ if collection => q.filters.push(Filter::parse(res, key, value)?),
                _ => {}
            }
        }
        Ok(q)
    }

    /// Runs the query: filter, sort, page. Returns (total matches, the page's rows).
    pub fn run<'p>(
        &self,
        portal: &'p Portal,
        indexes: &Indexes,
        res: &'static Resource,
    ) -> (usize, Vec<&'p Row>) {
        let Some(table) = portal.table(res.tag) else {
            return (0, Vec::new());
        };
        if self.nothing {
            return (0, Vec::new());
        }
        // Read by key where the filters allow it, as a database would through its primary key;
        // every filter is still applied to what is read.
        let candidates: Box<dyn Iterator<Item = &Row>> =
            if let Some(mut ids) = self.filters.iter().find_map(Filter::id_set) {
                ids.sort_unstable();
                ids.dedup();
                Box::new(ids.into_iter().filter_map(|id| table.get(&id)))
            } else if let Some((field, values)) = self.filters.iter().find_map(Filter::int_values) {
                let index = indexes.by_field(portal, res.tag, field);
                let mut ids: Vec<i64> = values
                    .iter()
                    .filter_map(|v| index.get(v))
                    .flatten()
                    .copied()
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                Box::new(ids.into_iter().filter_map(|id| table.get(&id)))
            } else if let Some(above) = self.filters.iter().filter_map(Filter::id_above).max() {
                Box::new(
                    table
                        .range((std::ops::Bound::Excluded(above), std::ops::Bound::Unbounded))
                        .map(|(_, r)| r),
                )
            } else {
                Box::new(table.values())
            };
        let mut rows: Vec<&Row> = candidates
            .filter(|r| self.filters.iter().all(|f| f.matches(portal, res, r)))
            .filter(|r| {
                self.search
                    .as_deref()
                    .is_none_or(|s| search_matches(res, r, s))
            })
            .collect();
        if !self.sort.is_empty() {
            rows.sort_by(|a, b| {
                for (field, desc) in &self.sort {
                    let ty = res
                        .field(field)
                        .map(|f| f.ty)
                        .unwrap_or(super::schema::Ty::Str);
                    let o =
                        filter::compare_values(ty, a.get(field.as_str()), b.get(field.as_str()));
                    let o = if *desc { o.reverse() } else { o };
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                }
                std::cmp::Ordering::Equal
            });
        }
        let total = rows.len();
        let page = rows
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        (total, page)
    }
}

fn search_matches(res: &Resource, row: &Row, needle: &str) -> bool {
    res.fields.iter().any(|f| {
        f.ty == super::schema::Ty::Str
            && row
                .get(f.name)
                .and_then(|v| v.as_str())
                .is_some_and(|s| s.to_lowercase().contains(needle))
    })
}
