//! Duplicates as QuickBooks judges them: display names across customers and vendors, account
//! names and numbers, and document numbers under the company's duplicate-check preference.

use reqwest::StatusCode;
use serde_json::json;

use super::validation::{assert_fault, post};
use super::{Sb, US_REALM_ID, bill, invoice};

#[tokio::test]
async fn duplicate_display_name_across_vendor_and_customer_is_refused_with_6240() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let r = post(&api, "vendor", json!({"DisplayName": "northwind MALL"})).await;
    assert_fault(&r, "6240", "");
    assert_eq!(
        r.json()["Fault"]["Error"][0]["Message"],
        "Duplicate Name Exists Error"
    );
    let r = post(&api, "customer", json!({"DisplayName": "Jordan Smith"})).await;
    assert_fault(&r, "6240", "");
}

#[tokio::test]
async fn duplicate_account_names_and_account_numbers_are_refused_with_6240() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    assert_fault(
        &post(
            &api,
            "account",
            json!({"Name": "CHECKING", "AccountType": "Bank"}),
        )
        .await,
        "6240",
        "",
    );
    let r = post(
        &api,
        "account",
        json!({"Name": "Another", "AccountType": "Bank", "AcctNum": "1000"}),
    )
    .await;
    assert_fault(&r, "6240", "");
    assert!(r.detail().contains("AcctNum=1000"));
    assert_fault(&post(&api, "item", json!({"Name": "guard services", "Type": "Service", "IncomeAccountRef": {"value": ids.services_income}})).await, "6240", "");
}

#[tokio::test]
async fn a_duplicate_doc_number_is_6140_unless_allowduplicatedocnum_is_included() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    // Bills are checked only while the company warns about duplicate bill numbers.
    sb.control(
        &format!("companies/{US_REALM_ID}/settings"),
        json!({"other_prefs": {"WarnDuplicateBillNumber": "true"}}),
    )
    .await;
    let first = api.create("bill", bill(&ids, "PR-2026-11", "10.0")).await;
    let r = post(&api, "bill", bill(&ids, "PR-2026-11", "12.0")).await;
    assert_fault(&r, "6140", "");
    assert!(
        r.detail().contains(&format!(
            "DocNumber=PR-2026-11 is assigned to TxnType=Bill with TxnId={}",
            first["Id"].as_str().expect("id")
        )),
        "{}",
        r.detail()
    );
    api.create("invoice", invoice(&ids, "PR-2026-11", "5.0"))
        .await; // other type: fine
    let r = api
        .post(
            "bill?minorversion=75&include=allowduplicatedocnum",
            bill(&ids, "PR-2026-11", "12.0"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn by_quickbooks_defaults_invoice_numbers_are_unique_but_bill_and_journal_numbers_are_not() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let prefs = api.get("preferences").await.json();
    let warn = |name: &str| {
        prefs["Preferences"]["OtherPrefs"]["NameValue"]
            .as_array()
            .and_then(|l| l.iter().find(|nv| nv["Name"] == name))
            .map(|nv| nv["Value"].clone())
    };
    assert_eq!(warn("WarnDuplicateBillNumber"), Some(json!("false")));
    assert_eq!(warn("WarnDuplicateJournalNumber"), Some(json!("false")));
    assert_eq!(warn("WarnDuplicateCheckNumber"), Some(json!("true")));
    api.create("bill", bill(&ids, "DUP-1", "1.0")).await;
    api.create("bill", bill(&ids, "DUP-1", "2.0")).await;
    api.create("invoice", invoice(&ids, "DUP-2", "1.0")).await;
    assert_fault(
        &post(&api, "invoice", invoice(&ids, "DUP-2", "2.0")).await,
        "6140",
        "",
    );
    let back = sb
        .control(
            &format!("companies/{US_REALM_ID}/settings"),
            json!({"duplicate_doc_check": true}),
        )
        .await;
    assert_eq!(back["duplicate_doc_check"], json!(true));
    assert_fault(
        &post(&api, "bill", bill(&ids, "DUP-1", "3.0")).await,
        "6140",
        "",
    );
}

#[tokio::test]
async fn a_company_with_the_duplicate_check_off_keeps_two_documents_with_one_number() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let answer = sb
        .control(
            &format!("companies/{US_REALM_ID}/settings"),
            json!({"duplicate_doc_check": false}),
        )
        .await;
    assert_eq!(answer["duplicate_doc_check"], json!(false));
    let first = api.create("bill", bill(&ids, "PR-2026-12", "10.0")).await;
    let second = api.create("bill", bill(&ids, "PR-2026-12", "10.0")).await;
    assert_ne!(first["Id"], second["Id"]);
    let r = api
        .query("select * from Bill where DocNumber = 'PR-2026-12'")
        .await;
    assert_eq!(
        r.json()["QueryResponse"]["Bill"].as_array().map(Vec::len),
        Some(2),
        "{}",
        r.text
    );
}
