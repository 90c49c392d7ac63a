//! TrackTik invoice → QBO invoice.
//!
//! One QBO line per TrackTik line, in TrackTik's order: the mapped product, quantity, rate,
//! `Amount = lineSubTotal`, the service date, a description (bill item — site). Taxes:
//! - **US**: every line carries `NON`; each tax class present becomes one more line with its
//!   mapped tax item and Σ its line-tax rows; unattributed rows go to the automated-tax item.
//!   QBO's total is then TrackTik's subtotal + tax.
//! - **Elsewhere** (Canada, …): `GlobalTaxCalculation = TaxExcluded`, every line carries the
//!   tax code of its tax class (untaxed lines the exempt code), no tax lines: QBO computes the
//!   tax, and the caller checks QBO's total with [`super::reconcile`] after posting.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::integrations::CompanyProfile;
use crate::integrations::settings::{QboRef, Settings};
use crate::providers::quickbooks::models::{self as qbo, Line, Ref, SalesItemLineDetail};
use crate::providers::tracktik::models::{
    BillableItem, Client, Invoice, InvoiceLine, InvoiceLineTax, Relation, TaxClassItem,
};

use super::dimensions::{Wanted, single_location};
use super::doc_number::{doc_number_with, is_shortened};
use super::tax::{TaxRow, line_tax_code, tax_rows, us_tax_lines};
use super::template::{TemplateVars, private_note, render};
use super::{
    Area, Check, DimensionKind, DimensionRefs, Discrepancy, Names, TranslateError, add,
    currency_ref, is_us, name_of, qbo_ref, show, sub_cent_check,
};

/// Everything read from TrackTik about one invoice.
#[derive(Clone, Debug, PartialEq)]
pub struct InvoiceDocument {
    /// The invoice.
    pub invoice: Invoice,
    /// Its lines, in TrackTik's order.
    pub lines: Vec<InvoiceLine>,
    /// Its billable items (each names its `invoiceLine` and `billItem`). Billable items
    /// embedded in a line (`lines.billableItems`) are read too.
    pub billable_items: Vec<BillableItem>,
    /// Its `invoice-line-taxes` rows.
    pub line_taxes: Vec<InvoiceLineTax>,
    /// The tax class items the rows point to, so each row can be attributed to a tax class
    /// (not needed for rows whose `taxClassItem` is embedded with its `taxClass`).
    pub tax_class_items: Vec<TaxClassItem>,
    /// The TrackTik region of the invoice's client (for Class/Location from region).
    pub region_id: Option<i64>,
}

/// What the translation needs besides the document; all of it resolved by the caller.
#[derive(Clone, Copy, Debug)]
pub struct InvoiceContext<'a> {
    /// The integration's settings.
    pub settings: &'a Settings,
    /// The QBO company: country, home currency, multicurrency, class/location tracking.
    pub company: &'a CompanyProfile,
    /// The region's `billingBaseCurrency` (ISO code), when known.
    pub currency: Option<&'a str>,
    /// The QBO customer of the invoice's client, looked up or created by the caller; `None`
    /// fails the invoice with [`TranslateError::MissingCustomer`].
    pub customer: Option<&'a QboRef>,
    /// Names of clients, sites, regions, bill items and tax classes sent as bare ids.
    pub names: &'a Names,
    /// QBO Class/Location per region and site (consulted only when the settings ask).
    pub dimensions: &'a DimensionRefs,
}

/// The QBO invoice and what TrackTik says it must add up to.
#[derive(Clone, Debug, PartialEq)]
pub struct TranslatedInvoice {
    /// The invoice to create.
    pub invoice: qbo::Invoice,
    /// TrackTik's full document number (the QBO `DocNumber` may be shortened).
    pub tracktik_number: String,
    /// TrackTik's `subTotal` (Σ lines when TrackTik sent none).
    pub expected_subtotal: Decimal,
    /// TrackTik's `taxTotal` (Σ line taxes when TrackTik sent none).
    pub expected_tax: Decimal,
    /// TrackTik's `total` (subtotal + tax when TrackTik sent none); for a credit, its size.
    pub expected_total: Decimal,
    /// The document totals below zero: it is a credit, to be posted as a credit memo. Its
    /// lines and expected totals are then the amounts the other way round (positive).
    pub credit: bool,
    /// Every disagreement found in TrackTik's figures; empty when they agree to the cent.
    pub discrepancies: Vec<Discrepancy>,
}

