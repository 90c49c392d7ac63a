//! Transactions: Invoice, Bill, Purchase, JournalEntry. Header rules, tax and totals.

use std::collections::BTreeMap;

use chrono::Duration;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::account_types::CURRENCIES;
use super::lines::{self, Lines};
use super::{Ctx, Entity, check_len, date_field, money_field, resolve};
use crate::sandbox::quickbooks::fault::QboError;
use crate::sandbox::quickbooks::json::{cents, decimal_of, money, ref_value, reference, str_field};
use crate::sandbox::quickbooks::store::{Company, Kind};

/// 6210 if the transaction's date is on or before the company's BookCloseDate.
pub fn check_books_open(co: &Company, e: &Entity) -> Result<(), QboError> {
    if let (Some(close), Ok(Some(date))) = (co.book_close_date(), date_field(e, "TxnDate"))
        && date <= close
    {
        return Err(QboError::period_closed(&close.to_string()));
    }
    Ok(())
}

/// The TxnType label QBO uses in the 6140 detail.
fn txn_type_label(kind: Kind, e: &Entity) -> &'static str {
    match kind {
        Kind::Invoice => "Invoice",
        Kind::CreditMemo => "Credit Memo",
        Kind::Bill => "Bill",
        Kind::JournalEntry => "Journal Entry",
        _ => match str_field(e, "PaymentType") {
            Some("Check") => "Check",
            Some("CreditCard") => "Credit Card Charge",
            _ => "Expense",
        },
    }
}

