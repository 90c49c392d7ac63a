//! The support console across tenants: integrations, runs, failures and the audit log over a
//! seeded history of two tenants; replays of a document and of a day (queued once, audited,
//! a posted document refused); and the metrics after a real run.

use std::time::Duration;

use chrono::{Days, NaiveDate, NaiveTime, Utc};
use ledgerbridge::ids::{IntegrationId, TenantId};
use ledgerbridge::integrations::settings::{QboRef, Settings, TaxTarget};
use ledgerbridge::mapping::express::{ExpressOptions, TaxClassInput, ensure_defaults};
use ledgerbridge::providers::quickbooks::Company;
use ledgerbridge::providers::tracktik::{AccessToken, Portal};
use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
use ledgerbridge::staff::StaffRole;
use ledgerbridge::sync::controls;
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{Sandboxes, TestApp, TestSettings, client, csrf_token, location};

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

/// Settings that let an integration sync: a start date and a time zone.
fn schedule(start: NaiveDate) -> Settings {
    let mut settings = Settings::default();
    settings.schedule.start_date = Some(start);
    settings.schedule.time_zone = Some("UTC".into());
    settings
}

async fn tenant(db: &PgPool, portal: &str, name: &str) -> TenantId {
    sqlx::query_scalar("insert into tenant (portal_url, name) values ($1, $2) returning tenant_id")
        .bind(portal)
        .bind(name)
        .fetch_one(db)
        .await
        .unwrap()
}

async fn integration(
    db: &PgPool,
    tenant_id: TenantId,
    realm: &str,
    company: &str,
    state: &str,
    reached: &str,
) -> IntegrationId {
    sqlx::query_scalar(
        "insert into integration (tenant_id, realm_id, company_name, country, home_currency,
            state, wizard_reached, settings)
         values ($1, $2, $3, 'US', 'USD', $4::integration_state, $5, $6) returning integration_id",
    )
    .bind(tenant_id)
    .bind(realm)
    .bind(company)
    .bind(state)
    .bind(reached)
    .bind(sqlx::types::Json(schedule(days_ago(10))))
    .fetch_one(db)
    .await
    .unwrap()
}

#[allow(clippy::too_many_arguments)]
async fn run(
    db: &PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
    kind: &str,
    status: &str,
    (posted, failed): (i32, i32),
) {
    sqlx::query(
        "insert into sync_run (tenant_id, integration_id, trading_day, kind, status, total,
            done, posted, failed, started_at, finished_at)
         values ($1, $2, $3, $4::sync_run_kind, $5::sync_run_status, $6, $6, $7, $8,
                 now() - interval '1 hour', now() - interval '59 minutes')",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(day)
    .bind(kind)
    .bind(status)
    .bind(posted + failed)
    .bind(posted)
    .bind(failed)
    .execute(db)
    .await
    .unwrap();
}

/// A ledger row; returns its id.
async fn document(
    db: &PgPool,
    (tenant_id, integration_id): (TenantId, IntegrationId),
    number: &str,
    day: NaiveDate,
    state: &str,
    code: Option<&str>,
) -> i64 {
    let source_id: i64 = number
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap();
    sqlx::query_scalar(
        "insert into ledger_entry (tenant_id, integration_id, source, source_id, revision,
            doc_number, trading_day, approved_at, amount, currency, state, last_error,
            error_code, fix_hint, qbo_entity, qbo_id, qbo_doc_number)
         values ($1, $2, 'invoice', $3, 'r1', $4, $5, $5::date + time '12:00', 1234.5, 'USD',
                 $6::ledger_state,
                 case when $7::text is null then null else 'Refused for ' || $7 end, $7,
                 case when $7::text is null then null else 'Fix ' || $7 end,
                 case when $6 = 'posted' then 'Invoice' end,
                 case when $6 = 'posted' then '77' end,
                 case when $6 = 'posted' then $4 end)
         returning ledger_entry_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(source_id)
    .bind(number)
    .bind(day)
    .bind(state)
    .bind(code)
    .fetch_one(db)
    .await
    .unwrap()
}

