//! Hand-built TrackTik documents and settings. DTOs are built from JSON, as TrackTik sends
//! them, so the tests also go through the real deserializers.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::integrations::settings::{QboRef, Settings, TaxTarget};
use crate::integrations::{CompanyPrefs, CompanyProfile};
use crate::providers::tracktik::models::{
    BillableItem, Invoice, InvoiceLine, InvoiceLineTax, Payrun, PayrunItem, TaxClassItem,
};
use crate::sync::translate::{
    DimensionRefs, InvoiceContext, InvoiceDocument, Names, PayrunContext, PayrunDocument,
};

/// A decimal from its text.
pub fn d(text: &str) -> Decimal {
    Decimal::from_str(text).expect("a decimal literal")
}

/// A DTO from JSON.
pub fn dto<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("fixture JSON matches the DTO")
}

/// A US company, no multicurrency, no tracking.
pub fn us_company() -> CompanyProfile {
    CompanyProfile {
        realm_id: "9130".into(),
        name: "Acme Security Inc".into(),
        country: "US".into(),
        home_currency: "USD".into(),
        prefs: CompanyPrefs::default(),
    }
}

/// A Canadian company, no multicurrency, no tracking.
pub fn ca_company() -> CompanyProfile {
    CompanyProfile {
        realm_id: "9131".into(),
        name: "Acme Security Ltd".into(),
        country: "CA".into(),
        home_currency: "CAD".into(),
        prefs: CompanyPrefs::default(),
    }
}

/// Bill item 10 "Guarding - Regular Hours" → QBO item 100; 11 "Guarding - Overtime" → 101.
/// Tax class 1 (State tax) and 2 (County tax) → items 801/802 (US) or codes 5/6 (CA);
/// automated tax item 800; exempt code 9.
pub fn settings(us: bool) -> Settings {
    let mut s = Settings::default();
    s.billing.items.insert(10, QboRef::new("100", "Guarding"));
    s.billing.items.insert(11, QboRef::new("101", "Overtime"));
    let target = |item: &str, code: &str, name: &str| {
        if us {
            TaxTarget::Item {
                item: QboRef::new(item, name),
            }
        } else {
            TaxTarget::TaxCode {
                code: QboRef::new(code, name),
            }
        }
    };
    s.taxes.classes.insert(1, target("801", "5", "HST ON"));
    s.taxes.classes.insert(2, target("802", "6", "GST"));
    s.taxes.automated_tax_item = Some(QboRef::new("800", "TrackTik Automated Calculated Tax"));
    s.taxes.exempt_tax_code = Some(QboRef::new("9", "Exempt"));
    s.payroll.wages_account = Some(QboRef::new("3000", "TrackTik Direct Wages"));
    s.payroll
        .pay_code_accounts
        .insert("OT".into(), QboRef::new("3001", "Overtime Wages"));
    s.payroll.liability_account = Some(QboRef::new("9000", "TrackTik Direct Wages Liability"));
    s.payroll.vendor = Some(QboRef::new("55", "Payroll Provider"));
    s
}

/// Names used when relations arrive as bare ids.
pub fn names() -> Names {
    let mut n = Names::default();
    n.clients.insert(500, "Northwind Mall".into());
    n.sites.insert(601, "Main Gate".into());
    n.sites.insert(602, "Parking Lot".into());
    n.regions.insert(7, "Toronto".into());
    n.bill_items.insert(10, "Guarding - Regular Hours".into());
    n.bill_items.insert(11, "Guarding - Overtime".into());
    n.tax_classes.insert(1, "HST ON".into());
    n.tax_classes.insert(2, "GST".into());
    n.employees.insert(31, "Ana Diaz".into());
    n.employees.insert(32, "Ben Okafor".into());
    n
}

/// An approved invoice; `extra` overrides or adds fields.
pub fn invoice(extra: Value) -> Invoice {
    let mut base = json!({
        "id": 4012, "status": "APPROVED", "client": 500, "documentNumber": "INV-4012",
        "invoiceDate": "2026-11-20", "dueDate": "2026-12-20",
        "servicePeriodStartDate": "2026-11-01", "servicePeriodEndDate": "2026-11-15"
    });
    merge(&mut base, extra);
    dto(base)
}

/// A line at a site, on 2026-11-10 local time.
pub fn line(id: i64, qty: &str, price: &str, sub_total: &str, site: Option<i64>) -> InvoiceLine {
    dto(json!({
        "id": id, "quantity": qty, "unitPrice": price, "lineSubTotal": sub_total,
        "serviceLocation": site, "serviceDateTime": "2026-11-10T08:00:00-05:00"
    }))
}

