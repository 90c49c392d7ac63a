//! Transaction lines: detail types, references on lines, amounts, per-line tax codes.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::props::{detail_key, is_detail_type};
use super::{Ctx, Entity, money_field, resolve};
use crate::sandbox::quickbooks::fault::QboError;
use crate::sandbox::quickbooks::json::{cents, decimal_of, str_field};
use crate::sandbox::quickbooks::store::{Company, Kind};

/// What the header computation needs from the lines.
#[derive(Debug, Default)]
pub struct Lines {
    /// The normalised lines (without the SubTotal line).
    pub lines: Vec<Value>,
    /// Sum of the amount-bearing lines.
    pub subtotal: Decimal,
    /// (TaxCode id, net amount) per taxed line.
    pub taxed: Vec<(String, Decimal)>,
    /// Journal entry debits.
    pub debits: Decimal,
    /// Journal entry credits.
    pub credits: Decimal,
    /// Number of debit and credit lines.
    pub debit_lines: usize,
    /// Number of credit lines.
    pub credit_lines: usize,
}

fn allowed_details(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Invoice | Kind::CreditMemo => &["SalesItemLineDetail", "DescriptionOnly"],
        Kind::Bill | Kind::Purchase => &[
            "AccountBasedExpenseLineDetail",
            "ItemBasedExpenseLineDetail",
        ],
        Kind::JournalEntry => &["JournalEntryLineDetail", "DescriptionOnly"],
        _ => &[],
    }
}

/// The GST/HST business rule of non-US companies.
pub fn missing_tax_code(element: &str) -> QboError {
    QboError::business(
        "Make sure all your transactions have a GST/HST rate before you save.",
        element,
    )
}

/// Non-US companies: 6000 (with an empty `element`, as recorded) when a taxable line has no
/// TaxCodeRef; run before the header's other checks, in QuickBooks' order.
pub fn precheck_tax_codes(kind: Kind, e: &Entity) -> Result<(), QboError> {
    let Some(Value::Array(raw)) = e.get("Line") else {
        return Ok(());
    };
    for line in raw.iter().filter_map(Value::as_object) {
        let Some(dt) = str_field(line, "DetailType") else {
            continue;
        };
        let taxable = matches!(
            dt,
            "SalesItemLineDetail" | "AccountBasedExpenseLineDetail" | "ItemBasedExpenseLineDetail"
        ) && allowed_details(kind).contains(&dt);
        let has_code = line
            .get(detail_key(dt))
            .and_then(|d| d.get("TaxCodeRef"))
            .is_some_and(|r| !r.is_null());
        if taxable && !has_code {
            return Err(missing_tax_code(""));
        }
    }
    Ok(())
}

/// Validates and normalises `Line[]`.
pub fn process(co: &Company, ctx: &Ctx, kind: Kind, e: &Entity) -> Result<Lines, QboError> {
    let Some(Value::Array(raw)) = e.get("Line") else {
        return Err(QboError::required("Line"));
    };
    let mut out = Lines::default();
    for line in raw {
        let Value::Object(line) = line else {
            return Err(QboError::required("Line"));
        };
        if str_field(line, "DetailType") == Some("SubTotalLineDetail") {
            continue; // computed by the server; clients echo it back on updates
        }
        let line = one_line(co, ctx, kind, line.clone(), &mut out)?;
        out.lines.push(Value::Object(line));
    }
    if out.lines.is_empty() {
        return Err(QboError::required("Line"));
    }
    for (i, line) in out.lines.iter_mut().enumerate() {
        if let Value::Object(m) = line {
            if kind == Kind::JournalEntry {
                // Journal lines are numbered from "0" and carry no LineNum (recorded entries).
                m.insert("Id".into(), json!(i.to_string()));
                m.remove("LineNum");
            } else if matches!(kind, Kind::Bill | Kind::Purchase) {
                // Expense lines carry an Id but no LineNum (recorded bills and purchases).
                m.insert("Id".into(), json!((i + 1).to_string()));
                m.remove("LineNum");
            } else {
                m.insert("Id".into(), json!((i + 1).to_string()));
                m.insert("LineNum".into(), json!(i + 1));
            }
        }
    }
    Ok(out)
}