/// Validates and completes a transaction.
pub fn transaction(
    co: &Company,
    kind: Kind,
    mut e: Entity,
    old: Option<&Entity>,
    ctx: &Ctx,
) -> Result<Entity, QboError> {
    check_len(&e, "DocNumber", 21, "DocNumber")?;
    check_len(&e, "PrivateNote", 4000, "PrivateNote")?;
    let today = ctx.now.with_timezone(&co.tz()).date_naive();
    let txn_date = date_field(&e, "TxnDate")?.unwrap_or(today);
    e.insert("TxnDate".into(), json!(txn_date.to_string()));
    check_books_open(co, &e)?;
    if let Some(o) = old {
        check_books_open(co, o)?;
    }
    let self_id = old.and_then(|o| str_field(o, "Id"));
    if let Some(doc) = str_field(&e, "DocNumber")
        && co.checks_duplicate_doc(kind, str_field(&e, "PaymentType"))
        && !ctx.allow_dup_doc
        && let Some(other) = co
            .by_doc_number(kind, doc)
            .iter()
            .find(|i| Some(i.0.as_str()) != self_id)
    {
        let other_e = co.get(kind, &other.0);
        let label = other_e.map_or("Invoice", |o| txn_type_label(kind, o));
        return Err(QboError::duplicate_doc(doc, label, &other.0));
    }
    if !co.is_us() {
        // A Canadian company's missing tax code is reported before a missing currency.
        lines::precheck_tax_codes(kind, &e)?;
    }
    let currency = txn_currency(co, &mut e)?;
    if co.is_us() {
        e.remove("GlobalTaxCalculation");
    } else {
        match str_field(&e, "GlobalTaxCalculation") {
            None => return Err(QboError::required("GlobalTaxCalculation")),
            Some("TaxExcluded" | "TaxInclusive" | "NotApplicable") => {}
            Some(other) => return Err(QboError::bad_enum("GlobalTaxCalculation", other)),
        }
    }
    if e.contains_key("DepartmentRef") {
        if !co.pref_bool("AccountingInfoPrefs", "TrackDepartments") {
            return Err(QboError::business(
                "Location tracking is turned off for this company, so DepartmentRef cannot be used.",
                "DepartmentRef",
            ));
        }
        resolve(
            co,
            ctx,
            &mut e,
            "DepartmentRef",
            &[Kind::Department],
            "DepartmentRef",
        )?;
    }
    if e.contains_key("ClassRef") {
        if !co.pref_bool("AccountingInfoPrefs", "ClassTrackingPerTxn")
            && !co.pref_bool("AccountingInfoPrefs", "ClassTrackingPerTxnLine")
        {
            return Err(QboError::business(
                "Class tracking is turned off for this company, so ClassRef cannot be used.",
                "ClassRef",
            ));
        }
        resolve(co, ctx, &mut e, "ClassRef", &[Kind::Class], "ClassRef")?;
    }
    money_field(&mut e, "ExchangeRate", "ExchangeRate")?;
    let terms_days = header(co, kind, &mut e, ctx, &currency)?;
    let lines = lines::process(co, ctx, kind, &e)?;
    let (tax_detail, total) = taxes(co, kind, &e, &lines, ctx)?;
    if kind == Kind::JournalEntry {
        if lines.debit_lines == 0 || lines.credit_lines == 0 || lines.debits != lines.credits {
            return Err(QboError::business(
                "Transaction is not balanced. Make sure the debits equal the credits and that there is at least one debit and one credit line.",
                "Line",
            ));
        }
        // QBO answers journal entries without TotalAmt, with Adjustment and an empty
        // TxnTaxDetail (recorded entries).
        e.remove("TotalAmt");
        e.remove("HomeTotalAmt");
        e.entry("Adjustment").or_insert(json!(false));
        e.insert("TxnTaxDetail".into(), json!({}));
    } else {
        e.insert("TotalAmt".into(), money(total));
        if let Some(t) = tax_detail {
            e.insert("TxnTaxDetail".into(), t);
        } else {
            e.remove("TxnTaxDetail");
        }
    }
    let mut out_lines = lines.lines;
    if matches!(kind, Kind::Invoice | Kind::CreditMemo) {
        out_lines.push(json!({
            "Amount": money(lines.subtotal),
            "DetailType": "SubTotalLineDetail",
            "SubTotalLineDetail": {}
        }));
        let flags: &[&str] = if kind == Kind::Invoice {
            &[
                "AllowIPNPayment",
                "AllowOnlinePayment",
                "AllowOnlineCreditCardPayment",
                "AllowOnlineACHPayment",
                "ApplyTaxAfterDiscount",
            ]
        } else {
            &["ApplyTaxAfterDiscount"]
        };
        for key in flags {
            e.entry(*key).or_insert(json!(false));
        }
        if kind == Kind::Invoice {
            e.entry("LinkedTxn").or_insert(json!([]));
        }
        // From the customer: its addresses, and "NeedToPrint" when it wants paper.
        if let Some(customer) =
            ref_value(e.get("CustomerRef")).and_then(|id| co.get(Kind::Customer, &id))
        {
            for key in ["BillAddr", "ShipAddr"] {
                if let (false, Some(addr)) = (e.contains_key(key), customer.get(key)) {
                    e.insert(key.into(), addr.clone());
                }
            }
            if str_field(customer, "PreferredDeliveryMethod") == Some("Print") {
                e.entry("PrintStatus").or_insert(json!("NeedToPrint"));
            }
        }
        e.entry("PrintStatus").or_insert(json!("NotSet"));
        e.entry("EmailStatus").or_insert(json!("NotSet"));
        if str_field(&e, "EmailStatus") == Some("NeedToSend") && !e.contains_key("BillEmail") {
            return Err(QboError::required("BillEmail"));
        }
    }
    e.insert("Line".into(), Value::Array(out_lines));
    if kind == Kind::CreditMemo {
        e.insert("Balance".into(), money(total));
        e.insert("RemainingCredit".into(), money(total));
        e.remove("DueDate");
    } else if matches!(kind, Kind::Invoice | Kind::Bill) {
        e.insert("Balance".into(), money(total));
        let due = match date_field(&e, "DueDate")? {
            Some(d) => d,
            None => txn_date + Duration::days(terms_days),
        };
        e.insert("DueDate".into(), json!(due.to_string()));
    } else {
        e.remove("Balance");
        e.remove("DueDate");
    }
    if !co.pref_bool("CurrencyPrefs", "MultiCurrencyEnabled") {
        // Without multicurrency QBO answers no ExchangeRate at all.
        e.remove("ExchangeRate");
        e.remove("HomeTotalAmt");
    } else if currency != co.home_currency() {
        let rate = e
            .get("ExchangeRate")
            .and_then(decimal_of)
            .unwrap_or(Decimal::ONE);
        e.insert("ExchangeRate".into(), money(rate));
        if kind != Kind::JournalEntry {
            e.insert("HomeTotalAmt".into(), money(cents(total * rate)));
        }
    } else {
        e.insert("ExchangeRate".into(), money(Decimal::ONE));
        e.remove("HomeTotalAmt");
    }
    Ok(e)
}

/// CurrencyRef: required when multicurrency is on; otherwise the home currency.
fn txn_currency(co: &Company, e: &mut Entity) -> Result<String, QboError> {
    let multi = co.pref_bool("CurrencyPrefs", "MultiCurrencyEnabled");
    let given = ref_value(e.get("CurrencyRef"));
    let code = match (multi, given) {
        (true, None) => return Err(QboError::required("CurrencyRef")),
        (_, Some(c)) => c,
        (false, None) => co.home_currency().to_string(),
    };
    let Some((_, name)) = CURRENCIES.iter().find(|(c, _)| *c == code) else {
        return Err(QboError::invalid_ref("CurrencyRef", "Currencies", &code));
    };
    if !multi && code != co.home_currency() {
        return Err(QboError::business(
            "Multicurrency is not turned on for this company, so you can only use the home currency.",
            "CurrencyRef",
        ));
    }
    e.insert("CurrencyRef".into(), reference(&code, Some(name)));
    Ok(code)
}

