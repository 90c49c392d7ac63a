//! Injected TrackTik faults (429, 500, 504, expired tokens, timeouts): retried or reported.

use super::*;

#[tokio::test]
async fn a_429_is_retried_until_the_call_succeeds() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    sandbox.clear_log().await;
    sandbox.fault(429, 2, "/regions").await;
    let regions = sandbox
        .client
        .regions(&sandbox.portal, &token)
        .await
        .unwrap();
    assert!(!regions.is_empty());
    let statuses: Vec<u16> = sandbox
        .logged("/regions")
        .await
        .iter()
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(statuses, vec![429, 429, 200]);
}

#[tokio::test]
async fn a_500_is_retried_until_the_call_succeeds() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    sandbox.clear_log().await;
    sandbox.fault(500, 1, "/bill-items").await;
    let bill_items = sandbox
        .client
        .bill_items(&sandbox.portal, &token)
        .await
        .unwrap();
    assert!(!bill_items.is_empty());
    let statuses: Vec<u16> = sandbox
        .logged("/bill-items")
        .await
        .iter()
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(statuses, vec![500, 200]);
}

#[tokio::test]
async fn rate_limiting_that_outlasts_the_retries_is_reported_as_rate_limited() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    sandbox.fault(429, 50, "/regions").await;
    let error = sandbox
        .client
        .regions(&sandbox.portal, &token)
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackTikError::RateLimited { attempts, .. } if attempts == RetryPolicy::fast().max_attempts),
        "{error:?}"
    );
    sandbox.fault(503, 50, "/employees").await;
    let error = sandbox
        .client
        .employees(&sandbox.portal, &token)
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackTikError::Server { status: 503, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_504_narrows_the_window_and_every_row_is_still_returned() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let expected = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, sandbox.everything())
        .await
        .unwrap();
    assert!(expected.len() > 3);
    sandbox.clear_log().await;

    // The whole window, then its first half, then that half's first half time out.
    sandbox.fault(504, 3, "/invoices").await;
    let found = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, sandbox.everything())
        .await
        .unwrap();
    let ids = |v: &[Invoice]| v.iter().map(|i| i.id).collect::<Vec<_>>();
    assert_eq!(ids(&found), ids(&expected));

    let log = sandbox.logged("/invoices").await;
    let timed_out = log.iter().filter(|(s, _)| *s == 504).count();
    assert_eq!(timed_out, 3);
    let windows: Vec<&str> = log
        .iter()
        .map(|(_, q)| param(q, "approvedOn:between").unwrap())
        .collect();
    // Three 504s along the left edge, then the four windows they left behind: 2·3 + 1.
    assert_eq!(windows.len(), 7, "{windows:?}");
    let spans: Vec<i64> = windows
        .iter()
        .map(|w| {
            let (from, to) = w.split_once('|').unwrap();
            let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).unwrap();
            (parse(to) - parse(from)).num_seconds() + 1
        })
        .collect();
    assert_eq!(
        spans.iter().skip(3).sum::<i64>(),
        spans[0],
        "the successful windows tile the original one"
    );
    assert!(
        spans[1] * 2 == spans[0] && spans[2] * 2 == spans[1],
        "each 504 halved the window: {spans:?}"
    );
    assert!(
        windows.windows(2).all(|w| w[0] != w[1] || w[0].is_empty()),
        "each retry used a new window"
    );
}

#[tokio::test]
async fn a_504_on_the_smallest_window_is_reported_as_a_gateway_timeout() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let now = Utc::now();
    let small = Window::new(now - TimeDelta::seconds(90), now).unwrap();
    sandbox.fault(504, 50, "/payroll-payruns").await;
    let error = sandbox
        .client
        .approved_payruns_between(&sandbox.portal, &token, small)
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackTikError::Timeout { gateway: true, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_expired_access_token_is_reported_as_unauthorized_and_a_refresh_fixes_it() {
    let sandbox = Sandbox::start().await;
    let tokens = sandbox.tokens().await;
    sandbox
        .control(reqwest::Method::POST, "tokens/expire", Value::Null)
        .await;
    let error = sandbox
        .client
        .regions(&sandbox.portal, &tokens.access_token)
        .await
        .unwrap_err();
    assert!(error.is_unauthorized(), "{error:?}");
    assert!(!format!("{error} {error:?}").contains(tokens.access_token.secret()));

    let fresh = sandbox
        .client
        .refresh(
            &sandbox.portal,
            &sandbox.app(),
            tokens.refresh_token.as_ref().unwrap(),
        )
        .await
        .unwrap();
    sandbox
        .client
        .regions(&sandbox.portal, &fresh.access_token)
        .await
        .unwrap();
}

#[tokio::test]
async fn tracktik_errors_map_to_bad_request_and_not_found() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let error = sandbox
        .client
        .list::<Region>(&sandbox.portal, &token, &Query::new().eq("noSuchField", 1))
        .await
        .unwrap_err();
    match error {
        TrackTikError::BadRequest {
            status: 400,
            message,
            ..
        } => {
            assert!(message.contains("noSuchField"), "{message}")
        }
        other => panic!("expected BadRequest, got {other:?}"),
    }
    let error = sandbox
        .client
        .get::<Invoice>(&sandbox.portal, &token, 987_654_321, &Query::new())
        .await;
    assert!(
        matches!(error, Err(TrackTikError::NotFound { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_request_that_times_out_on_our_side_is_retried() {
    let config = ClientConfig {
        request_timeout: Duration::from_millis(300),
        ..Sandbox::test_config()
    };
    let sandbox = Sandbox::start_with(config).await;
    let token = sandbox.token().await;
    sandbox.clear_log().await;
    sandbox
        .control(
            reqwest::Method::POST,
            "faults",
            json!({"status": 500, "count": 1, "pathContains": "/tax-classes", "delayMs": 1500}),
        )
        .await;
    let started = std::time::Instant::now();
    let classes = sandbox
        .client
        .tax_classes(&sandbox.portal, &token)
        .await
        .unwrap();
    assert!(!classes.is_empty());
    assert!(
        classes.iter().all(|c| c.items.is_some()),
        "items were included"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "did not wait for the slow answer"
    );
}
