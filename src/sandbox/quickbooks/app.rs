//! Read-only pages at QuickBooks' web-app paths, so the demo's "View in QuickBooks" links lead
//! somewhere: `/app/invoice`, `/app/creditmemo`, `/app/expense`, `/app/bill`, `/app/journal`
//! (each `?txnId=N`) and `/app/chartofaccounts`. Like Intuit's links they carry no company; the
//! page shows the transaction in every company that has one with that id (or only in
//! `companyId=…` when given).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::SandboxState;
use super::json::{decimal_of, str_field};
use super::store::{Company, Kind};

/// The `/app/…` routes.
pub fn routes() -> Router<SandboxState> {
    Router::new()
        .route("/app/invoice", get(|s, q| txn(s, q, Kind::Invoice)))
        .route("/app/creditmemo", get(|s, q| txn(s, q, Kind::CreditMemo)))
        .route("/app/expense", get(|s, q| txn(s, q, Kind::Purchase)))
        .route("/app/bill", get(|s, q| txn(s, q, Kind::Bill)))
        .route("/app/journal", get(|s, q| txn(s, q, Kind::JournalEntry)))
        .route("/app/chartofaccounts", get(chart))
}

/// `?txnId=…&companyId=…`.
#[derive(Debug, Deserialize)]
pub struct AppQuery {
    #[serde(rename = "txnId")]
    txn_id: Option<String>,
    #[serde(rename = "companyId")]
    company_id: Option<String>,
}

/// One line as shown.
pub struct LineRow {
    description: String,
    what: String,
    qty: String,
    rate: String,
    debit: String,
    credit: String,
    amount: String,
}

/// One transaction as shown.
pub struct TxnView {
    realm_id: String,
    company: String,
    currency: String,
    number: String,
    date: String,
    due: String,
    party_label: &'static str,
    party: String,
    lines: Vec<LineRow>,
    tax: String,
    total: String,
    note: String,
}

#[derive(Template)]
#[template(path = "sandbox/quickbooks/app_txn.html")]
struct TxnPage {
    title: &'static str,
    journal: bool,
    txn_id: String,
    found: Vec<TxnView>,
}

/// One account row.
pub struct AccountRow {
    number: String,
    name: String,
    account_type: String,
    detail_type: String,
    balance: String,
    active: bool,
}

/// One company's chart.
pub struct Chart {
    realm_id: String,
    company: String,
    currency: String,
    accounts: Vec<AccountRow>,
}

#[derive(Template)]
#[template(path = "sandbox/quickbooks/app_accounts.html")]
struct ChartPage {
    charts: Vec<Chart>,
}

fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn amount(v: Option<&Value>) -> String {
    v.and_then(decimal_of)
        .map(|d| format!("{:.2}", d.round_dp(2)))
        .unwrap_or_default()
}

fn ref_name(v: Option<&Value>) -> String {
    v.and_then(|r| r.get("name").or_else(|| r.get("value")))
        .map(|n| text(Some(n)))
        .unwrap_or_default()
}

/// A transaction's total: `TotalAmt`, or for a journal entry (which has none) its debits.
pub fn txn_total(kind: Kind, e: &Map<String, Value>) -> Decimal {
    if kind != Kind::JournalEntry {
        return e.get("TotalAmt").and_then(decimal_of).unwrap_or_default();
    }
    e.get("Line")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|l| l.pointer("/JournalEntryLineDetail/PostingType") == Some(&"Debit".into()))
        .filter_map(|l| l.get("Amount").and_then(decimal_of))
        .sum()
}

