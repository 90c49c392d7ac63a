//! Pay runs: creation with their items and totals, approval (locks the items), deletion.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::{Portal, StoreError, cents, date, dec, num, opt_id, row, ts};

/// One pay-run line.
#[derive(Clone, Debug)]
pub struct NewPayItem {
    pub employee: i64,
    /// `REG`, `OT`, `HOL`, `TRAIN`, `EXP`, … (a `payroll-codes.code`).
    pub code: String,
    pub quantity: Decimal,
    pub rate: Decimal,
    pub base_rate: Decimal,
    /// The site worked at.
    pub account: Option<i64>,
    /// Shift start and end (local), for shift items.
    pub shift: Option<(NaiveDateTime, NaiveDateTime)>,
    pub expense_date: Option<NaiveDate>,
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct NewPayrun {
    pub region: i64,
    /// Period end.
    pub occurrence_date: NaiveDate,
    pub items: Vec<NewPayItem>,
    pub created_on: DateTime<Utc>,
}

impl Portal {
    fn payroll_code(&self, code: &str) -> Option<(i64, String)> {
        self.table("payroll-codes")?.values().find_map(|r| {
            (r.get("code").and_then(Value::as_str) == Some(code)).then(|| {
                let id = r.get("id").and_then(Value::as_i64).unwrap_or(0);
                let ty = r
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("NORMAL")
                    .to_owned();
                (id, ty)
            })
        })
    }

    /// Creates a PROCESSED, not yet approved pay run; returns its id.
    pub fn create_payrun(&mut self, run: NewPayrun) -> Result<i64, StoreError> {
        self.create_payrun_with_items(run).map(|(id, _)| id)
    }

    /// Like [`Portal::create_payrun`], also returning the new item ids.
    pub fn create_payrun_with_items(
        &mut self,
        run: NewPayrun,
    ) -> Result<(i64, Vec<i64>), StoreError> {
        if self.get("regions", run.region).is_none() {
            return Err(StoreError::NotFound("regions", run.region));
        }
        let schedule = self
            .table("back-office-settings")
            .and_then(|t| {
                t.values()
                    .find(|s| s.get("region").and_then(Value::as_i64) == Some(run.region))
            })
            .and_then(|s| s.get("payrollSchedule"))
            .and_then(Value::as_i64);
        let mut resolved = Vec::with_capacity(run.items.len());
        for item in &run.items {
            if self.get("employees", item.employee).is_none() {
                return Err(StoreError::NotFound("employees", item.employee));
            }
            let code = self
                .payroll_code(&item.code)
                .ok_or_else(|| StoreError::Invalid(format!("unknown pay code {}", item.code)))?;
            resolved.push(code);
        }
        let payrun_id = self.allocate_id("payroll-payruns");
        let mut item_ids = Vec::with_capacity(run.items.len());
        for (item, (code_id, _)) in run.items.iter().zip(&resolved) {
            let employee_type = if item.employee % 10 == 7 {
                "CONTRACTOR"
            } else {
                "EMPLOYEE"
            };
            let (origin, origin_id, start, end) = match (item.code.as_str(), item.shift) {
                ("EXP", _) => ("expense", Value::Null, Value::Null, Value::Null),
                (_, Some((s, e))) => {
                    let shift_id = 400_000 + self.count("payroll-payrun-items") as i64;
                    (
                        "shift",
                        Value::String(shift_id.to_string()),
                        Value::String(s.format("%Y-%m-%d %H:%M:%S").to_string()),
                        Value::String(e.format("%Y-%m-%d %H:%M:%S").to_string()),
                    )
                }
                _ => ("adhoc", Value::Null, Value::Null, Value::Null),
            };
            let shift = origin_id.as_str().and_then(|s| s.parse::<i64>().ok());
            let item_id = self.insert(
                "payroll-payrun-items",
                row([
                    ("payrun", payrun_id.into()),
                    ("employee", item.employee.into()),
                    ("department", Value::Null),
                    ("shift", opt_id(shift)),
                    ("account", opt_id(item.account)),
                    ("customPayCode", (*code_id).into()),
                    ("payrollCodeLabel", item.code.clone().into()),
                    ("quantity", num(item.quantity)),
                    ("rate", num(item.rate)),
                    ("total", num(cents(item.quantity * item.rate))),
                    ("originType", origin.into()),
                    ("originTypeItemId", origin_id),
                    ("label", item.label.clone().into()),
                    ("notes", Value::Null),
                    ("locked", "0".into()),
                    ("shiftFragmentDateStart", start),
                    ("shiftFragmentDateEnd", end),
                    ("expenseDate", item.expense_date.map_or(Value::Null, date)),
                    ("employeeType", employee_type.into()),
                    ("companyCode", "ACME".into()),
                    ("baseRate", num(item.base_rate)),
                    ("payRateLevel", "EMPLOYEE_RATE".into()),
                    ("qualifier", Value::Null),
                    ("labeledCode", "0".into()),
                ]),
            );
            item_ids.push(item_id);
        }
        let start = run.occurrence_date - Duration::days(13);
        let created = ts(run.created_on);
        let mut r = row([
            ("payrollSchedule", opt_id(schedule)),
            ("occurrenceDate", date(run.occurrence_date)),
            ("occurrenceStartDate", date(start)),
            ("occurrenceEndDate", date(run.occurrence_date)),
            ("region", run.region.into()),
            ("status", "PROCESSED".into()),
            ("isProcessed", true.into()),
            ("approvedBy", Value::Null),
            ("approvedOn", Value::Null),
            ("createdOn", created.clone()),
            ("updatedOn", created),
        ]);
        r.insert("id".into(), payrun_id.into());
        self.tables
            .entry("payroll-payruns".into())
            .or_default()
            .insert(payrun_id, r);
        self.set_payrun_totals(payrun_id, &item_ids);
        Ok((payrun_id, item_ids))
    }

