//! What the customer chose in the setup wizard, as types. Stored as JSONB on the integration
//! (`integration.settings`); every field has a default so a draft can be saved half-filled.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

/// A QuickBooks object chosen in a mapping: its id and, for pages and messages, its name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QboRef {
    /// QBO id.
    pub id: String,
    /// Display name when chosen (QBO may rename it later).
    pub name: String,
}

impl QboRef {
    /// A reference by id and name.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
        }
    }
}

/// Express applies the defaults; Advanced opens every choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetupMethod {
    /// Create the default accounts and items and use them.
    Express,
    /// Choose every mapping.
    Advanced,
}

/// Where a QBO Class or Location comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    /// The TrackTik region of the document.
    Region,
    /// The TrackTik site (service location) of the line.
    Site,
}

/// How TrackTik clients become QBO customers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomerMatching {
    /// Use the QBO customer with the same name; create it when there is none.
    #[default]
    MatchOrCreate,
    /// Only use customers picked in `customer_map`; an unpicked client fails its invoices.
    PickedOnly,
}

/// Billing (invoices).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BillingSettings {
    /// Sync invoices at all.
    pub enabled: bool,
    /// The product/service for bill items without their own mapping (Express: TrackTik
    /// Service Income).
    pub default_item: Option<QboRef>,
    /// TrackTik bill item id → QBO product/service.
    pub items: BTreeMap<i64, QboRef>,
    /// How clients become customers.
    pub customer_matching: CustomerMatching,
    /// TrackTik client id → QBO customer, picked or remembered after first use.
    pub customer_map: BTreeMap<i64, QboRef>,
    /// QBO document number; `{number}` is TrackTik's document number.
    pub doc_number_template: String,
    /// Private note; placeholders `{number}`, `{client}`, `{period_start}`, `{period_end}`.
    pub memo_template: String,
    /// QBO Class from …
    pub class_from: Option<Dimension>,
    /// QBO Location (department) from …
    pub location_from: Option<Dimension>,
    /// Set when billing was switched back on: invoices approved before this day (while it was
    /// off) are not synced. `None`: nothing is left out.
    pub resume_from: Option<NaiveDate>,
    /// The day billing was switched off, while it is off (switching it back on asks from which
    /// day to resume).
    pub off_since: Option<NaiveDate>,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            default_item: None,
            items: BTreeMap::new(),
            customer_matching: CustomerMatching::MatchOrCreate,
            customer_map: BTreeMap::new(),
            doc_number_template: "{number}".into(),
            memo_template:
                "TrackTik invoice {number} for {client}, service {period_start} to {period_end}"
                    .into(),
            class_from: None,
            location_from: None,
            resume_from: None,
            off_since: None,
        }
    }
}

/// How a pay run is posted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayrollPosting {
    /// A bill to a payroll vendor (accounts payable).
    Bill,
    /// A credit-card expense against the wages-liability account (the Express default).
    #[default]
    CreditCardExpense,
    /// A journal entry: debit expense accounts, credit the liability account.
    JournalEntry,
}

/// How pay-run lines are grouped into transaction lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineGrouping {
    /// One line for the whole pay run.
    PerPayRun,
    /// One line per pay code (REG, OT, HOL, …).
    #[default]
    PerPayCode,
    /// One line per employee.
    PerEmployee,
    /// One line per employee and pay code.
    PerEmployeePayCode,
    /// One line per site.
    PerSite,
}

/// Payroll (pay runs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PayrollSettings {
    /// Sync pay runs at all.
    pub enabled: bool,
    /// Bill, credit-card expense or journal entry.
    pub posting: PayrollPosting,
    /// Line grouping.
    pub grouping: LineGrouping,
    /// Expense account for pay codes without their own (Express: TrackTik Direct Wages).
    pub wages_account: Option<QboRef>,
    /// Pay code label (REG, OT, …) → expense account.
    pub pay_code_accounts: BTreeMap<String, QboRef>,
    /// The credit side: the credit-card (wages liability) account for credit-card expenses
    /// and journal entries (Express: TrackTik Direct Wages Liability).
    pub liability_account: Option<QboRef>,
    /// The payroll vendor, for bills.
    pub vendor: Option<QboRef>,
    /// QBO Class from …
    pub class_from: Option<Dimension>,
    /// QBO Location from …
    pub location_from: Option<Dimension>,
    /// Set when payroll was switched back on: pay runs approved before this day (while it was
    /// off) are not synced. `None`: nothing is left out.
    pub resume_from: Option<NaiveDate>,
    /// The day payroll was switched off, while it is off.
    pub off_since: Option<NaiveDate>,
    /// The Accounts Payable account bills are written to (needed when the company has more
    /// than one; QBO picks the only one otherwise).
    pub ap_account: Option<QboRef>,
    /// The account for pay codes that are amounts, not hours (expense reimbursements and
    /// other TrackTik `ADDITIONNER` pay codes) without an account of their own. `None`: the
    /// wages account, on lines of their own (the Express default).
    pub amounts_account: Option<QboRef>,
    /// Pay codes TrackTik types as amounts, as read when the payroll step was saved. The
    /// pay code embedded in a pay-run item, when there is one, is the authority.
    pub amount_codes: BTreeSet<String>,
}

