//! TrackTik documents as a run holds them (an invoice with its lines, bill items and line taxes;
//! a pay run with its items; the names and currencies around them), the content hash of each
//! (its revision), and the ledger's view of them. [`super::reader`] reads them.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::providers::tracktik::models::{
    BillableItem, Client, Invoice, InvoiceLine, InvoiceLineTax, Payrun, PayrunItem, Relation,
    TaxClassItem,
};

use super::ledger::{Source, SourceDoc};

/// One invoice and what belongs to it.
#[derive(Clone, Debug)]
pub struct InvoiceDoc {
    /// The invoice.
    pub invoice: Invoice,
    /// Its lines.
    pub lines: Vec<InvoiceLine>,
    /// Line id → TrackTik bill item id (from its billable items).
    pub bill_item_of_line: HashMap<i64, i64>,
    /// Its billable items (each names its line and bill item).
    pub billable_items: Vec<BillableItem>,
    /// Its line-tax rows.
    pub taxes: Vec<InvoiceLineTax>,
}

/// One pay run and its items.
#[derive(Clone, Debug)]
pub struct PayrunDoc {
    /// The pay run.
    pub payrun: Payrun,
    /// Its payables.
    pub items: Vec<PayrunItem>,
}

/// Names and currencies.
#[derive(Clone, Debug, Default)]
pub struct Reference {
    /// Clients and sites by id.
    pub clients: HashMap<i64, Client>,
    /// Region id → `billingBaseCurrency`.
    pub currency_of_region: HashMap<i64, String>,
    /// Region id → name (read only when a Class or Location comes from the region, or the
    /// company takes only some regions).
    pub regions: HashMap<i64, String>,
    /// The regions as TrackTik lists them, with their parents (read with `regions`).
    pub region_list: Vec<crate::providers::tracktik::models::Region>,
    /// Bill item id → name.
    pub bill_items: HashMap<i64, String>,
    /// Tax class item id → tax class id.
    pub tax_class_of_item: HashMap<i64, i64>,
    /// Tax class id → name.
    pub tax_classes: HashMap<i64, String>,
    /// Every tax class item (to attribute line taxes to tax classes).
    pub tax_class_items: Vec<TaxClassItem>,
}

impl Reference {
    /// The name of a client or site, `#id` when unknown.
    pub fn client_name(&self, id: i64) -> String {
        self.clients
            .get(&id)
            .and_then(|c| c.display_name())
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("TrackTik client #{id}"))
    }

    /// The billing currency of a client (through its region).
    pub fn client_currency(&self, id: i64) -> Option<String> {
        let region = self.clients.get(&id)?.region.as_ref()?.id();
        self.currency_of_region.get(&region).cloned()
    }
}

/// Everything read for one window.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// Invoices (when billing is on).
    pub invoices: Vec<InvoiceDoc>,
    /// Pay runs (when payroll is on).
    pub payruns: Vec<PayrunDoc>,
    /// Credit memos (when billing is on): an invoice's shape.
    pub credit_memos: Vec<InvoiceDoc>,
    /// Names and currencies.
    pub reference: Reference,
}

pub(crate) fn line_id(r: &Relation<Box<InvoiceLine>>) -> i64 {
    match r {
        Relation::Id(id) => *id,
        Relation::Object(l) => l.id,
    }
}

/// The document number QBO gets for a pay run.
pub fn payrun_doc_number(id: i64) -> String {
    format!("PR-{id}")
}

