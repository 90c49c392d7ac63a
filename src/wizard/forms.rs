//! Each step's form: the values shown (from saved answers, or as typed), the fields people
//! see, and validation of what was posted into [`Settings`]. Errors are keyed by field name and
//! say what to do.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime};

use super::catalog::{QboOption, SampleInvoice, Source};
use crate::integrations::CompanyPrefs;
use crate::integrations::settings::{
    ClosedBooks, CustomerMatching, Dimension, LineGrouping, PayrollPosting, QboRef, Settings,
    TaxTarget,
};

/// Field name → value, as typed or as saved.
pub type Values = BTreeMap<String, String>;
/// Field name → what to do about it.
pub type Errors = BTreeMap<String, String>;

/// The posted pairs as values (the last of a repeated name wins).
pub fn values_from_pairs(pairs: Vec<(String, String)>) -> Values {
    pairs
        .into_iter()
        .filter(|(k, _)| k != "csrf_token" && k != "action")
        .collect()
}

fn get<'a>(values: &'a Values, name: &str) -> &'a str {
    values.get(name).map(|s| s.trim()).unwrap_or("")
}

/// One choice of a select or radio group.
#[derive(Clone, Debug)]
pub struct Choice {
    /// Sent value.
    pub value: String,
    /// What people read.
    pub label: String,
    /// More words under a radio choice.
    pub help: String,
    /// Chosen now.
    pub selected: bool,
}

/// One field as the page shows it.
#[derive(Clone, Debug)]
pub struct FieldView {
    /// Form name (and element id).
    pub name: String,
    /// Label above it.
    pub label: String,
    /// Help under it.
    pub help: String,
    /// `select`, `radio`, `text`, `textarea`, `date`, `time`, `checkbox` or `readonly`.
    pub kind: &'static str,
    /// Current value.
    pub value: String,
    /// Choices of a select or radio group.
    pub choices: Vec<Choice>,
    /// What to fix.
    pub error: Option<String>,
}

impl FieldView {
    fn new(name: &str, label: &str, kind: &'static str, values: &Values, errors: &Errors) -> Self {
        Self {
            name: name.to_owned(),
            label: label.to_owned(),
            help: String::new(),
            kind,
            value: values.get(name).cloned().unwrap_or_default(),
            choices: Vec::new(),
            error: errors.get(name).cloned(),
        }
    }

    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    fn choices(mut self, choices: Vec<(String, String, String)>) -> Self {
        let value = self.value.clone();
        self.choices = choices
            .into_iter()
            .map(|(v, label, help)| Choice {
                selected: v == value,
                value: v,
                label,
                help,
            })
            .collect();
        self
    }

    /// Shows the chosen option's label as text instead of a control (Express defaults).
    fn read_only(mut self) -> Self {
        if let Some(c) = self.choices.iter().find(|c| c.selected) {
            self.value = c.label.clone();
        }
        self.kind = "readonly";
        self
    }

    /// A select with many options gets a search box (when scripts run).
    pub fn is_long(&self) -> bool {
        self.choices.len() > 8
    }
}

/// A group of fields with a heading.
#[derive(Clone, Debug)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// Words under it.
    pub intro: String,
    /// The fields.
    pub fields: Vec<FieldView>,
}

fn qbo_choices(options: &[QboOption], first: &str, current: &str) -> Vec<(String, String, String)> {
    let mut out = vec![(String::new(), first.to_owned(), String::new())];
    for o in options {
        if o.active || o.id == current {
            let label = if o.active {
                o.name.clone()
            } else {
                format!("{} (inactive in QuickBooks)", o.name)
            };
            out.push((o.id.clone(), label, String::new()));
        }
    }
    out
}

fn dimension_choices() -> Vec<(String, String, String)> {
    vec![
        (String::new(), "Do not set".into(), String::new()),
        (
            "region".into(),
            "From the TrackTik region".into(),
            String::new(),
        ),
        (
            "site".into(),
            "From the TrackTik site".into(),
            String::new(),
        ),
    ]
}

