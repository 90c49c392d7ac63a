//! Credits: TrackTik credit memos, and invoices below zero, become QuickBooks credit memos
//! for the same customer, with the ledger's guarantees; the reconciliation nets them.

use super::*;
use ledgerbridge::providers::quickbooks::models::CreditMemo;

#[tokio::test]
async fn a_tracktik_credit_memo_becomes_a_quickbooks_credit_memo_for_the_same_customer_once() {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let invoice = s
        .new_invoice(days_ago(1), Utc::now() - chrono::Duration::hours(3))
        .await;
    controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    let made = Sandboxes::control(
        s.tt_base(),
        "/__sandbox/credit-memos",
        json!({"invoice": invoice, "approve": true}),
    )
    .await;
    let memo = made["data"]["id"].as_i64().unwrap();
    for _ in 0..2 {
        let report = controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
            .await
            .unwrap();
        assert_eq!(report.counts.failed, 0, "{report:?}");
    }
    let rows = s.ledger().await;
    let inv = rows.iter().find(|r| r.source_id == invoice).unwrap();
    let cm = rows
        .iter()
        .find(|r| r.source == Source::CreditMemo && r.source_id == memo)
        .unwrap();
    assert_eq!(cm.state, LedgerState::Posted, "{cm:?}");
    assert_eq!(cm.qbo_entity.as_deref(), Some("CreditMemo"));
    assert_eq!(cm.amount, -inv.amount, "a credit counts below zero");
    assert_eq!(
        cm.qbo_amount,
        Some(-inv.amount),
        "what QuickBooks holds, as a credit"
    );
    assert!(cm.qbo_link.as_deref().unwrap().contains("creditmemo"));
    let memos = s.qbo_all::<CreditMemo>().await;
    assert_eq!(memos.len(), 1, "posted once");
    let invoices = s.qbo_invoices().await;
    let posted_invoice = invoices
        .iter()
        .find(|i| i.id.as_deref() == inv.qbo_id.as_deref())
        .unwrap();
    assert_eq!(memos[0].customer_ref, posted_invoice.customer_ref);
    assert_eq!(memos[0].total_amt, posted_invoice.total_amt);
    // The reconciliation counts the credit: TrackTik and QuickBooks agree to the cent.
    let docs = ledgerbridge::dashboard::current_documents(
        &s.state.db,
        s.tenant_id,
        s.integration_id,
        inv.trading_day.min(cm.trading_day),
        inv.trading_day.max(cm.trading_day),
    )
    .await
    .unwrap();
    for day in [inv.trading_day, cm.trading_day] {
        for r in ledgerbridge::dashboard::reconcile(day, &docs, "USD") {
            assert!(
                r.balanced(),
                "{day}: {:?}",
                r.differences.iter().map(|d| &d.reason).collect::<Vec<_>>()
            );
        }
    }
}

#[tokio::test]
async fn an_invoice_below_zero_is_posted_as_a_credit_memo_never_skipped() {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let client = s.first_client().await;
    let item = s.first_bill_item().await;
    let made = Sandboxes::control(
        s.tt_base(),
        "/__sandbox/invoices",
        json!({"client": client, "invoiceDate": days_ago(1).to_string(), "approve": true,
               "lines": [{"billItem": item, "quantity": -4, "unitPrice": 45.25}]}),
    )
    .await;
    let id = made["data"]["id"].as_i64().unwrap();
    let report = controls::sync_now(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(
        (report.counts.failed, report.counts.skipped),
        (0, 0),
        "{report:?}"
    );
    let row = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.source_id == id)
        .unwrap();
    assert_eq!(row.state, LedgerState::Posted, "{row:?}");
    assert_eq!(row.qbo_entity.as_deref(), Some("CreditMemo"));
    assert!(row.amount < Decimal::ZERO);
    assert_eq!(row.qbo_amount, Some(row.amount));
    let memos = s.qbo_all::<CreditMemo>().await;
    assert_eq!(memos.len(), 1);
    assert_eq!(memos[0].total_amt, Some(-row.amount));
}