/// Entity-specific header rules; returns the payment terms in days (for DueDate).
fn header(
    co: &Company,
    kind: Kind,
    e: &mut Entity,
    ctx: &Ctx,
    currency: &str,
) -> Result<i64, QboError> {
    let party = match kind {
        Kind::Invoice | Kind::CreditMemo => {
            if !e.contains_key("CustomerRef") {
                return Err(QboError::required("CustomerRef"));
            }
            resolve(co, ctx, e, "ARAccountRef", &[Kind::Account], "ARAccountRef")?;
            resolve(co, ctx, e, "CustomerRef", &[Kind::Customer], "CustomerRef")?
        }
        Kind::Bill => {
            if !e.contains_key("VendorRef") {
                return Err(QboError::required("VendorRef"));
            }
            let v = resolve(co, ctx, e, "VendorRef", &[Kind::Vendor], "VendorRef")?;
            ap_account(co, ctx, e, currency)?;
            v
        }
        Kind::Purchase => {
            purchase_account(co, ctx, e)?;
            let found = resolve(
                co,
                ctx,
                e,
                "EntityRef",
                &[Kind::Vendor, Kind::Customer, Kind::Employee],
                "EntityRef",
            )?;
            if let (Some((k, _)), Some(Value::Object(r))) = (found, e.get_mut("EntityRef")) {
                r.insert("type".into(), json!(k.name()));
            }
            e.entry("Credit").or_insert(json!(false));
            found
        }
        _ => None,
    };
    if let Some((_, p)) = party
        && co.pref_bool("CurrencyPrefs", "MultiCurrencyEnabled")
        && let Some(pc) = ref_value(p.get("CurrencyRef"))
        && pc != currency
    {
        return Err(QboError::business(
            &format!(
                "The transaction currency ({currency}) must match the currency of the customer or vendor ({pc})."
            ),
            "CurrencyRef",
        ));
    }
    let term_key = if kind == Kind::Invoice || kind == Kind::Bill {
        "SalesTermRef"
    } else {
        return Ok(0);
    };
    let term = match resolve(co, ctx, e, term_key, &[Kind::Term], term_key)? {
        Some((_, t)) => Some(t),
        None => party
            .and_then(|(_, p)| ref_value(p.get("SalesTermRef")).or(ref_value(p.get("TermRef"))))
            .and_then(|id| co.get(Kind::Term, &id)),
    };
    Ok(term
        .and_then(|t| t.get("DueDays"))
        .and_then(Value::as_i64)
        .unwrap_or(0))
}

fn ap_account(co: &Company, ctx: &Ctx, e: &mut Entity, currency: &str) -> Result<(), QboError> {
    if let Some((_, a)) = resolve(co, ctx, e, "APAccountRef", &[Kind::Account], "APAccountRef")? {
        if str_field(a, "AccountType") != Some("Accounts Payable") {
            return Err(QboError::business(
                "APAccountRef must refer to an Accounts Payable (A/P) account.",
                "APAccountRef",
            ));
        }
        return Ok(());
    }
    let candidates: Vec<&Entity> = co
        .all(Kind::Account)
        .filter(|a| str_field(a, "AccountType") == Some("Accounts Payable"))
        .filter(|a| a.get("Active") == Some(&json!(true)))
        .filter(|a| ref_value(a.get("CurrencyRef")).as_deref() == Some(currency))
        .collect();
    match candidates.as_slice() {
        [one] => {
            let id = str_field(one, "Id").unwrap_or_default();
            let name = str_field(one, "Name");
            e.insert("APAccountRef".into(), reference(id, name));
            Ok(())
        }
        _ => Err(QboError::required("APAccountRef")),
    }
}

fn purchase_account(co: &Company, ctx: &Ctx, e: &mut Entity) -> Result<(), QboError> {
    let Some(pt) = str_field(e, "PaymentType").map(str::to_string) else {
        return Err(QboError::required("PaymentType"));
    };
    let needed = match pt.as_str() {
        "CreditCard" => "Credit Card",
        "Cash" | "Check" => "Bank",
        other => return Err(QboError::bad_enum("PaymentType", other)),
    };
    if !e.contains_key("AccountRef") {
        return Err(QboError::required("AccountRef"));
    }
    if let Some((_, a)) = resolve(co, ctx, e, "AccountRef", &[Kind::Account], "AccountRef")?
        && str_field(a, "AccountType") != Some(needed)
    {
        return Err(QboError::business(
            &format!("Invalid account type: a {pt} purchase must use a {needed} account."),
            "AccountRef",
        ));
    }
    Ok(())
}