    /// Sets the on-demand totals of a pay run from its items.
    fn set_payrun_totals(&mut self, id: i64, items: &[i64]) {
        let mut employees = BTreeSet::new();
        let (mut hours, mut cost) = (Decimal::ZERO, Decimal::ZERO);
        let (mut ot_hours, mut ot_cost) = (Decimal::ZERO, Decimal::ZERO);
        let (mut hol_hours, mut hol_cost) = (Decimal::ZERO, Decimal::ZERO);
        for item in items
            .iter()
            .filter_map(|i| self.get("payroll-payrun-items", *i))
        {
            let q = item.get("quantity").and_then(dec).unwrap_or_default();
            let t = item.get("total").and_then(dec).unwrap_or_default();
            let label = item
                .get("payrollCodeLabel")
                .and_then(Value::as_str)
                .unwrap_or("");
            if let Some(e) = item.get("employee").and_then(Value::as_i64) {
                employees.insert(e);
            }
            cost += t;
            if label != "EXP" {
                hours += q;
            }
            match label {
                "OT" => {
                    ot_hours += q;
                    ot_cost += t;
                }
                "HOL" => {
                    hol_hours += q;
                    hol_cost += t;
                }
                _ => {}
            }
        }
        if let Some(r) = self.get_mut("payroll-payruns", id) {
            r.insert("countEmployees".into(), employees.len().into());
            r.insert("totalHours".into(), num(hours));
            r.insert("totalCost".into(), num(cost));
            r.insert("totalOvertimeHours".into(), num(ot_hours));
            r.insert("totalOvertimeCost".into(), num(ot_cost));
            r.insert("totalHolidayHours".into(), num(hol_hours));
            r.insert("totalHolidayCost".into(), num(hol_cost));
        }
    }

    /// Approves and locks a pay run: sets `approvedBy`/`approvedOn`, marks every item locked.
    pub fn approve_payrun(
        &mut self,
        id: i64,
        by: Option<i64>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let items = self.ids_where("payroll-payrun-items", "payrun", id);
        self.approve_payrun_items(id, &items, by, at)
    }

    /// Approves pay run `id` whose items are `items` (no scan: the seed knows them).
    pub fn approve_payrun_items(
        &mut self,
        id: i64,
        items: &[i64],
        by: Option<i64>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let by = by.unwrap_or(self.admin_employee);
        let r = self
            .get_mut("payroll-payruns", id)
            .ok_or(StoreError::NotFound("payroll-payruns", id))?;
        if !r.get("approvedOn").is_none_or(Value::is_null) {
            return Err(StoreError::Invalid(format!(
                "payrun {id} is already approved"
            )));
        }
        r.insert("approvedBy".into(), by.into());
        r.insert("approvedOn".into(), ts(at));
        r.insert("updatedOn".into(), ts(at));
        for item in items {
            if let Some(i) = self.get_mut("payroll-payrun-items", *item) {
                i.insert("locked".into(), "1".into());
            }
        }
        Ok(())
    }

    /// Deletes a pay run and its items (TrackTik's "Unlock").
    pub fn delete_payrun(&mut self, id: i64) -> Result<(), StoreError> {
        self.remove("payroll-payruns", id)
            .ok_or(StoreError::NotFound("payroll-payruns", id))?;
        if let Some(t) = self.tables.get_mut("payroll-payrun-items") {
            t.retain(|_, r| r.get("payrun").and_then(Value::as_i64) != Some(id));
        }
        Ok(())
    }
}
