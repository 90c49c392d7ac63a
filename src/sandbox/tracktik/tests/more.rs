//! Large lists, headers, method errors, `fields` flattening and `q`.

use reqwest::StatusCode;
use serde_json::Value;

use super::*;

#[tokio::test]
async fn lists_stay_fast_with_twenty_thousand_invoices() {
    let seed = SeedConfig {
        clients: 200,
        days_of_invoices: 200,
        invoices_per_day: 100,
        ..SeedConfig::small()
    };
    let sb = sandbox_with(seed).await;
    let base = sb.base_url();
    let t = token(base).await;
    let (_, all) = get(base, &t, "invoices?limit=1").await;
    assert_eq!(all["meta"]["count"], 20_000);
    let invoice = all["data"][0]["id"].as_i64().unwrap();
    let day = all["data"][0]["invoiceDate"].as_str().unwrap().to_owned();
    // Unoptimised test builds are slow; a quadratic include or filter would still blow this.
    let budget = std::time::Duration::from_secs(4);
    for path in [
        "invoices?limit=1000&status=APPROVED&approvedOn:isnotnull&include=lines,lines.billableItems,approvedOn"
            .to_owned(),
        format!("invoices?limit=1000&sort=-total,id&invoiceDate:between={day}|{day}"),
        format!("invoice-line-taxes?invoiceLine.invoice={invoice}"),
        "billable-items?limit=1000&offset=40000&include=billItem".to_owned(),
    ] {
        let started = std::time::Instant::now();
        let (status, body) = get(base, &t, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(
            started.elapsed() < budget,
            "{path} took {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn the_region_filter_header_narrows_collections_and_ignores_unknown_regions() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let fetch = |header: &'static str| {
        let t = t.clone();
        async move {
            let r = http()
                .get(format!("{base}/rest/v1/invoices?limit=1000&include=client"))
                .bearer_auth(&t)
                .header("TTC-Region-Filter", header)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()["data"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let all = rows(base, &t, "invoices?limit=1000").await;
    let two = fetch("2").await;
    assert!(!two.is_empty() && two.len() < all.len());
    assert!(two.iter().all(|i| i["client"]["region"] == 2));
    assert_eq!(
        fetch("2,999").await.len(),
        two.len(),
        "invalid ids are ignored"
    );
    assert_eq!(
        fetch("999").await.len(),
        all.len(),
        "all invalid: every region"
    );
}

#[tokio::test]
async fn writes_the_sandbox_does_not_serve_get_a_json_405() {
    let sb = sandbox().await;
    let t = token(sb.base_url()).await;
    let r = http()
        .delete(format!("{}/rest/v1/invoices/9001", sb.base_url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], 405);
}

#[tokio::test]
async fn fields_can_flatten_an_included_relation_and_q_searches_text() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let r = &rows(
        base,
        &t,
        "invoices?include=client&fields=id,client.company:clientName&limit=1",
    )
    .await[0];
    assert!(
        r["clientName"].as_str().is_some_and(|n| !n.is_empty()),
        "{r}"
    );
    let found = rows(base, &t, "clients?q=harbourview").await;
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|c| c["company"].as_str().unwrap().contains("Harbourview"))
    );
}

#[tokio::test]
async fn every_record_can_include_its_uri_and_resource_type() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let (status, body) = get(base, &t, "invoices/9001?include=uri,resourceType").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["uri"], format!("{base}/rest/v1/invoices/9001"));
    assert_eq!(body["data"]["resourceType"], "invoices");
    let (_, plain) = get(base, &t, "invoices/9001").await;
    assert!(plain["data"].get("uri").is_none());
    assert_eq!(
        plain["data"]["date"], plain["data"]["invoiceDate"],
        "deprecated twin still sent"
    );
}

#[tokio::test]
async fn billing_settings_mark_the_exempt_client_and_accounts_mirror_clients_and_sites() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let exempt = rows(
        base,
        &t,
        "client-billing-settings?taxExempt=true&include=client",
    )
    .await;
    assert_eq!(exempt.len(), 1);
    assert_eq!(exempt[0]["client"]["company"], "Harbourview Public Library");
    let class = exempt[0]["taxClass"].as_i64().unwrap();
    let invoices = rows(
        base,
        &t,
        &format!("invoices?client={}&limit=1000", exempt[0]["client"]["id"]),
    )
    .await;
    assert!(!invoices.is_empty());
    assert!(
        invoices
            .iter()
            .all(|i| i["taxClass"] == class && i["taxTotal"] == 0)
    );
    let item = &rows(
        base,
        &t,
        "payroll-payrun-items?payrollCodeLabel=REG&limit=1&include=account",
    )
    .await[0];
    assert_eq!(item["account"]["subType"], "SITE");
    let id = item["account"]["id"].as_i64().unwrap();
    let (_, site) = get(base, &t, &format!("clients/{id}")).await;
    assert_eq!(site["data"]["type"], "SERVICE_LOCATION");
}

#[tokio::test]
async fn reads_by_id_and_after_an_id_give_what_a_full_scan_gives() {
    let sb = sandbox().await;
    let t = token(sb.base_url()).await;
    let (_, all) = get(sb.base_url(), &t, "invoices?limit=1000&sort=id").await;
    let all: Vec<i64> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(all.len() > 6);
    let ids_of = |body: &Value| -> Vec<i64> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    // `id:in`, unordered and repeated, with an id that does not exist: the rows, by id.
    let asked = format!("{},{},{},999999,{}", all[5], all[1], all[3], all[1]);
    let (_, body) = get(sb.base_url(), &t, &format!("invoices?id:in={asked}")).await;
    assert_eq!(ids_of(&body), vec![all[1], all[3], all[5]]);
    assert_eq!(body["meta"]["count"], 3);
    // With another filter, both apply.
    let (_, body) = get(
        sb.base_url(),
        &t,
        &format!("invoices?id:in={asked}&id:not={}", all[3]),
    )
    .await;
    assert_eq!(ids_of(&body), vec![all[1], all[5]]);
    // `id:gt`: every row after it, counted as a scan would.
    let (_, body) = get(
        sb.base_url(),
        &t,
        &format!("invoices?id:gt={}&sort=id&limit=1000", all[2]),
    )
    .await;
    assert_eq!(ids_of(&body), all[3..].to_vec());
    assert_eq!(body["meta"]["count"], (all.len() - 3) as u64);
}