/// Computes `TxnTaxDetail` and the total from the lines' tax codes and the codes' rates.
fn taxes(
    co: &Company,
    kind: Kind,
    e: &Entity,
    lines: &Lines,
    ctx: &Ctx,
) -> Result<(Option<Value>, Decimal), QboError> {
    if kind == Kind::JournalEntry {
        return Ok((None, lines.debits));
    }
    let list = if matches!(kind, Kind::Invoice | Kind::CreditMemo) {
        "SalesTaxRateList"
    } else {
        "PurchaseTaxRateList"
    };
    let mode = str_field(e, "GlobalTaxCalculation").unwrap_or("TaxExcluded");
    // (TaxCode id, amount) → rates
    let mut per_line: Vec<(Vec<(String, Decimal)>, Decimal)> = Vec::new();
    let mut txn_code = None;
    if co.is_us() {
        if !matches!(kind, Kind::Invoice | Kind::CreditMemo) {
            return Ok((None, lines.subtotal));
        }
        let mut detail = e
            .get("TxnTaxDetail")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some((_, code)) = resolve(
            co,
            ctx,
            &mut detail,
            "TxnTaxCodeRef",
            &[Kind::TaxCode],
            "TxnTaxDetail.TxnTaxCodeRef",
        )? {
            let rates = code_rates(co, code, list);
            for (_, amount) in &lines.taxed {
                per_line.push((rates.clone(), *amount));
            }
            txn_code = detail.get("TxnTaxCodeRef").cloned();
        }
    } else if mode != "NotApplicable" {
        for (code_id, amount) in &lines.taxed {
            if let Some(code) = co.get(Kind::TaxCode, code_id) {
                per_line.push((code_rates(co, code, list), *amount));
            }
        }
    }
    let mut by_rate: BTreeMap<String, (Decimal, Decimal)> = BTreeMap::new();
    let mut net_total = Decimal::ZERO;
    for (rates, amount) in &per_line {
        let sum: Decimal = rates.iter().map(|(_, r)| *r).sum();
        let net = if mode == "TaxInclusive" {
            cents(*amount * Decimal::ONE_HUNDRED / (Decimal::ONE_HUNDRED + sum))
        } else {
            *amount
        };
        net_total += amount - net;
        for (rate_id, rate) in rates {
            by_rate
                .entry(rate_id.clone())
                .or_insert((*rate, Decimal::ZERO))
                .1 += net;
        }
    }
    let mut total_tax = Decimal::ZERO;
    let mut tax_lines = Vec::new();
    for (rate_id, (rate, net)) in &by_rate {
        let tax = cents(*net * *rate / Decimal::ONE_HUNDRED);
        total_tax += tax;
        tax_lines.push(json!({
            "Amount": money(tax),
            "DetailType": "TaxLineDetail",
            "TaxLineDetail": {
                "TaxRateRef": {"value": rate_id},
                "PercentBased": true,
                "TaxPercent": money(*rate),
                "NetAmountTaxable": money(*net)
            }
        }));
    }
    let mut detail = json!({"TotalTax": money(total_tax)});
    if !tax_lines.is_empty() {
        detail["TaxLine"] = Value::Array(tax_lines);
    }
    if let Some(code) = txn_code {
        detail["TxnTaxCodeRef"] = code;
    }
    let total = if mode == "TaxInclusive" {
        lines.subtotal - net_total + total_tax
    } else {
        lines.subtotal + total_tax
    };
    Ok((Some(detail), total))
}

/// The (TaxRate id, percent) pairs of a tax code's sales or purchase list.
fn code_rates(co: &Company, code: &Entity, list: &str) -> Vec<(String, Decimal)> {
    code.get(list)
        .and_then(|l| l.get("TaxRateDetail"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| ref_value(d.get("TaxRateRef")))
        .filter_map(|id| {
            let rate = co
                .get(Kind::TaxRate, &id)?
                .get("RateValue")
                .and_then(decimal_of)?;
            Some((id, rate))
        })
        .collect()
}

/// The voided form of an invoice: amounts zeroed, note "Voided".
pub fn voided(old: &Entity) -> Entity {
    let mut e = old.clone();
    if let Some(Value::Array(lines)) = e.get_mut("Line") {
        for line in lines {
            if let Some(m) = line.as_object_mut() {
                m.insert("Amount".into(), money(Decimal::ZERO));
            }
        }
    }
    e.insert("TotalAmt".into(), money(Decimal::ZERO));
    e.insert("Balance".into(), money(Decimal::ZERO));
    if let Some(Value::Object(t)) = e.get_mut("TxnTaxDetail") {
        t.insert("TotalTax".into(), money(Decimal::ZERO));
        t.remove("TaxLine");
    }
    e.insert("PrivateNote".into(), json!("Voided"));
    e
}