/// Two tenants' history: Acme (an active integration with runs and failures, and a draft one)
/// and Borealis (one that needs reconnecting, with one failure).
struct History {
    acme: TenantId,
    acme_books: IntegrationId,
    borealis: TenantId,
    failed_doc: i64,
    posted_doc: i64,
    yesterday_failed: i64,
}

async fn seed(db: &PgPool) -> History {
    let acme = tenant(db, "https://acme.tracktik.com", "Acme Guards").await;
    let borealis = tenant(db, "https://borealis.tracktik.com", "Borealis Security").await;
    let acme_books = integration(db, acme, "1111", "Acme Books", "active", "review").await;
    integration(db, acme, "2222", "Acme Draft Books", "draft", "billing").await;
    let borealis_books = integration(
        db,
        borealis,
        "3333",
        "Borealis Ledger",
        "needs_reconnect",
        "review",
    )
    .await;
    let yesterday = days_ago(1);
    run(
        db,
        acme,
        acme_books,
        days_ago(2),
        "nightly",
        "succeeded",
        (4, 0),
    )
    .await;
    run(
        db,
        acme,
        acme_books,
        yesterday,
        "nightly",
        "partial",
        (3, 2),
    )
    .await;
    run(
        db,
        borealis,
        borealis_books,
        yesterday,
        "nightly",
        "failed",
        (0, 0),
    )
    .await;
    let acme_ids = (acme, acme_books);
    let failed_doc = document(
        db,
        acme_ids,
        "INV-1001",
        days_ago(2),
        "failed",
        Some("6000"),
    )
    .await;
    let yesterday_failed =
        document(db, acme_ids, "INV-1002", yesterday, "failed", Some("6000")).await;
    let posted_doc = document(db, acme_ids, "INV-1003", yesterday, "posted", None).await;
    document(
        db,
        (borealis, borealis_books),
        "INV-2001",
        yesterday,
        "failed",
        Some("mapping"),
    )
    .await;
    History {
        acme,
        acme_books,
        borealis,
        failed_doc,
        posted_doc,
        yesterday_failed,
    }
}

async fn jobs(db: &PgPool) -> Vec<serde_json::Value> {
    sqlx::query_scalar("select job from apalis.jobs where job_type = $1 order by run_at")
        .bind(controls::job_type())
        .fetch_all(db)
        .await
        .unwrap()
}

async fn audit_actions(db: &PgPool, action: &str) -> Vec<(Option<TenantId>, serde_json::Value)> {
    sqlx::query_as(
        "select tenant_id, detail from audit_event where action = $1 and actor_kind = 'staff'",
    )
    .bind(action)
    .fetch_all(db)
    .await
    .unwrap()
}

/// The rows of the first table body of a page (crudely: the text between `<tbody>` tags).
fn body_rows(html: &str) -> &str {
    let start = html.find("<tbody>").map_or(0, |i| i + 7);
    let end = html[start..]
        .find("</tbody>")
        .map_or(html.len(), |i| start + i);
    &html[start..end]
}

#[tokio::test]
async fn the_integrations_list_shows_every_tenant_with_state_and_wizard_step_and_searches() {
    let app = TestApp::spawn().await;
    seed(&app.db).await;
    app.sign_in_staff().await;

    let all = app.get_html("/support/integrations").await;
    let rows = body_rows(&all);
    for text in [
        "Acme Guards",
        "Acme Books",
        "Company ID 1111",
        "Acme Draft Books",
        "Borealis Security",
        "Borealis Ledger",
        "Needs reconnect",
        "Draft",
        "Active",
    ] {
        assert!(rows.contains(text), "{text} missing");
    }
    // The wizard step reached: Review for the active one, Billing for the draft.
    assert!(rows.contains("<td>Billing</td>"), "{rows}");
    assert!(rows.contains("<td>Review</td>"));

    let by_name = app.get_html("/support/integrations?q=borea").await;
    assert!(body_rows(&by_name).contains("Borealis Ledger"));
    assert!(!body_rows(&by_name).contains("Acme"));

    let by_realm = app.get_html("/support/integrations?q=2222").await;
    assert!(body_rows(&by_realm).contains("Acme Draft Books"));
    assert!(!body_rows(&by_realm).contains("Acme Books<"));
    assert!(!body_rows(&by_realm).contains("Borealis"));

    let by_portal = app.get_html("/support/integrations?q=acme.tracktik").await;
    assert!(body_rows(&by_portal).contains("Acme Books"));
    assert!(!body_rows(&by_portal).contains("Borealis"));

    let reconnect = app
        .get_html("/support/integrations?state=needs_reconnect")
        .await;
    assert!(body_rows(&reconnect).contains("Borealis Ledger"));
    assert!(!body_rows(&reconnect).contains("Acme"));

    let nothing = app.get_html("/support/integrations?q=zzz-nobody").await;
    assert!(nothing.contains("Nothing matches these filters"));

    assert_eq!(
        app.get("/support/integrations?state=sleeping")
            .await
            .status(),
        400,
        "an unknown state is refused in words"
    );
}

