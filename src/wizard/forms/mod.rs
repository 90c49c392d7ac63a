//! Each step's form: the values shown (from saved answers, or as typed), the fields people
//! see, and validation of what was posted into [`Settings`]. Errors are keyed by field name and
//! say what to do.

mod billing;
mod payroll;
mod schedule;
mod taxes;

use std::collections::BTreeMap;

use super::catalog::QboOption;
use crate::integrations::CompanyPrefs;
use crate::integrations::settings::{Dimension, QboRef};

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

pub(super) fn get<'a>(values: &'a Values, name: &str) -> &'a str {
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
    pub(super) fn new(
        name: &str,
        label: &str,
        kind: &'static str,
        values: &Values,
        errors: &Errors,
    ) -> Self {
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

    pub(super) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    pub(super) fn choices(mut self, choices: Vec<(String, String, String)>) -> Self {
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
    pub(super) fn read_only(mut self) -> Self {
        // A prompt ("Choose a vendor") is not a value: an unset field reads as not chosen.
        self.value = match self.choices.iter().find(|c| c.selected) {
            Some(c) if c.value.is_empty() && c.label.starts_with("Choose") => {
                "Not chosen".to_owned()
            }
            Some(c) => c.label.clone(),
            None => self.value,
        };
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

pub(super) fn qbo_choices(
    options: &[QboOption],
    first: &str,
    current: &str,
) -> Vec<(String, String, String)> {
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

pub(super) fn dimension_choices() -> Vec<(String, String, String)> {
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

pub(super) fn dim_key(d: Option<Dimension>) -> String {
    match d {
        None => String::new(),
        Some(Dimension::Region) => "region".into(),
        Some(Dimension::Site) => "site".into(),
    }
}

pub(super) fn parse_dim(v: &str) -> Option<Dimension> {
    match v {
        "region" => Some(Dimension::Region),
        "site" => Some(Dimension::Site),
        _ => None,
    }
}

pub(super) fn ref_id(r: &Option<QboRef>) -> String {
    r.as_ref().map(|r| r.id.clone()).unwrap_or_default()
}

/// Looks up `id` among `options`: `Ok(None)` for empty, an error when missing or inactive.
pub(super) fn pick(options: &[QboOption], id: &str, what: &str) -> Result<Option<QboRef>, String> {
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
pub(super) fn dimension_fields(
    prefs: &CompanyPrefs,
    values: &Values,
    errors: &Errors,
) -> Vec<FieldView> {
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

pub use billing::{
    BillingLists, INCOME_TYPES, PLACEHOLDERS, Preview, billing_sections, billing_values,
    parse_billing, preview, render_template,
};
pub use payroll::{
    PayrollLists, parse_payroll, payroll_sections, payroll_values, posting_problems,
};
pub use schedule::{
    is_email, off_since_values, parse_schedule, schedule_sections, schedule_values,
};
pub use taxes::{TaxLists, parse_taxes, taxes_sections, taxes_values};

#[cfg(test)]
mod props;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wizard::catalog::SampleInvoice;
    use chrono::NaiveDate;

    fn sample() -> SampleInvoice {
        SampleInvoice {
            number: "INV-42".into(),
            client: "Acme Mall".into(),
            period_start: NaiveDate::from_ymd_opt(2026, 11, 1),
            period_end: NaiveDate::from_ymd_opt(2026, 11, 15),
            invoice_date: NaiveDate::from_ymd_opt(2026, 11, 16),
        }
    }

    #[test]
    fn the_preview_shortens_long_numbers_as_the_sync_does() {
        let values: Values = [
            (
                "doc_number_template".to_owned(),
                "ACME-SECURITY-{number}-{invoice_date}".to_owned(),
            ),
            ("memo_template".to_owned(), "{client}".to_owned()),
        ]
        .into();
        let p = preview(&values, &sample()).unwrap();
        assert!(p.shortened);
        assert!(p.doc_number.chars().count() <= 21, "{}", p.doc_number);
        assert!(p.doc_number.contains('~'));
        assert_eq!(p.memo, "Acme Mall");
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
                &PLACEHOLDERS
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
    fn a_read_only_field_shows_its_choice_and_a_prompt_reads_as_not_chosen() {
        let choices = || {
            vec![
                (String::new(), "Choose a vendor".to_owned(), String::new()),
                ("7".to_owned(), "Payroll Co".to_owned(), String::new()),
            ]
        };
        let unset = FieldView::new(
            "vendor",
            "Payroll vendor",
            "select",
            &Values::new(),
            &Errors::new(),
        )
        .choices(choices())
        .read_only();
        assert_eq!(
            (unset.kind, unset.value.as_str()),
            ("readonly", "Not chosen")
        );
        let values: Values = [("vendor".to_owned(), "7".to_owned())].into();
        let set = FieldView::new(
            "vendor",
            "Payroll vendor",
            "select",
            &values,
            &Errors::new(),
        )
        .choices(choices())
        .read_only();
        assert_eq!(set.value, "Payroll Co");
    }

    #[test]
    fn email_addresses_are_checked() {
        assert!(is_email("books@acme.com"));
        assert!(!is_email("books@acme"));
        assert!(!is_email("books acme.com"));
        assert!(!is_email("@acme.com"));
    }
}
