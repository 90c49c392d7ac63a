//! The Express table (PRODUCT.md §3) turned into a list of objects to ensure: exact names,
//! account types, detail types, numbers and SKUs, with the tax classes numbered in a stable order.

use std::collections::HashSet;

use super::{ExpressError, Purpose, TaxClassInput};

/// QBO's limit on account and item names.
pub(super) const MAX_NAME: usize = 100;
/// Tax classes are numbered TT-8101 … TT-8199.
pub(super) const MAX_TAX_CLASSES: usize = 99;

/// The account types and detail types Express uses, exactly as QBO spells them.
pub(super) mod types {
    /// `AccountType` of the wages account.
    pub const EXPENSE: &str = "Expense";
    /// `AccountType` of the wages liability account.
    pub const CREDIT_CARD: &str = "Credit Card";
    /// `AccountType` of the service income account.
    pub const INCOME: &str = "Income";
    /// `AccountType` of the tax accounts.
    pub const OTHER_CURRENT_LIABILITY: &str = "Other Current Liability";
    /// Preferred detail type of the wages account.
    pub const PAYROLL_WAGE_EXPENSES: &str = "PayrollWageExpenses";
    /// Fallback detail type of the wages account, for companies that refuse the preferred one.
    pub const PAYROLL_EXPENSES: &str = "PayrollExpenses";
    /// Detail type of the wages liability account.
    pub const CREDIT_CARD_SUB: &str = "CreditCard";
    /// Detail type of the service income account.
    pub const SERVICE_FEE_INCOME: &str = "ServiceFeeIncome";
    /// Detail type of the tax accounts.
    pub const OTHER_CURRENT_LIABILITIES: &str = "OtherCurrentLiabilities";
    /// `Type` of every Express item.
    pub const NON_INVENTORY: &str = "NonInventory";
}

/// One account of the table.
#[derive(Clone, Debug)]
pub(super) struct AccountSpec {
    pub name: String,
    pub account_type: &'static str,
    /// The detail type to create with.
    pub sub_type: &'static str,
    /// A detail type to fall back to when QBO refuses `sub_type`.
    pub fallback_sub_type: Option<&'static str>,
    pub number: String,
}

/// One row of the table: an account, and for billing rows a Non-inventory item of the same
/// name and number (as SKU) selling into it.
#[derive(Clone, Debug)]
pub(super) struct Row {
    pub purpose: Purpose,
    pub account: AccountSpec,
    pub with_item: bool,
}

/// The fixed names, used to keep a tax class from taking one of them.
const FIXED_NAMES: [&str; 4] = [
    "TrackTik Direct Wages",
    "TrackTik Direct Wages Liability",
    "TrackTik Service Income",
    "TrackTik Automated Calculated Tax",
];

/// The rows, in the order they are ensured (each account before its item).
pub(super) fn rows(tax_classes: &[TaxClassInput]) -> Result<Vec<Row>, ExpressError> {
    let mut sorted: Vec<&TaxClassInput> = tax_classes.iter().collect();
    sorted.sort_by_key(|t| t.id);
    if let Some(pair) = sorted.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(ExpressError::DuplicateTaxClass { id: pair[0].id });
    }
    if sorted.len() > MAX_TAX_CLASSES {
        return Err(ExpressError::TooManyTaxClasses {
            count: sorted.len(),
        });
    }
    let account = |name: &str, t, sub, number: &str| AccountSpec {
        name: name.to_owned(),
        account_type: t,
        sub_type: sub,
        fallback_sub_type: None,
        number: number.to_owned(),
    };
    let mut rows = vec![
        Row {
            purpose: Purpose::Wages,
            account: AccountSpec {
                fallback_sub_type: Some(types::PAYROLL_EXPENSES),
                ..account(
                    FIXED_NAMES[0],
                    types::EXPENSE,
                    types::PAYROLL_WAGE_EXPENSES,
                    "TT-3000",
                )
            },
            with_item: false,
        },
        Row {
            purpose: Purpose::WagesLiability,
            account: account(
                FIXED_NAMES[1],
                types::CREDIT_CARD,
                types::CREDIT_CARD_SUB,
                "TT-9000",
            ),
            with_item: false,
        },
        Row {
            purpose: Purpose::ServiceIncome,
            account: account(
                FIXED_NAMES[2],
                types::INCOME,
                types::SERVICE_FEE_INCOME,
                "TT-2000",
            ),
            with_item: true,
        },
    ];
    let mut taken: HashSet<String> = FIXED_NAMES.iter().map(|n| n.to_lowercase()).collect();
    for (i, tax_class) in sorted.iter().enumerate() {
        let number = format!("TT-{}", 8101 + i);
        let mut name = tax_class_name(&tax_class.name, tax_class.id);
        if taken.contains(&name.to_lowercase()) {
            // Two TrackTik tax classes with the same name (or one named like a fixed row) must
            // not share one QBO account: the later one (by id) carries its number.
            name = with_suffix(&name, &format!(" ({number})"));
        }
        taken.insert(name.to_lowercase());
        rows.push(Row {
            purpose: Purpose::TaxClass { id: tax_class.id },
            account: account(
                &name,
                types::OTHER_CURRENT_LIABILITY,
                types::OTHER_CURRENT_LIABILITIES,
                &number,
            ),
            with_item: true,
        });
    }
    rows.push(Row {
        purpose: Purpose::AutomatedTax,
        account: account(
            FIXED_NAMES[3],
            types::OTHER_CURRENT_LIABILITY,
            types::OTHER_CURRENT_LIABILITIES,
            "TT-8000",
        ),
        with_item: true,
    });
    Ok(rows)
}

