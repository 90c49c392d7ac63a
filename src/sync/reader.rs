//! Reading TrackTik for a run, at a cost that follows tonight's work, not the history:
//!
//! - [`updated_since`]: approved documents TrackTik updated since the watermark (headers only).
//!   An approval moves `updatedOn`, so this finds new approvals, late ones and re-approvals.
//! - [`approved_between`]: approved documents whose approval lies in a range (the first read
//!   of a new integration, and back-syncs).
//! - [`owed`]: the documents a run still has to post, read in full by id (lines, bill items,
//!   line taxes; pay-run items) with the reference data around them. A document the list does
//!   not return is asked about on its own: only TrackTik's direct answer ("not approved", or
//!   "no such document") makes a document skipped.
//!
//! Every collection is read by keyset (see `providers::tracktik`).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::integrations::settings::{Dimension, Settings};
use crate::providers::tracktik::models::{
    BillableItem, CreditMemo, Invoice, InvoiceLineTax, InvoiceStatus, Payrun, Relation,
};
use crate::providers::tracktik::{AccessToken, Portal, TrackTikClient, TrackTikError, Window};

use super::ledger::Source;
use super::source::{Batch, InvoiceDoc, PayrunDoc, Reference, line_id};

/// Approved documents without their details, as a list read returned them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Headers {
    /// Approved invoices.
    pub invoices: Vec<Invoice>,
    /// Approved pay runs.
    pub payruns: Vec<Payrun>,
    /// Approved credit memos (an invoice's shape).
    pub credit_memos: Vec<Invoice>,
}

impl Headers {
    /// Adds `other`'s documents not already held.
    pub fn merge(&mut self, other: Headers) {
        let have: HashSet<i64> = self.invoices.iter().map(|i| i.id).collect();
        self.invoices
            .extend(other.invoices.into_iter().filter(|i| !have.contains(&i.id)));
        let have: HashSet<i64> = self.payruns.iter().map(|p| p.id).collect();
        self.payruns
            .extend(other.payruns.into_iter().filter(|p| !have.contains(&p.id)));
        let have: HashSet<i64> = self.credit_memos.iter().map(|c| c.id).collect();
        self.credit_memos.extend(
            other
                .credit_memos
                .into_iter()
                .filter(|c| !have.contains(&c.id)),
        );
    }

    /// Every document as (source, id, approval time).
    pub fn approvals(&self) -> impl Iterator<Item = (Source, i64, Option<DateTime<Utc>>)> + '_ {
        let utc = |t: Option<chrono::DateTime<chrono::FixedOffset>>| t.map(|t| t.to_utc());
        self.invoices
            .iter()
            .map(move |i| (Source::Invoice, i.id, utc(i.approved_on)))
            .chain(
                self.payruns
                    .iter()
                    .map(move |p| (Source::Payrun, p.id, utc(p.approved_on))),
            )
            .chain(
                self.credit_memos
                    .iter()
                    .map(move |c| (Source::CreditMemo, c.id, utc(c.approved_on))),
            )
    }
}

/// From when each source is read; `None`: that source is not read (switched off).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Since {
    /// Invoices updated from …
    pub invoices: Option<DateTime<Utc>>,
    /// Pay runs updated from …
    pub payruns: Option<DateTime<Utc>>,
    /// Credit memos updated from …
    pub credit_memos: Option<DateTime<Utc>>,
}

/// Approved documents updated at or after each source's instant.
pub(crate) async fn updated_since(
    tt: &TrackTikClient,
    portal: &Portal,
    token: &AccessToken,
    since: Since,
) -> Result<Headers, TrackTikError> {
    let mut headers = Headers::default();
    if let Some(t) = since.invoices {
        headers.invoices = tt.approved_invoices_updated_since(portal, token, t).await?;
    }
    if let Some(t) = since.payruns {
        headers.payruns = tt.approved_payruns_updated_since(portal, token, t).await?;
    }
    if let Some(t) = since.credit_memos {
        headers.credit_memos = unwrap_memos(
            tt.approved_credit_memos_updated_since(portal, token, t)
                .await?,
        );
    }
    Ok(headers)
}

fn unwrap_memos(memos: Vec<CreditMemo>) -> Vec<Invoice> {
    memos.into_iter().map(|c| c.0).collect()
}

