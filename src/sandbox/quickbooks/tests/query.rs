use reqwest::StatusCode;
use serde_json::json;

use super::{Sb, US_REALM_ID, invoice};

#[tokio::test]
async fn select_with_where_orderby_and_paging_returns_the_right_page() {
    let sb = Sb::start().await;
    let api = sb.fresh("us").await;
    let ids = api.ids().await;
    for n in 1..=7 {
        api.create(
            "invoice",
            invoice(&ids, &format!("Q-{n}"), &format!("{}.00", n * 10)),
        )
        .await;
    }
    let r = api
        .query("select * from Invoice where TotalAmt >= '30' ORDERBY TotalAmt DESC STARTPOSITION 2 MAXRESULTS 3")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let qr = &r.json()["QueryResponse"];
    assert_eq!(qr["startPosition"], 2);
    assert_eq!(qr["maxResults"], 3);
    assert!(
        qr.get("totalCount").is_none(),
        "only count(*) reports a total"
    );
    let docs: Vec<&str> = qr["Invoice"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|i| i["DocNumber"].as_str().expect("doc"))
        .collect();
    assert_eq!(docs, ["Q-6", "Q-5", "Q-4"]);
    let count = api
        .query("select count(*) from Invoice where DocNumber IN ('Q-1', 'Q-2', 'nope')")
        .await
        .json();
    assert_eq!(count["QueryResponse"], json!({"totalCount": 2}));
    let like = api
        .query("select count(*) from Customer where DisplayName LIKE '%wind%'")
        .await
        .json();
    assert_eq!(like["QueryResponse"]["totalCount"], 1);
}

#[tokio::test]
async fn an_empty_result_is_an_empty_query_response() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let v = api
        .query("select * from Invoice where DocNumber = 'does-not-exist'")
        .await
        .json();
    assert_eq!(v["QueryResponse"], json!({}));
    assert!(v["time"].is_string());
    let past_end = api
        .query("select * from Account STARTPOSITION 900")
        .await
        .json();
    assert_eq!(past_end["QueryResponse"], json!({}));
}

#[tokio::test]
async fn or_joins_projections_and_unknown_entities_are_4001() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    for q in [
        "select * from Invoice where DocNumber = '1' OR DocNumber = '2'",
        "select Id, Name from Account",
        "select * from Account a join Item i",
        "select * from invoice",
        "delete from Invoice",
    ] {
        let r = api.query(q).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::BAD_REQUEST, "4001".to_string()),
            "{q}: {}",
            r.text
        );
    }
}

#[tokio::test]
async fn inactive_name_list_rows_are_hidden_unless_active_is_filtered() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let v = api
        .create("vendor", json!({"DisplayName": "Sleepy Vendor"}))
        .await;
    api.post(
        "vendor",
        json!({"Id": v["Id"], "SyncToken": "0", "sparse": true, "Active": false}),
    )
    .await;
    let q = format!(
        "select * from Vendor where Id = '{}'",
        v["Id"].as_str().expect("id")
    );
    assert_eq!(api.query(&q).await.json()["QueryResponse"], json!({}));
    let all = api
        .query(&format!("{q} AND Active IN (true, false)"))
        .await
        .json();
    assert_eq!(
        all["QueryResponse"]["Vendor"][0]["DisplayName"],
        "Sleepy Vendor (deleted)"
    );
}

#[tokio::test]
async fn post_query_with_application_text_and_dotted_fields_work() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    api.create("invoice", invoice(&ids, "DOT-1", "10.0")).await;
    let r = sb
        .http
        .post(sb.url(&format!("/v3/company/{US_REALM_ID}/query?minorversion=75")))
        .bearer_auth(&api.token)
        .header("Content-Type", "application/text")
        .body(format!("select * from Invoice where MetaData.LastUpdatedTime > '2020-01-01T00:00:00-08:00' AND CustomerRef = '{}'", ids.customer))
        .send()
        .await
        .expect("query");
    assert_eq!(r.status(), StatusCode::OK);
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["QueryResponse"]["Invoice"][0]["DocNumber"], "DOT-1");
}

#[tokio::test]
async fn maxresults_is_capped_at_1000_and_defaults_to_100() {
    let sb = Sb::start().await;
    let api = sb.fresh("us").await;
    let ids = api.ids().await;
    let items: Vec<_> = (0..30)
        .map(|n| json!({"bId": format!("b{n}"), "operation": "create", "Invoice": invoice(&ids, &format!("M-{n}"), "1.0")}))
        .collect();
    for _ in 0..4 {
        // 4 × 30 = 120 invoices, with distinct numbers per batch round
        let round: Vec<_> = items
            .iter()
            .map(|i| {
                let mut i = i.clone();
                i["Invoice"]
                    .as_object_mut()
                    .expect("inv")
                    .remove("DocNumber");
                i
            })
            .collect();
        let r = api.post("batch", json!({"BatchItemRequest": round})).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let page = api.query("select * from Invoice").await.json();
    assert_eq!(page["QueryResponse"]["maxResults"], 100);
    let big = api
        .query("select * from Invoice MAXRESULTS 5000")
        .await
        .json();
    assert_eq!(big["QueryResponse"]["maxResults"], 120);
}

#[tokio::test]
async fn cdc_lists_changed_and_deleted_transactions_since_a_time() {
    let sb = Sb::start().await;
    let api = sb.fresh("us").await;
    let ids = api.ids().await;
    let since = chrono::Utc::now() - chrono::Duration::minutes(1);
    let kept = api.create("invoice", invoice(&ids, "CDC-1", "10.0")).await;
    let gone = api.create("invoice", invoice(&ids, "CDC-2", "20.0")).await;
    api.post(
        "invoice?operation=delete",
        json!({"Id": gone["Id"], "SyncToken": "0"}),
    )
    .await;
    let q = serde_urlencoded::to_string([
        ("entities", "Invoice,Bill"),
        ("changedSince", &since.to_rfc3339()),
    ])
    .expect("encode");
    let r = api.get(&format!("cdc?{q}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let v = r.json();
    let parts = v["CDCResponse"][0]["QueryResponse"]
        .as_array()
        .expect("parts")
        .clone();
    let invoices = parts[0]["Invoice"].as_array().expect("invoices");
    assert!(
        invoices
            .iter()
            .any(|i| i["Id"] == kept["Id"] && i["DocNumber"] == "CDC-1")
    );
    assert!(
        invoices
            .iter()
            .any(|i| i["Id"] == gone["Id"] && i["status"] == "Deleted")
    );
    assert_eq!(parts[1], json!({}), "no bills changed");
    let old =
        serde_urlencoded::to_string([("entities", "Invoice"), ("changedSince", "2020-01-01")])
            .expect("encode");
    let r = api.get(&format!("cdc?{old}")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "look-back is 30 days");
    assert_eq!(r.code(), "500");
    assert_eq!(
        r.detail(),
        "Operation cdc with changedSince date 2020-01-01 which is older than fixed days is not supported."
    );
    let lower = serde_urlencoded::to_string([
        ("entities", "invoice,BILL"),
        ("changedSince", &since.to_rfc3339()),
    ])
    .expect("encode");
    let r = api.get(&format!("cdc?{lower}")).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "entity names are case-insensitive"
    );
    assert!(r.json()["CDCResponse"][0]["QueryResponse"][0]["Invoice"].is_array());
}