fn hash(parts: &[String]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    let digest = h.finalize();
    digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// The revision of an invoice: a hash of everything that reaches QuickBooks.
pub fn invoice_revision(doc: &InvoiceDoc) -> String {
    let i = &doc.invoice;
    let mut parts = vec![
        opt(&i.document_number),
        opt(&i.effective_invoice_date()),
        opt(&i.due_date),
        opt(&i.client.as_ref().map(|c| c.id())),
        opt(&i.sub_total.map(|d| d.normalize())),
        opt(&i.tax_total.map(|d| d.normalize())),
        opt(&i.total.map(|d| d.normalize())),
    ];
    for l in &doc.lines {
        parts.push(format!(
            "{}|{}|{}|{}|{}",
            l.id,
            opt(&l.quantity.map(|d| d.normalize())),
            opt(&l.unit_price.map(|d| d.normalize())),
            opt(&l.line_sub_total.map(|d| d.normalize())),
            opt(&doc.bill_item_of_line.get(&l.id)),
        ));
    }
    let mut taxes: Vec<String> = doc
        .taxes
        .iter()
        .map(|t| format!("{}|{}", t.id, t.amount.normalize()))
        .collect();
    taxes.sort();
    parts.extend(taxes);
    hash(&parts)
}

/// The revision of a pay run.
pub fn payrun_revision(doc: &PayrunDoc) -> String {
    let p = &doc.payrun;
    let mut parts = vec![
        opt(&p.total_cost.map(|d| d.normalize())),
        opt(&p.occurrence_date),
        opt(&p.approved_on),
    ];
    let mut items: BTreeMap<i64, String> = BTreeMap::new();
    for i in &doc.items {
        items.insert(
            i.id,
            format!("{}|{}", opt(&i.total.map(|d| d.normalize())), pay_code(i)),
        );
    }
    parts.extend(items.into_iter().map(|(id, s)| format!("{id}|{s}")));
    hash(&parts)
}

/// The pay code label of an item (`REG`, `OT`, …).
pub fn pay_code(item: &PayrunItem) -> String {
    let code = |r: &Relation<crate::providers::tracktik::models::PayrollCode>| match r {
        Relation::Object(c) => c.code.clone().or_else(|| c.name.clone()),
        Relation::Id(_) => None,
    };
    item.payroll_code_label
        .clone()
        .or_else(|| item.custom_pay_code.as_ref().and_then(code))
        .or_else(|| item.payroll_code.as_ref().and_then(code))
        .or_else(|| item.label.clone())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "OTHER".to_owned())
}

/// The ledger's view of an invoice.
pub fn invoice_source(doc: &InvoiceDoc, zone: Tz, reference: &Reference) -> Option<SourceDoc> {
    let i = &doc.invoice;
    let approved_at = i.approved_on?.with_timezone(&Utc);
    let total = i.total.unwrap_or_else(|| {
        doc.lines
            .iter()
            .filter_map(|l| l.line_sub_total)
            .sum::<Decimal>()
            + doc.taxes.iter().map(|t| t.amount).sum::<Decimal>()
    });
    Some(SourceDoc {
        source: Source::Invoice,
        source_id: i.id,
        revision: invoice_revision(doc),
        doc_number: i
            .document_number
            .clone()
            .unwrap_or_else(|| i.id.to_string()),
        trading_day: approved_at.with_timezone(&zone).date_naive(),
        approved_at,
        amount: total,
        currency: i
            .client
            .as_ref()
            .and_then(|c| reference.client_currency(c.id())),
    })
}

/// The ledger's view of a credit memo: a credit, so its amount is below zero whatever sign
/// TrackTik gives it.
pub fn credit_memo_source(doc: &InvoiceDoc, zone: Tz, reference: &Reference) -> Option<SourceDoc> {
    invoice_source(doc, zone, reference).map(|d| SourceDoc {
        source: Source::CreditMemo,
        amount: -d.amount.abs(),
        ..d
    })
}

/// The ledger's view of a pay run.
pub fn payrun_source(doc: &PayrunDoc, zone: Tz, reference: &Reference) -> Option<SourceDoc> {
    let p = &doc.payrun;
    let approved_at = p.approved_on?.with_timezone(&Utc);
    let total = p
        .total_cost
        .unwrap_or_else(|| doc.items.iter().filter_map(|i| i.total).sum());
    Some(SourceDoc {
        source: Source::Payrun,
        source_id: p.id,
        revision: payrun_revision(doc),
        doc_number: payrun_doc_number(p.id),
        trading_day: approved_at.with_timezone(&zone).date_naive(),
        approved_at,
        amount: total,
        currency: p
            .region
            .as_ref()
            .and_then(|r| reference.currency_of_region.get(&r.id()).cloned()),
    })
}
