//! One integration never starves the others: owed days and manual requests coalesce, a busy
//! integration's job goes back on the queue instead of waiting, previews are shared. And what
//! people see of it: runs labelled by who started them, failure notices counted and sent once.

use std::time::Instant;

use super::*;
use crate::helpers::TestSettings;
use ledgerbridge::sync::controls::RunRequest;

#[tokio::test]
async fn an_integration_catching_up_on_a_slow_tracktik_does_not_keep_another_waiting() {
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_WORKER_CONCURRENCY", "2".into());
    let app = TestApp::spawn_with_sandboxes_and(settings).await;
    let x = Synced::start_in(app, US_REALM_ID, days_ago(3), json!({})).await;
    let y = x.another_company(days_ago(1)).await;
    // TrackTik answers slowly: 2 s a request, for the first 30 requests.
    Sandboxes::control(
        x.tt_base(),
        "/__sandbox/faults",
        json!({"status": 200, "count": 30, "delayMs": 2000, "pathContains": "/rest/"}),
    )
    .await;
    let queued = controls::enqueue_due(&x.state.db, Utc::now())
        .await
        .unwrap();
    assert_eq!(queued.len(), 2, "one job per integration: {queued:?}");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let started = Instant::now();
    let worker = tokio::spawn(ledgerbridge::jobs::run(x.state.clone(), async move {
        let _ = stopped.await;
    }));
    let y_started = loop {
        let runs = runs::recent(&y.state.db, y.tenant_id, y.integration_id, 1)
            .await
            .unwrap();
        if !runs.is_empty() {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the other integration never ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        y_started < Duration::from_secs(5),
        "the other integration waited {y_started:?}"
    );
    // Both finish, each with one run.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "select count(*) from apalis.jobs where status in ('Pending', 'Running')",
        )
        .fetch_one(&x.state.db)
        .await
        .unwrap();
        if waiting == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the jobs never finished");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    stop.send(()).unwrap();
    worker.await.unwrap().unwrap();
    for s in [&x, &y] {
        let ran = runs::recent(&s.state.db, s.tenant_id, s.integration_id, 5)
            .await
            .unwrap();
        assert_eq!(ran.len(), 1, "{ran:#?}");
        assert!(
            s.ledger()
                .await
                .iter()
                .all(|r| r.state == LedgerState::Posted)
        );
    }
}

