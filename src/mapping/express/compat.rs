//! When an existing account or item can serve a row of the table ("compatible"), and what the
//! customer is told about the differences that are tolerated.

use super::ExpressObject;
use super::decide::Existing;
use super::plan::{AccountSpec, types};
use crate::mapping::labels;
use crate::providers::quickbooks::QboError;
use crate::providers::quickbooks::models::{Account, Item};

/// An account can serve a row when it has the row's type, in the home currency.
pub(super) fn account_compatible(
    a: &Account,
    spec: &AccountSpec,
    home_currency: Option<&str>,
    numbers_on: bool,
) -> Result<Vec<String>, String> {
    let t = a.account_type.as_deref().unwrap_or_default();
    if t != spec.account_type {
        return Err(format!("it is of type {t}, not {}", spec.account_type));
    }
    let currency = a.currency_ref.as_ref().map(|r| r.value.as_str());
    if let (Some(cur), Some(home)) = (currency, home_currency)
        && cur != home
    {
        return Err(format!("it is kept in {cur}, not the home currency {home}"));
    }
    let mut notes = Vec::new();
    let sub = a.account_sub_type.as_deref().unwrap_or_default();
    if sub != spec.sub_type {
        if Some(sub) == spec.fallback_sub_type {
            notes.push(format!(
                "Its detail type is {} rather than {}.",
                labels::detail_type(sub),
                labels::detail_type(spec.sub_type)
            ));
        } else {
            notes.push(format!(
                "Its detail type is {}, not {}; it was left as is.",
                labels::detail_type(sub),
                labels::detail_type(spec.sub_type)
            ));
        }
    }
    match a.acct_num.as_deref().filter(|n| !n.is_empty()) {
        Some(n) if numbers_on && !n.eq_ignore_ascii_case(&spec.number) => notes.push(format!(
            "Its account number is {n}, not {}; it was left as is.",
            spec.number
        )),
        None if numbers_on => notes.push(format!(
            "It has no account number (Express uses {}); it was left as is.",
            spec.number
        )),
        _ => {}
    }
    Ok(notes)
}

/// An item can serve a row when it can be sold (Non-inventory or Service with an income
/// account) and has no SKU or the row's SKU.
pub(super) fn item_compatible(
    i: &Item,
    sku: &str,
    account: &ExpressObject,
) -> Result<Vec<String>, String> {
    let t = i.item_type.as_deref().unwrap_or_default();
    if t != types::NON_INVENTORY && t != "Service" {
        return Err(format!(
            "it is a {} item, not Non-inventory",
            labels::item_type(t)
        ));
    }
    let own_sku = i.sku.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = own_sku
        && !s.eq_ignore_ascii_case(sku)
    {
        return Err(format!("it has the SKU {s}, not {sku}"));
    }
    let Some(income) = &i.income_account_ref else {
        return Err("it has no income account, so it cannot be sold".to_owned());
    };
    let mut notes = Vec::new();
    if t == "Service" {
        notes.push("It is a Service item rather than Non-inventory; it was left as is.".to_owned());
    }
    if own_sku.is_none() {
        notes.push(format!(
            "It has no SKU (Express uses {sku}); it was left as is."
        ));
    }
    if income.value != account.qbo_id {
        notes.push(format!(
            "It sells into the account \"{}\", not \"{}\"; it was left as is.",
            income.name.as_deref().unwrap_or(&income.value),
            account.name
        ));
    }
    Ok(notes)
}

/// Whether QBO refused the account's detail type (2170 Invalid Enumeration on
/// `AccountSubType`, or any refusal naming it).
pub(super) fn refuses_sub_type(e: &QboError) -> bool {
    let QboError::Rejected { fault, .. } = e else {
        return false;
    };
    fault.errors.iter().any(|err| {
        err.element.as_deref() == Some("AccountSubType")
            || err.detail.contains(types::PAYROLL_WAGE_EXPENSES)
            || err.message.contains("AccountSubType")
    })
}

impl Existing for Account {
    fn id(&self) -> &str {
        self.id.as_deref().unwrap_or_default()
    }
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }
    fn key(&self) -> Option<&str> {
        self.acct_num.as_deref()
    }
    fn is_active(&self) -> bool {
        self.active.unwrap_or(true)
    }
}

impl Existing for Item {
    fn id(&self) -> &str {
        self.id.as_deref().unwrap_or_default()
    }
    fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }
    fn key(&self) -> Option<&str> {
        self.sku.as_deref()
    }
    fn is_active(&self) -> bool {
        self.active.unwrap_or(true)
    }
}
