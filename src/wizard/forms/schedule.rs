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
    off_since_values(s, &mut v);
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

/// When billing or payroll is off, the day it was switched off (`billing_off_since`,
/// `payroll_off_since`): the page then asks, if it is switched back on, from which day to
/// resume. Added to posted values too, so the question stays on a page shown again.
pub fn off_since_values(s: &Settings, v: &mut Values) {
    for (key, off) in [
        ("billing_off_since", s.billing.off_since),
        ("payroll_off_since", s.payroll.off_since),
    ] {
        if let Some(d) = off {
            v.entry(key.into()).or_insert_with(|| d.to_string());
        }
    }
}

/// The question asked when a sync switched off is switched back on.
fn resume_field(
    what: &str,
    documents: &str,
    name: &str,
    off: &str,
    values: &Values,
    errors: &Errors,
) -> FieldView {
    FieldView::new(
        name,
        &format!("{what} was switched off on {off}. If you switch it back on, resume from…"),
        "radio",
        values,
        errors,
    )
    .choices(vec![
        (
            "off_day".into(),
            format!("{off}, the day it was switched off"),
            format!("The {documents} approved while it was off are copied too, each on its own day."),
        ),
        (
            "today".into(),
            "Today".into(),
            format!("The {documents} approved while it was off are not copied. You can back-sync them later from the integration's page."),
        ),
    ])
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
            fields: {
                let mut f = vec![FieldView::new("billing_enabled", "Billing: copy approved invoices and credit memos", "checkbox", values, errors)];
                if let Some(off) = values.get("billing_off_since") {
                    f.push(resume_field("Billing", "invoices and credit memos", "billing_resume", off, values, errors));
                }
                f.push(FieldView::new("payroll_enabled", "Payroll: copy approved and locked pay runs", "checkbox", values, errors));
                if let Some(off) = values.get("payroll_off_since") {
                    f.push(resume_field("Payroll", "pay runs", "payroll_resume", off, values, errors));
                }
                f
            },
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
    // Switched back on after a pause: from which day to resume.
    let mut resume = [None, None];
    for (n, (on, was_on, off, name, what)) in [
        (
            billing,
            settings.billing.enabled,
            settings.billing.off_since,
            "billing_resume",
            "invoices and credit memos",
        ),
        (
            payroll,
            settings.payroll.enabled,
            settings.payroll.off_since,
            "payroll_resume",
            "pay runs",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (true, false, Some(off)) = (on, was_on, off) else {
            continue;
        };
        match get(values, name) {
            "off_day" => resume[n] = Some(None),
            "today" => resume[n] = Some(Some(today)),
            _ => {
                errors.insert(
                    name.into(),
                    format!("Choose whether to copy the {what} approved since {off}, while it was off, or to start again from today."),
                );
            }
        }
    }
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
    pause(
        &mut settings.billing.enabled,
        &mut settings.billing.off_since,
        &mut settings.billing.resume_from,
        billing,
        resume[0],
        today,
    );
    pause(
        &mut settings.payroll.enabled,
        &mut settings.payroll.off_since,
        &mut settings.payroll.resume_from,
        payroll,
        resume[1],
        today,
    );
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Records a sync switched on or off: the day it went off, and when it comes back on, the
/// day it resumes from (`resumed`: `Some(None)` copies what was approved meanwhile).
fn pause(
    enabled: &mut bool,
    off_since: &mut Option<NaiveDate>,
    resume_from: &mut Option<NaiveDate>,
    on: bool,
    resumed: Option<Option<NaiveDate>>,
    today: NaiveDate,
) {
    match (*enabled, on) {
        (true, false) => *off_since = Some(today),
        (false, true) => {
            if let Some(from) = resumed {
                *resume_from = from.or(*resume_from);
            }
            *off_since = None;
        }
        _ => {}
    }
    *enabled = on;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn form(billing: bool, resume: Option<&str>) -> Values {
        let mut v = Values::new();
        for (k, x) in [
            ("start_date", "2026-11-01"),
            ("time_zone", "America/Toronto"),
            ("cutoff", "03:00"),
            ("payroll_enabled", "on"),
        ] {
            v.insert(k.into(), x.into());
        }
        if billing {
            v.insert("billing_enabled".into(), "on".into());
        }
        if let Some(r) = resume {
            v.insert("billing_resume".into(), r.into());
        }
        v
    }

    #[test]
    fn switching_billing_back_on_asks_from_which_day_to_resume_and_records_the_answer() {
        let today = |_: &str| d("2026-12-07");
        let mut s = Settings::default();
        s.billing.enabled = true;
        s.payroll.enabled = true;
        // Off: the day is recorded, and the page then asks the question.
        parse_schedule(&form(false, None), today, &mut s).unwrap();
        assert!(!s.billing.enabled);
        assert_eq!(s.billing.off_since, Some(d("2026-12-07")));
        let mut v = form(true, None);
        off_since_values(&s, &mut v);
        let sections = schedule_sections(&v, &Errors::new());
        assert!(
            sections[0]
                .fields
                .iter()
                .any(|f| f.name == "billing_resume"),
            "the question is on the page"
        );
        // Back on without an answer: refused, nothing lost.
        let mut tried = s.clone();
        let errors =
            parse_schedule(&form(true, None), |_| d("2026-12-20"), &mut tried).unwrap_err();
        assert!(
            errors["billing_resume"].contains("2026-12-07"),
            "{errors:?}"
        );
        // From today: what was approved while it was off is left out.
        let mut today_answer = s.clone();
        parse_schedule(
            &form(true, Some("today")),
            |_| d("2026-12-20"),
            &mut today_answer,
        )
        .unwrap();
        assert!(today_answer.billing.enabled);
        assert_eq!(today_answer.billing.resume_from, Some(d("2026-12-20")));
        assert_eq!(today_answer.billing.off_since, None);
        // From the day it went off: nothing is left out.
        let mut off_answer = s.clone();
        parse_schedule(
            &form(true, Some("off_day")),
            |_| d("2026-12-20"),
            &mut off_answer,
        )
        .unwrap();
        assert_eq!(off_answer.billing.resume_from, None);
        assert_eq!(off_answer.billing.off_since, None);
    }
}
