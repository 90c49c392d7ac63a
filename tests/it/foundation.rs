//! The web shell: health, metrics, security headers, migrations, CSRF and errors.

use ledgerbridge::db;
use sqlx::Connection;

use crate::helpers::{TestApp, TestDb, client, csrf_token};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok\n");
}

#[tokio::test]
async fn readyz_answers_ready_while_the_database_answers_and_503_when_it_does_not() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    app.db.close().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), "database unavailable\n");
}

#[tokio::test]
async fn metrics_are_exposed_in_prometheus_format_with_route_templates() {
    let mut settings = crate::helpers::TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_METRICS_ON_WEB", "true".into());
    let app = TestApp::spawn_with(settings).await;
    app.get("/healthz").await;
    app.get("/no/such/page").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let body = response.text().await.unwrap();
    assert!(
        body.contains("# TYPE ledgerbridge_http_requests counter"),
        "{body}"
    );
    assert!(
        body.contains(
            r#"ledgerbridge_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{body}"
    );
    assert!(body.contains(r#"route="unmatched",status="404""#), "{body}");
    assert!(
        body.contains("ledgerbridge_http_request_duration_seconds_bucket"),
        "{body}"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers_and_a_request_id() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/staff/sign-in",
        "/no/such/page",
        "/healthz",
        "/static/app.css",
    ] {
        let response = app.get(path).await;
        let h = response.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert!(
            !csp.contains("unsafe-inline"),
            "{path}: inline scripts must stay off"
        );
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            h["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        assert!(!h["x-request-id"].is_empty(), "{path}");
    }
}

#[tokio::test]
async fn a_request_id_sent_by_a_proxy_is_kept() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "proxy-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "proxy-42");
}

#[tokio::test]
async fn an_unknown_page_renders_the_error_page_with_its_reference() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(app.url("/nowhere"))
        .header("x-request-id", "ref-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
    assert!(
        html.contains("ref-123"),
        "the page shows the reference for support"
    );
}

#[tokio::test]
async fn the_landing_page_says_what_ledgerbridge_does() {
    let app = TestApp::spawn().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("exactly once"));
    assert!(html.contains("/static/app.css"));
    assert!(html.contains(r##"<a class="skip-link" href="#main">"##));
}

#[tokio::test]
async fn the_stylesheet_is_served_and_unknown_assets_are_404() {
    let app = TestApp::spawn().await;
    let css = app.get("/static/app.css").await;
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    assert!(css.text().await.unwrap().contains(":focus-visible"));
    assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
    assert_eq!(app.get("/static/nothing.js").await.status(), 404);
}

#[tokio::test]
async fn a_form_post_without_its_token_is_refused() {
    let app = TestApp::spawn().await;
    app.get("/staff/sign-in").await; // the session now holds a token
    let response = app
        .client
        .post(app.url("/staff/sign-in"))
        .form(&[("email", "a@b.c"), ("password", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("This form has expired")
    );
}

#[tokio::test]
async fn a_form_post_with_another_sessions_token_is_refused() {
    let app = TestApp::spawn().await;
    let other = client();
    let html = other
        .get(app.url("/staff/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let foreign_token = csrf_token(&html).unwrap();
    app.get("/staff/sign-in").await;
    let response = app
        .client
        .post(app.url("/staff/sign-in"))
        .form(&[
            ("email", "a@b.c"),
            ("password", "x"),
            ("csrf_token", &foreign_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_cross_site_post_is_refused_even_with_a_valid_token() {
    let app = TestApp::spawn().await;
    let html = app.get_html("/staff/sign-in").await;
    let token = csrf_token(&html).unwrap();
    let fields = [
        ("email", "a@b.c"),
        ("password", "x"),
        ("csrf_token", token.as_str()),
    ];

    let from_elsewhere = app
        .client
        .post(app.url("/staff/sign-in"))
        .header("origin", "https://evil.example")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(from_elsewhere.status(), 403);

    let fetch_metadata = app
        .client
        .post(app.url("/staff/sign-in"))
        .header("sec-fetch-site", "cross-site")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_metadata.status(), 403);

    let same_origin = app
        .client
        .post(app.url("/staff/sign-in"))
        .header("origin", app.base_url.clone())
        .header("sec-fetch-site", "same-origin")
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(
        same_origin.status(),
        401,
        "our own origin reaches the handler"
    );
}

#[tokio::test]
async fn a_json_post_is_refused() {
    let app = TestApp::spawn().await;
    app.get("/staff/sign-in").await;
    let response = app
        .client
        .post(app.url("/staff/sign-in"))
        .json(&serde_json::json!({"email": "a@b.c"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn migrations_apply_on_a_new_database_revert_cleanly_and_apply_again() {
    let test_db = TestDb::new().await;
    let pool = db::connect(&test_db.url, 2).await.unwrap();
    db::migrate(&pool).await.unwrap();
    let tables = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, String>(
            "select table_name::text from information_schema.tables where table_schema = 'public' order by 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let before = tables(pool.clone()).await;
    for t in [
        "tenant",
        "staff_user",
        "staff_sign_in_attempt",
        "audit_event",
    ] {
        assert!(
            before.contains(&t.to_owned()),
            "{t} missing from {before:?}"
        );
    }

    db::migrator().undo(&pool, 0).await.unwrap();
    let after = tables(pool.clone()).await;
    for t in [
        "tenant",
        "staff_user",
        "staff_sign_in_attempt",
        "audit_event",
    ] {
        assert!(
            !after.contains(&t.to_owned()),
            "{t} survived the down migration"
        );
    }

    db::migrate(&pool).await.unwrap();
    assert_eq!(tables(pool.clone()).await, before);
    // And a second run is a no-op.
    db::migrate(&pool).await.unwrap();
    pool.close().await;
}

#[tokio::test]
async fn connecting_creates_a_missing_database() {
    let test_db = TestDb::new().await;
    // Point at a sibling name that does not exist yet.
    let url = test_db
        .url
        .replace(&test_db.name, &format!("{}_new", test_db.name));
    let pool = db::connect(&url, 1).await.expect("database created");
    let one: i32 = sqlx::query_scalar("select 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(one, 1);
    pool.close().await;
    let mut admin = sqlx::PgConnection::connect(&test_db.url).await.unwrap();
    sqlx::query(&format!(
        "drop database \"{}_new\" with (force)",
        test_db.name
    ))
    .execute(&mut admin)
    .await
    .unwrap();
}

#[tokio::test]
async fn behind_https_cookies_are_secure_and_browsers_are_told_to_stay_on_https() {
    let mut settings = crate::helpers::TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_PUBLIC_URL", "https://lb.example.com".into());
    // Off this machine the demo's client secrets are refused at start.
    settings
        .env
        .insert("TRACKTIK_CLIENT_SECRET", "tt-test-secret".into());
    settings
        .env
        .insert("QUICKBOOKS_CLIENT_SECRET", "qbo-test-secret".into());
    let app = TestApp::spawn_with(settings).await;
    let response = app.get("/staff/sign-in").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let form_token = response
        .cookies()
        .find(|c| c.name() == "lb_csrf")
        .expect("the anonymous form token's cookie");
    assert!(form_token.secure() && form_token.http_only() && form_token.same_site_strict());
    let html = response.text().await.unwrap();
    let started = app
        .client
        .post(app.url("/sign-in"))
        .form(&[
            ("portal", "acme.tracktik.com"),
            ("csrf_token", &csrf_token(&html).unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let cookie = started
        .cookies()
        .find(|c| c.name() == "lb_session")
        .expect("a session cookie once there is something to keep");
    assert!(cookie.secure() && cookie.http_only() && cookie.same_site_lax());
    // Over plain http there is no HSTS.
    let plain = TestApp::spawn().await;
    assert!(
        plain
            .get("/")
            .await
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
}

#[test]
fn a_bad_setting_stops_the_program_with_a_message_naming_the_variable() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerbridge"))
        .arg("migrate")
        .env("LEDGERBRIDGE_WORKER_CONCURRENCY", "lots")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("LEDGERBRIDGE_WORKER_CONCURRENCY"),
        "{stderr}"
    );
    assert!(
        stderr.contains("whole number greater than zero"),
        "{stderr}"
    );
}

#[tokio::test]
async fn staff_add_on_the_command_line_creates_an_account_that_can_sign_in() {
    let app = TestApp::spawn().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerbridge"))
        .args(["staff", "add", "grace@ledgerbridge.test", "--role", "admin"])
        .env("DATABASE_URL", &app.db_url)
        .env("LEDGERBRIDGE_STAFF_PASSWORD", "twelve chars or more")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("grace@ledgerbridge.test saved with role Admin")
    );
    let response = app
        .post_form(
            "/staff/sign-in",
            "/staff/sign-in",
            &[
                ("email", "grace@ledgerbridge.test"),
                ("password", "twelve chars or more"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
}
