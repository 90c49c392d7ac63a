//! "Create a new product" in Advanced billing: a QuickBooks product named after a TrackTik bill item.

use super::catalog::{CatalogError, QboOption, Sides, items};
use super::forms::{BillingLists, Errors, Values};
use crate::providers::quickbooks::RequestId;
use crate::providers::quickbooks::models::{Item, Ref};
use crate::state::AppState;

/// The select value that asks for a new QuickBooks product named after the TrackTik bill item.
pub const NEW_PRODUCT: &str = "new";

/// A QuickBooks product named `name` for a bill item: the existing one with that name
/// (case-insensitive) if there is one, else a new non-inventory item selling into `income`
/// (the account the customer chose). The request id depends on the realm and the name, so
/// saving the form twice creates it once.
pub async fn create_product(
    state: &AppState,
    sides: &Sides,
    name: &str,
    income: &QboOption,
) -> Result<QboOption, CatalogError> {
    let name: String = name.replace([':', '"'], " ").chars().take(100).collect();
    let existing = items(state, sides).await?;
    if let Some(found) = existing.iter().find(|o| o.name.eq_ignore_ascii_case(&name)) {
        return Ok(found.clone());
    }
    let co = sides.company();
    let item = Item {
        name: Some(name.clone()),
        item_type: Some("NonInventory".into()),
        income_account_ref: Some(Ref::id(income.id.clone())),
        description: Some(format!("{name} (from TrackTik)")),
        ..Default::default()
    };
    let rid = RequestId::derive(&[&sides.realm_id, "wizard-new-product", &name.to_lowercase()]);
    let created = state.providers.quickbooks.create(&co, &item, &rid).await?;
    Ok(QboOption {
        id: created.id.unwrap_or_default(),
        name: created.name.unwrap_or(name),
        active: true,
        kind: "NonInventory".into(),
        income_account: Some(income.id.clone()),
    })
}

/// Turns every bill item set to [`NEW_PRODUCT`] in `values` into a real QuickBooks product
/// selling into the chosen `new_product_income` account, puts its id in `values` and adds it
/// to `lists`. Returns the errors, by field; nothing is created without an income account.
pub async fn create_requested(
    state: &AppState,
    sides: &Sides,
    lists: &mut BillingLists,
    values: &mut Values,
) -> Errors {
    let mut errors = Errors::new();
    let wanted: Vec<_> = lists
        .bill_items
        .iter()
        .filter(|b| values.get(&format!("item_{}", b.key)).map(String::as_str) == Some(NEW_PRODUCT))
        .cloned()
        .collect();
    if wanted.is_empty() {
        return errors;
    }
    let chosen = values
        .get("new_product_income")
        .map(|v| v.trim())
        .unwrap_or("");
    let income = match lists.income_accounts.iter().find(|a| a.id == chosen) {
        Some(a) if a.active => a.clone(),
        Some(a) => {
            errors.insert("new_product_income".into(), format!("“{}” is inactive in QuickBooks. Choose an active income account for the new products.", a.name));
            return errors;
        }
        None => {
            errors.insert(
                "new_product_income".into(),
                "Choose the income account the new products sell into.".into(),
            );
            return errors;
        }
    };
    for bill_item in wanted {
        let field = format!("item_{}", bill_item.key);
        match create_product(state, sides, &bill_item.name, &income).await {
            Ok(product) => {
                values.insert(field, product.id.clone());
                if !lists.items.iter().any(|o| o.id == product.id) {
                    lists.items.push(product);
                }
            }
            Err(e) => {
                errors.insert(
                    field,
                    format!(
                        "QuickBooks did not create a product for “{}”: {e}",
                        bill_item.name
                    ),
                );
            }
        }
    }
    errors
}
