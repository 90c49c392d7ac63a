//! The payroll step: how pay runs are posted, line grouping, accounts, vendor. Every choice
//! is checked against what QuickBooks accepts for that posting: a credit-card expense is
//! charged to a Credit Card account, a Bill is owed through Accounts Payable to a vendor, a
//! journal entry credits a liability account, and wages go to expense accounts.

use std::collections::BTreeSet;

use super::{Errors, FieldView, Section, Values, get, pick};
use super::{dim_key, dimension_fields, parse_dim, qbo_choices, ref_id};
use crate::integrations::CompanyPrefs;
use crate::integrations::settings::{LineGrouping, PayrollPosting, QboRef, Settings};
use crate::wizard::catalog::{QboOption, Source};

/// What the payroll step offers.
pub struct PayrollLists {
    /// QBO accounts.
    pub accounts: Vec<QboOption>,
    /// QBO vendors.
    pub vendors: Vec<QboOption>,
    /// TrackTik pay codes.
    pub pay_codes: Vec<Source>,
    /// The pay codes TrackTik types as amounts, not hours.
    pub amount_codes: BTreeSet<String>,
}

const EXPENSE_TYPES: [&str; 3] = ["Expense", "Other Expense", "Cost of Goods Sold"];
const CREDIT_CARD: &str = "Credit Card";
const AP: &str = "Accounts Payable";
const JOURNAL_TYPES: [&str; 4] = [
    CREDIT_CARD,
    "Other Current Liability",
    "Long Term Liability",
    AP,
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
    v.insert("ap_account".into(), ref_id(&p.ap_account));
    v.insert("vendor".into(), ref_id(&p.vendor));
    v.insert("amounts_account".into(), ref_id(&p.amounts_account));
    for (code, r) in &p.pay_code_accounts {
        v.insert(format!("paycode_{code}"), r.id.clone());
    }
    v.insert("class_from".into(), dim_key(p.class_from));
    v.insert("location_from".into(), dim_key(p.location_from));
    v
}

fn posting_choices() -> Vec<(String, String, String)> {
    vec![
        (
            "credit_card_expense".into(),
            "Bill-style expense on the wages liability account (credit card)".into(),
            "The Express default: one expense per pay run, charged to a Credit Card account such as TrackTik Direct Wages Liability (TT-9000).".into(),
        ),
        (
            "bill".into(),
            "Bill to a payroll vendor".into(),
            "One QuickBooks Bill per pay run, owed to the vendor you choose through an Accounts Payable account.".into(),
        ),
        (
            "journal_entry".into(),
            "Journal entry".into(),
            "Debits the expense accounts and credits a liability account.".into(),
        ),
    ]
}

