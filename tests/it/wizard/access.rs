//! Who reaches the wizard and the queue: other tenants, visitors, staff, posts without a token.

use super::*;

#[tokio::test]
async fn another_tenants_integration_is_not_found_on_every_wizard_route() {
    let app = TestApp::spawn_with_sandboxes().await;
    let _mine = connected(&app).await;
    let other_tenant: uuid::Uuid = sqlx::query_scalar("insert into tenant (portal_url, name) values ('https://other.tracktik.test', 'Other') returning tenant_id")
        .fetch_one(&app.db).await.unwrap();
    let other: uuid::Uuid = sqlx::query_scalar("insert into integration (tenant_id, realm_id, company_name, country, home_currency) values ($1, '42', 'Other Co', 'US', 'USD') returning integration_id")
        .bind(other_tenant).fetch_one(&app.db).await.unwrap();
    let request: uuid::Uuid = sqlx::query_scalar("insert into support_request (tenant_id, integration_id, step, preferred_times, requested_by) values ($1, $2, 'billing', 'any', 'x') returning support_request_id")
        .bind(other_tenant).bind(other).fetch_one(&app.db).await.unwrap();

    let mut gets = vec![
        format!("/integrations/{other}/setup"),
        format!("/integrations/{other}/expert"),
        format!("/integrations/{other}/expert/{request}"),
    ];
    for step in [
        "connect", "method", "regions", "billing", "payroll", "taxes", "schedule", "review",
    ] {
        gets.push(format!("/integrations/{other}/setup/{step}"));
    }
    for path in &gets {
        assert_eq!(app.get(path).await.status(), 404, "GET {path}");
    }
    let mut posts = vec![format!("/integrations/{other}/expert")];
    for step in [
        "connect", "method", "regions", "billing", "payroll", "taxes", "schedule", "review",
    ] {
        posts.push(format!("/integrations/{other}/setup/{step}"));
    }
    for path in &posts {
        let r = app
            .post_form(
                "/integrations",
                path,
                &[("setup_method", "advanced"), ("preferred_times", "x")],
            )
            .await;
        assert_eq!(r.status(), 404, "POST {path}");
    }
    let untouched: (String, i64) = sqlx::query_as("select wizard_step, (select count(*) from support_request where tenant_id = $1) from integration where integration_id = $2")
        .bind(other_tenant).bind(other).fetch_one(&app.db).await.unwrap();
    assert_eq!(untouched, ("setup_method".to_owned(), 1));
}

#[tokio::test]
async fn wizard_pages_are_for_customers_the_queue_is_for_staff_and_every_post_needs_the_form_token()
{
    let app = TestApp::spawn().await;
    let tenant: uuid::Uuid = sqlx::query_scalar("insert into tenant (portal_url, name) values ('https://sweep.tracktik.test', 'Sweep') returning tenant_id")
        .fetch_one(&app.db).await.unwrap();
    let integration: uuid::Uuid = sqlx::query_scalar("insert into integration (tenant_id, realm_id, company_name, country, home_currency) values ($1, '42', 'Sweep Books', 'US', 'USD') returning integration_id")
        .bind(tenant).fetch_one(&app.db).await.unwrap();
    let request: uuid::Uuid = sqlx::query_scalar("insert into support_request (tenant_id, integration_id, step, preferred_times, requested_by) values ($1, $2, 'billing', 'Monday', 'Sam') returning support_request_id")
        .bind(tenant).bind(integration).fetch_one(&app.db).await.unwrap();
    let mut customer_get = vec![
        format!("/integrations/{integration}/setup"),
        format!("/integrations/{integration}/expert"),
        format!("/integrations/{integration}/expert/{request}"),
    ];
    let mut posts = vec![
        format!("/integrations/{integration}/expert"),
        format!("/support/requests/{request}/notes"),
        format!("/support/requests/{request}/done"),
    ];
    for step in [
        "connect", "method", "regions", "billing", "payroll", "taxes", "schedule", "review",
    ] {
        customer_get.push(format!("/integrations/{integration}/setup/{step}"));
        posts.push(format!("/integrations/{integration}/setup/{step}"));
    }
    let staff_get = [
        "/support/requests".to_owned(),
        format!("/support/requests/{request}"),
    ];

    let anonymous = client();
    for path in &customer_get {
        let r = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/".to_owned()),
            "GET {path}"
        );
    }
    for path in &staff_get {
        let r = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/staff/sign-in".to_owned()),
            "GET {path}"
        );
    }
    app.get("/").await; // a session with a token the posts below do not send
    for path in &posts {
        let r = app
            .client
            .post(app.url(path))
            .form(&[("setup_method", "advanced")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "POST {path} without a token");
    }
    app.sign_in_staff().await;
    for path in &customer_get {
        let r = app.get(path).await;
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/".to_owned()),
            "staff on GET {path}"
        );
    }
    for path in &staff_get {
        assert_eq!(app.get(path).await.status(), 200, "staff on GET {path}");
    }
    assert_eq!(
        app.get(&format!("/support/requests/{}", uuid::Uuid::new_v4()))
            .await
            .status(),
        404
    );
    assert_eq!(app.get("/support/requests/not-an-id").await.status(), 404);
}
