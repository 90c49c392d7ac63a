//! The read-only pages at QuickBooks' web-app paths ("View in QuickBooks" in the demo).

use reqwest::StatusCode;
use serde_json::json;

use super::{Sb, US_REALM_ID, bill, invoice};

async fn page(sb: &Sb, path: &str) -> (StatusCode, String) {
    let r = sb.http.get(sb.url(path)).send().await.expect("page");
    let status = r.status();
    (status, r.text().await.expect("html"))
}

#[tokio::test]
async fn every_posted_kind_has_a_read_only_page_at_its_quickbooks_path() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let inv = api
        .create("invoice", invoice(&ids, "INV-APP-1", "120.0"))
        .await;
    let b = api.create("bill", bill(&ids, "BILL-APP-1", "80.0")).await;
    let purchase = api
        .create("purchase", json!({"PaymentType": "CreditCard", "AccountRef": {"value": ids.card}, "DocNumber": "EXP-APP-1",
            "Line": [{"DetailType": "AccountBasedExpenseLineDetail", "Amount": 45.5, "Description": "Fuel",
                      "AccountBasedExpenseLineDetail": {"AccountRef": {"value": ids.payroll_expense}}}]}))
        .await;
    let je = api
        .create("journalentry", json!({"DocNumber": "PR-APP-1", "Line": [
            {"DetailType": "JournalEntryLineDetail", "Amount": 900, "Description": "Wages",
             "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": ids.payroll_expense}}},
            {"DetailType": "JournalEntryLineDetail", "Amount": 900, "Description": "Wages",
             "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": ids.checking}}}]}))
        .await;
    let cm = api
        .create("creditmemo", json!({"DocNumber": "CM-APP-1", "CustomerRef": {"value": ids.customer},
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 30, "SalesItemLineDetail": {"ItemRef": {"value": ids.guard_item}}}]}))
        .await;
    let id = |v: &serde_json::Value| v["Id"].as_str().expect("id").to_string();
    for (path, entity, words) in [
        (
            "invoice",
            &inv,
            vec!["Invoice no. INV-APP-1", "Northwind Mall", "120.00"],
        ),
        (
            "bill",
            &b,
            vec!["Bill no. BILL-APP-1", "Allied Uniform Supply", "80.00"],
        ),
        (
            "expense",
            &purchase,
            vec!["Expense no. EXP-APP-1", "Fuel", "45.50"],
        ),
        (
            "journal",
            &je,
            vec!["Journal entry no. PR-APP-1", "Payroll Expenses", "900.00"],
        ),
        (
            "creditmemo",
            &cm,
            vec!["Credit memo no. CM-APP-1", "Northwind Mall", "30.00"],
        ),
    ] {
        let (status, html) = page(&sb, &format!("/app/{path}?txnId={}", id(entity))).await;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        for w in words {
            assert!(html.contains(w), "{path} shows {w}: {html}");
        }
        assert!(html.contains("Acme Security Inc. (US)"));
    }
    let (status, html) = page(&sb, "/app/chartofaccounts").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Chart of accounts — Acme Security Inc. (US)"));
    assert!(html.contains("Visa Business Card") && html.contains("Credit Card"));
    let (_, one) = page(
        &sb,
        &format!("/app/chartofaccounts?companyId={US_REALM_ID}"),
    )
    .await;
    assert!(
        !one.contains("Acme Security Ltd (CA)"),
        "companyId picks one company"
    );
    let (status, html) = page(&sb, "/app/invoice?txnId=987654").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Invoice 987654 was not found"), "{html}");
}
