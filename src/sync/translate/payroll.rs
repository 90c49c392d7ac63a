//! TrackTik pay run → one QBO bill, credit-card expense or journal entry.
//!
//! Items are grouped per `payroll.grouping`; a group's account is its pay code's account, else
//! the wages account, and groupings that mix pay codes (per pay run, per employee, per site)
//! are split by account first, so every line has one account. When Class (or, on journal
//! entries, Location) comes from the site, groups are split by site too. A line's amount is the
//! sum of its items' `total` — never quantity × rate. Lines come out in a stable order (the
//! group key's: employee name, pay code, site name, account), whatever the items' order.
//!
//! Pay codes that are amounts, not hours (TrackTik's `ADDITIONNER` pay codes: expense
//! reimbursements and other sums; the item's embedded pay code says so, else
//! `payroll.amount_codes`) never count as hours and never share a line with wages: they get
//! lines of their own, described as "reimbursements and other amounts", on their pay code's
//! account, else `payroll.amounts_account`, else the wages account.
//!
//! Zero and negative items: a negative item (an adjustment) stays in its group and reduces
//! it; a group that totals exactly zero is dropped (QBO lines of 0 carry nothing). On a
//! journal entry a negative group is posted on the other side (a credit to the expense
//! account), because journal lines must be positive. A pay run whose items total zero or less
//! cannot be posted at all: QBO rejects bills and expenses below zero, and a zero transaction
//! records nothing, so that is [`TranslateError::NothingToPost`] and the ledger can mark the
//! pay run skipped with the reason.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use crate::integrations::CompanyProfile;
use crate::integrations::settings::{Dimension, LineGrouping, PayrollPosting, QboRef, Settings};
use crate::providers::quickbooks::models::{Bill, JournalEntry, Line, Purchase, Ref};
use crate::providers::tracktik::models::{
    Client, Employee, PayCodeType, PayrollCode, Payrun, PayrunItem, Relation,
};

use super::dimensions::{Wanted, single_location};
use super::doc_number::fit_doc_number;
use super::posting::{Credit, Header, expense, journal_entry};
use super::{
    Area, Check, DimensionKind, DimensionRefs, Discrepancy, Names, TranslateError, add,
    currency_ref, is_us, name_of, qbo_ref, show, sub_cent_check,
};

/// Everything read from TrackTik about one pay run.
#[derive(Clone, Debug, PartialEq)]
pub struct PayrunDocument {
    /// The pay run (with `totalCost` when it was included).
    pub payrun: Payrun,
    /// Its items (`payroll-payrun-items`).
    pub items: Vec<PayrunItem>,
}

/// What the translation needs besides the document.
#[derive(Clone, Copy, Debug)]
pub struct PayrunContext<'a> {
    /// The integration's settings.
    pub settings: &'a Settings,
    /// The QBO company.
    pub company: &'a CompanyProfile,
    /// The region's currency (ISO code), when known.
    pub currency: Option<&'a str>,
    /// The Accounts Payable account for bills, when the customer chose one (QBO implies it
    /// when the company has a single one).
    pub ap_account: Option<&'a QboRef>,
    /// Names of employees, sites and regions sent as bare ids.
    pub names: &'a Names,
    /// QBO Class/Location per region and site.
    pub dimensions: &'a DimensionRefs,
}

/// The QBO transaction a pay run becomes.
#[derive(Clone, Debug, PartialEq)]
pub enum QboPayrun {
    /// A bill to the payroll vendor.
    Bill(Bill),
    /// A credit-card expense against the wages-liability account.
    Purchase(Purchase),
    /// A journal entry: expense debits, one liability credit.
    JournalEntry(JournalEntry),
}

impl QboPayrun {
    /// The transaction's lines.
    pub fn lines(&self) -> &[Line] {
        match self {
            QboPayrun::Bill(t) => &t.line,
            QboPayrun::Purchase(t) => &t.line,
            QboPayrun::JournalEntry(t) => &t.line,
        }
    }

