//! Billing DTOs: invoices and their lines, per-line taxes, billable items, bill items and tax
//! classes. Schemas `InvoicesItem`, `InvoiceLinesItem`, `InvoiceLineTaxesItem`,
//! `BillableItemsItem`, `BillItemsItem`, `TaxClassesItem`, `TaxClassItemsItem`.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::{Client, Employee, Region};
use super::{OneOrMany, Related, Relation, de, record};

/// An invoice's status. The API knows only these two (`Enum` in `InvoicesItem.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvoiceStatus {
    /// Approved: final, safe to post.
    Approved,
    /// Draft: may still change or disappear.
    Draft,
    /// A value this client does not know yet.
    #[serde(other)]
    Other,
}

/// An invoice (`GET /rest/v1/invoices`). Required here: `id`, `status`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoice {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// `APPROVED` or `DRAFT`.
    pub status: InvoiceStatus,
    /// The billed client (a `clients` record of type `CLIENT`).
    #[serde(default)]
    pub client: Option<Relation<Client>>,
    /// The invoice number shown to the customer.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub document_number: Option<String>,
    /// Invoice date (replaces the deprecated `date`, which is read as a fallback by
    /// [`Invoice::effective_invoice_date`]).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub invoice_date: Option<NaiveDate>,
    /// Deprecated twin of `invoiceDate`.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub date: Option<NaiveDate>,
    /// Due date.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub due_date: Option<NaiveDate>,
    /// First day of the service period.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub service_period_start_date: Option<NaiveDate>,
    /// Last day of the service period.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub service_period_end_date: Option<NaiveDate>,
    /// Invoice-level tax class.
    #[serde(default)]
    pub tax_class: Option<Relation<TaxClass>>,
    /// The contract the invoice was generated from.
    #[serde(default)]
    pub contract: Option<Relation<Related>>,
    /// Total before taxes.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub sub_total: Option<Decimal>,
    /// Total of the taxes.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub tax_total: Option<Decimal>,
    /// Total including taxes.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total: Option<Decimal>,
    /// Whether the invoice was sent to the client.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub distributed: Option<bool>,
    /// The lines (on demand: `include=lines`).
    #[serde(default)]
    pub lines: Option<Vec<InvoiceLine>>,
    /// Aging label.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub aging: Option<String>,
    /// Who approved the invoice.
    #[serde(default)]
    pub approved_by: Option<Relation<Employee>>,
    /// When the invoice was approved (on demand: `include=approvedOn`).
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub approved_on: Option<DateTime<FixedOffset>>,
    /// Invoice batch id.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub invoice_batch_id: Option<i64>,
    /// Creation time (on demand).
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub created_on: Option<DateTime<FixedOffset>>,
    /// Last update time (on demand).
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub updated_on: Option<DateTime<FixedOffset>>,
}
record!(Invoice, "invoices");

/// A credit memo (`GET /rest/v1/credit-memos`): exactly the shape of an invoice (TrackTik's
/// schema), read from its own collection.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct CreditMemo(pub Invoice);

impl super::Record for CreditMemo {
    const RESOURCE: &'static str = "credit-memos";
    fn id(&self) -> i64 {
        self.0.id
    }
}

impl Invoice {
    /// `invoiceDate`, or the deprecated `date` when only that was sent.
    pub fn effective_invoice_date(&self) -> Option<NaiveDate> {
        self.invoice_date.or(self.date)
    }
}

/// An invoice line (schema `InvoiceLinesItem`; reached with `include=lines`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLine {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// Quantity (hours or units).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub quantity: Option<Decimal>,
    /// Unit price.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub unit_price: Option<Decimal>,
    /// Subtotal without taxes.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub line_sub_total: Option<Decimal>,
    /// Line tax total (on demand).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub tax_total: Option<Decimal>,
    /// Whether the line is taxable.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub taxable: Option<bool>,
    /// The line's tax class.
    #[serde(default)]
    pub tax_class: Option<Relation<TaxClass>>,
    /// The site (a `clients` record) where the service was rendered.
    #[serde(default)]
    pub service_location: Option<Relation<Client>>,
    /// Service date and time (replaces deprecated `serviceDate`).
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub service_date_time: Option<DateTime<FixedOffset>>,
    /// The line's time zone (IANA name).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub time_zone: Option<String>,
    /// Undocumented relation GUID.
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub relation_guid: Option<i64>,
    /// The billable items grouped into this line (on demand).
    #[serde(default)]
    pub billable_items: Option<Vec<BillableItem>>,
    /// The invoice this line belongs to.
    #[serde(default)]
    pub invoice: Option<Relation<Box<Invoice>>>,
}
record!(InvoiceLine, "invoice-lines");

