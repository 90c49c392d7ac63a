//! Express setup through the wizard, and a later change to the active integration in its history.

use super::*;

#[tokio::test]
async fn express_setup_creates_the_defaults_in_quickbooks_and_the_review_lists_them() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected(&app).await;
    let r = post_step(&app, &id, "method", &[("setup_method", "express")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(regions_as_proposed(&app, &id).await.status(), 303);
    let billing = app
        .get_html(&format!("/integrations/{id}/setup/billing"))
        .await;
    assert!(billing.contains("TrackTik Service Income"), "{billing}");
    assert!(
        !billing.contains("<select id=\"default_item\""),
        "Express shows the defaults read-only"
    );
    assert_eq!(post_step(&app, &id, "billing", &[]).await.status(), 303);
    let payroll = app
        .get_html(&format!("/integrations/{id}/setup/payroll"))
        .await;
    assert!(
        payroll.contains("TrackTik Direct Wages Liability"),
        "{payroll}"
    );
    let names: Vec<String> = sqlx::query_scalar(
        "select o->>'name' from integration, jsonb_array_elements(express_outcome->'objects') o where integration_id = $1::uuid",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(
        names.iter().any(|n| n == "TrackTik Direct Wages"),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n == "TrackTik Automated Calculated Tax"),
        "{names:?}"
    );

    for step in ["payroll", "taxes"] {
        assert_eq!(post_step(&app, &id, step, &[]).await.status(), 303);
    }
    let start = today();
    let mut fields = SCHEDULE_OK.to_vec();
    fields.push(("start_date", &start));
    assert_eq!(
        post_step(&app, &id, "schedule", &fields).await.status(),
        303
    );
    let review = app
        .get_html(&format!("/integrations/{id}/setup/review"))
        .await;
    assert!(
        review.contains("What Express setup did in QuickBooks"),
        "{review}"
    );
    assert!(
        review.contains("TT-3000") || review.contains("account numbers"),
        "{review}"
    );
    assert!(review.contains("Created"), "{review}");
    assert!(review.contains("Ready to activate"), "{review}");
    let r = post_step(&app, &id, "review", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(state_of(&app, &id).await, "active");
    assert_eq!(audited(&app, "integration.express_setup").await, 1);

    // Running Express again reuses everything and creates nothing.
    let r = post_step(&app, &id, "method", &[("setup_method", "express")]).await;
    assert_eq!(r.status(), 303);
    let created: i64 = sqlx::query_scalar(
        "select count(*) from integration, jsonb_array_elements(express_outcome->'objects') o
         where integration_id = $1::uuid and o->>'action' like 'Created%'",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(created, 0);
}

#[tokio::test]
async fn changing_a_setting_of_an_active_integration_is_recorded_with_before_and_after() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected(&app).await;
    express_and_activate(&app, &id).await;
    let before: i64 =
        sqlx::query_scalar("select count(*) from settings_change where integration_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();

    let schedule = app
        .get_html(&format!("/integrations/{id}/setup/schedule"))
        .await;
    assert!(
        schedule.contains("This integration is active"),
        "{schedule}"
    );
    let start = today();
    let mut fields: Vec<(&str, &str)> = SCHEDULE_OK
        .iter()
        .copied()
        .filter(|(k, _)| *k != "cutoff")
        .collect();
    fields.push(("cutoff", "04:30"));
    fields.push(("start_date", &start));
    assert_eq!(
        post_step(&app, &id, "schedule", &fields).await.status(),
        303
    );

    let (step, old, new, who): (String, String, String, String) = sqlx::query_as(
        "select step, before->'schedule'->>'cutoff', after->'schedule'->>'cutoff', actor_label from settings_change
         where integration_id = $1::uuid order by settings_change_id desc limit 1",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(step, "schedule");
    assert_eq!(old, "03:00:00");
    assert_eq!(new, "04:30:00");
    assert!(!who.is_empty());
    let after: i64 =
        sqlx::query_scalar("select count(*) from settings_change where integration_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(after, before + 1);
    assert_eq!(state_of(&app, &id).await, "active", "still active");
    let review = app
        .get_html(&format!("/integrations/{id}/setup/review"))
        .await;
    assert!(
        review.contains("History of changes")
            && review.contains("Schedule: End of trading day")
            && review.contains("04:30 the next morning"),
        "{review}"
    );
    assert!(
        !review.contains("schedule.cutoff") && !review.contains("PayrollWageExpenses"),
        "never field paths or API names: {review}"
    );
}
