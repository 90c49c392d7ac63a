use reqwest::StatusCode;
use serde_json::json;

use super::validation::{assert_fault, post};
use super::{Sb, US_NO_ACCTNUM_REALM_ID, US_REALM_ID};

#[tokio::test]
async fn a_company_without_account_numbers_refuses_acctnum_and_payroll_wage_expenses() {
    let sb = Sb::start().await;
    let api = sb.api(US_NO_ACCTNUM_REALM_ID).await;
    let r = post(&api, "account", json!({"Name": "TrackTik Direct Wages", "AccountType": "Expense", "AccountSubType": "PayrollExpenses", "AcctNum": "TT-3000"})).await;
    assert_fault(&r, "6000", "AcctNum");
    let r = post(&api, "account", json!({"Name": "TrackTik Direct Wages", "AccountType": "Expense", "AccountSubType": "PayrollWageExpenses"})).await;
    assert_fault(&r, "2170", "AccountSubType");
    let ok = api
        .create("account", json!({"Name": "TrackTik Direct Wages", "AccountType": "Expense", "AccountSubType": "PayrollExpenses"}))
        .await;
    assert_eq!(ok["AccountSubType"], "PayrollExpenses");
    assert!(ok.get("AcctNum").is_none());
}

#[tokio::test]
async fn the_payroll_wage_expenses_refusal_can_be_switched_on_through_the_control_api() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let body = json!({"Name": "TrackTik Direct Wages", "AccountType": "Expense", "AccountSubType": "PayrollWageExpenses", "AcctNum": "TT-3000"});
    sb.control(
        &format!("companies/{US_REALM_ID}/settings"),
        json!({"reject_payroll_wage_expenses": true}),
    )
    .await;
    assert_fault(
        &post(&api, "account", body.clone()).await,
        "2170",
        "AccountSubType",
    );
    sb.control(
        &format!("companies/{US_REALM_ID}/settings"),
        json!({"reject_payroll_wage_expenses": false}),
    )
    .await;
    assert_eq!(post(&api, "account", body).await.status, StatusCode::OK);
}

#[tokio::test]
async fn names_with_a_colon_or_double_quote_are_2040() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    assert_fault(
        &post(
            &api,
            "account",
            json!({"Name": "Wages:Guards", "AccountType": "Expense"}),
        )
        .await,
        "2040",
        "Name",
    );
    assert_fault(
        &post(
            &api,
            "customer",
            json!({"DisplayName": "The \"Best\" Mall"}),
        )
        .await,
        "2040",
        "DisplayName",
    );
}