/// One tax amount on one invoice line (`GET /rest/v1/invoice-line-taxes`).
/// Required here: `id`, `amount`, `invoiceLine`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceLineTax {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// The tax amount.
    #[serde(deserialize_with = "required_decimal")]
    pub amount: Decimal,
    /// The tax class item (component rate) applied.
    #[serde(default)]
    pub tax_class_item: Option<Relation<TaxClassItem>>,
    /// The taxed line: a single id in practice, an array of ids in the schema.
    pub invoice_line: OneOrMany<Relation<InvoiceLine>>,
}
record!(InvoiceLineTax, "invoice-line-taxes");

impl InvoiceLineTax {
    /// The id of the taxed line (the first one when TrackTik sent a list).
    pub fn invoice_line_id(&self) -> Option<i64> {
        self.invoice_line.first().map(Relation::id)
    }
}

fn required_decimal<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    de::opt_decimal(d)?.ok_or_else(|| serde::de::Error::custom("amount is null"))
}

/// `REVENUE` or `EXPENSE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillableItemType {
    /// Revenue.
    Revenue,
    /// Expense.
    Expense,
    /// A value this client does not know yet.
    #[serde(other)]
    Other,
}

/// What a billable item was generated from: `{type, object}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ServiceModel {
    /// e.g. `shifts`, `billing-adhoc-items`, `invoice-lines`.
    #[serde(rename = "type", default, deserialize_with = "de::opt_text")]
    pub kind: Option<String>,
    /// The source record (id or object).
    #[serde(default)]
    pub object: Option<Value>,
}

/// A billable item (`GET /rest/v1/billable-items`): the granular transactions an invoice line
/// aggregates; its `billItem` is the product/service of the line.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillableItem {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// Revenue or expense.
    #[serde(rename = "type", default)]
    pub kind: Option<BillableItemType>,
    /// The source of the item.
    #[serde(default)]
    pub service_model: Option<ServiceModel>,
    /// Quantity.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub quantity: Option<Decimal>,
    /// Rate.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub rate: Option<Decimal>,
    /// Price (quantity × rate, as TrackTik computed it).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub price: Option<Decimal>,
    /// Contract.
    #[serde(default)]
    pub contract: Option<Relation<Related>>,
    /// Tax class.
    #[serde(default)]
    pub tax_class: Option<Relation<TaxClass>>,
    /// The invoice it was billed on.
    #[serde(default)]
    pub invoice: Option<Relation<Box<Invoice>>>,
    /// The invoice line it was grouped into.
    #[serde(default)]
    pub invoice_line: Option<Relation<Box<InvoiceLine>>>,
    /// The site.
    #[serde(default)]
    pub service_location: Option<Relation<Client>>,
    /// The client.
    #[serde(default)]
    pub client_account: Option<Relation<Client>>,
    /// The region ("master account").
    #[serde(default)]
    pub region: Option<Relation<Region>>,
    /// The bill item (product/service).
    #[serde(default)]
    pub bill_item: Option<Relation<BillItem>>,
    /// When it was posted.
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub posted_on: Option<DateTime<FixedOffset>>,
    /// Memo.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub memo: Option<String>,
    /// Service date.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub service_date: Option<NaiveDate>,
    /// Key used to group billable items into invoice lines.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub group_key: Option<String>,
    /// Billing notes.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub billing_notes: Option<String>,
}
record!(BillableItem, "billable-items");

/// A bill item: the catalogue entry (product/service) a line is billed under.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillItem {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// Name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub name: Option<String>,
    /// "Chart of account ID or custom ID".
    #[serde(default, deserialize_with = "de::opt_text")]
    pub custom_id: Option<String>,
    /// Deprecated status (`ACTIVE`, `DISABLED`).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub status: Option<String>,
    /// Available in every region.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub is_global: Option<bool>,
    /// The region, when not global.
    #[serde(default)]
    pub region: Option<Relation<Region>>,
}
record!(BillItem, "bill-items");

/// A tax class: a group of component rates (e.g. GST + PST).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxClass {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// Name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub name: Option<String>,
    /// `ACTIVE` or `ARCHIVED`.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub status: Option<String>,
    /// Custom id.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub custom_id: Option<String>,
    /// Region.
    #[serde(default)]
    pub region: Option<Relation<Region>>,
    /// Component rates (on demand: `include=items`).
    #[serde(default)]
    pub items: Option<Vec<TaxClassItem>>,
}
record!(TaxClass, "tax-classes");

/// One component rate of a tax class.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxClassItem {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// The percentage (unit unverified: 13 probably means 13 %).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub percentage: Option<Decimal>,
    /// Tax code, e.g. `HST`.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub code: Option<String>,
    /// Tax (registration) number.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub number: Option<String>,
    /// The tax class it belongs to.
    #[serde(default)]
    pub tax_class: Option<Relation<Box<TaxClass>>>,
}
record!(TaxClassItem, "tax-class-items");