fn dim_key(d: Option<Dimension>) -> String {
    match d {
        None => String::new(),
        Some(Dimension::Region) => "region".into(),
        Some(Dimension::Site) => "site".into(),
    }
}

fn parse_dim(v: &str) -> Option<Dimension> {
    match v {
        "region" => Some(Dimension::Region),
        "site" => Some(Dimension::Site),
        _ => None,
    }
}

fn ref_id(r: &Option<QboRef>) -> String {
    r.as_ref().map(|r| r.id.clone()).unwrap_or_default()
}

/// Looks up `id` among `options`: `Ok(None)` for empty, an error when missing or inactive.
fn pick(options: &[QboOption], id: &str, what: &str) -> Result<Option<QboRef>, String> {
    if id.is_empty() {
        return Ok(None);
    }
    match options.iter().find(|o| o.id == id) {
        Some(o) if o.active => Ok(Some(QboRef::new(o.id.clone(), o.name.clone()))),
        Some(o) => Err(format!(
            "“{}” is inactive in QuickBooks. Choose an active {what}.",
            o.name
        )),
        None => Err(format!(
            "That {what} is not in QuickBooks any more. Choose another {what}."
        )),
    }
}

/// Class / Location fields, only when the company tracks them.
fn dimension_fields(prefs: &CompanyPrefs, values: &Values, errors: &Errors) -> Vec<FieldView> {
    let mut fields = Vec::new();
    if prefs.class_tracking {
        fields.push(
            FieldView::new("class_from", "QuickBooks Class", "select", values, errors)
                .help("Your company tracks classes. Set each transaction's class from the TrackTik region or site (a class of the same name is used).")
                .choices(dimension_choices()),
        );
    }
    if prefs.department_tracking {
        let term = prefs
            .department_terminology
            .clone()
            .unwrap_or_else(|| "Location".into());
        fields.push(
            FieldView::new("location_from", &format!("QuickBooks {term}"), "select", values, errors)
                .help(format!("Your company tracks {}s. Set each transaction's {} from the TrackTik region or site.", term.to_lowercase(), term.to_lowercase()))
                .choices(dimension_choices()),
        );
    }
    fields
}

// ---------------------------------------------------------------------------------------------
// Billing

/// What the billing step offers.
pub struct BillingLists {
    /// QBO products and services.
    pub items: Vec<QboOption>,
    /// QBO customers.
    pub customers: Vec<QboOption>,
    /// TrackTik bill items.
    pub bill_items: Vec<Source>,
    /// TrackTik clients.
    pub clients: Vec<Source>,
}

/// The billing values of saved answers.
pub fn billing_values(s: &Settings) -> Values {
    let b = &s.billing;
    let mut v = Values::new();
    v.insert("default_item".into(), ref_id(&b.default_item));
    for (id, r) in &b.items {
        v.insert(format!("item_{id}"), r.id.clone());
    }
    for (id, r) in &b.customer_map {
        v.insert(format!("customer_{id}"), r.id.clone());
    }
    v.insert(
        "customer_matching".into(),
        match b.customer_matching {
            CustomerMatching::MatchOrCreate => "match_or_create",
            CustomerMatching::PickedOnly => "picked_only",
        }
        .into(),
    );
    v.insert("doc_number_template".into(), b.doc_number_template.clone());
    v.insert("memo_template".into(), b.memo_template.clone());
    v.insert("class_from".into(), dim_key(b.class_from));
    v.insert("location_from".into(), dim_key(b.location_from));
    v
}