fn one_line(
    co: &Company,
    ctx: &Ctx,
    kind: Kind,
    mut line: Map<String, Value>,
    out: &mut Lines,
) -> Result<Map<String, Value>, QboError> {
    let Some(dt) = str_field(&line, "DetailType").map(str::to_string) else {
        return Err(QboError::required("Line.DetailType"));
    };
    if !is_detail_type(&dt) || !allowed_details(kind).contains(&dt.as_str()) {
        return Err(QboError::bad_enum("Line.DetailType", &dt));
    }
    let key = detail_key(&dt).to_string();
    money_field(&mut line, "Amount", "Line.Amount")?;
    if dt == "DescriptionOnly" {
        line.entry(key).or_insert(json!({}));
        return Ok(line);
    }
    let Some(Value::Object(mut detail)) = line.get(&key).cloned() else {
        return Err(QboError::required(&format!("Line.{key}")));
    };
    let Some(amount) = line.get("Amount").and_then(decimal_of) else {
        return Err(QboError::required("Line.Amount"));
    };
    let el = |f: &str| format!("Line.{key}.{f}");
    for f in ["UnitPrice", "Qty", "TaxAmount", "TaxInclusiveAmt"] {
        money_field(&mut detail, f, &el(f))?;
    }
    if let Some(status) = str_field(&detail, "BillableStatus")
        && !["Billable", "NotBillable", "HasBeenBilled"].contains(&status)
    {
        return Err(QboError::bad_enum(&el("BillableStatus"), status));
    }
    if detail.contains_key("ClassRef") {
        let on = co.pref_bool("AccountingInfoPrefs", "ClassTrackingPerTxnLine")
            || co.pref_bool("AccountingInfoPrefs", "ClassTrackingPerTxn");
        if !on {
            return Err(QboError::business(
                "Class tracking is turned off for this company, so ClassRef cannot be used.",
                &el("ClassRef"),
            ));
        }
        resolve(
            co,
            ctx,
            &mut detail,
            "ClassRef",
            &[Kind::Class],
            &el("ClassRef"),
        )?;
    }
    if detail.contains_key("DepartmentRef") {
        if !co.pref_bool("AccountingInfoPrefs", "TrackDepartments") {
            return Err(QboError::business(
                "Location tracking is turned off for this company, so DepartmentRef cannot be used.",
                &el("DepartmentRef"),
            ));
        }
        resolve(
            co,
            ctx,
            &mut detail,
            "DepartmentRef",
            &[Kind::Department],
            &el("DepartmentRef"),
        )?;
    }
    resolve(
        co,
        ctx,
        &mut detail,
        "CustomerRef",
        &[Kind::Customer],
        &el("CustomerRef"),
    )?;
    match dt.as_str() {
        "SalesItemLineDetail" => {
            let item = item_ref(co, ctx, &mut detail, &el("ItemRef"))?;
            if str_field(item, "Type") == Some("Category") || !item.contains_key("IncomeAccountRef")
            {
                return Err(QboError::business(
                    "This item cannot be sold: it has no income account.",
                    &el("ItemRef"),
                ));
            }
            check_qty_price(&detail, amount)?;
            tax_code(co, ctx, kind, &mut detail, &el("TaxCodeRef"), amount, out)?;
        }
        "ItemBasedExpenseLineDetail" => {
            detail
                .entry("BillableStatus")
                .or_insert(json!("NotBillable"));
            let item = item_ref(co, ctx, &mut detail, &el("ItemRef"))?;
            if !item.contains_key("ExpenseAccountRef") {
                return Err(QboError::business(
                    "This item cannot be purchased: it has no expense account.",
                    &el("ItemRef"),
                ));
            }
            check_qty_price(&detail, amount)?;
            tax_code(co, ctx, kind, &mut detail, &el("TaxCodeRef"), amount, out)?;
        }
        "AccountBasedExpenseLineDetail" => {
            detail
                .entry("BillableStatus")
                .or_insert(json!("NotBillable"));
            let account = account_ref(co, ctx, &mut detail, &el("AccountRef"))?;
            let t = str_field(account, "AccountType").unwrap_or_default();
            if t == "Accounts Payable" || t == "Accounts Receivable" {
                return Err(QboError::business(
                    "You can't use an Accounts Payable or Accounts Receivable account on an expense line. Choose a different account.",
                    &el("AccountRef"),
                ));
            }
            tax_code(co, ctx, kind, &mut detail, &el("TaxCodeRef"), amount, out)?;
        }
        "JournalEntryLineDetail" => journal(co, ctx, &mut detail, amount, out)?,
        _ => {}
    }
    if dt != "JournalEntryLineDetail" {
        out.subtotal += amount;
    }
    line.insert(key, Value::Object(detail));
    Ok(line)
}

fn item_ref<'a>(
    co: &'a Company,
    ctx: &Ctx,
    detail: &mut Map<String, Value>,
    element: &str,
) -> Result<&'a Entity, QboError> {
    match resolve(co, ctx, detail, "ItemRef", &[Kind::Item], element)? {
        Some((_, item)) => Ok(item),
        None => Err(QboError::required(element)),
    }
}

