//! An expert request in the staff queue: a read-only draft, notes and done, each one audited.

use super::*;

#[tokio::test]
async fn an_expert_request_reaches_the_staff_queue_with_a_read_only_audited_draft_notes_and_done() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected(&app).await;
    assert_eq!(
        post_step(&app, &id, "method", &[("setup_method", "advanced")])
            .await
            .status(),
        303
    );
    assert_eq!(regions_as_proposed(&app, &id).await.status(), 303);
    let billing = app
        .get_html(&format!("/integrations/{id}/setup/billing"))
        .await;
    assert!(billing.contains(&format!("/integrations/{id}/expert?from=billing")));

    // Requests are no longer made from the web (sessions are booked in slots); one made
    // before stays readable for the customer and in the staff queue.
    let (tenant, integration): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select tenant_id, integration_id from integration where integration_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let request = ledgerbridge::wizard::db::insert_request(
        &app.db,
        ledgerbridge::ids::TenantId(tenant),
        ledgerbridge::ids::IntegrationId(integration),
        ledgerbridge::wizard::Step::Billing,
        "Tuesday 9-11 Eastern",
        "Help with taxes",
        "Dana",
    )
    .await
    .unwrap();
    let sent = format!("/integrations/{id}/expert/{request}");
    let page = app.get_html(&sent).await;
    assert!(
        page.contains("Request sent") && page.contains("Tuesday 9-11 Eastern"),
        "{page}"
    );
    let request_id = sent.rsplit('/').next().unwrap().to_owned();

    app.sign_in_staff().await;
    let queue = app.get_html("/support/requests").await;
    assert!(
        queue.contains("Tuesday 9-11 Eastern") && queue.contains("Open"),
        "{queue}"
    );
    assert!(queue.contains(&format!("/support/requests/{request_id}")));
    let view = app
        .get_html(&format!("/support/requests/{request_id}"))
        .await;
    assert!(
        view.contains("read-only") && view.contains("Help with taxes"),
        "{view}"
    );
    assert!(
        view.contains("Setup method") && view.contains("Advanced"),
        "every answer of the draft: {view}"
    );
    assert!(!view.contains("<select"), "nothing editable");
    assert_eq!(audited(&app, "staff.viewed_draft").await, 1);

    let page = format!("/support/requests/{request_id}");
    let r = app
        .post_form(&page, &format!("{page}/notes"), &[("body", "")])
        .await;
    assert_eq!(r.status(), 422);
    let r = app
        .post_form(
            &page,
            &format!("{page}/notes"),
            &[("body", "Called; booked Tuesday 10:00")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        app.get_html(&page)
            .await
            .contains("Called; booked Tuesday 10:00")
    );
    assert_eq!(audited(&app, "staff.noted_request").await, 1);
    let r = app.post_form(&page, &format!("{page}/done"), &[]).await;
    assert_eq!(r.status(), 303);
    let status: String = sqlx::query_scalar(
        "select status::text from support_request where support_request_id = $1::uuid",
    )
    .bind(&request_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(status, "done");
    assert_eq!(audited(&app, "staff.closed_request").await, 1);
    assert!(app.get_html("/support/requests").await.contains("Done"));
}
