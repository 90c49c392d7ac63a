//! The engine: reads the company's settings and its accounts and items (inactive ones too), then
//! walks the table, reusing, reactivating or creating each object.

use std::collections::{BTreeMap, HashSet};

use super::compat::{account_compatible, item_compatible, refuses_sub_type};
use super::decide::{Decision, Existing, NamesTaken, Wanted, decide};
use super::plan::{self, Row, types};
use super::{
    Action, ExpressError, ExpressObject, ExpressOptions, ExpressOutcome, ExpressRefs,
    ItemAndAccount, ObjectKind, Purpose, TaxClassInput,
};
use crate::providers::quickbooks::models::{Account, Item, Ref};
use crate::providers::quickbooks::{Company, QboError, QuickBooksClient, RequestId};

const NUMBERS_OFF: &str = "Account numbers are turned off in this QuickBooks company, so accounts were matched by name only and created without TT- numbers.";

/// Ensures the Express accounts and items exist in the company `co`, and returns what was
/// created or reused and the references the syncs need. Safe to run again at any time, also
/// after a failure halfway: nothing is ever duplicated. See the [module docs](super) for the
/// rules.
#[tracing::instrument(skip_all, fields(realm = co.realm_id, tax_classes = tax_classes.len()))]
pub async fn ensure_defaults(
    qbo: &QuickBooksClient,
    co: &Company<'_>,
    tax_classes: &[TaxClassInput],
    options: &ExpressOptions,
) -> Result<ExpressOutcome, ExpressError> {
    let rows = plan::rows(tax_classes)?;
    let prefs = qbo
        .preferences(co)
        .await
        .map_err(|e| ExpressError::Company(Box::new(e)))?;
    let info = qbo
        .company_info(co)
        .await
        .map_err(|e| ExpressError::Company(Box::new(e)))?;
    let numbers_on = prefs
        .accounting_info_prefs
        .as_ref()
        .and_then(|p| p.use_account_numbers)
        // Sending a number to a company that has them off is refused; matching by name is safe.
        .unwrap_or(false);
    let home_currency = prefs
        .currency_prefs
        .as_ref()
        .and_then(|c| c.home_currency.as_ref())
        .map(|r| r.value.clone());
    let accounts: Vec<Account> = qbo
        .query(co, "SELECT * FROM Account WHERE Active IN (true,false)")
        .await
        .map_err(|source| ExpressError::List {
            what: "accounts",
            source: Box::new(source),
        })?;
    let items: Vec<Item> = qbo
        .query(co, "SELECT * FROM Item WHERE Active IN (true,false)")
        .await
        .map_err(|source| ExpressError::List {
            what: "products and services",
            source: Box::new(source),
        })?;
    let known: HashSet<String> = accounts
        .iter()
        .filter_map(|a| a.id.clone())
        .chain(items.iter().filter_map(|i| i.id.clone()))
        .collect();
    let mut run = Run {
        qbo,
        co,
        options,
        numbers_on,
        home_currency,
        us: info.country.as_deref() == Some("US"),
        accounts: accounts.into_iter().filter(|a| a.id.is_some()).collect(),
        items: items.into_iter().filter(|i| i.id.is_some()).collect(),
        known_before: known,
        claimed: HashSet::new(),
    };

    let mut objects = Vec::new();
    for row in &rows {
        let account = run.ensure_account(row).await?;
        if row.with_item {
            let item = run.ensure_item(row, &account).await?;
            objects.push(account);
            objects.push(item);
        } else {
            objects.push(account);
        }
    }
    let mut notes = Vec::new();
    if !numbers_on {
        notes.push(NUMBERS_OFF.to_owned());
    }
    let refs = refs(&objects);
    tracing::info!(
        created = objects
            .iter()
            .filter(|o| o.action != Action::Reused)
            .count(),
        "express setup ensured"
    );
    Ok(ExpressOutcome {
        objects,
        notes,
        refs,
    })
}