    /// The transaction's `DocNumber`.
    pub fn doc_number(&self) -> Option<&str> {
        match self {
            QboPayrun::Bill(t) => t.doc_number.as_deref(),
            QboPayrun::Purchase(t) => t.doc_number.as_deref(),
            QboPayrun::JournalEntry(t) => t.doc_number.as_deref(),
        }
    }
}

/// The QBO transaction and what it must add up to.
#[derive(Clone, Debug, PartialEq)]
pub struct TranslatedPayrun {
    /// The transaction to create.
    pub transaction: QboPayrun,
    /// Σ item `total`: the transaction's total (a journal entry's debits and credits).
    pub expected_total: Decimal,
    /// Disagreements found (pay run `totalCost` vs Σ items, sub-cent amounts).
    pub discrepancies: Vec<Discrepancy>,
}

/// A transaction line before it is written: the key orders the lines.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    employee: Option<(String, i64)>,
    pay_code: Option<String>,
    site: Option<(String, i64)>,
    /// Amounts (reimbursements…) are never grouped with hours.
    amount: bool,
    account: String,
    class: Option<String>,
    location: Option<String>,
}

/// One transaction line's worth of items.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub(crate) account: Ref,
    pub(crate) class: Option<Ref>,
    pub(crate) location: Option<Ref>,
    pub(crate) total: Decimal,
    pub(crate) hours: Option<Decimal>,
}

