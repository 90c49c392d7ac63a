//! The portal's data: one table per resource, each a `BTreeMap` from id to the record as it is
//! stored (every field, on-demand ones included; relations as bare ids). Money is computed with
//! `Decimal` and stored as JSON numbers, which is how TrackTik sends it.

mod billing;
mod extra;
mod payroll;

pub use billing::{NewInvoice, NewLine, NewLinePart};
pub use extra::NewPosition;
pub use payroll::{NewPayItem, NewPayrun};

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub type Row = Map<String, Value>;
pub type Table = BTreeMap<i64, Row>;

/// A whole TrackTik portal: every record the sandbox serves.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Portal {
    /// The portal's company name.
    pub name: String,
    /// Records by resource tag, then id.
    pub tables: BTreeMap<String, Table>,
    next_ids: BTreeMap<String, i64>,
    next_document_number: u64,
    /// The portal user who signs in as `demo` and approves things.
    pub admin_employee: i64,
    /// The tax-exempt client (its lines are `taxable:false` and carry no tax rows).
    pub exempt_client: Option<i64>,
    /// The tax class (without items) the exempt client's invoices use.
    pub exempt_tax_class: Option<i64>,
}

/// Why a store change was refused.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} {1} not found")]
    NotFound(&'static str, i64),
    #[error("{0}")]
    Invalid(String),
}

impl Portal {
    /// An empty portal.
    pub fn new(name: &str) -> Self {
        Portal {
            name: name.to_owned(),
            next_document_number: 1,
            ..Default::default()
        }
    }

    /// All records of a resource.
    pub fn table(&self, tag: &str) -> Option<&Table> {
        self.tables.get(tag)
    }

    /// One record.
    pub fn get(&self, tag: &str, id: i64) -> Option<&Row> {
        self.tables.get(tag).and_then(|t| t.get(&id))
    }

    /// One record, for a change.
    /// Stamps a record as updated at `at` (`updatedOn`), as TrackTik does on every change.
    pub fn touch(&mut self, tag: &str, id: i64, at: DateTime<Utc>) {
        if let Some(r) = self.get_mut(tag, id) {
            r.insert("updatedOn".into(), ts(at));
        }
    }

    pub fn get_mut(&mut self, tag: &str, id: i64) -> Option<&mut Row> {
        self.tables.get_mut(tag).and_then(|t| t.get_mut(&id))
    }

    /// How many records a resource has.
    pub fn count(&self, tag: &str) -> usize {
        self.tables.get(tag).map_or(0, |t| t.len())
    }

    /// Ids start at a per-resource base so that ids of different resources rarely collide,
    /// which makes mix-ups visible in tests.
    pub fn allocate_id(&mut self, tag: &str) -> i64 {
        let next = self
            .next_ids
            .entry(tag.to_owned())
            .or_insert_with(|| id_base(tag));
        let id = *next;
        *next += 1;
        id
    }

    /// Inserts `row` under a fresh id (written into the row as `id`) and returns the id.
    pub fn insert(&mut self, tag: &str, mut row: Row) -> i64 {
        let id = self.allocate_id(tag);
        row.insert("id".into(), Value::from(id));
        self.tables
            .entry(tag.to_owned())
            .or_default()
            .insert(id, row);
        id
    }

    /// Inserts `row` under a given id (records that mirror another resource's ids).
    pub fn insert_with_id(&mut self, tag: &str, id: i64, mut row: Row) {
        row.insert("id".into(), Value::from(id));
        self.tables
            .entry(tag.to_owned())
            .or_default()
            .insert(id, row);
    }

    /// Removes one record.
    pub fn remove(&mut self, tag: &str, id: i64) -> Option<Row> {
        self.tables.get_mut(tag).and_then(|t| t.remove(&id))
    }

    /// The next invoice number (`INV-000123`).
    pub fn next_document_number(&mut self) -> String {
        let n = self.next_document_number.max(1);
        self.next_document_number = n + 1;
        format!("INV-{n:06}")
    }

    /// Ids of the rows of `tag` whose integer field `field` equals `value` (a linear scan).
    pub fn ids_where(&self, tag: &str, field: &str, value: i64) -> Vec<i64> {
        self.table(tag)
            .map(|t| {
                t.iter()
                    .filter(|(_, r)| r.get(field).and_then(Value::as_i64) == Some(value))
                    .map(|(id, _)| *id)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn id_base(tag: &str) -> i64 {
    match tag {
        "regions" => 1,
        "back-office-settings" => 7,
        "client-billing-settings" => 201,
        "tax-classes" => 3,
        "tax-class-items" => 31,
        "bill-items" => 11,
        "clients" => 500,
        "employees" => 1001,
        "payroll-codes" => 1,
        "invoices" => 9001,
        "invoice-lines" => 80001,
        "invoice-line-taxes" => 555,
        "billable-items" => 70001,
        "payroll-payruns" => 301,
        "payroll-payrun-items" => 990001,
        _ => 1,
    }
}

/// Round half away from zero to cents ("half-up" for positive amounts).
pub fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A decimal as a JSON number (exact for the two-decimal amounts the sandbox produces).
pub fn num(d: Decimal) -> Value {
    serde_json::Number::from_str(&d.normalize().to_string())
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// A JSON number as a decimal.
pub fn dec(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => {
            let s = n.to_string();
            Decimal::from_str(&s)
                .or_else(|_| Decimal::from_scientific(&s))
                .ok()
        }
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None,
    }
}

/// A UTC timestamp the way TrackTik writes them: `2024-07-01T02:15:00+00:00`.
pub fn ts(t: DateTime<Utc>) -> Value {
    Value::String(t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
}

pub fn date(d: NaiveDate) -> Value {
    Value::String(d.format("%Y-%m-%d").to_string())
}

pub fn opt_id(id: Option<i64>) -> Value {
    id.map_or(Value::Null, Value::from)
}

/// Builds a row from `(field, value)` pairs.
pub fn row<const N: usize>(pairs: [(&str, Value); N]) -> Row {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
