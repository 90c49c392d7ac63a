//! Translation: TrackTik documents in, QuickBooks Online transactions out, as pure functions
//! (no I/O, no clock, no database).
//!
//! - [`translate_invoice`]: an approved TrackTik invoice → one QBO `Invoice`.
//! - [`translate_payrun`]: an approved, locked pay run → one QBO `Bill`, credit-card `Purchase`
//!   or `JournalEntry`, per the customer's payroll settings.
//! - [`doc_number`] and the [`template`] helpers: document numbers and memos, with the
//!   wizard's live [`preview_invoice`].
//!
//! Money rule: amounts are copied from TrackTik, summed, never recomputed from quantity × rate
//! and never rounded. When TrackTik's own totals disagree with the sum of its parts, the
//! difference is returned as a [`Discrepancy`] beside the translation; nothing is adjusted to
//! hide it. The caller (the posting step) decides what to do with it.
//!
//! The caller resolves everything that needs I/O first (the QBO customer, names of records,
//! the QBO Class/Location of each region or site) and passes it in a context struct.

mod dimensions;
pub mod doc_number;
mod error;
mod invoice;
mod payroll;
mod posting;
mod tax;
pub mod template;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;

use crate::integrations::CompanyProfile;
use crate::integrations::settings::QboRef;
use crate::providers::quickbooks::models::Ref;

/// The most lines one QuickBooks transaction takes (Intuit documents 750 for taxable
/// transactions; it is applied to every document so a larger one fails here, in words, and
/// not as a bare "request too large" from QuickBooks).
pub const MAX_LINES: usize = 750;

pub use dimensions::DimensionRefs;
pub use doc_number::{MAX_DOC_NUMBER, doc_number, fit_doc_number};
pub use error::{Area, DimensionKind, FixAt, TaxTargetKind, TranslateError};
pub use invoice::{
    InvoiceContext, InvoiceDocument, TemplatePreview, TranslatedInvoice, preview_invoice,
    translate_invoice,
};
pub use payroll::{PayrunContext, PayrunDocument, QboPayrun, TranslatedPayrun, translate_payrun};

/// What a [`Discrepancy`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Invoice `subTotal` vs Σ line `lineSubTotal`.
    Subtotal,
    /// Invoice `taxTotal` vs Σ `invoice-line-taxes` amounts.
    TaxTotal,
    /// Invoice `total` vs `subTotal` + `taxTotal`.
    Total,
    /// One invoice line: `lineSubTotal` vs `quantity × unitPrice` rounded to the cent. QBO
    /// rejects a line whose amount is not its quantity times its rate, so such a line is sent
    /// without quantity and rate (they stay in its description).
    LineAmount {
        /// TrackTik invoice line id.
        line_id: i64,
    },
    /// An amount with fractions of a cent, which QBO would round.
    SubCent {
        /// What the amount is (a line's description).
        what: String,
    },
    /// Pay run `totalCost` vs Σ item `total`.
    PayrunTotal,
    /// After posting: QBO's `TotalAmt` vs TrackTik's total.
    QboTotal,
}

impl Check {
    /// Whether TrackTik's own totals disagree (or QBO's total differs): money would not match
    /// to the cent. `false` for [`Check::LineAmount`] and [`Check::SubCent`], which describe
    /// how a line is sent but leave every total as TrackTik computed it.
    pub fn affects_total(&self) -> bool {
        !matches!(self, Check::LineAmount { .. } | Check::SubCent { .. })
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Subtotal => f.write_str("subtotal vs the sum of the lines"),
            Check::TaxTotal => f.write_str("tax total vs the sum of the line taxes"),
            Check::Total => f.write_str("total vs subtotal plus tax"),
            Check::LineAmount { line_id } => {
                write!(f, "line {line_id}: amount vs quantity × unit price")
            }
            Check::SubCent { what } => write!(f, "fractions of a cent in '{what}'"),
            Check::PayrunTotal => f.write_str("pay run total cost vs the sum of its items"),
            Check::QboTotal => f.write_str("QuickBooks total vs TrackTik total"),
        }
    }
}

/// Two amounts that should be equal and are not. Reported, never absorbed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discrepancy {
    /// What was compared.
    pub what: Check,
    /// TrackTik's figure.
    pub tracktik: Decimal,
    /// The figure we computed (or QBO computed).
    pub computed: Decimal,
}

