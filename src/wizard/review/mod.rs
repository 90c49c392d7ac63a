//! The review step: every answer in words, and the checks that must pass before Save +
//! Continue activates the integration. Each problem names the step (and field) that fixes it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::catalog::{self, CatalogError, QboOption, Sides};
use super::regions::{self, RegionFacts};
use super::usage::{self, RecentUse};
use super::{Draft, Step, db, forms};
use crate::integrations::settings::{ClosedBooks, PayrollPosting, QboRef, TaxTarget};
use crate::mapping::tax_match::{ClassRates, percent};
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
    /// A problem fixed at `step`, `field`.
    pub fn new(step: Step, field: &str, message: impl Into<String>) -> Self {
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
    for (field, message) in regions::scope_problems_local(draft) {
        out.push(Problem::new(Step::Scope, &field, message));
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
    /// What was read from TrackTik about regions (activation checks overlaps with it again).
    pub facts: RegionFacts,
}

/// All checks: local ones; the scope (currencies, overlaps with the tenant's other
/// integrations); what TrackTik used in the last 90 days in this company's regions; every
/// mapped QuickBooks object (exists, active, of a kind QuickBooks accepts for its use).
pub async fn check(
    state: &AppState,
    draft: &Draft,
    sides: &Sides,
    today: NaiveDate,
) -> Result<Checked, CatalogError> {
    let s = &draft.settings.0;
    let mut problems = local_problems(draft, today);
    let facts = regions::read(state, sides).await?;
    let siblings = db::siblings(&state.db, draft.tenant_id, draft.integration_id).await?;
    for (field, message) in facts.problems(draft, &siblings) {
        problems.push(Problem::new(Step::Scope, &field, message));
    }
    let used = usage::recent_use(state, sides, &facts, &s.scope).await?;
    if s.billing.enabled {
        check_billing(state, draft, sides, &facts, &used, &mut problems).await?;
    }
    if s.payroll.enabled {
        let accounts = catalog::accounts(state, sides).await?;
        let p = &s.payroll;
        let mut refs: Vec<(String, &QboRef)> = Vec::new();
        refs.extend(
            p.wages_account
                .iter()
                .map(|r| ("wages_account".to_owned(), r)),
        );
        if p.posting != PayrollPosting::Bill {
            refs.extend(
                p.liability_account
                    .iter()
                    .map(|r| ("liability_account".to_owned(), r)),
            );
        }
        refs.extend(
            p.amounts_account
                .iter()
                .map(|r| ("amounts_account".to_owned(), r)),
        );
        refs.extend(p.ap_account.iter().map(|r| ("ap_account".to_owned(), r)));
        refs.extend(
            p.pay_code_accounts
                .iter()
                .map(|(c, r)| (format!("paycode_{c}"), r)),
        );
        for (field, r) in refs {
            check_ref(
                &mut problems,
                &accounts,
                r,
                Step::Payroll,
                &field,
                "account",
            );
        }
        for (field, message) in forms::posting_problems(p, &accounts) {
            if !problems
                .iter()
                .any(|x| x.step == Step::Payroll && x.field == field)
            {
                problems.push(Problem::new(Step::Payroll, &field, message));
            }
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
    let mut seen = BTreeSet::new();
    problems.retain(|p| seen.insert((p.step, p.field.clone(), p.message.clone())));
    Ok(Checked {
        problems,
        recent_invoices: used.invoices,
        facts,
    })
}

/// A product QuickBooks refuses on an invoice line: it sells into no income account.
fn check_sellable(
    problems: &mut Vec<Problem>,
    items: &[QboOption],
    r: &QboRef,
    step: Step,
    field: &str,
) {
    if items
        .iter()
        .any(|o| o.id == r.id && o.active && o.income_account.is_none())
    {
        problems.push(Problem::new(step, field, format!(
            "“{}” has no income account in QuickBooks, so QuickBooks refuses it on an invoice. Give it an income account in QuickBooks, or choose another product.", r.name)));
    }
}

async fn check_billing(
    state: &AppState,
    draft: &Draft,
    sides: &Sides,
    facts: &RegionFacts,
    used: &RecentUse,
    problems: &mut Vec<Problem>,
) -> Result<(), CatalogError> {
    let s = &draft.settings.0;
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
    let class_names: BTreeMap<i64, String> = facts
        .tax_classes
        .iter()
        .map(|c| {
            let rates = usage::class_rates(c);
            (c.id, rates.name)
        })
        .collect();
    let class_rates: BTreeMap<i64, ClassRates> = facts
        .tax_classes
        .iter()
        .map(|c| (c.id, usage::class_rates(c)))
        .collect();
    for id in &used.tax_classes {
        let name = class_names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("tax class {id}"));
        match s.taxes.classes.get(id) {
            None => problems.push(Problem::new(Step::Taxes, &format!("tax_{id}"), format!(
                "Map the tax class “{name}”: invoices approved in the last 90 days in this company's regions use it."))),
            Some(TaxTarget::Item { .. }) if !draft.is_us() => problems.push(Problem::new(Step::Taxes, &format!("tax_{id}"), format!(
                "“{name}” is mapped to a product, but your company is outside the US and needs a tax code. Choose a tax code."))),
            Some(TaxTarget::TaxCode { .. }) if draft.is_us() => problems.push(Problem::new(Step::Taxes, &format!("tax_{id}"), format!(
                "“{name}” is mapped to a tax code, but US companies post tax as a product line. Choose a product/service."))),
            _ => {}
        }
    }
    let items = catalog::items(state, sides).await?;
    let mut products: Vec<(String, &QboRef)> = Vec::new();
    products.extend(
        s.billing
            .default_item
            .iter()
            .map(|r| ("default_item".to_owned(), r)),
    );
    products.extend(
        s.billing
            .items
            .iter()
            .map(|(id, r)| (format!("item_{id}"), r)),
    );
    for (field, r) in products {
        check_ref(
            problems,
            &items,
            r,
            Step::Billing,
            &field,
            "product/service",
        );
        check_sellable(problems, &items, r, Step::Billing, &field);
    }
    if !s.billing.customer_map.is_empty() {
        let customers = catalog::customers(state, sides).await?;
        for (id, r) in &s.billing.customer_map {
            check_ref(
                problems,
                &customers,
                r,
                Step::Billing,
                &format!("customer_{id}"),
                "customer",
            );
        }
    }
    if draft.is_us() {
        let mut taxes: Vec<(String, &QboRef)> = Vec::new();
        for (id, t) in &s.taxes.classes {
            if let TaxTarget::Item { item } = t {
                taxes.push((format!("tax_{id}"), item));
            }
        }
        taxes.extend(
            s.taxes
                .automated_tax_item
                .iter()
                .map(|r| ("automated_tax_item".to_owned(), r)),
        );
        for (field, r) in taxes {
            check_ref(problems, &items, r, Step::Taxes, &field, "product/service");
            check_sellable(problems, &items, r, Step::Taxes, &field);
        }
    } else {
        let codes = catalog::tax_codes(state, sides).await?;
        let rates = usage::tax_code_rates(state, sides).await?;
        let rate_of = |id: &str| rates.iter().find(|c| c.id == id).and_then(|c| c.rate);
        for (id, t) in &s.taxes.classes {
            if let TaxTarget::TaxCode { code } = t {
                let field = format!("tax_{id}");
                check_ref(problems, &codes, code, Step::Taxes, &field, "tax code");
                let class = class_rates.get(id).and_then(|c| c.rate);
                if let (Some(want), Some(has)) = (class, rate_of(&code.id))
                    && want != has
                {
                    problems.push(Problem::new(Step::Taxes, &field, format!(
                        "TrackTik charges {} for “{}”, but its tax code “{}” charges {}: QuickBooks would compute other tax. Choose a code of {}.",
                        percent(want), class_names.get(id).cloned().unwrap_or_default(), code.name, percent(has), percent(want))));
                }
            }
        }
        if let Some(r) = &s.taxes.exempt_tax_code {
            check_ref(
                problems,
                &codes,
                r,
                Step::Taxes,
                "exempt_tax_code",
                "tax code",
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
