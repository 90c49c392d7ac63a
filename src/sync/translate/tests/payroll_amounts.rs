//! Pay codes that are amounts, not hours (expense reimbursements): their own lines, never
//! hours, never mixed with wages; and the Accounts Payable account chosen for bills.

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

use super::fixtures::*;
use crate::integrations::settings::{LineGrouping, PayrollPosting, QboRef};
use crate::providers::quickbooks::models::Line;
use crate::sync::translate::{PayrunDocument, QboPayrun, translate_payrun};

/// A reimbursement as TrackTik sends it with `include=customPayCode`: quantity 1, the amount
/// as the rate, and the pay code typed `ADDITIONNER`.
fn reimbursement(
    id: i64,
    employee: i64,
    total: &str,
) -> crate::providers::tracktik::models::PayrunItem {
    dto(json!({
        "id": id, "payrun": 77, "employee": employee,
        "customPayCode": {"id": 5, "code": "EXP", "name": "Expense Reimbursement", "type": "ADDITIONNER"},
        "payrollCodeLabel": "EXP", "quantity": "1", "rate": total, "total": total,
        "originType": "expense"
    }))
}

fn with_reimbursements() -> PayrunDocument {
    let mut doc = three_item_payrun();
    doc.items.push(reimbursement(4, 31, "42.50"));
    doc.items.push(reimbursement(5, 32, "7.50"));
    doc.payrun.total_cost = Some(d("1600.00"));
    doc
}