/// The wizard's live preview of the invoice number and memo templates on a real document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplatePreview {
    /// The QBO `DocNumber`, after shortening.
    pub doc_number: String,
    /// Whether the rendered number was longer than 21 characters and was shortened.
    pub doc_number_shortened: bool,
    /// The private note (`None` when the memo template renders empty).
    pub private_note: Option<String>,
}

/// Translates one TrackTik invoice. Errors are permanent until the settings or the TrackTik
/// document change; discrepancies are returned, not raised.
pub fn translate_invoice(
    doc: &InvoiceDocument,
    ctx: &InvoiceContext<'_>,
) -> Result<TranslatedInvoice, TranslateError> {
    let invoice = &doc.invoice;
    let record = format!("invoice {}", invoice.id);
    let billing = &ctx.settings.billing;
    let us = is_us(ctx.company);

    let txn_date = invoice
        .effective_invoice_date()
        .ok_or_else(|| incomplete(&record, "invoiceDate"))?;
    let customer = ctx
        .customer
        .ok_or_else(|| TranslateError::MissingCustomer {
            client_id: invoice.client.as_ref().map(Relation::id),
            name: client_name(invoice, ctx.names).unwrap_or_else(|| "(none)".into()),
        })?;
    if doc.lines.is_empty() {
        return Err(TranslateError::NothingToPost {
            record,
            reason: "the TrackTik invoice has no lines; QuickBooks needs at least one.".into(),
            total: invoice.total.unwrap_or_default(),
        });
    }
    if doc.lines.len() > super::MAX_LINES {
        return Err(TranslateError::TooManyLines {
            record,
            lines: doc.lines.len(),
        });
    }
    let currency = currency_ref(ctx.company, ctx.currency)?;
    let class = Wanted::new(
        ctx.company,
        DimensionKind::Class,
        billing.class_from,
        Area::Billing,
    )?;
    let location = Wanted::new(
        ctx.company,
        DimensionKind::Location,
        billing.location_from,
        Area::Billing,
    )?;
    let region = doc
        .region_id
        .map(|id| (id, name_of(None, &ctx.names.regions, id)));

    let rows = tax_rows(doc);
    let mut rows_by_line: BTreeMap<i64, Vec<&TaxRow>> = BTreeMap::new();
    for row in &rows {
        if let Some(line_id) = row.line_id {
            rows_by_line.entry(line_id).or_default().push(row);
        }
    }
    let bill_items = bill_items_by_line(doc);

    let mut discrepancies = Vec::new();
    let mut lines = Vec::with_capacity(doc.lines.len() + 2);
    let mut line_classes: Vec<Ref> = Vec::new();
    let mut line_locations: Vec<(Option<i64>, Ref)> = Vec::new();
    let mut subtotal = Decimal::ZERO;
    for line in &doc.lines {
        let line_record = format!("invoice line {}", line.id);
        let amount = line
            .line_sub_total
            .ok_or_else(|| incomplete(&line_record, "lineSubTotal"))?;
        subtotal = add(subtotal, amount, &record)?;
        let (item, item_name) = line_item(line, bill_items.get(&line.id), ctx)?;
        let site = line.service_location.as_ref().map(|r| {
            let embedded = r.object().and_then(Client::display_name);
            (r.id(), name_of(embedded, &ctx.names.sites, r.id()))
        });
        let mut description = match &site {
            Some((_, site_name)) => format!("{item_name} — {site_name}"),
            None => item_name,
        };
        let extended = match (line.quantity, line.unit_price) {
            (Some(q), Some(p)) => q.checked_mul(p).map(cents),
            _ => None,
        };
        let (qty, unit_price) = match (line.quantity, line.unit_price) {
            (Some(q), Some(p)) if extended == Some(cents(amount)) => (Some(q), Some(p)),
            (Some(q), Some(p)) => {
                discrepancies.push(Discrepancy {
                    what: Check::LineAmount { line_id: line.id },
                    tracktik: amount,
                    computed: extended.unwrap_or_default(),
                });
                description.push_str(&format!(" ({} × {})", show(q), show(p)));
                (None, None)
            }
            (q, p) => (q, p),
        };
        sub_cent_check(&description, amount, &mut discrepancies);
        let class_ref = class
            .map(|w| w.resolve(ctx.dimensions, region.clone(), site.clone(), line.id))
            .transpose()?;
        if let Some(w) = location {
            let r = w.resolve(ctx.dimensions, region.clone(), site.clone(), line.id)?;
            line_locations.push((site.as_ref().map(|s| s.0), r));
        }
        if let Some(c) = &class_ref {
            line_classes.push(c.clone());
        }
        let tax_code = if us {
            Ref::id("NON")
        } else {
            let own = rows_by_line.get(&line.id).map_or(&[][..], Vec::as_slice);
            line_tax_code(doc, ctx, line, own)?
        };
        let mut qbo_line = Line::sales(
            amount,
            SalesItemLineDetail {
                item_ref: Some(item),
                qty,
                unit_price,
                service_date: service_date(line),
                tax_code_ref: Some(tax_code),
                class_ref,
            },
        );
        qbo_line.description = Some(description);
        lines.push(qbo_line);
    }

    let computed_tax = rows
        .iter()
        .try_fold(Decimal::ZERO, |acc, r| add(acc, r.amount, &record))?;
    let txn_class = uniform(&line_classes);
    if us {
        let tax_class_ref = class
            .filter(|w| w.from == crate::integrations::settings::Dimension::Region)
            .and(txn_class.as_ref());
        let tax_lines = us_tax_lines(doc, ctx, &rows, tax_class_ref)?;
        for line in &tax_lines {
            let what = line.description.clone().unwrap_or_default();
            sub_cent_check(&what, line.amount.unwrap_or_default(), &mut discrepancies);
        }
        lines.extend(tax_lines);
    }
    for (n, line) in lines.iter_mut().enumerate() {
        line.line_num = u32::try_from(n + 1).ok();
    }

    let expected_subtotal = invoice.sub_total.unwrap_or(subtotal);
    let expected_tax = invoice.tax_total.unwrap_or(computed_tax);
    let sum_of_totals = add(expected_subtotal, expected_tax, &record)?;
    let expected_total = invoice.total.unwrap_or(sum_of_totals);
    compare(
        &mut discrepancies,
        Check::Subtotal,
        invoice.sub_total,
        subtotal,
    );
    compare(
        &mut discrepancies,
        Check::TaxTotal,
        invoice.tax_total,
        computed_tax,
    );
    compare(
        &mut discrepancies,
        Check::Total,
        invoice.total,
        sum_of_totals,
    );
    let posted = add(subtotal, computed_tax, &record)?;
    // Below zero, it is a credit: QuickBooks keeps it as a credit memo, whose lines are the
    // same amounts the other way round (a credit memo's lines are positive).
    let credit = posted < Decimal::ZERO;
    if credit {
        for line in &mut lines {
            line.amount = line.amount.map(|a| -a);
            if let Some(d) = line.sales_item_line_detail.as_mut() {
                d.qty = d.qty.map(|q| -q);
            }
        }
    }
    let sign = if credit { -Decimal::ONE } else { Decimal::ONE };

    let vars = template_vars(doc, ctx.names);
    let department_ref = single_location(Area::Billing, line_locations)?;
    let doc_number = doc_number_with(&billing.doc_number_template, &vars);
    let qbo_invoice = qbo::Invoice {
        doc_number: (!doc_number.is_empty()).then_some(doc_number),
        txn_date: Some(txn_date),
        due_date: invoice.due_date,
        customer_ref: Some(qbo_ref(customer)),
        private_note: private_note(&billing.memo_template, &vars),
        currency_ref: currency,
        department_ref,
        class_ref: txn_class,
        global_tax_calculation: (!us).then(|| "TaxExcluded".to_owned()),
        line: lines,
        ..qbo::Invoice::default()
    };
    Ok(TranslatedInvoice {
        invoice: qbo_invoice,
        tracktik_number: vars.number,
        expected_subtotal: sign * expected_subtotal,
        expected_tax: sign * expected_tax,
        expected_total: sign * expected_total,
        credit,
        discrepancies,
    })
}

