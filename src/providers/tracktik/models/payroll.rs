//! Payroll DTOs: pay runs, pay-run items ("payables") and pay codes.
//! Schemas `PayrollPayrunsItem`, `PayrollPayrunItemsItem`, `PayrollCodesItem`.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::{Client, Employee, Region, Related, Relation, de, record};

/// A pay run's processing status. Approval is not a status: it sets `approvedOn`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PayrunStatus {
    /// Not processed yet.
    Unprocessed,
    /// Pre-processed.
    Preprocessed,
    /// Processed (immutable data).
    Processed,
    /// Reviewed.
    Reviewed,
    /// Downloaded.
    Downloaded,
    /// Being processed.
    Processing,
    /// A value this client does not know yet.
    #[serde(other)]
    Other,
}

/// A pay run (`GET /rest/v1/payroll-payruns`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payrun {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// Payroll schedule.
    #[serde(default)]
    pub payroll_schedule: Option<Relation<Related>>,
    /// Occurrence date (the period's end).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub occurrence_date: Option<NaiveDate>,
    /// First day of the period (on demand).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub occurrence_start_date: Option<NaiveDate>,
    /// Last day of the period (on demand).
    #[serde(default, deserialize_with = "de::opt_date")]
    pub occurrence_end_date: Option<NaiveDate>,
    /// Region.
    #[serde(default)]
    pub region: Option<Relation<Region>>,
    /// Processing status.
    #[serde(default)]
    pub status: Option<PayrunStatus>,
    /// Whether it was processed.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub is_processed: Option<bool>,
    /// Number of employees (on demand).
    #[serde(default, deserialize_with = "de::opt_i64")]
    pub count_employees: Option<i64>,
    /// Total hours (on demand).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_hours: Option<Decimal>,
    /// Total cost (on demand).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_cost: Option<Decimal>,
    /// Overtime hours (on demand).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_overtime_hours: Option<Decimal>,
    /// Overtime cost (on demand).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_overtime_cost: Option<Decimal>,
    /// Holiday hours (on demand).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_holiday_hours: Option<Decimal>,
    /// Holiday cost (on demand).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total_holiday_cost: Option<Decimal>,
    /// Who approved (and so locked) the pay run.
    #[serde(default)]
    pub approved_by: Option<Relation<Employee>>,
    /// When it was approved; `None` means not approved.
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub approved_on: Option<DateTime<FixedOffset>>,
    /// The items (on demand; usually read through `payroll-payrun-items` instead).
    #[serde(default)]
    pub items: Option<Vec<PayrunItem>>,
    /// Last update time (on demand).
    #[serde(default, deserialize_with = "de::opt_timestamp")]
    pub updated_on: Option<DateTime<FixedOffset>>,
}
record!(Payrun, "payroll-payruns");

/// One payable of a pay run (`GET /rest/v1/payroll-payrun-items`). Required here: `id`, `payrun`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayrunItem {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// The pay run.
    pub payrun: Relation<Related>,
    /// The employee.
    #[serde(default)]
    pub employee: Option<Relation<Employee>>,
    /// Department.
    #[serde(default)]
    pub department: Option<Relation<Related>>,
    /// The shift it came from.
    #[serde(default)]
    pub shift: Option<Relation<Related>>,
    /// The site/client account worked at.
    #[serde(default)]
    pub account: Option<Relation<Client>>,
    /// Deprecated pay code relation.
    #[serde(default)]
    pub payroll_code: Option<Relation<PayrollCode>>,
    /// The pay code.
    #[serde(default)]
    pub custom_pay_code: Option<Relation<PayrollCode>>,
    /// The pay code as text (`REG`, `OT`, `HOL`, …).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub payroll_code_label: Option<String>,
    /// Hours or units.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub quantity: Option<Decimal>,
    /// Rate.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub rate: Option<Decimal>,
    /// Total (read this, do not recompute quantity × rate).
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub total: Option<Decimal>,
    /// Base rate.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub base_rate: Option<Decimal>,
    /// Origin type (e.g. `shift`, `adhoc`).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub origin_type: Option<String>,
    /// Id of the origin record.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub origin_type_item_id: Option<String>,
    /// Label.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub label: Option<String>,
    /// Notes.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub notes: Option<String>,
    /// Locked flag (a label in the schema).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub locked: Option<String>,
    /// Fragment start (a label, e.g. `2024-06-03 08:00:00`).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub shift_fragment_date_start: Option<String>,
    /// Fragment end.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub shift_fragment_date_end: Option<String>,
    /// Expense date.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub expense_date: Option<NaiveDate>,
    /// `EMPLOYEE` or `CONTRACTOR`.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub employee_type: Option<String>,
    /// Company code.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub company_code: Option<String>,
    /// Pay rate level.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub pay_rate_level: Option<String>,
    /// Qualifier.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub qualifier: Option<String>,
    /// Whether the pay code is labeled.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub labeled_code: Option<String>,
}
record!(PayrunItem, "payroll-payrun-items");

/// `NORMAL`, `MULTIPLIER` or `ADDITIONNER` (sic).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PayCodeType {
    /// Normal.
    Normal,
    /// Rate multiplier.
    Multiplier,
    /// Extra charge added.
    Additionner,
    /// A value this client does not know yet.
    #[serde(other)]
    Other,
}

/// A pay code (`GET /rest/v1/payroll-codes`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PayrollCode {
    /// System id.
    #[serde(deserialize_with = "de::id")]
    pub id: i64,
    /// Name.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub name: Option<String>,
    /// Code (`REG`, `OT`, …).
    #[serde(default, deserialize_with = "de::opt_text")]
    pub code: Option<String>,
    /// Type.
    #[serde(rename = "type", default)]
    pub kind: Option<PayCodeType>,
    /// Rate multiplier.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub multiplier: Option<Decimal>,
    /// Extra charge when no multiplier is set.
    #[serde(default, deserialize_with = "de::opt_decimal")]
    pub extra_charge: Option<Decimal>,
    /// Payable.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub payable: Option<bool>,
    /// Billable.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub billable: Option<bool>,
    /// Impacts overtime.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub impacts_overtime: Option<bool>,
    /// For ad-hoc earnings.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub is_adhoc: Option<bool>,
    /// For deductions.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub is_deductable: Option<bool>,
    /// Used as a label.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub is_label: Option<bool>,
    /// Available in every region.
    #[serde(default, deserialize_with = "de::opt_bool")]
    pub is_global: Option<bool>,
    /// Region, when not global.
    #[serde(default)]
    pub region: Option<Relation<Region>>,
}
record!(PayrollCode, "payroll-codes");
