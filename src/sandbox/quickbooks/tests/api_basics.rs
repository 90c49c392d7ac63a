use reqwest::StatusCode;
use serde_json::json;

use super::{Sb, US_REALM_ID, invoice};

#[tokio::test]
async fn companyinfo_and_preferences_come_in_their_envelopes_with_intuit_headers() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let r = api
        .get(&format!("companyinfo/{US_REALM_ID}?minorversion=75"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers
            .get("intuit_tid")
            .is_some_and(|v| v.to_str().expect("tid").starts_with("1-"))
    );
    assert!(r.headers.contains_key("qbo-version"));
    let v = r.json();
    assert_eq!(v["CompanyInfo"]["CompanyName"], "Acme Security Inc. (US)");
    assert_eq!(v["CompanyInfo"]["Country"], "US");
    assert!(v["time"].as_str().expect("time").contains('.'));
    let p = api.get("preferences").await.json();
    assert_eq!(
        p["Preferences"]["AccountingInfoPrefs"]["UseAccountNumbers"],
        true
    );
    assert_eq!(
        p["Preferences"]["CurrencyPrefs"]["MultiCurrencyEnabled"],
        false
    );
    assert_eq!(
        p["Preferences"]["CurrencyPrefs"]["HomeCurrency"]["value"],
        "USD"
    );
}

#[tokio::test]
async fn creating_an_invoice_computes_totals_appends_a_subtotal_line_and_ignores_client_totals() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let mut body = invoice(&ids, "INV-1", "0.0");
    body["Line"] = json!([
        {"DetailType": "SalesItemLineDetail", "Amount": 103.55, "Description": "Guarding",
         "SalesItemLineDetail": {"ItemRef": {"value": ids.guard_item}, "Qty": 3.186154, "UnitPrice": 32.5}},
        {"DetailType": "SalesItemLineDetail", "Amount": 0.1,
         "SalesItemLineDetail": {"ItemRef": {"value": ids.guard_item}}},
        {"DetailType": "SalesItemLineDetail", "Amount": 0.2,
         "SalesItemLineDetail": {"ItemRef": {"value": ids.guard_item}}}
    ]);
    body["TotalAmt"] = json!(99999);
    let r = api.post("invoice?minorversion=75", body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.text.contains("\"TotalAmt\":103.85"),
        "money is a JSON number: {}",
        r.text
    );
    let inv = &r.json()["Invoice"];
    assert!(
        inv["Id"]
            .as_str()
            .expect("Id")
            .chars()
            .all(|c| c.is_ascii_digit())
    );
    assert_eq!(inv["SyncToken"], "0");
    assert_eq!(inv["domain"], "QBO");
    assert_eq!(inv["sparse"], false);
    assert_eq!(inv["Balance"], json!(103.85));
    assert_eq!(inv["TxnTaxDetail"], json!({"TotalTax": 0}));
    assert_eq!(inv["LinkedTxn"], json!([]));
    assert_eq!(inv["AllowOnlinePayment"], false);
    assert_eq!(
        inv["DueDate"], "2026-12-05",
        "Net 15 from the customer's terms"
    );
    let created = inv["MetaData"]["CreateTime"].as_str().expect("CreateTime");
    assert!(
        created.ends_with("-08:00") || created.ends_with("-07:00"),
        "{created}"
    );
    let lines = inv["Line"].as_array().expect("lines");
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3]["DetailType"], "SubTotalLineDetail");
    assert_eq!(lines[3]["Amount"], json!(103.85));
    assert_eq!(
        lines[0]["SalesItemLineDetail"]["TaxCodeRef"]["value"],
        "NON"
    );
    assert_eq!(
        lines[0]["SalesItemLineDetail"]["ItemRef"]["name"],
        "Guard Services"
    );
    assert_eq!(inv["CustomerRef"]["name"], "Northwind Mall");
}

#[tokio::test]
async fn read_returns_the_stored_entity_and_bad_ids_give_2030_or_610() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let created = api.create("invoice", invoice(&ids, "R-1", "10.0")).await;
    let id = created["Id"].as_str().expect("id");
    let read = api.get(&format!("invoice/{id}")).await.json();
    assert_eq!(read["Invoice"], created);
    let r = api.get("invoice/abc").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "2030".to_string())
    );
    let r = api.get("invoice/999999").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "610".to_string())
    );
}

