//! Invoices: creation (lines, billable items, line taxes, totals), approval, edits, deletion.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde_json::Value;

use super::{Portal, StoreError, cents, date, dec, num, opt_id, row, ts};

/// One worked period (usually a shift) that becomes one billable item.
#[derive(Clone, Debug)]
pub struct NewLinePart {
    /// Local start of the service, in the region's time zone.
    pub start: NaiveDateTime,
    pub quantity: Decimal,
}

/// One invoice line: one bill item, one rate, one site; its billable items are the parts.
#[derive(Clone, Debug)]
pub struct NewLine {
    pub bill_item: i64,
    pub service_location: i64,
    pub rate: Decimal,
    pub parts: Vec<NewLinePart>,
}

#[derive(Clone, Debug)]
pub struct NewInvoice {
    pub client: i64,
    pub invoice_date: NaiveDate,
    pub document_number: Option<String>,
    pub lines: Vec<NewLine>,
    pub created_on: DateTime<Utc>,
}

impl Portal {
    /// The region, time zone and tax class an invoice for `client` gets.
    fn billing_context(&self, client: i64) -> Result<(i64, String, Option<i64>, bool), StoreError> {
        let c = self
            .get("clients", client)
            .ok_or(StoreError::NotFound("clients", client))?;
        let region = c.get("region").and_then(Value::as_i64).unwrap_or(1);
        let tz = self
            .get("regions", region)
            .and_then(|r| r.get("timeZone"))
            .and_then(Value::as_str)
            .unwrap_or("America/Toronto")
            .to_owned();
        let billed_client = match c.get("parentClient").and_then(Value::as_i64) {
            Some(parent) => parent,
            None => client,
        };
        if Some(billed_client) == self.exempt_client {
            return Ok((region, tz, self.exempt_tax_class, false));
        }
        let class = self
            .table("back-office-settings")
            .and_then(|t| {
                t.values()
                    .find(|s| s.get("region").and_then(Value::as_i64) == Some(region))
            })
            .and_then(|s| s.get("billingTaxClass"))
            .and_then(Value::as_i64);
        Ok((region, tz, class, true))
    }

