//! Our traffic to QuickBooks: paging, batches, request headers, throttling and the limiter.

use super::*;

#[tokio::test]
async fn queries_page_to_the_end_across_a_thousand_rows() {
    let qbo = Qbo::start().await;
    qbo.control("/__sandbox/rate-limits", json!({"enforce": false}))
        .await;
    let client = qbo.client.clone().with_limits(Limits {
        per_minute: 100_000,
        per_second: 100_000,
        batches_per_minute: 100_000,
        ..Limits::default()
    });
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    for chunk in 0..35 {
        let items: Vec<BatchItem> = (0..30)
            .map(|i| {
                BatchItem::create(
                    format!("c{i}"),
                    &Customer {
                        display_name: Some(format!("Paging Customer {:04}", chunk * 30 + i)),
                        ..Default::default()
                    },
                )
                .unwrap()
            })
            .collect();
        let outcomes = client
            .batch(
                &co,
                &items,
                &RequestId::derive(&["paging", &chunk.to_string()]),
            )
            .await
            .unwrap();
        assert!(outcomes.iter().all(|o| o.result.is_ok()));
    }
    let all: Vec<Customer> = client
        .query(
            &co,
            "select * from Customer where DisplayName LIKE 'Paging Customer%'",
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 1050);
    let count = client
        .count(
            &co,
            "select count(*) from Customer where DisplayName LIKE 'Paging Customer%'",
        )
        .await
        .unwrap();
    assert_eq!(count, 1050);
}

#[tokio::test]
async fn a_batch_returns_each_items_outcome_and_a_replayed_batch_creates_nothing_twice() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let items = vec![
        BatchItem::create(
            "ok1",
            &Vendor {
                display_name: Some("Batch Vendor One".into()),
                ..Default::default()
            },
        )
        .unwrap(),
        BatchItem::create(
            "dup",
            &Vendor {
                display_name: Some("Jordan Smith".into()),
                ..Default::default()
            },
        )
        .unwrap(),
        BatchItem::create(
            "ok2",
            &Vendor {
                display_name: Some("Batch Vendor Two".into()),
                ..Default::default()
            },
        )
        .unwrap(),
    ];
    let rid = RequestId::derive(&["batch", "vendors"]);
    let outcomes = qbo.client.batch(&co, &items, &rid).await.unwrap();
    assert_eq!(outcomes.len(), 3);
    let by_id = |b: &str| outcomes.iter().find(|o| o.b_id == b).unwrap();
    assert_eq!(
        by_id("ok1")
            .entity::<Vendor>()
            .unwrap()
            .display_name
            .as_deref(),
        Some("Batch Vendor One")
    );
    assert_eq!(
        by_id("dup").result.as_ref().unwrap_err().code(),
        Some("6240")
    );
    assert!(by_id("ok2").result.is_ok());

    let again = qbo.client.batch(&co, &items, &rid).await.unwrap();
    assert_eq!(again.len(), 3);
    let n = qbo
        .client
        .count(
            &co,
            "select count(*) from Vendor where DisplayName LIKE 'Batch Vendor%'",
        )
        .await
        .unwrap();
    assert_eq!(n, 2, "the replay created nothing");
}

#[tokio::test]
async fn every_call_carries_minorversion_75_and_every_write_a_request_id() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    qbo.client.preferences(&co).await.unwrap();
    let _: Vec<Account> = qbo
        .client
        .query(&co, "select * from Account")
        .await
        .unwrap();
    qbo.client
        .create(
            &co,
            &Vendor {
                display_name: Some("Minor Version Co".into()),
                ..Default::default()
            },
            &RequestId::derive(&["mv"]),
        )
        .await
        .unwrap();
    let api: Vec<Value> = qbo
        .requests()
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().is_some_and(|p| p.starts_with("/v3/")))
        .collect();
    assert!(api.len() >= 3);
    for r in &api {
        assert_eq!(r["minorversion"], "75", "{r}");
    }
    let write = api
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("/vendor"))
        .unwrap();
    assert_eq!(write["requestid"], RequestId::derive(&["mv"]).as_str());
}

#[tokio::test]
async fn a_throttled_burst_waits_out_the_429s_and_a_client_out_of_retries_gets_a_typed_error() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    // A client without its own limiter hits the sandbox's 10/s wall.
    let unlimited = qbo.client.clone().with_limits(Limits {
        per_minute: 100_000,
        per_second: 100_000,
        batches_per_minute: 100_000,
        ..Limits::default()
    });
    let _ = co;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let client = unlimited.clone();
        let token = tokens.access_token.clone();
        calls.spawn(async move {
            client
                .preferences(&Company {
                    realm_id: US_REALM_ID,
                    access_token: &token,
                })
                .await
                .map(|_| ())
        });
    }
    while let Some(result) = calls.join_next().await {
        result
            .unwrap()
            .expect("every call passes after waiting out the 429s");
    }
    assert!(
        unlimited.stats().throttled > 0,
        "the sandbox did throttle the burst"
    );

    let impatient = unlimited.clone().with_retry(RetryPolicy {
        max_attempts: 1,
        ..fast_retry()
    });
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..25 {
        let client = impatient.clone();
        let token = tokens.access_token.clone();
        calls.spawn(async move {
            client
                .preferences(&Company {
                    realm_id: US_REALM_ID,
                    access_token: &token,
                })
                .await
                .map(|_| ())
        });
    }
    let mut throttled = 0;
    while let Some(result) = calls.join_next().await {
        if let Err(e) = result.unwrap() {
            assert!(matches!(e, QboError::Throttled { .. }), "{e}");
            throttled += 1;
        }
    }
    assert!(
        throttled > 0,
        "with no retries left the 429 surfaces as Throttled"
    );
}

#[tokio::test]
async fn the_limiter_keeps_a_burst_of_two_thousand_writes_free_of_429s() {
    let qbo = Qbo::start().await;
    // Four companies: 600 writes to one (past both the 10/s and the 500/min windows), 500 to each other.
    let mut realms = vec![US_REALM_ID.to_owned()];
    for name in ["Burst Two", "Burst Three", "Burst Four"] {
        let created = qbo
            .control(
                "/__sandbox/companies",
                json!({"flavour": "us", "name": name}),
            )
            .await;
        realms.push(created["realmId"].as_str().unwrap().to_owned());
    }
    let mut tasks = Vec::new();
    for (n, realm) in realms.into_iter().enumerate() {
        let tokens = qbo.connect(&realm).await;
        let client = qbo.client.clone();
        let writes = if n == 0 { 600 } else { 500 };
        tasks.push(tokio::spawn(async move {
            let mut pending = Vec::new();
            for i in 0..writes {
                let vendor = Vendor {
                    display_name: Some(format!("Burst Vendor {i:04}")),
                    ..Default::default()
                };
                let rid = RequestId::derive(&["burst", &realm, &i.to_string()]);
                let client = client.clone();
                let realm = realm.clone();
                let token = tokens.access_token.clone();
                pending.push(tokio::spawn(async move {
                    let co = Company {
                        realm_id: &realm,
                        access_token: &token,
                    };
                    client.create(&co, &vendor, &rid).await.map(|_| ())
                }));
            }
            for p in pending {
                p.await.unwrap().unwrap();
            }
            writes
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert_eq!(total, 2100);
    assert_eq!(qbo.client.stats().throttled, 0, "our client saw no 429");
    let stats: Value = reqwest::get(format!("{}/__sandbox/stats", qbo.sandbox.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["throttled"], 0, "the sandbox sent no 429: {stats}");
}