#[tokio::test]
async fn sparse_update_changes_only_the_given_fields_and_increments_the_sync_token() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let mut body = invoice(&ids, "S-1", "50.0");
    body["PrivateNote"] = json!("keep me");
    let inv = api.create("invoice", body).await;
    let r = api
        .post(
            "invoice",
            json!({"Id": inv["Id"], "SyncToken": "0", "sparse": true, "DocNumber": "S-1b"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let updated = &r.json()["Invoice"];
    assert_eq!(updated["SyncToken"], "1");
    assert_eq!(updated["DocNumber"], "S-1b");
    assert_eq!(updated["PrivateNote"], "keep me");
    assert_eq!(updated["TotalAmt"], json!(50));
    assert_eq!(
        updated["MetaData"]["CreateTime"],
        inv["MetaData"]["CreateTime"]
    );
}

#[tokio::test]
async fn full_update_clears_omitted_writable_fields() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let mut body = invoice(&ids, "F-1", "50.0");
    body["PrivateNote"] = json!("gone after a full update");
    let inv = api.create("invoice", body).await;
    let mut full = invoice(&ids, "F-1", "75.0");
    full["Id"] = inv["Id"].clone();
    full["SyncToken"] = json!("0");
    let updated = api.create("invoice", full).await;
    assert!(updated.get("PrivateNote").is_none());
    assert_eq!(updated["TotalAmt"], json!(75));
    assert_eq!(updated["SyncToken"], "1");
}

#[tokio::test]
async fn a_stale_sync_token_is_refused_with_5010() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let inv = api.create("invoice", invoice(&ids, "ST-1", "50.0")).await;
    api.post(
        "invoice",
        json!({"Id": inv["Id"], "SyncToken": "0", "sparse": true, "PrivateNote": "a"}),
    )
    .await;
    let r = api
        .post(
            "invoice",
            json!({"Id": inv["Id"], "SyncToken": "0", "sparse": true, "PrivateNote": "b"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "5010".to_string())
    );
    assert!(r.detail().starts_with("Stale Object Error"));
}

#[tokio::test]
async fn delete_answers_status_deleted_and_the_transaction_is_gone() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let inv = api.create("invoice", invoice(&ids, "D-1", "50.0")).await;
    let r = api
        .post(
            "invoice?operation=delete",
            json!({"Id": inv["Id"], "SyncToken": "0"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    assert_eq!(
        v["Invoice"],
        json!({"status": "Deleted", "domain": "QBO", "Id": inv["Id"]})
    );
    let id = inv["Id"].as_str().expect("id");
    assert_eq!(api.get(&format!("invoice/{id}")).await.code(), "610");
    let r = api
        .post(
            "account?operation=delete",
            json!({"Id": ids.checking, "SyncToken": "0"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "name lists cannot be deleted"
    );
}

#[tokio::test]
async fn void_zeroes_the_invoice_and_increments_its_sync_token() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let inv = api.create("invoice", invoice(&ids, "V-1", "80.0")).await;
    let r = api
        .post(
            "invoice?operation=void",
            json!({"Id": inv["Id"], "SyncToken": "0"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = &r.json()["Invoice"];
    assert_eq!(v["SyncToken"], "1");
    assert_eq!(v["TotalAmt"], json!(0));
    assert_eq!(v["Balance"], json!(0));
    assert_eq!(v["PrivateNote"], "Voided");
}

#[tokio::test]
async fn deactivating_an_account_renames_it_deleted_and_frees_the_name() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let acct = api
        .create(
            "account",
            json!({"Name": "Old Fuel", "AccountType": "Expense", "AcctNum": "6901"}),
        )
        .await;
    assert_eq!(acct["Classification"], "Expense");
    assert_eq!(acct["CurrentBalance"], json!(0));
    let r = api
        .post(
            "account",
            json!({"Id": acct["Id"], "SyncToken": "0", "sparse": true, "Active": false}),
        )
        .await;
    let v = &r.json()["Account"];
    assert_eq!(v["Name"], "Old Fuel (deleted)");
    assert_eq!(v["Active"], false);
    api.create(
        "account",
        json!({"Name": "Old Fuel", "AccountType": "Expense"}),
    )
    .await;
}

#[tokio::test]
async fn an_unknown_resource_is_400_unsupported_operation() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let r = api.get("invoices/1").await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::BAD_REQUEST, "500".to_string())
    );
    assert!(
        r.headers.contains_key("intuit_tid"),
        "errors carry intuit_tid too"
    );
}

#[tokio::test]
async fn minorversion_and_requestid_are_recorded_in_the_request_log_with_old_versions_read_as_75() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    api.get("preferences?minorversion=65").await;
    api.get("preferences?minorversion=75&requestid=abc").await;
    api.get("preferences").await;
    let log = sb
        .control_get(&format!("requests?realm_id={US_REALM_ID}"))
        .await;
    let rows = log.as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["minorversion"], "65");
    assert_eq!(rows[0]["effective_minorversion"], 75);
    assert_eq!(rows[1]["requestid"], "abc");
    assert_eq!(rows[1]["status"], 200);
    assert!(rows[2]["minorversion"].is_null());
    assert_eq!(rows[2]["effective_minorversion"], 75);
}

#[tokio::test]
async fn balances_follow_transactions_on_balance_sheet_accounts_and_names() {
    let sb = Sb::start().await;
    let api = sb.fresh("us").await;
    let ids = api.ids().await;
    let balance = |entity: &'static str, id: String| {
        let api = &api;
        async move {
            let v = api
                .get(&format!("{}/{id}", entity.to_lowercase()))
                .await
                .json();
            let key = if entity == "Account" {
                "CurrentBalance"
            } else {
                "Balance"
            };
            v[entity][key].clone()
        }
    };
    let b = api
        .create("bill", super::bill(&ids, "BAL-1", "250.75"))
        .await;
    assert_eq!(balance("Account", ids.ap.clone()).await, json!(250.75));
    assert_eq!(balance("Vendor", ids.vendor.clone()).await, json!(250.75));
    assert_eq!(
        balance("Account", ids.payroll_expense.clone()).await,
        json!(0),
        "P&L accounts carry no balance"
    );
    let purchase = json!({"PaymentType": "CreditCard", "AccountRef": {"value": ids.card},
        "Line": [{"DetailType": "AccountBasedExpenseLineDetail", "Amount": 99.5,
                  "AccountBasedExpenseLineDetail": {"AccountRef": {"value": ids.payroll_expense}}}]});
    api.create("purchase", purchase).await;
    assert_eq!(balance("Account", ids.card.clone()).await, json!(99.5));
    api.create("invoice", invoice(&ids, "BAL-INV", "40.0"))
        .await;
    assert_eq!(balance("Account", ids.ar.clone()).await, json!(40));
    assert_eq!(balance("Customer", ids.customer.clone()).await, json!(40));
    api.post(
        "bill?operation=delete",
        json!({"Id": b["Id"], "SyncToken": "0"}),
    )
    .await;
    assert_eq!(balance("Account", ids.ap.clone()).await, json!(0));
    assert_eq!(balance("Vendor", ids.vendor.clone()).await, json!(0));
}

