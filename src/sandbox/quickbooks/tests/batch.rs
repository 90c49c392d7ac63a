use reqwest::StatusCode;
use serde_json::json;

use super::{Sb, US_REALM_ID, invoice};

#[tokio::test]
async fn a_batch_answers_each_item_with_its_entity_query_or_fault_and_http_200() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let existing = api.create("invoice", invoice(&ids, "BT-0", "5.0")).await;
    let body = json!({"BatchItemRequest": [
        {"bId": "b1", "operation": "create", "Invoice": invoice(&ids, "BT-1", "10.0")},
        {"bId": "b2", "operation": "create", "Vendor": {"DisplayName": "Northwind Mall"}},
        {"bId": "b3", "Query": "select count(*) from Invoice"},
        {"bId": "b4", "operation": "delete", "Invoice": {"Id": existing["Id"], "SyncToken": "7"}},
        {"bId": "b5", "operation": "update", "optionsData": "void", "Invoice": {"Id": existing["Id"], "SyncToken": "0"}}
    ]});
    let r = api.post("batch?minorversion=75", body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let items = r.json()["BatchItemResponse"]
        .as_array()
        .expect("items")
        .clone();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0]["bId"], "b1");
    assert_eq!(items[0]["Invoice"]["DocNumber"], "BT-1");
    assert_eq!(items[1]["Fault"]["Error"][0]["code"], "6240");
    assert_eq!(items[1]["Fault"]["type"], "ValidationFault");
    assert!(
        items[2]["QueryResponse"]["totalCount"]
            .as_u64()
            .expect("count")
            >= 1
    );
    assert_eq!(items[3]["Fault"]["Error"][0]["code"], "5010");
    assert_eq!(
        items[4]["Invoice"]["TotalAmt"],
        json!(0),
        "voided through optionsData"
    );
}

#[tokio::test]
async fn more_than_30_items_is_refused_with_400() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let items: Vec<_> = (0..31)
        .map(|n| json!({"bId": format!("q{n}"), "Query": "select * from Term"}))
        .collect();
    let r = api.post("batch", json!({"BatchItemRequest": items})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.json()["Fault"].is_object());
    let items: Vec<_> = (0..30)
        .map(|n| json!({"bId": format!("q{n}"), "Query": "select * from Term"}))
        .collect();
    assert_eq!(
        api.post("batch", json!({"BatchItemRequest": items}))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_entity_created_in_a_batch_is_not_visible_to_later_items_of_the_same_batch() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let probe = api
        .create("vendor", json!({"DisplayName": "Id Probe"}))
        .await;
    let predicted = (probe["Id"]
        .as_str()
        .expect("id")
        .parse::<u64>()
        .expect("numeric")
        + 1)
    .to_string();
    let mut b = super::bill(&ids, "VIS-1", "10.0");
    b["VendorRef"]["value"] = json!(predicted);
    let body = json!({"BatchItemRequest": [
        {"bId": "v", "operation": "create", "Vendor": {"DisplayName": "Batch Vendor"}},
        {"bId": "b", "operation": "create", "Bill": b.clone()}
    ]});
    let items = api.post("batch", body).await.json()["BatchItemResponse"].clone();
    assert_eq!(items[0]["Vendor"]["Id"], json!(predicted));
    assert_eq!(items[1]["Fault"]["Error"][0]["code"], "2500", "{items}");
    assert_eq!(
        api.post("bill", b).await.status,
        StatusCode::OK,
        "visible after the batch"
    );
}
