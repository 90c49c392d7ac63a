//! Staff sign-in, the rate limit, the audit trail and the console's gate.

use crate::helpers::{TestApp, TestSettings, location};

#[tokio::test]
async fn the_support_console_sends_anyone_not_signed_in_to_the_staff_sign_in() {
    let app = TestApp::spawn().await;
    let response = app.get("/support").await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/staff/sign-in");
}

#[tokio::test]
async fn a_staff_member_signs_in_and_sees_the_empty_customer_list() {
    let app = TestApp::spawn().await;
    let email = app.sign_in_staff().await;
    let response = app.get("/support").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("No customers yet"), "{html}");
    assert!(html.contains(email), "the top bar names who is signed in");
    assert!(
        html.contains("topbar--staff"),
        "staff pages have their own top bar"
    );
}

#[tokio::test]
async fn the_console_lists_tenants_and_searches_them() {
    let app = TestApp::spawn().await;
    app.sign_in_staff().await;
    for (url, name) in [
        ("https://acme.tracktik.com", "Acme Security"),
        ("https://zeta.staffr.us", "Zeta Guards"),
    ] {
        sqlx::query("insert into tenant (portal_url, name) values ($1, $2)")
            .bind(url)
            .bind(name)
            .execute(&app.db)
            .await
            .unwrap();
    }
    let all = app.get_html("/support").await;
    assert!(all.contains("Acme Security") && all.contains("Zeta Guards"));
    let found = app.get_html("/support?q=zeta").await;
    assert!(found.contains("Zeta Guards") && !found.contains("Acme Security"));
    let none = app.get_html("/support?q=nobody").await;
    assert!(none.contains("No customer matches"));
}

#[tokio::test]
async fn signing_in_cycles_the_session_id() {
    let app = TestApp::spawn().await;
    app.add_staff("ada@ledgerbridge.test", "a long enough password")
        .await;
    let form = app.get("/staff/sign-in").await;
    assert!(
        form.cookies().all(|c| c.name() != "lb_session"),
        "showing the form stores no session"
    );
    // A session that exists before sign-in (here: a TrackTik sign-in started in the same
    // browser, as a planted session id would be) is not the one signed in.
    let started = app
        .post_form("/", "/sign-in", &[("portal", "acme.tracktik.com")])
        .await;
    let before = started
        .cookies()
        .find(|c| c.name() == "lb_session")
        .map(|c| c.value().to_owned())
        .expect("the TrackTik sign-in keeps its state in a session");
    let html = app.get_html("/staff/sign-in").await;
    let token = crate::helpers::csrf_token(&html).unwrap();
    let response = app
        .client
        .post(app.url("/staff/sign-in"))
        .form(&[
            ("email", "ada@ledgerbridge.test"),
            ("password", "a long enough password"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response
        .cookies()
        .find(|c| c.name() == "lb_session")
        .expect("a new session cookie");
    assert_ne!(
        cookie.value(),
        before,
        "the session id must change at sign-in"
    );
    assert!(cookie.http_only());
    assert!(cookie.same_site_lax());
    assert!(
        !cookie.secure(),
        "plain http in tests; https turns Secure on"
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_keeps_the_email_and_is_audited() {
    let app = TestApp::spawn().await;
    app.add_staff("ada@ledgerbridge.test", "a long enough password")
        .await;
    let response = app
        .post_form(
            "/staff/sign-in",
            "/staff/sign-in",
            &[("email", "ada@ledgerbridge.test"), ("password", "wrong")],
        )
        .await;
    assert_eq!(response.status(), 401);
    let html = response.text().await.unwrap();
    assert!(html.contains("do not match a staff account"));
    assert!(
        html.contains(r#"value="ada@ledgerbridge.test""#),
        "what was typed is kept"
    );
    assert_eq!(
        app.get("/support").await.status(),
        303,
        "still not signed in"
    );

    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_event order by audit_event_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        actions.last().map(String::as_str),
        Some("staff.sign_in_failed")
    );
}

#[tokio::test]
async fn empty_fields_are_named_in_the_error() {
    let app = TestApp::spawn().await;
    let response = app
        .post_form(
            "/staff/sign-in",
            "/staff/sign-in",
            &[("email", " "), ("password", "")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("Enter your work email address."));
    assert!(html.contains("Enter your password."));
}

#[tokio::test]
async fn a_successful_sign_in_is_audited_with_the_client_address() {
    let app = TestApp::spawn().await;
    app.sign_in_staff().await;
    let (action, label, addr): (String, String, Option<String>) = sqlx::query_as(
        "select action, actor_label, client_addr from audit_event where action = 'staff.sign_in'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(action, "staff.sign_in");
    assert_eq!(label, "ada@ledgerbridge.test");
    assert_eq!(addr.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn repeated_failures_make_the_next_try_wait_even_for_the_right_password() {
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_STAFF_MAX_FAILURES", "3".into());
    let app = TestApp::spawn_with(settings).await;
    app.add_staff("ada@ledgerbridge.test", "a long enough password")
        .await;
    for _ in 0..3 {
        let r = app
            .post_form(
                "/staff/sign-in",
                "/staff/sign-in",
                &[("email", "ada@ledgerbridge.test"), ("password", "nope")],
            )
            .await;
        assert_eq!(r.status(), 401);
    }
    let locked = app
        .post_form(
            "/staff/sign-in",
            "/staff/sign-in",
            &[
                ("email", "ADA@ledgerbridge.test"),
                ("password", "a long enough password"),
            ],
        )
        .await;
    assert_eq!(locked.status(), 429);
    let wait: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((28..=30).contains(&wait), "the first wait is 30 s: {wait}");
    assert!(
        locked
            .text()
            .await
            .unwrap()
            .contains("Too many failed sign-ins")
    );
    assert_eq!(app.get("/support").await.status(), 303);
}

#[tokio::test]
async fn signing_out_ends_the_session_and_is_audited() {
    let app = TestApp::spawn().await;
    app.sign_in_staff().await;
    let response = app.post_form("/support", "/staff/sign-out", &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/staff/sign-in");
    assert_eq!(app.get("/support").await.status(), 303);
    let n: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'staff.sign_out'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_staff_password_shorter_than_twelve_characters_is_refused() {
    let app = TestApp::spawn().await;
    let err = ledgerbridge::staff::add(
        &app.db,
        "bob@ledgerbridge.test",
        ledgerbridge::staff::StaffRole::Admin,
        "short",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("at least 12 characters"));
}
