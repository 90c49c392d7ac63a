//! Property tests: whatever QuickBooks (or a load balancer in front of it) answers, the fault
//! parser and the entity DTOs never panic. Faults in any of the four shapes keep their code,
//! message and detail, however odd the text; anything else gives a fault with no errors.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::error::parse_fault;
use super::models::{Account, Customer, Invoice, Item, Preferences, Purchase, TaxCode, Vendor};

/// Text that looks a bit like each of QBO's answer shapes, cut and spliced.
fn answer_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,200}",
        "\\{\"Fault\":\\{\"Error\":\\[\\{\\PC{0,60}",
        "<IntuitResponse><Fault type=\"\\PC{0,8}\"><Error code=\"\\PC{0,6}\"><Message>\\PC{0,30}",
        "<\\PC{0,10}<Fault<Error<Error code=\"<Message></Detail>\\PC{0,20}",
        "<html><body>\\PC{0,40}</body></html>",
        Just(String::new()),
        Just("   ".to_owned()),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        Just(json!(1e300)),
        Just(json!("99999999999999999999999999999999999")),
        "\\PC{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    "\\PC{0,8}",
                    Just("Id".to_owned()),
                    Just("TotalAmt".to_owned()),
                    Just("Line".to_owned()),
                    Just("DocNumber".to_owned()),
                    Just("Amount".to_owned()),
                    Just("MetaData".to_owned()),
                    Just("CurrencyRef".to_owned()),
                    Just("TxnDate".to_owned()),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_answer_text_parses_into_a_fault_without_panicking(text in answer_text()) {
        let fault = parse_fault(&text);
        let _ = fault.summary();
        let _ = fault.code();
    }

    /// A standard JSON fault keeps whatever unicode or odd text it carries, exactly.
    #[test]
    fn a_json_fault_keeps_its_code_message_and_detail(
        code in "\\PC{0,8}",
        message in "\\PC{0,40}",
        detail in "\\PC{0,80}",
        lower in any::<bool>(),
    ) {
        let body = if lower {
            json!({"fault": {"error": [{"message": message, "detail": detail, "code": code}],
                             "type": "AUTHENTICATION"}})
        } else {
            json!({"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code}],
                             "type": "ValidationFault"}})
        };
        let fault = parse_fault(&body.to_string());
        prop_assert_eq!(fault.errors.len(), 1);
        prop_assert_eq!(&fault.errors[0].code, &code);
        prop_assert_eq!(&fault.errors[0].message, &message);
        prop_assert_eq!(&fault.errors[0].detail, &detail);
    }

    /// XML faults: text without markup characters comes back as sent.
    #[test]
    fn an_xml_fault_keeps_its_code_and_message(
        code in "[0-9]{1,6}",
        message in "[^<>&\"]{0,40}",
    ) {
        let body = format!(
            "<?xml version=\"1.0\"?><IntuitResponse><Fault type=\"SERVICE\"><Error code=\"{code}\"><Message>{message}</Message><Detail>d</Detail></Error></Fault></IntuitResponse>"
        );
        let fault = parse_fault(&body);
        prop_assert_eq!(fault.code(), Some(code.as_str()));
        prop_assert_eq!(&fault.errors[0].message, &message);
    }

    #[test]
    fn entities_decode_from_any_json_or_refuse_without_panicking(value in any_json()) {
        let _ = serde_json::from_value::<Invoice>(value.clone());
        let _ = serde_json::from_value::<Purchase>(value.clone());
        let _ = serde_json::from_value::<Customer>(value.clone());
        let _ = serde_json::from_value::<Vendor>(value.clone());
        let _ = serde_json::from_value::<Account>(value.clone());
        let _ = serde_json::from_value::<Item>(value.clone());
        let _ = serde_json::from_value::<TaxCode>(value.clone());
        let _ = serde_json::from_value::<Preferences>(value.clone());
        // A fault inside any JSON text is read without panicking too.
        let _ = parse_fault(&value.to_string());
    }

    /// Amounts QBO sends come back exactly when they fit a decimal, and are refused (never
    /// rounded through a float) when they do not.
    #[test]
    fn an_invoice_total_decodes_exactly_or_is_refused(digits in "-?[0-9]{1,32}(\\.[0-9]{1,10})?") {
        let text = format!("{{\"Id\":\"1\",\"TotalAmt\":{digits}}}");
        match serde_json::from_str::<Invoice>(&text) {
            Ok(invoice) => {
                let sent: Option<rust_decimal::Decimal> = digits.parse().ok();
                if let (Some(got), Some(sent)) = (invoice.total_amt, sent) {
                    if digits.len() <= 15 {
                        prop_assert_eq!(got, sent);
                    }
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
