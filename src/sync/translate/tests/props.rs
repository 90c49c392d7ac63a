//! Property tests: totals are preserved to the cent for any invoice and any pay run, journal
//! entries balance, nothing is absorbed, and translation never panics.

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

use super::fixtures::*;
use crate::integrations::settings::{LineGrouping, PayrollPosting, QboRef};
use crate::providers::quickbooks::models::Line;
use crate::sync::translate::{
    Check, InvoiceDocument, PayrunDocument, QboPayrun, TranslateError, translate_invoice,
    translate_payrun,
};

/// One generated invoice line: amount, quantity × price (not necessarily consistent), bill
/// item (10, 11 or none → default item), site, taxable flag, and tax rows (class 1, 2 or
/// unattributed; amounts in cents).
#[derive(Clone, Debug)]
struct GenLine {
    cents: i64,
    qty: i64,
    price: i64,
    bill_item: Option<i64>,
    site: Option<i64>,
    taxable: Option<bool>,
    taxes: Vec<(Option<i64>, i64)>,
}

fn gen_line() -> impl Strategy<Value = GenLine> {
    (
        prop_oneof![3 => -50_000i64..500_000, 1 => Just(0i64)],
        -5i64..50,
        -10_000i64..10_000,
        prop::option::of(10i64..12),
        prop::option::of(601i64..603),
        prop::option::of(any::<bool>()),
        prop::collection::vec((prop::option::of(1i64..3), -2_000i64..20_000), 0..3),
    )
        .prop_map(
            |(cents, qty, price, bill_item, site, taxable, taxes)| GenLine {
                cents,
                qty,
                price,
                bill_item,
                site,
                taxable,
                taxes,
            },
        )
}

fn cents(c: i64) -> Decimal {
    Decimal::new(c, 2)
}

/// Builds a consistent document: subTotal = Σ lines, taxTotal = Σ rows, total = both.
fn build_invoice(lines: &[GenLine]) -> InvoiceDocument {
    let mut doc = InvoiceDocument {
        invoice: invoice(json!({"taxClass": 1})),
        lines: Vec::new(),
        billable_items: Vec::new(),
        line_taxes: Vec::new(),
        tax_class_items: vec![class_item(81, 1), class_item(82, 2)],
        region_id: Some(7),
    };
    let (mut sub, mut tax) = (Decimal::ZERO, Decimal::ZERO);
    for (i, g) in lines.iter().enumerate() {
        let id = i as i64 + 1;
        let mut l = line(
            id,
            &g.qty.to_string(),
            &cents(g.price).to_string(),
            &cents(g.cents).to_string(),
            g.site,
        );
        l.taxable = g.taxable;
        doc.lines.push(l);
        sub += cents(g.cents);
        if let Some(b) = g.bill_item {
            doc.billable_items.push(billable(1000 + id, id, b));
        }
        for (k, (class, amount)) in g.taxes.iter().enumerate() {
            let row_id = id * 10 + k as i64;
            doc.line_taxes
                .push(tax_row(row_id, id, class.map(|c| 80 + c), *amount));
            tax += cents(*amount);
        }
    }
    doc.invoice.sub_total = Some(sub);
    doc.invoice.tax_total = Some(tax);
    doc.invoice.total = Some(sub + tax);
    doc
}

fn tax_row(
    id: i64,
    line: i64,
    item: Option<i64>,
    amount: i64,
) -> crate::providers::tracktik::models::InvoiceLineTax {
    tax(id, line, item, &cents(amount).to_string())
}

fn world(us: bool) -> World {
    let mut w = World::new(us);
    w.settings.billing.default_item = Some(QboRef::new("200", "TrackTik Service Income"));
    w
}