struct Run<'a> {
    qbo: &'a QuickBooksClient,
    co: &'a Company<'a>,
    options: &'a ExpressOptions,
    numbers_on: bool,
    home_currency: Option<String>,
    us: bool,
    accounts: Vec<Account>,
    items: Vec<Item>,
    /// Ids that existed before this run: a create answered with one of them is a replay of an
    /// older run's create, not a new object.
    known_before: HashSet<String>,
    /// Ids already serving a row, so no object serves two.
    claimed: HashSet<String>,
}

impl Run<'_> {
    async fn ensure_account(&mut self, row: &Row) -> Result<ExpressObject, ExpressError> {
        let spec = &row.account;
        let key = self.numbers_on.then_some(spec.number.as_str());
        let wanted = Wanted {
            what: "account",
            name: &spec.name,
            key,
            key_unique: true,
            conflict_suffix: &self.options.conflict_suffix,
        };
        let home = self.home_currency.as_deref();
        let numbers_on = self.numbers_on;
        let decision = decide(&self.accounts, &self.claimed, &wanted, |a| {
            account_compatible(a, spec, home, numbers_on)
        })
        .map_err(|t| names_taken(ObjectKind::Account, t))?;
        let mut notes = Vec::new();
        if !self.numbers_on {
            notes.push(format!(
                "No account number ({} in Express): account numbers are off in this company, so it was matched by name only.",
                spec.number
            ));
        }
        let (account, action) = match decision {
            Decision::Use {
                index,
                reactivate_as,
                notes: more,
            } => {
                notes.extend(more);
                match reactivate_as {
                    None => (self.accounts[index].clone(), Action::Reused),
                    Some(name) => {
                        let old = &self.accounts[index];
                        let body = Account {
                            id: old.id.clone(),
                            sync_token: old.sync_token.clone(),
                            sparse: Some(true),
                            active: Some(true),
                            name: Some(name.clone()),
                            ..Default::default()
                        };
                        let rid = self.reactivation_id("account", old.id(), &old.sync_token);
                        let updated = self.qbo.update(self.co, &body, &rid).await.map_err(|e| {
                            write_error(row, ObjectKind::Account, &name, "reactivate", e)
                        })?;
                        notes.push("It was inactive and has been made active again.".to_owned());
                        self.accounts[index] = updated.clone();
                        (updated, Action::Reactivated)
                    }
                }
            }
            Decision::Create {
                name,
                send_key,
                under_other_name,
                notes: more,
            } => {
                notes.extend(more);
                let number = (self.numbers_on && send_key).then(|| spec.number.clone());
                let created = self.create_account(row, &name, number, &mut notes).await?;
                self.accounts.push(created.clone());
                let action = if under_other_name {
                    Action::CreatedUnderOtherName
                } else {
                    Action::Created
                };
                (created, action)
            }
        };
        self.claimed.insert(account.id().to_owned());
        Ok(ExpressObject {
            purpose: row.purpose,
            kind: ObjectKind::Account,
            name: account.name().to_owned(),
            object_type: account.account_type.clone().unwrap_or_default(),
            detail_type: account.account_sub_type.clone(),
            number: account.acct_num.clone().filter(|n| !n.is_empty()),
            qbo_id: account.id().to_owned(),
            action,
            notes,
        })
    }

    /// Creates the account; falls back to the spec's other detail type when QBO refuses the
    /// first (some companies refuse `PayrollWageExpenses`).
    async fn create_account(
        &self,
        row: &Row,
        name: &str,
        number: Option<String>,
        notes: &mut Vec<String>,
    ) -> Result<Account, ExpressError> {
        let spec = &row.account;
        let mut body = Account {
            name: Some(name.to_owned()),
            acct_num: number,
            account_type: Some(spec.account_type.to_owned()),
            account_sub_type: Some(spec.sub_type.to_owned()),
            ..Default::default()
        };
        match self.create_account_once(&body).await {
            Ok(a) => Ok(a),
            Err(e) if spec.fallback_sub_type.is_some() && refuses_sub_type(&e) => {
                let fallback = spec.fallback_sub_type.unwrap_or(spec.sub_type);
                tracing::info!(refused = spec.sub_type, fallback, "detail type refused");
                body.account_sub_type = Some(fallback.to_owned());
                let created = self
                    .create_account_once(&body)
                    .await
                    .map_err(|e| write_error(row, ObjectKind::Account, name, "create", e))?;
                notes.push(format!(
                    "QuickBooks refused the detail type {} in this company, so the account was created with {}. You can change it in QuickBooks if your plan allows.",
                    crate::mapping::labels::detail_type(spec.sub_type),
                    crate::mapping::labels::detail_type(fallback)
                ));
                Ok(created)
            }
            Err(e) => Err(write_error(row, ObjectKind::Account, name, "create", e)),
        }
    }

    async fn create_account_once(&self, body: &Account) -> Result<Account, QboError> {
        let parts = [
            body.name.as_deref().unwrap_or_default(),
            body.acct_num.as_deref().unwrap_or_default(),
            body.account_type.as_deref().unwrap_or_default(),
            body.account_sub_type.as_deref().unwrap_or_default(),
        ];
        let created = self
            .qbo
            .create(self.co, body, &self.create_id("account", &parts, None))
            .await?;
        if self.known_before.contains(created.id()) {
            // A replay of an older run's create whose object has since changed beyond
            // recognition: make a new one, under an id that is just as deterministic.
            let again = self.create_id("account", &parts, Some(created.id()));
            return self
                .qbo
                .create(self.co, body, &again)
                .await
                .and_then(has_id);
        }
        has_id(created)
    }

    async fn ensure_item(
        &mut self,
        row: &Row,
        account: &ExpressObject,
    ) -> Result<ExpressObject, ExpressError> {
        let sku = row.account.number.as_str();
        let wanted = Wanted {
            what: "product/service",
            name: &row.account.name,
            key: Some(sku),
            key_unique: false,
            conflict_suffix: &self.options.conflict_suffix,
        };
        let decision = decide(&self.items, &self.claimed, &wanted, |i| {
            item_compatible(i, sku, account)
        })
        .map_err(|t| names_taken(ObjectKind::Item, t))?;
        let mut notes = Vec::new();
        let (item, action) = match decision {
            Decision::Use {
                index,
                reactivate_as,
                notes: more,
            } => {
                notes.extend(more);
                match reactivate_as {
                    None => (self.items[index].clone(), Action::Reused),
                    Some(name) => {
                        let old = &self.items[index];
                        let body = Item {
                            id: old.id.clone(),
                            sync_token: old.sync_token.clone(),
                            sparse: Some(true),
                            active: Some(true),
                            name: Some(name.clone()),
                            ..Default::default()
                        };
                        let rid = self.reactivation_id("item", old.id(), &old.sync_token);
                        let updated = self.qbo.update(self.co, &body, &rid).await.map_err(|e| {
                            write_error(row, ObjectKind::Item, &name, "reactivate", e)
                        })?;
                        notes.push("It was inactive and has been made active again.".to_owned());
                        self.items[index] = updated.clone();
                        (updated, Action::Reactivated)
                    }
                }
            }
            Decision::Create {
                name,
                under_other_name,
                notes: more,
                ..
            } => {
                notes.extend(more);
                let body = Item {
                    name: Some(name.clone()),
                    sku: Some(sku.to_owned()),
                    item_type: Some(types::NON_INVENTORY.to_owned()),
                    income_account_ref: Some(Ref::id(account.qbo_id.clone())),
                    // US: taxes arrive as their own lines; elsewhere `Taxable` is not a field
                    // QBO uses, and each invoice line carries its tax code instead.
                    taxable: self.us.then_some(false),
                    ..Default::default()
                };
                let created = self
                    .create_item_once(&body)
                    .await
                    .map_err(|e| write_error(row, ObjectKind::Item, &name, "create", e))?;
                self.items.push(created.clone());
                let action = if under_other_name {
                    Action::CreatedUnderOtherName
                } else {
                    Action::Created
                };
                (created, action)
            }
        };
        self.claimed.insert(item.id().to_owned());
        Ok(ExpressObject {
            purpose: row.purpose,
            kind: ObjectKind::Item,
            name: item.name().to_owned(),
            object_type: item.item_type.clone().unwrap_or_default(),
            detail_type: None,
            number: item.sku.clone().filter(|s| !s.is_empty()),
            qbo_id: item.id().to_owned(),
            action,
            notes,
        })
    }

    async fn create_item_once(&self, body: &Item) -> Result<Item, QboError> {
        let taxable = match body.taxable {
            Some(true) => "taxable",
            Some(false) => "not taxable",
            None => "",
        };
        let parts = [
            body.name.as_deref().unwrap_or_default(),
            body.sku.as_deref().unwrap_or_default(),
            body.item_type.as_deref().unwrap_or_default(),
            body.income_account_ref
                .as_ref()
                .map(|r| r.value.as_str())
                .unwrap_or_default(),
            taxable,
        ];
        let created = self
            .qbo
            .create(self.co, body, &self.create_id("item", &parts, None))
            .await?;
        if self.known_before.contains(created.id()) {
            let again = self.create_id("item", &parts, Some(created.id()));
            return self
                .qbo
                .create(self.co, body, &again)
                .await
                .and_then(has_id);
        }
        has_id(created)
    }

    /// The same payload in the same company always gets the same id, so a create whose answer
    /// was lost is replayed by QBO, never duplicated.
    fn create_id(&self, entity: &str, parts: &[&str], after: Option<&str>) -> RequestId {
        let mut all = vec![self.co.realm_id, "express-setup", "create", entity];
        all.extend_from_slice(parts);
        if let Some(stale) = after {
            all.extend_from_slice(&["after", stale]);
        }
        RequestId::derive(&all)
    }

    fn reactivation_id(&self, entity: &str, id: &str, sync_token: &Option<String>) -> RequestId {
        RequestId::derive(&[
            self.co.realm_id,
            "express-setup",
            "reactivate",
            entity,
            id,
            sync_token.as_deref().unwrap_or_default(),
        ])
    }
}

