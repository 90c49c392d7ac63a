//! Keeps `Account.CurrentBalance` in step with transactions. Like QBO, only balance-sheet accounts
//! (Asset, Liability, Equity) carry a running balance; income and expense accounts stay at 0.

use rust_decimal::Decimal;
use serde_json::Value;

use super::Entity;
use crate::sandbox::quickbooks::json::{decimal_of, money, ref_value, str_field};
use crate::sandbox::quickbooks::store::{Company, Id, Kind};

/// Debit-positive amounts per account id that a transaction posts.
fn postings(co: &Company, kind: Kind, e: &Entity) -> Vec<(String, Decimal)> {
    let mut out = Vec::new();
    let amount = |v: &Value| v.get("Amount").and_then(decimal_of).unwrap_or_default();
    let total = e.get("TotalAmt").and_then(decimal_of).unwrap_or_default();
    let tax = e
        .get("TxnTaxDetail")
        .and_then(|t| t.get("TotalTax"))
        .and_then(decimal_of)
        .unwrap_or_default();
    let lines: Vec<&Value> = e
        .get("Line")
        .and_then(Value::as_array)
        .map(|l| l.iter().collect())
        .unwrap_or_default();
    let item_account = |line: &Value, detail: &str, key: &str| {
        let item = ref_value(line.get(detail).and_then(|d| d.get("ItemRef")))?;
        ref_value(co.get(Kind::Item, &item)?.get(key))
    };
    let tax_account = || {
        co.all(Kind::Account)
            .find(|a| {
                matches!(
                    str_field(a, "AccountSubType"),
                    Some("GlobalTaxPayable" | "SalesTaxPayable")
                )
            })
            .and_then(|a| str_field(a, "Id").map(str::to_string))
    };
    match kind {
        Kind::Invoice | Kind::CreditMemo => {
            // A credit memo posts the invoice's entries the other way round.
            let sign = if kind == Kind::CreditMemo {
                -Decimal::ONE
            } else {
                Decimal::ONE
            };
            let ar = ref_value(e.get("ARAccountRef")).or_else(|| {
                co.all(Kind::Account)
                    .find(|a| str_field(a, "AccountType") == Some("Accounts Receivable"))
                    .and_then(|a| str_field(a, "Id").map(str::to_string))
            });
            if let Some(ar) = ar {
                out.push((ar, total * sign));
            }
            for line in &lines {
                if let Some(acct) = item_account(line, "SalesItemLineDetail", "IncomeAccountRef") {
                    out.push((acct, -amount(line) * sign));
                }
            }
            if let Some(t) = tax_account() {
                out.push((t, -tax * sign));
            }
        }
        Kind::Bill | Kind::Purchase => {
            let sign = if e.get("Credit").and_then(Value::as_bool) == Some(true) {
                -Decimal::ONE
            } else {
                Decimal::ONE
            };
            let source = if kind == Kind::Bill {
                ref_value(e.get("APAccountRef"))
            } else {
                ref_value(e.get("AccountRef"))
            };
            if let Some(src) = source {
                out.push((src, -total * sign));
            }
            for line in &lines {
                let acct = ref_value(
                    line.get("AccountBasedExpenseLineDetail")
                        .and_then(|d| d.get("AccountRef")),
                )
                .or_else(|| item_account(line, "ItemBasedExpenseLineDetail", "ExpenseAccountRef"));
                if let Some(acct) = acct {
                    out.push((acct, amount(line) * sign));
                }
            }
            if let Some(t) = tax_account() {
                out.push((t, tax * sign));
            }
        }
        Kind::JournalEntry => {
            for line in &lines {
                let detail = line.get("JournalEntryLineDetail");
                let acct = ref_value(detail.and_then(|d| d.get("AccountRef")));
                let credit = detail
                    .and_then(|d| d.get("PostingType"))
                    .and_then(Value::as_str)
                    == Some("Credit");
                if let Some(acct) = acct {
                    let a = amount(line);
                    out.push((acct, if credit { -a } else { a }));
                }
            }
        }
        _ => {}
    }
    out
}

/// Applies a transaction's postings (`sign` = 1) or reverses them (`sign` = -1).
pub fn apply(co: &mut Company, kind: Kind, e: &Entity, sign: Decimal) {
    for (acct, debit) in postings(co, kind, e) {
        let Some(a) = co
            .entities
            .get_mut(&Kind::Account)
            .and_then(|m| m.get_mut(&Id(acct)))
        else {
            continue;
        };
        let delta = match str_field(a, "Classification") {
            Some("Asset") => debit,
            Some("Liability" | "Equity") => -debit,
            _ => continue,
        } * sign;
        let balance = a
            .get("CurrentBalance")
            .and_then(decimal_of)
            .unwrap_or_default()
            + delta;
        a.insert("CurrentBalance".into(), money(balance));
        a.insert("CurrentBalanceWithSubAccounts".into(), money(balance));
    }
}