#[tokio::test]
async fn eight_back_sync_requests_with_different_ranges_make_one_job() {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let ranges = [
        (14, 13),
        (13, 12),
        (10, 10),
        (8, 7),
        (7, 6),
        (5, 5),
        (4, 4),
        (14, 14),
    ];
    for (from, to) in ranges {
        // A range already covered by the waiting job adds nothing (and says so).
        controls::enqueue(
            &s.state,
            s.tenant_id,
            s.integration_id,
            RunRequest::BackSync {
                from: days_ago(from),
            },
            Some(days_ago(to)),
            Requester::Customer,
        )
        .await
        .unwrap();
    }
    let jobs: Vec<Value> = sqlx::query_scalar("select job from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_all(&s.state.db)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job: SyncIntegration = serde_json::from_value(jobs[0].clone()).unwrap();
    let RunRequest::Asked(asked) = &job.request else {
        panic!("{job:?}")
    };
    let joined: Vec<(NaiveDate, NaiveDate)> =
        asked.back_sync.iter().map(|r| (r.from, r.to)).collect();
    assert_eq!(
        joined,
        vec![
            (days_ago(14), days_ago(12)),
            (days_ago(10), days_ago(10)),
            (days_ago(8), days_ago(4)),
        ]
    );
    let report = controls::run_job(&s.state, s.tenant_id, &job)
        .await
        .unwrap();
    assert_eq!(report.counts.failed, 0, "{report:?}");
    assert!(report.counts.posted > 0, "{report:?}");
}

#[tokio::test]
async fn ten_previews_at_once_share_one_reading_and_the_service_stays_responsive() {
    let s = Synced::start(US_REALM_ID, days_ago(5)).await;
    // Setting up made many QuickBooks calls in the last second: let Intuit's limit of 10 a
    // second pass, or the page's client (which waits a minute after a 429) would.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let page = format!("/integrations/{}/preview", s.integration_id);
    let tt_requests = |base: String| async move {
        let log: Value = reqwest::get(format!("{base}/__sandbox/requests"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        log["requests"].as_array().map_or(0, Vec::len)
    };
    let clear = |base: String| async move {
        reqwest::Client::new()
            .delete(format!("{base}/__sandbox/requests"))
            .send()
            .await
            .unwrap();
    };
    clear(s.tt_base().to_owned()).await;
    let first = s.app.get(&page).await;
    assert_eq!(first.status(), 200, "{}", first.text().await.unwrap());
    let one = tt_requests(s.tt_base().to_owned()).await;
    assert!(one > 0);

    clear(s.tt_base().to_owned()).await;
    Sandboxes::control(
        s.tt_base(),
        "/__sandbox/faults",
        json!({"status": 200, "count": 5, "delayMs": 400, "pathContains": "/rest/"}),
    )
    .await;
    let previews: Vec<_> = (0..10)
        .map(|_| {
            let (client, url) = (s.app.client.clone(), s.app.url(&page));
            tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
        })
        .collect();
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let t = Instant::now();
        assert_eq!(s.app.get("/readyz").await.status(), 200);
        let home = s.app.get("/").await.status();
        assert!(home.is_success() || home.is_redirection(), "{home}");
        slowest = slowest.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for p in previews {
        assert_eq!(p.await.unwrap(), 200);
    }
    assert!(slowest < Duration::from_secs(1), "{slowest:?}");
    let ten = tt_requests(s.tt_base().to_owned()).await;
    assert!(
        ten <= one,
        "ten previews read TrackTik {ten} times, one reads it {one} times"
    );
}

#[tokio::test]
async fn a_run_support_started_is_shown_to_the_customer_as_supports() {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let (job, _) = controls::enqueue(
        &s.state,
        s.tenant_id,
        s.integration_id,
        RunRequest::Manual,
        None,
        Requester::Support,
    )
    .await
    .unwrap();
    let report = controls::run_job(&s.state, s.tenant_id, &job)
        .await
        .unwrap();
    let run = runs::get(&s.state.db, s.tenant_id, report.sync_run_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.requester(), Requester::Support);
    let html = s
        .app
        .get_html(&format!("/integrations/{}", s.integration_id))
        .await;
    assert!(html.contains("Sync now (started by support)"), "{html}");
}

#[tokio::test]
async fn the_failure_notice_counts_every_failure_and_announces_each_document_once() {
    let s = Synced::start(US_REALM_ID, today()).await;
    let mut settings = s.settings().await;
    settings.schedule.notify_emails = vec!["books@acme.example".into()];
    settings.billing.default_item = Some(QboRef::new("999999", "Retired Guarding Service"));
    s.save(&settings).await;
    let client = s.first_client().await;
    let item = s.first_bill_item().await;
    s.approved_invoices(25, client, |_| item).await;
    let notices = || async {
        let subjects: Vec<String> = sqlx::query_scalar(
            "select subject from notice where kind = 'sync_failures' order by created_at",
        )
        .fetch_all(&s.state.db)
        .await
        .unwrap();
        subjects
    };
    let report = s.run(today()).await.unwrap();
    assert_eq!(report.counts.failed, 25, "{report:?}");
    let sent = notices().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].starts_with("25 document(s)"), "{sent:?}");

    // Retried, refused for the same reason: nothing new to say.
    controls::retry_failed(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(notices().await.len(), 1);

    // Refused for another reason: announced again.
    let mut settings = s.settings().await;
    settings.billing.default_item = Some(QboRef::new("888888", "Old Patrol Service"));
    s.save(&settings).await;
    controls::retry_failed(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    let sent = notices().await;
    assert_eq!(sent.len(), 2, "{sent:?}");
}