/// Renders the invoice-number and memo templates against a real document, as the sync would.
pub fn preview_invoice(
    doc: &InvoiceDocument,
    names: &Names,
    doc_number_template: &str,
    memo_template: &str,
) -> TemplatePreview {
    let vars = template_vars(doc, names);
    let rendered = render(doc_number_template, &vars);
    TemplatePreview {
        doc_number: doc_number_with(doc_number_template, &vars),
        doc_number_shortened: is_shortened(rendered.trim()),
        private_note: private_note(memo_template, &vars),
    }
}

fn template_vars(doc: &InvoiceDocument, names: &Names) -> TemplateVars {
    let invoice = &doc.invoice;
    TemplateVars {
        number: invoice
            .document_number
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| invoice.id.to_string()),
        client: client_name(invoice, names),
        period_start: invoice.service_period_start_date,
        period_end: invoice.service_period_end_date,
        invoice_date: invoice.effective_invoice_date(),
    }
}

fn client_name(invoice: &Invoice, names: &Names) -> Option<String> {
    let client = invoice.client.as_ref()?;
    let embedded = client.object().and_then(Client::display_name);
    Some(name_of(embedded, &names.clients, client.id()))
}

/// Line id → the distinct bill items (id → name, when sent) of its billable items.
fn bill_items_by_line(doc: &InvoiceDocument) -> BTreeMap<i64, BTreeMap<i64, Option<String>>> {
    let mut out: BTreeMap<i64, BTreeMap<i64, Option<String>>> = BTreeMap::new();
    let embedded = doc.lines.iter().flat_map(|line| {
        line.billable_items
            .iter()
            .flatten()
            .map(move |item| (Some(line.id), item))
    });
    let listed = doc
        .billable_items
        .iter()
        .map(|item| (item.invoice_line.as_ref().map(Relation::id), item));
    for (line_id, item) in embedded.chain(listed) {
        let (Some(line_id), Some(bill_item)) = (line_id, item.bill_item.as_ref()) else {
            continue;
        };
        let name = bill_item.object().and_then(|b| b.name.clone());
        let slot = out
            .entry(line_id)
            .or_default()
            .entry(bill_item.id())
            .or_default();
        if slot.is_none() {
            *slot = name;
        }
    }
    out
}

