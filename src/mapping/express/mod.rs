//! Express setup: makes sure the default QuickBooks accounts and items of PRODUCT.md §3 exist in
//! a customer's QBO company, idempotently, and returns what the rest of the product posts to.
//!
//! | Row | QBO name | Account type / detail type | Number / SKU | Item |
//! |---|---|---|---|---|
//! | wages | TrackTik Direct Wages | Expense / `PayrollWageExpenses` | TT-3000 | – |
//! | wages liability | TrackTik Direct Wages Liability | Credit Card / `CreditCard` | TT-9000 | – |
//! | service income | TrackTik Service Income | Income / `ServiceFeeIncome` | TT-2000 | Non-inventory |
//! | each tax class *X* | TrackTik *X* | Other Current Liability / `OtherCurrentLiabilities` | TT-8101… | Non-inventory |
//! | automated tax | TrackTik Automated Calculated Tax | Other Current Liability / `OtherCurrentLiabilities` | TT-8000 | Non-inventory |
//!
//! Rules, as the customer is told them:
//! - **Numbering.** Tax classes are sorted by TrackTik id and numbered TT-8101, TT-8102, …, so
//!   the same classes always get the same numbers (at most 99). Names drop `:` and `"`, which QBO
//!   refuses; a tax class whose name repeats an earlier one (or a fixed row) gets its number
//!   appended, e.g. `TrackTik GST (TT-8102)`.
//! - **Matching, never duplicating.** Existing objects, inactive ones included, are matched by
//!   account number / SKU first, then by name (case-insensitive). A match is *compatible* when an
//!   account has the table's account type in the company's home currency (another detail type is
//!   accepted and noted), and when an item is Non-inventory or Service, sells into an income
//!   account, and has no SKU or the table's SKU. Compatible matches are reused; inactive ones are
//!   reactivated with a sparse update (and their ` (deleted)` suffix dropped). `decide.rs` has
//!   the exact order.
//! - **Conflicts.** When the table's name is held by an incompatible object (e.g. a Bank account
//!   named "TrackTik Service Income", or an item of that name with another SKU), that object is
//!   left alone and ours is created as `<name> (Ledgerbridge)` ([`ExpressOptions::conflict_suffix`]),
//!   with a note naming the conflict. When an account number is held by an incompatible account,
//!   ours is created without a number. When both names are taken, setup stops with
//!   [`ExpressError::NamesTaken`].
//! - **Fallbacks.** Companies that refuse `PayrollWageExpenses` get `PayrollExpenses`. Companies
//!   with account numbers off (`Preferences.AccountingInfoPrefs.UseAccountNumbers = false`) get
//!   no `AcctNum` and are matched by name only. Both are noted.
//! - **Items.** Non-inventory items carry only an `IncomeAccountRef` (the row's account): they
//!   are only sold, as Intuit's own sample and the QBO form ("I sell this") allow. In US
//!   companies they are `Taxable: false`, because TrackTik's taxes arrive as their own lines (the
//!   tax-class items); in other countries no US `Taxable` flag is sent, and the tax code is set
//!   per invoice line, as QBO requires there.
//! - **Crash safety.** Every create and reactivation carries a [`RequestId`] derived from the
//!   realm and the exact payload (name, number, types, links), so a retry after a lost answer
//!   replays instead of duplicating; a re-run after a crash finds what was created and reuses it.
//!
//! [`RequestId`]: crate::providers::quickbooks::RequestId

mod compat;
mod decide;
mod ensure;
mod plan;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::providers::quickbooks::QboError;
use crate::providers::quickbooks::models::Ref;

pub use ensure::ensure_defaults;

/// A TrackTik tax class, as Express setup needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaxClassInput {
    /// TrackTik's id; the numbering follows it.
    pub id: i64,
    /// TrackTik's name; the QBO objects are named `TrackTik <name>`.
    pub name: String,
}

/// Choices a caller may make.
#[derive(Clone, Debug)]
pub struct ExpressOptions {
    /// Appended to a name that is taken by an incompatible object. Default ` (Ledgerbridge)`;
    /// an empty suffix means a taken name stops setup with [`ExpressError::NamesTaken`].
    pub conflict_suffix: String,
}

impl Default for ExpressOptions {
    fn default() -> Self {
        Self {
            conflict_suffix: " (Ledgerbridge)".to_owned(),
        }
    }
}

/// Which row of the Express table an object serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "row", rename_all = "snake_case")]
pub enum Purpose {
    /// Payroll wages (expense).
    Wages,
    /// Payroll liability (credit card).
    WagesLiability,
    /// Billing income.
    ServiceIncome,
    /// One TrackTik tax class.
    TaxClass {
        /// The TrackTik tax class id.
        id: i64,
    },
    /// Tax TrackTik calculated automatically.
    AutomatedTax,
}

/// Account or item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A ledger account.
    Account,
    /// A product or service.
    Item,
}

impl std::fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Account => "account",
            Self::Item => "product/service",
        })
    }
}

/// What Express setup did with one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Action {
    /// Created under the table's name.
    Created,
    /// An existing active object was used as is.
    Reused,
    /// An existing inactive object was made active again and used.
    Reactivated,
    /// Created under another name, because the table's name belongs to something else.
    CreatedUnderOtherName,
}