    /// Creates a DRAFT invoice with its lines, billable items and line taxes; returns its id.
    pub fn create_invoice(&mut self, inv: NewInvoice) -> Result<i64, StoreError> {
        if inv.lines.is_empty() {
            return Err(StoreError::Invalid(
                "an invoice needs at least one line".into(),
            ));
        }
        let (region, tz_name, tax_class, taxable) = self.billing_context(inv.client)?;
        let tz: Tz = tz_name.parse().unwrap_or(chrono_tz::America::Toronto);
        for line in &inv.lines {
            if self.get("bill-items", line.bill_item).is_none() {
                return Err(StoreError::NotFound("bill-items", line.bill_item));
            }
            if self.get("clients", line.service_location).is_none() {
                return Err(StoreError::NotFound("clients", line.service_location));
            }
            if line.parts.is_empty() {
                return Err(StoreError::Invalid("a line needs a quantity".into()));
            }
        }
        let tax_items: Vec<(i64, Decimal)> = match (taxable, tax_class) {
            (true, Some(class)) => self
                .table("tax-class-items")
                .map(|t| {
                    t.values()
                        .filter(|i| i.get("taxClass").and_then(Value::as_i64) == Some(class))
                        .map(|i| {
                            let id = i.get("id").and_then(Value::as_i64).unwrap_or(0);
                            (id, i.get("percentage").and_then(dec).unwrap_or_default())
                        })
                        .collect()
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let billed_client = self
            .get("clients", inv.client)
            .and_then(|c| c.get("parentClient"))
            .and_then(Value::as_i64)
            .unwrap_or(inv.client);
        let document_number = match inv.document_number {
            Some(n) => n,
            None => self.next_document_number(),
        };
        let invoice_id = self.allocate_id("invoices");
        let mut sub_total = Decimal::ZERO;
        let mut tax_total = Decimal::ZERO;
        let mut first_day = inv.lines[0].parts[0].start.date();
        let mut last_day = first_day;
        for line in inv.lines {
            let line_id = self.allocate_id("invoice-lines");
            let mut line_total = Decimal::ZERO;
            let mut quantity = Decimal::ZERO;
            let first_start = line.parts[0].start;
            for part in &line.parts {
                let price = cents(part.quantity * line.rate);
                line_total += price;
                quantity += part.quantity;
                let day = part.start.date();
                first_day = first_day.min(day);
                last_day = last_day.max(day);
                let group_key =
                    format!("{}|{}|{}", line.bill_item, line.rate, line.service_location);
                let serviced = local_to_utc(&tz, part.start);
                self.insert(
                    "billable-items",
                    row([
                        ("type", "REVENUE".into()),
                        (
                            "serviceModel",
                            serde_json::json!({"type": "shifts", "object": null}),
                        ),
                        ("quantity", num(part.quantity)),
                        ("rate", num(line.rate)),
                        ("price", num(price)),
                        ("taxClass", opt_id(tax_class)),
                        ("invoice", invoice_id.into()),
                        ("invoiceLine", line_id.into()),
                        ("serviceLocation", line.service_location.into()),
                        ("clientAccount", billed_client.into()),
                        ("region", region.into()),
                        ("billItem", line.bill_item.into()),
                        ("postedOn", Value::Null),
                        ("memo", Value::Null),
                        ("statType", "HOURS".into()),
                        ("serviceDate", date(day)),
                        ("servicedOn", ts(serviced)),
                        ("groupKey", group_key.into()),
                    ]),
                );
            }
            let mut line_tax = Decimal::ZERO;
            for (item, pct) in &tax_items {
                let amount = cents(line_total * pct / Decimal::ONE_HUNDRED);
                line_tax += amount;
                self.insert(
                    "invoice-line-taxes",
                    row([
                        ("amount", num(amount)),
                        ("taxClassItem", (*item).into()),
                        ("invoiceLine", Value::Array(vec![line_id.into()])),
                    ]),
                );
            }
            sub_total += line_total;
            tax_total += line_tax;
            let service = tz
                .from_local_datetime(
                    &first_start
                        .date()
                        .and_hms_opt(0, 0, 0)
                        .unwrap_or(first_start),
                )
                .earliest()
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%:z").to_string())
                .unwrap_or_default();
            let mut r = row([
                ("quantity", num(quantity)),
                ("unitPrice", num(line.rate)),
                ("lineSubTotal", num(line_total)),
                ("relationGuid", Value::Null),
                ("serviceLocation", line.service_location.into()),
                ("serviceDateTime", service.into()),
                ("taxClass", opt_id(tax_class)),
                ("taxable", taxable.into()),
                ("taxTotal", num(line_tax)),
                ("invoice", invoice_id.into()),
                ("timeZone", tz_name.clone().into()),
            ]);
            r.insert("id".into(), line_id.into());
            self.tables
                .entry("invoice-lines".into())
                .or_default()
                .insert(line_id, r);
        }
        let created = ts(inv.created_on);
        let mut r = row([
            ("client", billed_client.into()),
            ("status", "DRAFT".into()),
            ("documentNumber", document_number.into()),
            ("invoiceDate", date(inv.invoice_date)),
            ("date", date(inv.invoice_date)),
            ("dueDate", date(inv.invoice_date + Duration::days(30))),
            ("servicePeriodStartDate", date(first_day)),
            ("servicePeriodStart", date(first_day)),
            ("servicePeriodEndDate", date(last_day)),
            ("servicePeriodEnd", date(last_day)),
            ("taxClass", opt_id(tax_class)),
            ("contract", Value::Null),
            ("subTotal", num(sub_total)),
            ("taxTotal", num(tax_total)),
            ("total", num(sub_total + tax_total)),
            ("distributed", false.into()),
            ("aging", "0".into()),
            ("approvedBy", Value::Null),
            ("approvedOn", Value::Null),
            ("invoiceBatchId", Value::Null),
            ("createdBy", self.admin_employee.into()),
            ("createdOn", created.clone()),
            ("updatedBy", self.admin_employee.into()),
            ("updatedOn", created),
        ]);
        r.insert("id".into(), invoice_id.into());
        self.tables
            .entry("invoices".into())
            .or_default()
            .insert(invoice_id, r);
        Ok(invoice_id)
    }

    /// DRAFT → APPROVED at `at`, by `by` (the admin when `None`).
    pub fn approve_invoice(
        &mut self,
        id: i64,
        by: Option<i64>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let by = by.unwrap_or(self.admin_employee);
        let r = self
            .get_mut("invoices", id)
            .ok_or(StoreError::NotFound("invoices", id))?;
        if r.get("status").and_then(Value::as_str) == Some("APPROVED") {
            return Err(StoreError::Invalid(format!(
                "invoice {id} is already approved"
            )));
        }
        r.insert("status".into(), "APPROVED".into());
        r.insert("approvedBy".into(), by.into());
        r.insert("approvedOn".into(), ts(at));
        r.insert("updatedBy".into(), by.into());
        r.insert("updatedOn".into(), ts(at));
        Ok(())
    }

    /// Applies a patch of plain invoice fields and bumps `updatedOn`.
    pub fn edit_invoice(
        &mut self,
        id: i64,
        patch: &serde_json::Map<String, Value>,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // `subTotal`/`taxTotal`/`total` may be set directly, to produce the one-cent
        // discrepancies a reconciliation must report.
        const EDITABLE: &[&str] = &[
            "documentNumber",
            "dueDate",
            "distributed",
            "aging",
            "invoiceBatchId",
            "status",
            "subTotal",
            "taxTotal",
            "total",
        ];
        for (k, v) in patch {
            let ok = match k.as_str() {
                "documentNumber" | "aging" => v.is_string(),
                "dueDate" => v
                    .as_str()
                    .is_some_and(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()),
                "distributed" => v.is_boolean(),
                "invoiceBatchId" => v.is_i64() || v.is_null(),
                "status" => matches!(v.as_str(), Some("APPROVED" | "DRAFT")),
                "subTotal" | "taxTotal" | "total" => v.is_number(),
                _ => {
                    return Err(StoreError::Invalid(format!(
                        "{k} cannot be edited (editable: {})",
                        EDITABLE.join(", ")
                    )));
                }
            };
            if !ok {
                return Err(StoreError::Invalid(format!(
                    "{v} is not a valid value for {k}"
                )));
            }
        }
        let admin = self.admin_employee;
        let r = self
            .get_mut("invoices", id)
            .ok_or(StoreError::NotFound("invoices", id))?;
        for (k, v) in patch {
            r.insert(k.clone(), v.clone());
        }
        match r.get("status").and_then(Value::as_str) {
            Some("DRAFT") => {
                r.insert("approvedOn".into(), Value::Null);
                r.insert("approvedBy".into(), Value::Null);
            }
            _ if r.get("approvedOn").is_none_or(Value::is_null) => {
                r.insert("approvedOn".into(), ts(at));
                r.insert("approvedBy".into(), admin.into());
            }
            _ => {}
        }
        r.insert("updatedBy".into(), admin.into());
        r.insert("updatedOn".into(), ts(at));
        Ok(())
    }

    /// Deletes an invoice with its lines, line taxes and billable items.
    pub fn delete_invoice(&mut self, id: i64) -> Result<(), StoreError> {
        self.remove("invoices", id)
            .ok_or(StoreError::NotFound("invoices", id))?;
        let lines = self.ids_where("invoice-lines", "invoice", id);
        for l in &lines {
            self.remove("invoice-lines", *l);
        }
        for b in self.ids_where("billable-items", "invoice", id) {
            self.remove("billable-items", b);
        }
        let line_set: std::collections::HashSet<i64> = lines.into_iter().collect();
        if let Some(t) = self.tables.get_mut("invoice-line-taxes") {
            t.retain(|_, r| {
                !r.get("invoiceLine")
                    .and_then(Value::as_array)
                    .is_some_and(|a| {
                        a.iter()
                            .any(|v| v.as_i64().is_some_and(|l| line_set.contains(&l)))
                    })
            });
        }
        Ok(())
    }
}

/// Local wall-clock time in `tz` to UTC (the earlier instant when ambiguous).
pub fn local_to_utc(tz: &Tz, local: NaiveDateTime) -> DateTime<Utc> {
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}
