//! What the wizard reads from both sides to offer choices and check answers: QuickBooks
//! products, accounts, vendors, customers and tax codes; TrackTik bill items, tax classes, pay
//! codes, regions, clients, a recent invoice for the template preview, and what invoices
//! approved in the last 90 days used.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, Utc};
use secrecy::SecretString;

use super::Draft;
use crate::connections::{self, ConnectionError};
use crate::ids::TenantId;
use crate::providers::quickbooks::models::{Account, Customer, Entity, Item, TaxCode, Vendor};
use crate::providers::quickbooks::{Company, QboError};
use crate::providers::tracktik::models::PayCodeType;
use crate::providers::tracktik::{AccessToken, ClientType, Portal, TrackTikError, Window};
use crate::state::AppState;

/// Why the lists could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A side is not connected.
    #[error("{0} is not connected")]
    NotConnected(&'static str),
    /// A token could not be had.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// TrackTik failed.
    #[error(transparent)]
    TrackTik(#[from] TrackTikError),
    /// QuickBooks failed.
    #[error(transparent)]
    Qbo(#[from] QboError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl CatalogError {
    /// What the customer reads.
    pub fn advice(&self) -> String {
        match self {
            Self::NotConnected(side) => format!("{side} is not connected. Connect it first."),
            Self::Connection(ConnectionError::NeedsReconnect { provider, .. }) => {
                format!("The {provider} connection needs you to sign in again. Reconnect it from the integration page; every answer is kept.")
            }
            _ => "We could not read your lists from TrackTik or QuickBooks Online just now. Nothing you entered was lost; try again in a minute.".to_owned(),
        }
    }
}

/// Both sides of one integration, ready to be read.
pub struct Sides {
    /// The tenant's portal.
    pub portal: Portal,
    /// A TrackTik access token.
    pub tracktik: AccessToken,
    /// The QBO company.
    pub realm_id: String,
    /// A QBO access token.
    pub quickbooks: SecretString,
}

impl Sides {
    /// The QBO company for a call.
    pub fn company(&self) -> Company<'_> {
        Company {
            realm_id: &self.realm_id,
            access_token: &self.quickbooks,
        }
    }
}

/// Gets working tokens for both sides of the integration.
pub async fn open(
    state: &AppState,
    tenant_id: TenantId,
    draft: &Draft,
) -> Result<Sides, CatalogError> {
    let tenant = crate::tenants::db::get(&state.db, tenant_id)
        .await?
        .ok_or(CatalogError::NotConnected("TrackTik"))?;
    let tt = connections::db::tracktik_for_tenant(&state.db, tenant_id)
        .await?
        .ok_or(CatalogError::NotConnected("TrackTik"))?;
    let qb =
        connections::db::quickbooks_for_integration(&state.db, tenant_id, draft.integration_id)
            .await?
            .ok_or(CatalogError::NotConnected("QuickBooks Online"))?;
    let tt_token = connections::access_token(state, tenant_id, tt.connection_id).await?;
    let qb_token = connections::access_token(state, tenant_id, qb.connection_id).await?;
    Ok(Sides {
        portal: Portal::new(&tenant.portal_url)?,
        tracktik: AccessToken::new(secrecy::ExposeSecret::expose_secret(&tt_token).to_owned()),
        realm_id: draft.realm_id.clone(),
        quickbooks: qb_token,
    })
}

/// A QuickBooks object to choose from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QboOption {
    /// QBO id.
    pub id: String,
    /// Name (fully qualified where QBO gives one).
    pub name: String,
    /// Active in QBO.
    pub active: bool,
    /// Account type (`Expense`, `Credit Card`…) or item type (`Service`…).
    pub kind: String,
    /// For products and services: the account it sells into (`None`: QuickBooks refuses it
    /// on an invoice line). Empty for other objects.
    pub income_account: Option<String>,
}

impl QboOption {
    /// A QuickBooks object that is not a product.
    pub fn new(id: &str, name: &str, active: bool, kind: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            active,
            kind: kind.to_owned(),
            income_account: None,
        }
    }
}