/// Translates one approved, locked pay run per the payroll settings.
pub fn translate_payrun(
    doc: &PayrunDocument,
    ctx: &PayrunContext<'_>,
) -> Result<TranslatedPayrun, TranslateError> {
    let payrun = &doc.payrun;
    let record = format!("pay run {}", payrun.id);
    let payroll = &ctx.settings.payroll;
    // The Accounts Payable account chosen on the payroll step, unless the caller has one.
    let merged = PayrunContext {
        ap_account: ctx.ap_account.or(payroll.ap_account.as_ref()),
        ..*ctx
    };
    let ctx = &merged;
    let journal = payroll.posting == PayrollPosting::JournalEntry;

    let mut expected_total = Decimal::ZERO;
    for item in &doc.items {
        let total = item
            .total
            .ok_or_else(|| TranslateError::IncompleteDocument {
                record: format!("pay run item {}", item.id),
                field: "total",
            })?;
        expected_total = add(expected_total, total, &record)?;
    }
    if expected_total <= Decimal::ZERO {
        return Err(TranslateError::NothingToPost {
            record,
            reason: format!(
                "the pay run's items total {expected_total}; QuickBooks cannot post a pay run of zero or less."
            ),
            total: expected_total,
        });
    }
    let txn_date = payrun
        .occurrence_date
        .or(payrun.occurrence_end_date)
        .ok_or_else(|| TranslateError::IncompleteDocument {
            record: record.clone(),
            field: "occurrenceDate",
        })?;
    let currency = currency_ref(ctx.company, ctx.currency)?;
    let class = Wanted::new(
        ctx.company,
        DimensionKind::Class,
        payroll.class_from,
        Area::Payroll,
    )?;
    let location = Wanted::new(
        ctx.company,
        DimensionKind::Location,
        payroll.location_from,
        Area::Payroll,
    )?;
    let region = payrun.region.as_ref().map(|r| {
        let embedded = r.object().and_then(|o| o.name.as_deref());
        (r.id(), name_of(embedded, &ctx.names.regions, r.id()))
    });

    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    let mut txn_locations: Vec<(Option<i64>, Ref)> = Vec::new();
    for item in &doc.items {
        let total = item.total.unwrap_or_default();
        let code = pay_code(item);
        let amount = is_amount(item, code.as_deref(), &payroll.amount_codes);
        let account = code
            .as_ref()
            .and_then(|c| payroll.pay_code_accounts.get(c))
            .or(payroll.amounts_account.as_ref().filter(|_| amount))
            .or(payroll.wages_account.as_ref())
            .ok_or_else(|| TranslateError::MissingPayrollAccount {
                pay_code: code.clone().unwrap_or_default(),
            })?;
        let site = item.account.as_ref().map(|r| {
            let embedded = r.object().and_then(Client::display_name);
            (r.id(), name_of(embedded, &ctx.names.sites, r.id()))
        });
        let class_ref = class
            .map(|w| w.resolve(ctx.dimensions, region.clone(), site.clone(), item.id))
            .transpose()?;
        let location_ref = location
            .map(|w| w.resolve(ctx.dimensions, region.clone(), site.clone(), item.id))
            .transpose()?;
        let line_location = if journal {
            location_ref
        } else {
            if let Some(r) = location_ref {
                txn_locations.push((site.as_ref().map(|s| s.0), r));
            }
            None
        };
        let by_site = payroll.grouping == LineGrouping::PerSite
            || class.is_some_and(|w| w.from == Dimension::Site)
            || (journal && location.is_some_and(|w| w.from == Dimension::Site));
        let by_employee = matches!(
            payroll.grouping,
            LineGrouping::PerEmployee | LineGrouping::PerEmployeePayCode
        );
        let by_code = matches!(
            payroll.grouping,
            LineGrouping::PerPayCode | LineGrouping::PerEmployeePayCode
        );
        let key = GroupKey {
            employee: by_employee
                .then(|| item.employee.as_ref().map(|e| employee(e, ctx.names)))
                .flatten(),
            pay_code: if by_code { code.clone() } else { None },
            site: if by_site {
                site.map(|(id, n)| (n, id))
            } else {
                None
            },
            amount,
            account: account.id.clone(),
            class: class_ref.as_ref().map(|r| r.value.clone()),
            location: line_location.as_ref().map(|r| r.value.clone()),
        };
        let group = groups.entry(key).or_insert_with(|| Group {
            account: qbo_ref(account),
            class: class_ref,
            location: line_location,
            total: Decimal::ZERO,
            hours: None,
        });
        group.total = add(group.total, total, &record)?;
        if let Some(q) = item.quantity.filter(|_| !amount) {
            group.hours = Some(add(group.hours.unwrap_or_default(), q, &record)?);
        }
    }
    groups.retain(|_, g| !g.total.is_zero());

    let accounts: BTreeSet<&str> = groups.keys().map(|k| k.account.as_str()).collect();
    // Only groupings that mix pay codes need the account to tell their lines apart.
    let name_accounts = accounts.len() > 1
        && !matches!(
            payroll.grouping,
            LineGrouping::PerPayCode | LineGrouping::PerEmployeePayCode
        );
    let mut discrepancies = Vec::new();
    if let Some(cost) = payrun.total_cost
        && cost != expected_total
    {
        discrepancies.push(Discrepancy {
            what: Check::PayrunTotal,
            tracktik: cost,
            computed: expected_total,
        });
    }
    let described: Vec<(String, Group)> = groups
        .into_iter()
        .map(|(key, group)| {
            let text = describe(payrun.id, payroll.grouping, &key, &group, name_accounts);
            (text, group)
        })
        .collect();
    for (description, group) in &described {
        sub_cent_check(description, group.total, &mut discrepancies);
    }

    let header = Header {
        doc_number: Some(fit_doc_number(&format!("PR-{}", payrun.id))),
        txn_date,
        private_note: Some(period_note(payrun, region.as_ref().map(|r| r.1.as_str()))),
        currency,
        global_tax: (!is_us(ctx.company)).then(|| "NotApplicable".to_owned()),
    };
    let transaction = if journal {
        let region_only = |w: Option<Wanted>, r: Option<&Ref>| {
            w.filter(|w| w.from == Dimension::Region).and(r.cloned())
        };
        let first = described.first().map(|(_, g)| g);
        let credit = Credit {
            class: region_only(class, first.and_then(|g| g.class.as_ref())),
            location: region_only(location, first.and_then(|g| g.location.as_ref())),
            amount: expected_total,
            description: format!("Pay run {} — wages payable", payrun.id),
        };
        journal_entry(ctx, header, described, credit)?
    } else {
        let department_ref = single_location(Area::Payroll, txn_locations)?;
        expense(ctx, header, described, department_ref)?
    };
    Ok(TranslatedPayrun {
        transaction,
        expected_total,
        discrepancies,
    })
}

