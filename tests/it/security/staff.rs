//! Staff sign-in under attack and staff roles (issue 16, items 3, 4, 8 and 9): attempts are
//! recorded before the password is checked, password checks are capped, waits double per
//! account and address (the address read through trusted proxies only), a password typed as
//! the e-mail is never kept, replays stay within the start date, and every console page that
//! shows customer data is audited in words.

use chrono::{Days, Utc};
use ledgerbridge::integrations::settings::Settings;
use ledgerbridge::staff::StaffRole;

use crate::helpers::{TestApp, TestSettings, client, csrf_token, scan_database_for};

const EMAIL: &str = "ada@ledgerbridge.test";
const PASSWORD: &str = "a long enough password";

/// Posts the staff sign-in form `n` times at once from one browser.
async fn concurrent_wrong_passwords(app: &TestApp, n: usize) -> Vec<u16> {
    let html = app.get_html("/staff/sign-in").await;
    let token = csrf_token(&html).unwrap();
    let posts = (0..n).map(|i| {
        let wrong = format!("wrong password {i}");
        let token = token.clone();
        let request = app.client.post(app.url("/staff/sign-in")).form(&[
            ("email", EMAIL),
            ("password", wrong.as_str()),
            ("csrf_token", token.as_str()),
        ]);
        async move { request.send().await.unwrap().status().as_u16() }
    });
    futures_util::future::join_all(posts).await
}

async fn checked_attempts(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from staff_sign_in_attempt where succeeded is not null")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_passwords_are_checked_no_more_often_than_the_limit() {
    // Enough password-check slots for all of them: only the attempt rule stops them here.
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_STAFF_HASH_CONCURRENCY", "120".into());
    let app = TestApp::spawn_with(settings).await;
    app.add_staff(EMAIL, PASSWORD).await;
    let statuses = concurrent_wrong_passwords(&app, 120).await;
    let refused = statuses.iter().filter(|s| **s == 401).count();
    let waited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(refused + waited, 120, "{statuses:?}");
    assert!(
        refused <= 5,
        "{refused} wrong passwords were checked; the limit is 5"
    );
    assert!(
        checked_attempts(&app).await <= 5,
        "no more than 5 password checks"
    );
}

