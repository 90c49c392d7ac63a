//! Every answer in words (review step and the support console's read-only view), and which
//! settings changed between two saves (the change history).

use std::collections::BTreeMap;

use super::Step;
use crate::integrations::settings::{
    ClosedBooks, CustomerMatching, Dimension, LineGrouping, PayrollPosting, QboRef, RegionChoice,
    Settings, SetupMethod, TaxTarget,
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
    /// Region id → name.
    pub regions: BTreeMap<String, String>,
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

fn scope_answers(s: &Settings, names: &Names) -> Vec<Answer> {
    let a = |label: &str, value: String| Answer {
        label: label.to_owned(),
        value,
    };
    let sc = &s.scope;
    let mut out = Vec::new();
    match &sc.regions {
        RegionChoice::Every => out.push(a(
            "Regions",
            if sc.chosen {
                "Every region, also regions added later, and clients and pay runs without a region"
                    .into()
            } else {
                "Every region (not chosen yet: set up before regions could be chosen)".into()
            },
        )),
        RegionChoice::Only { regions } => {
            let list: Vec<String> = regions
                .iter()
                .map(|r| name_of(&names.regions, *r, "region"))
                .collect();
            let proposed = if sc.chosen {
                ""
            } else {
                " (proposed, not saved on the Regions step yet)"
            };
            out.push(a(
                "Regions",
                if list.is_empty() {
                    format!("None{proposed}")
                } else {
                    format!("{}, each with its sub-regions{proposed}", list.join(", "))
                },
            ));
            let clients: Vec<String> = sc
                .without_region
                .iter()
                .map(|c| name_of(&names.clients, *c, "client"))
                .collect();
            out.push(a(
                "Clients without a region posted here",
                if clients.is_empty() {
                    "None".into()
                } else {
                    clients.join(", ")
                },
            ));
            out.push(a(
                "Pay runs without a region",
                if sc.payruns_without_region {
                    "Posted here".into()
                } else {
                    "Not posted here".into()
                },
            ));
        }
    }
    out
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
                    "Bill-style expense on the wages liability account (a credit card account)"
                        .into()
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
        a(
            "Accounts Payable account",
            r(&p.ap_account, "The company's only one (bills only)"),
        ),
        a("Payroll vendor", r(&p.vendor, "Not chosen")),
        a(
            "Reimbursements and other amounts",
            r(
                &p.amounts_account,
                "The wages account, on lines of their own",
            ),
        ),
    ];
    for (code, acc) in &p.pay_code_accounts {
        payroll.push(a(&format!("Pay code {code}"), acc.name.clone()));
    }
    payroll.push(a(
        "Pay codes that are amounts, not hours",
        if p.amount_codes.is_empty() {
            "None".into()
        } else {
            p.amount_codes
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        },
    ));
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
            step: Step::Scope,
            answers: scope_answers(s, names),
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

/// One answer that changed between two saves, in the words of the review page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedAnswer {
    /// "Schedule: End of trading day".
    pub label: String,
    /// Before ("—" when it was not shown).
    pub before: String,
    /// After ("—" when it is no longer shown).
    pub after: String,
}

/// The answers that differ between two saves, labelled as on the review page: never API
/// names or settings paths.
pub fn changed_answers(
    before: &Settings,
    after: &Settings,
    names: &Names,
    us: bool,
) -> Vec<ChangedAnswer> {
    let flat = |s: &Settings| -> Vec<(String, String)> {
        answers(s, names, us)
            .into_iter()
            .flat_map(|g| {
                g.answers
                    .into_iter()
                    .map(move |a| (format!("{}: {}", g.step.label(), a.label), a.value))
            })
            .collect()
    };
    let (b, a) = (flat(before), flat(after));
    let mut out = Vec::new();
    for (label, value) in &a {
        let old = b.iter().find(|(l, _)| l == label).map(|(_, v)| v.clone());
        if old.as_ref() != Some(value) {
            out.push(ChangedAnswer {
                label: label.clone(),
                before: old.unwrap_or_else(|| "—".into()),
                after: value.clone(),
            });
        }
    }
    for (label, value) in &b {
        if !a.iter().any(|(l, _)| l == label) {
            out.push(ChangedAnswer {
                label: label.clone(),
                before: value.clone(),
                after: "—".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_change_history_speaks_the_review_pages_words_never_settings_paths() {
        let before = Settings::default();
        let mut after = before.clone();
        after.schedule.cutoff = chrono::NaiveTime::from_hms_opt(4, 30, 0).unwrap();
        after.payroll.wages_account = Some(QboRef::new("1", "TrackTik Direct Wages"));
        after.scope.regions = RegionChoice::Only {
            regions: [2].into(),
        };
        let mut names = Names::default();
        names.regions.insert("2".into(), "Ontario".into());
        let changes = changed_answers(&before, &after, &names, true);
        let labels: Vec<&str> = changes.iter().map(|c| c.label.as_str()).collect();
        assert!(
            labels.contains(&"Schedule: End of trading day"),
            "{labels:?}"
        );
        assert!(labels.contains(&"Payroll: Wages account"), "{labels:?}");
        assert!(labels.contains(&"Regions: Regions"), "{labels:?}");
        let cutoff = changes
            .iter()
            .find(|c| c.label == "Schedule: End of trading day")
            .unwrap();
        assert_eq!(cutoff.before, "03:00 the next morning");
        assert_eq!(cutoff.after, "04:30 the next morning");
        assert!(changes.iter().any(|c| c.after.contains("Ontario")));
        for c in &changes {
            assert!(
                !c.label.contains('.') && !c.label.contains('_'),
                "{}",
                c.label
            );
        }
    }
}
