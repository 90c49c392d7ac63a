use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Api, CA_REALM_ID, Sb};

async fn tax_code(api: &Api<'_>, name: &str) -> String {
    let v = api
        .query(&format!("select * from TaxCode where Name = '{name}'"))
        .await
        .json();
    v["QueryResponse"]["TaxCode"][0]["Id"]
        .as_str()
        .expect("tax code")
        .to_string()
}

fn ca_invoice(ids: &super::Ids, lines: &[(f64, &str)], mode: &str) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(amount, code)| json!({"DetailType": "SalesItemLineDetail", "Amount": amount,
            "SalesItemLineDetail": {"ItemRef": {"value": ids.guard_item}, "TaxCodeRef": {"value": code}}}))
        .collect();
    json!({"TxnDate": "2026-11-20", "CustomerRef": {"value": ids.customer}, "CurrencyRef": {"value": "CAD"},
           "GlobalTaxCalculation": mode, "Line": lines})
}

#[tokio::test]
async fn a_canadian_invoice_needs_global_tax_calculation_and_a_tax_code_on_every_line() {
    let sb = Sb::start().await;
    let api = sb.api(CA_REALM_ID).await;
    let ids = api.ids().await;
    let gst = tax_code(&api, "GST").await;
    let mut inv = ca_invoice(&ids, &[(100.0, &gst)], "TaxExcluded");
    inv.as_object_mut()
        .expect("obj")
        .remove("GlobalTaxCalculation");
    let r = api.post("invoice", inv).await;
    assert_eq!(
        (r.code(), r.element()),
        ("2020".to_string(), "GlobalTaxCalculation".to_string())
    );
    let mut inv = ca_invoice(&ids, &[(100.0, &gst), (50.0, &gst)], "TaxExcluded");
    inv["Line"][1]["SalesItemLineDetail"]
        .as_object_mut()
        .expect("detail")
        .remove("TaxCodeRef");
    let r = api.post("invoice", inv).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "6000");
    assert!(
        r.detail()
            .contains("Make sure all your transactions have a GST/HST rate before you save."),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn canadian_tax_is_computed_per_rate_from_the_line_tax_codes() {
    let sb = Sb::start().await;
    let api = sb.api(CA_REALM_ID).await;
    let ids = api.ids().await;
    let gst_pst = tax_code(&api, "GST/PST BC").await;
    let hst = tax_code(&api, "HST ON").await;
    let exempt = tax_code(&api, "Exempt").await;
    let inv = api
        .create(
            "invoice",
            ca_invoice(
                &ids,
                &[(100.0, &gst_pst), (200.0, &hst), (33.33, &exempt)],
                "TaxExcluded",
            ),
        )
        .await;
    assert_eq!(inv["TxnTaxDetail"]["TotalTax"], json!(38));
    assert_eq!(inv["TotalAmt"], json!(371.33));
    assert_eq!(inv["Balance"], json!(371.33));
    let lines = inv["TxnTaxDetail"]["TaxLine"]
        .as_array()
        .expect("tax lines");
    let by_percent = |p: i64| {
        lines
            .iter()
            .find(|l| l["TaxLineDetail"]["TaxPercent"] == json!(p))
            .cloned()
            .expect("rate line")
    };
    assert_eq!(by_percent(5)["Amount"], json!(5));
    assert_eq!(by_percent(7)["Amount"], json!(7));
    assert_eq!(by_percent(13)["Amount"], json!(26));
    assert_eq!(
        by_percent(13)["TaxLineDetail"]["NetAmountTaxable"],
        json!(200)
    );
}

#[tokio::test]
async fn tax_inclusive_amounts_are_split_into_net_and_tax() {
    let sb = Sb::start().await;
    let api = sb.api(CA_REALM_ID).await;
    let ids = api.ids().await;
    let hst = tax_code(&api, "HST ON").await;
    let inv = api
        .create(
            "invoice",
            ca_invoice(&ids, &[(113.0, &hst)], "TaxInclusive"),
        )
        .await;
    assert_eq!(inv["TxnTaxDetail"]["TotalTax"], json!(13));
    assert_eq!(inv["TotalAmt"], json!(113));
}

#[tokio::test]
async fn with_multicurrency_on_currency_ref_is_required_and_must_match_the_vendor() {
    let sb = Sb::start().await;
    let api = sb.api(CA_REALM_ID).await;
    let ids = api.ids().await;
    let gst = tax_code(&api, "GST").await;
    let mut inv = ca_invoice(&ids, &[(10.0, &gst)], "TaxExcluded");
    inv.as_object_mut().expect("obj").remove("CurrencyRef");
    let r = api.post("invoice", inv).await;
    assert_eq!(
        (r.code(), r.element()),
        ("2020".to_string(), "CurrencyRef".to_string())
    );
    let usd_vendor = api
        .query("select * from Vendor where DisplayName = 'Guardian Software USA'")
        .await
        .json()["QueryResponse"]["Vendor"][0]["Id"]
        .clone();
    let bill = |currency: &str| {
        json!({
            "TxnDate": "2026-11-20", "VendorRef": {"value": usd_vendor}, "CurrencyRef": {"value": currency},
            "ExchangeRate": 1.35, "GlobalTaxCalculation": "TaxExcluded",
            "Line": [{"DetailType": "AccountBasedExpenseLineDetail", "Amount": 100,
                      "AccountBasedExpenseLineDetail": {"AccountRef": {"value": ids.payroll_expense}, "TaxCodeRef": {"value": gst}}}]
        })
    };
    let r = api.post("bill", bill("CAD")).await;
    assert_eq!(
        (r.code(), r.element()),
        ("6000".to_string(), "CurrencyRef".to_string())
    );
    let ok = api.create("bill", bill("USD")).await;
    assert_eq!(ok["CurrencyRef"]["value"], "USD");
    assert_eq!(
        ok["APAccountRef"]["name"], "Accounts Payable (A/P) - USD",
        "the AP account in the bill's currency"
    );
    assert_eq!(ok["TotalAmt"], json!(105));
    assert_eq!(ok["HomeTotalAmt"], json!(141.75));
}

#[tokio::test]
async fn class_and_location_refs_are_accepted_where_tracking_is_on() {
    let sb = Sb::start().await;
    let api = sb.api(CA_REALM_ID).await;
    let ids = api.ids().await;
    let gst = tax_code(&api, "GST").await;
    let class = api
        .query("select * from Class where Name = 'Static Guarding'")
        .await
        .json()["QueryResponse"]["Class"][0]["Id"]
        .clone();
    let dept = api
        .query("select * from Department where Name = 'Toronto'")
        .await
        .json()["QueryResponse"]["Department"][0]["Id"]
        .clone();
    let mut inv = ca_invoice(&ids, &[(10.0, &gst)], "TaxExcluded");
    inv["DepartmentRef"] = json!({"value": dept});
    inv["Line"][0]["SalesItemLineDetail"]["ClassRef"] = json!({"value": class});
    let ok = api.create("invoice", inv).await;
    assert_eq!(ok["DepartmentRef"]["name"], "Toronto");
    assert_eq!(
        ok["Line"][0]["SalesItemLineDetail"]["ClassRef"]["name"],
        "Static Guarding"
    );
}

#[tokio::test]
async fn canadian_account_numbers_may_be_20_characters() {
    let sb = Sb::start().await;
    let api = sb.api(CA_REALM_ID).await;
    let ok = api
        .post(
            "account",
            json!({"Name": "Long Number", "AccountType": "Expense", "AcctNum": "A".repeat(20)}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let r = api
        .post(
            "account",
            json!({"Name": "Longer Number", "AccountType": "Expense", "AcctNum": "A".repeat(21)}),
        )
        .await;
    assert_eq!(
        (r.code(), r.element()),
        ("2050".to_string(), "AcctNum".to_string())
    );
}

#[tokio::test]
async fn tax_rates_point_at_their_seeded_tax_agencies() {
    let sb = Sb::start().await;
    let api = sb.api(CA_REALM_ID).await;
    let rate = api
        .query("select * from TaxRate where Name = 'PST BC'")
        .await
        .json()["QueryResponse"]["TaxRate"][0]
        .clone();
    let agency_id = rate["AgencyRef"]["value"]
        .as_str()
        .expect("agency")
        .to_string();
    let agency = api.get(&format!("taxagency/{agency_id}")).await.json();
    assert_eq!(
        agency["TaxAgency"]["DisplayName"], "BC Ministry of Finance",
        "{agency} {rate}"
    );
    let r = api
        .post("taxagency", json!({"DisplayName": "New Agency"}))
        .await;
    assert_eq!(r.code(), "500", "tax agencies are read-only here");
}
