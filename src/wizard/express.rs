//! Express setup from the wizard: the one place that calls the Express engine
//! ([`crate::mapping::express::ensure_defaults`]), fills the answers with the objects it
//! created or reused, and keeps a record of them for the review step.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;

use super::Draft;
use super::catalog::{self, CatalogError, Sides};
use super::regions::{self, RegionFacts};
use super::usage;
use crate::integrations::settings::{
    LineGrouping, PayrollPosting, QboRef, ScopeSettings, Settings, SetupMethod, TaxTarget,
};
use crate::mapping::express::{
    self, Action, ExpressError, ExpressOptions, ExpressOutcome, Purpose, TaxClassInput,
};
use crate::mapping::labels;
use crate::mapping::tax_match::{ClassRates, CodeRates, TaxMatch, match_class, percent};
use crate::providers::quickbooks::models::Ref;
use crate::state::AppState;

/// One object Express setup ensured, as the review step lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpressLine {
    /// What it is for ("Payroll wages", "Tax class ON HST"…).
    pub purpose: String,
    /// `account` or `product/service`.
    pub kind: String,
    /// Its QBO name.
    pub name: String,
    /// Account type or item type.
    pub object_type: String,
    /// Detail type of an account.
    pub detail_type: Option<String>,
    /// Account number or SKU.
    pub number: Option<String>,
    /// QBO id.
    pub qbo_id: String,
    /// Created, reused, reactivated, created under another name.
    pub action: String,
    /// What the customer should know.
    pub notes: Vec<String>,
}

impl ExpressLine {
    /// "Expense · Payroll Wage Expenses", "Non-inventory": the type in QuickBooks' words.
    pub fn type_label(&self) -> String {
        let t = labels::object_type(&self.object_type);
        match &self.detail_type {
            Some(d) => format!("{t} · {}", labels::detail_type(d)),
            None => t,
        }
    }
}

/// What Express setup did, kept on the integration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpressRecord {
    /// When it ran.
    pub ran_at: DateTime<Utc>,
    /// Each object.
    pub objects: Vec<ExpressLine>,
    /// Notes about the whole company.
    pub notes: Vec<String>,
    /// Outside the US: how each tax class was matched to a tax code.
    #[serde(default)]
    pub tax_codes: Vec<TaxCodeLine>,
}

impl ExpressRecord {
    /// How many objects were created (under any name).
    pub fn created(&self) -> usize {
        self.objects
            .iter()
            .filter(|o| o.action.starts_with("Created"))
            .count()
    }

    /// How many existing objects were used (reactivated included).
    pub fn reused(&self) -> usize {
        self.objects.len() - self.created()
    }

    /// This run's record, keeping what an earlier run of the same setup did to an object it
    /// now merely reused ("Created" stays "Created" when Express runs again for new regions).
    pub fn after(mut self, earlier: Option<&ExpressRecord>) -> Self {
        if let Some(earlier) = earlier {
            for o in &mut self.objects {
                if o.action == action_label(Action::Reused)
                    && let Some(before) = earlier
                        .objects
                        .iter()
                        .find(|b| b.qbo_id == o.qbo_id && b.kind == o.kind)
                {
                    o.action = before.action.clone();
                }
            }
        }
        self
    }
}

/// Why Express setup could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ExpressFailure {
    /// Reading TrackTik or getting tokens failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// The engine stopped.
    #[error(transparent)]
    Engine(#[from] ExpressError),
}

impl ExpressFailure {
    /// What the customer reads.
    pub fn advice(&self) -> String {
        match self {
            Self::Catalog(e) => e.advice(),
            Self::Engine(e) => e.to_string(),
        }
    }
}

fn qbo_ref(r: &Ref) -> QboRef {
    QboRef::new(r.value.clone(), r.name.clone().unwrap_or_default())
}

