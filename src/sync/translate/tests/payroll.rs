//! Pay-run translation, hand-built documents.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::json;

use super::fixtures::*;
use crate::integrations::settings::{Dimension, LineGrouping, PayrollPosting, QboRef};
use crate::providers::quickbooks::models::Line;
use crate::sync::translate::{
    Area, Check, QboPayrun, TranslateError, TranslatedPayrun, translate_payrun,
};

fn run(world: &World, doc: &crate::sync::translate::PayrunDocument) -> TranslatedPayrun {
    translate_payrun(doc, &world.payrun_ctx()).unwrap()
}

/// (description, account id, amount) of each expense line.
fn expense_lines(lines: &[Line]) -> Vec<(String, String, Decimal)> {
    lines
        .iter()
        .map(|l| {
            let detail = l.account_based_expense_line_detail.as_ref().unwrap();
            (
                l.description.clone().unwrap(),
                detail.account_ref.as_ref().unwrap().value.clone(),
                l.amount.unwrap(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str, &str)]) -> Vec<(String, String, Decimal)> {
    rows.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), d(c)))
        .collect()
}

#[test]
fn default_posting_is_a_credit_card_expense_per_pay_code() {
    let world = World::new(true);
    let out = run(&world, &three_item_payrun());
    let QboPayrun::Purchase(p) = &out.transaction else {
        panic!("expected a purchase, got {:?}", out.transaction)
    };
    assert_eq!(p.payment_type.as_deref(), Some("CreditCard"));
    assert_eq!(p.account_ref.as_ref().unwrap().value, "9000");
    assert_eq!(
        p.entity_ref.as_ref().unwrap().kind.as_deref(),
        Some("Vendor")
    );
    assert_eq!(p.txn_date, NaiveDate::from_ymd_opt(2026, 11, 22));
    assert_eq!(p.doc_number.as_deref(), Some("PR-77"));
    assert_eq!(
        p.private_note.as_deref(),
        Some("TrackTik pay run 77, period 2026-11-09 to 2026-11-22 (Toronto)")
    );
    assert_eq!(p.global_tax_calculation, None);
    assert_eq!(
        expense_lines(&p.line),
        owned(&[
            ("OT — 5.00 h", "3001", "150.00"),
            ("REG — 70.00 h", "3000", "1400.00")
        ])
    );
    assert_eq!(out.expected_total, d("1550.00"));
    assert!(out.discrepancies.is_empty());
}

#[test]
fn bill_goes_to_the_payroll_vendor_with_the_ap_account_when_given() {
    let mut world = World::new(true);
    world.settings.payroll.posting = PayrollPosting::Bill;
    let ap = QboRef::new("33", "Accounts Payable");
    let ctx = crate::sync::translate::PayrunContext {
        ap_account: Some(&ap),
        ..world.payrun_ctx()
    };
    let out = translate_payrun(&three_item_payrun(), &ctx).unwrap();
    let QboPayrun::Bill(bill) = &out.transaction else {
        panic!("expected a bill")
    };
    assert_eq!(bill.vendor_ref.as_ref().unwrap().value, "55");
    assert_eq!(bill.a_p_account_ref.as_ref().unwrap().value, "33");
    assert_eq!(bill.line.len(), 2);
    world.settings.payroll.vendor = None;
    let err = translate_payrun(&three_item_payrun(), &world.payrun_ctx()).unwrap_err();
    assert_eq!(err, TranslateError::MissingPayrollVendor);
}

