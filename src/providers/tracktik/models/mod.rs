//! Wire DTOs for the TrackTik REST API (`/rest/v1`, API version 2020-01-01).
//!
//! Field names and types follow the `*Item` schemas of TrackTik's own OpenAPI document
//! (`/work/shared/spec/tracktik/openapi-subset.json`). Rules applied everywhere:
//! - unknown fields are ignored, so new TrackTik fields never break a sync;
//! - every field but `id` (and the few noted on each type) is optional and defaults to `None`,
//!   because TrackTik omits "on demand" fields unless they are named in `include`;
//! - money and quantities are [`rust_decimal::Decimal`] (JSON numbers or numeric strings);
//! - dates accept `YYYY-MM-DD` and full timestamps; timestamps accept ISO-8601 with offset;
//! - a relation is either a bare id or, when included, the nested object: [`Relation`].

mod billing;
pub(crate) mod de;
mod envelope;
mod payroll;
mod reference;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

pub use billing::{
    BillItem, BillableItem, BillableItemType, CreditMemo, Invoice, InvoiceLine, InvoiceLineTax,
    InvoiceStatus, ServiceModel, TaxClass, TaxClassItem,
};
pub use de::{parse_date, parse_timestamp};
pub(crate) use envelope::{Page, parse_page, parse_single};
pub use payroll::{PayCodeType, PayrollCode, Payrun, PayrunItem, PayrunStatus};
pub use reference::{BackOfficeSettings, Client, ClientType, Employee, Region};

/// A TrackTik record type: which collection it lives in and how to find its id.
pub trait Record: DeserializeOwned + Send + 'static {
    /// The collection path under `/rest/v1/`, e.g. `invoices`.
    const RESOURCE: &'static str;
    /// The record's system id.
    fn id(&self) -> i64;
}

/// A relation field: the bare id by default, or the nested object when the relation was named
/// in `include`. TrackTik's schemas declare these as `oneOf(<X>Id, <X>Item)`.
#[derive(Clone, Debug, PartialEq)]
pub enum Relation<T> {
    /// Only the related record's id was sent.
    Id(i64),
    /// The related record itself was sent (the relation was included).
    Object(T),
}

impl<T: Record> Relation<T> {
    /// The related record's id, whichever form was sent.
    pub fn id(&self) -> i64 {
        match self {
            Relation::Id(id) => *id,
            Relation::Object(object) => object.id(),
        }
    }
}

impl<T> Relation<T> {
    /// The nested record, when the relation was included.
    pub fn object(&self) -> Option<&T> {
        match self {
            Relation::Id(_) => None,
            Relation::Object(object) => Some(object),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Relation<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .map(Relation::Id)
                .ok_or_else(|| D::Error::custom("a relation id must be an integer")),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Relation::Id)
                .map_err(|_| D::Error::custom(format!("expected a relation id, found {s:?}"))),
            object @ Value::Object(_) => T::deserialize(object)
                .map(Relation::Object)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected a relation id or object, found {}",
                kind(&other)
            ))),
        }
    }
}

/// A field that is sometimes one value and sometimes a list of them. TrackTik's schema types
/// `invoice-line-taxes.invoiceLine` as an array although portals send a single id.
#[derive(Clone, Debug, PartialEq)]
pub struct OneOrMany<T>(
    /// The values, in the order sent.
    pub Vec<T>,
);

impl<T> OneOrMany<T> {
    /// The first value (the only one, in practice).
    pub fn first(&self) -> Option<&T> {
        self.0.first()
    }
    /// All values.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }
}

impl<T: Record> OneOrMany<Relation<T>> {
    /// The ids of all related records.
    pub fn ids(&self) -> Vec<i64> {
        self.0.iter().map(Relation::id).collect()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(d)? {
            Value::Array(items) => items
                .into_iter()
                .map(|v| T::deserialize(v).map_err(D::Error::custom))
                .collect::<Result<Vec<_>, _>>()
                .map(OneOrMany),
            other => T::deserialize(other)
                .map(|v| OneOrMany(vec![v]))
                .map_err(D::Error::custom),
        }
    }
}

/// A related record of a type this client does not model in detail (contracts, accounts,
/// shifts, payroll schedules, …): its id, the common labels, and every other field as JSON.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Related {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// Display name, when the type has one.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub name: Option<String>,
    /// Custom id, when the type has one.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub custom_id: Option<String>,
    /// All other fields, untouched.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl<T: Record> Record for Box<T> {
    const RESOURCE: &'static str = T::RESOURCE;
    fn id(&self) -> i64 {
        (**self).id()
    }
}

impl Record for Related {
    const RESOURCE: &'static str = "";
    fn id(&self) -> i64 {
        self.id
    }
}

/// The name of a JSON value's kind, for error messages that must not echo values.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Implements [`Record`] for a DTO with an `id: i64` field.
macro_rules! record {
    ($ty:ty, $resource:literal) => {
        impl $crate::providers::tracktik::models::Record for $ty {
            const RESOURCE: &'static str = $resource;
            fn id(&self) -> i64 {
                self.id
            }
        }
    };
}
pub(crate) use record;

impl fmt::Display for InvoiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvoiceStatus::Approved => "APPROVED",
            InvoiceStatus::Draft => "DRAFT",
            InvoiceStatus::Other => "OTHER",
        })
    }
}
