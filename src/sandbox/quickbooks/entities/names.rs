//! Name-list entities: Account, Item, Vendor/Customer/Employee, Class, Department.

use serde_json::{Value, json};

use super::account_types::{ACCOUNT_TYPES, CURRENCIES, type_of_subtype};
use super::{Ctx, Entity, check_len, check_name_chars, money_field, resolve};
use crate::sandbox::quickbooks::fault::QboError;
use crate::sandbox::quickbooks::json::{money, reference, str_field};
use crate::sandbox::quickbooks::store::{Company, Kind};

/// 6240 if another active entity of the namespace already uses `value` (case-insensitive). The
/// detail is QBO's current wording (": null" where older answers named the list).
fn unique(
    co: &Company,
    ns: &str,
    value: &str,
    self_id: Option<&str>,
    _what: &str,
) -> Result<(), QboError> {
    if let Some(id) = co.names.get(&(ns.to_string(), value.to_lowercase()))
        && Some(id.0.as_str()) != self_id
    {
        return Err(QboError::duplicate_name("null"));
    }
    Ok(())
}

/// Active/inactive handling; deactivating renames to "<Name> (deleted)" like QBO.
fn active_and_rename(co: &Company, kind: Kind, e: &mut Entity, old: Option<&Entity>, key: &str) {
    let active = e.get("Active").and_then(Value::as_bool).unwrap_or(true);
    e.insert("Active".into(), json!(active));
    let was_active = old
        .and_then(|o| o.get("Active"))
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if was_active
        && !active
        && let Some(name) = str_field(e, key).map(str::to_string)
    {
        let ns = Company::name_key(kind).map(|(ns, _)| ns).unwrap_or("");
        let mut candidate = format!("{name} (deleted)");
        let mut n = 1;
        while co
            .names
            .contains_key(&(ns.to_string(), candidate.to_lowercase()))
        {
            candidate = format!("{name} (deleted-{n})");
            n += 1;
        }
        e.insert(key.into(), json!(candidate));
    }
}

fn currency(co: &Company, e: &mut Entity) -> Result<(), QboError> {
    let code = match e.get("CurrencyRef").and_then(|r| r.get("value")) {
        Some(Value::String(s)) => s.clone(),
        _ => co.home_currency().to_string(),
    };
    let Some((_, name)) = CURRENCIES.iter().find(|(c, _)| *c == code) else {
        return Err(QboError::invalid_ref("CurrencyRef", "Currencies", &code));
    };
    let multi = co.pref_bool("CurrencyPrefs", "MultiCurrencyEnabled");
    if !multi && code != co.home_currency() {
        return Err(QboError::business(
            "Multicurrency is not turned on for this company, so you can only use the home currency.",
            "CurrencyRef",
        ));
    }
    e.insert("CurrencyRef".into(), reference(&code, Some(name)));
    Ok(())
}

fn self_id(old: Option<&Entity>) -> Option<&str> {
    old.and_then(|o| str_field(o, "Id"))
}