fn line_sum(lines: &[Line]) -> Decimal {
    lines.iter().map(|l| l.amount.unwrap()).sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// US: QBO's lines (items + tax lines) add up to TrackTik's subTotal + taxTotal exactly;
    /// non-US: to subTotal (QBO adds the tax from the codes). Nothing is reported when
    /// TrackTik's figures agree; an invoice below zero is a credit: the same amounts the other
    /// way round.
    #[test]
    fn invoice_lines_add_up_to_tracktiks_totals_to_the_cent(
        lines in prop::collection::vec(gen_line(), 1..300),
        us in any::<bool>(),
    ) {
        let doc = build_invoice(&lines);
        let w = world(us);
        let (sub, tax) = (doc.invoice.sub_total.unwrap(), doc.invoice.tax_total.unwrap());
        match translate_invoice(&doc, &w.invoice_ctx()) {
            Ok(out) => {
                let sign = if out.credit { -Decimal::ONE } else { Decimal::ONE };
                prop_assert_eq!(out.credit, sub + tax < Decimal::ZERO);
                let expected = if us { sub + tax } else { sub };
                prop_assert_eq!(line_sum(&out.invoice.line), sign * expected);
                prop_assert_eq!(out.expected_total, sign * (sub + tax));
                prop_assert_eq!(out.invoice.line.len() >= doc.lines.len(), true);
                let only_line_amounts = out
                    .discrepancies
                    .iter()
                    .all(|x| matches!(x.what, Check::LineAmount { .. }));
                prop_assert!(only_line_amounts);
                if !us {
                    prop_assert_eq!(out.invoice.line.len(), doc.lines.len());
                }
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }

    /// A difference in TrackTik's own totals is reported with both figures and never
    /// changes what is posted.
    #[test]
    fn a_wrong_tracktik_total_is_reported_never_absorbed(
        lines in prop::collection::vec(gen_line(), 1..40),
        sub_delta in -3i64..4,
        tax_delta in -3i64..4,
    ) {
        let mut doc = build_invoice(&lines);
        let (sub, tax) = (doc.invoice.sub_total.unwrap(), doc.invoice.tax_total.unwrap());
        prop_assume!(sub + tax >= Decimal::ZERO);
        let w = world(true);
        let honest = translate_invoice(&doc, &w.invoice_ctx()).unwrap();
        doc.invoice.sub_total = Some(sub + cents(sub_delta));
        doc.invoice.tax_total = Some(tax + cents(tax_delta));
        let out = translate_invoice(&doc, &w.invoice_ctx()).unwrap();
        prop_assert_eq!(&out.invoice.line, &honest.invoice.line);
        let found = |c: Check| out.discrepancies.iter().find(|x| x.what == c).cloned();
        prop_assert_eq!(found(Check::Subtotal).is_some(), sub_delta != 0);
        prop_assert_eq!(found(Check::TaxTotal).is_some(), tax_delta != 0);
        if let Some(x) = found(Check::Subtotal) {
            prop_assert_eq!((x.tracktik, x.computed), (sub + cents(sub_delta), sub));
        }
    }
}

/// One generated pay-run item: employee, pay code ("" = none), site, hours, total in cents.
fn gen_item() -> impl Strategy<Value = (i64, &'static str, i64, i64, i64)> {
    (
        31i64..36,
        prop::sample::select(vec!["REG", "OT", "HOL", ""]),
        601i64..605,
        -10i64..60,
        prop_oneof![4 => 0i64..200_000, 1 => -20_000i64..0, 1 => Just(0i64)],
    )
}

fn build_payrun(items: &[(i64, &str, i64, i64, i64)]) -> PayrunDocument {
    let items: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(i, (emp, code, site, hours, total))| {
            pay_item(
                i as i64 + 1,
                *emp,
                code,
                *site,
                &hours.to_string(),
                &cents(*total).to_string(),
            )
        })
        .collect();
    let total: Decimal = items.iter().map(|i| i.total.unwrap()).sum();
    PayrunDocument {
        payrun: payrun(json!({"totalCost": total.to_string()})),
        items,
    }
}

const GROUPINGS: [LineGrouping; 5] = [
    LineGrouping::PerPayRun,
    LineGrouping::PerPayCode,
    LineGrouping::PerEmployee,
    LineGrouping::PerEmployeePayCode,
    LineGrouping::PerSite,
];
const POSTINGS: [PayrollPosting; 3] = [
    PayrollPosting::Bill,
    PayrollPosting::CreditCardExpense,
    PayrollPosting::JournalEntry,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Any pay run, any grouping, any posting: bills and expenses add up to Σ item totals;
    /// journal entries balance with one liability credit of Σ item totals; no zero lines;
    /// the item order does not matter; a pay run of zero or less is refused.
    #[test]
    fn payrun_lines_add_up_and_journal_entries_balance(
        items in prop::collection::vec(gen_item(), 0..200),
        grouping in 0usize..5,
        posting in 0usize..3,
        us in any::<bool>(),
    ) {
        let mut w = world(us);
        w.settings.payroll.grouping = GROUPINGS[grouping];
        w.settings.payroll.posting = POSTINGS[posting];
        w.settings.payroll.pay_code_accounts.insert("HOL".into(), QboRef::new("3002", "Holiday Wages"));
        let doc = build_payrun(&items);
        let total: Decimal = doc.items.iter().map(|i| i.total.unwrap()).sum();
        let out = match translate_payrun(&doc, &w.payrun_ctx()) {
            Err(TranslateError::NothingToPost { total: t, .. }) => {
                prop_assert!(total <= Decimal::ZERO);
                prop_assert_eq!(t, total);
                return Ok(());
            }
            other => other.unwrap(),
        };
        prop_assert!(total > Decimal::ZERO);
        prop_assert_eq!(out.expected_total, total);
        prop_assert!(out.discrepancies.is_empty(), "{:?}", out.discrepancies);
        let lines = out.transaction.lines();
        prop_assert!(lines.iter().all(|l| !l.amount.unwrap().is_zero()));
        match &out.transaction {
            QboPayrun::JournalEntry(_) => {
                let side = |s: &str| -> Decimal {
                    lines.iter()
                        .filter(|l| l.journal_entry_line_detail.as_ref().unwrap().posting_type == s)
                        .map(|l| l.amount.unwrap())
                        .sum()
                };
                prop_assert_eq!(side("Debit"), side("Credit"));
                prop_assert!(lines.iter().all(|l| l.amount.unwrap() > Decimal::ZERO));
                let last = lines.last().unwrap();
                prop_assert_eq!(last.amount.unwrap(), total);
                prop_assert_eq!(&last.journal_entry_line_detail.as_ref().unwrap().account_ref.value, "9000");
            }
            _ => prop_assert_eq!(line_sum(lines), total),
        }
        let mut reversed = doc.clone();
        reversed.items.reverse();
        prop_assert_eq!(translate_payrun(&reversed, &w.payrun_ctx()).unwrap().transaction, out.transaction);
    }

    /// Garbage in (missing fields, amounts at `Decimal`'s limits, odd time zones) gives an
    /// error or a translation, never a panic.
    #[test]
    fn translation_never_panics(
        raw in prop::collection::vec(
            (
                prop::option::of(prop_oneof![any::<i64>().prop_map(|v| Decimal::new(v, 2)), Just(Decimal::MAX), Just(Decimal::MIN)]),
                prop::option::of(prop_oneof![any::<i64>().prop_map(|v| Decimal::new(v, 4)), Just(Decimal::MAX)]),
                prop::option::of("[A-Za-z/_]{0,20}"),
            ),
            0..30,
        ),
        us in any::<bool>(),
    ) {
        let w = world(us);
        let mut doc = build_invoice(&[]);
        let mut pay = build_payrun(&[]);
        for (i, (amount, qty, zone)) in raw.into_iter().enumerate() {
            let mut l = line(i as i64 + 1, "1", "1", "1", None);
            l.line_sub_total = amount;
            l.quantity = qty;
            l.unit_price = amount;
            l.time_zone = zone;
            doc.lines.push(l);
            doc.line_taxes.push(tax(i as i64 + 1, i as i64 + 1, Some(81), &Decimal::MAX.to_string()));
            let mut item = pay_item(i as i64 + 1, 31, "REG", 601, "1", "1");
            item.total = amount;
            item.quantity = qty;
            pay.items.push(item);
        }
        let _ = translate_invoice(&doc, &w.invoice_ctx());
        let _ = translate_payrun(&pay, &w.payrun_ctx());
    }
}

fn many_lines(n: i64) -> Vec<GenLine> {
    (0..n)
        .map(|i| GenLine {
            cents: (i * 7919) % 100_000 - 1_000,
            qty: 1,
            price: 0,
            bill_item: Some(10 + i % 2),
            site: Some(601 + i % 2),
            taxable: None,
            taxes: vec![(Some(1 + i % 2), i % 300), (None, i % 7)],
        })
        .collect()
}

/// An invoice of the most lines QuickBooks takes translates, line for line, to the cent.
#[test]
fn an_invoice_of_the_most_lines_quickbooks_takes_translates_exactly() {
    let n = crate::sync::translate::MAX_LINES;
    let doc = build_invoice(&many_lines(n as i64));
    for us in [true, false] {
        let out = translate_invoice(&doc, &world(us).invoice_ctx()).unwrap();
        let (sub, tax) = (
            doc.invoice.sub_total.unwrap(),
            doc.invoice.tax_total.unwrap(),
        );
        let expected = if us { sub + tax } else { sub };
        assert_eq!(line_sum(&out.invoice.line), expected);
        assert_eq!(out.invoice.line.len(), if us { n + 3 } else { n });
    }
}

/// A 10,000-line invoice fails in words before anything is sent.
#[test]
fn a_ten_thousand_line_invoice_fails_with_the_limit_in_words() {
    let doc = build_invoice(&many_lines(10_000));
    let err = translate_invoice(&doc, &world(true).invoice_ctx()).unwrap_err();
    assert!(
        matches!(err, TranslateError::TooManyLines { lines: 10_000, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("at most 750 lines"), "{err}");
}
