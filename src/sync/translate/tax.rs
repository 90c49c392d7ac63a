//! Invoice taxes: attributing TrackTik's line-tax rows to tax classes, the US tax lines, and
//! the non-US tax code of each line.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::integrations::settings::TaxTarget;
use crate::providers::quickbooks::models::{Line, Ref, SalesItemLineDetail};
use crate::providers::tracktik::models::{InvoiceLine, Relation, TaxClass};

use super::invoice::{InvoiceContext, InvoiceDocument};
use super::{TaxTargetKind, TranslateError, add, name_of, qbo_ref};

/// One `invoice-line-taxes` row with the tax class it belongs to, when that can be told.
#[derive(Clone, Debug)]
pub(crate) struct TaxRow {
    /// The taxed line.
    pub(crate) line_id: Option<i64>,
    /// The tax class of the row's tax class item.
    pub(crate) class_id: Option<i64>,
    /// The amount.
    pub(crate) amount: Decimal,
}

/// Attributes every tax row to a tax class through its tax class item (embedded, or found in
/// the document's `tax_class_items`).
pub(crate) fn tax_rows(doc: &InvoiceDocument) -> Vec<TaxRow> {
    doc.line_taxes
        .iter()
        .map(|row| {
            let item_id = row.tax_class_item.as_ref().map(Relation::id);
            let embedded = row
                .tax_class_item
                .as_ref()
                .and_then(Relation::object)
                .and_then(|item| item.tax_class.as_ref())
                .map(Relation::id);
            let listed = || {
                let id = item_id?;
                doc.tax_class_items
                    .iter()
                    .find(|item| item.id == id)
                    .and_then(|item| item.tax_class.as_ref())
                    .map(Relation::id)
            };
            TaxRow {
                line_id: row.invoice_line_id(),
                class_id: embedded.or_else(listed),
                amount: row.amount,
            }
        })
        .collect()
}

/// The tax class's name, from any embedded object in the document, else the names map.
pub(crate) fn class_name(doc: &InvoiceDocument, ctx: &InvoiceContext<'_>, id: i64) -> String {
    let from = |r: Option<&Relation<TaxClass>>| {
        r.and_then(Relation::object)
            .filter(|c| c.id == id)
            .and_then(|c| c.name.clone())
    };
    let embedded = from(doc.invoice.tax_class.as_ref())
        .or_else(|| doc.lines.iter().find_map(|l| from(l.tax_class.as_ref())))
        .or_else(|| {
            doc.tax_class_items.iter().find_map(|item| {
                item.tax_class
                    .as_ref()
                    .and_then(Relation::object)
                    .filter(|c| c.id == id)
                    .and_then(|c| c.name.clone())
            })
        });
    name_of(embedded.as_deref(), &ctx.names.tax_classes, id)
}

/// US: one line per tax class present (amount = Σ its rows), then one for the rows that
/// could not be attributed; classes that total zero get no line. Every line carries `NON`
/// (the tax is the line itself, QBO must not add any).
pub(crate) fn us_tax_lines(
    doc: &InvoiceDocument,
    ctx: &InvoiceContext<'_>,
    rows: &[TaxRow],
    class_ref: Option<&Ref>,
) -> Result<Vec<Line>, TranslateError> {
    // Key (false, id) for classes, (true, 0) for unattributed: classes first, by id.
    let mut by_class: BTreeMap<(bool, i64), Decimal> = BTreeMap::new();
    for row in rows {
        let key = row.class_id.map_or((true, 0), |id| (false, id));
        let sum = by_class.entry(key).or_default();
        *sum = add(*sum, row.amount, "invoice tax")?;
    }
    let taxes = &ctx.settings.taxes;
    let mut lines = Vec::new();
    for ((unattributed, id), amount) in by_class {
        if amount.is_zero() {
            continue;
        }
        let (item, description) = if unattributed {
            let item = taxes
                .automated_tax_item
                .as_ref()
                .ok_or(TranslateError::MissingAutomatedTaxItem)?;
            (item, "Tax not attributed to a tax class".to_owned())
        } else {
            let name = class_name(doc, ctx, id);
            let item = match taxes.classes.get(&id) {
                Some(TaxTarget::Item { item }) => item,
                Some(TaxTarget::TaxCode { .. }) => {
                    return Err(TranslateError::WrongTaxTarget {
                        id,
                        name,
                        found: TaxTargetKind::TaxCode,
                        expected: TaxTargetKind::Item,
                        country: ctx.company.country.clone(),
                    });
                }
                None => {
                    return Err(TranslateError::UnmappedTaxClass {
                        id,
                        name,
                        expected: TaxTargetKind::Item,
                    });
                }
            };
            (item, format!("Tax: {name}"))
        };
        let mut line = Line::sales(
            amount,
            SalesItemLineDetail {
                item_ref: Some(qbo_ref(item)),
                qty: Some(Decimal::ONE),
                unit_price: Some(amount),
                service_date: None,
                tax_code_ref: Some(Ref::id("NON")),
                class_ref: class_ref.cloned(),
            },
        );
        line.description = Some(description);
        lines.push(line);
    }
    Ok(lines)
}

/// Non-US: the tax code of one line, given its own tax rows (`own`). A line is taxed when TrackTik says `taxable: true` or
/// taxed it (non-zero rows); its class is the line's own, else the single class of its rows,
/// else the invoice's. Untaxed lines get the exempt code.
pub(crate) fn line_tax_code(
    doc: &InvoiceDocument,
    ctx: &InvoiceContext<'_>,
    line: &InvoiceLine,
    own: &[&TaxRow],
) -> Result<Ref, TranslateError> {
    let taxes = &ctx.settings.taxes;
    let taxed_amount: Decimal = own.iter().map(|r| r.amount).sum();
    let taxed = match line.taxable {
        Some(false) => false,
        Some(true) => true,
        None => !taxed_amount.is_zero(),
    };
    if !taxed {
        return taxes
            .exempt_tax_code
            .as_ref()
            .map(qbo_ref)
            .ok_or(TranslateError::MissingExemptTaxCode);
    }
    let row_classes: BTreeSet<i64> = own.iter().filter_map(|r| r.class_id).collect();
    let single_row_class = (row_classes.len() == 1)
        .then(|| row_classes.first().copied())
        .flatten();
    let class_id = line
        .tax_class
        .as_ref()
        .map(Relation::id)
        .or(single_row_class)
        .or_else(|| doc.invoice.tax_class.as_ref().map(Relation::id))
        .ok_or(TranslateError::LineTaxClassUnknown { line_id: line.id })?;
    match taxes.classes.get(&class_id) {
        Some(TaxTarget::TaxCode { code }) => Ok(qbo_ref(code)),
        Some(TaxTarget::Item { .. }) => Err(TranslateError::WrongTaxTarget {
            id: class_id,
            name: class_name(doc, ctx, class_id),
            found: TaxTargetKind::Item,
            expected: TaxTargetKind::TaxCode,
            country: ctx.company.country.clone(),
        }),
        None => Err(TranslateError::UnmappedTaxClass {
            id: class_id,
            name: class_name(doc, ctx, class_id),
            expected: TaxTargetKind::TaxCode,
        }),
    }
}
