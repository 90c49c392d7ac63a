//! The schedule step: start date, time zone, cutoff, which syncs, notifications, back-sync.

use super::{Errors, FieldView, Section, Values, get};
use crate::integrations::settings::{ClosedBooks, Settings};
use chrono::{NaiveDate, NaiveTime};

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
