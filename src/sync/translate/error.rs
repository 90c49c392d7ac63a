//! Why a TrackTik document cannot be translated, in words a customer can act on, with the ids
//! the dashboard needs to link to the wizard step (or the TrackTik record) that fixes it.

use std::fmt;

use rust_decimal::Decimal;

use crate::integrations::settings::{Dimension, PayrollPosting};

/// Where the customer fixes a [`TranslateError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixAt {
    /// The wizard's Billing step.
    Billing,
    /// The wizard's Payroll step.
    Payroll,
    /// The wizard's Taxes step.
    Taxes,
    /// The company's settings in QuickBooks.
    QuickBooks,
    /// The document itself, in TrackTik.
    TrackTik,
}

/// Which sync a document belongs to (the wizard step that holds its Class/Location choice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    /// Invoices.
    Billing,
    /// Pay runs.
    Payroll,
}

/// A QBO tracking dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DimensionKind {
    /// QBO Class.
    Class,
    /// QBO Location (the API's Department).
    Location,
}

/// What a tax class must be mapped to, depending on the company's country.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaxTargetKind {
    /// A product/service line (US companies).
    Item,
    /// A tax code on every line (Canada and other non-US companies).
    TaxCode,
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Area::Billing => "Billing",
            Area::Payroll => "Payroll",
        })
    }
}

impl fmt::Display for DimensionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DimensionKind::Class => "Class",
            DimensionKind::Location => "Location",
        })
    }
}

impl fmt::Display for TaxTargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaxTargetKind::Item => "product/service",
            TaxTargetKind::TaxCode => "tax code",
        })
    }
}

/// `region` or `site`, for messages.
pub(crate) fn dimension_source(d: Dimension) -> &'static str {
    match d {
        Dimension::Region => "region",
        Dimension::Site => "site",
    }
}

