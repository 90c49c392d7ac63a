//! The payroll step: how pay runs are posted, line grouping, accounts, vendor.

use super::{Errors, FieldView, Section, Values, get, pick};
use super::{dim_key, dimension_fields, parse_dim, qbo_choices, ref_id};
use crate::integrations::CompanyPrefs;
use crate::integrations::settings::{LineGrouping, PayrollPosting, Settings};
use crate::wizard::catalog::{QboOption, Source};

/// What the payroll step offers.
pub struct PayrollLists {
    /// QBO accounts.
    pub accounts: Vec<QboOption>,
    /// QBO vendors.
    pub vendors: Vec<QboOption>,
    /// TrackTik pay codes.
    pub pay_codes: Vec<Source>,
}

const EXPENSE_TYPES: [&str; 3] = ["Expense", "Other Expense", "Cost of Goods Sold"];
const LIABILITY_TYPES: [&str; 4] = [
    "Credit Card",
    "Other Current Liability",
    "Bank",
    "Long Term Liability",
];

fn of_types(accounts: &[QboOption], types: &[&str]) -> Vec<QboOption> {
    accounts
        .iter()
        .filter(|a| types.contains(&a.kind.as_str()))
        .cloned()
        .collect()
}

fn posting_key(p: PayrollPosting) -> &'static str {
    match p {
        PayrollPosting::Bill => "bill",
        PayrollPosting::CreditCardExpense => "credit_card_expense",
        PayrollPosting::JournalEntry => "journal_entry",
    }
}

fn grouping_key(g: LineGrouping) -> &'static str {
    match g {
        LineGrouping::PerPayRun => "per_pay_run",
        LineGrouping::PerPayCode => "per_pay_code",
        LineGrouping::PerEmployee => "per_employee",
        LineGrouping::PerEmployeePayCode => "per_employee_pay_code",
        LineGrouping::PerSite => "per_site",
    }
}

/// The payroll values of saved answers.
pub fn payroll_values(s: &Settings) -> Values {
    let p = &s.payroll;
    let mut v = Values::new();
    v.insert("posting".into(), posting_key(p.posting).into());
    v.insert("grouping".into(), grouping_key(p.grouping).into());
    v.insert("wages_account".into(), ref_id(&p.wages_account));
    v.insert("liability_account".into(), ref_id(&p.liability_account));
    v.insert("vendor".into(), ref_id(&p.vendor));
    for (code, r) in &p.pay_code_accounts {
        v.insert(format!("paycode_{code}"), r.id.clone());
    }
    v.insert("class_from".into(), dim_key(p.class_from));
    v.insert("location_from".into(), dim_key(p.location_from));
    v
}

/// The payroll step's fields.
pub fn payroll_sections(
    values: &Values,
    errors: &Errors,
    lists: &PayrollLists,
    prefs: &CompanyPrefs,
    express: bool,
) -> Vec<Section> {
    let ro = |f: FieldView| if express { f.read_only() } else { f };
    let expense = of_types(&lists.accounts, &EXPENSE_TYPES);
    let liability = of_types(&lists.accounts, &LIABILITY_TYPES);
    let mut how = vec![
        ro(FieldView::new(
            "posting",
            "How each pay run is posted",
            "radio",
            values,
            errors,
        )
        .choices(vec![
            (
                "credit_card_expense".into(),
                "Credit-card expense against the wages liability account".into(),
                "The Express default: one expense per pay run, paid from the liability account."
                    .into(),
            ),
            (
                "bill".into(),
                "Bill to a payroll vendor".into(),
                "One bill per pay run in accounts payable, to the vendor you choose.".into(),
            ),
            (
                "journal_entry".into(),
                "Journal entry".into(),
                "Debits the expense accounts and credits the liability account.".into(),
            ),
        ])),
        ro(FieldView::new(
            "grouping",
            "Lines of each transaction",
            "radio",
            values,
            errors,
        )
        .choices(vec![
            (
                "per_pay_run".into(),
                "One line per pay run".into(),
                String::new(),
            ),
            (
                "per_pay_code".into(),
                "One line per pay code (REG, OT, HOL…)".into(),
                String::new(),
            ),
            (
                "per_employee".into(),
                "One line per employee".into(),
                String::new(),
            ),
            (
                "per_employee_pay_code".into(),
                "One line per employee and pay code".into(),
                String::new(),
            ),
            ("per_site".into(), "One line per site".into(), String::new()),
        ])),
    ];
    how.extend(dimension_fields(prefs, values, errors).into_iter().map(ro));
    let mut accounts = vec![
        ro(FieldView::new("wages_account", "Wages expense account", "select", values, errors)
            .help("Used for every pay code below left on “Use the wages account”.")
            .choices(qbo_choices(&expense, "Choose an account", get(values, "wages_account")))),
        ro(FieldView::new("liability_account", "Wages liability account", "select", values, errors)
            .help("The credit side, for credit-card expenses (a Credit Card account) and journal entries.")
            .choices(qbo_choices(&liability, "Choose an account", get(values, "liability_account")))),
        ro(FieldView::new("vendor", "Payroll vendor", "select", values, errors)
            .help("For bills only.")
            .choices(qbo_choices(&lists.vendors, "Choose a vendor", get(values, "vendor")))),
    ];
    for code in &lists.pay_codes {
        let name = format!("paycode_{}", code.key);
        let current = get(values, &name);
        accounts.push(ro(FieldView::new(
            &name,
            &format!("Pay code {}", code.name),
            "select",
            values,
            errors,
        )
        .choices(qbo_choices(&expense, "Use the wages account", current))));
    }
    vec![
        Section {
            title: "How pay runs are posted".into(),
            intro: String::new(),
            fields: how,
        },
        Section {
            title: "Accounts".into(),
            intro: "Each TrackTik pay code goes to an expense account.".into(),
            fields: accounts,
        },
    ]
}