/// The billing step's fields.
pub fn billing_sections(
    values: &Values,
    errors: &Errors,
    lists: &BillingLists,
    prefs: &CompanyPrefs,
    express: bool,
) -> Vec<Section> {
    let ro = |f: FieldView| if express { f.read_only() } else { f };
    let default = get(values, "default_item");
    let mut products = vec![ro(FieldView::new(
        "default_item",
        "Default QuickBooks product/service",
        "select",
        values,
        errors,
    )
    .help("Used for every bill item below that is left on “Use the default product”.")
    .choices(qbo_choices(
        &lists.items,
        "No default: map every bill item",
        default,
    )))];
    for b in &lists.bill_items {
        let name = format!("item_{}", b.key);
        let current = get(values, &name);
        products.push(ro(FieldView::new(&name, &b.name, "select", values, errors)
            .choices(qbo_choices(
                &lists.items,
                "Use the default product",
                current,
            ))));
    }
    let mut customers = vec![ro(FieldView::new(
        "customer_matching",
        "How TrackTik clients become QuickBooks customers",
        "radio",
        values,
        errors,
    )
    .choices(vec![
        ("match_or_create".into(), "Match by name, create when missing".into(), "The QuickBooks customer with the client's name is used; a new one is created when there is none.".into()),
        ("picked_only".into(), "Only the customers picked below".into(), "Invoices of a client without a picked customer fail with a message until you pick one.".into()),
    ]))];
    for c in &lists.clients {
        let name = format!("customer_{}", c.key);
        let current = get(values, &name);
        customers.push(ro(FieldView::new(&name, &c.name, "select", values, errors)
            .choices(qbo_choices(&lists.customers, "Match by name", current))));
    }
    let mut numbering = vec![
        ro(FieldView::new(
            "doc_number_template",
            "Invoice number in QuickBooks",
            "text",
            values,
            errors,
        )
        .help("{number} is TrackTik's invoice number. QuickBooks allows 21 characters.")),
        ro(FieldView::new(
            "memo_template",
            "Memo (private note)",
            "textarea",
            values,
            errors,
        )
        .help("You can use {number}, {client}, {period_start} and {period_end}.")),
    ];
    numbering.extend(dimension_fields(prefs, values, errors).into_iter().map(ro));
    vec![
        Section {
            title: "Products and services".into(),
            intro:
                "Each TrackTik bill item becomes a line with this QuickBooks product or service."
                    .into(),
            fields: products,
        },
        Section {
            title: "Customers".into(),
            intro: "Pick a QuickBooks customer for a client only when the names differ.".into(),
            fields: customers,
        },
        Section {
            title: "Invoice number and memo".into(),
            intro: "The invoice date, due date and service dates are TrackTik's.".into(),
            fields: numbering,
        },
    ]
}

/// Placeholders the memo may use.
pub const MEMO_PLACEHOLDERS: [&str; 4] = ["number", "client", "period_start", "period_end"];

/// Fills `{placeholder}`s from the sample; unknown ones are returned as errors.
pub fn render_template(
    template: &str,
    sample: &SampleInvoice,
    allowed: &[&str],
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("A “{” is not closed with “}”.".into());
        };
        let key = &after[..close];
        if !allowed.contains(&key) {
            let names: Vec<String> = allowed.iter().map(|a| format!("{{{a}}}")).collect();
            return Err(format!(
                "{{{key}}} is not something we can fill in. Use {}.",
                names.join(", ")
            ));
        }
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        out.push_str(&match key {
            "number" => sample.number.clone(),
            "client" => sample.client.clone(),
            "period_start" => date(sample.period_start),
            "period_end" => date(sample.period_end),
            _ => String::new(),
        });
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The preview of the number and memo, or why it cannot be shown.
pub struct Preview {
    /// The invoice it was built from.
    pub source: String,
    /// QBO document number.
    pub doc_number: String,
    /// QBO private note.
    pub memo: String,
}

/// Builds the preview from a real invoice (errors are shown next to the fields instead).
pub fn preview(values: &Values, sample: &SampleInvoice) -> Option<Preview> {
    let doc = render_template(get(values, "doc_number_template"), sample, &["number"]).ok()?;
    let memo = render_template(get(values, "memo_template"), sample, &MEMO_PLACEHOLDERS).ok()?;
    Some(Preview {
        source: format!("TrackTik invoice {} for {}", sample.number, sample.client),
        doc_number: doc,
        memo,
    })
}