/// Account create/update.
pub fn account(
    co: &Company,
    mut e: Entity,
    old: Option<&Entity>,
    ctx: &Ctx,
) -> Result<Entity, QboError> {
    if str_field(&e, "Name").is_none_or(|s| s.trim().is_empty()) {
        return Err(QboError::required("Name"));
    }
    check_name_chars(&e, "Name")?;
    check_len(&e, "Name", 100, "Name")?;
    let account_type = str_field(&e, "AccountType").map(str::to_string);
    let sub_type = str_field(&e, "AccountSubType").map(str::to_string);
    let (t, class, default_sub) = match (&account_type, &sub_type) {
        (None, None) => return Err(QboError::required("AccountType")),
        (Some(t), _) => *ACCOUNT_TYPES
            .iter()
            .find(|(n, _, _)| n == t)
            .ok_or_else(|| QboError::bad_enum("AccountType", t))?,
        (None, Some(s)) => {
            let t = type_of_subtype(s).ok_or_else(|| QboError::bad_enum("AccountSubType", s))?;
            *ACCOUNT_TYPES
                .iter()
                .find(|(n, _, _)| *n == t)
                .expect("every subtype maps to a listed type")
        }
    };
    let sub = sub_type.unwrap_or_else(|| default_sub.to_string());
    if type_of_subtype(&sub) != Some(t) {
        return Err(QboError::bad_enum("AccountSubType", &sub));
    }
    if co.reject_payroll_wage && sub == "PayrollWageExpenses" {
        return Err(QboError::bad_enum("AccountSubType", &sub));
    }
    e.insert("AccountType".into(), json!(t));
    e.insert("AccountSubType".into(), json!(sub));
    e.insert("Classification".into(), json!(class));
    if let Some(num) = str_field(&e, "AcctNum").map(str::to_string) {
        if num.is_empty() {
            e.remove("AcctNum");
        } else {
            if !co.pref_bool("AccountingInfoPrefs", "UseAccountNumbers") {
                return Err(QboError::business(
                    "Account numbers are turned off for this company. Turn on \"Enable account numbers\" in Account and Settings, or leave AcctNum out.",
                    "AcctNum",
                ));
            }
            if num.contains(':') {
                return Err(QboError::invalid_string("AcctNum", "colon (:)"));
            }
            let max = if co.is_us() { 7 } else { 20 };
            check_len(&e, "AcctNum", max, "AcctNum")?;
            if let Some(id) = co.names.get(&("AcctNum".to_string(), num.to_lowercase()))
                && Some(id.0.as_str()) != self_id(old)
            {
                return Err(QboError::duplicate_name(&format!(
                    "Another account is already using this number. Please use another number. AcctNum={num}"
                )));
            }
        }
    }
    let parent = resolve(co, ctx, &mut e, "ParentRef", &[Kind::Account], "ParentRef")?;
    let name = str_field(&e, "Name").unwrap_or_default().to_string();
    active_and_rename(co, Kind::Account, &mut e, old, "Name");
    let name_now = str_field(&e, "Name").unwrap_or_default().to_string();
    let fqn = match parent {
        Some((_, p)) => format!(
            "{}:{name_now}",
            str_field(p, "FullyQualifiedName").unwrap_or_default()
        ),
        None => name_now.clone(),
    };
    e.insert("SubAccount".into(), json!(e.contains_key("ParentRef")));
    e.insert("FullyQualifiedName".into(), json!(fqn));
    if e.get("Active") == Some(&json!(true)) {
        unique(co, "Account", &name, self_id(old), "account")?;
    }
    currency(co, &mut e)?;
    let balance = old
        .and_then(|o| o.get("CurrentBalance"))
        .cloned()
        .unwrap_or_else(|| money(Default::default()));
    e.insert("CurrentBalance".into(), balance.clone());
    e.insert("CurrentBalanceWithSubAccounts".into(), balance);
    e.remove("OpeningBalance");
    Ok(e)
}

const ITEM_TYPES: &[&str] = &[
    "Assembly",
    "Category",
    "Fixed Asset",
    "Group",
    "Inventory",
    "NonInventory",
    "Other Charge",
    "Payment",
    "Service",
    "Subtotal",
    "Discount",
    "Tax",
    "Tax Group",
    "Bundle",
];