#[tokio::test]
async fn runs_and_failures_across_tenants_are_listed_filtered_and_grouped_by_reason() {
    let app = TestApp::spawn().await;
    let h = seed(&app.db).await;
    app.sign_in_staff().await;

    let runs = app.get_html("/support/runs").await;
    let rows = body_rows(&runs);
    assert_eq!(rows.matches("<tr>").count(), 3, "{rows}");
    assert!(rows.contains("Acme Guards") && rows.contains("Borealis Security"));
    assert!(rows.contains("Some failed") && rows.contains("Succeeded"));
    assert!(rows.contains(&days_ago(2).to_string()));
    assert!(rows.contains("1 min 0 s"), "the duration is shown: {rows}");

    let failed = app.get_html("/support/runs?status=failed").await;
    assert_eq!(body_rows(&failed).matches("<tr>").count(), 1);
    assert!(body_rows(&failed).contains("Borealis Ledger"));

    let acme = app
        .get_html(&format!("/support/runs?integration={}", h.acme_books))
        .await;
    assert_eq!(body_rows(&acme).matches("<tr>").count(), 2);
    assert!(!body_rows(&acme).contains("Borealis"));

    let failures = app.get_html("/support/failures").await;
    // Groups first: 6000 (two documents, one tenant), then mapping (one).
    let groups = body_rows(&failures);
    let six = groups.find("<code>6000</code>").expect("the 6000 group");
    let mapping = groups
        .find("<code>mapping</code>")
        .expect("the mapping group");
    assert!(six < mapping, "the largest group comes first");
    assert!(groups[six..mapping].contains("<td class=\"num\">2</td>"));
    // Then the documents, with tenant, company, number, reason and fix.
    let docs = &failures[failures.find("The documents").unwrap()..];
    for text in [
        "INV-1001",
        "INV-1002",
        "INV-2001",
        "Borealis Security",
        "Refused for mapping",
        "Fix mapping",
        "1,234.50 USD",
    ] {
        assert!(docs.contains(text), "{text} missing");
    }
    assert!(
        !docs.contains("INV-1003"),
        "a posted document is not a failure"
    );

    let mapping_only = app.get_html("/support/failures?code=mapping").await;
    let docs = &mapping_only[mapping_only.find("Documents failed with").unwrap()..];
    assert!(docs.contains("INV-2001") && !docs.contains("INV-1001"));
}