pub(super) async fn query_all<E: Entity>(
    state: &AppState,
    sides: &Sides,
) -> Result<Vec<E>, QboError> {
    state
        .providers
        .quickbooks
        .query::<E>(
            &sides.company(),
            &format!("select * from {} where Active in (true, false)", E::NAME),
        )
        .await
}

fn sorted(mut v: Vec<QboOption>) -> Vec<QboOption> {
    v.sort_by_key(|a| a.name.to_lowercase());
    v
}

/// Products and services, inactive ones included.
pub async fn items(state: &AppState, sides: &Sides) -> Result<Vec<QboOption>, CatalogError> {
    Ok(sorted(
        query_all::<Item>(state, sides)
            .await?
            .into_iter()
            .filter_map(|i| {
                Some(QboOption {
                    id: i.id?,
                    name: i.name.unwrap_or_default(),
                    active: i.active.unwrap_or(true),
                    kind: i.item_type.unwrap_or_default(),
                    income_account: i.income_account_ref.map(|r| r.value),
                })
            })
            .collect(),
    ))
}

/// Accounts, inactive ones included.
pub async fn accounts(state: &AppState, sides: &Sides) -> Result<Vec<QboOption>, CatalogError> {
    Ok(sorted(
        query_all::<Account>(state, sides)
            .await?
            .into_iter()
            .filter_map(|a| {
                let name = a.fully_qualified_name.or(a.name).unwrap_or_default();
                let name = match a.acct_num {
                    Some(n) if !n.is_empty() => format!("{n} · {name}"),
                    _ => name,
                };
                Some(QboOption {
                    id: a.id?,
                    name,
                    active: a.active.unwrap_or(true),
                    kind: a.account_type.unwrap_or_default(),
                    income_account: None,
                })
            })
            .collect(),
    ))
}

/// Vendors, inactive ones included.
pub async fn vendors(state: &AppState, sides: &Sides) -> Result<Vec<QboOption>, CatalogError> {
    Ok(sorted(
        query_all::<Vendor>(state, sides)
            .await?
            .into_iter()
            .filter_map(|v| {
                Some(QboOption {
                    id: v.id?,
                    name: v.display_name.or(v.company_name).unwrap_or_default(),
                    active: v.active.unwrap_or(true),
                    kind: "Vendor".into(),
                    income_account: None,
                })
            })
            .collect(),
    ))
}

/// Customers, inactive ones included.
pub async fn customers(state: &AppState, sides: &Sides) -> Result<Vec<QboOption>, CatalogError> {
    Ok(sorted(
        query_all::<Customer>(state, sides)
            .await?
            .into_iter()
            .filter_map(|c| {
                Some(QboOption {
                    id: c.id?,
                    name: c.display_name.or(c.company_name).unwrap_or_default(),
                    active: c.active.unwrap_or(true),
                    kind: "Customer".into(),
                    income_account: None,
                })
            })
            .collect(),
    ))
}

/// Tax codes, inactive ones included.
pub async fn tax_codes(state: &AppState, sides: &Sides) -> Result<Vec<QboOption>, CatalogError> {
    Ok(sorted(
        query_all::<TaxCode>(state, sides)
            .await?
            .into_iter()
            .filter_map(|t| {
                Some(QboOption {
                    id: t.id?,
                    name: t.name.unwrap_or_default(),
                    active: t.active.unwrap_or(true),
                    kind: "TaxCode".into(),
                    income_account: None,
                })
            })
            .collect(),
    ))
}

/// A TrackTik record to map: id (or pay code) and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// TrackTik id, or the pay code for pay codes.
    pub key: String,
    /// What people call it.
    pub name: String,
}

