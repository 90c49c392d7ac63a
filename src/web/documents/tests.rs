//! Unit tests of the parent module.

use super::lines::{FixLink, fix_link};
use super::*;

fn id() -> IntegrationId {
    IntegrationId(uuid::Uuid::nil())
}

fn link(fix_at: &str, code: &str, source: Source) -> Option<FixLink> {
    fix_link(
        Some(fix_at),
        Some(code),
        None,
        Some(source),
        id(),
        "https://app.qbo.intuit.com/app/",
        "https://acme.tracktik.com",
    )
}

#[test]
fn settings_failures_link_to_their_wizard_step() {
    let l = link("settings/taxes", "translate", Source::Invoice).unwrap();
    assert_eq!(l.href, format!("/integrations/{}/setup/taxes", id()));
    assert!(!l.external);
    // A bare "settings" goes to the step of the document's kind.
    assert!(
        link("settings", "610", Source::Payrun)
            .unwrap()
            .href
            .ends_with("/setup/payroll")
    );
    assert!(
        link("settings", "610", Source::Invoice)
            .unwrap()
            .href
            .ends_with("/setup/billing")
    );
}

#[test]
fn closed_books_link_to_the_quickbooks_closing_date_and_tracktik_to_the_portal() {
    let l = link("quickbooks", "6210", Source::Invoice).unwrap();
    assert_eq!(l.href, "https://app.qbo.intuit.com/app/settings?p=Advanced");
    assert!(l.external);
    assert_eq!(
        link("tracktik", "tracktik_totals", Source::Invoice)
            .unwrap()
            .href,
        "https://acme.tracktik.com"
    );
    assert_eq!(
        fix_link(None, None, None, None, id(), "", ""),
        None,
        "nothing to do, nowhere to go"
    );
}

#[test]
fn filters_keep_what_was_typed_and_name_the_bad_field() {
    let q = Query {
        state: "failed".into(),
        kind: "payrun".into(),
        from: "2026-11-01".into(),
        to: "soon".into(),
        q: " INV-1 ".into(),
        ..Query::default()
    };
    let (f, errors) = filter_of(&q);
    assert_eq!(f.state, Some(LedgerState::Failed));
    assert_eq!(f.source, Some(Source::Payrun));
    assert_eq!(f.to, None);
    assert_eq!(f.number.as_deref(), Some("INV-1"));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "to");
}
