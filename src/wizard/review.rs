//! The review step: every answer in words, and the checks that must pass before Save +
//! Continue activates the integration. Each problem names the step (and field) that fixes it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::catalog::{self, CatalogError, QboOption, Sides};
use super::{Draft, Step};
use crate::integrations::settings::{ClosedBooks, PayrollPosting, QboRef, TaxTarget};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{IntegrationId, TenantId};
    use crate::integrations::settings::{Settings, SetupMethod};
    use crate::integrations::{CompanyPrefs, IntegrationState};
    use sqlx::types::Json;

    fn draft(settings: Settings, prefs: CompanyPrefs) -> Draft {
        Draft {
            integration_id: IntegrationId(uuid::Uuid::nil()),
            tenant_id: TenantId(uuid::Uuid::nil()),
            realm_id: "1".into(),
            company_name: "Acme".into(),
            country: "US".into(),
            home_currency: "USD".into(),
            company_prefs: Json(prefs),
            state: IntegrationState::Draft,
            settings: Json(settings),
            wizard_step: "review".into(),
            wizard_reached: "review".into(),
            settings_saved_at: None,
            activated_at: None,
            express_outcome: None,
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn missing_payroll_accounts_and_backwards_dates_are_problems_of_their_steps() {
        let mut s = Settings {
            setup_method: Some(SetupMethod::Advanced),
            ..Settings::default()
        };
        s.payroll.enabled = true;
        s.taxes.automated_tax_item = Some(QboRef::new("1", "Tax"));
        s.schedule.start_date = Some(day("2026-11-20"));
        s.schedule.back_sync_from = Some(day("2026-11-25"));
        s.schedule.time_zone = Some("America/Toronto".into());
        let problems = local_problems(&draft(s, CompanyPrefs::default()), day("2026-11-26"));
        let at: Vec<(Step, &str)> = problems
            .iter()
            .map(|p| (p.step, p.field.as_str()))
            .collect();
        assert!(at.contains(&(Step::Payroll, "wages_account")), "{at:?}");
        assert!(at.contains(&(Step::Payroll, "liability_account")), "{at:?}");
        assert!(at.contains(&(Step::Schedule, "back_sync_from")), "{at:?}");
        assert!(!at.iter().any(|(s, _)| *s == Step::Taxes), "{at:?}");
    }

    #[test]
    fn a_start_inside_closed_books_is_a_problem_unless_posting_on_the_first_open_date() {
        let mut s = Settings {
            setup_method: Some(SetupMethod::Express),
            ..Settings::default()
        };
        s.taxes.automated_tax_item = Some(QboRef::new("1", "Tax"));
        s.schedule.start_date = Some(day("2026-10-01"));
        s.schedule.time_zone = Some("UTC".into());
        let prefs = CompanyPrefs {
            book_close_date: Some(day("2026-10-31")),
            ..CompanyPrefs::default()
        };
        let problems = local_problems(&draft(s.clone(), prefs.clone()), day("2026-11-26"));
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("closed through 2026-10-31")),
            "{problems:?}"
        );
        s.schedule.closed_books = ClosedBooks::PostOnFirstOpenDate;
        assert!(local_problems(&draft(s, prefs), day("2026-11-26")).is_empty());
    }
}
