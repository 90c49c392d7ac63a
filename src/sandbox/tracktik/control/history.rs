//! Control API: years of approved invoices at once, for benchmarks of a long history.
//!
//! `POST /__sandbox/invoices/history` `{"firstDay": "2023-12-07", "days": 1095, "perDay": 300,
//! "clients": [..], "billItems": [..]}` makes, for every day, `perDay` invoices approved that
//! day from 06:00 UTC (a second apart), with one to three lines each. Each is stamped as made
//! and approved then (`createdOn`, `updatedOn`): it is history, not a change made today.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use chrono::{Duration, NaiveDate, NaiveTime};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use super::{body, err, store_err};
use crate::sandbox::tracktik::server::{Shared, json as json_response};
use crate::sandbox::tracktik::store::{NewInvoice, NewLine, NewLinePart};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryIn {
    first_day: NaiveDate,
    days: u32,
    per_day: u32,
    clients: Vec<i64>,
    bill_items: Vec<i64>,
}

/// Most invoices one call makes.
const MOST: u64 = 2_000_000;

pub(super) async fn make_history(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Response {
    let input: HistoryIn = match body(&bytes) {
        Ok(b) => b,
        Err(e) => return e.into(),
    };
    if input.clients.is_empty() || input.bill_items.is_empty() {
        return err(400, "clients and billItems must not be empty");
    }
    if u64::from(input.days) * u64::from(input.per_day) > MOST {
        return err(400, "at most 2,000,000 invoices in one call");
    }
    let mut portal = shared.portal_mut();
    let (mut first, mut last, mut n) = (None, 0, 0u64);
    for d in 0..input.days {
        let day = input.first_day + Duration::days(i64::from(d));
        for k in 0..input.per_day as usize {
            let at = day
                .and_time(NaiveTime::from_hms_opt(6, 0, 0).expect("06:00"))
                .and_utc()
                + Duration::seconds(k as i64);
            let client = input.clients[k % input.clients.len()];
            let lines = (0..1 + k % 3)
                .map(|l| NewLine {
                    bill_item: input.bill_items[(k + l) % input.bill_items.len()],
                    service_location: client,
                    rate: Decimal::new(1800 + ((k * 7 + l) % 3000) as i64, 2),
                    parts: vec![NewLinePart {
                        start: day.and_time(NaiveTime::MIN),
                        quantity: Decimal::from(4 + (k + l) % 9),
                    }],
                })
                .collect();
            let made = portal
                .create_invoice(NewInvoice {
                    client,
                    invoice_date: day,
                    document_number: None,
                    lines,
                    created_on: at,
                })
                .and_then(|id| portal.approve_invoice(id, None, at).map(|()| id));
            match made {
                Ok(id) => {
                    first.get_or_insert(id);
                    last = id;
                    n += 1;
                }
                Err(e) => return store_err(e),
            }
        }
    }
    json_response(201, json!({"count": n, "firstId": first, "lastId": last}))
}
