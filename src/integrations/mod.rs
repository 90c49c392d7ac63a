//! Integrations: one QuickBooks Online company connected by a tenant, with its state.

pub mod db;
pub mod settings;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{IntegrationId, TenantId};
use crate::providers::quickbooks::models::{CompanyInfo, Preferences};

/// Where an integration stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "integration_state", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum IntegrationState {
    /// Being set up.
    Draft,
    /// Syncing every night.
    Active,
    /// Set up, syncs off.
    Paused,
    /// A connection stopped working; the customer must reconnect.
    NeedsReconnect,
}

impl IntegrationState {
    /// The word people see.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Active => "Active",
            Self::Paused => "Paused",
            Self::NeedsReconnect => "Needs reconnect",
        }
    }

    /// The CSS modifier for its badge.
    pub fn css(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "ok",
            Self::Paused => "paused",
            Self::NeedsReconnect => "bad",
        }
    }
}

/// What the QuickBooks company's preferences mean for posting, as read at connect time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompanyPrefs {
    /// Multicurrency on: every transaction needs a currency.
    pub multicurrency: bool,
    /// Account numbers shown and matchable.
    pub use_account_numbers: bool,
    /// Class tracking on.
    pub class_tracking: bool,
    /// Location (department) tracking on.
    pub department_tracking: bool,
    /// What the company calls departments ("Location", "Division", …).
    pub department_terminology: Option<String>,
    /// Books closed on or before this date.
    pub book_close_date: Option<NaiveDate>,
    /// Sales tax in use.
    pub using_sales_tax: bool,
}

impl CompanyPrefs {
    /// Reads the parts of QBO's preferences that matter to us.
    pub fn from_qbo(prefs: &Preferences) -> Self {
        let info = prefs.accounting_info_prefs.clone().unwrap_or_default();
        let currency = prefs.currency_prefs.clone().unwrap_or_default();
        Self {
            multicurrency: currency.multi_currency_enabled.unwrap_or(false),
            use_account_numbers: info.use_account_numbers.unwrap_or(false),
            class_tracking: info.class_tracking_per_txn.unwrap_or(false)
                || info.class_tracking_per_txn_line.unwrap_or(false),
            department_tracking: info.track_departments.unwrap_or(false),
            department_terminology: info.department_terminology,
            book_close_date: info.book_close_date,
            using_sales_tax: prefs
                .tax_prefs
                .as_ref()
                .and_then(|t| t.using_sales_tax)
                .unwrap_or(false),
        }
    }
}

/// The company as read from QuickBooks when connecting.
#[derive(Clone, Debug)]
pub struct CompanyProfile {
    /// Realm id.
    pub realm_id: String,
    /// Its name.
    pub name: String,
    /// Two-letter country code.
    pub country: String,
    /// Home currency code.
    pub home_currency: String,
    /// Preferences that change how we post.
    pub prefs: CompanyPrefs,
}

impl CompanyProfile {
    /// Builds the profile from QuickBooks' answers.
    pub fn from_qbo(realm_id: &str, info: &CompanyInfo, prefs: &Preferences) -> Self {
        let home_currency = prefs
            .currency_prefs
            .as_ref()
            .and_then(|c| c.home_currency.as_ref())
            .map(|r| r.value.clone())
            .unwrap_or_else(|| {
                if info.country.as_deref() == Some("CA") {
                    "CAD".into()
                } else {
                    "USD".into()
                }
            });
        Self {
            realm_id: realm_id.to_owned(),
            name: info
                .company_name
                .clone()
                .unwrap_or_else(|| format!("QuickBooks company {realm_id}")),
            country: info.country.clone().unwrap_or_else(|| "US".into()),
            home_currency,
            prefs: CompanyPrefs::from_qbo(prefs),
        }
    }
}

/// An integration as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Integration {
    /// Its id.
    pub integration_id: IntegrationId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// The QBO realm (company id).
    pub realm_id: String,
    /// The company's name.
    pub company_name: String,
    /// Two-letter country code.
    pub country: String,
    /// Home currency.
    pub home_currency: String,
    /// Preferences read at connect time.
    pub company_prefs: sqlx::types::Json<CompanyPrefs>,
    /// Where it stands.
    pub state: IntegrationState,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
}