fn grouping_choices() -> Vec<(String, String, String)> {
    [
        ("per_pay_run", "One line per pay run"),
        ("per_pay_code", "One line per pay code (REG, OT, HOL…)"),
        ("per_employee", "One line per employee"),
        (
            "per_employee_pay_code",
            "One line per employee and pay code",
        ),
        ("per_site", "One line per site"),
    ]
    .into_iter()
    .map(|(v, l)| (v.to_owned(), l.to_owned(), String::new()))
    .collect()
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
    let liability = of_types(&lists.accounts, &JOURNAL_TYPES);
    let ap = of_types(&lists.accounts, &[AP]);
    let mut how = vec![
        ro(FieldView::new(
            "posting",
            "How each pay run is posted",
            "radio",
            values,
            errors,
        )
        .choices(posting_choices())),
        ro(FieldView::new(
            "grouping",
            "Lines of each transaction",
            "radio",
            values,
            errors,
        )
        .choices(grouping_choices())),
    ];
    how.extend(dimension_fields(prefs, values, errors).into_iter().map(ro));
    // Shown read-only (Express), only the accounts the chosen posting uses.
    let bill = get(values, "posting") == "bill";
    let used = |name: &str| {
        !express
            || match name {
                "liability_account" => !bill,
                "ap_account" | "vendor" => bill,
                _ => true,
            }
    };
    let amount_names: Vec<String> = lists
        .pay_codes
        .iter()
        .filter(|c| lists.amount_codes.contains(&c.key))
        .map(|c| c.name.clone())
        .collect();
    let mut accounts = vec![
        ro(FieldView::new("wages_account", "Wages expense account", "select", values, errors)
            .help("Used for every pay code below left on “Use the wages account”.")
            .choices(qbo_choices(&expense, "Choose an account", get(values, "wages_account")))),
        ro(FieldView::new("liability_account", "Wages liability account", "select", values, errors)
            .help("Bill-style expenses are charged to a Credit Card account; journal entries credit a liability account. Not used by bills.")
            .choices(qbo_choices(&liability, "Choose an account", get(values, "liability_account")))),
        ro(FieldView::new("ap_account", "Accounts Payable account", "select", values, errors)
            .help("For bills only: the Accounts Payable account each bill is owed through. With a single one, QuickBooks uses it.")
            .choices(qbo_choices(&ap, "The company's only Accounts Payable account", get(values, "ap_account")))),
        ro(FieldView::new("vendor", "Payroll vendor", "select", values, errors)
            .help("For bills: who each bill is owed to (also named on a journal entry's Accounts Payable line).")
            .choices(qbo_choices(&lists.vendors, "Choose a vendor", get(values, "vendor")))),
        ro(FieldView::new("amounts_account", "Account for reimbursements and other amounts", "select", values, errors)
            .help(amounts_help(&amount_names))
            .choices(qbo_choices(&expense, "Use the wages account, on lines of their own", get(values, "amounts_account")))),
    ];
    accounts.retain(|f| used(&f.name));
    for code in &lists.pay_codes {
        let name = format!("paycode_{}", code.key);
        let current = get(values, &name);
        let amount = lists.amount_codes.contains(&code.key);
        let (label, first) = if amount {
            (
                format!("Pay code {} (an amount, not hours)", code.name),
                "Use the account for reimbursements and other amounts",
            )
        } else {
            (format!("Pay code {}", code.name), "Use the wages account")
        };
        accounts.push(ro(FieldView::new(&name, &label, "select", values, errors)
            .choices(qbo_choices(&expense, first, current))));
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

fn amounts_help(names: &[String]) -> String {
    match names {
        [] => "Pay codes that are amounts, not hours (expense reimbursements…), get lines of their own on this account, never counted as hours.".to_owned(),
        [one] => format!("{one} is an amount, not hours: it gets lines of its own on this account, never counted as hours."),
        many => format!(
            "{} are amounts, not hours: they get lines of their own on this account, never counted as hours.",
            crate::wizard::regions::join(many)
        ),
    }
}

fn kind_of<'a>(lists: &'a PayrollLists, r: &QboRef) -> &'a str {
    lists
        .accounts
        .iter()
        .find(|a| a.id == r.id)
        .map_or("", |a| a.kind.as_str())
}

fn a_or_an(kind: &str) -> &'static str {
    if kind.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