/// Item create/update.
pub fn item(
    co: &Company,
    mut e: Entity,
    old: Option<&Entity>,
    ctx: &Ctx,
) -> Result<Entity, QboError> {
    if str_field(&e, "Name").is_none_or(|s| s.trim().is_empty()) {
        return Err(QboError::required("Name"));
    }
    check_name_chars(&e, "Name")?;
    check_len(&e, "Name", 100, "Name")?;
    check_len(&e, "Sku", 100, "Sku")?;
    let Some(t) = str_field(&e, "Type").map(str::to_string) else {
        return Err(QboError::required("Type"));
    };
    if !ITEM_TYPES.contains(&t.as_str()) {
        return Err(QboError::bad_enum("Type", &t));
    }
    if !matches!(
        t.as_str(),
        "Service" | "NonInventory" | "Inventory" | "Category"
    ) {
        return Err(QboError::bad_enum("Type", &t));
    }
    for key in ["UnitPrice", "PurchaseCost", "QtyOnHand"] {
        money_field(&mut e, key, key)?;
    }
    let accounts = [Kind::Account];
    resolve(
        co,
        ctx,
        &mut e,
        "IncomeAccountRef",
        &accounts,
        "IncomeAccountRef",
    )?;
    resolve(
        co,
        ctx,
        &mut e,
        "ExpenseAccountRef",
        &accounts,
        "ExpenseAccountRef",
    )?;
    resolve(
        co,
        ctx,
        &mut e,
        "AssetAccountRef",
        &accounts,
        "AssetAccountRef",
    )?;
    resolve(
        co,
        ctx,
        &mut e,
        "PrefVendorRef",
        &[Kind::Vendor],
        "PrefVendorRef",
    )?;
    resolve(
        co,
        ctx,
        &mut e,
        "SalesTaxCodeRef",
        &[Kind::TaxCode],
        "SalesTaxCodeRef",
    )?;
    resolve(
        co,
        ctx,
        &mut e,
        "PurchaseTaxCodeRef",
        &[Kind::TaxCode],
        "PurchaseTaxCodeRef",
    )?;
    match t.as_str() {
        "Service" | "NonInventory"
            if !e.contains_key("IncomeAccountRef") && !e.contains_key("ExpenseAccountRef") =>
        {
            return Err(QboError::required("IncomeAccountRef"));
        }
        "Inventory" => {
            for key in [
                "IncomeAccountRef",
                "ExpenseAccountRef",
                "AssetAccountRef",
                "QtyOnHand",
                "InvStartDate",
            ] {
                if !e.contains_key(key) {
                    return Err(QboError::required(key));
                }
            }
            e.insert("TrackQtyOnHand".into(), json!(true));
        }
        _ => {}
    }
    let name = str_field(&e, "Name").unwrap_or_default().to_string();
    active_and_rename(co, Kind::Item, &mut e, old, "Name");
    if e.get("Active") == Some(&json!(true)) {
        unique(co, "Item", &name, self_id(old), "item")?;
    }
    let fqn = str_field(&e, "Name").unwrap_or_default().to_string();
    e.insert("FullyQualifiedName".into(), json!(fqn));
    e.entry("Taxable").or_insert(json!(false));
    e.entry("TrackQtyOnHand").or_insert(json!(false));
    // Recorded items carry both prices, 0 when never set.
    for key in ["UnitPrice", "PurchaseCost"] {
        e.entry(key).or_insert_with(|| money(Default::default()));
    }
    Ok(e)
}

