//! Every answer in words (review step and the support console's read-only view), and which
//! settings changed between two saves (the change history).

use std::collections::BTreeMap;

use super::Step;
use crate::integrations::settings::{
    ClosedBooks, CustomerMatching, Dimension, LineGrouping, PayrollPosting, QboRef, Settings,
    SetupMethod, TaxTarget,
};

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