#[test]
fn journal_entry_debits_expenses_and_credits_the_liability_so_it_balances() {
    let mut world = World::new(true);
    world.settings.payroll.posting = PayrollPosting::JournalEntry;
    let out = run(&world, &three_item_payrun());
    let QboPayrun::JournalEntry(je) = &out.transaction else {
        panic!("expected a journal entry")
    };
    let rows: Vec<(String, String, Decimal)> = je
        .line
        .iter()
        .map(|l| {
            let j = l.journal_entry_line_detail.as_ref().unwrap();
            (
                j.posting_type.clone(),
                j.account_ref.value.clone(),
                l.amount.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        owned(&[
            ("Debit", "3001", "150.00"),
            ("Debit", "3000", "1400.00"),
            ("Credit", "9000", "1550.00")
        ])
    );
    let credit = je.line[2].journal_entry_line_detail.as_ref().unwrap();
    assert_eq!(credit.entity.as_ref().unwrap().entity_type, "Vendor");
}

#[test]
fn journal_entry_posts_a_negative_group_as_a_credit_to_its_expense_account() {
    let mut world = World::new(true);
    world.settings.payroll.posting = PayrollPosting::JournalEntry;
    let mut doc = three_item_payrun();
    doc.items.push(pay_item(4, 32, "OT", 602, "-6", "-180.00"));
    doc.payrun.total_cost = Some(d("1370.00"));
    let out = run(&world, &doc);
    let lines = out.transaction.lines();
    let ot = lines[0].journal_entry_line_detail.as_ref().unwrap();
    assert_eq!(
        (ot.posting_type.as_str(), lines[0].amount),
        ("Credit", Some(d("30.00")))
    );
    let sum = |side: &str| -> Decimal {
        lines
            .iter()
            .filter(|l| l.journal_entry_line_detail.as_ref().unwrap().posting_type == side)
            .map(|l| l.amount.unwrap())
            .sum()
    };
    assert_eq!(sum("Debit"), sum("Credit"));
    assert_eq!(lines.last().unwrap().amount, Some(d("1370.00")));
    assert!(out.discrepancies.is_empty());
}

#[test]
fn per_employee_lines_are_split_by_account_and_say_so() {
    let mut world = World::new(true);
    world.settings.payroll.grouping = LineGrouping::PerEmployee;
    let out = run(&world, &three_item_payrun());
    assert_eq!(
        expense_lines(out.transaction.lines()),
        owned(&[
            (
                "Ana Diaz — TrackTik Direct Wages — 40.00 h",
                "3000",
                "800.00"
            ),
            ("Ana Diaz — Overtime Wages — 5.00 h", "3001", "150.00"),
            (
                "Ben Okafor — TrackTik Direct Wages — 30.00 h",
                "3000",
                "600.00"
            ),
        ])
    );
}

#[test]
fn per_employee_and_pay_code_lines_name_both() {
    let mut world = World::new(true);
    world.settings.payroll.grouping = LineGrouping::PerEmployeePayCode;
    let out = run(&world, &three_item_payrun());
    assert_eq!(
        expense_lines(out.transaction.lines()),
        owned(&[
            ("Ana Diaz — OT — 5.00 h", "3001", "150.00"),
            ("Ana Diaz — REG — 40.00 h", "3000", "800.00"),
            ("Ben Okafor — REG — 30.00 h", "3000", "600.00"),
        ])
    );
}

#[test]
fn per_site_lines_use_the_item_account_site() {
    let mut world = World::new(true);
    world.settings.payroll.grouping = LineGrouping::PerSite;
    let out = run(&world, &three_item_payrun());
    assert_eq!(
        expense_lines(out.transaction.lines()),
        owned(&[
            (
                "Main Gate — TrackTik Direct Wages — 40.00 h",
                "3000",
                "800.00"
            ),
            ("Main Gate — Overtime Wages — 5.00 h", "3001", "150.00"),
            (
                "Parking Lot — TrackTik Direct Wages — 30.00 h",
                "3000",
                "600.00"
            ),
        ])
    );
}

#[test]
fn per_pay_run_gives_one_line_per_account() {
    let mut world = World::new(true);
    world.settings.payroll.grouping = LineGrouping::PerPayRun;
    world.settings.payroll.pay_code_accounts.clear();
    let out = run(&world, &three_item_payrun());
    assert_eq!(
        expense_lines(out.transaction.lines()),
        owned(&[("Pay run 77 — 75.00 h", "3000", "1550.00")])
    );
}

#[test]
fn groups_that_total_zero_are_dropped_and_negative_items_stay_in_their_group() {
    let world = World::new(true);
    let mut doc = three_item_payrun();
    doc.items.push(pay_item(4, 31, "OT", 601, "-5", "-150.00"));
    doc.items.push(pay_item(5, 32, "REG", 602, "-1", "-20.00"));
    let out = run(&world, &doc);
    assert_eq!(
        expense_lines(out.transaction.lines()),
        owned(&[("REG — 69.00 h", "3000", "1380.00")])
    );
    assert_eq!(out.expected_total, d("1380.00"));
    assert_eq!(
        out.discrepancies.len(),
        1,
        "totalCost 1550.00 vs 1380.00 is reported"
    );
}

#[test]
fn a_pay_run_totalling_zero_or_less_is_refused() {
    let world = World::new(true);
    let mut doc = three_item_payrun();
    doc.items.push(pay_item(4, 31, "REG", 601, "0", "-1550.00"));
    let err = translate_payrun(&doc, &world.payrun_ctx()).unwrap_err();
    assert!(matches!(err, TranslateError::NothingToPost { total, .. } if total.is_zero()));
    doc.items.clear();
    assert!(matches!(
        translate_payrun(&doc, &world.payrun_ctx()),
        Err(TranslateError::NothingToPost { .. })
    ));
}

#[test]
fn total_cost_that_disagrees_is_reported_and_the_items_win() {
    let world = World::new(true);
    let mut doc = three_item_payrun();
    doc.payrun.total_cost = Some(d("1550.01"));
    let out = run(&world, &doc);
    assert_eq!(out.expected_total, d("1550.00"));
    assert_eq!(out.discrepancies.len(), 1);
    assert_eq!(out.discrepancies[0].what, Check::PayrunTotal);
    assert_eq!(out.discrepancies[0].tracktik, d("1550.01"));
    let sum: Decimal = out
        .transaction
        .lines()
        .iter()
        .map(|l| l.amount.unwrap())
        .sum();
    assert_eq!(sum, d("1550.00"));
}

#[test]
fn missing_accounts_are_errors_naming_what_to_choose() {
    let mut world = World::new(true);
    world.settings.payroll.wages_account = None;
    let err = translate_payrun(&three_item_payrun(), &world.payrun_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::MissingPayrollAccount {
            pay_code: "REG".into()
        }
    );
    assert!(err.to_string().contains("pay code 'REG'"));
    let mut world = World::new(true);
    world.settings.payroll.liability_account = None;
    let err = translate_payrun(&three_item_payrun(), &world.payrun_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::MissingLiabilityAccount {
            posting: PayrollPosting::CreditCardExpense
        }
    );
}

#[test]
fn canadian_payroll_lines_carry_the_exempt_code_and_no_tax_calculation() {
    let mut world = World::new(false);
    world.settings.payroll.posting = PayrollPosting::Bill;
    let out = run(&world, &three_item_payrun());
    let QboPayrun::Bill(bill) = &out.transaction else {
        panic!("expected a bill")
    };
    assert_eq!(
        bill.global_tax_calculation.as_deref(),
        Some("NotApplicable")
    );
    for line in &bill.line {
        let code = line
            .account_based_expense_line_detail
            .as_ref()
            .unwrap()
            .tax_code_ref
            .as_ref();
        assert_eq!(code.unwrap().value, "9");
    }
    world.settings.taxes.exempt_tax_code = None;
    let err = translate_payrun(&three_item_payrun(), &world.payrun_ctx()).unwrap_err();
    assert_eq!(err, TranslateError::MissingExemptTaxCode);
}

#[test]
fn class_from_site_on_a_journal_entry_splits_lines_by_site() {
    let mut world = World::new(true);
    world.company.prefs.class_tracking = true;
    world.settings.payroll.posting = PayrollPosting::JournalEntry;
    world.settings.payroll.class_from = Some(Dimension::Site);
    world
        .dims
        .class_by_site
        .insert(601, QboRef::new("C1", "Main Gate"));
    world
        .dims
        .class_by_site
        .insert(602, QboRef::new("C2", "Parking Lot"));
    let out = run(&world, &three_item_payrun());
    let rows: Vec<(Option<String>, Option<String>, Decimal)> = out
        .transaction
        .lines()
        .iter()
        .map(|l| {
            let j = l.journal_entry_line_detail.as_ref().unwrap();
            (
                l.description.clone(),
                j.class_ref.as_ref().map(|c| c.value.clone()),
                l.amount.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                Some("OT — Main Gate — 5.00 h".into()),
                Some("C1".into()),
                d("150.00")
            ),
            (
                Some("REG — Main Gate — 40.00 h".into()),
                Some("C1".into()),
                d("800.00")
            ),
            (
                Some("REG — Parking Lot — 30.00 h".into()),
                Some("C2".into()),
                d("600.00")
            ),
            (
                Some("Pay run 77 — wages payable".into()),
                None,
                d("1550.00")
            ),
        ]
    );
}

#[test]
fn location_from_site_on_a_bill_needs_a_single_location() {
    let mut world = World::new(true);
    world.company.prefs.department_tracking = true;
    world.settings.payroll.location_from = Some(Dimension::Site);
    world
        .dims
        .location_by_site
        .insert(601, QboRef::new("L1", "East"));
    world
        .dims
        .location_by_site
        .insert(602, QboRef::new("L2", "West"));
    let err = translate_payrun(&three_item_payrun(), &world.payrun_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::AmbiguousLocation {
            area: Area::Payroll,
            sites: vec![601, 602]
        }
    );
    world.settings.payroll.location_from = Some(Dimension::Region);
    world
        .dims
        .location_by_region
        .insert(7, QboRef::new("L7", "Toronto"));
    let out = run(&world, &three_item_payrun());
    let QboPayrun::Purchase(p) = &out.transaction else {
        panic!("expected a purchase")
    };
    assert_eq!(p.department_ref.as_ref().unwrap().value, "L7");
}

#[test]
fn line_order_does_not_depend_on_item_order() {
    let mut world = World::new(true);
    world.settings.payroll.grouping = LineGrouping::PerEmployeePayCode;
    let doc = three_item_payrun();
    let mut reversed = doc.clone();
    reversed.items.reverse();
    assert_eq!(
        run(&world, &doc).transaction,
        run(&world, &reversed).transaction
    );
}

#[test]
fn embedded_names_and_pay_codes_are_used_when_included() {
    let mut world = World::new(true);
    world.names = Default::default();
    world.settings.payroll.grouping = LineGrouping::PerEmployeePayCode;
    let doc = crate::sync::translate::PayrunDocument {
        payrun: payrun(json!({})),
        items: vec![dto(json!({
            "id": 1, "payrun": 77, "employee": {"id": 40, "firstName": "Chen", "lastName": "Li"},
            "customPayCode": {"id": 3, "code": "HOL"}, "quantity": "8", "total": "240.00"
        }))],
    };
    let out = run(&world, &doc);
    assert_eq!(
        expense_lines(out.transaction.lines()),
        owned(&[("Chen Li — HOL — 8.00 h", "3000", "240.00")])
    );
}

#[test]
fn an_item_without_a_total_fails_the_pay_run_instead_of_computing_one() {
    let world = World::new(true);
    let mut doc = three_item_payrun();
    doc.items[1].total = None;
    let err = translate_payrun(&doc, &world.payrun_ctx()).unwrap_err();
    assert_eq!(
        err,
        TranslateError::IncompleteDocument {
            record: "pay run item 2".into(),
            field: "total"
        }
    );
}

#[test]
fn items_the_grouping_cannot_place_get_a_first_line_that_says_so() {
    let mut world = World::new(true);
    let mut doc = three_item_payrun();
    doc.items.push(dto(
        json!({"id": 9, "payrun": 77, "quantity": "2", "total": "40.00"}),
    ));
    let out = run(&world, &doc);
    assert_eq!(
        out.transaction.lines()[0].description.as_deref(),
        Some("No pay code — 2.00 h")
    );
    world.settings.payroll.grouping = LineGrouping::PerEmployee;
    let out = run(&world, &doc);
    assert_eq!(
        out.transaction.lines()[0].description.as_deref(),
        Some("No employee — TrackTik Direct Wages — 2.00 h")
    );
    world.settings.payroll.grouping = LineGrouping::PerSite;
    let out = run(&world, &doc);
    assert_eq!(
        out.transaction.lines()[0].description.as_deref(),
        Some("No site — TrackTik Direct Wages — 2.00 h")
    );
}