/// One object Express setup ensured, as it now is in QBO.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpressObject {
    /// The row it serves.
    pub purpose: Purpose,
    /// Account or item.
    pub kind: ObjectKind,
    /// Its QBO name.
    pub name: String,
    /// `AccountType` (e.g. `Credit Card`) or item `Type` (e.g. `NonInventory`).
    pub object_type: String,
    /// `AccountSubType` for accounts; `None` for items.
    pub detail_type: Option<String>,
    /// `AcctNum` or `Sku`, when it has one.
    pub number: Option<String>,
    /// QBO id.
    pub qbo_id: String,
    /// What was done.
    pub action: Action,
    /// What the customer should know (fallbacks, numbers off, conflicts, differences).
    pub notes: Vec<String>,
}

impl ExpressObject {
    /// A reference to it.
    pub fn to_ref(&self) -> Ref {
        Ref {
            value: self.qbo_id.clone(),
            name: Some(self.name.clone()),
            kind: None,
        }
    }
}

/// An item and the account it sells into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ItemAndAccount {
    /// The Non-inventory item.
    pub item: Ref,
    /// Its income account (an Other Current Liability account for taxes).
    pub account: Ref,
}

/// The references the syncs need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpressRefs {
    /// Payroll wages expense account.
    pub wages_account: Ref,
    /// Payroll liability (credit card) account.
    pub wages_liability_account: Ref,
    /// Billing income account.
    pub service_income_account: Ref,
    /// Billing income item.
    pub service_income_item: Ref,
    /// Per TrackTik tax class id.
    pub tax_classes: BTreeMap<i64, ItemAndAccount>,
    /// Automated calculated tax.
    pub automated_tax: ItemAndAccount,
}

/// Everything Express setup ensured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpressOutcome {
    /// Each object, account before its item, in table order.
    pub objects: Vec<ExpressObject>,
    /// Notes about the whole company (e.g. account numbers are off).
    pub notes: Vec<String>,
    /// What the syncs post to.
    pub refs: ExpressRefs,
}

impl ExpressOutcome {
    /// The objects that got `action`.
    pub fn with_action(&self, action: Action) -> impl Iterator<Item = &ExpressObject> {
        self.objects.iter().filter(move |o| o.action == action)
    }
}

/// Why Express setup stopped. Objects ensured before the failure stay in QBO and are reused by
/// the next run. QBO errors are boxed to keep the `Result` small.
#[derive(Debug, thiserror::Error)]
pub enum ExpressError {
    /// The company's settings could not be read.
    #[error("Could not read the QuickBooks company's settings. {}", advice(.0))]
    Company(#[source] Box<QboError>),
    /// The existing accounts or items could not be listed.
    #[error("Could not list the existing {what} in QuickBooks. {}", advice(.source))]
    List {
        /// `accounts` or `products and services`.
        what: &'static str,
        /// QBO's answer.
        #[source]
        source: Box<QboError>,
    },
    /// QuickBooks refused to create or reactivate one object.
    #[error("Could not {verb} the {kind} \"{name}\"{} in QuickBooks. {}",
        .number.as_deref().map(|n| format!(" ({n})")).unwrap_or_default(), advice(.source))]
    Write {
        /// The row.
        purpose: Purpose,
        /// Account or item.
        kind: ObjectKind,
        /// The name sent.
        name: String,
        /// The number or SKU of the row.
        number: Option<String>,
        /// `create` or `reactivate`.
        verb: &'static str,
        /// QBO's answer.
        #[source]
        source: Box<QboError>,
    },
    /// Both the table's name and the suffixed one belong to objects Express cannot use.
    #[error(
        "The names \"{name}\" and \"{other_name}\" are both used by other {kind}s in QuickBooks ({why}). Rename or deactivate one of them in QuickBooks and run Express setup again, or choose your own {kind} in Advanced setup."
    )]
    NamesTaken {
        /// Account or item.
        kind: ObjectKind,
        /// The table's name.
        name: String,
        /// The suffixed name.
        other_name: String,
        /// Why the holder cannot be used.
        why: String,
    },
    /// More tax classes than TT-8101…TT-8199 can number.
    #[error(
        "TrackTik has {count} tax classes, but Express setup numbers them TT-8101 to TT-8199 and so handles at most 99. Map the tax classes in Advanced setup instead."
    )]
    TooManyTaxClasses {
        /// How many were given.
        count: usize,
    },
    /// The same TrackTik tax class was given twice.
    #[error("The TrackTik tax class {id} was listed twice.")]
    DuplicateTaxClass {
        /// The repeated id.
        id: i64,
    },
}

/// What the customer can do about a QBO failure, in their words.
fn advice(e: &QboError) -> String {
    match e {
        QboError::Unauthorized { .. } | QboError::ReauthorizationRequired(_) => {
            "The QuickBooks connection has expired or was revoked: reconnect QuickBooks, then run Express setup again.".to_owned()
        }
        QboError::Forbidden { .. } => {
            "QuickBooks no longer lets Ledgerbridge into this company: reconnect it as a QuickBooks admin, then run Express setup again.".to_owned()
        }
        QboError::Throttled { .. } | QboError::Server { .. } | QboError::Transport(_) => {
            "QuickBooks did not answer in time. Run Express setup again: what was already set up is reused, nothing is duplicated.".to_owned()
        }
        QboError::Rejected { fault, .. } => format!(
            "QuickBooks said: {}. Fix this in QuickBooks (or choose your own accounts and items in Advanced setup), then run Express setup again.",
            fault.summary()
        ),
        QboError::InvalidResponse { .. } | QboError::OAuth(_) => format!(
            "QuickBooks sent an unexpected answer ({e}). Run Express setup again; if it keeps failing, contact support."
        ),
    }
}
