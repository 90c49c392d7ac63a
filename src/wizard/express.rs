//! Express setup from the wizard: the one place that calls the Express engine
//! ([`crate::mapping::express::ensure_defaults`]), fills the answers with the objects it
//! created or reused, and keeps a record of them for the review step.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Draft;
use super::catalog::{self, CatalogError, Sides};
use crate::integrations::settings::{
    LineGrouping, PayrollPosting, QboRef, Settings, SetupMethod, TaxTarget,
};
use crate::mapping::express::{
    self, Action, ExpressError, ExpressOptions, ExpressOutcome, Purpose, TaxClassInput,
};
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

/// What Express setup did, kept on the integration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpressRecord {
    /// When it ran.
    pub ran_at: DateTime<Utc>,
    /// Each object.
    pub objects: Vec<ExpressLine>,
    /// Notes about the whole company.
    pub notes: Vec<String>,
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

/// Runs Express setup for the integration: ensures the default accounts and items in QBO and
/// returns the answers filled with them, and the record of what was done. Safe to run again.
pub async fn apply(
    state: &AppState,
    draft: &Draft,
    sides: &Sides,
) -> Result<(Settings, ExpressRecord), ExpressFailure> {
    let classes = catalog::tax_classes(state, sides).await?;
    let inputs: Vec<TaxClassInput> = classes
        .iter()
        .filter_map(|c| {
            Some(TaxClassInput {
                id: c.key.parse().ok()?,
                name: c.name.clone(),
            })
        })
        .collect();
    let outcome = express::ensure_defaults(
        &state.providers.quickbooks,
        &sides.company(),
        &inputs,
        &ExpressOptions::default(),
    )
    .await?;
    let tax_codes = if draft.is_us() {
        Vec::new()
    } else {
        catalog::tax_codes(state, sides).await?
    };
    let settings = fill(draft, &outcome, &classes, &tax_codes);
    let class_names: std::collections::BTreeMap<i64, String> =
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
    };
    Ok((settings, record))
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase()
}

/// The answers Express gives, on top of what the customer already chose (schedule kept).
fn fill(
    draft: &Draft,
    outcome: &ExpressOutcome,
    classes: &[catalog::Source],
    tax_codes: &[catalog::QboOption],
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
    s.payroll.pay_code_accounts.clear();
    s.taxes.classes.clear();
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
        // Outside the US every line carries a tax code; Express picks the code whose name
        // matches the tax class, and leaves the others for the customer to choose.
        let active: Vec<&catalog::QboOption> = tax_codes.iter().filter(|t| t.active).collect();
        for class in classes {
            let Ok(id) = class.key.parse::<i64>() else {
                continue;
            };
            let wanted = normalise(&class.name);
            if let Some(code) = active.iter().find(|t| normalise(&t.name) == wanted) {
                s.taxes.classes.insert(
                    id,
                    TaxTarget::TaxCode {
                        code: QboRef::new(code.id.clone(), code.name.clone()),
                    },
                );
            }
        }
        s.taxes.automated_tax_item = None;
        s.taxes.exempt_tax_code = active
            .iter()
            .find(|t| {
                let n = t.name.to_lowercase();
                n.contains("exempt") || n.contains("zero")
            })
            .map(|t| QboRef::new(t.id.clone(), t.name.clone()));
    }
    s
}
