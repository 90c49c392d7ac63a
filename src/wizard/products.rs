//! "Create a new product" in Advanced billing: a QuickBooks product named after a TrackTik bill item.

use super::catalog::{CatalogError, QboOption, Sides, items};
use super::forms::{BillingLists, Errors, Values};
use crate::providers::quickbooks::RequestId;
use crate::providers::quickbooks::models::{Account, Item, Ref};
use crate::state::AppState;

/// The select value that asks for a new QuickBooks product named after the TrackTik bill item.
pub const NEW_PRODUCT: &str = "new";

/// A QuickBooks product named `name` for a bill item: the existing one with that name
/// (case-insensitive) if there is one, else a new non-inventory item whose income account is
/// that of `like` (the default product) or, failing that, the company's first income account.
/// The request id depends on the realm and the name, so saving the form twice creates it once.
pub async fn create_product(
    state: &AppState,
    sides: &Sides,
    name: &str,
    like: Option<&str>,
) -> Result<QboOption, CatalogError> {
    let name: String = name.replace([':', '"'], " ").chars().take(100).collect();
    let existing = items(state, sides).await?;
    if let Some(found) = existing.iter().find(|o| o.name.eq_ignore_ascii_case(&name)) {
        return Ok(found.clone());
    }
    let co = sides.company();
    let income = match like {
        Some(id) => {
            state
                .providers
                .quickbooks
                .read::<Item>(&co, id)
                .await?
                .income_account_ref
        }
        None => None,
    };
    let income = match income {
        Some(r) => r,
        None => {
            let accounts: Vec<Account> = state
                .providers
                .quickbooks
                .query(&co, "select * from Account where AccountType = 'Income'")
                .await?;
            let first = accounts
                .into_iter()
                .find_map(|a| a.id)
                .ok_or(CatalogError::NoIncomeAccount)?;
            Ref::id(first)
        }
    };
    let item = Item {
        name: Some(name.clone()),
        item_type: Some("NonInventory".into()),
        income_account_ref: Some(income),
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
    })
}

/// Turns every bill item set to [`NEW_PRODUCT`] in `values` into a real QuickBooks product,
/// puts its id in `values` and adds it to `lists`. Returns the errors, by field.
pub async fn create_requested(
    state: &AppState,
    sides: &Sides,
    lists: &mut BillingLists,
    values: &mut Values,
) -> Errors {
    let mut errors = Errors::new();
    let like = values
        .get("default_item")
        .filter(|v| !v.is_empty())
        .cloned();
    for bill_item in lists.bill_items.clone() {
        let field = format!("item_{}", bill_item.key);
        if values.get(&field).map(String::as_str) != Some(NEW_PRODUCT) {
            continue;
        }
        match create_product(state, sides, &bill_item.name, like.as_deref()).await {
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