/// Validates the payroll form into `settings`.
pub fn parse_payroll(
    values: &Values,
    lists: &PayrollLists,
    settings: &mut Settings,
) -> Result<(), Errors> {
    let mut errors = Errors::new();
    let expense = of_types(&lists.accounts, &EXPENSE_TYPES);
    let liability = of_types(&lists.accounts, &LIABILITY_TYPES);
    let p = &mut settings.payroll;
    p.posting = match get(values, "posting") {
        "bill" => PayrollPosting::Bill,
        "journal_entry" => PayrollPosting::JournalEntry,
        "credit_card_expense" => PayrollPosting::CreditCardExpense,
        _ => {
            errors.insert(
                "posting".into(),
                "Choose how each pay run is posted.".into(),
            );
            PayrollPosting::CreditCardExpense
        }
    };
    p.grouping = match get(values, "grouping") {
        "per_pay_run" => LineGrouping::PerPayRun,
        "per_pay_code" => LineGrouping::PerPayCode,
        "per_employee" => LineGrouping::PerEmployee,
        "per_employee_pay_code" => LineGrouping::PerEmployeePayCode,
        "per_site" => LineGrouping::PerSite,
        _ => {
            errors.insert(
                "grouping".into(),
                "Choose how the lines of each pay run are grouped.".into(),
            );
            LineGrouping::PerPayCode
        }
    };
    let take = |name: &str, options: &[QboOption], what: &str, errors: &mut Errors| {
        pick(options, get(values, name), what).unwrap_or_else(|e| {
            errors.insert(name.to_owned(), e);
            None
        })
    };
    p.wages_account = take("wages_account", &expense, "expense account", &mut errors);
    p.liability_account = take(
        "liability_account",
        &liability,
        "liability account",
        &mut errors,
    );
    p.vendor = take("vendor", &lists.vendors, "vendor", &mut errors);
    p.pay_code_accounts.clear();
    for code in &lists.pay_codes {
        let name = format!("paycode_{}", code.key);
        if let Some(r) = take(&name, &expense, "expense account", &mut errors) {
            p.pay_code_accounts.insert(code.key.clone(), r);
        }
    }
    p.class_from = parse_dim(get(values, "class_from"));
    p.location_from = parse_dim(get(values, "location_from"));
    if p.enabled {
        if p.wages_account.is_none() && !errors.contains_key("wages_account") {
            errors.insert(
                "wages_account".into(),
                "Choose the expense account for wages.".into(),
            );
        }
        match p.posting {
            PayrollPosting::Bill if p.vendor.is_none() && !errors.contains_key("vendor") => {
                errors.insert(
                    "vendor".into(),
                    "Choose the payroll vendor the bills are made out to.".into(),
                );
            }
            PayrollPosting::CreditCardExpense | PayrollPosting::JournalEntry
                if p.liability_account.is_none() && !errors.contains_key("liability_account") =>
            {
                errors.insert(
                    "liability_account".into(),
                    "Choose the wages liability account.".into(),
                );
            }
            _ => {}
        }
        if p.posting == PayrollPosting::CreditCardExpense {
            if let Some(r) = &p.liability_account {
                let kind = lists
                    .accounts
                    .iter()
                    .find(|a| a.id == r.id)
                    .map(|a| a.kind.as_str());
                if !matches!(kind, Some("Credit Card" | "Bank")) {
                    errors.insert("liability_account".into(), format!("A credit-card expense is paid from a Credit Card or Bank account; “{}” is not one. Choose another account, or post journal entries.", r.name));
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