/// Checks the accounts the chosen posting needs, as QuickBooks will.
fn check_posting(
    p: &mut crate::integrations::settings::PayrollSettings,
    lists: &PayrollLists,
    errors: &mut Errors,
) {
    let missing = |errors: &Errors, f: &str| !errors.contains_key(f);
    match p.posting {
        PayrollPosting::CreditCardExpense => match &p.liability_account {
            None if missing(errors, "liability_account") => {
                errors.insert("liability_account".into(), "Choose the Credit Card account each pay run is charged to (Express uses TrackTik Direct Wages Liability, TT-9000).".into());
            }
            Some(r) if kind_of(lists, r) != CREDIT_CARD => {
                let kind = kind_of(lists, r);
                errors.insert("liability_account".into(), format!(
                    "A bill-style expense is charged to a Credit Card account, and “{}” is {} {kind} account: QuickBooks would refuse every pay run. Choose a Credit Card account, or post bills or journal entries.",
                    r.name, a_or_an(kind)));
            }
            _ => {}
        },
        PayrollPosting::JournalEntry => match &p.liability_account {
            None if missing(errors, "liability_account") => {
                errors.insert(
                    "liability_account".into(),
                    "Choose the liability account each journal entry credits.".into(),
                );
            }
            Some(r) if !JOURNAL_TYPES.contains(&kind_of(lists, r)) => {
                let kind = kind_of(lists, r);
                errors.insert("liability_account".into(), format!(
                    "A journal entry credits the wages to a liability account, and “{}” is {} {kind} account. Choose a Credit Card, Other Current Liability, Long Term Liability or Accounts Payable account.",
                    r.name, a_or_an(kind)));
            }
            Some(r)
                if kind_of(lists, r) == AP && p.vendor.is_none() && missing(errors, "vendor") =>
            {
                errors.insert("vendor".into(), format!("QuickBooks needs a vendor on a journal entry line on Accounts Payable (“{}”): choose the payroll vendor.", r.name));
            }
            _ => {}
        },
        PayrollPosting::Bill => {
            if p.vendor.is_none() && missing(errors, "vendor") {
                errors.insert(
                    "vendor".into(),
                    "A Bill is owed to a vendor: choose the payroll vendor the bills are made out to.".into(),
                );
            }
            let ap: Vec<&QboOption> = lists
                .accounts
                .iter()
                .filter(|a| a.kind == AP && a.active)
                .collect();
            match (&p.ap_account, ap.as_slice()) {
                (Some(r), _) if kind_of(lists, r) != AP => {
                    errors.insert("ap_account".into(), format!("A Bill is owed through an Accounts Payable account, and “{}” is not one.", r.name));
                }
                (Some(_), _) => {}
                (None, []) => {
                    errors.insert("ap_account".into(), "A Bill is owed through Accounts Payable, and this QuickBooks company has no active Accounts Payable account. Create one in QuickBooks, or post bill-style expenses or journal entries.".into());
                }
                (None, [one]) => p.ap_account = Some(QboRef::new(one.id.clone(), one.name.clone())),
                (None, many) => {
                    errors.insert("ap_account".into(), format!("This company has {} Accounts Payable accounts: choose the one the bills are owed through.", many.len()));
                }
            }
        }
    }
}

/// What QuickBooks would refuse about saved payroll answers, given the company's accounts
/// now: the review step's check of the posting's accounts (field → reason).
pub fn posting_problems(
    payroll: &crate::integrations::settings::PayrollSettings,
    accounts: &[QboOption],
) -> Errors {
    let lists = PayrollLists {
        accounts: accounts.to_vec(),
        vendors: Vec::new(),
        pay_codes: Vec::new(),
        amount_codes: BTreeSet::new(),
    };
    let mut errors = Errors::new();
    let mut p = payroll.clone();
    check_posting(&mut p, &lists, &mut errors);
    errors
}

/// Validates the payroll form into `settings`.
pub fn parse_payroll(
    values: &Values,
    lists: &PayrollLists,
    settings: &mut Settings,
) -> Result<(), Errors> {
    let mut errors = Errors::new();
    let expense = of_types(&lists.accounts, &EXPENSE_TYPES);
    let every_account: Vec<QboOption> = lists.accounts.clone();
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
    // Any account is looked up here; whether its type suits the posting is checked below,
    // with the reason.
    p.liability_account = take("liability_account", &every_account, "account", &mut errors);
    p.ap_account = take("ap_account", &every_account, "account", &mut errors);
    p.vendor = take("vendor", &lists.vendors, "vendor", &mut errors);
    p.amounts_account = take("amounts_account", &expense, "expense account", &mut errors);
    p.pay_code_accounts.clear();
    for code in &lists.pay_codes {
        let name = format!("paycode_{}", code.key);
        if let Some(r) = take(&name, &expense, "expense account", &mut errors) {
            p.pay_code_accounts.insert(code.key.clone(), r);
        }
    }
    p.amount_codes = lists.amount_codes.clone();
    p.class_from = parse_dim(get(values, "class_from"));
    p.location_from = parse_dim(get(values, "location_from"));
    if p.posting != PayrollPosting::Bill {
        p.ap_account = None;
    }
    if p.enabled {
        if p.wages_account.is_none() && !errors.contains_key("wages_account") {
            errors.insert(
                "wages_account".into(),
                "Choose the expense account for wages.".into(),
            );
        }
        check_posting(p, lists, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