/// A billable item putting `line` under `bill_item`.
pub fn billable(id: i64, line: i64, bill_item: i64) -> BillableItem {
    dto(json!({"id": id, "invoiceLine": line, "billItem": bill_item}))
}

/// A tax row of `amount` on `line` through tax class item `item` (None: unattributed).
pub fn tax(id: i64, line: i64, item: Option<i64>, amount: &str) -> InvoiceLineTax {
    dto(json!({"id": id, "invoiceLine": line, "taxClassItem": item, "amount": amount}))
}

/// Tax class item `id` of tax class `class`.
pub fn class_item(id: i64, class: i64) -> TaxClassItem {
    dto(json!({"id": id, "taxClass": class, "code": "T", "percentage": "13"}))
}

/// Two lines (bill items 10 and 11, sites 601 and 602) taxed 13.00 + 6.50 under classes 1
/// and 2; subTotal 150.00, taxTotal 19.50, total 169.50.
pub fn two_line_invoice() -> InvoiceDocument {
    InvoiceDocument {
        invoice: invoice(json!({"subTotal": "150.00", "taxTotal": "19.50", "total": "169.50"})),
        lines: vec![
            line(1, "4", "25.00", "100.00", Some(601)),
            line(2, "1.25", "40.00", "50.00", Some(602)),
        ],
        billable_items: vec![
            billable(91, 1, 10),
            billable(92, 1, 10),
            billable(93, 2, 11),
        ],
        line_taxes: vec![tax(71, 1, Some(81), "13.00"), tax(72, 2, Some(82), "6.50")],
        tax_class_items: vec![class_item(81, 1), class_item(82, 2)],
        region_id: Some(7),
    }
}

/// Owns what an [`InvoiceContext`] / [`PayrunContext`] borrows.
pub struct World {
    pub settings: Settings,
    pub company: CompanyProfile,
    pub currency: Option<String>,
    pub customer: Option<QboRef>,
    pub names: Names,
    pub dims: DimensionRefs,
}

impl World {
    /// US or Canadian company with [`settings`] and [`names`].
    pub fn new(us: bool) -> Self {
        Self {
            settings: settings(us),
            company: if us { us_company() } else { ca_company() },
            currency: None,
            customer: Some(QboRef::new("58", "Northwind Mall")),
            names: names(),
            dims: DimensionRefs::default(),
        }
    }

    /// The invoice context.
    pub fn invoice_ctx(&self) -> InvoiceContext<'_> {
        InvoiceContext {
            settings: &self.settings,
            company: &self.company,
            currency: self.currency.as_deref(),
            customer: self.customer.as_ref(),
            names: &self.names,
            dimensions: &self.dims,
        }
    }

    /// The pay-run context.
    pub fn payrun_ctx(&self) -> PayrunContext<'_> {
        PayrunContext {
            settings: &self.settings,
            company: &self.company,
            currency: self.currency.as_deref(),
            ap_account: None,
            names: &self.names,
            dimensions: &self.dims,
        }
    }
}

/// Pay run 77 for 2026-11-09 … 2026-11-22 in region 7.
pub fn payrun(extra: Value) -> Payrun {
    let mut base = json!({
        "id": 77, "occurrenceDate": "2026-11-22", "occurrenceStartDate": "2026-11-09",
        "occurrenceEndDate": "2026-11-22", "region": 7, "approvedOn": "2026-11-23T10:00:00+00:00"
    });
    merge(&mut base, extra);
    dto(base)
}

/// A pay-run item.
pub fn pay_item(
    id: i64,
    employee: i64,
    code: &str,
    site: i64,
    hours: &str,
    total: &str,
) -> PayrunItem {
    dto(json!({
        "id": id, "payrun": 77, "employee": employee, "account": site,
        "payrollCodeLabel": code, "quantity": hours, "rate": "20.00", "total": total
    }))
}

/// Ana (31) and Ben (32) at Main Gate (601) and Parking Lot (602):
/// REG 40 h 800.00 + OT 5 h 150.00 for Ana, REG 30 h 600.00 for Ben. Total 1550.00.
pub fn three_item_payrun() -> PayrunDocument {
    PayrunDocument {
        payrun: payrun(json!({"totalCost": "1550.00"})),
        items: vec![
            pay_item(1, 31, "REG", 601, "40", "800.00"),
            pay_item(2, 31, "OT", 601, "5", "150.00"),
            pay_item(3, 32, "REG", 602, "30", "600.00"),
        ],
    }
}

fn merge(base: &mut Value, extra: Value) {
    if let (Value::Object(base), Value::Object(extra)) = (base, extra) {
        base.extend(extra);
    }
}