fn action_label(a: Action) -> &'static str {
    match a {
        Action::Created => "Created",
        Action::Reused => "Reused",
        Action::Reactivated => "Reactivated",
        Action::CreatedUnderOtherName => "Created under another name",
    }
}

/// How one tax class was matched to a tax code (non-US companies), for the review page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxCodeLine {
    /// "ON HST (13 %)".
    pub class: String,
    /// "HST ON", or what the customer has to do.
    pub outcome: String,
    /// A code was chosen.
    pub matched: bool,
}

/// Runs Express setup for the integration with `scope`: ensures the default accounts and
/// items in QBO, tax-class ones only for the tax classes the scope uses, and returns the
/// answers filled with them (outside the US, each tax class gets the tax code matching it
/// by rate and name), and the record of what was done. Safe to run again.
pub async fn apply(
    state: &AppState,
    draft: &Draft,
    sides: &Sides,
    facts: &RegionFacts,
    scope: &ScopeSettings,
) -> Result<(Settings, ExpressRecord), ExpressFailure> {
    let used = facts.classes_in_scope(scope);
    let classes: Vec<ClassRates> = facts
        .tax_classes
        .iter()
        .filter(|c| used.contains(&c.id))
        .map(usage::class_rates)
        .collect();
    let inputs: Vec<TaxClassInput> = classes
        .iter()
        .map(|c| TaxClassInput {
            id: c.id,
            name: c.name.clone(),
        })
        .collect();
    let outcome = express::ensure_defaults(
        &state.providers.quickbooks,
        &sides.company(),
        &inputs,
        &ExpressOptions::default(),
    )
    .await?;
    let codes = if draft.is_us() {
        Vec::new()
    } else {
        usage::tax_code_rates(state, sides).await?
    };
    let (_, amount_codes) = catalog::pay_codes(state, sides).await?;
    let mut settings = fill(draft, &outcome, &classes, &codes);
    settings.scope = scope.clone();
    settings.payroll.amount_codes = amount_codes;
    let class_names: BTreeMap<i64, String> =
        inputs.iter().map(|c| (c.id, c.name.clone())).collect();
    let record = ExpressRecord {
        ran_at: Utc::now(),
        objects: outcome
            .objects
            .iter()
            .map(|o| ExpressLine {
                purpose: match o.purpose {
                    Purpose::Wages => "Payroll wages".to_owned(),
                    Purpose::WagesLiability => "Payroll liability".to_owned(),
                    Purpose::ServiceIncome => "Billing income".to_owned(),
                    Purpose::TaxClass { id } => format!(
                        "Tax class {}",
                        class_names
                            .get(&id)
                            .cloned()
                            .unwrap_or_else(|| id.to_string())
                    ),
                    Purpose::AutomatedTax => "Automated calculated tax".to_owned(),
                },
                kind: o.kind.to_string(),
                name: o.name.clone(),
                object_type: o.object_type.clone(),
                detail_type: o.detail_type.clone(),
                number: o.number.clone(),
                qbo_id: o.qbo_id.clone(),
                action: action_label(o.action).to_owned(),
                notes: o.notes.clone(),
            })
            .collect(),
        notes: outcome.notes.clone(),
        tax_codes: if draft.is_us() {
            Vec::new()
        } else {
            tax_code_lines(&classes, &codes)
        },
    };
    Ok((settings, record))
}

fn class_label(c: &ClassRates) -> String {
    match c.rate {
        Some(r) => format!("{} ({})", c.name, percent(r)),
        None => c.name.clone(),
    }
}

fn code_names(ids: &[String], codes: &[CodeRates]) -> String {
    let names: Vec<String> = ids
        .iter()
        .filter_map(|id| codes.iter().find(|c| &c.id == id))
        .map(|c| format!("“{}”", c.name))
        .collect();
    regions::join(&names)
}

