//! Unit tests of durable sends: request ids, bodies and their read-back.

use chrono::Utc;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::*;
use crate::ids::{IntegrationId, TenantId};
use crate::providers::quickbooks::models::{Invoice, Line, Ref, SalesItemLineDetail};
use crate::sync::build::Txn;
use crate::sync::ledger::Source;

fn row(source_id: i64, generation: i32) -> LedgerEntry {
    let now = Utc::now();
    LedgerEntry {
        ledger_entry_id: source_id,
        tenant_id: TenantId(Uuid::from_u128(1)),
        integration_id: IntegrationId(Uuid::from_u128(2)),
        source: Source::Invoice,
        source_id,
        revision: format!("rev-{source_id}"),
        doc_number: format!("INV-{source_id}"),
        trading_day: now.date_naive(),
        approved_at: now,
        amount: Decimal::ONE,
        currency: None,
        state: LedgerState::Pending,
        qbo_entity: None,
        qbo_id: None,
        qbo_doc_number: None,
        qbo_link: None,
        request_id: None,
        generation,
        attempts: 0,
        retryable: false,
        last_error: None,
        error_code: None,
        fix_hint: None,
        fix_at: None,
        changed_in_tracktik: false,
        change_note: None,
        discrepancy: None,
        qbo_amount: None,
        send_id: None,
        send_item: None,
        qbo_customer_id: None,
        qbo_txn_date: None,
        qbo_lines_total: None,
        conflict: None,
        conflict_at: None,
        notified_failure: None,
        checked_at: None,
        txn_date_override: None,
        reversal_note: None,
        posting_started_at: None,
        posted_at: None,
        created_at: now,
        updated_at: now,
    }
}

fn ready(source_id: i64, amount: &str) -> Ready {
    let line = Line::sales(
        amount.parse().unwrap(),
        SalesItemLineDetail {
            item_ref: Some(Ref::id("7")),
            ..Default::default()
        },
    );
    Ready {
        row: row(source_id, 0),
        built: Built {
            txn: Txn::Invoice(Invoice {
                doc_number: Some(format!("INV-{source_id}")),
                customer_ref: Some(Ref::id("58")),
                line: vec![line],
                ..Invoice::default()
            }),
            expected_total: amount.parse().unwrap(),
        },
    }
}

#[test]
fn a_send_request_id_is_the_same_for_the_same_rows_and_changes_with_any_of_them() {
    let integration = IntegrationId(Uuid::from_u128(2));
    let (a, b) = (row(1, 0), row(2, 0));
    let id = request_id(integration, &[&a, &b]);
    assert_eq!(id, request_id(integration, &[&row(1, 0), &row(2, 0)]));
    assert_eq!(id.as_str().len(), 36, "within QBO's batch limit");
    assert_ne!(
        id,
        request_id(integration, &[&b, &a]),
        "order matters: bIds follow it"
    );
    assert_ne!(id, request_id(integration, &[&a]), "another set of rows");
    assert_ne!(
        id,
        request_id(integration, &[&a, &row(2, 1)]),
        "a retry on purpose"
    );
    let mut sent_before = row(2, 0);
    sent_before.attempts = 1;
    assert_ne!(
        id,
        request_id(integration, &[&a, &sent_before]),
        "a row sent again after a look-up proved it absent"
    );
    let mut edited = row(2, 0);
    edited.revision = "rev-2-edited".into();
    assert_ne!(
        id,
        request_id(integration, &[&a, &edited]),
        "a new revision"
    );
}

#[test]
fn a_batch_body_numbers_its_items_d0_d1_in_order() {
    let docs = [ready(1, "10.00"), ready(2, "20.50")];
    let refs: Vec<&Ready> = docs.iter().collect();
    let (kind, body) = body_of(&refs).unwrap();
    assert_eq!(kind, "batch");
    let items = body["BatchItemRequest"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["bId"], json!("d1"));
    assert_eq!(items[1]["operation"], json!("create"));
    assert_eq!(items[1]["Invoice"]["DocNumber"], json!("INV-2"));
}

#[test]
fn a_body_with_huge_and_fractional_amounts_reads_back_to_the_same_bytes() {
    let docs = [
        ready(1, "100000000000000000.00"),
        ready(2, "0.1"),
        ready(3, "12345.675"),
    ];
    let refs: Vec<&Ready> = docs.iter().collect();
    let (_, body) = body_of(&refs).unwrap();
    let text = body.to_string();
    let again: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(again.to_string(), text);
}

#[test]
fn a_lone_document_is_sent_as_its_own_entity() {
    let docs = [ready(1, "10.00")];
    let refs: Vec<&Ready> = docs.iter().collect();
    let (kind, body) = body_of(&refs).unwrap();
    assert_eq!(kind, "Invoice");
    assert_eq!(body["DocNumber"], json!("INV-1"));
    let back = crate::sync::build::from_json("Invoice", &body, Decimal::TEN).unwrap();
    assert_eq!(back.doc_number(), "INV-1");
    assert_eq!(back.party(), Some("58"));
}
