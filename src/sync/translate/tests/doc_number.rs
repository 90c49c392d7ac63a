//! Document numbers and templates: fixed vectors and properties.

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::strategy::ValueTree;

use crate::sync::translate::doc_number::{MAX_DOC_NUMBER, doc_number, fit_doc_number};
use crate::sync::translate::template::{TemplateVars, private_note, render, truncate};

#[test]
fn short_numbers_are_used_unchanged() {
    assert_eq!(doc_number("INV-4012", "{number}"), "INV-4012");
    assert_eq!(doc_number("4012", "TT-{number}"), "TT-4012");
    let exactly_21 = "123456789012345678901";
    assert_eq!(doc_number(exactly_21, "{number}"), exactly_21);
}

/// Vectors computed independently (Python's hashlib): they pin the rule, so a change of hash,
/// prefix length or alphabet fails here before it renumbers customers' documents.
#[test]
fn long_numbers_follow_the_documented_rule_exactly() {
    assert_eq!(
        doc_number("ACME-SECURITY-TORONTO-INV-000123", "{number}"),
        "ACME-SECURIT~K803C0MN"
    );
    assert_eq!(
        doc_number("INV-000124", "ACME-SECURITY-TORONTO-{number}"),
        "ACME-SECURIT~R6DBZ5J3"
    );
    assert_eq!(
        fit_doc_number("Sécurité-Québec-Facture-0001"),
        "Sécurité-Qué~S0M7F93T"
    );
}

#[test]
fn templates_fill_known_placeholders_and_keep_unknown_ones() {
    let vars = TemplateVars {
        number: "INV-1".into(),
        client: Some("Northwind".into()),
        period_start: chrono::NaiveDate::from_ymd_opt(2026, 11, 1),
        period_end: None,
        invoice_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 20),
    };
    assert_eq!(
        render(
            "{number}/{client} {period_start}..{period_end} on {invoice_date}",
            &vars
        ),
        "INV-1/Northwind 2026-11-01.. on 2026-11-20"
    );
    assert_eq!(
        render("{nmber} {} {{number}} {", &vars),
        "{nmber} {} {INV-1} {"
    );
    assert_eq!(render("no placeholders", &vars), "no placeholders");
    assert_eq!(doc_number("7", "{number}-{site}"), "7-{site}");
}

#[test]
fn private_notes_are_cut_at_4000_characters_with_an_ellipsis() {
    let long = "é".repeat(5000);
    let note = private_note("{number}", &TemplateVars::number(long.clone())).unwrap();
    assert_eq!(note.chars().count(), 4000);
    assert!(note.ends_with('…'));
    assert!(long.starts_with(note.trim_end_matches('…')));
    let exact = "x".repeat(4000);
    assert_eq!(
        private_note(&exact, &TemplateVars::default()).unwrap(),
        exact
    );
    assert_eq!(private_note("  ", &TemplateVars::default()), None);
    assert_eq!(truncate("abc", 2), "a…");
}

proptest! {
    #[test]
    fn doc_numbers_fit_are_deterministic_and_short_ones_are_unchanged(
        number in "\\PC{0,60}",
        prefix in "[A-Za-z -]{0,10}",
    ) {
        let template = format!("{prefix}{{number}}");
        let out = doc_number(&number, &template);
        prop_assert!(out.chars().count() <= MAX_DOC_NUMBER);
        prop_assert_eq!(&out, &doc_number(&number, &template));
        let rendered = format!("{prefix}{number}");
        let rendered = rendered.trim();
        if rendered.chars().count() <= MAX_DOC_NUMBER {
            prop_assert_eq!(out.as_str(), rendered);
        } else {
            let head: String = rendered.chars().take(12).collect();
            let expected_start = format!("{}~", head);
            prop_assert!(out.starts_with(&expected_start));
        }
    }
}

/// 50,000 distinct long numbers that all share their first 12 characters (the worst case:
/// only the hash tells them apart) never collide.
#[test]
fn distinct_long_numbers_get_distinct_doc_numbers() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = proptest::collection::hash_set("[A-Z0-9-]{10,30}", 50_000);
    let suffixes = strategy.new_tree(&mut runner).unwrap().current();
    let mut seen: HashMap<String, String> = HashMap::new();
    for suffix in suffixes {
        let number = format!("NORTHWIND-MALL-{suffix}");
        let out = doc_number(&number, "{number}");
        assert!(out.chars().count() <= MAX_DOC_NUMBER);
        if let Some(other) = seen.insert(out.clone(), number.clone()) {
            panic!("{number} and {other} both became {out}");
        }
    }
    assert_eq!(seen.len(), 50_000);
}