impl Discrepancy {
    /// The difference, computed − TrackTik.
    pub fn difference(&self) -> Decimal {
        self.computed - self.tracktik
    }
}

impl fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: TrackTik says {}, computed {} (difference {})",
            self.what,
            self.tracktik,
            self.computed,
            self.difference()
        )
    }
}

/// Compares QBO's `TotalAmt` after posting with TrackTik's total (non-US companies, where QBO
/// computes the tax from the codes). `None` when they are equal to the cent.
pub fn reconcile(expected: Decimal, qbo_total: Decimal) -> Option<Discrepancy> {
    (expected != qbo_total).then_some(Discrepancy {
        what: Check::QboTotal,
        tracktik: expected,
        computed: qbo_total,
    })
}

/// Names of TrackTik records, for descriptions, memos and messages, used when a relation
/// arrived as a bare id. A missing name falls back to `#<id>`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// Client id → name.
    pub clients: BTreeMap<i64, String>,
    /// Site id → name.
    pub sites: BTreeMap<i64, String>,
    /// Region id → name.
    pub regions: BTreeMap<i64, String>,
    /// Bill item id → name.
    pub bill_items: BTreeMap<i64, String>,
    /// Tax class id → name.
    pub tax_classes: BTreeMap<i64, String>,
    /// Employee id → name.
    pub employees: BTreeMap<i64, String>,
}

/// `embedded` (the included object's name), else the map's, else `#id`.
fn name_of(embedded: Option<&str>, map: &BTreeMap<i64, String>, id: i64) -> String {
    embedded
        .filter(|n| !n.trim().is_empty())
        .map(str::to_owned)
        .or_else(|| map.get(&id).cloned())
        .unwrap_or_else(|| format!("#{id}"))
}

/// A QBO reference from a wizard choice.
fn qbo_ref(choice: &QboRef) -> Ref {
    Ref {
        value: choice.id.clone(),
        name: (!choice.name.is_empty()).then(|| choice.name.clone()),
        kind: None,
    }
}

/// Whether QBO treats the company as a US one (`TAX`/`NON` codes, no `GlobalTaxCalculation`).
fn is_us(company: &CompanyProfile) -> bool {
    company.country.eq_ignore_ascii_case("US")
}

/// The `CurrencyRef` a transaction must carry: the TrackTik currency when multicurrency is on;
/// none when it is off and the currencies agree; an error otherwise.
fn currency_ref(
    company: &CompanyProfile,
    tracktik_currency: Option<&str>,
) -> Result<Option<Ref>, TranslateError> {
    let currency = tracktik_currency
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_ascii_uppercase);
    if company.prefs.multicurrency {
        let code = currency.ok_or(TranslateError::MissingCurrency)?;
        return Ok(Some(Ref::id(code)));
    }
    match currency {
        Some(code) if !code.eq_ignore_ascii_case(&company.home_currency) => {
            Err(TranslateError::CurrencyMismatch {
                tracktik: code,
                home: company.home_currency.clone(),
            })
        }
        _ => Ok(None),
    }
}

/// Reports amounts QBO would round (more than two decimals).
fn sub_cent_check(what: &str, amount: Decimal, out: &mut Vec<Discrepancy>) {
    let rounded = amount.round_dp(2);
    if rounded != amount {
        out.push(Discrepancy {
            what: Check::SubCent {
                what: what.to_owned(),
            },
            tracktik: amount,
            computed: rounded,
        });
    }
}

/// `a + b`, or an error naming the record when the sum leaves `Decimal`'s range (about
/// 7.9 × 10²⁸): garbage in must fail the document, not panic the worker.
fn add(a: Decimal, b: Decimal, record: &str) -> Result<Decimal, TranslateError> {
    a.checked_add(b)
        .ok_or_else(|| TranslateError::AmountOutOfRange {
            record: record.to_owned(),
        })
}

/// `12.5` → `12.50`: quantities and rates in descriptions.
fn show(amount: Decimal) -> String {
    let mut a = amount.normalize();
    if a.scale() < 2 {
        a.rescale(2);
    }
    a.to_string()
}
