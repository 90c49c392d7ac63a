//! Property tests: whatever a portal (or something pretending to be one) sends, decoding
//! never panics; it gives a record or a typed [`TrackTikError::InvalidResponse`] naming the
//! resource. Values are drawn to hurt: wrong types, huge and negative numbers, unicode,
//! malformed dates, missing fields, deep nesting.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;
use crate::providers::tracktik::TrackTikError;

/// A JSON leaf chosen to hurt a decoder.
fn nasty_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(1e300)),
        Just(json!(-0.0)),
        Just(json!(-12345.678)),
        Just(json!("99999999999999999999999999999999999")),
        Just(json!("-0.01")),
        Just(json!("1e5")),
        Just(json!("2024-02-30")),
        Just(json!("2024-07-01T25:61:00+99:00")),
        Just(json!("")),
        Just(json!(" 42 ")),
        "\\PC{0,24}".prop_map(Value::String),
        "[0-9]{1,40}(\\.[0-9]{1,30})?".prop_map(Value::String),
    ]
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    nasty_leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with the given field names, each present or not, each any value.
fn shaped(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec(prop::option::of(any_json()), fields.len()).prop_map(move |values| {
        let mut object = Map::new();
        for (name, value) in fields.iter().zip(values) {
            if let Some(v) = value {
                object.insert((*name).to_owned(), v);
            }
        }
        Value::Object(object)
    })
}

const INVOICE: &[&str] = &[
    "id",
    "client",
    "status",
    "documentNumber",
    "invoiceDate",
    "dueDate",
    "subTotal",
    "taxTotal",
    "total",
    "approvedOn",
    "taxClass",
    "lines",
];
const LINE: &[&str] = &[
    "id",
    "quantity",
    "unitPrice",
    "lineSubTotal",
    "taxTotal",
    "taxable",
    "taxClass",
    "serviceLocation",
    "serviceDateTime",
    "billableItems",
    "description",
];
const PAYRUN: &[&str] = &[
    "id",
    "status",
    "region",
    "approvedOn",
    "approvedBy",
    "totalCost",
    "totalHours",
    "occurrenceStartDate",
    "occurrenceEndDate",
    "items",
];
const PAYRUN_ITEM: &[&str] = &[
    "id",
    "payrun",
    "employee",
    "payCode",
    "quantity",
    "rate",
    "total",
    "locked",
    "account",
    "expenseDate",
];
const CLIENT: &[&str] = &["id", "name", "company", "type", "region", "timeZone"];
const LINE_TAX: &[&str] = &["id", "amount", "taxClassItem", "invoiceLine"];

/// Decodes `data` as a page and as a single record of `T`; both must not panic, and a
/// refusal must be the typed error naming the resource.
fn decodes_or_refuses<T: Record + std::fmt::Debug>(data: Value) -> Result<(), TestCaseError> {
    let page = parse_page::<T>(
        T::RESOURCE,
        json!({"meta": {"count": 1}, "data": [data.clone()]}),
    );
    let single = parse_single::<T>(T::RESOURCE, json!({"meta": {}, "data": data}));
    for result in [page.map(|_| ()), single.map(|_| ())] {
        if let Err(e) = result {
            prop_assert!(
                matches!(e, TrackTikError::InvalidResponse { .. }),
                "not the typed refusal: {e:?}"
            );
            prop_assert!(!e.to_string().is_empty());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_envelope_at_all_decodes_or_is_refused_with_a_typed_error(body in any_json()) {
        for result in [
            parse_page::<Invoice>("invoices", body.clone()).map(|_| ()),
            parse_single::<Invoice>("invoices", body.clone()).map(|_| ()),
            parse_page::<Payrun>("payroll-payruns", body.clone()).map(|_| ()),
            parse_single::<Client>("clients", body).map(|_| ()),
        ] {
            if let Err(e) = result {
                prop_assert!(matches!(e, TrackTikError::InvalidResponse { .. }), "{e:?}");
            }
        }
    }

    #[test]
    fn invoices_with_any_field_values_decode_or_are_refused(
        mut invoice in shaped(INVOICE),
        lines in prop::collection::vec(shaped(LINE), 0..4),
    ) {
        if lines.len() > 1 {
            invoice["lines"] = Value::Array(lines.clone());
        }
        decodes_or_refuses::<Invoice>(invoice)?;
        for line in lines {
            decodes_or_refuses::<InvoiceLine>(line)?;
        }
    }

    #[test]
    fn pay_runs_items_clients_and_line_taxes_with_any_values_decode_or_are_refused(
        payrun in shaped(PAYRUN),
        item in shaped(PAYRUN_ITEM),
        client in shaped(CLIENT),
        tax in shaped(LINE_TAX),
    ) {
        decodes_or_refuses::<Payrun>(payrun)?;
        decodes_or_refuses::<PayrunItem>(item)?;
        decodes_or_refuses::<Client>(client)?;
        decodes_or_refuses::<InvoiceLineTax>(tax)?;
    }

    /// Money that decodes is exactly what was sent (no float on the way), whatever its size
    /// or sign; money beyond what a decimal holds is refused, never wrapped or rounded.
    #[test]
    fn money_decodes_exactly_or_is_refused(
        digits in "-?[0-9]{1,34}(\\.[0-9]{1,12})?",
        as_number in any::<bool>(),
    ) {
        let value = if as_number {
            serde_json::from_str::<Value>(&digits).unwrap_or(Value::String(digits.clone()))
        } else {
            Value::String(digits.clone())
        };
        let line = json!({"id": 1, "quantity": value.clone(), "unitPrice": value});
        match parse_single::<InvoiceLine>("invoice-lines", json!({"data": line})) {
            Ok(line) => {
                let q = line.quantity.unwrap();
                if !as_number || !digits.contains('.') && digits.len() < 16 {
                    let sent: rust_decimal::Decimal = digits.parse().unwrap();
                    prop_assert_eq!(q, sent);
                }
            }
            Err(e) => prop_assert!(matches!(e, TrackTikError::InvalidResponse { .. }), "{e:?}"),
        }
    }

    #[test]
    fn any_text_as_a_date_or_timestamp_parses_or_is_none(text in "\\PC{0,40}") {
        let _ = parse_date(&text);
        let _ = parse_timestamp(&text);
    }
}

#[test]
fn an_invoice_with_ten_thousand_lines_and_unicode_everywhere_decodes() {
    let lines: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"id": i + 1, "quantity": "1e2", "unitPrice": -0.01,
                   "lineSubTotal": -1, "description": "Garde de nuit — 夜勤 🛡️"})
        })
        .collect();
    let invoice = json!({"id": 7, "status": "APPROVED", "documentNumber": "ÉÉ-№-😀",
                         "subTotal": "-10000.00", "lines": lines});
    let parsed: Invoice = parse_single("invoices", json!({"data": invoice})).unwrap();
    assert_eq!(parsed.document_number.as_deref(), Some("ÉÉ-№-😀"));
    assert_eq!(parsed.lines.as_ref().map(Vec::len), Some(10_000));
}