/// Where a TrackTik tax class goes in QBO.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TaxTarget {
    /// US companies: the tax is a line of its own with this non-inventory item.
    Item {
        /// The item.
        item: QboRef,
    },
    /// Non-US companies: every line carries this tax code and QBO computes the tax.
    TaxCode {
        /// The code.
        code: QboRef,
    },
}

/// Taxes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaxSettings {
    /// TrackTik tax class id → QBO target.
    pub classes: BTreeMap<i64, TaxTarget>,
    /// US: the item for tax TrackTik did not attribute to a tax class (Express: TrackTik
    /// Automated Calculated Tax).
    pub automated_tax_item: Option<QboRef>,
    /// Non-US: the code for lines TrackTik did not tax (exempt or zero-rated).
    pub exempt_tax_code: Option<QboRef>,
}

/// What to do when QBO's books are closed for a document's date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedBooks {
    /// Fail the document and say how to fix it.
    #[default]
    Fail,
    /// Post it on the first open date instead.
    PostOnFirstOpenDate,
}

/// When the syncs run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScheduleSettings {
    /// Documents approved before this date are never synced.
    pub start_date: Option<NaiveDate>,
    /// IANA zone of the trading day.
    pub time_zone: Option<String>,
    /// The end of trading day D, on the morning of D+1, local time.
    pub cutoff: NaiveTime,
    /// People told about failures and lost connections.
    pub notify_emails: Vec<String>,
    /// Also sync documents approved from this earlier date.
    pub back_sync_from: Option<NaiveDate>,
    /// Closed-books policy.
    pub closed_books: ClosedBooks,
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        Self {
            start_date: None,
            time_zone: None,
            cutoff: NaiveTime::from_hms_opt(3, 0, 0).expect("03:00 is a time"),
            notify_emails: Vec::new(),
            back_sync_from: None,
            closed_books: ClosedBooks::Fail,
        }
    }
}

/// Which TrackTik regions an integration books.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum RegionChoice {
    /// Every region, also regions added to TrackTik later, and every client or site without
    /// a region. What integrations set up before regions could be chosen keep.
    #[default]
    Every,
    /// These regions, each with its sub-regions.
    Only {
        /// TrackTik region ids.
        regions: BTreeSet<i64>,
    },
}

/// The part of TrackTik that goes into this QuickBooks company. The rules (sub-regions,
/// clients and sites without a region) are [`crate::mapping::scope`]'s.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScopeSettings {
    /// Every region, or the chosen ones.
    pub regions: RegionChoice,
    /// The customer saved the Regions step. An integration set up before it existed has
    /// `false` and keeps every region while it is the tenant's only one; a second
    /// integration cannot be activated until its regions are chosen.
    pub chosen: bool,
    /// Clients and sites without a region whose documents go into this company (a site
    /// without a region follows its client). Only read when regions are [`RegionChoice::Only`].
    pub without_region: BTreeSet<i64>,
    /// Pay runs without a region go into this company. Only read with [`RegionChoice::Only`].
    pub payruns_without_region: bool,
}

/// Everything chosen in the wizard.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Express or Advanced.
    pub setup_method: Option<SetupMethod>,
    /// Which TrackTik regions go into this company.
    pub scope: ScopeSettings,
    /// Billing.
    pub billing: BillingSettings,
    /// Payroll.
    pub payroll: PayrollSettings,
    /// Taxes.
    pub taxes: TaxSettings,
    /// Schedule.
    pub schedule: ScheduleSettings,
}