/// What matching says about each class, in words.
pub fn tax_code_lines(classes: &[ClassRates], codes: &[CodeRates]) -> Vec<TaxCodeLine> {
    classes
        .iter()
        .map(|c| {
            let (outcome, matched) = match match_class(c, codes) {
                TaxMatch::Matched(id) => (
                    codes
                        .iter()
                        .find(|x| x.id == id)
                        .map(|x| x.name.clone())
                        .unwrap_or(id),
                    true,
                ),
                TaxMatch::Several(ids) => (
                    format!(
                        "Several tax codes charge that: {}. Choose one on the Taxes step.",
                        code_names(&ids, codes)
                    ),
                    false,
                ),
                TaxMatch::Nothing(ids) if ids.is_empty() => (
                    "No tax code of this company charges that. Choose one on the Taxes step, or leave its region out.".to_owned(),
                    false,
                ),
                TaxMatch::Nothing(ids) => (
                    format!(
                        "No tax code of this company charges that; closest by name: {}. Choose one on the Taxes step.",
                        code_names(&ids, codes)
                    ),
                    false,
                ),
            };
            TaxCodeLine {
                class: class_label(c),
                outcome,
                matched,
            }
        })
        .collect()
}

/// The answers Express gives, on top of what the customer already chose (schedule kept, and
/// tax codes the customer picked for classes Express could not match).
fn fill(
    draft: &Draft,
    outcome: &ExpressOutcome,
    classes: &[ClassRates],
    codes: &[CodeRates],
) -> Settings {
    let refs = &outcome.refs;
    let mut s = draft.settings.0.clone();
    s.setup_method = Some(SetupMethod::Express);
    s.billing.default_item = Some(qbo_ref(&refs.service_income_item));
    s.billing.items.clear();
    s.payroll.posting = PayrollPosting::CreditCardExpense;
    s.payroll.grouping = LineGrouping::PerPayCode;
    s.payroll.wages_account = Some(qbo_ref(&refs.wages_account));
    s.payroll.liability_account = Some(qbo_ref(&refs.wages_liability_account));
    s.payroll.vendor = None;
    s.payroll.ap_account = None;
    s.payroll.amounts_account = None;
    s.payroll.pay_code_accounts.clear();
    let before = std::mem::take(&mut s.taxes.classes);
    if draft.is_us() {
        for (id, pair) in &refs.tax_classes {
            s.taxes.classes.insert(
                *id,
                TaxTarget::Item {
                    item: qbo_ref(&pair.item),
                },
            );
        }
        s.taxes.automated_tax_item = Some(qbo_ref(&refs.automated_tax.item));
        s.taxes.exempt_tax_code = None;
    } else {
        // Outside the US every line carries a tax code: each class gets the code matching it
        // by rate and name; a class matching nothing (or several) keeps what the customer
        // chose, if anything.
        let active = |id: &str| codes.iter().find(|c| c.id == id && c.active);
        for class in classes {
            let code = match match_class(class, codes) {
                TaxMatch::Matched(id) => {
                    active(&id).map(|c| QboRef::new(c.id.clone(), c.name.clone()))
                }
                _ => match before.get(&class.id) {
                    Some(TaxTarget::TaxCode { code }) if active(&code.id).is_some() => {
                        Some(code.clone())
                    }
                    _ => None,
                },
            };
            if let Some(code) = code {
                s.taxes
                    .classes
                    .insert(class.id, TaxTarget::TaxCode { code });
            }
        }
        s.taxes.automated_tax_item = None;
        let untaxed = |word: &str| {
            codes.iter().find(|c| {
                c.active
                    && c.rate.is_none_or(|r| r.is_zero())
                    && c.name.to_lowercase().contains(word)
            })
        };
        s.taxes.exempt_tax_code = untaxed("exempt")
            .or_else(|| untaxed("zero"))
            .map(|c| QboRef::new(c.id.clone(), c.name.clone()))
            .or(s.taxes.exempt_tax_code.take());
    }
    s
}