/// TrackTik bill items.
pub async fn bill_items(state: &AppState, sides: &Sides) -> Result<Vec<Source>, CatalogError> {
    let mut out: Vec<Source> = state
        .providers
        .tracktik
        .bill_items(&sides.portal, &sides.tracktik)
        .await?
        .into_iter()
        .map(|b| Source {
            key: b.id.to_string(),
            name: b.name.unwrap_or_else(|| format!("Bill item {}", b.id)),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// TrackTik tax classes.
pub async fn tax_classes(state: &AppState, sides: &Sides) -> Result<Vec<Source>, CatalogError> {
    let mut out: Vec<Source> = state
        .providers
        .tracktik
        .tax_classes(&sides.portal, &sides.tracktik)
        .await?
        .into_iter()
        .map(|t| Source {
            key: t.id.to_string(),
            name: t.name.unwrap_or_else(|| format!("Tax class {}", t.id)),
        })
        .collect();
    out.sort_by_key(|s| s.key.parse::<i64>().unwrap_or_default());
    Ok(out)
}

/// TrackTik pay codes, keyed by their code (REG, OT…), and the codes TrackTik types as
/// amounts rather than hours (`ADDITIONNER`: expense reimbursements and the like).
pub async fn pay_codes(
    state: &AppState,
    sides: &Sides,
) -> Result<(Vec<Source>, BTreeSet<String>), CatalogError> {
    let mut seen = BTreeSet::new();
    let mut amounts = BTreeSet::new();
    let mut out = Vec::new();
    for p in state
        .providers
        .tracktik
        .payroll_codes(&sides.portal, &sides.tracktik)
        .await?
    {
        let key = p
            .code
            .clone()
            .or(p.name.clone())
            .unwrap_or_else(|| p.id.to_string());
        if p.kind == Some(PayCodeType::Additionner) {
            amounts.insert(key.clone());
        }
        if seen.insert(key.clone()) {
            let name = match p.name {
                Some(n) if n != key => format!("{key} · {n}"),
                _ => key.clone(),
            };
            out.push(Source { key, name });
        }
    }
    Ok((out, amounts))
}

/// TrackTik billed clients (not sites).
pub async fn clients(state: &AppState, sides: &Sides) -> Result<Vec<Source>, CatalogError> {
    let mut out: Vec<Source> = state
        .providers
        .tracktik
        .clients(&sides.portal, &sides.tracktik)
        .await?
        .into_iter()
        .filter(|c| !matches!(c.kind, Some(ClientType::ServiceLocation)))
        .map(|c| Source {
            key: c.id.to_string(),
            name: c
                .display_name()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Client {}", c.id)),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The time zone of the portal's first region that has one.
pub async fn region_time_zone(
    state: &AppState,
    sides: &Sides,
) -> Result<Option<String>, CatalogError> {
    Ok(state
        .providers
        .tracktik
        .regions(&sides.portal, &sides.tracktik)
        .await?
        .into_iter()
        .find_map(|r| r.time_zone))
}

/// A real TrackTik invoice, for the template preview.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SampleInvoice {
    /// TrackTik's document number.
    pub number: String,
    /// The client's name.
    pub client: String,
    /// Service period start.
    pub period_start: Option<NaiveDate>,
    /// Service period end.
    pub period_end: Option<NaiveDate>,
    /// Invoice date.
    pub invoice_date: Option<NaiveDate>,
}

/// The most recently approved invoice of the last 30 days, if any.
pub async fn sample_invoice(
    state: &AppState,
    sides: &Sides,
) -> Result<Option<SampleInvoice>, CatalogError> {
    let now = Utc::now();
    let window = Window::new(now - Duration::days(30), now)?;
    let invoices = state
        .providers
        .tracktik
        .approved_invoices_between(&sides.portal, &sides.tracktik, window)
        .await?;
    let Some(invoice) = invoices.into_iter().max_by_key(|i| (i.approved_on, i.id)) else {
        return Ok(None);
    };
    let client = match &invoice.client {
        Some(rel) => {
            let id = rel.id();
            match rel
                .object()
                .and_then(|c| c.display_name().map(str::to_owned))
            {
                Some(name) => name,
                None => clients(state, sides)
                    .await?
                    .into_iter()
                    .find(|c| c.key == id.to_string())
                    .map(|c| c.name)
                    .unwrap_or_else(|| format!("Client {id}")),
            }
        }
        None => String::new(),
    };
    Ok(Some(SampleInvoice {
        number: invoice
            .document_number
            .clone()
            .unwrap_or_else(|| invoice.id.to_string()),
        client,
        period_start: invoice.service_period_start_date,
        period_end: invoice.service_period_end_date,
        invoice_date: invoice.effective_invoice_date(),
    }))
}
