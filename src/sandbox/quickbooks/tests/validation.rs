use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Api, Resp, Sb, US_REALM_ID, bill, invoice};

pub(super) fn assert_fault(r: &Resp, code: &str, element: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    let v = r.json();
    assert_eq!(v["Fault"]["type"], "ValidationFault", "{}", r.text);
    assert!(v["time"].is_string());
    assert_eq!(r.code(), code, "{}", r.text);
    assert_eq!(r.element(), element, "{}", r.text);
}

/// Faults where QBO leaves `element` out and names the field in `Detail` (2010, 6240).
fn assert_fault_without_element(r: &Resp, code: &str, detail_mentions: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(r.code(), code, "{}", r.text);
    assert!(
        r.json()["Fault"]["Error"][0].get("element").is_none(),
        "{}",
        r.text
    );
    assert!(r.detail().contains(detail_mentions), "{}", r.text);
}

pub(super) async fn post(api: &Api<'_>, entity: &str, body: Value) -> Resp {
    api.post(&format!("{entity}?minorversion=75"), body).await
}

fn je(ids: &super::Ids, debit: f64, credit: f64) -> Value {
    json!({
        "TxnDate": "2026-11-20",
        "Line": [
            {"DetailType": "JournalEntryLineDetail", "Amount": debit,
             "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": ids.payroll_expense}}},
            {"DetailType": "JournalEntryLineDetail", "Amount": credit,
             "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": ids.checking}}}
        ]
    })
}

#[tokio::test]
async fn missing_required_fields_are_2020_naming_the_element() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let mut b = bill(&ids, "B-1", "10.0");
    b.as_object_mut().expect("obj").remove("VendorRef");
    assert_fault(&post(&api, "bill", b).await, "2020", "VendorRef");
    let mut i = invoice(&ids, "I-1", "10.0");
    i["Line"][0]
        .as_object_mut()
        .expect("line")
        .remove("SalesItemLineDetail");
    assert_fault(
        &post(&api, "invoice", i).await,
        "2020",
        "Line.SalesItemLineDetail",
    );
    let mut i = invoice(&ids, "I-1", "10.0");
    i.as_object_mut().expect("obj").remove("CustomerRef");
    assert_fault(&post(&api, "invoice", i).await, "2020", "CustomerRef");
    assert_fault(
        &post(&api, "account", json!({"Name": "X"})).await,
        "2020",
        "AccountType",
    );
    assert_fault(
        &post(&api, "item", json!({"Name": "X"})).await,
        "2020",
        "Type",
    );
    assert_fault(
        &post(&api, "vendor", json!({"CompanyName": "no display"})).await,
        "2020",
        "DisplayName",
    );
}

#[tokio::test]
async fn an_unknown_top_level_property_is_2010_and_a_misplaced_line_field_too() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let mut b = bill(&ids, "B-2", "10.0");
    b["Totally"] = json!(1);
    assert_fault_without_element(
        &post(&api, "bill", b).await,
        "2010",
        "Unrecognized field \"Totally\"",
    );
    let mut b = bill(&ids, "B-2", "10.0");
    b["Line"][0]["AccountRef"] = json!({"value": ids.payroll_expense});
    assert_fault_without_element(
        &post(&api, "bill", b).await,
        "2010",
        "Unrecognized field \"AccountRef\" (class com.intuit.schema.finance.v3.Line)",
    );
}

#[tokio::test]
async fn values_outside_their_enumerations_are_2170() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let r = post(
        &api,
        "account",
        json!({"Name": "A1", "AccountType": "Expenses"}),
    )
    .await;
    assert_fault(&r, "2170", "AccountType");
    let r = post(
        &api,
        "account",
        json!({"Name": "A2", "AccountType": "Credit Card", "AccountSubType": "Checking"}),
    )
    .await;
    assert_fault(&r, "2170", "AccountSubType");
    let r = post(
        &api,
        "item",
        json!({"Name": "I1", "Type": "Gadget", "IncomeAccountRef": {"value": ids.services_income}}),
    )
    .await;
    assert_fault(&r, "2170", "Type");
    let mut j = je(&ids, 5.0, 5.0);
    j["Line"][0]["JournalEntryLineDetail"]["PostingType"] = json!("Debt");
    assert_fault(
        &post(&api, "journalentry", j).await,
        "2170",
        "Line.JournalEntryLineDetail.PostingType",
    );
    let p = json!({"PaymentType": "Bitcoin", "AccountRef": {"value": ids.card}, "Line": []});
    assert_fault(&post(&api, "purchase", p).await, "2170", "PaymentType");
    let mut b = bill(&ids, "B-3", "10.0");
    b["Line"][0]["DetailType"] = json!("SalesItemLineDetail");
    assert_fault(&post(&api, "bill", b).await, "2170", "Line.DetailType");
}

