//! Unit tests of the parent module.

use super::*;
use crate::ids::{IntegrationId, TenantId};
use uuid::Uuid;

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
        amount: rust_decimal::Decimal::ONE,
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
        posting_started_at: None,
        posted_at: None,
        created_at: now,
        updated_at: now,
    }
}

#[test]
fn a_batch_request_id_is_the_same_for_the_same_rows_and_changes_with_any_of_them() {
    let (a, b) = (row(1, 0), row(2, 0));
    let id = batch_request_id(&[&a, &b]);
    assert_eq!(id, batch_request_id(&[&row(1, 0), &row(2, 0)]));
    assert_eq!(id.as_str().len(), 36, "within QBO's batch limit");
    assert_ne!(
        id,
        batch_request_id(&[&b, &a]),
        "order matters: bIds follow it"
    );
    assert_ne!(id, batch_request_id(&[&a]), "another set of rows");
    assert_ne!(
        id,
        batch_request_id(&[&a, &row(2, 1)]),
        "a retry on purpose"
    );
    let mut edited = row(2, 0);
    edited.revision = "rev-2-edited".into();
    assert_ne!(id, batch_request_id(&[&a, &edited]), "a new revision");
    assert_ne!(id, request_id(&a, &[]), "never a single document's id");
}
