//! A sweep over every route: who may reach it, and that every state-changing route demands
//! the form token. When a route is added to `web::router`, add it here too.
//!
//! The submodules hold the hardening of issue 16, one area each: where the server connects
//! (`portal`), staff sign-in and roles (`staff`), limits on what one caller can make the
//! server do (`limits`), portal users' roles (`roles`), defence in depth (`depth`), and the
//! compose set-up run as two processes (`compose`).

mod compose;
mod depth;
mod limits;
mod portal;
mod roles;
mod staff;

use ledgerbridge::staff::StaffRole;

use crate::helpers::{
    ActiveIntegration, Sandboxes, TempDir, TestApp, TestSettings, client, location,
    scan_database_for,
};

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
/// Pages for every staff member: `{tenant}` is replaced by a tenant id.
const STAFF_GET: &[&str] = &[
    "/support",
    "/support/tenants/{tenant}",
    "/support/requests",
    "/support/integrations",
    "/support/runs",
    "/support/failures",
    "/support/integrations/{id}",
    "/support/integrations/{id}/documents",
    "/support/integrations/{id}/progress",
];
/// Pages for staff with the `admin` role only (`support` gets a 403).
const ADMIN_GET: &[&str] = &[
    "/support/audit",
    "/support/replay-day?integration={id}&day=2026-01-01",
    "/support/documents/1/replay",
];
/// Posts for staff with the `admin` role only.
const ADMIN_POST: &[&str] = &["/support/documents/1/replay", "/support/replay-day"];
/// Public pages. (`/metrics` is not one: see `depth`.)
const PUBLIC_GET: &[&str] = &[
    "/",
    "/staff/sign-in",
    "/healthz",
    "/readyz",
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
    for path in STAFF_GET.iter().chain(ADMIN_GET) {
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
async fn support_staff_read_and_add_notes_but_replays_and_the_audit_log_are_for_admins() {
    let app = TestApp::spawn().await;
    let (tenant, integration) = ids(&app).await;
    app.sign_in_staff().await;
    for path in ADMIN_GET {
        let r = app.get(&fill(path, &tenant, &integration)).await;
        assert_eq!(r.status(), 403, "support on GET {path}");
        assert!(r.text().await.unwrap().contains("Only an admin"), "{path}");
    }
    for path in ADMIN_POST {
        let r = app
            .post_form(
                "/support",
                &fill(path, &tenant, &integration),
                &[("integration", &integration), ("day", "2026-01-01")],
            )
            .await;
        assert_eq!(r.status(), 403, "support on POST {path}");
    }
    let console = app.get_html("/support").await;
    assert!(
        !console.contains("/support/audit"),
        "no audit link for support"
    );
    let admin = TestApp::spawn().await;
    let (tenant, integration) = ids(&admin).await;
    admin.sign_in_staff_as(StaffRole::Admin).await;
    for path in STAFF_GET.iter().chain(&ADMIN_GET[..2]) {
        assert_eq!(
            admin.get(&fill(path, &tenant, &integration)).await.status(),
            200,
            "admin on GET {path}"
        );
    }
    assert!(admin.get_html("/support").await.contains("/support/audit"));
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

/// Asserts the security headers every response must carry.
fn assert_security_headers(what: &str, r: &reqwest::Response, https: bool) {
    let h = r.headers();
    let csp = h
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    assert!(
        csp.contains("default-src 'self'")
            && csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline")
            && !csp.contains("unsafe-eval"),
        "{what}: {csp}"
    );
    assert_eq!(
        h.get("x-content-type-options").unwrap(),
        "nosniff",
        "{what}"
    );
    assert_eq!(h.get("x-frame-options").unwrap(), "DENY", "{what}");
    assert_eq!(
        h.get("referrer-policy").unwrap(),
        "strict-origin-when-cross-origin",
        "{what}"
    );
    match h.get("strict-transport-security") {
        Some(v) if https => assert!(
            v.to_str().unwrap().contains("max-age=31536000"),
            "{what}: {v:?}"
        ),
        None if !https => {}
        other => panic!("{what}: HSTS {other:?} while https is {https}"),
    }
}

#[tokio::test]
async fn every_kind_of_page_carries_the_security_headers() {
    let app = TestApp::spawn_with_sandboxes().await;
    let (tenant, other_integration) = ids(&app).await;
    let anonymous = client();
    // Public pages, redirects to sign-in, not found, and refused posts.
    for path in PUBLIC_GET
        .iter()
        .chain(CUSTOMER_GET)
        .chain(STAFF_GET)
        .chain(ADMIN_GET)
    {
        let r = anonymous
            .get(app.url(&fill(path, &tenant, &other_integration)))
            .send()
            .await
            .unwrap();
        assert_security_headers(&format!("anonymous GET {path}"), &r, false);
    }
    let r = anonymous
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_security_headers("404", &r, false);
    for path in CUSTOMER_POST.iter().chain(PUBLIC_POST) {
        let r = anonymous
            .post(app.url(&fill(path, &tenant, &other_integration)))
            .send()
            .await
            .unwrap();
        assert_security_headers(&format!("POST {path} without a token"), &r, false);
    }
    // A signed-in customer's pages, including another tenant's integration (404).
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    assert_eq!(
        app.connect_quickbooks(ledgerbridge::sandbox::quickbooks::US_REALM_ID, None)
            .await
            .status(),
        303
    );
    let own: uuid::Uuid =
        sqlx::query_scalar("select integration_id from integration where realm_id = $1")
            .bind(ledgerbridge::sandbox::quickbooks::US_REALM_ID)
            .fetch_one(&app.db)
            .await
            .unwrap();
    for integration in [own.to_string(), other_integration.clone()] {
        for path in CUSTOMER_GET {
            let r = app.get(&fill(path, &tenant, &integration)).await;
            assert_security_headers(&format!("customer GET {path}"), &r, false);
        }
    }
    // Staff pages.
    let staff = TestApp::spawn().await;
    let (tenant, integration) = ids(&staff).await;
    staff.sign_in_staff_as(StaffRole::Admin).await;
    for path in STAFF_GET.iter().chain(&ADMIN_GET[..2]) {
        let r = staff.get(&fill(path, &tenant, &integration)).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_security_headers(&format!("staff GET {path}"), &r, false);
    }
}

#[tokio::test]
async fn over_https_browsers_are_told_to_use_https_only() {
    let mut settings = TestSettings::default();
    settings.env.insert(
        "LEDGERBRIDGE_PUBLIC_URL",
        "https://ledgerbridge.example.com".into(),
    );
    settings
        .env
        .insert("TRACKTIK_CLIENT_SECRET", "tt-test-secret".into());
    settings
        .env
        .insert("QUICKBOOKS_CLIENT_SECRET", "qbo-test-secret".into());
    let app = TestApp::spawn_with(settings).await;
    for path in [
        "/",
        "/staff/sign-in",
        "/no/such/page",
        "/healthz",
        "/integrations",
    ] {
        let r = app.get(path).await;
        assert_security_headers(&format!("https GET {path}"), &r, true);
    }
}

/// Every token both connections hold now, in the clear.
async fn tokens_held(app: &TestApp, active: &ActiveIntegration) -> Vec<String> {
    use secrecy::ExposeSecret;
    let tt = ledgerbridge::connections::db::tracktik_for_tenant(&app.db, active.tenant_id)
        .await
        .unwrap()
        .unwrap();
    let qbo = ledgerbridge::connections::db::quickbooks_for_integration(
        &app.db,
        active.tenant_id,
        active.integration_id,
    )
    .await
    .unwrap()
    .unwrap();
    let mut out = Vec::new();
    for id in [tt.connection_id, qbo.connection_id] {
        let row = ledgerbridge::connections::db::sealed(&app.db, active.tenant_id, id, false)
            .await
            .unwrap()
            .unwrap();
        for token in [
            row.access(&app.state.cipher),
            row.refresh(&app.state.cipher),
        ] {
            let token = token.unwrap().expect("the connection holds its tokens");
            out.push(token.expose_secret().to_owned());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_appears_in_the_logs_or_the_database_after_a_full_run_at_debug_level() {
    let dir = TempDir::new("lb-token-logs");
    let log = dir.path().join("serve.log");
    let app = TestApp::spawn_process(
        &["serve"],
        Sandboxes::start().await,
        &[("RUST_LOG", "debug")],
        &log,
    )
    .await;
    // QBO's rate limits off: a 429 costs a client a minute (not what this tests).
    Sandboxes::control(
        app.sandboxes().quickbooks.base_url(),
        "/__sandbox/rate-limits",
        serde_json::json!({"enforce": false}),
    )
    .await;
    // Sign-in and connect go through the process; Express setup is a library call.
    let today = chrono::Utc::now().date_naive();
    let active = app
        .activate_integration(
            ledgerbridge::sandbox::quickbooks::US_REALM_ID,
            today - chrono::Days::new(10),
        )
        .await;
    let mut tokens = tokens_held(&app, &active).await;
    // Expired on both sides: the process refreshes them during the sync.
    for base in [
        app.sandboxes().quickbooks.base_url(),
        app.sandboxes().tracktik.base_url(),
    ] {
        Sandboxes::control(base, "/__sandbox/tokens/expire", serde_json::json!({})).await;
    }
    sqlx::query("update connection set access_expires_at = now() - interval '1 minute'")
        .execute(&app.db)
        .await
        .unwrap();
    let jobs = ledgerbridge::sync::controls::enqueue_due(&app.state.db, chrono::Utc::now())
        .await
        .unwrap();
    assert!(!jobs.is_empty());
    let started = std::time::Instant::now();
    loop {
        let open: i64 = sqlx::query_scalar(
            "select count(*) from apalis.jobs where job_type = $1 and status <> 'Done'",
        )
        .bind(ledgerbridge::sync::controls::job_type())
        .fetch_one(&app.db)
        .await
        .unwrap();
        if open == 0 {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "the process's worker did not finish: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let posted: i64 =
        sqlx::query_scalar("select count(*) from ledger_entry where state = 'posted'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(posted > 0, "the sync posted through the process");
    let refreshed = tokens_held(&app, &active).await;
    assert!(
        refreshed.iter().any(|t| !tokens.contains(t)),
        "the process refreshed the tokens"
    );
    tokens.extend(refreshed);

    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.contains("DEBUG"), "the process logged at debug level");
    assert!(logs.contains("sync run done"), "the log covers the sync");
    for token in &tokens {
        assert!(token.len() >= 16, "a real token: {token}");
        assert!(
            !logs.contains(token.as_str()),
            "a token is in the logs: …{}…",
            &token[..8]
        );
        // Nor any long piece of it (a token cut into a log line is still a leak).
        let middle = &token[token.len() / 2 - 8..token.len() / 2 + 8];
        assert!(!logs.contains(middle), "a piece of a token is in the logs");
    }
    assert_eq!(
        scan_database_for(&app.db, &tokens).await,
        Vec::<String>::new(),
        "tokens in the clear in the database"
    );
}
