//! Control API: invoices and pay runs.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

use super::{body, err, store_err};
use crate::sandbox::tracktik::query::{ApiError, Includes, Renderer, filter_parse_instant};
use crate::sandbox::tracktik::schema;
use crate::sandbox::tracktik::server::{Shared, json as json_response};
use crate::sandbox::tracktik::store::{NewInvoice, NewLine, NewLinePart, NewPayItem, NewPayrun};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LineIn {
    bill_item: i64,
    quantity: Decimal,
    unit_price: Decimal,
    #[serde(default)]
    service_location: Option<i64>,
    #[serde(default)]
    service_date: Option<NaiveDate>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvoiceIn {
    client: i64,
    #[serde(default)]
    invoice_date: Option<NaiveDate>,
    #[serde(default)]
    document_number: Option<String>,
    #[serde(default)]
    approve: bool,
    lines: Vec<LineIn>,
}

fn invoice_json(shared: &Shared, id: i64) -> Value {
    let portal = shared.portal();
    let Some(row) = portal.get("invoices", id) else {
        return Value::Null;
    };
    let mut inc = Includes::default();
    for name in ["lines", "approvedOn", "createdOn", "updatedOn"] {
        inc.0.insert(name.into(), Includes::default());
    }
    inc.0
        .get_mut("lines")
        .map(|l| l.0.insert("taxTotal".into(), Includes::default()));
    Renderer::new(&portal, &shared.base_url, &shared.indexes).render(&schema::INVOICES, row, &inc)
}

pub(super) async fn create_invoice(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let input: InvoiceIn = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let now = shared.now();
    let invoice_date = input.invoice_date.unwrap_or(now.date_naive());
    let lines = input
        .lines
        .iter()
        .map(|l| NewLine {
            bill_item: l.bill_item,
            service_location: l.service_location.unwrap_or(input.client),
            rate: l.unit_price,
            parts: vec![NewLinePart {
                start: l
                    .service_date
                    .unwrap_or(invoice_date)
                    .and_time(NaiveTime::MIN),
                quantity: l.quantity,
            }],
        })
        .collect();
    let new = NewInvoice {
        client: input.client,
        invoice_date,
        document_number: input.document_number,
        lines,
        created_on: now,
    };
    let result = {
        let mut portal = shared.portal_mut();
        portal.create_invoice(new).and_then(|id| {
            if input.approve {
                portal.approve_invoice(id, None, now)?;
            }
            Ok(id)
        })
    };
    match result {
        Ok(id) => json_response(201, json!({"data": invoice_json(&shared, id)})),
        Err(e) => store_err(e),
    }
}

pub(super) async fn show_invoice(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<i64>,
) -> Response {
    match invoice_json(&shared, id) {
        Value::Null => err(404, format!("invoices {id} not found")),
        v => json_response(200, json!({"data": v})),
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ApproveIn {
    #[serde(default)]
    approved_by: Option<i64>,
    #[serde(default)]
    approved_on: Option<String>,
}

pub(super) fn when(shared: &Shared, at: Option<&str>) -> Result<DateTime<Utc>, ApiError> {
    match at {
        None => Ok(shared.now()),
        Some(s) => {
            filter_parse_instant(s).ok_or_else(|| ApiError::bad(format!("{s} is not a date-time")))
        }
    }
}

pub(super) async fn approve_invoice(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<i64>,
    bytes: Bytes,
) -> Response {
    let input: ApproveIn = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let at = match when(&shared, input.approved_on.as_deref()) {
        Ok(t) => t,
        Err(e) => return e.into(),
    };
    // An approval dated in the past is still a change made now: `updatedOn` is the clock's.
    let now = shared.now().max(at);
    let result = {
        let mut portal = shared.portal_mut();
        portal
            .approve_invoice(id, input.approved_by, at)
            .map(|()| portal.touch("invoices", id, now))
    };
    match result {
        Ok(()) => json_response(200, json!({"data": invoice_json(&shared, id)})),
        Err(e) => store_err(e),
    }
}

pub(super) async fn edit_invoice(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<i64>,
    bytes: Bytes,
) -> Response {
    let patch: serde_json::Map<String, Value> = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let now = shared.now();
    let result = shared.portal_mut().edit_invoice(id, &patch, now);
    match result {
        Ok(()) => json_response(200, json!({"data": invoice_json(&shared, id)})),
        Err(e) => store_err(e),
    }
}

pub(super) async fn delete_invoice(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<i64>,
) -> Response {
    let result = shared.portal_mut().delete_invoice(id);
    match result {
        Ok(()) => json_response(200, json!({"deleted": id})),
        Err(e) => store_err(e),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayItemIn {
    employee: i64,
    code: String,
    quantity: Decimal,
    rate: Decimal,
    #[serde(default)]
    account: Option<i64>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    start: Option<NaiveDateTime>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayrunIn {
    region: i64,
    occurrence_date: NaiveDate,
    items: Vec<PayItemIn>,
    #[serde(default)]
    approve: bool,
}

fn payrun_json(shared: &Shared, id: i64) -> Value {
    let portal = shared.portal();
    let Some(row) = portal.get("payroll-payruns", id) else {
        return Value::Null;
    };
    let mut inc = Includes::default();
    for f in schema::PAYROLL_PAYRUNS.fields {
        inc.0.insert(f.name.into(), Includes::default());
    }
    inc.0.remove("approvedBy");
    inc.0.remove("region");
    Renderer::new(&portal, &shared.base_url, &shared.indexes).render(
        &schema::PAYROLL_PAYRUNS,
        row,
        &inc,
    )
}

pub(super) async fn create_payrun(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let input: PayrunIn = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let now = shared.now();
    let items = input
        .items
        .iter()
        .map(|i| NewPayItem {
            employee: i.employee,
            code: i.code.clone(),
            quantity: i.quantity,
            rate: i.rate,
            base_rate: i.rate,
            account: i.account,
            shift: i.start.map(|s| {
                let minutes = (i.quantity * Decimal::from(60))
                    .trunc()
                    .to_string()
                    .parse()
                    .unwrap_or(0);
                (s, s + chrono::Duration::minutes(minutes))
            }),
            expense_date: (i.code == "EXP").then_some(input.occurrence_date),
            label: i.label.clone().unwrap_or_else(|| i.code.clone()),
        })
        .collect();
    let run = NewPayrun {
        region: input.region,
        occurrence_date: input.occurrence_date,
        items,
        created_on: now,
    };
    let result = {
        let mut portal = shared.portal_mut();
        portal
            .create_payrun_with_items(run)
            .and_then(|(id, items)| {
                if input.approve {
                    portal.approve_payrun_items(id, &items, None, now)?;
                }
                Ok(id)
            })
    };
    match result {
        Ok(id) => json_response(201, json!({"data": payrun_json(&shared, id)})),
        Err(e) => store_err(e),
    }
}

pub(super) async fn approve_payrun(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<i64>,
    bytes: Bytes,
) -> Response {
    let input: ApproveIn = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let at = match when(&shared, input.approved_on.as_deref()) {
        Ok(t) => t,
        Err(e) => return e.into(),
    };
    let now = shared.now().max(at);
    let result = {
        let mut portal = shared.portal_mut();
        portal
            .approve_payrun(id, input.approved_by, at)
            .map(|()| portal.touch("payroll-payruns", id, now))
    };
    match result {
        Ok(()) => json_response(200, json!({"data": payrun_json(&shared, id)})),
        Err(e) => store_err(e),
    }
}

pub(super) async fn delete_payrun(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<i64>,
) -> Response {
    let result = shared.portal_mut().delete_payrun(id);
    match result {
        Ok(()) => json_response(200, json!({"deleted": id})),
        Err(e) => store_err(e),
    }
}