/// Approved documents whose approval lies in `[from, until)`, of the sources asked.
pub(crate) async fn approved_between(
    tt: &TrackTikClient,
    portal: &Portal,
    token: &AccessToken,
    sources: &[Source],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Headers, TrackTikError> {
    let mut headers = Headers::default();
    if until <= from {
        return Ok(headers);
    }
    let window = Window::new(from, until)?;
    if sources.contains(&Source::Invoice) {
        headers.invoices = tt.approved_invoices_between(portal, token, window).await?;
    }
    if sources.contains(&Source::Payrun) {
        headers.payruns = tt.approved_payruns_between(portal, token, window).await?;
    }
    if sources.contains(&Source::CreditMemo) {
        headers.credit_memos = unwrap_memos(
            tt.approved_credit_memos_between(portal, token, window)
                .await?,
        );
    }
    Ok(headers)
}

/// What TrackTik said about the documents a run owes, asked by id.
#[derive(Clone, Debug, Default)]
pub(crate) struct Owed {
    /// The documents still approved, in full, with the reference data.
    pub batch: Batch,
    /// Documents TrackTik says are not approved (any more).
    pub not_approved: Vec<(Source, i64)>,
    /// Documents TrackTik says do not exist (deleted).
    pub deleted: Vec<(Source, i64)>,
}

/// The documents to read in full, per source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ids {
    /// Invoices.
    pub invoices: Vec<i64>,
    /// Pay runs.
    pub payruns: Vec<i64>,
    /// Credit memos.
    pub credit_memos: Vec<i64>,
}

impl Ids {
    /// Whether there is nothing to read.
    pub fn is_empty(&self) -> bool {
        self.invoices.is_empty() && self.payruns.is_empty() && self.credit_memos.is_empty()
    }

    /// Adds one document.
    pub fn push(&mut self, source: Source, id: i64) {
        match source {
            Source::Invoice => self.invoices.push(id),
            Source::Payrun => self.payruns.push(id),
            Source::CreditMemo => self.credit_memos.push(id),
        }
    }
}

