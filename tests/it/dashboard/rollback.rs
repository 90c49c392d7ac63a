//! "Roll back this night": the confirmation lists what will be voided or deleted with totals,
//! the POST records and queues it once and is audited, and another tenant's night is 404.

use super::*;

/// Gives the seeded posted documents of two nights ago their QuickBooks ids.
async fn posted_in_quickbooks(s: &Seeded) {
    sqlx::query(
        "update ledger_entry set qbo_id = source_id::text, qbo_doc_number = doc_number,
            qbo_entity = case when source = 'invoice' then 'Invoice' else 'JournalEntry' end
         where integration_id = $1 and state = 'posted'",
    )
    .bind(s.id)
    .execute(&s.app.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn rolling_back_a_night_shows_what_is_undone_then_queues_it_once_and_audits_it() {
    let s = Seeded::start().await;
    posted_in_quickbooks(&s).await;
    let dashboard = format!("/integrations/{}", s.id);
    let night = days_ago(2);
    let path = format!("{dashboard}/nights/{night}/rollback");
    assert!(
        s.page(&dashboard)
            .await
            .contains(&format!("href=\"{path}\"")),
        "the dashboard offers it for a night with posted documents"
    );

    let html = s.page(&path).await;
    assert!(html.contains(&format!("Roll back the night of {}?", label(night))));
    assert!(html.contains("2 × invoice voided: 350.50 USD"), "{html}");
    assert!(
        html.contains("1 × journal entry deleted: 1,000.00 USD"),
        "{html}"
    );
    for number in ["INV-101", "INV-102", "PR-7"] {
        assert!(html.contains(number), "{number} is listed");
    }
    assert!(html.contains("Roll back 3 documents"));

    let r = s.app.post_form(&path, &path, &[]).await;
    assert_eq!(
        (r.status().as_u16(), location(&r)),
        (303, dashboard.clone())
    );
    let after = s.page(&dashboard).await;
    assert!(after.contains("The rollback of"), "{after}");
    assert!(
        after.contains("going on"),
        "the night says its rollback is under way"
    );

    let jobs: Vec<Value> = sqlx::query_scalar("select job from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_all(&s.app.db)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["request"]["kind"], json!("rollback"));
    let reversals: i64 = sqlx::query_scalar("select count(*) from reversal")
        .fetch_one(&s.app.db)
        .await
        .unwrap();
    assert_eq!(
        reversals, 3,
        "one reversal per posted document, recorded first"
    );
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'sync.rolled_back'")
            .fetch_one(&s.app.db)
            .await
            .unwrap();
    assert_eq!(audited, 1);

    // A second click while it is going on is refused with a reason; nothing more is queued.
    s.app.post_form(&path, &path, &[]).await;
    assert!(s.page(&dashboard).await.contains("is already going on"));
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs")
        .fetch_one(&s.app.db)
        .await
        .unwrap();
    assert_eq!(jobs, 1);
}

#[tokio::test]
async fn a_night_with_nothing_posted_says_so_and_another_tenants_night_is_404() {
    let s = Seeded::start().await;
    let quiet = format!("/integrations/{}/nights/{}/rollback", s.id, days_ago(5));
    assert!(s.page(&quiet).await.contains("Nothing to roll back"));
    let bad = format!("/integrations/{}/nights/yesterday/rollback", s.id);
    assert_eq!(s.app.get(&bad).await.status(), 400);

    let theirs = format!(
        "/integrations/{}/nights/{}/rollback",
        s.other.1,
        days_ago(1)
    );
    assert_eq!(s.app.get(&theirs).await.status(), 404);
    let r = s.app.post_form(&quiet, &theirs, &[]).await;
    assert_eq!(r.status(), 404);
    let rollbacks: i64 = sqlx::query_scalar("select count(*) from rollback")
        .fetch_one(&s.app.db)
        .await
        .unwrap();
    assert_eq!(rollbacks, 0);
}

#[tokio::test]
async fn a_viewer_sees_what_a_rollback_would_undo_but_cannot_start_one_and_an_accountant_can() {
    let s = Seeded::start().await;
    posted_in_quickbooks(&s).await;
    sqlx::query("update tenant_user set role = 'viewer'")
        .execute(&s.app.db)
        .await
        .unwrap();
    let path = format!("/integrations/{}/nights/{}/rollback", s.id, days_ago(2));
    let html = s.page(&path).await;
    assert!(html.contains("2 × invoice voided: 350.50 USD"), "{html}");
    assert!(
        html.contains("only a TrackTik portal administrator"),
        "the page says who can"
    );
    assert!(!html.contains("Roll back 3 documents"), "no button");

    let r = s.app.post_form(&path, &path, &[]).await;
    assert_eq!(r.status(), 403);
    let rollbacks: i64 = sqlx::query_scalar("select count(*) from rollback")
        .fetch_one(&s.app.db)
        .await
        .unwrap();
    assert_eq!(rollbacks, 0, "nothing was recorded");

    // An invited accountant may: the button is there.
    sqlx::query("update tenant_user set role = 'accountant', tracktik_user_id = null")
        .execute(&s.app.db)
        .await
        .unwrap();
    assert!(s.page(&path).await.contains("Roll back 3 documents"));
}
