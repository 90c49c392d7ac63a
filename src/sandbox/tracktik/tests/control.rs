use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;

async fn first_site(base: &str, t: &str) -> (i64, i64) {
    let site = &rows(base, t, "clients?type=SERVICE_LOCATION&limit=1").await[0];
    (
        site["parentClient"].as_i64().unwrap(),
        site["id"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn the_control_api_creates_approves_edits_and_deletes_an_invoice() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let (client, site) = first_site(base, &t).await;
    let (status, created) = control(
        base,
        Method::POST,
        "invoices",
        json!({
            "client": client,
            "invoiceDate": "2026-01-15",
            "lines": [
                {"billItem": 11, "quantity": 8, "unitPrice": 30.25, "serviceLocation": site},
                {"billItem": 14, "quantity": 1, "unitPrice": 95}
            ]
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["data"]["id"].as_i64().unwrap();
    assert_eq!(created["data"]["subTotal"], json!(337));
    let (_, one) = get(
        base,
        &t,
        &format!("invoices/{id}?include=approvedOn,updatedOn"),
    )
    .await;
    assert_eq!(one["data"]["status"], "DRAFT");
    assert!(one["data"]["approvedOn"].is_null());

    control(
        base,
        Method::POST,
        "clock",
        json!({"now": "2026-01-17T15:00:00Z"}),
    )
    .await;
    let (status, approved) = control(
        base,
        Method::POST,
        &format!("invoices/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let on = approved["data"]["approvedOn"].as_str().unwrap();
    assert!(
        on.starts_with("2026-01-17T15:00"),
        "approval uses the sandbox clock: {on}"
    );
    let found = rows(
        base,
        &t,
        "invoices?approvedOn:between=2026-01-17|2026-01-17&status=APPROVED",
    )
    .await;
    assert_eq!(ids(&found), vec![id]);

    control(
        base,
        Method::POST,
        "clock",
        json!({"now": "2026-01-18T09:30:00Z"}),
    )
    .await;
    let (status, edited) = control(
        base,
        Method::PATCH,
        &format!("invoices/{id}"),
        json!({"dueDate": "2026-03-01"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert!(
        edited["data"]["updatedOn"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-18T09:30")
    );
    assert_eq!(edited["data"]["dueDate"], "2026-03-01");
    let (status, _) = control(
        base,
        Method::PATCH,
        &format!("invoices/{id}"),
        json!({"status": "PAID"}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "invalid values are refused"
    );
    let (_, off) = control(
        base,
        Method::PATCH,
        &format!("invoices/{id}"),
        json!({"total": 337.01}),
    )
    .await;
    assert_eq!(
        off["data"]["total"],
        json!(337.01),
        "a one-cent discrepancy can be made"
    );

    let (status, _) = control(base, Method::DELETE, &format!("invoices/{id}"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        get(base, &t, &format!("invoices/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(
        rows(
            base,
            &t,
            &format!("invoice-line-taxes?invoiceLine.invoice={id}")
        )
        .await
        .is_empty()
    );
    assert!(
        rows(base, &t, &format!("billable-items?invoice={id}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn the_control_api_creates_approves_and_deletes_a_pay_run() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    let employee = &rows(base, &t, "employees?region=1&limit=1").await[0];
    let e = employee["id"].as_i64().unwrap();
    let (status, created) = control(
        base,
        Method::POST,
        "payruns",
        json!({
            "region": 1, "occurrenceDate": "2026-01-10",
            "items": [
                {"employee": e, "code": "REG", "quantity": 40, "rate": 22.5},
                {"employee": e, "code": "OT", "quantity": 3, "rate": 33.75},
                {"employee": e, "code": "EXP", "quantity": 1, "rate": 42.1}
            ]
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["data"]["id"].as_i64().unwrap();
    assert_eq!(created["data"]["totalCost"], json!(1043.35));
    assert!(created["data"]["approvedOn"].is_null());
    let (status, approved) = control(
        base,
        Method::POST,
        &format!("payruns/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(approved["data"]["approvedOn"].is_string());
    let items = rows(base, &t, &format!("payroll-payrun-items?payrun={id}")).await;
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|i| i["locked"] == "1"));
    control(base, Method::DELETE, &format!("payruns/{id}"), json!({})).await;
    assert_eq!(
        get(base, &t, &format!("payroll-payruns/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(
        rows(base, &t, &format!("payroll-payrun-items?payrun={id}"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn injected_faults_answer_the_next_calls_then_stop() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    control(
        base,
        Method::POST,
        "faults",
        json!({"status": 429, "count": 2}),
    )
    .await;
    assert_eq!(
        get(base, &t, "regions").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let (status, body) = get(base, &t, "regions").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["status"], 429);
    assert_eq!(get(base, &t, "regions").await.0, StatusCode::OK);

    control(
        base,
        Method::POST,
        "faults",
        json!({"status": 500, "count": 1, "pathContains": "/invoices"}),
    )
    .await;
    assert_eq!(
        get(base, &t, "regions").await.0,
        StatusCode::OK,
        "other paths unaffected"
    );
    assert_eq!(
        get(base, &t, "invoices").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(get(base, &t, "invoices").await.0, StatusCode::OK);

    control(
        base,
        Method::POST,
        "faults",
        json!({"status": 504, "delayMs": 300}),
    )
    .await;
    let started = Instant::now();
    assert_eq!(
        get(base, &t, "invoices").await.0,
        StatusCode::GATEWAY_TIMEOUT
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn the_clock_can_be_set_and_read() {
    let sb = sandbox().await;
    let (_, set) = control(
        sb.base_url(),
        Method::POST,
        "clock",
        json!({"now": "2030-05-06T07:08:09Z"}),
    )
    .await;
    assert!(set["now"].as_str().unwrap().starts_with("2030-05-06T07:08"));
    let r: Value = http()
        .get(format!("{}/__sandbox/clock", sb.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r["now"].as_str().unwrap().starts_with("2030-05-06T07:08"));
}

#[tokio::test]
async fn expiring_and_revoking_tokens_takes_effect_at_once() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let grant = password_grant(base).await;
    let t = grant["access_token"].as_str().unwrap();
    control(base, Method::POST, "tokens/expire", json!({})).await;
    assert_eq!(get(base, t, "regions").await.0, StatusCode::UNAUTHORIZED);
    let grant = password_grant(base).await;
    control(base, Method::POST, "tokens/revoke", json!({})).await;
    assert_eq!(
        get(base, grant["access_token"].as_str().unwrap(), "regions")
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let r = http()
        .post(format!("{base}/rest/oauth2/access_token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("refresh_token", grant["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_request_log_and_stats_record_api_calls() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let t = token(base).await;
    get(base, &t, "invoices?status=APPROVED").await;
    get(base, &t, "invoices?page=3").await;
    let log: Value = http()
        .get(format!("{base}/__sandbox/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = log["requests"].as_array().unwrap();
    let last = entries.last().unwrap();
    assert_eq!(last["method"], "GET");
    assert_eq!(last["path"], "/rest/v1/invoices");
    assert_eq!(last["query"], "page=3");
    assert_eq!(last["status"], 400);
    assert!(last["time"].is_string());
    let stats: Value = http()
        .get(format!("{base}/__sandbox/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["totalRequests"], 3);
    assert_eq!(stats["byStatus"]["400"], 1);
}

#[tokio::test]
async fn a_registered_client_can_get_tokens_and_a_reseed_replaces_the_data() {
    let sb = sandbox().await;
    let base = sb.base_url();
    let (status, _) = control(base, Method::POST, "oauth-clients", json!({"client_id": "other", "client_secret": "s3cret", "redirect_uris": ["https://app.example/cb"]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let r = http()
        .post(format!("{base}/rest/oauth2/access_token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "other"),
            ("client_secret", "s3cret"),
            ("username", "demo"),
            ("password", "demo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let t = token(base).await;
    let before = get(base, &t, "invoices?limit=1").await.1["meta"]["count"]
        .as_u64()
        .unwrap();
    let (status, _) = control(
        base,
        Method::POST,
        "reseed",
        json!({"clients": 4, "daysOfInvoices": 2, "invoicesPerDay": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let after = get(base, &t, "invoices?limit=1").await.1["meta"]["count"]
        .as_u64()
        .unwrap();
    assert_ne!(before, after);
    assert_eq!(after, 4);
}

#[tokio::test]
async fn the_state_file_keeps_data_and_tokens_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("tt-sandbox-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    let options = || Options {
        seed: SeedConfig::small(),
        state_file: Some(file.clone()),
        ..Default::default()
    };
    let sb = start(options()).await.unwrap();
    let base = sb.base_url().to_owned();
    let t = token(&base).await;
    let (client, _) = first_site(&base, &t).await;
    let (_, created) = control(
        &base,
        Method::POST,
        "invoices",
        json!({"client": client, "lines": [{"billItem": 11, "quantity": 2, "unitPrice": 10}]}),
    )
    .await;
    let id = created["data"]["id"].as_i64().unwrap();
    sb.shutdown();
    sb.wait().await.unwrap();
    assert!(file.exists());

    let again = start(options()).await.unwrap();
    let (status, body) = get(again.base_url(), &t, &format!("invoices/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["subTotal"], json!(20));
    again.shutdown();
    again.wait().await.unwrap();
    std::fs::remove_dir_all(&dir).ok();
}