/// (description, account id, amount) of each expense line.
fn rows(lines: &[Line]) -> Vec<(String, String, Decimal)> {
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

fn row(text: &str, account: &str, amount: &str) -> (String, String, Decimal) {
    (text.to_owned(), account.to_owned(), d(amount))
}

#[test]
fn express_books_reimbursements_on_the_wages_account_on_a_line_of_their_own_without_hours() {
    let world = World::new(true);
    let out = translate_payrun(&with_reimbursements(), &world.payrun_ctx()).unwrap();
    assert_eq!(
        rows(out.transaction.lines()),
        vec![
            row("EXP — reimbursements and other amounts", "3000", "50.00"),
            row("OT — 5.00 h", "3001", "150.00"),
            row("REG — 70.00 h", "3000", "1400.00"),
        ]
    );
    assert_eq!(out.expected_total, d("1600.00"));
    assert!(out.discrepancies.is_empty());
}

#[test]
fn groupings_that_mix_pay_codes_still_keep_amounts_apart_from_hours() {
    let mut world = World::new(true);
    world.settings.payroll.grouping = LineGrouping::PerPayRun;
    let out = translate_payrun(&with_reimbursements(), &world.payrun_ctx()).unwrap();
    let lines = rows(out.transaction.lines());
    assert!(
        lines.contains(&row(
            "Pay run 77 — TrackTik Direct Wages — reimbursements and other amounts",
            "3000",
            "50.00"
        )),
        "{lines:?}"
    );
    assert!(
        lines.iter().all(|(t, _, _)| !t.contains("1.00 h")),
        "{lines:?}"
    );
    world.settings.payroll.grouping = LineGrouping::PerEmployee;
    let out = translate_payrun(&with_reimbursements(), &world.payrun_ctx()).unwrap();
    let lines = rows(out.transaction.lines());
    assert!(
        lines.contains(&row(
            "Ana Diaz — TrackTik Direct Wages — reimbursements and other amounts",
            "3000",
            "42.50"
        )),
        "{lines:?}"
    );
    assert!(
        lines.contains(&row(
            "Ana Diaz — TrackTik Direct Wages — 40.00 h",
            "3000",
            "800.00"
        )),
        "{lines:?}"
    );
}

#[test]
fn advanced_sends_amounts_to_their_own_account_unless_the_pay_code_has_one() {
    let mut world = World::new(true);
    world.settings.payroll.amounts_account = Some(QboRef::new("6100", "Reimbursements"));
    let out = translate_payrun(&with_reimbursements(), &world.payrun_ctx()).unwrap();
    assert_eq!(
        rows(out.transaction.lines())[0],
        row("EXP — reimbursements and other amounts", "6100", "50.00")
    );
    world
        .settings
        .payroll
        .pay_code_accounts
        .insert("EXP".into(), QboRef::new("6200", "Mileage"));
    let out = translate_payrun(&with_reimbursements(), &world.payrun_ctx()).unwrap();
    assert_eq!(rows(out.transaction.lines())[0].1, "6200");
}

#[test]
fn a_pay_code_sent_as_a_bare_id_is_an_amount_when_the_payroll_step_recorded_it() {
    let mut world = World::new(true);
    let mut doc = three_item_payrun();
    doc.items.push(pay_item(4, 31, "EXP", 601, "1", "42.50"));
    let out = translate_payrun(&doc, &world.payrun_ctx()).unwrap();
    assert!(
        rows(out.transaction.lines())
            .iter()
            .any(|(t, _, _)| t == "EXP — 1.00 h"),
        "unknown to the settings, it is hours"
    );
    world.settings.payroll.amount_codes.insert("EXP".into());
    let out = translate_payrun(&doc, &world.payrun_ctx()).unwrap();
    assert_eq!(
        rows(out.transaction.lines())[0],
        row("EXP — reimbursements and other amounts", "3000", "42.50")
    );
    // The pay code TrackTik embeds wins over the list.
    let mut normal = doc.clone();
    normal.items[3] = dto(json!({
        "id": 4, "payrun": 77, "employee": 31, "payrollCodeLabel": "EXP",
        "customPayCode": {"id": 5, "code": "EXP", "type": "NORMAL"}, "quantity": "1", "total": "42.50"
    }));
    let out = translate_payrun(&normal, &world.payrun_ctx()).unwrap();
    assert!(
        rows(out.transaction.lines())
            .iter()
            .any(|(t, _, _)| t == "EXP — 1.00 h")
    );
}

#[test]
fn bills_carry_the_accounts_payable_account_chosen_on_the_payroll_step() {
    let mut world = World::new(true);
    world.settings.payroll.posting = PayrollPosting::Bill;
    world.settings.payroll.ap_account = Some(QboRef::new("34", "A/P (payroll)"));
    let out = translate_payrun(&three_item_payrun(), &world.payrun_ctx()).unwrap();
    let QboPayrun::Bill(bill) = &out.transaction else {
        panic!("expected a bill")
    };
    assert_eq!(bill.a_p_account_ref.as_ref().unwrap().value, "34");
    let given = QboRef::new("33", "Accounts Payable");
    let ctx = crate::sync::translate::PayrunContext {
        ap_account: Some(&given),
        ..world.payrun_ctx()
    };
    let QboPayrun::Bill(bill) = translate_payrun(&three_item_payrun(), &ctx)
        .unwrap()
        .transaction
    else {
        panic!("expected a bill")
    };
    assert_eq!(
        bill.a_p_account_ref.unwrap().value,
        "33",
        "the caller's account wins"
    );
}

const GROUPINGS: [LineGrouping; 5] = [
    LineGrouping::PerPayRun,
    LineGrouping::PerPayCode,
    LineGrouping::PerEmployee,
    LineGrouping::PerEmployeePayCode,
    LineGrouping::PerSite,
];

proptest! {
    #[test]
    fn amounts_are_never_hours_never_on_a_wages_line_and_the_total_is_kept(
        hours in prop::collection::vec((1i64..40, 1i64..50_000, 0usize..2), 1..8),
        amounts in prop::collection::vec((1i64..20_000, 0usize..2), 1..5),
        grouping in 0usize..5,
        own_account in any::<bool>(),
    ) {
        let mut w = World::new(true);
        w.settings.payroll.grouping = GROUPINGS[grouping];
        if own_account {
            w.settings.payroll.amounts_account = Some(QboRef::new("6100", "Reimbursements"));
        }
        let employees = [31, 32];
        let mut items = Vec::new();
        let mut total = Decimal::ZERO;
        for (i, (h, cents, e)) in hours.iter().enumerate() {
            let amount = Decimal::new(*cents, 2);
            total += amount;
            items.push(pay_item(i as i64 + 1, employees[*e], "REG", 601, &h.to_string(), &amount.to_string()));
        }
        let mut amount_total = Decimal::ZERO;
        for (i, (cents, e)) in amounts.iter().enumerate() {
            let amount = Decimal::new(*cents, 2);
            total += amount;
            amount_total += amount;
            items.push(reimbursement(100 + i as i64, employees[*e], &amount.to_string()));
        }
        let doc = PayrunDocument { payrun: payrun(json!({"totalCost": total.to_string()})), items };
        let out = translate_payrun(&doc, &w.payrun_ctx()).unwrap();
        let lines = rows(out.transaction.lines());
        prop_assert_eq!(lines.iter().map(|l| l.2).sum::<Decimal>(), total);
        let amount_lines: Vec<_> = lines.iter().filter(|l| l.0.contains("reimbursements and other amounts")).collect();
        prop_assert_eq!(amount_lines.iter().map(|l| l.2).sum::<Decimal>(), amount_total);
        for l in &amount_lines {
            prop_assert!(!l.0.ends_with(" h"), "{}", l.0);
            if own_account {
                prop_assert_eq!(&l.1, "6100");
            }
        }
        for l in lines.iter().filter(|l| !l.0.contains("reimbursements")) {
            prop_assert!(l.0.ends_with(" h") || l.0.contains("Pay run"), "{}", l.0);
        }
    }
}
