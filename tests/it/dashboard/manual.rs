//! The manual controls: tenant isolation on every route, the queue, the back-sync form.

use super::*;

#[tokio::test]
async fn another_tenants_integration_is_404_on_every_new_route() {
    let s = Seeded::start().await;
    let theirs = s.other.1;
    for path in [
        format!("/integrations/{theirs}"),
        format!("/integrations/{theirs}/documents"),
        format!("/integrations/{theirs}/preview"),
        format!("/integrations/{theirs}/progress"),
    ] {
        assert_eq!(s.app.get(&path).await.status(), 404, "GET {path}");
    }
    let ours = format!("/integrations/{}", s.id);
    for (action, fields) in [
        ("sync-now", vec![]),
        ("retry", vec![]),
        (
            "back-sync",
            vec![("from", "2026-01-01"), ("to", "2026-01-02")],
        ),
    ] {
        let r = s
            .app
            .post_form(&ours, &format!("/integrations/{theirs}/{action}"), &fields)
            .await;
        assert_eq!(r.status(), 404, "POST {action}");
    }
    // Their document cannot be retried through our integration either.
    let entry = s.other_doc.to_string();
    let r = s
        .app
        .post_form(&ours, &format!("{ours}/retry"), &[("entry", &entry)])
        .await;
    assert_eq!(r.status(), 404);
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs")
        .fetch_one(&s.app.db)
        .await
        .unwrap();
    assert_eq!(jobs, 0, "nothing was queued");
}

#[tokio::test]
async fn sync_now_queues_one_job_and_a_second_click_says_already_queued() {
    let s = Seeded::start().await;
    let page = format!("/integrations/{}", s.id);
    let first = s
        .app
        .post_form(&page, &format!("{page}/sync-now"), &[])
        .await;
    assert_eq!(
        (first.status().as_u16(), location(&first)),
        (303, page.clone())
    );
    let html = s.page(&page).await;
    assert!(html.contains("Sync queued — progress shows below."));
    assert!(html.contains(&format!("data-progress-url=\"{page}/progress\"")));
    assert!(html.contains("Queued: Sync now."), "{html}");
    assert!(html.contains("<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>"));
    // The confirmation is shown once.
    assert!(!s.page(&page).await.contains("Sync queued"));

    let second = s
        .app
        .post_form(&page, &format!("{page}/sync-now"), &[])
        .await;
    assert_eq!(second.status(), 303);
    assert!(s.page(&page).await.contains("That sync is already queued"));

    let jobs: Vec<Value> = sqlx::query_scalar("select job from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_all(&s.app.db)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["request"]["kind"], json!("asked"));
    assert_eq!(jobs[0]["request"]["sync_now"], json!(true));
    assert_eq!(jobs[0]["request"]["by_customer"], json!(true));
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'sync.queued'")
            .fetch_one(&s.app.db)
            .await
            .unwrap();
    assert_eq!(audited, 1, "the queued run is audited once");

    // Retry one failed document: queued for that row, back on the documents page.
    let entry = s.failed_invoice.to_string();
    let r = s
        .app
        .post_form(&page, &format!("{page}/retry"), &[("entry", &entry)])
        .await;
    assert_eq!(location(&r), format!("{page}/documents"));
    // It joins the sync already waiting: one job per integration asks for both.
    let jobs: Vec<Value> = sqlx::query_scalar("select job from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_all(&s.app.db)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["request"]["retry"], json!([s.failed_invoice]));
    assert_eq!(jobs[0]["request"]["sync_now"], json!(true));
}

#[tokio::test]
async fn back_sync_errors_are_shown_next_to_each_field_with_what_was_typed() {
    let s = Seeded::start().await;
    let page = format!("/integrations/{}", s.id);
    let r = s
        .app
        .post_form(
            &page,
            &format!("{page}/back-sync"),
            &[("from", "2026-11-31"), ("to", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = plain(&r.text().await.unwrap());
    assert!(html.contains("id=\"from-error\">Enter the first day as a date like 2026-11-01"));
    assert!(html.contains("id=\"to-error\">Enter the last day to sync"));
    assert!(
        html.contains("value=\"2026-11-31\""),
        "what was typed is kept"
    );

    let (from, to) = (days_ago(3).to_string(), days_ago(5).to_string());
    let r = s
        .app
        .post_form(
            &page,
            &format!("{page}/back-sync"),
            &[("from", &from), ("to", &to)],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = plain(&r.text().await.unwrap());
    assert!(html.contains(&format!(
        "The last day must be on or after the first day ({from})"
    )));

    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs")
        .fetch_one(&s.app.db)
        .await
        .unwrap();
    assert_eq!(jobs, 0, "nothing is queued from a form with errors");

    let r = s
        .app
        .post_form(
            &page,
            &format!("{page}/back-sync"),
            &[("from", &to), ("to", &from)],
        )
        .await;
    assert_eq!(location(&r), page);
    let job: Value = sqlx::query_scalar("select job from apalis.jobs")
        .fetch_one(&s.app.db)
        .await
        .unwrap();
    assert_eq!(job["request"]["kind"], json!("asked"));
    assert_eq!(
        job["request"]["back_sync"],
        json!([{"from": to, "to": from}])
    );
    assert_eq!(job["day"], json!(from));
}

#[tokio::test]
async fn the_dashboard_shows_each_person_only_the_controls_their_role_allows() {
    let s = Seeded::start().await;
    let dashboard = format!("/integrations/{}", s.id);
    let rollback = format!("{dashboard}/nights/{}/rollback", days_ago(2));
    let admin = s.page(&dashboard).await;
    for control in [
        ">Sync now<",
        ">Back-sync<",
        "Disconnect QuickBooks Online",
        rollback.as_str(),
        "Change settings",
    ] {
        assert!(admin.contains(control), "an administrator has {control}");
    }

    sqlx::query("update tenant_user set role = 'accountant', tracktik_user_id = null")
        .execute(&s.app.db)
        .await
        .unwrap();
    let accountant = s.page(&dashboard).await;
    for control in [">Sync now<", rollback.as_str(), "Change settings"] {
        assert!(accountant.contains(control), "an accountant has {control}");
    }
    for control in [">Back-sync<", "Disconnect QuickBooks Online"] {
        assert!(
            !accountant.contains(control),
            "an accountant lacks {control}"
        );
    }

    sqlx::query("update tenant_user set role = 'viewer', tracktik_user_id = 1001, email = null")
        .execute(&s.app.db)
        .await
        .unwrap();
    let viewer = s.page(&dashboard).await;
    for control in [
        ">Sync now<",
        ">Back-sync<",
        "Disconnect QuickBooks Online",
        rollback.as_str(),
        "Change settings",
        "Retry INV-202",
    ] {
        assert!(!viewer.contains(control), "a viewer lacks {control}");
    }
    assert!(
        viewer.contains("/preview\">Preview<"),
        "a viewer may preview"
    );
    let documents = s.page(&format!("{dashboard}/documents")).await;
    assert!(!documents.contains("Retry INV-202"));
}
