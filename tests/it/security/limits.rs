//! What one customer or visitor can make the server do (issue 16, items 5, 6, 10 and the
//! form token's rotation in 11): length limits on free text, NUL bytes refused with the field
//! named, manual runs limited per tenant, no session row for a cookieless visit, and a new
//! form token at every sign-in.

use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
use ledgerbridge::staff::StaffRole;

use crate::helpers::{TestApp, TestSettings, client, csrf_token, location};

async fn session_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from tower_sessions.session")
        .fetch_one(&app.db)
        .await
        .unwrap_or(0)
}

/// Signs in with TrackTik, connects the US company; returns the integration id.
async fn connected(app: &TestApp) -> String {
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let done = app.connect_quickbooks(US_REALM_ID, None).await;
    assert_eq!(done.status(), 303);
    location(&done)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .to_owned()
}

#[tokio::test]
async fn a_cookieless_visit_writes_no_session_row_and_its_form_still_works() {
    let app = TestApp::spawn().await;
    for _ in 0..20 {
        for page in ["/", "/staff/sign-in"] {
            let r = client().get(app.url(page)).send().await.unwrap();
            assert_eq!(r.status(), 200);
            assert!(
                r.cookies().any(|c| c.name() == "lb_csrf"),
                "a form token cookie"
            );
            assert!(r.cookies().all(|c| c.name() != "lb_session"));
        }
    }
    assert_eq!(
        session_rows(&app).await,
        0,
        "200 cookieless visits, no session row"
    );
    // The form of such a visit is accepted (and only with its own token).
    let started = app
        .post_form("/", "/sign-in", &[("portal", "acme.tracktik.com")])
        .await;
    assert_eq!(started.status(), 303);
    assert_eq!(
        session_rows(&app).await,
        1,
        "a session once there is state to keep"
    );
    let html = app.get_html("/").await;
    let stranger = client();
    let forged = stranger
        .post(app.url("/sign-in"))
        .form(&[
            ("portal", "acme.tracktik.com"),
            ("csrf_token", &csrf_token(&html).unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "another browser's token is refused");
}

#[tokio::test]
async fn the_form_token_changes_when_a_customer_or_a_staff_member_signs_in() {
    let app = TestApp::spawn_with_sandboxes().await;
    let before = csrf_token(&app.get_html("/").await).unwrap();
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let after = csrf_token(&app.get_html("/integrations").await).unwrap();
    assert_ne!(before, after, "a customer's sign-in rotates the token");
    let stale = app
        .client
        .post(app.url("/integrations/connect"))
        .form(&[("csrf_token", before.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        stale.status(),
        403,
        "the token from before sign-in no longer works"
    );

    let staff = TestApp::spawn().await;
    let before = csrf_token(&staff.get_html("/staff/sign-in").await).unwrap();
    staff.sign_in_staff().await;
    let after = csrf_token(&staff.get_html("/support").await).unwrap();
    assert_ne!(before, after, "a staff sign-in rotates the token");
}

#[tokio::test]
async fn an_expert_request_refuses_overlong_text_and_stores_nothing() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected(&app).await;
    let form = format!("/integrations/{id}/expert");
    let long = "Tuesday mornings ".repeat(130);
    let r = app
        .post_form(
            &form,
            &form,
            &[
                ("from", "billing"),
                ("contact", "video"),
                ("topic", &long),
                ("email", "dana@acme.example"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("2,000 characters or fewer"), "{html}");
    assert!(html.contains("Tuesday mornings"), "what was typed is kept");
    // 1.9 MB, as in the review: refused before any handler.
    let huge = "x".repeat(1_900_000);
    let r = app
        .post_form(&form, &form, &[("topic", &huge), ("contact", "video")])
        .await;
    assert_eq!(r.status(), 400);
    let stored: i64 = sqlx::query_scalar("select count(*) from expert_session")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn every_posted_field_has_a_length_limit_named_in_the_refusal() {
    let app = TestApp::spawn().await;
    let r = app
        .post_form(
            "/staff/sign-in",
            "/staff/sign-in",
            &[("email", &"a".repeat(10_001)), ("password", "x")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("“email”") && html.contains("10,000"),
        "{html}"
    );
    let attempts: i64 = sqlx::query_scalar("select count(*) from staff_sign_in_attempt")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(attempts, 0);
}

#[tokio::test]
async fn a_nul_byte_in_a_search_or_filter_is_a_400_that_names_the_field() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected(&app).await;
    for path in [
        format!("/integrations/{id}/documents?q=%00"),
        format!("/integrations/{id}/documents?state=failed&code=a%00b"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status(), 400, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("NUL"), "{path}: {html}");
    }
    assert!(
        app.get(&format!("/integrations/{id}/documents?q=%00"))
            .await
            .text()
            .await
            .unwrap()
            .contains("“q”")
    );
    let staff = TestApp::spawn().await;
    staff.sign_in_staff_as(StaffRole::Admin).await;
    for path in [
        "/support?q=%00",
        "/support/integrations?q=a%00",
        "/support/failures?code=%00",
    ] {
        let r = staff.get(path).await;
        assert_eq!(r.status(), 400, "{path}");
    }
    let r = staff
        .get(&format!("/support?q={}", "a".repeat(1_001)))
        .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn manual_runs_are_limited_per_tenant() {
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_MANUAL_RUNS_PER_HOUR", "2".into());
    let app = TestApp::spawn_with_sandboxes_and(settings).await;
    let id = connected(&app).await;
    let dashboard = format!("/integrations/{id}");
    for action in ["sync-now", "retry"] {
        let r = app
            .post_form(&dashboard, &format!("/integrations/{id}/{action}"), &[])
            .await;
        assert_ne!(r.status(), 429, "{action} is within the allowance");
    }
    let limited = app
        .post_form(
            &dashboard,
            &format!("/integrations/{id}/back-sync"),
            &[("from", "2026-01-01"), ("to", "2026-01-02")],
        )
        .await;
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    assert!(
        limited
            .text()
            .await
            .unwrap()
            .contains("the nightly sync still runs")
    );
}
