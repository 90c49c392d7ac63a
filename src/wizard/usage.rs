//! What the checks and Express need to know about use and rates: what the invoices of the
//! last 90 days in scope used (bill items, tax classes), what each QuickBooks tax code
//! charges, and what each TrackTik tax class charges.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::catalog::{CatalogError, Sides, query_all};
use super::regions::RegionFacts;
use crate::integrations::settings::ScopeSettings;
use crate::mapping::tax_match::{ClassRates, CodeRates};
use crate::providers::quickbooks::models::{TaxCode, TaxRate};
use crate::providers::tracktik::models::TaxClass;
use crate::state::AppState;

/// What invoices approved in the last 90 days used.
#[derive(Clone, Debug, Default)]
pub struct RecentUse {
    /// How many invoices.
    pub invoices: usize,
    /// Bill item id → how many billable items used it.
    pub bill_items: BTreeMap<i64, usize>,
    /// Tax class ids on invoices or their lines.
    pub tax_classes: BTreeSet<i64>,
}

/// What the invoices of the last 90 days that `scope` takes used.
pub async fn recent_use(
    state: &AppState,
    sides: &Sides,
    facts: &RegionFacts,
    scope: &ScopeSettings,
) -> Result<RecentUse, CatalogError> {
    let index = facts.index(scope);
    let invoices: Vec<_> = facts
        .invoices
        .iter()
        .filter(|i| index.is_every() || i.client.is_some_and(|c| index.client(c)))
        .collect();
    let mut used = RecentUse {
        invoices: invoices.len(),
        ..RecentUse::default()
    };
    for invoice in &invoices {
        used.tax_classes.extend(invoice.tax_classes.iter().copied());
    }
    let ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    if !ids.is_empty() {
        for b in state
            .providers
            .tracktik
            .billable_items_for_invoices(&sides.portal, &sides.tracktik, &ids)
            .await?
        {
            if let Some(item) = &b.bill_item {
                *used.bill_items.entry(item.id()).or_default() += 1;
            }
        }
    }
    Ok(used)
}

/// The company's tax codes with the sum of their sales rates (non-US companies).
pub async fn tax_code_rates(
    state: &AppState,
    sides: &Sides,
) -> Result<Vec<CodeRates>, CatalogError> {
    let codes = query_all::<TaxCode>(state, sides).await?;
    let rates: BTreeMap<String, Decimal> = query_all::<TaxRate>(state, sides)
        .await?
        .into_iter()
        .filter_map(|r| Some((r.id?, r.rate_value?)))
        .collect();
    Ok(codes
        .into_iter()
        .filter_map(|c| {
            let details = c
                .sales_tax_rate_list
                .map(|l| l.tax_rate_detail)
                .unwrap_or_default();
            let mut sum = Some(Decimal::ZERO);
            for d in &details {
                let rate = d.tax_rate_ref.as_ref().and_then(|r| rates.get(&r.value));
                sum = match (sum, rate) {
                    (Some(s), Some(r)) => Some(s + r),
                    _ => None,
                };
            }
            Some(CodeRates {
                id: c.id?,
                name: c.name.unwrap_or_default(),
                active: c.active.unwrap_or(true),
                // A code without sales rates (exempt) charges nothing.
                rate: sum,
            })
        })
        .collect())
}

/// A TrackTik tax class's rate: the sum of its component percentages, when TrackTik listed
/// them (`include=items`).
pub fn class_rates(class: &TaxClass) -> ClassRates {
    let items = class.items.as_deref();
    ClassRates {
        id: class.id,
        name: class
            .name
            .clone()
            .unwrap_or_else(|| format!("Tax class {}", class.id)),
        components: items
            .into_iter()
            .flatten()
            .filter_map(|i| i.code.clone())
            .collect(),
        rate: items.and_then(|items| {
            items
                .iter()
                .map(|i| i.percentage)
                .try_fold(Decimal::ZERO, |acc, p| Some(acc + p?))
        }),
    }
}
