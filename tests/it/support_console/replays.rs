//! Staff replays of a document or a day: queued once, audited, refused when they must be.

use super::*;

#[tokio::test]
async fn replaying_a_failed_document_asks_once_queues_one_retry_and_is_audited() {
    let app = TestApp::spawn().await;
    let h = seed(&app.db).await;
    app.sign_in_staff_as(StaffRole::Admin).await;
    let page = format!("/support/documents/{}/replay", h.failed_doc);

    let confirm = app.get_html(&page).await;
    assert!(confirm.contains("Replay invoice INV-1001 of Acme Books?"));
    assert!(
        confirm.contains("new request id"),
        "it says what will happen"
    );
    assert!(jobs(&app.db).await.is_empty(), "asking queues nothing");

    let r = app.post_form(&page, &page, &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(
        location(&r),
        format!("/support/runs?integration={}&queued=added", h.acme_books)
    );
    let queued = jobs(&app.db).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["integration_id"], json!(h.acme_books));
    assert_eq!(queued[0]["request"]["kind"], json!("asked"));
    assert_eq!(queued[0]["request"]["retry"], json!([h.failed_doc]));
    assert_eq!(
        queued[0]["request"]["by_support"],
        json!(true),
        "a replay is support's, never shown as the customer's"
    );
    let audited = audit_actions(&app.db, "staff.replayed_document").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].0, Some(h.acme));
    assert_eq!(audited[0].1["ledger_entry"], json!(h.failed_doc));
    assert_eq!(audited[0].1["document"], json!("invoice INV-1001"));

    let after = app.get_html(&location(&r)).await;
    assert!(after.contains("Replay queued."));

    // A second click while the first is waiting adds nothing.
    let again = app.post_form(&page, &page, &[]).await;
    assert!(location(&again).ends_with("queued=already_queued"));
    assert_eq!(jobs(&app.db).await.len(), 1);
}

#[tokio::test]
async fn a_posted_document_is_never_replayed() {
    let app = TestApp::spawn().await;
    let h = seed(&app.db).await;
    app.sign_in_staff_as(StaffRole::Admin).await;
    let page = format!("/support/documents/{}/replay", h.posted_doc);

    let confirm = app.get_html(&page).await;
    assert!(confirm.contains("already in QuickBooks as Invoice INV-1003"));
    assert!(confirm.contains("never posts a document twice"));
    assert!(
        !confirm.contains(&format!("action=\"{page}\"")),
        "no replay button"
    );

    // Even a hand-made POST is refused, and nothing is queued or recorded.
    let token = csrf_token(&confirm).unwrap();
    let r = app
        .client
        .post(app.url(&page))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("never posts a document twice")
    );
    assert!(jobs(&app.db).await.is_empty());
    assert!(
        audit_actions(&app.db, "staff.replayed_document")
            .await
            .is_empty()
    );
    let state: String =
        sqlx::query_scalar("select state::text from ledger_entry where ledger_entry_id = $1")
            .bind(h.posted_doc)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(state, "posted");
}

#[tokio::test]
async fn replaying_a_day_retries_its_failed_documents_queues_a_run_of_the_day_and_is_audited() {
    let app = TestApp::spawn().await;
    let h = seed(&app.db).await;
    app.sign_in_staff_as(StaffRole::Admin).await;
    let day = days_ago(1);
    let page = format!("/support/replay-day?integration={}&day={day}", h.acme_books);

    let confirm = app.get_html(&page).await;
    assert!(confirm.contains(&format!("Replay trading day {day} of Acme Books?")));
    assert!(confirm.contains("1 failed document of"), "{confirm}");
    assert!(confirm.contains("invoice INV-1002"));

    let r = app
        .post_form(
            &page,
            "/support/replay-day",
            &[
                ("integration", &h.acme_books.to_string()),
                ("day", &day.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let queued = jobs(&app.db).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["day"], json!(day));
    assert_eq!(queued[0]["request"]["kind"], json!("asked"));
    assert_eq!(queued[0]["request"]["sync_now"], json!(true));
    assert_eq!(queued[0]["request"]["by_support"], json!(true));

    // The day's failed document has a new attempt; the other day's is untouched.
    let states: Vec<(i64, String, i32)> = sqlx::query_as(
        "select ledger_entry_id, state::text, generation from ledger_entry
         where ledger_entry_id = any($1) order by ledger_entry_id",
    )
    .bind(vec![h.failed_doc, h.yesterday_failed])
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        states,
        vec![
            (h.failed_doc, "failed".into(), 0),
            (h.yesterday_failed, "pending".into(), 1)
        ]
    );

    let audited = audit_actions(&app.db, "staff.replayed_day").await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].0, Some(h.acme));
    assert_eq!(audited[0].1["day"], json!(day));
    assert_eq!(audited[0].1["documents_reset"], json!(1));

    // The audit log page shows it, and filters by tenant.
    let log = app.get_html("/support/audit").await;
    assert!(body_rows(&log).contains("Replayed a day"));
    assert!(body_rows(&log).contains("ada@ledgerbridge.test"));
    let other = app
        .get_html(&format!("/support/audit?tenant={}", h.borealis))
        .await;
    assert!(!other.contains("Replayed a day"));
}

#[tokio::test]
async fn a_day_of_an_integration_that_cannot_sync_or_in_the_future_is_not_replayed() {
    let app = TestApp::spawn().await;
    let h = seed(&app.db).await;
    app.sign_in_staff_as(StaffRole::Admin).await;
    let borealis_books: IntegrationId =
        sqlx::query_scalar("select integration_id from integration where realm_id = '3333'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let day = days_ago(1);
    let page = format!("/support/replay-day?integration={borealis_books}&day={day}");
    let confirm = app.get_html(&page).await;
    assert!(confirm.contains("cannot be replayed now"));
    assert!(confirm.contains("needs reconnect"));
    let r = app
        .post_form(
            &page,
            "/support/replay-day",
            &[
                ("integration", &borealis_books.to_string()),
                ("day", &day.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);

    let tomorrow = today().succ_opt().unwrap().succ_opt().unwrap();
    let future = app
        .get_html(&format!(
            "/support/replay-day?integration={}&day={tomorrow}",
            h.acme_books
        ))
        .await;
    assert!(future.contains("has not happened yet"));
    assert!(jobs(&app.db).await.is_empty());
    assert!(
        audit_actions(&app.db, "staff.replayed_day")
            .await
            .is_empty()
    );
    let reset: i64 =
        sqlx::query_scalar("select count(*) from ledger_entry where state = 'pending'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(reset, 0, "nothing was reset");
}