/// Whether the item is an amount, not hours: its embedded pay code's type says so (TrackTik's
/// `ADDITIONNER`), or, when the pay code came as a bare id, the payroll step recorded its
/// code as one.
fn is_amount(
    item: &PayrunItem,
    code: Option<&str>,
    amount_codes: &std::collections::BTreeSet<String>,
) -> bool {
    let embedded = [&item.custom_pay_code, &item.payroll_code]
        .into_iter()
        .flatten()
        .find_map(|r| r.object().and_then(|c: &PayrollCode| c.kind));
    match embedded {
        Some(kind) => kind == PayCodeType::Additionner,
        None => code.is_some_and(|c| amount_codes.contains(c)),
    }
}

/// The item's pay code: `payrollCodeLabel`, else the code of the embedded pay code.
fn pay_code(item: &PayrunItem) -> Option<String> {
    let embedded = |r: &Option<Relation<_>>| {
        r.as_ref()
            .and_then(Relation::object)
            .and_then(|c: &crate::providers::tracktik::models::PayrollCode| c.code.clone())
    };
    item.payroll_code_label
        .clone()
        .or_else(|| embedded(&item.custom_pay_code))
        .or_else(|| embedded(&item.payroll_code))
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
}

fn employee(relation: &Relation<Employee>, names: &Names) -> (String, i64) {
    let id = relation.id();
    let embedded = relation.object().and_then(|e| {
        e.name.clone().or_else(|| {
            let full = [e.first_name.as_deref(), e.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!full.is_empty()).then_some(full)
        })
    });
    (name_of(embedded.as_deref(), &names.employees, id), id)
}

/// "REG — 312.50 h", "Ana Diaz — OT — 8.00 h", "Main Gate — 120.00 h", "Pay run 77 — …";
/// "No employee", "No pay code", "No site" for items the grouping cannot place; amounts end
/// in "reimbursements and other amounts" instead of hours.
fn describe(
    payrun_id: i64,
    grouping: LineGrouping,
    key: &GroupKey,
    group: &Group,
    name_account: bool,
) -> String {
    use LineGrouping::*;
    let mut parts: Vec<String> = Vec::new();
    match &key.employee {
        Some((name, _)) => parts.push(name.clone()),
        None if matches!(grouping, PerEmployee | PerEmployeePayCode) => {
            parts.push("No employee".into());
        }
        None => {}
    }
    match &key.pay_code {
        Some(code) => parts.push(code.clone()),
        None if matches!(grouping, PerPayCode | PerEmployeePayCode) => {
            parts.push("No pay code".into());
        }
        None => {}
    }
    match &key.site {
        Some((name, _)) => parts.push(name.clone()),
        None if grouping == PerSite => parts.push("No site".into()),
        None => {}
    }
    if parts.is_empty() {
        parts.push(format!("Pay run {payrun_id}"));
    }
    if name_account {
        parts.push(
            group
                .account
                .name
                .clone()
                .unwrap_or_else(|| format!("account {}", group.account.value)),
        );
    }
    if key.amount {
        parts.push(AMOUNTS.to_owned());
    } else if let Some(hours) = group.hours.filter(|h| !h.is_zero()) {
        parts.push(format!("{} h", show(hours.round_dp(2))));
    }
    parts.join(" — ")
}

/// How lines of amounts (not hours) end.
pub const AMOUNTS: &str = "reimbursements and other amounts";

/// "TrackTik pay run 77, period 2026-11-09 to 2026-11-22 (Toronto)".
fn period_note(payrun: &Payrun, region: Option<&str>) -> String {
    let end = payrun.occurrence_end_date.or(payrun.occurrence_date);
    let mut note = format!("TrackTik pay run {}", payrun.id);
    match (payrun.occurrence_start_date, end) {
        (Some(start), Some(end)) => note.push_str(&format!(", period {start} to {end}")),
        (None, Some(end)) => note.push_str(&format!(", period ending {end}")),
        _ => {}
    }
    if let Some(region) = region {
        note.push_str(&format!(" ({region})"));
    }
    note
}
