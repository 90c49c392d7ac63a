//! Property tests: any posted form, whatever its names and values (unicode, markup, huge or
//! negative numbers, junk dates, ids of nothing), is validated without panicking; every
//! refusal is keyed by a field the page shows and says something; and the page can be drawn
//! again with what was typed and the errors.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::integrations::settings::Settings;
use crate::mapping::tax_match::{ClassRates, CodeRates};
use crate::wizard::catalog::{SampleInvoice, Source};

fn option(id: &str, name: &str, kind: &str) -> QboOption {
    QboOption {
        id: id.into(),
        name: name.into(),
        active: id != "99",
        kind: kind.into(),
        // Product 2 sells into nothing, as some purchase-only items do.
        income_account: (kind == "Service" && id != "2").then(|| "40".to_owned()),
    }
}

fn source(key: &str, name: &str) -> Source {
    Source {
        key: key.into(),
        name: name.into(),
    }
}

fn billing_lists() -> BillingLists {
    BillingLists {
        items: vec![
            option("1", "Guarding", "Service"),
            option("99", "Old", "Service"),
            option("2", "Bought only", "Service"),
        ],
        customers: vec![option("5", "Northwind Mall", "Customer")],
        bill_items: vec![source("11", "Guarding - Regular"), source("12", "Patrol")],
        clients: vec![source("500", "Harbourview Library")],
        income_accounts: vec![option("40", "Services", "Income")],
    }
}

fn payroll_lists() -> PayrollLists {
    PayrollLists {
        accounts: vec![
            option("7", "Payroll Expenses", "Expense"),
            option("8", "Payroll Liabilities", "Other Current Liability"),
            option("10", "Visa", "Credit Card"),
            option("9", "Accounts Payable (A/P)", "Accounts Payable"),
        ],
        vendors: vec![option("25", "Payroll Provider Inc.", "Vendor")],
        pay_codes: vec![
            source("REG", "Regular"),
            source("OT", "Overtime"),
            source("EXP", "EXP · Expense Reimbursement"),
        ],
        amount_codes: ["EXP".to_owned()].into(),
    }
}

fn tax_lists() -> TaxLists {
    TaxLists {
        targets: vec![
            option("3", "HST ON", "TaxCode"),
            option("4", "Exempt", "TaxCode"),
        ],
        classes: vec![source("1", "ON HST"), source("2", "Exempt")],
        class_rates: [
            (1, rates(1, "ON HST", Some("13"))),
            (2, rates(2, "Exempt", Some("0"))),
        ]
        .into(),
        code_rates: vec![code("3", "HST ON", "13"), code("4", "Exempt", "0")],
    }
}

fn rates(id: i64, name: &str, rate: Option<&str>) -> ClassRates {
    ClassRates {
        id,
        name: name.into(),
        components: vec![],
        rate: rate.map(|r| r.parse().unwrap()),
    }
}

fn code(id: &str, name: &str, rate: &str) -> CodeRates {
    CodeRates {
        id: id.into(),
        name: name.into(),
        active: true,
        rate: Some(rate.parse().unwrap()),
    }
}

fn prefs(all: bool) -> CompanyPrefs {
    CompanyPrefs {
        multicurrency: all,
        use_account_numbers: all,
        class_tracking: all,
        department_tracking: all,
        ..CompanyPrefs::default()
    }
}

fn names(sections: &[Section]) -> BTreeSet<String> {
    sections
        .iter()
        .flat_map(|s| s.fields.iter().map(|f| f.name.clone()))
        .collect()
}

/// Every field name any step shows, plus a few it does not.
fn field_names() -> Vec<String> {
    let (v, e) = (Values::new(), Errors::new());
    let mut all = BTreeSet::new();
    for p in [prefs(false), prefs(true)] {
        all.extend(names(&billing_sections(
            &v,
            &e,
            &billing_lists(),
            &p,
            false,
        )));
        all.extend(names(&payroll_sections(
            &v,
            &e,
            &payroll_lists(),
            &p,
            false,
        )));
    }
    all.extend(names(&taxes_sections(&v, &e, &tax_lists(), true, false)));
    all.extend(names(&schedule_sections(&v, &e)));
    all.extend(["csrf_token", "action", "", "tax_", "map_", "x\u{0}y"].map(String::from));
    all.into_iter().collect()
}