/// Reads the given documents in full, without the reference data around them (see
/// [`reference`]). A document missing from the list read is asked about on its own before it
/// is called deleted.
pub(crate) async fn owed(
    tt: &TrackTikClient,
    portal: &Portal,
    token: &AccessToken,
    ids: &Ids,
) -> Result<Owed, TrackTikError> {
    let (invoice_ids, payrun_ids) = (&ids.invoices[..], &ids.payruns[..]);
    let mut owed = Owed::default();
    if !invoice_ids.is_empty() {
        let mut found: HashMap<i64, Invoice> = tt
            .invoices_with_lines(portal, token, invoice_ids)
            .await?
            .into_iter()
            .map(|i| (i.id, i))
            .collect();
        for id in invoice_ids {
            if !found.contains_key(id) {
                match tt.invoice_if_exists(portal, token, *id).await? {
                    Some(i) => {
                        found.insert(*id, i);
                    }
                    None => owed.deleted.push((Source::Invoice, *id)),
                }
            }
        }
        let mut approved = Vec::new();
        for (id, invoice) in found {
            if invoice.status == InvoiceStatus::Approved && invoice.approved_on.is_some() {
                approved.push(invoice);
            } else {
                owed.not_approved.push((Source::Invoice, id));
            }
        }
        owed.batch.invoices = invoice_details(tt, portal, token, approved, false).await?;
    }
    if !ids.credit_memos.is_empty() {
        let mut found: HashMap<i64, Invoice> = unwrap_memos(
            tt.credit_memos_with_lines(portal, token, &ids.credit_memos)
                .await?,
        )
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
        for id in &ids.credit_memos {
            if !found.contains_key(id) {
                match tt.credit_memo_if_exists(portal, token, *id).await? {
                    Some(c) => {
                        found.insert(*id, c.0);
                    }
                    None => owed.deleted.push((Source::CreditMemo, *id)),
                }
            }
        }
        let mut approved = Vec::new();
        for (id, memo) in found {
            if memo.status == InvoiceStatus::Approved && memo.approved_on.is_some() {
                approved.push(memo);
            } else {
                owed.not_approved.push((Source::CreditMemo, id));
            }
        }
        owed.batch.credit_memos = invoice_details(tt, portal, token, approved, true).await?;
    }
    if !payrun_ids.is_empty() {
        let mut found: HashMap<i64, Payrun> = tt
            .payruns_by_id(portal, token, payrun_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        for id in payrun_ids {
            if !found.contains_key(id) {
                match tt.payrun_if_exists(portal, token, *id).await? {
                    Some(p) => {
                        found.insert(*id, p);
                    }
                    None => owed.deleted.push((Source::Payrun, *id)),
                }
            }
        }
        let mut approved: Vec<Payrun> = Vec::new();
        for (id, payrun) in found {
            if payrun.approved_on.is_some() {
                approved.push(payrun);
            } else {
                owed.not_approved.push((Source::Payrun, id));
            }
        }
        approved.sort_by_key(|p| p.id);
        let ids: Vec<i64> = approved.iter().map(|p| p.id).collect();
        let mut items_of: HashMap<i64, Vec<_>> = HashMap::new();
        if !ids.is_empty() {
            for item in tt.payrun_items_for(portal, token, &ids).await? {
                let payrun = match &item.payrun {
                    Relation::Id(id) => *id,
                    Relation::Object(o) => o.id,
                };
                items_of.entry(payrun).or_default().push(item);
            }
        }
        owed.batch.payruns = approved
            .into_iter()
            .map(|payrun| {
                let mut items = items_of.remove(&payrun.id).unwrap_or_default();
                items.sort_by_key(|i| i.id);
                PayrunDoc { payrun, items }
            })
            .collect();
    }
    owed.not_approved.sort_unstable();
    owed.deleted.sort_unstable();
    Ok(owed)
}

/// Lines (already included), line taxes and billable items of approved invoices (or credit
/// memos, whose taxes and billable items are read by their lines).
async fn invoice_details(
    tt: &TrackTikClient,
    portal: &Portal,
    token: &AccessToken,
    mut invoices: Vec<Invoice>,
    by_line: bool,
) -> Result<Vec<InvoiceDoc>, TrackTikError> {
    if invoices.is_empty() {
        return Ok(Vec::new());
    }
    invoices.sort_by_key(|i| i.id);
    let ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    // Taxes and billable items are read at once: each needs only the ids.
    let (taxes, billables) = if by_line {
        let lines: Vec<i64> = invoices
            .iter()
            .flat_map(|i| i.lines.iter().flatten().map(|l| l.id))
            .collect();
        tokio::try_join!(
            tt.line_taxes_for_lines(portal, token, &lines),
            tt.billable_items_for_lines(portal, token, &lines),
        )?
    } else {
        tokio::try_join!(
            tt.line_taxes_for_invoices(portal, token, &ids),
            tt.billable_items_for_invoices(portal, token, &ids),
        )?
    };
    let mut billables_of_invoice: HashMap<i64, Vec<BillableItem>> = HashMap::new();
    let mut bill_item_of_line = HashMap::new();
    for b in billables {
        if let (Some(line), Some(item)) = (&b.invoice_line, &b.bill_item) {
            bill_item_of_line.insert(line_id(line), item.id());
        }
        if let Some(inv) = &b.invoice {
            billables_of_invoice.entry(inv.id()).or_default().push(b);
        }
    }
    let mut taxes_of_line: HashMap<i64, Vec<InvoiceLineTax>> = HashMap::new();
    for t in taxes {
        if let Some(line) = t.invoice_line_id() {
            taxes_of_line.entry(line).or_default().push(t);
        }
    }
    Ok(invoices
        .into_iter()
        .map(|mut invoice| {
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
            InvoiceDoc {
                invoice,
                lines,
                bill_item_of_line,
                billable_items,
                taxes,
            }
        })
        .collect())
}

/// Names and currencies: clients and sites, regions' billing currencies (and names when a
/// Class or Location comes from the region), bill items, tax classes and their items. The
/// lists are read at once.
pub(crate) async fn reference(
    tt: &TrackTikClient,
    portal: &Portal,
    token: &AccessToken,
    settings: &Settings,
) -> Result<Reference, TrackTikError> {
    let with_regions = wants_region_names(settings)
        || !matches!(
            settings.scope.regions,
            crate::integrations::settings::RegionChoice::Every
        );
    let regions = async {
        if with_regions {
            tt.regions(portal, token).await
        } else {
            Ok(Vec::new())
        }
    };
    let (clients, back_office, region_list, bill_items, tax_classes, tax_class_items) = tokio::try_join!(
        tt.clients(portal, token),
        tt.back_office_settings(portal, token),
        regions,
        tt.bill_items(portal, token),
        tt.tax_classes(portal, token),
        tt.tax_class_items(portal, token),
    )?;
    let mut r = Reference {
        clients: clients.into_iter().map(|c| (c.id, c)).collect(),
        ..Reference::default()
    };
    for s in back_office {
        if let (Some(region), Some(currency)) = (&s.region, &s.billing_base_currency) {
            r.currency_of_region
                .insert(region.id(), currency.trim().to_ascii_uppercase());
        }
    }
    if with_regions {
        r.region_list = region_list;
        r.regions = r
            .region_list
            .iter()
            .filter_map(|g| Some((g.id, g.name.clone()?)))
            .collect();
    }
    r.bill_items = bill_items
        .into_iter()
        .map(|b| (b.id, b.name.unwrap_or_else(|| format!("#{}", b.id))))
        .collect();
    for c in tax_classes {
        r.tax_classes
            .insert(c.id, c.name.clone().unwrap_or_else(|| format!("#{}", c.id)));
        for item in c.items.unwrap_or_default() {
            r.tax_class_of_item.insert(item.id, c.id);
        }
    }
    r.tax_class_items = tax_class_items;
    for item in &r.tax_class_items {
        if let Some(class) = &item.tax_class {
            let class = match class {
                Relation::Id(id) => *id,
                Relation::Object(o) => o.id,
            };
            r.tax_class_of_item.insert(item.id, class);
        }
    }
    Ok(r)
}

/// Whether a QBO Class or Location comes from the TrackTik region, so region names are needed.
fn wants_region_names(settings: &Settings) -> bool {
    let region = Some(Dimension::Region);
    (settings.billing.enabled
        && (settings.billing.class_from == region || settings.billing.location_from == region))
        || (settings.payroll.enabled
            && (settings.payroll.class_from == region || settings.payroll.location_from == region))
}