fn account_ref<'a>(
    co: &'a Company,
    ctx: &Ctx,
    detail: &mut Map<String, Value>,
    element: &str,
) -> Result<&'a Entity, QboError> {
    match resolve(co, ctx, detail, "AccountRef", &[Kind::Account], element)? {
        Some((_, a)) => Ok(a),
        None => Err(QboError::required(element)),
    }
}

/// `Amount` must equal `Qty × UnitPrice` (to the cent) when both are given.
fn check_qty_price(detail: &Map<String, Value>, amount: Decimal) -> Result<(), QboError> {
    let qty = detail.get("Qty").and_then(decimal_of);
    let price = detail.get("UnitPrice").and_then(decimal_of);
    if let (Some(q), Some(p)) = (qty, price)
        && cents(q * p) != cents(amount)
    {
        return Err(QboError::amount_mismatch(&amount.normalize().to_string()));
    }
    Ok(())
}

/// Per-line tax code: US `TAX`/`NON` (sales lines default to `NON`); non-US a TaxCode id, required.
fn tax_code(
    co: &Company,
    ctx: &Ctx,
    kind: Kind,
    detail: &mut Map<String, Value>,
    element: &str,
    amount: Decimal,
    out: &mut Lines,
) -> Result<(), QboError> {
    let given = crate::sandbox::quickbooks::json::ref_value(detail.get("TaxCodeRef"));
    let _ = kind;
    if co.is_us() {
        // Sales and expense lines both default to `NON` (recorded bills and purchases show it).
        let code = given.unwrap_or_else(|| "NON".to_string());
        if code != "TAX" && code != "NON" {
            return Err(QboError::invalid_ref(element, "TaxCodes", &code));
        }
        detail.insert("TaxCodeRef".into(), json!({"value": code}));
        if code == "TAX" {
            out.taxed.push((code, amount));
        }
        return Ok(());
    }
    if given.is_none() {
        return Err(missing_tax_code(""));
    }
    resolve(co, ctx, detail, "TaxCodeRef", &[Kind::TaxCode], element)?;
    out.taxed.push((given.unwrap_or_default(), amount));
    Ok(())
}

fn journal(
    co: &Company,
    ctx: &Ctx,
    detail: &mut Map<String, Value>,
    amount: Decimal,
    out: &mut Lines,
) -> Result<(), QboError> {
    let base = "Line.JournalEntryLineDetail";
    let Some(posting) = str_field(detail, "PostingType").map(str::to_string) else {
        return Err(QboError::required(&format!("{base}.PostingType")));
    };
    match posting.as_str() {
        "Debit" => {
            out.debits += amount;
            out.debit_lines += 1;
        }
        "Credit" => {
            out.credits += amount;
            out.credit_lines += 1;
        }
        other => return Err(QboError::bad_enum(&format!("{base}.PostingType"), other)),
    }
    let account = account_ref(co, ctx, detail, &format!("{base}.AccountRef"))?;
    let account_type = str_field(account, "AccountType")
        .unwrap_or_default()
        .to_string();
    let mut entity_type = None;
    if let Some(Value::Object(mut entity)) = detail.get("Entity").cloned() {
        let t = str_field(&entity, "Type").unwrap_or("Other").to_string();
        let kind = match t.as_str() {
            "Vendor" => Some(Kind::Vendor),
            "Customer" | "Job" => Some(Kind::Customer),
            "Employee" => Some(Kind::Employee),
            "Other" => None,
            other => return Err(QboError::bad_enum(&format!("{base}.Entity.Type"), other)),
        };
        if let Some(k) = kind {
            resolve(
                co,
                ctx,
                &mut entity,
                "EntityRef",
                &[k],
                &format!("{base}.Entity.EntityRef"),
            )?;
        }
        entity_type = Some(t);
        detail.insert("Entity".into(), Value::Object(entity));
    }
    match (account_type.as_str(), entity_type.as_deref()) {
        ("Accounts Payable", t) if t != Some("Vendor") => {
            return Err(QboError::business(
                "When you use Accounts Payable, you must choose a vendor in the Name field.",
                &format!("{base}.Entity"),
            ));
        }
        ("Accounts Receivable", t) if !matches!(t, Some("Customer" | "Job")) => {
            return Err(QboError::business(
                "When you use Accounts Receivable, you must choose a customer in the Name field.",
                &format!("{base}.Entity"),
            ));
        }
        _ => {}
    }
    if detail.contains_key("TaxCodeRef") {
        resolve(
            co,
            ctx,
            detail,
            "TaxCodeRef",
            &[Kind::TaxCode],
            &format!("{base}.TaxCodeRef"),
        )?;
    }
    Ok(())
}
