//! Unit tests of the parent module.

use super::*;
use std::str::FromStr;

fn d(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).unwrap()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn doc(n: &str, amount: &str, state: LedgerState, qbo: Option<&str>) -> Document {
    Document {
        ledger_entry_id: 1,
        source: Source::Invoice,
        source_id: 1,
        doc_number: n.into(),
        trading_day: d(20),
        approved_at: Utc::now(),
        amount: dec(amount),
        currency: None,
        state,
        qbo_entity: None,
        qbo_doc_number: None,
        qbo_link: None,
        qbo_amount: qbo.map(dec),
        retryable: false,
        last_error: None,
        error_code: None,
        fix_hint: None,
        fix_at: None,
        changed_in_tracktik: false,
        change_note: None,
        reversal_note: None,
        discrepancy: None,
        posted_at: None,
    }
}

#[test]
fn money_has_two_decimals_and_thousands_separators() {
    assert_eq!(money(dec("1234567.5")), "1,234,567.50");
    assert_eq!(money(dec("-0.005")), "-0.01");
    assert_eq!(money(dec("999.999")), "1,000.00");
    assert_eq!(money(dec("0")), "0.00");
    assert_eq!(money(dec("-12")), "-12.00");
}

#[test]
fn a_day_where_everything_posted_at_tracktiks_totals_balances() {
    let docs = vec![
        doc("INV-1", "100.10", LedgerState::Posted, Some("100.10")),
        doc("INV-2", "50.05", LedgerState::Posted, Some("50.05")),
    ];
    let r = reconcile(d(20), &docs, "USD");
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].tracktik, r[0].quickbooks),
        (dec("150.15"), dec("150.15"))
    );
    assert!(r[0].balanced());
    assert!(r[0].differences.is_empty());
}

#[test]
fn every_cent_of_a_difference_is_explained() {
    let mut changed = doc("INV-5", "20.00", LedgerState::Posted, Some("20.00"));
    changed.changed_in_tracktik = true;
    changed.change_note = Some("Changed in TrackTik after it was posted".into());
    let mut taxed = doc("INV-4", "113.00", LedgerState::Posted, Some("113.01"));
    taxed.discrepancy = Some("QuickBooks computed the tax".into());
    let docs = vec![
        doc("INV-1", "100.00", LedgerState::Posted, Some("100.00")),
        doc("INV-2", "40.25", LedgerState::Failed, None),
        doc("INV-3", "9.99", LedgerState::Pending, None),
        taxed,
        changed,
        doc("INV-6", "7.00", LedgerState::Posted, None),
    ];
    let r = &reconcile(d(20), &docs, "CAD")[0];
    assert_eq!(r.tracktik, dec("290.24"));
    assert_eq!(r.quickbooks, dec("233.01"));
    let explained: Decimal = r.differences.iter().map(|x| x.amount).sum();
    assert_eq!(explained, r.difference());
    assert_eq!(r.differences.len(), 4, "{:#?}", r.differences);
    assert!(
        r.differences[0]
            .reason
            .contains("1 failed document is not in QuickBooks (INV-2)")
    );
    assert!(r.differences[1].reason.contains("INV-3"));
    assert!(
        r.differences[3]
            .reason
            .contains("QuickBooks holds 113.01 CAD for invoice INV-4")
    );
    assert!(
        r.differences[3]
            .reason
            .contains("QuickBooks computed the tax")
    );
    assert_eq!(r.differences[3].amount, dec("-0.01"));
    assert_eq!(r.notes.len(), 1);
    assert!(r.notes[0].starts_with("invoice INV-5 was changed in TrackTik"));
}

#[test]
fn a_posted_journal_entry_balances_though_quickbooks_answers_no_total_for_it() {
    // Real QuickBooks answers journal entries without TotalAmt, so none is recorded for them.
    let mut payroll = doc("PR-7", "18250.00", LedgerState::Posted, None);
    payroll.qbo_entity = Some("JournalEntry".into());
    let mut invoice = doc("INV-8", "5.00", LedgerState::Posted, None);
    invoice.qbo_entity = Some("Invoice".into());
    let r = &reconcile(d(20), &[payroll, invoice], "USD")[0];
    assert_eq!(r.quickbooks, dec("18250.00"));
    assert_eq!(r.differences.len(), 1, "{:#?}", r.differences);
    assert!(
        r.differences[0].reason.contains("INV-8"),
        "{:#?}",
        r.differences
    );
}

#[test]
fn currencies_are_reconciled_apart_and_other_days_are_left_out() {
    let mut cad = doc("INV-1", "10.00", LedgerState::Posted, Some("10.00"));
    cad.currency = Some("CAD".into());
    let usd = doc("INV-2", "20.00", LedgerState::Posted, Some("20.00"));
    let mut other_day = doc("INV-3", "30.00", LedgerState::Failed, None);
    other_day.trading_day = d(21);
    let r = reconcile(d(20), &[cad, usd, other_day], "USD");
    let totals: Vec<(&str, Decimal)> = r
        .iter()
        .map(|x| (x.currency.as_str(), x.tracktik))
        .collect();
    assert_eq!(totals, vec![("CAD", dec("10.00")), ("USD", dec("20.00"))]);
}

#[test]
fn nights_count_each_document_once_by_state() {
    let mut late = doc("INV-9", "1", LedgerState::Posting, None);
    late.trading_day = d(21);
    let docs = vec![
        doc("INV-1", "1", LedgerState::Posted, Some("1")),
        doc("INV-2", "1", LedgerState::Failed, None),
        doc("INV-3", "1", LedgerState::Skipped, None),
        late,
    ];
    let n = nights(&[d(20), d(21), d(22)], &docs);
    assert_eq!(
        n.iter()
            .map(|x| (x.posted, x.failed, x.skipped, x.waiting))
            .collect::<Vec<_>>(),
        vec![(1, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0)]
    );
}