#[tokio::test]
async fn password_checks_beyond_the_concurrency_cap_are_answered_429_at_once() {
    let app = TestApp::spawn().await;
    app.add_staff(EMAIL, PASSWORD).await;
    // Every slot taken, as by sign-ins already being checked.
    let slots = app.state.config.staff_hash_concurrency as u32;
    let _held = app
        .state
        .limits
        .staff_hashing
        .acquire_many(slots)
        .await
        .unwrap();
    let r = app
        .post_form(
            "/staff/sign-in",
            "/staff/sign-in",
            &[("email", EMAIL), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert!(r.text().await.unwrap().contains("Try again in a moment"));
    let recorded: i64 = sqlx::query_scalar("select count(*) from staff_sign_in_attempt")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(recorded, 0, "nothing was checked, so nothing counts");
}

async fn sign_in_from(app: &TestApp, from: &str, password: &str) -> reqwest::Response {
    let html = app.get_html("/staff/sign-in").await;
    app.client
        .post(app.url("/staff/sign-in"))
        .header("x-forwarded-for", from)
        .form(&[
            ("email", EMAIL),
            ("password", password),
            ("csrf_token", &csrf_token(&html).unwrap()),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_account_for_another_behind_the_proxy() {
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_STAFF_MAX_FAILURES", "3".into());
    settings
        .env
        .insert("LEDGERBRIDGE_TRUSTED_PROXIES", "127.0.0.1".into());
    let app = TestApp::spawn_with(settings).await;
    app.add_staff(EMAIL, PASSWORD).await;
    let attacker = "203.0.113.5";
    for _ in 0..3 {
        assert_eq!(sign_in_from(&app, attacker, "guess").await.status(), 401);
    }
    assert_eq!(
        sign_in_from(&app, attacker, PASSWORD).await.status(),
        429,
        "the attacker's address waits, even with the right password"
    );
    let ada = "198.51.100.7";
    assert_eq!(
        sign_in_from(&app, ada, PASSWORD).await.status(),
        303,
        "the staff member, elsewhere, signs in"
    );
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "select action, client_addr from audit_event
         where action like 'staff.sign_in%' order by audit_event_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        rows.last().unwrap(),
        &("staff.sign_in".to_owned(), Some(ada.to_owned())),
        "the audit log has the real client address: {rows:?}"
    );
    assert!(
        rows[..rows.len() - 1]
            .iter()
            .all(|(_, addr)| addr.as_deref() == Some(attacker)),
        "{rows:?}"
    );
}

#[tokio::test]
async fn forwarded_for_from_anyone_but_a_trusted_proxy_is_ignored() {
    let app = TestApp::spawn().await;
    app.add_staff(EMAIL, PASSWORD).await;
    assert_eq!(
        sign_in_from(&app, "203.0.113.5", PASSWORD).await.status(),
        303
    );
    let addr: Option<String> =
        sqlx::query_scalar("select client_addr from audit_event where action = 'staff.sign_in'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(addr.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn a_password_typed_into_the_email_field_is_never_stored() {
    let app = TestApp::spawn().await;
    app.add_staff(EMAIL, PASSWORD).await;
    let secret = "Tr0ub4dor&3 horse";
    let r = app
        .post_form(
            "/staff/sign-in",
            "/staff/sign-in",
            &[("email", secret), ("password", "x")],
        )
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        scan_database_for(&app.db, &[secret.to_owned()]).await,
        Vec::<String>::new(),
        "the typed text is in no table"
    );
    let detail: serde_json::Value =
        sqlx::query_scalar("select detail from audit_event where action = 'staff.sign_in_failed'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(detail["email"], "(not an e-mail address)");
    // A well-formed address is kept, to see who is being tried.
    app.post_form(
        "/staff/sign-in",
        "/staff/sign-in",
        &[("email", "Ada@Ledgerbridge.test"), ("password", "x")],
    )
    .await;
    let emails: Vec<serde_json::Value> = sqlx::query_scalar(
        "select detail->'email' from audit_event where action = 'staff.sign_in_failed'
         order by audit_event_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(emails.last().unwrap(), "ada@ledgerbridge.test");
}

/// A tenant with an active integration syncing from ten days ago; returns (tenant, integration).
async fn active_integration(app: &TestApp) -> (uuid::Uuid, uuid::Uuid) {
    let tenant: uuid::Uuid = sqlx::query_scalar(
        "insert into tenant (portal_url, name) values ('https://acme.tracktik.com', 'Acme') returning tenant_id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let mut settings = Settings::default();
    settings.schedule.start_date = Some(Utc::now().date_naive() - Days::new(10));
    settings.schedule.time_zone = Some("UTC".into());
    let integration: uuid::Uuid = sqlx::query_scalar(
        "insert into integration (tenant_id, realm_id, company_name, country, home_currency, state, settings)
         values ($1, '9130', 'Acme Books', 'US', 'USD', 'active', $2) returning integration_id",
    )
    .bind(tenant)
    .bind(sqlx::types::Json(&settings))
    .fetch_one(&app.db)
    .await
    .unwrap();
    (tenant, integration)
}

#[tokio::test]
async fn a_day_before_the_integrations_start_date_is_never_replayed() {
    let app = TestApp::spawn().await;
    let (_, integration) = active_integration(&app).await;
    app.sign_in_staff_as(StaffRole::Admin).await;
    let form = app
        .get(&format!(
            "/support/replay-day?integration={integration}&day=1900-01-01"
        ))
        .await;
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(
        html.contains("is before the integration") && html.contains("sync start date"),
        "{html}"
    );
    let posted = app
        .post_form(
            "/support/runs",
            "/support/replay-day",
            &[
                ("integration", &integration.to_string()),
                ("day", "1900-01-01"),
            ],
        )
        .await;
    assert_eq!(posted.status(), 409);
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(jobs, 0, "nothing was queued");
    let replayed: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'staff.replayed_day'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(replayed, 0);
}

#[tokio::test]
async fn every_console_page_that_shows_customer_data_is_audited_and_the_log_reads_as_words() {
    let app = TestApp::spawn().await;
    let (tenant, integration) = active_integration(&app).await;
    app.sign_in_staff_as(StaffRole::Admin).await;
    let day = Utc::now().date_naive() - Days::new(1);
    let pages = [
        ("/support".to_owned(), "staff.viewed_customers"),
        (format!("/support/tenants/{tenant}"), "staff.viewed_tenant"),
        ("/support/requests".to_owned(), "staff.viewed_requests"),
        (
            "/support/integrations".to_owned(),
            "staff.viewed_integrations",
        ),
        ("/support/runs".to_owned(), "staff.viewed_runs"),
        (
            format!("/support/runs?integration={integration}"),
            "staff.viewed_runs",
        ),
        ("/support/failures".to_owned(), "staff.viewed_failures"),
        (
            format!("/support/integrations/{integration}"),
            "staff.viewed_dashboard",
        ),
        (
            format!("/support/integrations/{integration}/documents"),
            "staff.viewed_documents",
        ),
        (
            format!("/support/replay-day?integration={integration}&day={day}"),
            "staff.viewed_replay_day",
        ),
        ("/support/audit".to_owned(), "staff.viewed_audit_log"),
    ];
    for (path, action) in &pages {
        let before: i64 = sqlx::query_scalar(
            "select count(*) from audit_event where action = $1 and actor_kind = 'staff'",
        )
        .bind(action)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(app.get(path).await.status(), 200, "{path}");
        let after: i64 = sqlx::query_scalar(
            "select count(*) from audit_event where action = $1 and actor_kind = 'staff'",
        )
        .bind(action)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(after, before + 1, "GET {path} writes {action}");
    }
    let log = app.get_html("/support/audit").await;
    for words in [
        "Viewed a dashboard",
        "Viewed sync runs",
        "Viewed failed documents",
    ] {
        assert!(log.contains(words), "{words}");
    }
    assert!(
        !log.contains("staff.viewed_"),
        "no action codes on the page"
    );
    let anonymous = client()
        .get(app.url("/support/audit"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
}
