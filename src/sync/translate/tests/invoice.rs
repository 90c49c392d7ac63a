//! Invoice translation, hand-built documents.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;

use super::fixtures::*;
use crate::integrations::settings::{QboRef, TaxTarget};
use crate::providers::quickbooks::models::Line;
use crate::sync::translate::{
    Check, FixAt, TaxTargetKind, TranslateError, reconcile, translate_invoice,
};

fn amounts(lines: &[Line]) -> Vec<Decimal> {
    lines.iter().map(|l| l.amount.unwrap()).collect()
}

fn item_ids(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            l.sales_item_line_detail
                .as_ref()
                .unwrap()
                .item_ref
                .as_ref()
                .unwrap()
                .value
                .clone()
        })
        .collect()
}

fn tax_codes(lines: &[Line]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            l.sales_item_line_detail
                .as_ref()
                .unwrap()
                .tax_code_ref
                .as_ref()
                .unwrap()
                .value
                .clone()
        })
        .collect()
}

#[test]
fn us_invoice_copies_header_lines_and_adds_one_line_per_tax_class() {
    let world = World::new(true);
    let out = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap();
    let inv = &out.invoice;
    assert_eq!(inv.doc_number.as_deref(), Some("INV-4012"));
    assert_eq!(inv.txn_date, NaiveDate::from_ymd_opt(2026, 11, 20));
    assert_eq!(inv.due_date, NaiveDate::from_ymd_opt(2026, 12, 20));
    assert_eq!(inv.customer_ref.as_ref().unwrap().value, "58");
    assert_eq!(inv.global_tax_calculation, None);
    assert_eq!(inv.currency_ref, None);
    assert_eq!(
        amounts(&inv.line),
        vec![d("100.00"), d("50.00"), d("13.00"), d("6.50")]
    );
    assert_eq!(item_ids(&inv.line), vec!["100", "101", "801", "802"]);
    assert_eq!(tax_codes(&inv.line), vec!["NON"; 4]);
    let first = inv.line[0].sales_item_line_detail.as_ref().unwrap();
    assert_eq!(first.qty, Some(d("4")));
    assert_eq!(first.unit_price, Some(d("25.00")));
    assert_eq!(first.service_date, NaiveDate::from_ymd_opt(2026, 11, 10));
    assert_eq!(
        inv.line[0].description.as_deref(),
        Some("Guarding - Regular Hours — Main Gate")
    );
    assert_eq!(inv.line[2].description.as_deref(), Some("Tax: HST ON"));
    assert_eq!(
        inv.line
            .iter()
            .map(|l| l.line_num.unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        inv.private_note.as_deref(),
        Some("TrackTik invoice INV-4012 for Northwind Mall, service 2026-11-01 to 2026-11-15")
    );
    assert_eq!(
        (out.expected_subtotal, out.expected_tax, out.expected_total),
        (d("150.00"), d("19.50"), d("169.50"))
    );
    assert!(out.discrepancies.is_empty(), "{:?}", out.discrepancies);
}

#[test]
fn us_tax_rows_without_a_tax_class_go_to_the_automated_tax_item() {
    let world = World::new(true);
    let mut doc = two_line_invoice();
    doc.line_taxes.push(tax(73, 2, None, "1.25"));
    doc.line_taxes.push(tax(74, 1, Some(999), "0.75")); // item unknown: cannot attribute
    doc.invoice.tax_total = Some(d("21.50"));
    doc.invoice.total = Some(d("171.50"));
    let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
    let last = out.invoice.line.last().unwrap();
    assert_eq!(last.amount, Some(d("2.00")));
    assert_eq!(item_ids(std::slice::from_ref(last)), vec!["800"]);
    assert!(out.discrepancies.is_empty());
}

#[test]
fn us_tax_rows_are_attributed_through_embedded_tax_class_items_too() {
    let world = World::new(true);
    let mut doc = two_line_invoice();
    doc.tax_class_items.clear();
    doc.line_taxes = vec![
        dto(json!({"id": 71, "invoiceLine": 1, "amount": "13.00",
                   "taxClassItem": {"id": 81, "taxClass": {"id": 1, "name": "HST ON"}}})),
        dto(json!({"id": 72, "invoiceLine": [2], "amount": "6.50",
                   "taxClassItem": {"id": 82, "taxClass": 2}})),
    ];
    let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
    assert_eq!(item_ids(&out.invoice.line[2..]), vec!["801", "802"]);
}

#[test]
fn us_tax_class_without_a_mapping_names_the_class() {
    let mut world = World::new(true);
    world.settings.taxes.classes.remove(&2);
    let err = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::UnmappedTaxClass {
            id: 2,
            name: "GST".into(),
            expected: TaxTargetKind::Item
        }
    );
    assert_eq!(
        err.to_string(),
        "Choose a QuickBooks product/service for the TrackTik tax class 'GST' in Tax settings."
    );
    assert_eq!(err.fix_at(), FixAt::Taxes);
}