/// `TrackTik <name>`, made acceptable to QBO: no `:` (it separates sub-accounts) or `"`,
/// whitespace collapsed, at most 100 characters. An empty name becomes `Tax class <id>`.
pub(super) fn tax_class_name(name: &str, id: i64) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            ':' => '-',
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    let base = if cleaned.is_empty() {
        format!("Tax class {id}")
    } else {
        cleaned
    };
    truncate(&format!("TrackTik {base}"), MAX_NAME)
}

/// `name` + `suffix`, shortening `name` so the whole stays within QBO's 100 characters.
pub(super) fn with_suffix(name: &str, suffix: &str) -> String {
    let room = MAX_NAME.saturating_sub(suffix.chars().count());
    format!("{}{suffix}", truncate(name, room).trim_end())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc(id: i64, name: &str) -> TaxClassInput {
        TaxClassInput {
            id,
            name: name.into(),
        }
    }

    #[test]
    fn tax_classes_are_numbered_by_tracktik_id_whatever_the_input_order() {
        let a = rows(&[tc(30, "PST"), tc(10, "GST"), tc(20, "HST")]).unwrap();
        let b = rows(&[tc(10, "GST"), tc(20, "HST"), tc(30, "PST")]).unwrap();
        let numbers = |rows: &[Row]| -> Vec<(Purpose, String, String)> {
            rows.iter()
                .map(|r| (r.purpose, r.account.name.clone(), r.account.number.clone()))
                .collect()
        };
        assert_eq!(numbers(&a), numbers(&b));
        let gst = a
            .iter()
            .find(|r| r.purpose == Purpose::TaxClass { id: 10 })
            .unwrap();
        assert_eq!(gst.account.number, "TT-8101");
        assert_eq!(gst.account.name, "TrackTik GST");
    }

    #[test]
    fn names_lose_colons_and_quotes_and_fit_in_a_hundred_characters() {
        assert_eq!(
            tax_class_name("  County: \"A\"  tax ", 1),
            "TrackTik County- 'A' tax"
        );
        assert_eq!(tax_class_name("   ", 7), "TrackTik Tax class 7");
        assert_eq!(tax_class_name(&"x".repeat(300), 1).chars().count(), 100);
        let long = "y".repeat(100);
        let s = with_suffix(&long, " (Ledgerbridge)");
        assert_eq!(s.chars().count(), 100);
        assert!(s.ends_with(" (Ledgerbridge)"));
    }

    #[test]
    fn a_repeated_tax_class_name_gets_its_number_appended() {
        let r = rows(&[tc(2, "gst"), tc(1, "GST"), tc(3, "Service Income")]).unwrap();
        let names: Vec<&str> = r.iter().map(|r| r.account.name.as_str()).collect();
        assert!(names.contains(&"TrackTik GST"));
        assert!(names.contains(&"TrackTik gst (TT-8102)"));
        assert!(names.contains(&"TrackTik Service Income (TT-8103)"));
    }

    #[test]
    fn duplicate_ids_and_more_than_ninety_nine_classes_are_refused() {
        assert!(matches!(
            rows(&[tc(1, "A"), tc(1, "B")]),
            Err(ExpressError::DuplicateTaxClass { id: 1 })
        ));
        let many: Vec<_> = (0..100).map(|i| tc(i, "T")).collect();
        assert!(matches!(
            rows(&many),
            Err(ExpressError::TooManyTaxClasses { count: 100 })
        ));
        assert!(rows(&many[..99]).is_ok());
    }
}
