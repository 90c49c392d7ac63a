//! Wire DTOs for the QBO Accounting API v3 (minor version 75), as Intuit spells them.
//!
//! Every field is optional on the wire, so every field is an `Option` and omitted when `None`
//! (QBO treats an omitted field in a sparse update as "leave alone"). Unknown fields are
//! ignored when reading. Money is `Decimal`, written as a JSON number; ids are strings.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// An entity the API can create, read, update or query.
pub trait Entity: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The JSON key and query name, e.g. `Invoice`.
    const NAME: &'static str;
    /// The URL segment, e.g. `invoice`.
    const PATH: &'static str;
    /// The entity's id, once QBO assigned one.
    fn id(&self) -> Option<&str>;
}

/// A reference to another object: `{"value":"42","name":"Acme"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ref {
    /// The referenced object's id.
    pub value: String,
    /// Its display name (informational on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its type, where QBO needs one (e.g. `Vendor` on an expense's `EntityRef`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Ref {
    /// A reference by id only.
    pub fn id(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            name: None,
            kind: None,
        }
    }
}

/// Creation and change times, with the company's UTC offset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetaData {
    /// When created.
    pub create_time: Option<DateTime<FixedOffset>>,
    /// When last changed.
    pub last_updated_time: Option<DateTime<FixedOffset>>,
}

/// `{"Address":"…"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EmailAddress {
    /// The address.
    pub address: Option<String>,
}

/// A postal address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PhysicalAddress {
    /// First line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line1: Option<String>,
    /// City.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Province or state code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country_sub_division_code: Option<String>,
    /// Postal code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

macro_rules! entity {
    ($ty:ident, $name:literal, $path:literal) => {
        impl Entity for $ty {
            const NAME: &'static str = $name;
            const PATH: &'static str = $path;
            fn id(&self) -> Option<&str> {
                self.id.as_deref()
            }
        }
    };
}

/// A ledger account.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_token: Option<String>,
    #[serde(rename = "sparse", skip_serializing_if = "Option::is_none")]
    pub sparse: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fully_qualified_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acct_num: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    /// Exact strings with spaces: `Expense`, `Credit Card`, `Other Current Liability`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    /// e.g. `PayrollWageExpenses`, `CreditCard`, `ServiceFeeIncome`, `OtherCurrentLiabilities`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_sub_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_balance: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MetaData>,
}
entity!(Account, "Account", "account");

/// A product or service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Item {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_token: Option<String>,
    #[serde(rename = "sparse", skip_serializing_if = "Option::is_none")]
    pub sparse: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// `Service`, `NonInventory`, `Inventory`, `Category`, …
    #[serde(rename = "Type", skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub income_account_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expense_account_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_tax_code_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MetaData>,
}
entity!(Item, "Item", "item");

/// Fields shared by customers and vendors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Customer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_token: Option<String>,
    #[serde(rename = "sparse", skip_serializing_if = "Option::is_none")]
    pub sparse: Option<bool>,
    /// Unique across customers, vendors and employees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_email_addr: Option<EmailAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_addr: Option<PhysicalAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_tax_code_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MetaData>,
}
entity!(Customer, "Customer", "customer");

/// A vendor (payee of bills).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Vendor {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_token: Option<String>,
    #[serde(rename = "sparse", skip_serializing_if = "Option::is_none")]
    pub sparse: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta_data: Option<MetaData>,
}
entity!(Vendor, "Vendor", "vendor");

/// A class (for class tracking).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Class {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fully_qualified_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}
entity!(Class, "Class", "class");

/// A department, shown in QBO as "Location" (or the company's own term).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Department {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fully_qualified_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}
entity!(Department, "Department", "department");

/// One rate inside a tax code's rate list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaxRateDetail {
    pub tax_rate_ref: Option<Ref>,
    pub tax_type_applicable: Option<String>,
    pub tax_order: Option<i32>,
}

/// `{"TaxRateDetail":[…]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaxRateList {
    #[serde(default)]
    pub tax_rate_detail: Vec<TaxRateDetail>,
}

/// A sales tax code (`TAX`/`NON` in the US; GST, HST, … elsewhere). Read-only here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaxCode {
    pub id: Option<String>,
    pub sync_token: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub taxable: Option<bool>,
    pub tax_group: Option<bool>,
    pub sales_tax_rate_list: Option<TaxRateList>,
    pub purchase_tax_rate_list: Option<TaxRateList>,
}
entity!(TaxCode, "TaxCode", "taxcode");

/// A tax rate. Read-only here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaxRate {
    pub id: Option<String>,
    pub sync_token: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
    pub rate_value: Option<Decimal>,
    pub agency_ref: Option<Ref>,
}
entity!(TaxRate, "TaxRate", "taxrate");

/// Payment terms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Term {
    pub id: Option<String>,
    pub sync_token: Option<String>,
    pub name: Option<String>,
    pub active: Option<bool>,
    pub due_days: Option<i32>,
}
entity!(Term, "Term", "term");

/// The company itself.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompanyInfo {
    pub id: Option<String>,
    pub sync_token: Option<String>,
    pub company_name: Option<String>,
    pub legal_name: Option<String>,
    /// `US`, `CA`, …
    pub country: Option<String>,
    pub fiscal_year_start_month: Option<String>,
    pub default_time_zone: Option<String>,
    pub company_addr: Option<PhysicalAddress>,
}
entity!(CompanyInfo, "CompanyInfo", "companyinfo");

/// Accounting preferences that change what a transaction must carry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountingInfoPrefs {
    pub use_account_numbers: Option<bool>,
    pub track_departments: Option<bool>,
    pub department_terminology: Option<String>,
    pub class_tracking_per_txn: Option<bool>,
    pub class_tracking_per_txn_line: Option<bool>,
    pub book_close_date: Option<NaiveDate>,
}

/// Currency preferences.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CurrencyPrefs {
    pub multi_currency_enabled: Option<bool>,
    pub home_currency: Option<Ref>,
}

/// Sales tax preferences.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TaxPrefs {
    pub using_sales_tax: Option<bool>,
    pub partner_tax_enabled: Option<bool>,
}

/// Sales form preferences.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SalesFormsPrefs {
    pub custom_txn_numbers: Option<bool>,
    pub allow_service_date: Option<bool>,
}

/// The company's preferences.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Preferences {
    pub id: Option<String>,
    pub sync_token: Option<String>,
    pub accounting_info_prefs: Option<AccountingInfoPrefs>,
    pub currency_prefs: Option<CurrencyPrefs>,
    pub tax_prefs: Option<TaxPrefs>,
    pub sales_forms_prefs: Option<SalesFormsPrefs>,
}
entity!(Preferences, "Preferences", "preferences");

mod lines;
mod transactions;

pub use lines::*;
pub use transactions::*;