#[tokio::test]
async fn us_sales_tax_applies_the_transaction_tax_code_to_tax_lines_only() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let code = api
        .query("select * from TaxCode where Name = 'California'")
        .await
        .json()["QueryResponse"]["TaxCode"][0]["Id"]
        .clone();
    let mut inv = invoice(&ids, "TAX-1", "100.0");
    inv["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"] = json!({"value": "TAX"});
    inv["Line"].as_array_mut().expect("lines").push(json!({"DetailType": "SalesItemLineDetail", "Amount": 50,
        "SalesItemLineDetail": {"ItemRef": {"value": ids.guard_item}, "TaxCodeRef": {"value": "NON"}}}));
    inv["TxnTaxDetail"] = json!({"TxnTaxCodeRef": {"value": code}});
    let v = api.create("invoice", inv).await;
    assert_eq!(v["TxnTaxDetail"]["TotalTax"], json!(7.25));
    assert_eq!(v["TotalAmt"], json!(157.25));
    let mut bad = invoice(&ids, "TAX-2", "1.0");
    bad["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"] = json!({"value": "GST"});
    let r = api.post("invoice", bad).await;
    assert_eq!((r.code(), r.element()), ("2500".to_string(), String::new()));
    assert!(r.detail().contains("TaxCodes element id GST"), "{}", r.text);
}