/// The QBO product of a line and the name to describe it with.
fn line_item(
    line: &InvoiceLine,
    bill_items: Option<&BTreeMap<i64, Option<String>>>,
    ctx: &InvoiceContext<'_>,
) -> Result<(Ref, String), TranslateError> {
    let billing = &ctx.settings.billing;
    let found: Vec<(&i64, &Option<String>)> = bill_items.into_iter().flatten().collect();
    match found.as_slice() {
        [] => {
            let item = billing
                .default_item
                .as_ref()
                .ok_or(TranslateError::LineWithoutBillItem { line_id: line.id })?;
            Ok((qbo_ref(item), item.name.clone()))
        }
        [(id, name)] => {
            let name = name_of(name.as_deref(), &ctx.names.bill_items, **id);
            let item = billing
                .items
                .get(id)
                .or(billing.default_item.as_ref())
                .ok_or_else(|| TranslateError::UnmappedBillItem {
                    id: **id,
                    name: name.clone(),
                })?;
            Ok((qbo_ref(item), name))
        }
        many => Err(TranslateError::ConflictingBillItems {
            line_id: line.id,
            ids: many.iter().map(|(id, _)| **id).collect(),
        }),
    }
}

/// The local date of the service: in the line's time zone when it names a known IANA zone,
/// else in the offset TrackTik sent.
fn service_date(line: &InvoiceLine) -> Option<NaiveDate> {
    let at = line.service_date_time?;
    let zone = line
        .time_zone
        .as_deref()
        .and_then(|z| z.trim().parse::<chrono_tz::Tz>().ok());
    Some(match zone {
        Some(tz) => at.with_timezone(&tz).date_naive(),
        None => at.date_naive(),
    })
}

/// The one value every line shares, if any.
fn uniform(refs: &[Ref]) -> Option<Ref> {
    let values: BTreeSet<&str> = refs.iter().map(|r| r.value.as_str()).collect();
    (values.len() == 1).then(|| refs[0].clone())
}

/// Rounds to the cent as QBO does (half away from zero).
fn cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn compare(out: &mut Vec<Discrepancy>, what: Check, tracktik: Option<Decimal>, computed: Decimal) {
    if let Some(tracktik) = tracktik
        && tracktik != computed
    {
        out.push(Discrepancy {
            what,
            tracktik,
            computed,
        });
    }
}

fn incomplete(record: &str, field: &'static str) -> TranslateError {
    TranslateError::IncompleteDocument {
        record: record.to_owned(),
        field,
    }
}
