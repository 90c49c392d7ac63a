//! QuickBooks' API names in the words people see in QuickBooks (and in the seed's account
//! table): `PayrollWageExpenses` → "Payroll Wage Expenses", `NonInventory` → "Non-inventory".
//! Pages and the change history show these, never the API names.

/// An account's detail type (`AccountSubType`) as QuickBooks shows it.
pub fn detail_type(api: &str) -> String {
    match api {
        "PayrollWageExpenses" => "Payroll Wage Expenses".into(),
        "PayrollExpenses" => "Payroll Expenses".into(),
        "CreditCard" => "Credit Card".into(),
        "ServiceFeeIncome" => "Service/Fee Income".into(),
        "OtherCurrentLiabilities" => "Other Current Liability".into(),
        "AccountsPayable" => "Accounts Payable (A/P)".into(),
        "AccountsReceivable" => "Accounts Receivable (A/R)".into(),
        "PayrollTaxPayable" => "Payroll Tax Payable".into(),
        "UndepositedFunds" => "Undeposited Funds".into(),
        other => split_words(other),
    }
}

/// An item's type as QuickBooks shows it.
pub fn item_type(api: &str) -> String {
    match api {
        "NonInventory" => "Non-inventory".into(),
        "Inventory" => "Inventory".into(),
        "Service" => "Service".into(),
        "Group" => "Bundle".into(),
        other => split_words(other),
    }
}

/// An account type (`AccountType` already reads as words: "Credit Card") or an item type.
pub fn object_type(api: &str) -> String {
    if api.contains(' ') {
        api.to_owned()
    } else {
        item_type(api)
    }
}

/// `SomeApiName` → "Some Api Name": the fallback for names not listed above.
fn split_words(api: &str) -> String {
    let mut out = String::with_capacity(api.len() + 4);
    let mut prev_lower = false;
    for c in api.chars() {
        if c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_read_as_quickbooks_shows_them() {
        assert_eq!(detail_type("PayrollWageExpenses"), "Payroll Wage Expenses");
        assert_eq!(detail_type("ServiceFeeIncome"), "Service/Fee Income");
        assert_eq!(
            detail_type("OtherCurrentLiabilities"),
            "Other Current Liability"
        );
        assert_eq!(detail_type("SomethingNew"), "Something New");
        assert_eq!(object_type("NonInventory"), "Non-inventory");
        assert_eq!(object_type("Credit Card"), "Credit Card");
        assert_eq!(object_type("Expense"), "Expense");
    }
}