fn line_row(kind: Kind, line: &Value) -> Option<LineRow> {
    let dt = line.get("DetailType")?.as_str()?;
    if dt == "SubTotalLineDetail" {
        return None;
    }
    let detail = line.get(if dt == "DescriptionOnly" {
        "DescriptionLineDetail"
    } else {
        dt
    });
    let d = |k: &str| detail.and_then(|d| d.get(k));
    let what = match dt {
        "SalesItemLineDetail" | "ItemBasedExpenseLineDetail" => ref_name(d("ItemRef")),
        "AccountBasedExpenseLineDetail" | "JournalEntryLineDetail" => ref_name(d("AccountRef")),
        _ => String::new(),
    };
    let posting = d("PostingType").and_then(Value::as_str).unwrap_or_default();
    let value = amount(line.get("Amount"));
    let name = d("Entity").map(|en| ref_name(en.get("EntityRef")));
    Some(LineRow {
        description: match (kind, name) {
            (Kind::JournalEntry, Some(n)) if !n.is_empty() => {
                format!("{} ({n})", text(line.get("Description")))
            }
            _ => text(line.get("Description")),
        },
        what,
        qty: text(d("Qty")),
        rate: amount(d("UnitPrice")),
        debit: if posting == "Debit" {
            value.clone()
        } else {
            String::new()
        },
        credit: if posting == "Credit" {
            value.clone()
        } else {
            String::new()
        },
        amount: value,
    })
}

fn view(co: &Company, kind: Kind, e: &Map<String, Value>) -> TxnView {
    let (party_label, party_key) = match kind {
        Kind::Invoice | Kind::CreditMemo => ("Customer", "CustomerRef"),
        Kind::Bill => ("Vendor", "VendorRef"),
        Kind::Purchase => ("Payee", "EntityRef"),
        _ => ("", ""),
    };
    let lines = e
        .get("Line")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|l| line_row(kind, l))
        .collect();
    TxnView {
        realm_id: co.realm_id.clone(),
        company: str_field(&co.info, "CompanyName")
            .unwrap_or_default()
            .to_string(),
        currency: e
            .get("CurrencyRef")
            .and_then(|c| c.get("value"))
            .map(|v| text(Some(v)))
            .unwrap_or_else(|| co.home_currency().to_string()),
        number: text(e.get("DocNumber")),
        date: text(e.get("TxnDate")),
        due: text(e.get("DueDate")),
        party_label,
        party: if party_key.is_empty() {
            String::new()
        } else {
            ref_name(e.get(party_key))
        },
        lines,
        tax: amount(e.get("TxnTaxDetail").and_then(|t| t.get("TotalTax"))),
        total: format!("{:.2}", txn_total(kind, e).round_dp(2)),
        note: text(e.get("PrivateNote")),
    }
}

fn title(kind: Kind) -> &'static str {
    match kind {
        Kind::Invoice => "Invoice",
        Kind::CreditMemo => "Credit memo",
        Kind::Purchase => "Expense",
        Kind::Bill => "Bill",
        _ => "Journal entry",
    }
}

async fn txn(State(state): State<SandboxState>, Query(q): Query<AppQuery>, kind: Kind) -> Response {
    let txn_id = q.txn_id.unwrap_or_default();
    let found: Vec<TxnView> = state.with_store(|s| {
        s.companies
            .values()
            .filter(|c| q.company_id.as_deref().is_none_or(|r| r == c.realm_id))
            .filter_map(|c| c.get(kind, &txn_id).map(|e| view(c, kind, e)))
            .collect()
    });
    let status = if found.is_empty() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    let page = TxnPage {
        title: title(kind),
        journal: kind == Kind::JournalEntry,
        txn_id,
        found,
    };
    render(status, &page)
}

async fn chart(State(state): State<SandboxState>, Query(q): Query<AppQuery>) -> Response {
    let charts = state.with_store(|s| {
        s.companies
            .values()
            .filter(|c| q.company_id.as_deref().is_none_or(|r| r == c.realm_id))
            .map(|c| Chart {
                realm_id: c.realm_id.clone(),
                company: str_field(&c.info, "CompanyName")
                    .unwrap_or_default()
                    .to_string(),
                currency: c.home_currency().to_string(),
                accounts: c
                    .all(Kind::Account)
                    .map(|a| AccountRow {
                        number: text(a.get("AcctNum")),
                        name: text(a.get("FullyQualifiedName").or(a.get("Name"))),
                        account_type: text(a.get("AccountType")),
                        detail_type: text(a.get("AccountSubType")),
                        balance: amount(a.get("CurrentBalance")),
                        active: a.get("Active") != Some(&Value::Bool(false)),
                    })
                    .collect(),
            })
            .collect::<Vec<_>>()
    });
    let status = if charts.is_empty() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    render(status, &ChartPage { charts })
}