/// A document that cannot be turned into a QuickBooks transaction. Permanent: retrying without
/// a change in the settings or in TrackTik gives the same error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// A bill item without a QBO product, and no default product chosen.
    #[error(
        "Choose a QuickBooks product for the TrackTik bill item '{name}' (or a default product for unmapped bill items) in Billing settings."
    )]
    UnmappedBillItem {
        /// TrackTik bill item id.
        id: i64,
        /// Its name.
        name: String,
    },
    /// A line without any bill item, and no default product chosen.
    #[error(
        "TrackTik invoice line {line_id} has no bill item: choose a default QuickBooks product for such lines in Billing settings."
    )]
    LineWithoutBillItem {
        /// TrackTik invoice line id.
        line_id: i64,
    },
    /// A line whose billable items name different bill items.
    #[error(
        "TrackTik invoice line {line_id} mixes several bill items ({ids:?}), so it cannot become one QuickBooks line. Regenerate the invoice in TrackTik."
    )]
    ConflictingBillItems {
        /// TrackTik invoice line id.
        line_id: i64,
        /// The bill item ids found.
        ids: Vec<i64>,
    },
    /// A tax class without a QBO mapping.
    #[error("Choose a QuickBooks {expected} for the TrackTik tax class '{name}' in Tax settings.")]
    UnmappedTaxClass {
        /// TrackTik tax class id.
        id: i64,
        /// Its name.
        name: String,
        /// What it must be mapped to for this company.
        expected: TaxTargetKind,
    },
    /// A tax class mapped to the wrong kind of target for the company's country.
    #[error(
        "The TrackTik tax class '{name}' is mapped to a QuickBooks {found}, but this company ({country}) needs a {expected}: change it in Tax settings."
    )]
    WrongTaxTarget {
        /// TrackTik tax class id.
        id: i64,
        /// Its name.
        name: String,
        /// What it is mapped to.
        found: TaxTargetKind,
        /// What it must be mapped to.
        expected: TaxTargetKind,
        /// The company's country code.
        country: String,
    },
    /// US: tax TrackTik did not attribute to a tax class, and no item chosen for it.
    #[error(
        "Choose the QuickBooks product for tax TrackTik did not attribute to a tax class ('Automated calculated tax') in Tax settings."
    )]
    MissingAutomatedTaxItem,
    /// Non-US: an untaxed line (or a payroll line) needs a tax code and none was chosen.
    #[error(
        "Choose the QuickBooks tax code for lines without tax (exempt or zero-rated) in Tax settings: QuickBooks needs a tax code on every line in this country."
    )]
    MissingExemptTaxCode,
    /// Non-US: a taxed line whose tax class cannot be told.
    #[error(
        "TrackTik invoice line {line_id} is taxed but neither the line nor the invoice names a tax class: set its tax class in TrackTik and approve the invoice again."
    )]
    LineTaxClassUnknown {
        /// TrackTik invoice line id.
        line_id: i64,
    },
    /// The caller found no QBO customer for the invoice's client.
    #[error(
        "Pick the QuickBooks customer for the TrackTik client '{name}' in Billing settings (customer matching)."
    )]
    MissingCustomer {
        /// TrackTik client id, when the invoice names one.
        client_id: Option<i64>,
        /// Its name.
        name: String,
    },
    /// No expense account for a pay code, and no default wages account.
    #[error(
        "Choose the QuickBooks expense account for pay code '{pay_code}' (or a default wages account) in Payroll settings."
    )]
    MissingPayrollAccount {
        /// The pay code label (empty when the items carry none).
        pay_code: String,
    },
    /// No liability (credit) account for a credit-card expense or journal entry.
    #[error(
        "Choose the wages liability account (the credit side of pay runs posted as {posting:?}) in Payroll settings."
    )]
    MissingLiabilityAccount {
        /// The posting kind that needs it.
        posting: PayrollPosting,
    },
    /// No vendor for pay runs posted as bills.
    #[error("Choose the payroll vendor that pay-run bills are made out to in Payroll settings.")]
    MissingPayrollVendor,
    /// A region or site without its QBO Class/Location.
    #[error(
        "Choose the QuickBooks {dimension} for the TrackTik {source_kind} '{name}' in {area} settings.",
        source_kind = dimension_source(*from)
    )]
    MissingDimension {
        /// Class or Location.
        dimension: DimensionKind,
        /// Region or site.
        from: Dimension,
        /// The TrackTik region or site id.
        id: i64,
        /// Its name.
        name: String,
        /// Billing or Payroll.
        area: Area,
    },
    /// Class/Location chosen in the settings, but the QBO company does not track it.
    #[error(
        "{dimension} tracking is turned off in QuickBooks: turn it on in QuickBooks (Account and settings → Advanced), or stop using {dimension} in {area} settings."
    )]
    TrackingOff {
        /// Class or Location.
        dimension: DimensionKind,
        /// Billing or Payroll.
        area: Area,
    },
    /// Location from site, but QBO allows one Location per transaction and the document spans
    /// several sites.
    #[error(
        "QuickBooks allows one Location per transaction, and this document covers {} sites: choose 'Location from region' in {area} settings.", sites.len()
    )]
    AmbiguousLocation {
        /// Billing or Payroll.
        area: Area,
        /// The TrackTik site ids.
        sites: Vec<i64>,
    },
    /// Class/Location from site, but a line or item names no site.
    #[error(
        "TrackTik record {record_id} has no site, so its QuickBooks {dimension} cannot be chosen: set its site in TrackTik, or use the region in {area} settings."
    )]
    MissingSite {
        /// The invoice line or pay-run item id.
        record_id: i64,
        /// Class or Location.
        dimension: DimensionKind,
        /// Billing or Payroll.
        area: Area,
    },
    /// Class/Location from region, but the document's region is unknown.
    #[error(
        "This TrackTik document has no region, so its QuickBooks {dimension} cannot be chosen: use the site instead in {area} settings."
    )]
    MissingRegion {
        /// Class or Location.
        dimension: DimensionKind,
        /// Billing or Payroll.
        area: Area,
    },
    /// Multicurrency is on and the TrackTik region's currency is unknown.
    #[error(
        "Multicurrency is on in QuickBooks, so every transaction needs a currency, but the TrackTik region's billing currency is not set: set it in TrackTik's back-office settings."
    )]
    MissingCurrency,
    /// The region bills in a currency the QBO company cannot hold.
    #[error(
        "TrackTik uses {tracktik} for this region but the QuickBooks company works in {home} with multicurrency off: turn multicurrency on in QuickBooks, or connect a {tracktik} company."
    )]
    CurrencyMismatch {
        /// TrackTik's currency.
        tracktik: String,
        /// QBO's home currency.
        home: String,
    },
    /// A field the translation needs is missing from the TrackTik document.
    #[error(
        "TrackTik {record} is missing its {field}: open it in TrackTik, complete it and approve it again."
    )]
    IncompleteDocument {
        /// e.g. `invoice 4012`, `invoice line 88`.
        record: String,
        /// The missing field, as TrackTik names it.
        field: &'static str,
    },
    /// An amount too large to add up (beyond `Decimal`'s range): corrupt data.
    #[error("TrackTik {record} holds amounts too large to add up: check it in TrackTik.")]
    AmountOutOfRange {
        /// e.g. `invoice 4012`.
        record: String,
    },
    /// More lines than QuickBooks takes on one transaction.
    #[error(
        "TrackTik {record} has {lines} lines; QuickBooks takes at most {max} lines on one document. Split it into smaller invoices in TrackTik.",
        max = super::MAX_LINES
    )]
    TooManyLines {
        /// e.g. `invoice 4012`.
        record: String,
        /// How many lines it has.
        lines: usize,
    },
    /// The document adds up to nothing QuickBooks can post.
    #[error("Nothing to post: {reason}")]
    NothingToPost {
        /// e.g. `invoice 4012`, `pay run 77`.
        record: String,
        /// Why, in words.
        reason: String,
        /// The document's total.
        total: Decimal,
    },
}

impl TranslateError {
    /// Where the customer fixes it.
    pub fn fix_at(&self) -> FixAt {
        use TranslateError::*;
        match self {
            UnmappedBillItem { .. } | LineWithoutBillItem { .. } | MissingCustomer { .. } => {
                FixAt::Billing
            }
            UnmappedTaxClass { .. }
            | WrongTaxTarget { .. }
            | MissingAutomatedTaxItem
            | MissingExemptTaxCode => FixAt::Taxes,
            MissingPayrollAccount { .. }
            | MissingLiabilityAccount { .. }
            | MissingPayrollVendor => FixAt::Payroll,
            MissingDimension { area, .. }
            | AmbiguousLocation { area, .. }
            | MissingSite { area, .. }
            | MissingRegion { area, .. } => match area {
                Area::Billing => FixAt::Billing,
                Area::Payroll => FixAt::Payroll,
            },
            TrackingOff { .. } | CurrencyMismatch { .. } => FixAt::QuickBooks,
            ConflictingBillItems { .. }
            | LineTaxClassUnknown { .. }
            | MissingCurrency
            | IncompleteDocument { .. }
            | AmountOutOfRange { .. }
            | TooManyLines { .. }
            | NothingToPost { .. } => FixAt::TrackTik,
        }
    }
}