#[tokio::test]
async fn a_customer_and_a_visitor_reach_none_of_the_console() {
    let app = TestApp::spawn_with_sandboxes().await;
    let h = seed(&app.db).await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let day = days_ago(1);
    let paths = [
        "/support/integrations".to_owned(),
        "/support/runs".to_owned(),
        "/support/failures".to_owned(),
        "/support/audit".to_owned(),
        format!("/support/documents/{}/replay", h.failed_doc),
        format!("/support/replay-day?integration={}&day={day}", h.acme_books),
    ];
    let visitor = client();
    for path in &paths {
        let r = app.get(path).await;
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/staff/sign-in".to_owned()),
            "a customer on GET {path}"
        );
        let r = visitor.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "a visitor on GET {path}");
    }
    // The customer's own form token does not open the staff replays either.
    let token = csrf_token(&app.get_html("/integrations").await).unwrap();
    let r = app
        .client
        .post(app.url(&format!("/support/documents/{}/replay", h.failed_doc)))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/staff/sign-in");
    let r = app
        .client
        .post(app.url("/support/replay-day"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("integration", &h.acme_books.to_string()),
            ("day", &day.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/staff/sign-in");
    assert!(jobs(&app.db).await.is_empty());
    assert!(
        audit_actions(&app.db, "staff.replayed_day")
            .await
            .is_empty()
    );
}

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

/// Express defaults and a schedule, as the wizard would save them.
async fn set_up(
    app: &TestApp,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    start: NaiveDate,
) {
    let state = &app.state;
    let tt_conn = ledgerbridge::connections::db::tracktik_for_tenant(&state.db, tenant_id)
        .await
        .unwrap()
        .unwrap();
    let tt_token = ledgerbridge::connections::access_token(state, tenant_id, tt_conn.connection_id)
        .await
        .unwrap();
    let portal = Portal::new(&tt_conn.external_id).unwrap();
    let tt = AccessToken::new(secrecy::ExposeSecret::expose_secret(&tt_token).to_owned());
    let classes = state
        .providers
        .tracktik
        .tax_classes(&portal, &tt)
        .await
        .unwrap();
    let inputs: Vec<TaxClassInput> = classes
        .iter()
        .map(|c| TaxClassInput {
            id: c.id,
            name: c.name.clone().unwrap_or_default(),
        })
        .collect();
    let qbo_conn = ledgerbridge::connections::db::quickbooks_for_integration(
        &state.db,
        tenant_id,
        integration_id,
    )
    .await
    .unwrap()
    .unwrap();
    let token = ledgerbridge::connections::access_token(state, tenant_id, qbo_conn.connection_id)
        .await
        .unwrap();
    let co = Company {
        realm_id: US_REALM_ID,
        access_token: &token,
    };
    let refs = ensure_defaults(
        &state.providers.quickbooks,
        &co,
        &inputs,
        &ExpressOptions::default(),
    )
    .await
    .expect("Express setup");
    let r = |x: &ledgerbridge::providers::quickbooks::models::Ref| {
        QboRef::new(x.value.clone(), x.name.clone().unwrap_or_default())
    };
    let mut settings = schedule(start);
    settings.billing.default_item = Some(r(&refs.refs.service_income_item));
    for (id, t) in &refs.refs.tax_classes {
        settings
            .taxes
            .classes
            .insert(*id, TaxTarget::Item { item: r(&t.item) });
    }
    settings.taxes.automated_tax_item = Some(r(&refs.refs.automated_tax.item));
    settings.schedule.cutoff = NaiveTime::from_hms_opt(3, 0, 0).unwrap();
    sqlx::query("update integration set settings = $2, state = 'active' where integration_id = $1")
        .bind(integration_id)
        .bind(sqlx::types::Json(&settings))
        .execute(&state.db)
        .await
        .unwrap();
}

/// The value of one sample line of the exposition, e.g. `ledgerbridge_documents{state="posted"}`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_show_runs_documents_queue_depth_and_quickbooks_calls_after_a_run() {
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_METRICS_ON_WEB", "true".into());
    let app = TestApp::spawn_with_sandboxes_and(settings).await;
    Sandboxes::control(
        app.sandboxes().quickbooks.base_url(),
        &format!("/__sandbox/companies/{US_REALM_ID}/settings"),
        json!({"multicurrency": true}),
    )
    .await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    assert_eq!(
        app.connect_quickbooks(US_REALM_ID, None).await.status(),
        303
    );
    let (tenant_id, integration_id): (TenantId, IntegrationId) =
        sqlx::query_as("select tenant_id, integration_id from integration where realm_id = $1")
            .bind(US_REALM_ID)
            .fetch_one(&app.db)
            .await
            .unwrap();
    set_up(&app, tenant_id, integration_id, days_ago(3)).await;

    let (job, _) = controls::enqueue(
        &app.state,
        tenant_id,
        integration_id,
        controls::RunRequest::Manual,
        Some(days_ago(1)),
        ledgerbridge::sync::runs::Requester::Customer,
    )
    .await
    .unwrap();
    let before = app.get_html("/metrics").await;
    assert_eq!(
        sample(
            &before,
            "ledgerbridge_queue_depth{job_type=\"SyncIntegration\"}"
        ),
        Some(1.0),
        "{before}"
    );
    assert_eq!(
        sample(
            &before,
            "ledgerbridge_sync_runs_total{kind=\"manual\",status=\"succeeded\"}"
        ),
        None
    );

    // The worker's function itself, as a worker would call it, with its JSON logs captured
    // (the test runtime runs everything on this thread).
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    tokio::time::timeout(
        Duration::from_secs(120),
        ledgerbridge::jobs::sync::run(job, apalis::prelude::Data::new(app.state.clone())),
    )
    .await
    .expect("the run ends")
    .expect("the job succeeds");
    drop(guard);

    let run: (String, i32, i32) = sqlx::query_as(
        "select status::text, posted, failed from sync_run where integration_id = $1",
    )
    .bind(integration_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let after = app.get_html("/metrics").await;
    let runs = sample(
        &after,
        &format!(
            "ledgerbridge_sync_runs_total{{kind=\"manual\",status=\"{}\"}}",
            run.0
        ),
    );
    assert_eq!(runs, Some(1.0), "{after}");
    let posted: i64 =
        sqlx::query_scalar("select count(*) from ledger_entry where state = 'posted'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(posted, i64::from(run.1));
    assert_eq!(
        sample(&after, "ledgerbridge_documents{state=\"posted\"}"),
        Some(posted as f64)
    );
    assert!(sample(&after, "ledgerbridge_documents{state=\"failed\"}").is_some());
    // Connecting read the company through the instrumented client; the run queried it.
    assert!(
        sample(
            &after,
            "ledgerbridge_quickbooks_calls_total{entity=\"companyinfo\",outcome=\"ok\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{after}"
    );
    assert!(
        sample(
            &after,
            "ledgerbridge_quickbooks_calls_total{entity=\"query\",outcome=\"ok\"}"
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert!(after.contains("# TYPE ledgerbridge_quickbooks_throttled counter"));
    assert_eq!(
        sample(
            &after,
            "ledgerbridge_jobs_running{job_type=\"SyncIntegration\"}"
        ),
        Some(0.0)
    );
    if posted > 0 {
        // Posted one by one or in batch requests, depending on how many.
        let writes: f64 = ["invoice", "batch"]
            .iter()
            .filter_map(|e| {
                sample(
                    &after,
                    &format!(
                        "ledgerbridge_quickbooks_calls_total{{entity=\"{e}\",outcome=\"ok\"}}"
                    ),
                )
            })
            .sum();
        assert!(writes >= 1.0, "{after}");
    }

    // Every log line of the job carries the tenant and the integration; the last one the run.
    let run_id: i64 = sqlx::query_scalar("select sync_run_id from sync_run")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let lines = logs.lines();
    let done = lines
        .iter()
        .find(|l| l["message"] == "sync run done")
        .unwrap_or_else(|| panic!("no 'sync run done' line in {lines:?}"));
    assert_eq!(done["span"]["name"], "sync_job");
    assert_eq!(done["span"]["tenant"], json!(tenant_id.to_string()));
    assert_eq!(
        done["span"]["integration"],
        json!(integration_id.to_string())
    );
    assert_eq!(done["span"]["run"], json!(run_id));
    for line in &lines {
        let job_span = line["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["name"] == "sync_job"))
            .unwrap_or_else(|| panic!("a line outside the job's span: {line}"));
        assert_eq!(job_span["tenant"], json!(tenant_id.to_string()), "{line}");
        assert_eq!(job_span["integration"], json!(integration_id.to_string()));
    }
}

/// Log output captured in memory, one JSON object a line.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
