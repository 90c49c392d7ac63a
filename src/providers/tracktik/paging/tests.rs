//! Tests of paging, window narrowing and retries. The wire-level oddities the sandbox cannot
//! produce (a `count` that changes between pages, `Retry-After`, a slow answer) are played by
//! a scripted axum server on port 0.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::providers::tracktik::models::Region;
use crate::providers::tracktik::{ClientConfig, RetryPolicy};

use super::*;
use chrono::TimeZone;

fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 7, 1, h, m, s).unwrap()
}

#[test]
fn a_window_splits_into_two_adjacent_halves() {
    let window = Window::new(at(0, 0, 0), at(2, 0, 0)).unwrap();
    let (a, b) = window.split().unwrap();
    assert_eq!((a.from(), a.until()), (at(0, 0, 0), at(1, 0, 0)));
    assert_eq!((b.from(), b.until()), (at(1, 0, 0), at(2, 0, 0)));
    assert_eq!(a.last_second(), at(0, 59, 59));
}

#[test]
fn a_local_day_runs_from_local_midnight_to_local_midnight_across_dst() {
    let day = |d| chrono::NaiveDate::from_ymd_opt(2024, 3, d).unwrap();
    let toronto: chrono_tz::Tz = "America/Toronto".parse().unwrap();
    let plain = Window::local_day(day(1), toronto).unwrap();
    assert_eq!(
        plain.from(),
        Utc.with_ymd_and_hms(2024, 3, 1, 5, 0, 0).unwrap()
    );
    assert_eq!(plain.span(), TimeDelta::hours(24));
    // Clocks go forward on 2024-03-10 in Toronto: that day has 23 hours.
    let short = Window::local_day(day(10), toronto).unwrap();
    assert_eq!(short.span(), TimeDelta::hours(23));
    assert_eq!(
        short.until(),
        Utc.with_ymd_and_hms(2024, 3, 11, 4, 0, 0).unwrap()
    );
    // Santiago skipped midnight on 2024-09-08 (00:00 became 01:00).
    let santiago: chrono_tz::Tz = "America/Santiago".parse().unwrap();
    let gap = Window::local_day(
        chrono::NaiveDate::from_ymd_opt(2024, 9, 8).unwrap(),
        santiago,
    )
    .unwrap();
    assert_eq!(
        gap.from(),
        Utc.with_ymd_and_hms(2024, 9, 8, 4, 0, 0).unwrap()
    );
    assert_eq!(gap.span(), TimeDelta::hours(23));
}

#[test]
fn a_one_second_window_cannot_be_split_and_an_empty_one_cannot_be_made() {
    assert!(
        Window::new(at(0, 0, 0), at(0, 0, 1))
            .unwrap()
            .split()
            .is_none()
    );
    assert!(Window::new(at(0, 0, 1), at(0, 0, 1)).is_err());
}

#[test]
fn paging_stops_on_a_short_page_an_empty_page_or_a_page_holding_every_remaining_row() {
    assert!(!is_last_page(Some(2500), Some(1000), 1000, 1000));
    assert!(is_last_page(Some(500), Some(1000), 500, 1000));
    assert!(is_last_page(Some(1000), Some(1000), 1000, 1000));
    assert!(is_last_page(None, None, 0, 1000));
    assert!(is_last_page(None, None, 999, 1000));
}

#[test]
fn paging_continues_on_a_full_page_with_rows_to_come_and_respects_a_clamped_limit() {
    assert!(!is_last_page(Some(1001), Some(1000), 1000, 1000));
    // The server clamped limit to 100: a full page of 100 is not short.
    assert!(!is_last_page(Some(350), Some(100), 100, 1000));
}

/// One scripted answer.
struct Answer {
    status: u16,
    retry_after: Option<&'static str>,
    delay: Duration,
    body: Value,
}

fn ok(body: Value) -> Answer {
    Answer {
        status: 200,
        retry_after: None,
        delay: Duration::ZERO,
        body,
    }
}

