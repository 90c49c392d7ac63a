//! Nights, ticks, catch-up and the run lock.

use super::*;

#[tokio::test]
async fn a_seeded_portal_synced_day_by_day_matches_tracktik_document_for_document_and_cent_for_cent()
 {
    let start = days_ago(30);
    let s = Synced::start(US_REALM_ID, start).await;
    s.run_every_day(start).await;

    let expected = s
        .tracktik_invoices(start_of(start), start_of(today()))
        .await;
    assert!(expected.len() >= 10, "the seed has invoices: {expected:?}");
    let posted: BTreeMap<String, Decimal> = s
        .qbo_invoices()
        .await
        .into_iter()
        .map(|i| (i.doc_number.unwrap(), i.total_amt.unwrap()))
        .collect();
    assert_eq!(
        posted, expected,
        "QuickBooks has exactly TrackTik's invoices"
    );

    // Pay runs: one credit-card expense each, total equal to TrackTik's total cost.
    let (portal, tt) = s.tracktik().await;
    let payruns = s
        .state
        .providers
        .tracktik
        .approved_payruns_between(
            &portal,
            &tt,
            Window::new(start_of(start), start_of(today())).unwrap(),
        )
        .await
        .unwrap();
    assert!(!payruns.is_empty(), "the seed has approved pay runs");
    let expected: BTreeMap<String, Decimal> = payruns
        .iter()
        .map(|p| (format!("PR-{}", p.id), p.total_cost.unwrap()))
        .collect();
    let purchases: BTreeMap<String, Decimal> = s
        .qbo_purchases()
        .await
        .into_iter()
        .filter_map(|p| Some((p.doc_number?, p.total_amt?)))
        .collect();
    assert_eq!(purchases, expected);

    // The ledger says the same, with links, and every run row is finished.
    let rows = s.ledger().await;
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .all(|r| r.qbo_link.as_deref().is_some_and(|l| l.contains("txnId=")))
    );
    assert!(
        rows.iter().all(|r| r.qbo_amount == Some(r.amount)),
        "QuickBooks holds TrackTik's totals to the cent"
    );
    let recent = runs::recent(&s.state.db, s.tenant_id, s.integration_id, 100)
        .await
        .unwrap();
    assert_eq!(recent.len(), 30);
    assert!(
        recent
            .iter()
            .all(|r| r.status == RunStatus::Succeeded && r.finished_at.is_some())
    );
    assert_eq!(
        recent.iter().map(|r| r.posted).sum::<i32>() as usize,
        rows.len()
    );
}

#[tokio::test]
async fn a_second_run_of_the_same_night_posts_nothing() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    s.run_every_day(start).await;
    let invoices = s.creates("Invoice").await;
    let purchases = s.creates("Purchase").await;
    assert!(invoices > 0);

    let again = s.run(days_ago(1)).await.unwrap();
    assert_eq!(again.counts.total, 0, "{again:?}");
    assert_eq!(s.creates("Invoice").await, invoices);
    assert_eq!(s.creates("Purchase").await, purchases);
}

#[tokio::test]
async fn a_start_date_of_today_posts_nothing_until_tomorrows_run() {
    let s = Synced::start(US_REALM_ID, today()).await;
    let id = s.new_invoice(today(), Utc::now()).await;

    // Tonight's tick owes nothing: today's cutoff is tomorrow morning.
    assert!(
        controls::enqueue_due(&s.state.db, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.creates("Invoice").await, 0);

    // Tomorrow after the cutoff, today is due: enqueued once, however many ticks run.
    let tomorrow = start_of(today().succ_opt().unwrap()) + chrono::Duration::hours(4);
    let first = controls::enqueue_due(&s.state.db, tomorrow).await.unwrap();
    assert_eq!(
        first,
        vec![SyncIntegration::nightly(s.integration_id, today())]
    );
    assert!(
        controls::enqueue_due(&s.state.db, tomorrow)
            .await
            .unwrap()
            .is_empty()
    );
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(jobs, 1, "a second enqueue is a no-op");

    let report = s.run(today()).await.unwrap();
    assert_eq!(report.counts.posted, 1, "{report:?}");
    let rows = s.ledger().await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].source, rows[0].source_id), (Source::Invoice, id));
}

