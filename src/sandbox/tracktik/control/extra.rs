//! Control endpoints for the collections added in issue 15: `POST /__sandbox/credit-memos`
//! (`{"invoice", "document_number"?, "approve"?}`: a full credit of an invoice) and
//! `POST /__sandbox/positions` (`{"name", "account", "custom_id"?, "tax_class"?,
//! "pay_code_label"?, "begin_date"?}`). Both answer 201 with the record as the API renders it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{body, store_err};
use crate::sandbox::tracktik::query::{Includes, Renderer};
use crate::sandbox::tracktik::schema::{self, Resource};
use crate::sandbox::tracktik::server::{Shared, json as json_response};
use crate::sandbox::tracktik::store::NewPosition;

fn rendered(shared: &Shared, res: &'static Resource, id: i64) -> Value {
    let portal = shared.portal();
    let Some(row) = portal.get(res.tag, id) else {
        return Value::Null;
    };
    let mut inc = Includes::default();
    for name in ["createdOn", "updatedOn", "approvedOn"] {
        if res.field(name).is_some() {
            inc.0.insert(name.into(), Includes::default());
        }
    }
    Renderer::new(&portal, &shared.base_url, &shared.indexes).render(res, row, &inc)
}

#[derive(Deserialize)]
struct CreditMemoIn {
    invoice: i64,
    document_number: Option<String>,
    #[serde(default = "yes")]
    approve: bool,
}

fn yes() -> bool {
    true
}

pub(super) async fn create_credit_memo(
    State(shared): State<Arc<Shared>>,
    bytes: Bytes,
) -> Response {
    let input: CreditMemoIn = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let now = shared.now();
    let result = shared.portal_mut().create_credit_memo(
        input.invoice,
        input.document_number,
        input.approve,
        now,
    );
    match result {
        Ok(id) => json_response(
            201,
            json!({"data": rendered(&shared, &schema::CREDIT_MEMOS, id)}),
        ),
        Err(e) => store_err(e),
    }
}

#[derive(Deserialize)]
struct PositionIn {
    name: String,
    account: i64,
    custom_id: Option<String>,
    tax_class: Option<i64>,
    pay_code_label: Option<i64>,
    begin_date: Option<NaiveDate>,
}

pub(super) async fn create_position(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let input: PositionIn = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    let new = NewPosition {
        name: input.name,
        account: input.account,
        custom_id: input.custom_id,
        tax_class: input.tax_class,
        pay_code_label: input.pay_code_label,
        begin_date: input.begin_date,
        created_on: shared.now(),
    };
    let result = shared.portal_mut().create_position(new);
    match result {
        Ok(id) => json_response(
            201,
            json!({"data": rendered(&shared, &schema::POSITIONS, id)}),
        ),
        Err(e) => store_err(e),
    }
}