fn status(status: u16) -> Answer {
    Answer {
        status,
        retry_after: None,
        delay: Duration::ZERO,
        body: json!({"status": status, "error": "scripted"}),
    }
}

fn page(ids: &[i64], count: i64, offset: i64) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "name": format!("R{id}")}))
        .collect();
    json!({"meta": {"count": count, "itemCount": ids.len(), "limit": 3, "offset": offset}, "data": data})
}

#[derive(Default)]
struct Script {
    answers: Mutex<VecDeque<Answer>>,
    /// `(query, authorization header)` of every request.
    seen: Mutex<Vec<(String, String)>>,
}

async fn scripted(
    State(script): State<Arc<Script>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    script
        .seen
        .lock()
        .unwrap()
        .push((query.unwrap_or_default(), auth));
    let answer = script
        .answers
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| status(599));
    tokio::time::sleep(answer.delay).await;
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap(),
        axum::Json(answer.body),
    )
        .into_response();
    if let Some(wait) = answer.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, wait.parse().unwrap());
    }
    response
}

/// Starts the scripted server; returns its portal and the script (to inspect requests).
async fn serve(answers: Vec<Answer>) -> (Portal, Arc<Script>) {
    let script = Arc::new(Script {
        answers: Mutex::new(answers.into()),
        ..Default::default()
    });
    let app = axum::Router::new()
        .fallback(scripted)
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let portal = Portal::new(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (portal, script)
}

fn client(page_size: u32, retry: RetryPolicy, request_timeout: Duration) -> TrackTikClient {
    TrackTikClient::new(ClientConfig {
        page_size,
        retry,
        request_timeout,
        ..Default::default()
    })
    .unwrap()
}

fn token() -> AccessToken {
    AccessToken::new("tok-123")
}

fn queries(script: &Script) -> Vec<String> {
    script
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(q, _)| q.clone())
        .collect()
}

#[tokio::test]
async fn a_keyset_read_asks_for_the_ids_after_the_last_one_seen_never_an_offset() {
    // Two records are created while we page; each page's count is what is left to read.
    let (portal, script) = serve(vec![
        ok(page(&[1, 2, 3], 5, 0)),
        ok(page(&[4, 5, 6], 4, 0)),
        ok(page(&[7], 1, 0)),
    ])
    .await;
    let client = client(3, RetryPolicy::fast(), Duration::from_secs(5));
    let regions: Vec<Region> = client
        .list_all(&portal, &token(), "regions", &Query::new())
        .await
        .unwrap();
    let ids: Vec<i64> = regions.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        queries(&script),
        vec![
            "sort=id&limit=3",
            "id%3Agt=3&sort=id&limit=3",
            "id%3Agt=6&sort=id&limit=3"
        ]
    );
}

#[tokio::test]
async fn a_row_deleted_during_the_read_hides_no_other_row() {
    // Row 2 is deleted after page one. Read by offset, page two would start at row 5 and row 4
    // would never be seen; read by keyset, page two starts after row 3.
    let (portal, script) =
        serve(vec![ok(page(&[1, 2, 3], 6, 0)), ok(page(&[4, 5, 6], 3, 0))]).await;
    let client = client(3, RetryPolicy::fast(), Duration::from_secs(5));
    let regions: Vec<Region> = client
        .list_all(&portal, &token(), "regions", &Query::new())
        .await
        .unwrap();
    let ids: Vec<i64> = regions.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(
        script.seen.lock().unwrap().len(),
        2,
        "page two held every remaining row"
    );
}

#[tokio::test]
async fn the_token_travels_only_in_the_authorization_header() {
    let (portal, script) = serve(vec![ok(page(&[1], 1, 0))]).await;
    let client = client(1000, RetryPolicy::fast(), Duration::from_secs(5));
    let query = Query::new().eq("status", "ACTIVE");
    let _: Vec<Region> = client
        .list_all(&portal, &token(), "regions", &query)
        .await
        .unwrap();
    let seen = script.seen.lock().unwrap();
    assert_eq!(seen[0].1, "Bearer tok-123");
    assert_eq!(seen[0].0, "status=ACTIVE&sort=id&limit=1000");
}