#[tokio::test]
async fn concurrent_ticks_enqueue_each_due_day_once() {
    let s = Synced::start(US_REALM_ID, days_ago(3)).await;
    let now = Utc::now();
    let mut handles = Vec::new();
    for _ in 0..4 {
        let state = s.state.clone();
        handles.push(tokio::spawn(async move {
            controls::enqueue_due(&state.db, now).await.unwrap().len()
        }));
    }
    let mut enqueued = 0;
    for h in handles {
        enqueued += h.await.unwrap();
    }
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(enqueued as i64, jobs);
    assert_eq!(jobs, 1, "the owed days make one job: a catch-up");
    let job: Value = sqlx::query_scalar("select job from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(job["first_day"], json!(days_ago(3).to_string()), "{job}");
}

#[tokio::test]
async fn a_manual_sync_is_queued_once_and_the_worker_posts_it() {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let id = s.new_invoice(today(), Utc::now()).await;

    let request = controls::RunRequest::Manual;
    let (job, first) = controls::enqueue(
        &s.state,
        s.tenant_id,
        s.integration_id,
        request.clone(),
        None,
        Requester::Customer,
    )
    .await
    .unwrap();
    assert_eq!(first, controls::Queued::Added);
    let (_, second) = controls::enqueue(
        &s.state,
        s.tenant_id,
        s.integration_id,
        request.clone(),
        None,
        Requester::Customer,
    )
    .await
    .unwrap();
    assert_eq!(
        second,
        controls::Queued::AlreadyQueued,
        "two clicks, one job"
    );
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(jobs, 1);

    // Another tenant cannot queue anything for this integration.
    let stranger = TenantId(uuid::Uuid::new_v4());
    assert!(matches!(
        controls::enqueue(
            &s.state,
            stranger,
            s.integration_id,
            request,
            None,
            Requester::Customer
        )
        .await,
        Err(SyncError::NotFound)
    ));

    let report = controls::run_job(&s.state, s.tenant_id, &job)
        .await
        .unwrap();
    assert_eq!(report.counts.failed, 0, "{report:?}");
    assert_eq!(report.counts.posted, report.counts.total, "{report:?}");
    let run = runs::get(&s.state.db, s.tenant_id, report.sync_run_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.kind, RunKind::Manual);
    let rows = s.ledger().await;
    assert!(
        rows.iter()
            .any(|r| r.source_id == id && r.state == LedgerState::Posted)
    );
}

#[tokio::test]
async fn a_late_approval_of_an_earlier_day_is_caught_by_the_next_run() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    s.run_every_day(start).await;
    // Approved "on" day -5, but only now, after that night ran.
    let late = s
        .new_invoice(
            days_ago(6),
            start_of(days_ago(5)) + chrono::Duration::hours(12),
        )
        .await;
    let report = s.run(days_ago(1)).await.unwrap();
    assert_eq!(report.counts.posted, 1, "{report:?}");
    let row = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.source_id == late)
        .unwrap();
    assert_eq!(row.state, LedgerState::Posted);
    assert_eq!(row.trading_day, days_ago(5));
}

#[tokio::test]
async fn the_job_runs_what_the_tick_enqueued_and_owed_days_are_caught_up_after_a_reconnect() {
    use apalis::prelude::Data;
    let start = days_ago(4);
    let s = Synced::start(US_REALM_ID, start).await;
    // Lost connection: nothing is enqueued while it waits.
    sqlx::query("update integration set state = 'needs_reconnect' where integration_id = $1")
        .bind(s.integration_id)
        .execute(&s.state.db)
        .await
        .unwrap();
    assert!(
        controls::enqueue_due(&s.state.db, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    // Reconnected: the next tick enqueues one job for every owed day.
    sqlx::query("update integration set state = 'active' where integration_id = $1")
        .bind(s.integration_id)
        .execute(&s.state.db)
        .await
        .unwrap();
    let owed = controls::enqueue_due(&s.state.db, Utc::now())
        .await
        .unwrap();
    assert_eq!(owed.len(), 1, "{owed:?}");
    assert_eq!(owed[0].first_day, Some(start), "{owed:?}");
    let payloads: Vec<Value> =
        sqlx::query_scalar("select job from apalis.jobs where job_type = $1 order by run_at")
            .bind(controls::job_type())
            .fetch_all(&s.state.db)
            .await
            .unwrap();
    assert_eq!(payloads.len(), owed.len());
    for p in payloads {
        let job: SyncIntegration = serde_json::from_value(p).unwrap();
        ledgerbridge::jobs::sync::run(job, Data::new(s.state.clone()))
            .await
            .unwrap();
    }
    let rows = s.ledger().await;
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.state == LedgerState::Posted));
    // One run, shown as the catch-up it was.
    let ran = runs::recent(&s.state.db, s.tenant_id, s.integration_id, 10)
        .await
        .unwrap();
    assert_eq!(ran.len(), 1, "{ran:#?}");
    assert_eq!(ran[0].first_day, Some(start));
}

#[tokio::test]
async fn runs_of_one_integration_never_overlap_and_a_second_one_does_not_wait_for_the_lock() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let mut handles = Vec::new();
    for _ in 0..3 {
        let state = s.state.clone();
        let (t, i) = (s.tenant_id, s.integration_id);
        handles.push(tokio::spawn(async move {
            sync::run_day(&state, t, i, days_ago(1), RunKind::Nightly).await
        }));
    }
    let mut busy = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(_) => {}
            Err(SyncError::Busy) => busy += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(busy >= 1, "the lock is tried, not waited for");
    // Whatever got the lock, the runs' lifetimes do not overlap.
    let mut ran = runs::recent(&s.state.db, s.tenant_id, s.integration_id, 10)
        .await
        .unwrap();
    ran.sort_by_key(|r| r.started_at);
    assert_eq!(ran.len(), 3 - busy);
    for pair in ran.windows(2) {
        assert!(
            pair[0].finished_at.unwrap() <= pair[1].started_at,
            "runs overlapped: {pair:#?}"
        );
    }
    let rows = s.ledger().await;
    assert!(rows.iter().all(|r| r.state == LedgerState::Posted));
    assert_eq!(
        s.creates("Invoice").await as usize,
        rows.iter().filter(|r| r.source == Source::Invoice).count()
    );
    assert_eq!(
        s.creates("Purchase").await as usize,
        rows.iter().filter(|r| r.source == Source::Payrun).count()
    );
}
