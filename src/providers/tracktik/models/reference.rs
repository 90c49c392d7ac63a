//! Reference-data DTOs: regions, back-office settings, clients and sites, employees.
//! Schemas `RegionsItem`, `BackOfficeSettingsItem`, `ClientsItem`, `EmployeesItem`.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{Related, Relation, TaxClass, de, record};

/// A region of the portal; regions nest (`parentRegion`) and carry the time zone.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// Custom id.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub custom_id: Option<String>,
    /// Region name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub name: Option<String>,
    /// Company name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub company: Option<String>,
    /// IANA time zone (on demand: `include=timeZone`).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub time_zone: Option<String>,
    /// Parent region.
    #[serde(default)]
    pub parent_region: Option<Relation<Box<Region>>>,
    /// Region prefix (on demand).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub prefix: Option<String>,
    /// Email.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub email: Option<String>,
}
record!(Region, "regions");

/// Per-region back-office settings: billing currency, default tax class, payroll defaults.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackOfficeSettings {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// The region these settings belong to.
    #[serde(default)]
    pub region: Option<Relation<Region>>,
    /// ISO currency code of the region's invoices (e.g. `CAD`).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub billing_base_currency: Option<String>,
    /// Default tax class for billing.
    #[serde(default)]
    pub billing_tax_class: Option<Relation<TaxClass>>,
    /// Tax engine label.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub billing_tax_engine: Option<String>,
    /// Show premiums separately in invoices.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub billing_separate_premium: Option<bool>,
    /// Default pay schedule.
    #[serde(default)]
    pub payroll_schedule: Option<Relation<Related>>,
    /// Default overtime rule.
    #[serde(default)]
    pub payroll_overtime_rule: Option<Relation<Related>>,
    /// Default employee hourly rate.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub payroll_hourly_rate: Option<Decimal>,
    /// Show premiums separately from regular hours in payroll.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub payroll_separate_premium: Option<bool>,
}
record!(BackOfficeSettings, "back-office-settings");

/// `CLIENT`, `SERVICE_LOCATION` (a site) or `MULTI_LOCATION_CLIENT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ClientType {
    /// A billed client.
    Client,
    /// A site under a client.
    ServiceLocation,
    /// A client with several locations.
    MultiLocationClient,
    /// A value this client does not know yet.
    #[serde(other)]
    Other,
}

/// A client or a site (`GET /rest/v1/clients`); sites have `type = SERVICE_LOCATION` and a
/// `parentClient`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// Company name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub company: Option<String>,
    /// Company name (on demand).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub name: Option<String>,
    /// Custom id ("UID").
    #[serde(default, deserialize_with = "de::opt_text")]
    pub custom_id: Option<String>,
    /// The client a site belongs to.
    #[serde(default)]
    pub parent_client: Option<Relation<Box<Client>>>,
    /// Record type.
    #[serde(rename = "type", default)]
    pub kind: Option<ClientType>,
    /// Region.
    #[serde(default)]
    pub region: Option<Relation<Region>>,
    /// `ACTIVE`, `INACTIVE` or `CLOSED`.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub status: Option<String>,
    /// Email.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub email: Option<String>,
    /// Primary phone.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub primary_phone: Option<String>,
    /// Contact first name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub first_name: Option<String>,
    /// Contact last name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub last_name: Option<String>,
    /// Address (id, or object when included).
    #[serde(default)]
    pub address: Option<Relation<Related>>,
    /// IANA time zone (on demand).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub time_zone: Option<String>,
    /// Closed date.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub closed_date: Option<NaiveDate>,
}
record!(Client, "clients");

impl Client {
    /// The best display name: `name`, else `company`.
    pub fn display_name(&self) -> Option<&str> {
        self.name.as_deref().or(self.company.as_deref())
    }
}

/// An employee (`GET /rest/v1/employees`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Employee {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// Custom id (employee number).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub custom_id: Option<String>,
    /// First name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub last_name: Option<String>,
    /// Full name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub name: Option<String>,
    /// Email.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub email: Option<String>,
    /// Job title.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub job_title: Option<String>,
    /// Region.
    #[serde(default)]
    pub region: Option<Relation<Region>>,
    /// `ACTIVE`, `INACTIVE`, `TERMINATED`, `BANNED`.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub status: Option<String>,
    /// Employment profile (id, or object when included).
    #[serde(default)]
    pub employment_profile: Option<Relation<Related>>,
    /// Primary phone.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub primary_phone: Option<String>,
    /// Creation time (on demand).
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub created_on: Option<DateTime<FixedOffset>>,
}
record!(Employee, "employees");