#[test]
fn us_unattributed_tax_without_an_automated_tax_item_is_an_error() {
    let mut world = World::new(true);
    world.settings.taxes.automated_tax_item = None;
    let mut doc = two_line_invoice();
    doc.line_taxes.push(tax(73, 2, None, "1.25"));
    let err = translate_invoice(&doc, &world.invoice_ctx()).unwrap_err();
    assert_eq!(err, TranslateError::MissingAutomatedTaxItem);
}

#[test]
fn canadian_invoice_puts_tax_codes_on_lines_and_leaves_tax_to_quickbooks() {
    let world = World::new(false);
    let mut doc = two_line_invoice();
    doc.lines.push(line(3, "1", "10.00", "10.00", Some(601)));
    doc.lines[2].taxable = Some(false);
    doc.billable_items.push(billable(94, 3, 10));
    doc.invoice.sub_total = Some(d("160.00"));
    doc.invoice.total = Some(d("179.50"));
    let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
    let inv = &out.invoice;
    assert_eq!(inv.global_tax_calculation.as_deref(), Some("TaxExcluded"));
    assert_eq!(
        amounts(&inv.line),
        vec![d("100.00"), d("50.00"), d("10.00")]
    );
    assert_eq!(tax_codes(&inv.line), vec!["5", "6", "9"]);
    assert_eq!(out.expected_total, d("179.50"));
    assert!(out.discrepancies.is_empty());
}

#[test]
fn canadian_line_takes_its_own_tax_class_before_its_rows_and_the_invoice_class() {
    let world = World::new(false);
    let mut doc = two_line_invoice();
    doc.lines[0].tax_class = Some(dto(json!(2)));
    doc.line_taxes.push(tax(73, 3, None, "0"));
    doc.lines.push(line(3, "1", "10.00", "10.00", None));
    doc.lines[2].taxable = Some(true);
    doc.invoice.tax_class = Some(dto(json!(1)));
    doc.billable_items.push(billable(94, 3, 10));
    let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
    // line 1: own class 2; line 2: its row's class 2; line 3: taxable, no rows → invoice's 1.
    assert_eq!(tax_codes(&out.invoice.line), vec!["6", "6", "5"]);
}

#[test]
fn canadian_tax_class_mapped_to_an_item_is_refused() {
    let mut world = World::new(false);
    world.settings.taxes.classes.insert(
        1,
        TaxTarget::Item {
            item: QboRef::new("801", "HST item"),
        },
    );
    let err = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap_err();
    assert!(matches!(
        err,
        TranslateError::WrongTaxTarget {
            id: 1,
            found: TaxTargetKind::Item,
            expected: TaxTargetKind::TaxCode,
            ..
        }
    ));
}

#[test]
fn canadian_untaxed_line_without_an_exempt_code_is_an_error() {
    let mut world = World::new(false);
    world.settings.taxes.exempt_tax_code = None;
    let mut doc = two_line_invoice();
    doc.line_taxes.remove(1);
    let err = translate_invoice(&doc, &world.invoice_ctx()).unwrap_err();
    assert_eq!(err, TranslateError::MissingExemptTaxCode);
}

#[test]
fn unmapped_bill_item_names_the_item_so_the_customer_can_map_it() {
    let mut world = World::new(true);
    world.settings.billing.items.remove(&10);
    let err = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Choose a QuickBooks product for the TrackTik bill item 'Guarding - Regular Hours' (or a default product for unmapped bill items) in Billing settings."
    );
    assert_eq!(
        err,
        TranslateError::UnmappedBillItem {
            id: 10,
            name: "Guarding - Regular Hours".into()
        }
    );
    assert_eq!(err.fix_at(), FixAt::Billing);
}

#[test]
fn unmapped_bill_item_falls_back_to_the_default_item() {
    let mut world = World::new(true);
    world.settings.billing.items.remove(&10);
    world.settings.billing.default_item = Some(QboRef::new("200", "TrackTik Service Income"));
    let out = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap();
    assert_eq!(item_ids(&out.invoice.line[..2]), vec!["200", "101"]);
}

#[test]
fn line_without_billable_items_needs_the_default_item() {
    let mut world = World::new(true);
    let mut doc = two_line_invoice();
    doc.billable_items.retain(|b| b.id != 93);
    let err = translate_invoice(&doc, &world.invoice_ctx()).unwrap_err();
    assert_eq!(err, TranslateError::LineWithoutBillItem { line_id: 2 });
    world.settings.billing.default_item = Some(QboRef::new("200", "TrackTik Service Income"));
    let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
    assert_eq!(item_ids(&out.invoice.line[..2]), vec!["100", "200"]);
    assert_eq!(
        out.invoice.line[1].description.as_deref(),
        Some("TrackTik Service Income — Parking Lot")
    );
}

#[test]
fn line_mixing_two_bill_items_is_an_error() {
    let world = World::new(true);
    let mut doc = two_line_invoice();
    doc.billable_items.push(billable(95, 1, 11));
    let err = translate_invoice(&doc, &world.invoice_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::ConflictingBillItems {
            line_id: 1,
            ids: vec![10, 11]
        }
    );
}

