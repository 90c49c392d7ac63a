//! Bad documents end to end: a TrackTik portal holding a 10,000-line invoice, negative
//! amounts, unicode document numbers and huge quantities among good invoices (an invoice below
//! zero is a credit memo). The run goes
//! through; each bad document either posts correctly (QuickBooks takes it) or ends `failed`
//! with a reason in plain words; every good one posts; nothing panics. (The parsers and the
//! wizard forms have property tests next to their code.)

use std::collections::BTreeMap;

use chrono::{Days, NaiveTime, Utc};
use ledgerbridge::providers::quickbooks::Company;
use ledgerbridge::providers::quickbooks::models::{CreditMemo, Invoice};
use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
use ledgerbridge::sync::ledger::{self, LedgerState, Source};
use ledgerbridge::sync::runs::RunKind;
use serde_json::{Value, json};

use crate::helpers::{Sandboxes, TestApp};

/// Seeds the bad documents (a `big_lines`-line invoice, `huge_quantity` as the huge
/// invoice's quantity at a price of one million) among good ones, runs yesterday's sync in
/// process and checks every document.
async fn bad_documents_among_good_ones(big_lines: usize, huge_quantity: i64) {
    let app = TestApp::spawn_with_sandboxes().await;
    let today = Utc::now().date_naive();
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap();
    let active = app
        .activate_integration(US_REALM_ID, today.checked_sub_days(Days::new(10)).unwrap())
        .await;
    let state = &app.state;
    let (portal, tt) = active.tracktik(state).await;
    let client = state
        .providers
        .tracktik
        .clients(&portal, &tt)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.kind == Some(ledgerbridge::providers::tracktik::models::ClientType::Client))
        .unwrap()
        .id;
    let bill_item = state
        .providers
        .tracktik
        .bill_items(&portal, &tt)
        .await
        .unwrap()[0]
        .id;
    let line = |quantity: Value, price: Value| json!({"billItem": bill_item, "quantity": quantity, "unitPrice": price});
    let approved_on = yesterday
        .and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap())
        .and_utc();
    let tt_base = app.sandboxes().tracktik.base_url().to_owned();
    let mut made: BTreeMap<&str, i64> = BTreeMap::new();
    for (name, number, lines) in [
        (
            "many lines",
            "BIG-LINES",
            (0..big_lines)
                .map(|_| line(json!(1), json!(1.25)))
                .collect::<Vec<_>>(),
        ),
        (
            "negative total",
            "NEG-1",
            vec![line(json!(8), json!(-30.25))],
        ),
        (
            "negative line among positive ones",
            "NEG-2",
            vec![line(json!(8), json!(30.25)), line(json!(-2), json!(30.25))],
        ),
        (
            "unicode number",
            "ÉCOLE-№7-夜勤-🛡",
            vec![line(json!(3), json!(19.99))],
        ),
        (
            "huge quantity",
            "HUGE-1",
            vec![line(json!(huge_quantity), json!(1_000_000))],
        ),
        ("good one", "GOOD-1", vec![line(json!(8), json!(30.25))]),
        ("good two", "GOOD-2", vec![line(json!(4), json!(45.5))]),
    ] {
        let r = reqwest::Client::new()
            .post(format!("{tt_base}/__sandbox/invoices"))
            .json(
                &json!({"client": client, "invoiceDate": yesterday.to_string(),
                          "documentNumber": number, "lines": lines}),
            )
            .send()
            .await
            .unwrap();
        if !r.status().is_success() {
            // The portal itself refused it (e.g. an amount it cannot hold): nothing to sync.
            println!("TrackTik refused {name}: {}", r.text().await.unwrap());
            continue;
        }
        let id = r.json::<Value>().await.unwrap()["data"]["id"]
            .as_i64()
            .unwrap();
        Sandboxes::control(
            &tt_base,
            &format!("/__sandbox/invoices/{id}/approve"),
            json!({"approvedOn": approved_on.to_rfc3339()}),
        )
        .await;
        made.insert(name, id);
    }
    assert!(made.contains_key("good one") && made.contains_key("good two"));

    let report = ledgerbridge::sync::run_day(
        state,
        active.tenant_id,
        active.integration_id,
        yesterday,
        RunKind::Nightly,
    )
    .await
    .expect("the run goes through bad documents");

    let rows = ledger::list(&state.db, active.tenant_id, active.integration_id)
        .await
        .unwrap();
    let token = active.qbo_token(state).await;
    let co = Company {
        realm_id: &active.realm,
        access_token: &token,
    };
    let invoices: Vec<Invoice> = state
        .providers
        .quickbooks
        .query(&co, "SELECT * FROM Invoice")
        .await
        .unwrap();
    let by_number: BTreeMap<String, &Invoice> = invoices
        .iter()
        .filter_map(|i| Some((i.doc_number.clone()?, i)))
        .collect();
    let memos: Vec<CreditMemo> = state
        .providers
        .quickbooks
        .query(&co, "SELECT * FROM CreditMemo")
        .await
        .unwrap();
    for (name, id) in &made {
        let row = rows
            .iter()
            .find(|r| r.source == Source::Invoice && r.source_id == *id)
            .unwrap_or_else(|| panic!("{name} is in the ledger"));
        println!(
            "{name}: {:?} {}",
            row.state,
            row.last_error.as_deref().unwrap_or("")
        );
        match row.state {
            LedgerState::Posted if row.qbo_entity.as_deref() == Some("CreditMemo") => {
                let memo = memos
                    .iter()
                    .find(|m| m.doc_number == row.qbo_doc_number)
                    .unwrap_or_else(|| panic!("{name} posted but not in QuickBooks"));
                assert_eq!(
                    memo.total_amt.map(|t| -t),
                    Some(row.amount),
                    "{name} credited with TrackTik's total"
                );
            }
            LedgerState::Posted => {
                let posted = by_number
                    .get(row.qbo_doc_number.as_deref().unwrap_or_default())
                    .unwrap_or_else(|| panic!("{name} posted but not in QuickBooks"));
                assert_eq!(
                    posted.total_amt,
                    Some(row.amount),
                    "{name} posted with TrackTik's total"
                );
            }
            LedgerState::Failed | LedgerState::Skipped => {
                let why = row.last_error.as_deref().unwrap_or_default().trim();
                assert!(
                    !why.is_empty() && !why.ends_with(':'),
                    "{name} failed without a reason: {why:?}"
                );
                assert!(
                    !by_number.contains_key(row.qbo_doc_number.as_deref().unwrap_or("-")),
                    "{name} failed but QuickBooks has it"
                );
            }
            other => panic!("{name} ended {other:?}"),
        }
        if name.starts_with("good") {
            assert_eq!(row.state, LedgerState::Posted, "{name}");
        }
        if name.starts_with("negative total") {
            assert_eq!(
                (row.state, row.qbo_entity.as_deref()),
                (LedgerState::Posted, Some("CreditMemo")),
                "an invoice below zero is a credit memo, never skipped"
            );
        }
    }
    // Everything else in the portal posted as usual; nothing half-written.
    assert!(
        rows.iter()
            .filter(|r| !made
                .values()
                .any(|id| *id == r.source_id && r.source == Source::Invoice))
            .all(|r| r.state == LedgerState::Posted),
        "{report:?}"
    );
    assert!(rows.iter().all(|r| r.state != LedgerState::Posting));
}

/// The huge invoice here totals 10^14: TrackTik holds it, the ledger holds it, QuickBooks
/// refuses it (amounts must stay below 10^13), so it fails alone with QBO's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_documents_fail_alone_with_a_reason_and_the_good_ones_post() {
    bad_documents_among_good_ones(700, 100_000_000).await;
}

/// A 10,000-line invoice (QuickBooks takes at most 750 lines) fails alone, in words, before
/// anything is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_thousand_line_invoice_fails_with_a_reason() {
    bad_documents_among_good_ones(10_000, 100_000_000).await;
}

/// A total of 10^16 and more is recorded exactly (the ledger's amounts are unbounded) and fails
/// alone when QuickBooks refuses it; the run goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_total_too_big_for_the_ledger_fails_that_document_alone() {
    bad_documents_among_good_ones(700, 1_000_000_000_000).await;
}