#[tokio::test]
async fn retry_after_is_obeyed_before_retrying_a_429() {
    let (portal, script) = serve(vec![
        Answer {
            retry_after: Some("1"),
            ..status(429)
        },
        status(502),
        ok(page(&[1], 1, 0)),
    ])
    .await;
    let policy = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(5),
    };
    let client = client(1000, policy, Duration::from_secs(5));
    let started = Instant::now();
    let regions: Vec<Region> = client
        .list_all(&portal, &token(), "regions", &Query::new())
        .await
        .unwrap();
    assert_eq!(regions.len(), 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(script.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_slow_answer_is_retried_and_then_reported_as_our_own_timeout() {
    let slow = || Answer {
        delay: Duration::from_secs(2),
        ..ok(page(&[1], 1, 0))
    };
    let (portal, script) = serve(vec![slow(), slow()]).await;
    let policy = RetryPolicy {
        max_attempts: 2,
        ..RetryPolicy::fast()
    };
    let client = client(1000, policy, Duration::from_millis(200));
    let error = client
        .list_all::<Region>(&portal, &token(), "regions", &Query::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackTikError::Timeout { gateway: false, .. }),
        "{error:?}"
    );
    assert_eq!(script.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_slow_answer_followed_by_a_quick_one_succeeds() {
    let (portal, _) = serve(vec![
        Answer {
            delay: Duration::from_secs(2),
            ..ok(page(&[1], 1, 0))
        },
        ok(page(&[7], 1, 0)),
    ])
    .await;
    let client = client(1000, RetryPolicy::fast(), Duration::from_millis(200));
    let regions: Vec<Region> = client
        .list_all(&portal, &token(), "regions", &Query::new())
        .await
        .unwrap();
    assert_eq!(regions[0].id, 7);
}

#[tokio::test]
async fn a_504_outside_a_window_query_is_retried_like_a_503() {
    let (portal, script) = serve(vec![status(504), ok(page(&[1], 1, 0))]).await;
    let client = client(1000, RetryPolicy::fast(), Duration::from_secs(5));
    let regions: Vec<Region> = client
        .list_all(&portal, &token(), "regions", &Query::new())
        .await
        .unwrap();
    assert_eq!(regions.len(), 1);
    assert_eq!(script.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_forbidden_answer_carries_tracktiks_message_and_is_not_retried() {
    let (portal, script) = serve(vec![Answer {
        body: json!({"status": 403, "error": "Missing scope core:entities:invoices:read"}),
        ..status(403)
    }])
    .await;
    let client = client(1000, RetryPolicy::fast(), Duration::from_secs(5));
    let error = client
        .list_all::<Region>(&portal, &token(), "invoices", &Query::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, TrackTikError::Forbidden { message, .. } if message.contains("core:entities:invoices:read")),
        "{error:?}"
    );
    assert!(!error.to_string().contains("tok-123"));
    assert_eq!(script.seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_an_invalid_response() {
    let (portal, _) = serve(vec![Answer {
        body: Value::String("<html>".into()),
        ..ok(Value::Null)
    }])
    .await;
    let client = client(1000, RetryPolicy::fast(), Duration::from_secs(5));
    let error = client
        .list_all::<Region>(&portal, &token(), "regions", &Query::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, TrackTikError::InvalidResponse { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_server_that_ignores_id_gt_is_an_error_not_an_endless_loop() {
    let same = || ok(page(&[1, 2, 3], 10, 0));
    let (portal, script) = serve(vec![same(), same(), same()]).await;
    let client = client(3, RetryPolicy::fast(), Duration::from_secs(5));
    let error = client
        .list_all::<Region>(&portal, &token(), "regions", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(error.field(), Some("id"), "{error:?}");
    assert_eq!(script.seen.lock().unwrap().len(), 2);
}
