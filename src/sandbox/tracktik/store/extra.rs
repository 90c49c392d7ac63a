//! Credit memos and positions (issue 15). Neither is seeded (so every seeded id stays as it
//! was); both are made through the control API.
//!
//! A credit memo here is a full credit of one invoice: the invoice's header, totals and lines
//! (copied as lines of the credit memo, each with its billable items and line taxes), with its
//! own id and document number. Amounts are positive, as on the invoice (TrackTik's sign
//! convention for credit memos is not documented).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::{Portal, Row, StoreError, date, opt_id, row, ts};

/// A position (post) at a site.
#[derive(Debug, Clone)]
pub struct NewPosition {
    pub name: String,
    pub account: i64,
    pub custom_id: Option<String>,
    pub tax_class: Option<i64>,
    pub pay_code_label: Option<i64>,
    pub begin_date: Option<NaiveDate>,
    pub created_on: DateTime<Utc>,
}

/// Credit memo ids start apart from invoice ids (their lines point at them through `invoice`).
const CREDIT_MEMO_ID_BASE: i64 = 95_001;

impl Portal {
    /// Credits `invoice` in full; returns the credit memo's id.
    pub fn create_credit_memo(
        &mut self,
        invoice: i64,
        document_number: Option<String>,
        approve: bool,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let source = self
            .get("invoices", invoice)
            .cloned()
            .ok_or(StoreError::NotFound("invoices", invoice))?;
        let id = self
            .table("credit-memos")
            .and_then(|t| t.keys().next_back().copied())
            .map_or(CREDIT_MEMO_ID_BASE, |last| last + 1);
        let number = document_number.unwrap_or_else(|| {
            let base = source
                .get("documentNumber")
                .and_then(Value::as_str)
                .unwrap_or("INV");
            format!("CM-{base}")
        });
        let mut memo: Row = source.clone();
        memo.retain(|k, _| k != "lines");
        let approver = self.admin_employee;
        for (k, v) in [
            ("documentNumber", Value::String(number)),
            (
                "status",
                Value::String(if approve { "APPROVED" } else { "DRAFT" }.into()),
            ),
            ("distributed", Value::Bool(false)),
            (
                "approvedBy",
                if approve {
                    opt_id(Some(approver))
                } else {
                    Value::Null
                },
            ),
            ("approvedOn", if approve { ts(now) } else { Value::Null }),
            ("createdOn", ts(now)),
            ("updatedOn", ts(now)),
            ("invoiceDate", date(now.date_naive())),
            ("date", date(now.date_naive())),
            ("dueDate", date(now.date_naive())),
        ] {
            memo.insert(k.into(), v);
        }
        let lines: Vec<Row> = self
            .ids_where("invoice-lines", "invoice", invoice)
            .into_iter()
            .filter_map(|l| self.get("invoice-lines", l).cloned())
            .collect();
        for mut line in lines {
            let old = line.get("id").and_then(Value::as_i64).unwrap_or_default();
            line.insert("invoice".into(), Value::from(id));
            line.remove("id");
            let new = self.insert("invoice-lines", line);
            // The line's billable items (its bill item) and taxes come with it.
            for b in self.ids_where("billable-items", "invoiceLine", old) {
                if let Some(mut item) = self.get("billable-items", b).cloned() {
                    item.remove("id");
                    item.insert("invoice".into(), Value::from(id));
                    item.insert("invoiceLine".into(), Value::from(new));
                    self.insert("billable-items", item);
                }
            }
            // A line tax names its line as a one-element list (TrackTik's schema).
            let names = |v: Option<&Value>| match v {
                Some(Value::Array(a)) => a.iter().any(|x| x.as_i64() == Some(old)),
                Some(x) => x.as_i64() == Some(old),
                None => false,
            };
            let taxes: Vec<Row> = self
                .table("invoice-line-taxes")
                .map(|t| {
                    t.values()
                        .filter(|r| names(r.get("invoiceLine")))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            for mut tax in taxes {
                tax.remove("id");
                tax.insert("invoiceLine".into(), Value::Array(vec![Value::from(new)]));
                self.insert("invoice-line-taxes", tax);
            }
        }
        self.insert_with_id("credit-memos", id, memo);
        Ok(id)
    }

    /// Adds a position at `account` (a client's account); returns its id.
    pub fn create_position(&mut self, p: NewPosition) -> Result<i64, StoreError> {
        if self.get("accounts", p.account).is_none() {
            return Err(StoreError::NotFound("accounts", p.account));
        }
        for (tag, id) in [
            ("tax-classes", p.tax_class),
            ("payroll-codes", p.pay_code_label),
        ] {
            if let Some(id) = id
                && self.get(tag, id).is_none()
            {
                return Err(StoreError::NotFound(tag, id));
            }
        }
        if p.name.trim().is_empty() {
            return Err(StoreError::Invalid("a position needs a name".into()));
        }
        let admin = self.admin_employee;
        Ok(self.insert(
            "positions",
            row([
                ("name", Value::String(p.name)),
                ("description", Value::Null),
                ("customId", p.custom_id.map_or(Value::Null, Value::String)),
                ("status", "ACTIVE".into()),
                ("account", Value::from(p.account)),
                ("contract", Value::Null),
                ("nonBillable", Value::Bool(false)),
                ("shiftMemo", Value::Null),
                ("beginDate", p.begin_date.map_or(Value::Null, date)),
                ("endDate", Value::Null),
                ("breakRule", Value::Null),
                ("billingSetting", Value::Null),
                ("payrollSetting", Value::Null),
                ("taxClass", opt_id(p.tax_class)),
                ("payCodeLabel", opt_id(p.pay_code_label)),
                ("createdBy", Value::from(admin)),
                ("createdOn", ts(p.created_on)),
                ("updatedBy", Value::from(admin)),
                ("updatedOn", ts(p.created_on)),
            ]),
        ))
    }
}