#[tokio::test]
async fn an_unknown_reference_is_2500_and_an_inactive_one_is_610() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let mut i = invoice(&ids, "I-2", "10.0");
    i["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] = json!("4242");
    let r = post(&api, "invoice", i).await;
    // Recorded 2500 faults carry an empty element; the list and id are in Detail.
    assert_fault(&r, "2500", "");
    assert_eq!(
        r.detail(),
        "Invalid Reference Id : Items element id 4242 not found"
    );
    let mut b = bill(&ids, "B-4", "10.0");
    b["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] = json!("7777");
    let r = post(&api, "bill", b).await;
    assert_eq!(
        r.detail(),
        "Invalid Reference Id : Accounts element id 7777 not found"
    );
    let v = api
        .create("vendor", json!({"DisplayName": "Gone Vendor"}))
        .await;
    api.post(
        "vendor",
        json!({"Id": v["Id"], "SyncToken": "0", "sparse": true, "Active": false}),
    )
    .await;
    let mut b = bill(&ids, "B-5", "10.0");
    b["VendorRef"]["value"] = v["Id"].clone();
    assert_fault(&post(&api, "bill", b).await, "610", "VendorRef");
}

#[tokio::test]
async fn a_transaction_dated_on_or_before_the_book_close_date_is_6210() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    sb.control(
        &format!("companies/{US_REALM_ID}/settings"),
        json!({"book_close_date": "2026-11-20"}),
    )
    .await;
    assert_fault(
        &post(&api, "bill", bill(&ids, "C-1", "10.0")).await,
        "6210",
        "TxnDate",
    );
    let mut later = bill(&ids, "C-2", "10.0");
    later["TxnDate"] = json!("2026-11-21");
    assert_eq!(post(&api, "bill", later).await.status, StatusCode::OK);
    sb.control(
        &format!("companies/{US_REALM_ID}/settings"),
        json!({"book_close_date": null}),
    )
    .await;
    assert_eq!(
        post(&api, "bill", bill(&ids, "C-1", "10.0")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_unbalanced_journal_entry_is_6000_and_a_balanced_one_posts() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    assert_fault(
        &post(&api, "journalentry", je(&ids, 100.0, 99.99)).await,
        "6000",
        "Line",
    );
    let ok = api.create("journalentry", je(&ids, 100.0, 100.0)).await;
    // As recorded: no TotalAmt on journal entries, Adjustment false, an empty TxnTaxDetail.
    assert!(ok.get("TotalAmt").is_none(), "{ok}");
    assert_eq!(ok["Adjustment"], json!(false));
    assert_eq!(ok["TxnTaxDetail"], json!({}));
    assert_eq!(ok["Line"][0]["Id"], json!("0"));
    let mut ap = je(&ids, 10.0, 10.0);
    ap["Line"][1]["JournalEntryLineDetail"]["AccountRef"]["value"] = json!(ids.ap);
    assert_fault(
        &post(&api, "journalentry", ap.clone()).await,
        "6000",
        "Line.JournalEntryLineDetail.Entity",
    );
    ap["Line"][1]["JournalEntryLineDetail"]["Entity"] =
        json!({"Type": "Vendor", "EntityRef": {"value": ids.vendor}});
    assert_eq!(post(&api, "journalentry", ap).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_bill_needs_an_ap_account_and_its_expense_lines_cannot_use_ap_or_ar() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let mut b = bill(&ids, "AP-1", "10.0");
    b["APAccountRef"]["value"] = json!(ids.checking);
    assert_fault(&post(&api, "bill", b).await, "6000", "APAccountRef");
    let mut b = bill(&ids, "AP-2", "10.0");
    b["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"]["value"] = json!(ids.ar);
    assert_fault(
        &post(&api, "bill", b).await,
        "6000",
        "Line.AccountBasedExpenseLineDetail.AccountRef",
    );
    let mut b = bill(&ids, "AP-3", "10.0");
    b.as_object_mut().expect("obj").remove("APAccountRef");
    let ok = api.create("bill", b).await;
    assert_eq!(
        ok["APAccountRef"]["value"],
        json!(ids.ap),
        "single AP account is implied"
    );
    assert_eq!(ok["Balance"], json!(10));
}

#[tokio::test]
async fn a_credit_card_purchase_needs_a_credit_card_account_and_cash_needs_a_bank() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let purchase = |pt: &str, account: &str| {
        json!({"PaymentType": pt, "AccountRef": {"value": account}, "TxnDate": "2026-11-20",
               "EntityRef": {"value": ids.employee},
               "Line": [{"DetailType": "AccountBasedExpenseLineDetail", "Amount": 1234.56,
                         "AccountBasedExpenseLineDetail": {"AccountRef": {"value": ids.payroll_expense}}}]})
    };
    assert_fault(
        &post(&api, "purchase", purchase("CreditCard", &ids.checking)).await,
        "6000",
        "AccountRef",
    );
    assert_fault(
        &post(&api, "purchase", purchase("Cash", &ids.card)).await,
        "6000",
        "AccountRef",
    );
    let ok = api
        .create("purchase", purchase("CreditCard", &ids.card))
        .await;
    assert_eq!(ok["TotalAmt"], json!(1234.56));
    assert_eq!(ok["EntityRef"]["type"], "Employee");
    api.create("purchase", purchase("Check", &ids.checking))
        .await;
}

#[tokio::test]
async fn an_invoice_item_must_be_sellable_and_amount_must_match_qty_times_price() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let buy_only = api
        .create("item", json!({"Name": "Buy Only", "Type": "NonInventory", "ExpenseAccountRef": {"value": ids.payroll_expense}}))
        .await;
    let mut i = invoice(&ids, "SE-1", "10.0");
    i["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] = buy_only["Id"].clone();
    assert_fault(
        &post(&api, "invoice", i).await,
        "6000",
        "Line.SalesItemLineDetail.ItemRef",
    );
    let mut i = invoice(&ids, "SE-2", "10.0");
    i["Line"][0]["SalesItemLineDetail"]["Qty"] = json!(2);
    i["Line"][0]["SalesItemLineDetail"]["UnitPrice"] = json!(6);
    let r = post(&api, "invoice", i).await;
    assert_fault(&r, "6070", "Line.Amount");
    assert_eq!(
        r.detail(),
        "Amount is not equal to UnitPrice * Qty. Supplied value:10"
    );
}

#[tokio::test]
async fn strings_longer_than_qbo_allows_are_refused_with_2050() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let long = |n: usize| "x".repeat(n);
    assert_fault(
        &post(
            &api,
            "account",
            json!({"Name": long(101), "AccountType": "Expense"}),
        )
        .await,
        "2050",
        "Name",
    );
    assert_eq!(
        post(
            &api,
            "account",
            json!({"Name": long(100), "AccountType": "Expense"})
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_fault(
        &post(&api, "vendor", json!({"DisplayName": long(501)})).await,
        "2050",
        "DisplayName",
    );
    assert_fault(
        &post(&api, "bill", bill(&ids, &long(22), "1.0")).await,
        "2050",
        "DocNumber",
    );
    let mut b = bill(&ids, "PN", "1.0");
    b["PrivateNote"] = json!(long(4001));
    assert_fault(&post(&api, "bill", b).await, "2050", "PrivateNote");
    let r = post(
        &api,
        "account",
        json!({"Name": "Num", "AccountType": "Expense", "AcctNum": "TT-30001"}),
    )
    .await;
    assert_fault(&r, "2050", "AcctNum");
    assert_eq!(
        post(
            &api,
            "account",
            json!({"Name": "Num", "AccountType": "Expense", "AcctNum": "TT-3000"})
        )
        .await
        .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn class_refs_are_refused_while_class_tracking_is_off() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let mut b = bill(&ids, "CL-1", "1.0");
    b["Line"][0]["AccountBasedExpenseLineDetail"]["ClassRef"] = json!({"value": "1"});
    assert_fault(
        &post(&api, "bill", b).await,
        "6000",
        "Line.AccountBasedExpenseLineDetail.ClassRef",
    );
    let mut b = bill(&ids, "CL-2", "1.0");
    b["DepartmentRef"] = json!({"value": "1"});
    assert_fault(&post(&api, "bill", b).await, "6000", "DepartmentRef");
}