/// Validates the billing form into `settings`.
pub fn parse_billing(
    values: &Values,
    lists: &BillingLists,
    sample: Option<&SampleInvoice>,
    settings: &mut Settings,
) -> Result<(), Errors> {
    let mut errors = Errors::new();
    let b = &mut settings.billing;
    match pick(
        &lists.items,
        get(values, "default_item"),
        "product or service",
    ) {
        Ok(r) => b.default_item = r,
        Err(e) => {
            errors.insert("default_item".into(), e);
        }
    }
    b.items.clear();
    for item in &lists.bill_items {
        let name = format!("item_{}", item.key);
        match pick(&lists.items, get(values, &name), "product or service") {
            Ok(Some(r)) => {
                if let Ok(id) = item.key.parse() {
                    b.items.insert(id, r);
                }
            }
            Ok(None) => {}
            Err(e) => {
                errors.insert(name, format!("For “{}”: {e}", item.name));
            }
        }
    }
    b.customer_matching = match get(values, "customer_matching") {
        "picked_only" => CustomerMatching::PickedOnly,
        "match_or_create" => CustomerMatching::MatchOrCreate,
        _ => {
            errors.insert(
                "customer_matching".into(),
                "Choose how TrackTik clients become QuickBooks customers.".into(),
            );
            CustomerMatching::MatchOrCreate
        }
    };
    b.customer_map.clear();
    for client in &lists.clients {
        let name = format!("customer_{}", client.key);
        match pick(&lists.customers, get(values, &name), "customer") {
            Ok(Some(r)) => {
                if let Ok(id) = client.key.parse() {
                    b.customer_map.insert(id, r);
                }
            }
            Ok(None) => {}
            Err(e) => {
                errors.insert(name, format!("For “{}”: {e}", client.name));
            }
        }
    }
    let example = sample.cloned().unwrap_or(SampleInvoice {
        number: "INV-1001".into(),
        client: "Example client".into(),
        ..SampleInvoice::default()
    });
    let doc = get(values, "doc_number_template");
    if !doc.contains("{number}") {
        errors.insert(
            "doc_number_template".into(),
            "Include {number} so each QuickBooks invoice carries TrackTik's invoice number.".into(),
        );
    } else {
        match render_template(doc, &example, &["number"]) {
            Err(e) => {
                errors.insert("doc_number_template".into(), e);
            }
            Ok(out) if out.chars().count() > 21 && example.number.chars().count() <= 21 => {
                errors.insert("doc_number_template".into(), format!(
                    "With TrackTik invoice {} this gives “{out}”, {} characters; QuickBooks allows 21. Shorten the text around {{number}}.",
                    example.number, out.chars().count()));
            }
            Ok(_) => {}
        }
    }
    b.doc_number_template = doc.to_owned();
    let memo = get(values, "memo_template");
    if let Err(e) = render_template(memo, &example, &MEMO_PLACEHOLDERS) {
        errors.insert("memo_template".into(), e);
    } else if memo.chars().count() > 4000 {
        errors.insert(
            "memo_template".into(),
            "Shorten the memo to 4,000 characters or fewer.".into(),
        );
    }
    b.memo_template = memo.to_owned();
    b.class_from = parse_dim(get(values, "class_from"));
    b.location_from = parse_dim(get(values, "location_from"));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// Payroll

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

// ---------------------------------------------------------------------------------------------
// Taxes

/// What the taxes step offers.
pub struct TaxLists {
    /// QBO items (US) or tax codes (elsewhere).
    pub targets: Vec<QboOption>,
    /// TrackTik tax classes.
    pub classes: Vec<Source>,
}

/// The taxes values of saved answers.
pub fn taxes_values(s: &Settings) -> Values {
    let mut v = Values::new();
    for (id, t) in &s.taxes.classes {
        let r = match t {
            TaxTarget::Item { item } => item,
            TaxTarget::TaxCode { code } => code,
        };
        v.insert(format!("tax_{id}"), r.id.clone());
    }
    v.insert(
        "automated_tax_item".into(),
        ref_id(&s.taxes.automated_tax_item),
    );
    v.insert("exempt_tax_code".into(), ref_id(&s.taxes.exempt_tax_code));
    v
}

/// The taxes step's fields.
pub fn taxes_sections(
    values: &Values,
    errors: &Errors,
    lists: &TaxLists,
    us: bool,
    read_only: bool,
) -> Vec<Section> {
    let ro = |f: FieldView| if read_only { f.read_only() } else { f };
    let (what, first) = if us {
        ("QuickBooks product/service for the tax line", "Not mapped")
    } else {
        ("QuickBooks tax code on each line", "Not mapped")
    };
    let mut fields = Vec::new();
    for c in &lists.classes {
        let name = format!("tax_{}", c.key);
        let current = get(values, &name);
        fields.push(ro(FieldView::new(&name, &c.name, "select", values, errors)
            .help(what)
            .choices(qbo_choices(&lists.targets, first, current))));
    }
    if us {
        fields.push(ro(FieldView::new(
            "automated_tax_item",
            "Automated calculated tax",
            "select",
            values,
            errors,
        )
        .help("The product/service for tax TrackTik calculated without a tax class.")
        .choices(qbo_choices(
            &lists.targets,
            "Choose a product/service",
            get(values, "automated_tax_item"),
        ))));
    } else {
        fields.push(ro(FieldView::new("exempt_tax_code", "Tax code for untaxed lines", "select", values, errors)
            .help("QuickBooks needs a tax code on every line; lines TrackTik did not tax get this one (exempt or zero-rated).")
            .choices(qbo_choices(&lists.targets, "Choose a tax code", get(values, "exempt_tax_code")))));
    }
    vec![Section {
        title: "Tax classes".into(),
        intro: if us {
            "US companies: each TrackTik tax becomes a line of its own with this product/service."
                .into()
        } else {
            "Your company is outside the US: QuickBooks computes tax from the tax code on each line.".into()
        },
        fields,
    }]
}

/// Validates the taxes form into `settings`.
pub fn parse_taxes(
    values: &Values,
    lists: &TaxLists,
    us: bool,
    settings: &mut Settings,
) -> Result<(), Errors> {
    let mut errors = Errors::new();
    let what = if us { "product or service" } else { "tax code" };
    let t = &mut settings.taxes;
    t.classes.clear();
    for c in &lists.classes {
        let name = format!("tax_{}", c.key);
        match pick(&lists.targets, get(values, &name), what) {
            Ok(Some(r)) => {
                if let Ok(id) = c.key.parse() {
                    t.classes.insert(
                        id,
                        if us {
                            TaxTarget::Item { item: r }
                        } else {
                            TaxTarget::TaxCode { code: r }
                        },
                    );
                }
            }
            Ok(None) => {}
            Err(e) => {
                errors.insert(name, format!("For “{}”: {e}", c.name));
            }
        }
    }
    let billing = settings.billing.enabled;
    if us {
        t.exempt_tax_code = None;
        match pick(&lists.targets, get(values, "automated_tax_item"), what) {
            Ok(None) if billing => {
                errors.insert(
                    "automated_tax_item".into(),
                    "Choose the product/service for automatically calculated tax.".into(),
                );
            }
            Ok(r) => t.automated_tax_item = r,
            Err(e) => {
                errors.insert("automated_tax_item".into(), e);
            }
        }
    } else {
        t.automated_tax_item = None;
        match pick(&lists.targets, get(values, "exempt_tax_code"), what) {
            Ok(None) if billing => {
                errors.insert(
                    "exempt_tax_code".into(),
                    "Choose the tax code for lines TrackTik did not tax (exempt or zero-rated)."
                        .into(),
                );
            }
            Ok(r) => t.exempt_tax_code = r,
            Err(e) => {
                errors.insert("exempt_tax_code".into(), e);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------------------------
// Schedule

/// The schedule values of saved answers; unset dates and zones get their defaults.
pub fn schedule_values(s: &Settings, default_zone: &str, today: NaiveDate) -> Values {
    let sc = &s.schedule;
    let mut v = Values::new();
    v.insert(
        "start_date".into(),
        sc.start_date.unwrap_or(today).to_string(),
    );
    v.insert(
        "time_zone".into(),
        sc.time_zone
            .clone()
            .unwrap_or_else(|| default_zone.to_owned()),
    );
    v.insert("cutoff".into(), sc.cutoff.format("%H:%M").to_string());
    if s.billing.enabled {
        v.insert("billing_enabled".into(), "on".into());
    }
    if s.payroll.enabled {
        v.insert("payroll_enabled".into(), "on".into());
    }
    v.insert("notify_emails".into(), sc.notify_emails.join("\n"));
    v.insert(
        "back_sync_from".into(),
        sc.back_sync_from.map(|d| d.to_string()).unwrap_or_default(),
    );
    v.insert(
        "closed_books".into(),
        match sc.closed_books {
            ClosedBooks::Fail => "fail",
            ClosedBooks::PostOnFirstOpenDate => "post_on_first_open_date",
        }
        .into(),
    );
    v
}

/// The schedule step's fields.
pub fn schedule_sections(values: &Values, errors: &Errors) -> Vec<Section> {
    let zones: Vec<(String, String, String)> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| (z.name().to_owned(), z.name().to_owned(), String::new()))
        .collect();
    let zone = get(values, "time_zone").to_owned();
    vec![
        Section {
            title: "Which syncs run".into(),
            intro: String::new(),
            fields: vec![
                FieldView::new("billing_enabled", "Billing: copy approved invoices", "checkbox", values, errors),
                FieldView::new("payroll_enabled", "Payroll: copy approved and locked pay runs", "checkbox", values, errors),
            ],
        },
        Section {
            title: "When".into(),
            intro: String::new(),
            fields: vec![
                FieldView::new("start_date", "Sync start date", "date", values, errors)
                    .help("Documents approved from this day on are copied. Transactions approved today appear in QuickBooks tomorrow."),
                FieldView::new("time_zone", "Time zone of your trading day", "select", values, errors)
                    .help("The default is your TrackTik region's time zone.")
                    .choices(zones),
                FieldView::new("cutoff", "End of the trading day", "time", values, errors)
                    .help(format!("Each day is copied after this time the next morning ({zone}).")),
                FieldView::new("back_sync_from", "Also copy earlier days from (optional)", "date", values, errors)
                    .help("Leave empty to start on the sync start date. Must be before it and not in the future."),
                FieldView::new("closed_books", "When QuickBooks books are closed for a document's date", "radio", values, errors)
                    .choices(vec![
                        ("fail".into(), "Do not post it; tell me how to fix it".into(), String::new()),
                        ("post_on_first_open_date".into(), "Post it on the first open date".into(), String::new()),
                    ]),
            ],
        },
        Section {
            title: "Notifications".into(),
            intro: String::new(),
            fields: vec![FieldView::new("notify_emails", "E-mail addresses to notify", "textarea", values, errors)
                .help("One per line (or separated by commas). They hear about failed syncs and lost connections.")],
        },
    ]
}

/// A plausible e-mail address: one `@`, something before it, a dotted domain, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
        && s.len() <= 254
}

/// Validates the schedule form into `settings`; `today` is today in the chosen zone.
pub fn parse_schedule(
    values: &Values,
    today_in: impl Fn(&str) -> NaiveDate,
    settings: &mut Settings,
) -> Result<(), Errors> {
    let mut errors = Errors::new();
    let zone = get(values, "time_zone");
    let zone_ok = zone.parse::<chrono_tz::Tz>().is_ok();
    if !zone_ok {
        errors.insert(
            "time_zone".into(),
            "Choose a time zone from the list.".into(),
        );
    }
    let today = today_in(if zone_ok { zone } else { "UTC" });
    let date = |name: &str, errors: &mut Errors| -> Option<NaiveDate> {
        let v = get(values, name);
        if v.is_empty() {
            return None;
        }
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.insert(
                    name.to_owned(),
                    "Enter a date as YYYY-MM-DD, for example 2026-12-01.".into(),
                );
                None
            }
        }
    };
    let start = date("start_date", &mut errors);
    if start.is_none() && !errors.contains_key("start_date") {
        errors.insert(
            "start_date".into(),
            "Enter the sync start date (today is a good choice).".into(),
        );
    }
    let back = date("back_sync_from", &mut errors);
    if let Some(back) = back {
        if back > today {
            errors.insert("back_sync_from".into(), format!("The back-sync date is in the future. Choose a date on or before {today}, or leave it empty."));
        } else if start.is_some_and(|s| back >= s) {
            errors.insert("back_sync_from".into(), "The back-sync date must be before the sync start date. Choose an earlier date, or leave it empty.".into());
        } else if (today - back).num_days() > 366 {
            errors.insert(
                "back_sync_from".into(),
                "Back-sync reaches at most one year back. Choose a later date.".into(),
            );
        }
    }
    if let Some(s) = start {
        if (s - today).num_days() > 366 {
            errors.insert(
                "start_date".into(),
                "The start date is more than a year away. Choose an earlier date.".into(),
            );
        }
    }
    let cutoff = match NaiveTime::parse_from_str(get(values, "cutoff"), "%H:%M") {
        Ok(t) => Some(t),
        Err(_) => {
            errors.insert(
                "cutoff".into(),
                "Enter the cutoff as HH:MM, for example 03:00.".into(),
            );
            None
        }
    };
    let billing = !get(values, "billing_enabled").is_empty();
    let payroll = !get(values, "payroll_enabled").is_empty();
    if !billing && !payroll {
        errors.insert(
            "billing_enabled".into(),
            "Turn on billing, payroll or both: with both off nothing is copied.".into(),
        );
    }
    let mut emails = Vec::new();
    for raw in get(values, "notify_emails").split([',', '\n', ';']) {
        let e = raw.trim();
        if e.is_empty() {
            continue;
        }
        if is_email(e) {
            emails.push(e.to_owned());
        } else {
            errors.insert(
                "notify_emails".into(),
                format!("“{e}” is not an e-mail address. Correct it or remove it."),
            );
            break;
        }
    }
    let closed = match get(values, "closed_books") {
        "post_on_first_open_date" => ClosedBooks::PostOnFirstOpenDate,
        _ => ClosedBooks::Fail,
    };
    let sc = &mut settings.schedule;
    sc.start_date = start;
    sc.time_zone = zone_ok.then(|| zone.to_owned());
    if let Some(c) = cutoff {
        sc.cutoff = c;
    }
    sc.back_sync_from = back;
    sc.notify_emails = emails;
    sc.closed_books = closed;
    settings.billing.enabled = billing;
    settings.payroll.enabled = payroll;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SampleInvoice {
        SampleInvoice {
            number: "INV-42".into(),
            client: "Acme Mall".into(),
            period_start: NaiveDate::from_ymd_opt(2026, 11, 1),
            period_end: NaiveDate::from_ymd_opt(2026, 11, 15),
        }
    }

    #[test]
    fn templates_fill_placeholders_and_name_unknown_ones() {
        assert_eq!(
            render_template("TT-{number}", &sample(), &["number"]).unwrap(),
            "TT-INV-42"
        );
        assert_eq!(
            render_template(
                "{client}: {period_start}–{period_end}",
                &sample(),
                &MEMO_PLACEHOLDERS
            )
            .unwrap(),
            "Acme Mall: 2026-11-01–2026-11-15"
        );
        assert!(
            render_template("{nope}", &sample(), &["number"])
                .unwrap_err()
                .contains("{nope}")
        );
    }

    #[test]
    fn email_addresses_are_checked() {
        assert!(is_email("books@acme.com"));
        assert!(!is_email("books@acme"));
        assert!(!is_email("books acme.com"));
        assert!(!is_email("@acme.com"));
    }
}