#[tokio::test]
async fn an_unreadable_date_or_amount_is_2010() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let mut inv = invoice(&ids, "DT-1", "1.0");
    inv["TxnDate"] = json!("20/11/2026");
    let r = api.post("invoice", inv).await;
    assert_eq!(r.code(), "2010");
    assert!(r.detail().contains("for TxnDate"), "{}", r.text);
    let mut inv = invoice(&ids, "DT-2", "1.0");
    inv["Line"][0]["Amount"] = json!("lots");
    let r = api.post("invoice", inv).await;
    assert_eq!(r.code(), "2010");
    assert!(
        r.detail().contains(
            "Can not construct instance of java.math.BigDecimal from String value 'lots'"
        ),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn seeded_companies_have_deterministic_ids() {
    let sb = Sb::start().await;
    let us = sb.api(US_REALM_ID).await;
    let ids = us.ids().await;
    assert_eq!(
        [
            ids.checking.as_str(),
            ids.ap.as_str(),
            ids.card.as_str(),
            ids.guard_item.as_str(),
            ids.vendor.as_str(),
            ids.customer.as_str(),
            ids.employee.as_str()
        ],
        ["6", "9", "10", "22", "25", "28", "30"]
    );
    let ca = sb.api(super::CA_REALM_ID).await;
    let code = ca
        .query("select * from TaxCode where Name = 'GST/PST BC'")
        .await
        .json();
    assert_eq!(code["QueryResponse"]["TaxCode"][0]["Id"], "11");
    let ca_ids = ca.ids().await;
    assert_eq!(
        [
            ca_ids.checking.as_str(),
            ca_ids.ap.as_str(),
            ca_ids.customer.as_str()
        ],
        ["14", "17", "39"]
    );
}

#[tokio::test]
async fn every_entity_read_back_can_be_posted_again_and_an_unchanged_update_keeps_its_sync_token() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let inv = api.create("invoice", invoice(&ids, "RT-1", "10.0")).await;
    let bill = api.create("bill", super::bill(&ids, "RT-1", "10.0")).await;
    let purchase = api
        .create("purchase", json!({"PaymentType": "CreditCard", "AccountRef": {"value": ids.card},
            "Line": [{"DetailType": "AccountBasedExpenseLineDetail", "Amount": 5,
                      "AccountBasedExpenseLineDetail": {"AccountRef": {"value": ids.payroll_expense}}}]}))
        .await;
    let je = api
        .create("journalentry", json!({"Line": [
            {"DetailType": "JournalEntryLineDetail", "Amount": 5, "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": ids.payroll_expense}}},
            {"DetailType": "JournalEntryLineDetail", "Amount": 5, "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": ids.checking}}}]}))
        .await;
    let cases = [
        ("invoice", "Invoice", inv["Id"].clone()),
        ("bill", "Bill", bill["Id"].clone()),
        ("purchase", "Purchase", purchase["Id"].clone()),
        ("journalentry", "JournalEntry", je["Id"].clone()),
        ("account", "Account", json!(ids.checking)),
        ("item", "Item", json!(ids.guard_item)),
        ("vendor", "Vendor", json!(ids.vendor)),
        ("customer", "Customer", json!(ids.customer)),
        ("employee", "Employee", json!(ids.employee)),
    ];
    for (segment, name, id) in cases {
        let read = api
            .get(&format!("{segment}/{}", id.as_str().expect("id")))
            .await
            .json()[name]
            .clone();
        let r = api.post(segment, read.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{segment}: {}", r.text);
        assert_eq!(
            r.json()[name],
            read,
            "{segment}: nothing changed, nothing bumped"
        );
        let note_key = match name {
            "Account" | "Item" => "Description",
            "Vendor" | "Customer" | "Employee" => "Notes",
            _ => "PrivateNote",
        };
        let mut changed = read.clone();
        changed[note_key] = json!("changed");
        let r = api.post(segment, changed).await;
        assert_eq!(r.status, StatusCode::OK, "{segment}: {}", r.text);
        let again = &r.json()[name];
        let next = read["SyncToken"]
            .as_str()
            .expect("sync")
            .parse::<u32>()
            .expect("n")
            + 1;
        assert_eq!(again["SyncToken"], json!(next.to_string()), "{segment}");
        assert_eq!(again[note_key], "changed");
        for key in ["TotalAmt", "Balance", "DisplayName", "Name", "Line"] {
            assert_eq!(again.get(key), read.get(key), "{segment}.{key} unchanged");
        }
    }
}
