//! Read-only HTML pages so a person can see what was posted: an index of companies and one page per
//! company listing its transactions and name lists with totals.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use rust_decimal::Decimal;
use serde_json::Value;

use super::SandboxState;
use super::json::{decimal_of, str_field};
use super::store::{Company, Kind};

/// Page routes.
pub fn routes() -> Router<SandboxState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/__sandbox/") }))
        .route("/__sandbox", get(|| async { Redirect::to("/__sandbox/") }))
        .route("/__sandbox/", get(index))
        .route("/__sandbox/companies/{realm}", get(company))
        .route(
            "/__sandbox/companies/{realm}/{segment}/{id}",
            get(entity_json),
        )
}

struct CompanyRow {
    realm_id: String,
    name: String,
    flavour: String,
    invoices: usize,
    bills: usize,
    purchases: usize,
    journals: usize,
}

#[derive(Template)]
#[template(path = "sandbox/quickbooks/index.html")]
struct IndexPage {
    companies: Vec<CompanyRow>,
}

struct Section {
    title: &'static str,
    segment: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    total: Option<String>,
}

#[derive(Template)]
#[template(path = "sandbox/quickbooks/company.html")]
struct CompanyPage {
    realm_id: String,
    name: String,
    country: String,
    currency: String,
    sections: Vec<Section>,
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn index(State(state): State<SandboxState>) -> Response {
    let companies = state.with_store(|s| {
        s.companies
            .values()
            .map(|c| {
                let n = |k| c.entities.get(&k).map_or(0, |m| m.len());
                CompanyRow {
                    realm_id: c.realm_id.clone(),
                    name: str_field(&c.info, "CompanyName")
                        .unwrap_or_default()
                        .to_string(),
                    flavour: format!("{:?}", c.flavour),
                    invoices: n(Kind::Invoice),
                    bills: n(Kind::Bill),
                    purchases: n(Kind::Purchase),
                    journals: n(Kind::JournalEntry),
                }
            })
            .collect()
    });
    render(&IndexPage { companies })
}

fn text(e: &serde_json::Map<String, Value>, path: &str) -> String {
    let mut cur = Value::Object(e.clone());
    for part in path.split('.') {
        cur = cur.get(part).cloned().unwrap_or(Value::Null);
    }
    match cur {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn section(
    co: &Company,
    kind: Kind,
    title: &'static str,
    cols: &[(&'static str, &'static str)],
    total_of: Option<&str>,
) -> Section {
    let mut total = Decimal::ZERO;
    let rows = co
        .all(kind)
        .map(|e| {
            if let Some(k) = total_of {
                total += if k == "TotalAmt" {
                    super::app::txn_total(kind, e)
                } else {
                    e.get(k).and_then(decimal_of).unwrap_or_default()
                };
            }
            cols.iter()
                .map(|(_, path)| {
                    if *path == "TotalAmt" {
                        super::app::txn_total(kind, e).to_string()
                    } else {
                        text(e, path)
                    }
                })
                .collect()
        })
        .collect();
    Section {
        title,
        segment: kind.name().to_lowercase(),
        headers: cols.iter().map(|(h, _)| *h).collect(),
        rows,
        total: total_of.map(|_| total.to_string()),
    }
}

async fn company(State(state): State<SandboxState>, Path(realm): Path<String>) -> Response {
    let page = state.with_store(|s| {
        let co = s.companies.get(&realm)?;
        let txn = |kind, title, party: &'static str| {
            section(
                co,
                kind,
                title,
                &[
                    ("Id", "Id"),
                    ("No.", "DocNumber"),
                    ("Date", "TxnDate"),
                    ("Name", party),
                    ("Currency", "CurrencyRef.value"),
                    ("Total", "TotalAmt"),
                ],
                Some("TotalAmt"),
            )
        };
        Some(CompanyPage {
            realm_id: co.realm_id.clone(),
            name: str_field(&co.info, "CompanyName")
                .unwrap_or_default()
                .to_string(),
            country: str_field(&co.info, "Country")
                .unwrap_or_default()
                .to_string(),
            currency: co.home_currency().to_string(),
            sections: vec![
                txn(Kind::Invoice, "Invoices", "CustomerRef.name"),
                txn(Kind::CreditMemo, "Credit memos", "CustomerRef.name"),
                txn(Kind::Bill, "Bills", "VendorRef.name"),
                txn(
                    Kind::Purchase,
                    "Purchases (expenses, cheques, card charges)",
                    "AccountRef.name",
                ),
                txn(Kind::JournalEntry, "Journal entries", "PrivateNote"),
                section(
                    co,
                    Kind::Account,
                    "Accounts",
                    &[
                        ("Id", "Id"),
                        ("Number", "AcctNum"),
                        ("Name", "Name"),
                        ("Type", "AccountType"),
                        ("Detail type", "AccountSubType"),
                        ("Balance", "CurrentBalance"),
                    ],
                    None,
                ),
                section(
                    co,
                    Kind::Item,
                    "Products and services",
                    &[
                        ("Id", "Id"),
                        ("Name", "Name"),
                        ("Type", "Type"),
                        ("Income account", "IncomeAccountRef.name"),
                        ("Price", "UnitPrice"),
                    ],
                    None,
                ),
                section(
                    co,
                    Kind::Customer,
                    "Customers",
                    &[
                        ("Id", "Id"),
                        ("Name", "DisplayName"),
                        ("Currency", "CurrencyRef.value"),
                        ("Balance", "Balance"),
                    ],
                    Some("Balance"),
                ),
                section(
                    co,
                    Kind::Vendor,
                    "Vendors",
                    &[
                        ("Id", "Id"),
                        ("Name", "DisplayName"),
                        ("Currency", "CurrencyRef.value"),
                        ("Balance", "Balance"),
                    ],
                    Some("Balance"),
                ),
            ],
        })
    });
    match page {
        Some(p) => render(&p),
        None => (StatusCode::NOT_FOUND, Html("No such company".to_string())).into_response(),
    }
}

/// One entity as the API would return it, pretty-printed (linked from the company page).
async fn entity_json(
    State(state): State<SandboxState>,
    Path((realm, segment, id)): Path<(String, String, String)>,
) -> Response {
    let found = state.with_store(|s| {
        let co = s.companies.get(&realm)?;
        let kind = Kind::from_segment(&segment)?;
        co.get(kind, &id)
            .map(|e| super::json::to_wire(&Value::Object(e.clone())))
    });
    match found.and_then(|wire| serde_json::from_str::<Value>(&wire).ok()) {
        Some(v) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            serde_json::to_string_pretty(&v).unwrap_or_default(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, Html("Not found".to_string())).into_response(),
    }
}