/// A value chosen to hurt a form parser.
fn nasty_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,30}",
        "[0-9]{1,40}",
        "-[0-9]{1,12}(\\.[0-9]{1,8})?",
        Just(String::new()),
        Just("   ".into()),
        Just("1".into()),
        Just("99".into()),
        Just("REG".into()),
        Just("new".into()),
        Just("2".into()),
        Just("3".into()),
        Just("10".into()),
        Just("bill".into()),
        Just("journal_entry".into()),
        Just("credit_card_expense".into()),
        Just("America/Toronto".into()),
        Just("Mars/Olympus".into()),
        Just("2026-02-30".into()),
        Just("9999-12-31".into()),
        Just("25:99".into()),
        Just("03:00".into()),
        Just("{number}{nope}".into()),
        Just("<script>alert(1)</script>".into()),
        Just("a".repeat(5000)),
    ]
}

fn posted() -> impl Strategy<Value = Values> {
    let names = field_names();
    prop::collection::vec((prop::sample::select(names), nasty_value()), 0..40)
        .prop_map(values_from_pairs)
}

fn sample() -> SampleInvoice {
    SampleInvoice {
        number: "INV-😀-000123-CONSOLIDATED".into(),
        client: "Zoë's <Mall> & Co".into(),
        period_start: NaiveDate::from_ymd_opt(2026, 11, 1),
        period_end: None,
        invoice_date: NaiveDate::from_ymd_opt(2026, 11, 16),
    }
}

/// Each refusal names a field the page shows and says what to do.
fn errors_are_on_shown_fields(
    errors: &Errors,
    shown: &BTreeSet<String>,
) -> Result<(), TestCaseError> {
    prop_assert!(
        !errors.is_empty(),
        "a refusal carries at least one field error"
    );
    for (field, message) in errors {
        prop_assert!(
            shown.contains(field),
            "error on a field the page does not show: {field}: {message}"
        );
        prop_assert!(!message.trim().is_empty(), "empty message for {field}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_billing_form_is_validated_into_field_errors(values in posted(), all in any::<bool>()) {
        let lists = billing_lists();
        let mut settings = Settings::default();
        let result = parse_billing(&values, &lists, Some(&sample()), &mut settings);
        let errors = result.err().unwrap_or_default();
        let sections = billing_sections(&values, &errors, &lists, &prefs(all), false);
        if !errors.is_empty() {
            errors_are_on_shown_fields(&errors, &names(&sections))?;
        }
        let _ = preview(&values, &sample());
    }

    #[test]
    fn any_payroll_form_is_validated_into_field_errors(values in posted(), all in any::<bool>()) {
        let lists = payroll_lists();
        let mut settings = Settings::default();
        let errors = parse_payroll(&values, &lists, &mut settings).err().unwrap_or_default();
        let sections = payroll_sections(&values, &errors, &lists, &prefs(all), false);
        if !errors.is_empty() {
            errors_are_on_shown_fields(&errors, &names(&sections))?;
        }
    }

    #[test]
    fn any_taxes_form_is_validated_into_field_errors(values in posted(), us in any::<bool>()) {
        let lists = tax_lists();
        let mut settings = Settings::default();
        let errors = parse_taxes(&values, &lists, us, &mut settings).err().unwrap_or_default();
        let sections = taxes_sections(&values, &errors, &lists, us, false);
        if !errors.is_empty() {
            errors_are_on_shown_fields(&errors, &names(&sections))?;
        }
    }

    #[test]
    fn any_schedule_form_is_validated_into_field_errors(values in posted()) {
        let mut settings = Settings::default();
        let today = |_: &str| NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let errors = parse_schedule(&values, today, &mut settings).err().unwrap_or_default();
        let sections = schedule_sections(&values, &errors);
        if !errors.is_empty() {
            errors_are_on_shown_fields(&errors, &names(&sections))?;
        }
    }

    #[test]
    fn any_template_renders_or_names_what_is_wrong(template in "\\PC{0,40}|[{}a-z_]{0,30}") {
        match render_template(&template, &sample(), &["number", "client", "invoice_date"]) {
            Ok(_) => {}
            Err(e) => prop_assert!(!e.trim().is_empty()),
        }
    }
}
