//! A sweep over every route: who may reach it, and that every state-changing route demands
//! the form token. When a route is added to `web::router`, add it here too.

use crate::helpers::{TestApp, client, location};

/// Pages for signed-in customers: `{id}` is replaced by an integration id.
const CUSTOMER_GET: &[&str] = &[
    "/integrations",
    "/integrations/{id}",
    "/integrations/{id}/disconnect",
    "/integrations/{id}/documents",
    "/integrations/{id}/preview",
    "/integrations/{id}/progress",
];
const CUSTOMER_POST: &[&str] = &[
    "/integrations/connect",
    "/integrations/{id}/reconnect",
    "/integrations/{id}/disconnect",
    "/integrations/{id}/setup/method",
    "/integrations/{id}/setup/review",
    "/integrations/{id}/expert",
    "/integrations/{id}/sync-now",
    "/integrations/{id}/retry",
    "/integrations/{id}/back-sync",
    "/sign-out",
    "/support/requests/{id}/notes",
    "/support/requests/{id}/done",
    "/support/documents/1/replay",
    "/support/replay-day",
];
/// Pages for staff: `{tenant}` is replaced by a tenant id.
const STAFF_GET: &[&str] = &[
    "/support",
    "/support/tenants/{tenant}",
    "/support/requests",
    "/support/integrations",
    "/support/runs",
    "/support/failures",
    "/support/audit",
    "/support/replay-day?integration={id}&day=2026-01-01",
    "/support/integrations/{id}",
    "/support/integrations/{id}/documents",
    "/support/integrations/{id}/progress",
];
/// Public pages.
const PUBLIC_GET: &[&str] = &[
    "/",
    "/staff/sign-in",
    "/healthz",
    "/readyz",
    "/metrics",
    "/static/app.css",
];
const PUBLIC_POST: &[&str] = &["/sign-in", "/staff/sign-in", "/staff/sign-out"];

async fn ids(app: &TestApp) -> (String, String) {
    let tenant: uuid::Uuid = sqlx::query_scalar(
        "insert into tenant (portal_url, name) values ('https://sweep.tracktik.com', 'Sweep Co') returning tenant_id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let integration: uuid::Uuid = sqlx::query_scalar(
        "insert into integration (tenant_id, realm_id, company_name, country, home_currency) values ($1, '42', 'Sweep Books', 'US', 'USD') returning integration_id",
    )
    .bind(tenant)
    .fetch_one(&app.db)
    .await
    .unwrap();
    (tenant.to_string(), integration.to_string())
}

fn fill(path: &str, tenant: &str, integration: &str) -> String {
    path.replace("{id}", integration)
        .replace("{tenant}", tenant)
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in_from_every_private_page() {
    let app = TestApp::spawn().await;
    let (tenant, integration) = ids(&app).await;
    let anonymous = client();
    for path in CUSTOMER_GET {
        let r = anonymous
            .get(app.url(&fill(path, &tenant, &integration)))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/".to_owned()),
            "GET {path}"
        );
    }
    for path in STAFF_GET {
        let r = anonymous
            .get(app.url(&fill(path, &tenant, &integration)))
            .send()
            .await
            .unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/staff/sign-in".to_owned()),
            "GET {path}"
        );
    }
    for path in PUBLIC_GET {
        let r = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "GET {path} is public");
    }
}

#[tokio::test]
async fn every_state_changing_route_refuses_a_post_without_the_form_token() {
    let app = TestApp::spawn().await;
    let (tenant, integration) = ids(&app).await;
    app.get("/").await; // a session exists, with a token the posts below do not send
    for path in CUSTOMER_POST.iter().chain(PUBLIC_POST) {
        let r = app
            .client
            .post(app.url(&fill(path, &tenant, &integration)))
            .form(&[("portal", "https://acme.tracktik.com")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "POST {path} without a token");
    }
}

#[tokio::test]
async fn a_staff_session_is_not_a_customer_session_and_the_other_way_round() {
    let app = TestApp::spawn().await;
    let (tenant, integration) = ids(&app).await;
    app.sign_in_staff().await;
    for path in CUSTOMER_GET {
        let r = app.get(&fill(path, &tenant, &integration)).await;
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/".to_owned()),
            "staff on GET {path}"
        );
    }
    for path in STAFF_GET {
        assert_eq!(
            app.get(&fill(path, &tenant, &integration)).await.status(),
            200,
            "staff on GET {path}"
        );
    }
}

#[tokio::test]
async fn an_unknown_tenant_in_the_console_is_404_and_a_malformed_id_is_404() {
    let app = TestApp::spawn().await;
    app.sign_in_staff().await;
    assert_eq!(
        app.get(&format!("/support/tenants/{}", uuid::Uuid::new_v4()))
            .await
            .status(),
        404
    );
    assert_eq!(app.get("/support/tenants/not-an-id").await.status(), 404);
}