#[test]
fn discrepancies_are_reported_and_amounts_are_left_alone() {
    let world = World::new(true);
    let mut doc = two_line_invoice();
    doc.invoice.sub_total = Some(d("150.01"));
    doc.invoice.tax_total = Some(d("19.49"));
    doc.invoice.total = Some(d("169.51"));
    let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
    assert_eq!(
        amounts(&out.invoice.line),
        vec![d("100.00"), d("50.00"), d("13.00"), d("6.50")]
    );
    let whats: Vec<_> = out
        .discrepancies
        .iter()
        .map(|x| (x.what.clone(), x.tracktik, x.computed))
        .collect();
    assert_eq!(
        whats,
        vec![
            (Check::Subtotal, d("150.01"), d("150.00")),
            (Check::TaxTotal, d("19.49"), d("19.50")),
            (Check::Total, d("169.51"), d("169.50")),
        ]
    );
    assert_eq!(out.expected_total, d("169.51"));
    assert!(out.discrepancies.iter().all(|x| x.what.affects_total()));
    assert_eq!(
        out.discrepancies[0].to_string(),
        "subtotal vs the sum of the lines: TrackTik says 150.01, computed 150.00 (difference -0.01)"
    );
}

#[test]
fn amount_that_is_not_quantity_times_rate_is_sent_without_them_and_reported() {
    let world = World::new(true);
    let mut doc = two_line_invoice();
    doc.lines[1].quantity = Some(d("1.333"));
    let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
    let detail = out.invoice.line[1].sales_item_line_detail.as_ref().unwrap();
    assert_eq!((detail.qty, detail.unit_price), (None, None));
    assert_eq!(out.invoice.line[1].amount, Some(d("50.00")));
    assert_eq!(
        out.invoice.line[1].description.as_deref(),
        Some("Guarding - Overtime — Parking Lot (1.333 × 40.00)")
    );
    assert_eq!(out.discrepancies.len(), 1);
    assert_eq!(out.discrepancies[0].what, Check::LineAmount { line_id: 2 });
    assert!(!out.discrepancies[0].what.affects_total());
    assert_eq!(out.discrepancies[0].computed, d("53.32"));
}

#[test]
fn sub_cent_amounts_are_reported_not_rounded() {
    let world = World::new(true);
    let mut doc = two_line_invoice();
    doc.lines[0].line_sub_total = Some(d("100.004"));
    doc.lines[0].quantity = None;
    let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
    assert_eq!(out.invoice.line[0].amount, Some(d("100.004")));
    assert!(
        out.discrepancies
            .iter()
            .any(|x| matches!(x.what, Check::SubCent { .. }))
    );
}

#[test]
fn service_date_is_the_local_date_in_the_lines_time_zone() {
    let world = World::new(true);
    let mut doc = two_line_invoice();
    doc.lines[0].service_date_time = Some("2026-11-11T02:30:00+00:00".parse().unwrap());
    doc.lines[0].time_zone = Some("America/Toronto".into());
    doc.lines[1].service_date_time = Some("2026-11-11T02:30:00+00:00".parse().unwrap());
    let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
    let date = |i: usize| {
        out.invoice.line[i]
            .sales_item_line_detail
            .as_ref()
            .unwrap()
            .service_date
    };
    assert_eq!(date(0), NaiveDate::from_ymd_opt(2026, 11, 10));
    assert_eq!(date(1), NaiveDate::from_ymd_opt(2026, 11, 11));
}

#[test]
fn an_invoice_below_zero_is_a_credit_and_one_without_lines_cannot_be_posted() {
    let world = World::new(true);
    let mut doc = two_line_invoice();
    doc.lines[0].line_sub_total = Some(d("-200.00"));
    doc.lines[0].quantity = Some(d("-8"));
    doc.invoice.sub_total = None;
    doc.invoice.tax_total = None;
    doc.invoice.total = None;
    let out = translate_invoice(&doc, &world.invoice_ctx()).unwrap();
    assert!(out.credit);
    assert_eq!(out.expected_total, d("130.50"), "the credit's size");
    let sum: rust_decimal::Decimal = out.invoice.line.iter().filter_map(|l| l.amount).sum();
    assert_eq!(sum, d("130.50"), "the lines the other way round");
    assert_eq!(out.invoice.line[0].amount, Some(d("200.00")));
    doc.lines.clear();
    let err = translate_invoice(&doc, &world.invoice_ctx()).unwrap_err();
    assert!(matches!(err, TranslateError::NothingToPost { .. }));
}

#[test]
fn missing_line_subtotal_fails_the_invoice_instead_of_guessing() {
    let world = World::new(true);
    let mut doc = two_line_invoice();
    doc.lines[1].line_sub_total = None;
    let err = translate_invoice(&doc, &world.invoice_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::IncompleteDocument {
            record: "invoice line 2".into(),
            field: "lineSubTotal"
        }
    );
}

#[test]
fn reconcile_reports_only_a_real_difference() {
    assert_eq!(reconcile(d("169.50"), d("169.50")), None);
    assert_eq!(reconcile(d("169.50"), d("169.5")), None);
    let diff = reconcile(d("169.50"), d("169.51")).unwrap();
    assert_eq!((diff.difference(), diff.what), (d("0.01"), Check::QboTotal));
}
