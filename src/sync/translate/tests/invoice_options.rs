//! Invoice translation: currency, Class/Location, customer, document number and memo.

use super::fixtures::*;
use crate::integrations::settings::{Dimension, QboRef};
use crate::sync::translate::{
    Area, DimensionKind, FixAt, TranslateError, preview_invoice, translate_invoice,
};

#[test]
fn multicurrency_companies_get_the_regions_currency() {
    let mut world = World::new(false);
    world.company.prefs.multicurrency = true;
    let err = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap_err();
    assert_eq!(err, TranslateError::MissingCurrency);
    world.currency = Some("usd".into());
    let out = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap();
    assert_eq!(out.invoice.currency_ref.unwrap().value, "USD");
}

#[test]
fn a_foreign_currency_without_multicurrency_is_refused() {
    let mut world = World::new(true);
    world.currency = Some("CAD".into());
    let err = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::CurrencyMismatch {
            tracktik: "CAD".into(),
            home: "USD".into()
        }
    );
    world.currency = Some("USD".into());
    assert!(translate_invoice(&two_line_invoice(), &world.invoice_ctx()).is_ok());
}

#[test]
fn class_from_region_and_location_from_site_follow_the_settings() {
    let mut world = World::new(true);
    world.company.prefs.class_tracking = true;
    world.company.prefs.department_tracking = true;
    world.settings.billing.class_from = Some(Dimension::Region);
    world.settings.billing.location_from = Some(Dimension::Site);
    world
        .dims
        .class_by_region
        .insert(7, QboRef::new("C7", "Toronto"));
    world
        .dims
        .location_by_site
        .insert(601, QboRef::new("L1", "Main Gate"));
    world
        .dims
        .location_by_site
        .insert(602, QboRef::new("L1", "Main Gate"));
    let out = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap();
    let inv = &out.invoice;
    assert_eq!(inv.class_ref.as_ref().unwrap().value, "C7");
    assert_eq!(inv.department_ref.as_ref().unwrap().value, "L1");
    for line in &inv.line {
        let class = line
            .sales_item_line_detail
            .as_ref()
            .unwrap()
            .class_ref
            .as_ref();
        assert_eq!(class.unwrap().value, "C7");
    }
}

#[test]
fn location_from_site_on_an_invoice_spanning_two_locations_is_refused() {
    let mut world = World::new(true);
    world.company.prefs.department_tracking = true;
    world.settings.billing.location_from = Some(Dimension::Site);
    world
        .dims
        .location_by_site
        .insert(601, QboRef::new("L1", "Main Gate"));
    world
        .dims
        .location_by_site
        .insert(602, QboRef::new("L2", "Parking Lot"));
    let err = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::AmbiguousLocation {
            area: Area::Billing,
            sites: vec![601, 602]
        }
    );
}

#[test]
fn class_from_site_puts_each_sites_class_on_its_line_and_a_missing_one_is_named() {
    let mut world = World::new(true);
    world.company.prefs.class_tracking = true;
    world.settings.billing.class_from = Some(Dimension::Site);
    world
        .dims
        .class_by_site
        .insert(601, QboRef::new("C1", "Main Gate"));
    let err = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::MissingDimension {
            dimension: DimensionKind::Class,
            from: Dimension::Site,
            id: 602,
            name: "Parking Lot".into(),
            area: Area::Billing
        }
    );
    world
        .dims
        .class_by_site
        .insert(602, QboRef::new("C2", "Parking Lot"));
    let out = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap();
    let classes: Vec<_> = out
        .invoice
        .line
        .iter()
        .map(|l| {
            l.sales_item_line_detail
                .as_ref()
                .unwrap()
                .class_ref
                .as_ref()
                .map(|c| c.value.clone())
        })
        .collect();
    assert_eq!(
        classes,
        vec![Some("C1".into()), Some("C2".into()), None, None]
    );
    assert_eq!(out.invoice.class_ref, None);
}

#[test]
fn class_chosen_while_quickbooks_tracks_no_classes_is_refused() {
    let mut world = World::new(true);
    world.settings.billing.class_from = Some(Dimension::Region);
    let err = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::TrackingOff {
            dimension: DimensionKind::Class,
            area: Area::Billing
        }
    );
    assert_eq!(err.fix_at(), FixAt::QuickBooks);
}

#[test]
fn missing_customer_names_the_client() {
    let mut world = World::new(true);
    world.customer = None;
    let err = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::MissingCustomer {
            client_id: Some(500),
            name: "Northwind Mall".into()
        }
    );
}

#[test]
fn long_numbers_are_shortened_and_the_memo_keeps_the_full_number() {
    let mut world = World::new(true);
    world.settings.billing.doc_number_template = "TT-{client}-{number}".into();
    let out = translate_invoice(&two_line_invoice(), &world.invoice_ctx()).unwrap();
    let number = out.invoice.doc_number.unwrap();
    assert_eq!(number.chars().count(), 21);
    assert!(number.starts_with("TT-Northwind~"), "{number}");
    assert_eq!(out.tracktik_number, "INV-4012");
    assert!(out.invoice.private_note.unwrap().contains("INV-4012"));
}

#[test]
fn preview_renders_both_templates_on_a_real_document() {
    let doc = two_line_invoice();
    let preview = preview_invoice(&doc, &names(), "{number}", "{client} {invoice_date} {oops}");
    assert_eq!(preview.doc_number, "INV-4012");
    assert!(!preview.doc_number_shortened);
    assert_eq!(
        preview.private_note.as_deref(),
        Some("Northwind Mall 2026-11-20 {oops}")
    );
    let long = preview_invoice(&doc, &names(), "Northwind-Mall-{number}-X", "");
    assert!(long.doc_number_shortened);
    assert_eq!(long.private_note, None);
}