fn has_id<E: Existing>(e: E) -> Result<E, QboError> {
    if e.id().is_empty() {
        return Err(QboError::InvalidResponse {
            context: "a created object".to_owned(),
            detail: "it has no Id".to_owned(),
        });
    }
    Ok(e)
}

fn write_error(
    row: &Row,
    kind: ObjectKind,
    name: &str,
    verb: &'static str,
    source: QboError,
) -> ExpressError {
    ExpressError::Write {
        purpose: row.purpose,
        kind,
        name: name.to_owned(),
        number: Some(row.account.number.clone()),
        verb,
        source: Box::new(source),
    }
}

fn names_taken(kind: ObjectKind, t: NamesTaken) -> ExpressError {
    ExpressError::NamesTaken {
        kind,
        name: t.name,
        other_name: t.other_name,
        why: t.why,
    }
}

fn refs(objects: &[ExpressObject]) -> ExpressRefs {
    let mut by: BTreeMap<(Purpose, bool), Ref> = objects
        .iter()
        .map(|o| ((o.purpose, o.kind == ObjectKind::Item), o.to_ref()))
        .collect();
    // Every row yields its objects or the run fails, so these are all present.
    let mut take = |p: Purpose, item: bool| by.remove(&(p, item)).unwrap_or_default();
    let wages_account = take(Purpose::Wages, false);
    let wages_liability_account = take(Purpose::WagesLiability, false);
    let service_income_account = take(Purpose::ServiceIncome, false);
    let service_income_item = take(Purpose::ServiceIncome, true);
    let automated_tax = ItemAndAccount {
        item: take(Purpose::AutomatedTax, true),
        account: take(Purpose::AutomatedTax, false),
    };
    let mut tax_classes = BTreeMap::new();
    for o in objects {
        if let Purpose::TaxClass { id } = o.purpose
            && o.kind == ObjectKind::Account
        {
            tax_classes.insert(
                id,
                ItemAndAccount {
                    item: take(o.purpose, true),
                    account: take(o.purpose, false),
                },
            );
        }
    }
    ExpressRefs {
        wages_account,
        wages_liability_account,
        service_income_account,
        service_income_item,
        tax_classes,
        automated_tax,
    }
}
