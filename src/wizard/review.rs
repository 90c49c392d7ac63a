//! The review step: every answer in words, and the checks that must pass before Save +
//! Continue activates the integration. Each problem names the step (and field) that fixes it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::catalog::{self, CatalogError, QboOption, Sides};
use super::{Draft, Step};
use crate::integrations::settings::{
    ClosedBooks, CustomerMatching, Dimension, LineGrouping, PayrollPosting, QboRef, Settings,
    SetupMethod, TaxTarget,
};
use crate::state::AppState;

/// One thing that stops activation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The step that fixes it.
    pub step: Step,
    /// The field, for the link's anchor.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    fn new(step: Step, field: &str, message: impl Into<String>) -> Self {
        Self {
            step,
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// Checks that need no network: the stepper uses them to mark steps that need attention.
pub fn local_problems(draft: &Draft, today: NaiveDate) -> Vec<Problem> {
    let s = &draft.settings.0;
    let mut out = Vec::new();
    if s.setup_method.is_none() {
        out.push(Problem::new(
            Step::SetupMethod,
            "setup_method",
            "Choose Express or Advanced setup.",
        ));
    }
    if s.billing.enabled && !draft.is_us() && s.taxes.exempt_tax_code.is_none() {
        out.push(Problem::new(
            Step::Taxes,
            "exempt_tax_code",
            "Choose the tax code for lines TrackTik did not tax.",
        ));
    }
    if s.billing.enabled && draft.is_us() && s.taxes.automated_tax_item.is_none() {
        out.push(Problem::new(
            Step::Taxes,
            "automated_tax_item",
            "Choose the product/service for automatically calculated tax.",
        ));
    }
    let p = &s.payroll;
    if p.enabled {
        if p.wages_account.is_none() {
            out.push(Problem::new(
                Step::Payroll,
                "wages_account",
                "Choose the wages expense account.",
            ));
        }
        match p.posting {
            PayrollPosting::Bill if p.vendor.is_none() => {
                out.push(Problem::new(
                    Step::Payroll,
                    "vendor",
                    "Choose the payroll vendor the bills are made out to.",
                ));
            }
            PayrollPosting::CreditCardExpense | PayrollPosting::JournalEntry
                if p.liability_account.is_none() =>
            {
                out.push(Problem::new(
                    Step::Payroll,
                    "liability_account",
                    "Choose the wages liability account.",
                ));
            }
            _ => {}
        }
    }
    let sc = &s.schedule;
    if !s.billing.enabled && !p.enabled {
        out.push(Problem::new(
            Step::Schedule,
            "billing_enabled",
            "Turn on billing, payroll or both.",
        ));
    }
    match sc.start_date {
        None => out.push(Problem::new(
            Step::Schedule,
            "start_date",
            "Choose the sync start date.",
        )),
        Some(start) => {
            if let Some(back) = sc.back_sync_from {
                if back >= start {
                    out.push(Problem::new(
                        Step::Schedule,
                        "back_sync_from",
                        "The back-sync date must be before the sync start date.",
                    ));
                }
            }
            if let Some(closed) = draft.company_prefs.book_close_date {
                let first = sc.back_sync_from.unwrap_or(start);
                if first <= closed && sc.closed_books == ClosedBooks::Fail {
                    out.push(Problem::new(Step::Schedule, "start_date", format!(
                        "QuickBooks books are closed through {closed}, but syncing starts on {first}. Start after {closed}, or choose to post on the first open date.")));
                }
            }
        }
    }
    if let Some(back) = sc.back_sync_from {
        if back > today {
            out.push(Problem::new(
                Step::Schedule,
                "back_sync_from",
                "The back-sync date is in the future.",
            ));
        }
    }
    if sc
        .time_zone
        .as_deref()
        .and_then(|z| z.parse::<chrono_tz::Tz>().ok())
        .is_none()
    {
        out.push(Problem::new(
            Step::Schedule,
            "time_zone",
            "Choose the time zone of your trading day.",
        ));
    }
    out
}

fn check_ref(
    problems: &mut Vec<Problem>,
    options: &[QboOption],
    r: &QboRef,
    step: Step,
    field: &str,
    what: &str,
) {
    match options.iter().find(|o| o.id == r.id) {
        Some(o) if o.active => {}
        Some(o) => problems.push(Problem::new(step, field, format!(
            "The {what} “{}” is inactive in QuickBooks. Make it active in QuickBooks or choose another.", o.name))),
        None => problems.push(Problem::new(step, field, format!(
            "The {what} “{}” no longer exists in QuickBooks. Choose another.", r.name))),
    }
}

/// Everything the review step found, with what TrackTik used lately.
pub struct Checked {
    /// Problems, in step order.
    pub problems: Vec<Problem>,
    /// Invoices approved in the last 90 days that were looked at.
    pub recent_invoices: usize,
}

/// All checks: local ones, then what TrackTik used in the last 90 days, then every mapped
/// QuickBooks object (exists and active).
pub async fn check(
    state: &AppState,
    draft: &Draft,
    sides: &Sides,
    today: NaiveDate,
) -> Result<Checked, CatalogError> {
    let s = &draft.settings.0;
    let mut problems = local_problems(draft, today);
    let used = catalog::recent_use(state, sides).await?;
    if s.billing.enabled {
        let names: BTreeMap<String, String> = catalog::bill_items(state, sides)
            .await?
            .into_iter()
            .map(|b| (b.key, b.name))
            .collect();
        for id in used.bill_items.keys() {
            if s.billing.default_item.is_none() && !s.billing.items.contains_key(id) {
                let name = names
                    .get(&id.to_string())
                    .cloned()
                    .unwrap_or_else(|| format!("bill item {id}"));
                problems.push(Problem::new(Step::Billing, &format!("item_{id}"), format!(
                    "Choose a QuickBooks product for “{name}”: invoices approved in the last 90 days use it.")));
            }
        }
        let class_names: BTreeMap<String, String> = catalog::tax_classes(state, sides)
            .await?
            .into_iter()
            .map(|c| (c.key, c.name))
            .collect();
        let used_classes: BTreeSet<i64> = used.tax_classes.clone();
        for id in used_classes {
            let name = class_names
                .get(&id.to_string())
                .cloned()
                .unwrap_or_else(|| format!("tax class {id}"));
            match s.taxes.classes.get(&id) {
                None => problems.push(Problem::new(Step::Taxes, &format!("tax_{id}"), format!(
                    "Map the tax class “{name}”: invoices approved in the last 90 days use it."))),
                Some(TaxTarget::Item { .. }) if !draft.is_us() => problems.push(Problem::new(Step::Taxes, &format!("tax_{id}"), format!(
                    "“{name}” is mapped to a product, but your company is outside the US and needs a tax code. Choose a tax code."))),
                Some(TaxTarget::TaxCode { .. }) if draft.is_us() => problems.push(Problem::new(Step::Taxes, &format!("tax_{id}"), format!(
                    "“{name}” is mapped to a tax code, but US companies post tax as a product line. Choose a product/service."))),
                _ => {}
            }
        }
        let items = catalog::items(state, sides).await?;
        if let Some(r) = &s.billing.default_item {
            check_ref(
                &mut problems,
                &items,
                r,
                Step::Billing,
                "default_item",
                "product/service",
            );
        }
        for (id, r) in &s.billing.items {
            check_ref(
                &mut problems,
                &items,
                r,
                Step::Billing,
                &format!("item_{id}"),
                "product/service",
            );
        }
        if !s.billing.customer_map.is_empty() {
            let customers = catalog::customers(state, sides).await?;
            for (id, r) in &s.billing.customer_map {
                check_ref(
                    &mut problems,
                    &customers,
                    r,
                    Step::Billing,
                    &format!("customer_{id}"),
                    "customer",
                );
            }
        }
        if draft.is_us() {
            for (id, t) in &s.taxes.classes {
                if let TaxTarget::Item { item } = t {
                    check_ref(
                        &mut problems,
                        &items,
                        item,
                        Step::Taxes,
                        &format!("tax_{id}"),
                        "product/service",
                    );
                }
            }
            if let Some(r) = &s.taxes.automated_tax_item {
                check_ref(
                    &mut problems,
                    &items,
                    r,
                    Step::Taxes,
                    "automated_tax_item",
                    "product/service",
                );
            }
        } else {
            let codes = catalog::tax_codes(state, sides).await?;
            for (id, t) in &s.taxes.classes {
                if let TaxTarget::TaxCode { code } = t {
                    check_ref(
                        &mut problems,
                        &codes,
                        code,
                        Step::Taxes,
                        &format!("tax_{id}"),
                        "tax code",
                    );
                }
            }
            if let Some(r) = &s.taxes.exempt_tax_code {
                check_ref(
                    &mut problems,
                    &codes,
                    r,
                    Step::Taxes,
                    "exempt_tax_code",
                    "tax code",
                );
            }
        }
    }
    if s.payroll.enabled {
        let accounts = catalog::accounts(state, sides).await?;
        let p = &s.payroll;
        if let Some(r) = &p.wages_account {
            check_ref(
                &mut problems,
                &accounts,
                r,
                Step::Payroll,
                "wages_account",
                "account",
            );
        }
        if p.posting != PayrollPosting::Bill {
            if let Some(r) = &p.liability_account {
                check_ref(
                    &mut problems,
                    &accounts,
                    r,
                    Step::Payroll,
                    "liability_account",
                    "account",
                );
            }
        }
        for (code, r) in &p.pay_code_accounts {
            check_ref(
                &mut problems,
                &accounts,
                r,
                Step::Payroll,
                &format!("paycode_{code}"),
                "account",
            );
        }
        if p.posting == PayrollPosting::Bill {
            if let Some(r) = &p.vendor {
                let vendors = catalog::vendors(state, sides).await?;
                check_ref(
                    &mut problems,
                    &vendors,
                    r,
                    Step::Payroll,
                    "vendor",
                    "vendor",
                );
            }
        }
    }
    problems.sort_by_key(|p| p.step);
    problems.dedup();
    Ok(Checked {
        problems,
        recent_invoices: used.invoices,
    })
}

/// One answer as people read it.
#[derive(Clone, Debug)]
pub struct Answer {
    /// What it is.
    pub label: String,
    /// What was chosen.
    pub value: String,
}

/// The answers of one step.
#[derive(Clone, Debug)]
pub struct AnswerGroup {
    /// The step.
    pub step: Step,
    /// Its answers.
    pub answers: Vec<Answer>,
}

/// TrackTik names for ids in the answers, when they could be read.
#[derive(Clone, Debug, Default)]
pub struct Names {
    /// Bill item id → name.
    pub bill_items: BTreeMap<String, String>,
    /// Tax class id → name.
    pub tax_classes: BTreeMap<String, String>,
    /// Client id → name.
    pub clients: BTreeMap<String, String>,
}

fn name_of(map: &BTreeMap<String, String>, id: i64, fallback: &str) -> String {
    map.get(&id.to_string())
        .cloned()
        .unwrap_or_else(|| format!("{fallback} {id}"))
}

fn r(opt: &Option<QboRef>, none: &str) -> String {
    opt.as_ref()
        .map(|r| r.name.clone())
        .unwrap_or_else(|| none.to_owned())
}

fn dim(d: Option<Dimension>) -> String {
    match d {
        None => "Not set".into(),
        Some(Dimension::Region) => "From the TrackTik region".into(),
        Some(Dimension::Site) => "From the TrackTik site".into(),
    }
}

/// Every answer, grouped by step.
pub fn answers(s: &Settings, names: &Names, us: bool) -> Vec<AnswerGroup> {
    let a = |label: &str, value: String| Answer {
        label: label.to_owned(),
        value,
    };
    let mut billing = vec![
        a(
            "Billing sync",
            if s.billing.enabled {
                "On".into()
            } else {
                "Off".into()
            },
        ),
        a(
            "Default product/service",
            r(
                &s.billing.default_item,
                "None: every bill item is mapped one by one",
            ),
        ),
    ];
    for (id, item) in &s.billing.items {
        billing.push(a(
            &format!(
                "Bill item “{}”",
                name_of(&names.bill_items, *id, "bill item")
            ),
            item.name.clone(),
        ));
    }
    billing.push(a(
        "Customers",
        match s.billing.customer_matching {
            CustomerMatching::MatchOrCreate => "Match by name, create when missing".into(),
            CustomerMatching::PickedOnly => "Only picked customers".into(),
        },
    ));
    for (id, c) in &s.billing.customer_map {
        billing.push(a(
            &format!("Client “{}”", name_of(&names.clients, *id, "client")),
            c.name.clone(),
        ));
    }
    billing.push(a("Invoice number", s.billing.doc_number_template.clone()));
    billing.push(a("Memo", s.billing.memo_template.clone()));
    billing.push(a("Class", dim(s.billing.class_from)));
    billing.push(a("Location", dim(s.billing.location_from)));

    let p = &s.payroll;
    let mut payroll = vec![
        a(
            "Payroll sync",
            if p.enabled { "On".into() } else { "Off".into() },
        ),
        a(
            "Posted as",
            match p.posting {
                PayrollPosting::Bill => "Bill to a payroll vendor".into(),
                PayrollPosting::CreditCardExpense => {
                    "Credit-card expense against the liability account".into()
                }
                PayrollPosting::JournalEntry => "Journal entry".into(),
            },
        ),
        a(
            "Lines",
            match p.grouping {
                LineGrouping::PerPayRun => "One per pay run".into(),
                LineGrouping::PerPayCode => "One per pay code".into(),
                LineGrouping::PerEmployee => "One per employee".into(),
                LineGrouping::PerEmployeePayCode => "One per employee and pay code".into(),
                LineGrouping::PerSite => "One per site".into(),
            },
        ),
        a("Wages account", r(&p.wages_account, "Not chosen")),
        a("Liability account", r(&p.liability_account, "Not chosen")),
        a("Payroll vendor", r(&p.vendor, "Not chosen")),
    ];
    for (code, acc) in &p.pay_code_accounts {
        payroll.push(a(&format!("Pay code {code}"), acc.name.clone()));
    }
    payroll.push(a("Class", dim(p.class_from)));
    payroll.push(a("Location", dim(p.location_from)));

    let mut taxes = Vec::new();
    for (id, t) in &s.taxes.classes {
        let v = match t {
            TaxTarget::Item { item } => format!("Product/service “{}”", item.name),
            TaxTarget::TaxCode { code } => format!("Tax code “{}”", code.name),
        };
        taxes.push(a(
            &format!(
                "Tax class “{}”",
                name_of(&names.tax_classes, *id, "tax class")
            ),
            v,
        ));
    }
    if us {
        taxes.push(a(
            "Automated calculated tax",
            r(&s.taxes.automated_tax_item, "Not chosen"),
        ));
    } else {
        taxes.push(a(
            "Tax code for untaxed lines",
            r(&s.taxes.exempt_tax_code, "Not chosen"),
        ));
    }

    let sc = &s.schedule;
    let schedule = vec![
        a(
            "Sync start date",
            sc.start_date
                .map(|d| d.to_string())
                .unwrap_or_else(|| "Not chosen".into()),
        ),
        a(
            "Time zone",
            sc.time_zone.clone().unwrap_or_else(|| "Not chosen".into()),
        ),
        a(
            "End of trading day",
            format!("{} the next morning", sc.cutoff.format("%H:%M")),
        ),
        a(
            "Back-sync from",
            sc.back_sync_from
                .map(|d| d.to_string())
                .unwrap_or_else(|| "No back-sync".into()),
        ),
        a(
            "Closed books",
            match sc.closed_books {
                ClosedBooks::Fail => "Do not post; tell me".into(),
                ClosedBooks::PostOnFirstOpenDate => "Post on the first open date".into(),
            },
        ),
        a(
            "Notify",
            if sc.notify_emails.is_empty() {
                "Nobody".into()
            } else {
                sc.notify_emails.join(", ")
            },
        ),
    ];
    vec![
        AnswerGroup {
            step: Step::SetupMethod,
            answers: vec![a(
                "Setup method",
                match s.setup_method {
                    Some(SetupMethod::Express) => "Express".into(),
                    Some(SetupMethod::Advanced) => "Advanced".into(),
                    None => "Not chosen".into(),
                },
            )],
        },
        AnswerGroup {
            step: Step::Billing,
            answers: billing,
        },
        AnswerGroup {
            step: Step::Payroll,
            answers: payroll,
        },
        AnswerGroup {
            step: Step::Taxes,
            answers: taxes,
        },
        AnswerGroup {
            step: Step::Schedule,
            answers: schedule,
        },
    ]
}

/// The top-level settings paths that differ, e.g. `billing.items`, for the change history.
pub fn changed_paths(before: &Settings, after: &Settings) -> Vec<String> {
    let (Ok(serde_json::Value::Object(b)), Ok(serde_json::Value::Object(a))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, av) in &a {
        match (b.get(k), av) {
            (Some(serde_json::Value::Object(bo)), serde_json::Value::Object(ao)) => {
                for (k2, v2) in ao {
                    if bo.get(k2) != Some(v2) {
                        out.push(format!("{k}.{k2}"));
                    }
                }
            }
            (bv, av) if bv != Some(av) => out.push(k.clone()),
            _ => {}
        }
    }
    out
}