/// Vendor / Customer / Employee create/update (shared DisplayName namespace).
pub fn person(
    co: &Company,
    kind: Kind,
    mut e: Entity,
    old: Option<&Entity>,
    ctx: &Ctx,
) -> Result<Entity, QboError> {
    if str_field(&e, "DisplayName").is_none_or(|s| s.trim().is_empty()) {
        let parts: Vec<&str> = ["Title", "GivenName", "MiddleName", "FamilyName", "Suffix"]
            .iter()
            .filter_map(|k| str_field(&e, k))
            .filter(|s| !s.trim().is_empty())
            .collect();
        if parts.is_empty() {
            return Err(QboError::required("DisplayName"));
        }
        let derived = parts.join(" ");
        e.insert("DisplayName".into(), json!(derived));
    }
    check_name_chars(&e, "DisplayName")?;
    check_len(&e, "DisplayName", 500, "DisplayName")?;
    for key in ["GivenName", "FamilyName", "MiddleName", "CompanyName"] {
        check_len(&e, key, 100, key)?;
    }
    let name = str_field(&e, "DisplayName").unwrap_or_default().to_string();
    active_and_rename(co, kind, &mut e, old, "DisplayName");
    if e.get("Active") == Some(&json!(true)) {
        unique(
            co,
            "person",
            &name,
            self_id(old),
            "customer, vendor or employee",
        )?;
    }
    let shown = str_field(&e, "DisplayName").unwrap_or_default().to_string();
    // Only customers carry FullyQualifiedName in recorded answers (vendors and employees not).
    if kind == Kind::Customer {
        e.insert("FullyQualifiedName".into(), json!(shown));
    } else {
        e.remove("FullyQualifiedName");
    }
    // PrintOnCheckName keeps the name before a deactivation's "(deleted)".
    e.entry("PrintOnCheckName").or_insert(json!(name));
    match kind {
        Kind::Vendor => {
            e.entry("Vendor1099").or_insert(json!(false));
            resolve(co, ctx, &mut e, "TermRef", &[Kind::Term], "TermRef")?;
            resolve(
                co,
                ctx,
                &mut e,
                "APAccountRef",
                &[Kind::Account],
                "APAccountRef",
            )?;
        }
        Kind::Customer => {
            resolve(
                co,
                ctx,
                &mut e,
                "SalesTermRef",
                &[Kind::Term],
                "SalesTermRef",
            )?;
            resolve(
                co,
                ctx,
                &mut e,
                "ARAccountRef",
                &[Kind::Account],
                "ARAccountRef",
            )?;
            e.entry("Taxable").or_insert(json!(co.is_us()));
            e.entry("Job").or_insert(json!(false));
            e.entry("BillWithParent").or_insert(json!(false));
            e.entry("PreferredDeliveryMethod").or_insert(json!("Print"));
        }
        _ => {
            e.entry("BillableTime").or_insert(json!(false));
        }
    }
    resolve(
        co,
        ctx,
        &mut e,
        "DefaultTaxCodeRef",
        &[Kind::TaxCode],
        "DefaultTaxCodeRef",
    )?;
    // QBO answers this reference without a name.
    if let Some(Value::Object(r)) = e.get_mut("DefaultTaxCodeRef") {
        r.remove("name");
    }
    if kind == Kind::Customer {
        // A taxable US customer gets the company's tax group code (as recorded creates show);
        // an update keeps it.
        if co.is_us() && !e.contains_key("DefaultTaxCodeRef") {
            let kept = old.and_then(|o| o.get("DefaultTaxCodeRef")).cloned();
            let group = co
                .all(Kind::TaxCode)
                .find(|t| t.get("TaxGroup") == Some(&json!(true)))
                .and_then(|t| str_field(t, "Id"))
                .map(|id| json!({"value": id}));
            if let Some(code) = kept.or(if e.get("Taxable") == Some(&json!(true)) {
                group
            } else {
                None
            }) {
                e.insert("DefaultTaxCodeRef".into(), code);
            }
        }
    }
    if kind != Kind::Employee {
        currency(co, &mut e)?;
        let balance = old
            .and_then(|o| o.get("Balance"))
            .cloned()
            .unwrap_or_else(|| money(Default::default()));
        e.insert("Balance".into(), balance.clone());
        if kind == Kind::Customer {
            e.insert("BalanceWithJobs".into(), balance);
        }
    }
    Ok(e)
}

/// Class / Department create/update.
pub fn class_like(
    co: &Company,
    kind: Kind,
    mut e: Entity,
    old: Option<&Entity>,
    ctx: &Ctx,
) -> Result<Entity, QboError> {
    if str_field(&e, "Name").is_none_or(|s| s.trim().is_empty()) {
        return Err(QboError::required("Name"));
    }
    check_name_chars(&e, "Name")?;
    check_len(&e, "Name", 100, "Name")?;
    let parent = resolve(co, ctx, &mut e, "ParentRef", &[kind], "ParentRef")?
        .and_then(|(_, p)| str_field(p, "FullyQualifiedName").map(str::to_string));
    let sub_key = if kind == Kind::Class {
        "SubClass"
    } else {
        "SubDepartment"
    };
    e.insert(sub_key.into(), json!(parent.is_some()));
    active_and_rename(co, kind, &mut e, old, "Name");
    let name = str_field(&e, "Name").unwrap_or_default().to_string();
    let fqn = match parent {
        Some(p) => format!("{p}:{name}"),
        None => name,
    };
    if e.get("Active") == Some(&json!(true)) {
        let ns = kind.name();
        unique(co, ns, &fqn, self_id(old), &ns.to_lowercase())?;
    }
    e.insert("FullyQualifiedName".into(), json!(fqn));
    Ok(e)
}
