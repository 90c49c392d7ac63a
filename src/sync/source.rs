//! Reading TrackTik: the approved invoices and approved, locked pay runs of a window, with
//! everything posting needs (lines, bill items, line taxes, items, names, currencies), and a
//! content hash of each document (its revision).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::integrations::settings::{Dimension, Settings};
use crate::providers::tracktik::models::{
    BillableItem, Client, Invoice, InvoiceLine, InvoiceLineTax, Payrun, PayrunItem, Relation,
    TaxClassItem,
};
use crate::providers::tracktik::{AccessToken, Portal, TrackTikClient, TrackTikError, Window};

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
    /// Region id → name (read only when a Class or Location comes from the region).
    pub regions: HashMap<i64, String>,
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
    /// Names and currencies.
    pub reference: Reference,
}

/// Reads the window.
pub async fn read(
    tt: &TrackTikClient,
    portal: &Portal,
    token: &AccessToken,
    settings: &Settings,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Batch, TrackTikError> {
    let window = Window::new(from, until)?;
    let mut batch = Batch::default();
    if settings.billing.enabled {
        let invoices = tt.approved_invoices_between(portal, token, window).await?;
        let ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
        if !ids.is_empty() {
            let with_lines = tt.invoices_with_lines(portal, token, &ids).await?;
            let taxes = tt.line_taxes_for_invoices(portal, token, &ids).await?;
            let billables = tt.billable_items_for_invoices(portal, token, &ids).await?;
            let mut billables_of_invoice: HashMap<i64, Vec<BillableItem>> = HashMap::new();
            for b in &billables {
                if let Some(inv) = &b.invoice {
                    billables_of_invoice
                        .entry(inv.id())
                        .or_default()
                        .push(b.clone());
                }
            }
            let mut bill_item_of_line = HashMap::new();
            for b in &billables {
                if let (Some(line), Some(item)) = (&b.invoice_line, &b.bill_item) {
                    bill_item_of_line.insert(line_id(line), item.id());
                }
            }
            let mut taxes_of_line: HashMap<i64, Vec<InvoiceLineTax>> = HashMap::new();
            for t in taxes {
                if let Some(line) = t.invoice_line_id() {
                    taxes_of_line.entry(line).or_default().push(t);
                }
            }
            let approved: HashMap<i64, Invoice> = invoices.into_iter().map(|i| (i.id, i)).collect();
            for mut invoice in with_lines {
                // The approval time comes from the window query (same record).
                if invoice.approved_on.is_none() {
                    invoice.approved_on = approved.get(&invoice.id).and_then(|i| i.approved_on);
                }
                let lines = invoice.lines.take().unwrap_or_default();
                let taxes = lines
                    .iter()
                    .flat_map(|l| taxes_of_line.get(&l.id).cloned().unwrap_or_default())
                    .collect();
                let bill_item_of_line = lines
                    .iter()
                    .filter_map(|l| bill_item_of_line.get(&l.id).map(|b| (l.id, *b)))
                    .collect();
                let billable_items = billables_of_invoice.remove(&invoice.id).unwrap_or_default();
                batch.invoices.push(InvoiceDoc {
                    invoice,
                    lines,
                    bill_item_of_line,
                    billable_items,
                    taxes,
                });
            }
            batch.invoices.sort_by_key(|d| d.invoice.id);
        }
    }
    if settings.payroll.enabled {
        let payruns = tt.approved_payruns_between(portal, token, window).await?;
        for payrun in payruns {
            let items = tt.payrun_items(portal, token, payrun.id).await?;
            batch.payruns.push(PayrunDoc { payrun, items });
        }
        batch.payruns.sort_by_key(|d| d.payrun.id);
    }
    if !batch.invoices.is_empty() || !batch.payruns.is_empty() {
        let r = &mut batch.reference;
        r.clients = tt
            .clients(portal, token)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        for s in tt.back_office_settings(portal, token).await? {
            if let (Some(region), Some(currency)) = (&s.region, &s.billing_base_currency) {
                r.currency_of_region
                    .insert(region.id(), currency.trim().to_ascii_uppercase());
            }
        }
        if wants_region_names(settings) {
            r.regions = tt
                .regions(portal, token)
                .await?
                .into_iter()
                .filter_map(|g| Some((g.id, g.name?)))
                .collect();
        }
        r.bill_items = tt
            .bill_items(portal, token)
            .await?
            .into_iter()
            .map(|b| (b.id, b.name.unwrap_or_else(|| format!("#{}", b.id))))
            .collect();
        for c in tt.tax_classes(portal, token).await? {
            r.tax_classes
                .insert(c.id, c.name.clone().unwrap_or_else(|| format!("#{}", c.id)));
            for item in c.items.unwrap_or_default() {
                r.tax_class_of_item.insert(item.id, c.id);
            }
        }
        r.tax_class_items = tt.tax_class_items(portal, token).await?;
        for item in &r.tax_class_items {
            if let Some(class) = &item.tax_class {
                let class = match class {
                    Relation::Id(id) => *id,
                    Relation::Object(o) => o.id,
                };
                r.tax_class_of_item.insert(item.id, class);
            }
        }
    }
    Ok(batch)
}

/// Whether a QBO Class or Location comes from the TrackTik region, so region names are needed.
fn wants_region_names(settings: &Settings) -> bool {
    let region = Some(Dimension::Region);
    (settings.billing.enabled
        && (settings.billing.class_from == region || settings.billing.location_from == region))
        || (settings.payroll.enabled
            && (settings.payroll.class_from == region || settings.payroll.location_from == region))
}

fn line_id(r: &Relation<Box<InvoiceLine>>) -> i64 {
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
