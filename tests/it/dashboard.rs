//! The dashboard, the documents page and the manual controls, over HTTP: the numbers of a
//! seeded history, the reconciliation to the cent, tenant isolation, the queue, the back-sync
//! form, the live progress stream of a real run, and the staff's read-only view.

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use ledgerbridge::integrations::settings::Settings;
use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
use ledgerbridge::sync::controls::{self, RunRequest};
use serde_json::{Value, json};

use crate::helpers::{
    Sandboxes, TestApp, activated_integration, csrf_token, integration_of, location, unescape,
};

const ZONE: &str = "America/Toronto";

fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&ZONE.parse::<chrono_tz::Tz>().unwrap())
        .date_naive()
}

fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

/// Activates an integration with a Toronto schedule that started `start` days ago.
async fn activate(db: &sqlx::PgPool, integration: uuid::Uuid, start: NaiveDate) {
    let mut settings = Settings::default();
    settings.schedule.start_date = Some(start);
    settings.schedule.time_zone = Some(ZONE.into());
    sqlx::query("update integration set settings = $2, state = 'active' where integration_id = $1")
        .bind(integration)
        .bind(sqlx::types::Json(&settings))
        .execute(db)
        .await
        .unwrap();
}

/// A second tenant with an active integration, written directly.
async fn other_tenant(db: &sqlx::PgPool) -> (uuid::Uuid, uuid::Uuid) {
    let tenant: uuid::Uuid = sqlx::query_scalar(
        "insert into tenant (portal_url, name) values ('https://other.tracktik.com', 'Other Guards') returning tenant_id",
    )
    .fetch_one(db)
    .await
    .unwrap();
    let integration: uuid::Uuid = sqlx::query_scalar(
        "insert into integration (tenant_id, realm_id, company_name, country, home_currency)
         values ($1, '777', 'Other Books', 'US', 'USD') returning integration_id",
    )
    .bind(tenant)
    .fetch_one(db)
    .await
    .unwrap();
    activate(db, integration, days_ago(20)).await;
    (tenant, integration)
}

/// One ledger row. `extra` is a SQL `set` list applied after the insert (errors, flags…).
#[allow(clippy::too_many_arguments)]
async fn doc(
    db: &sqlx::PgPool,
    (tenant, integration): (uuid::Uuid, uuid::Uuid),
    source: &str,
    source_id: i64,
    number: &str,
    day: NaiveDate,
    amount: &str,
    state: &str,
    qbo_amount: Option<&str>,
    extra: &str,
) -> i64 {
    let id: i64 = sqlx::query_scalar(
        "insert into ledger_entry (tenant_id, integration_id, source, source_id, revision,
            doc_number, trading_day, approved_at, amount, currency, state, qbo_amount, qbo_link)
         values ($1, $2, $3::ledger_source, $4, 'r1', $5, $6, ($6::date + time '17:00') at time zone 'UTC',
                 $7::numeric, 'USD', $8::ledger_state, $9::numeric,
                 case when $8 = 'posted' then 'https://qbo.example/app/invoice?txnId=' || $4 end)
         returning ledger_entry_id",
    )
    .bind(tenant)
    .bind(integration)
    .bind(source)
    .bind(source_id)
    .bind(number)
    .bind(day)
    .bind(amount)
    .bind(state)
    .bind(qbo_amount)
    .fetch_one(db)
    .await
    .unwrap();
    if !extra.is_empty() {
        sqlx::query(&format!(
            "update ledger_entry set {extra} where ledger_entry_id = $1"
        ))
        .bind(id)
        .execute(db)
        .await
        .unwrap();
    }
    id
}

async fn run(
    db: &sqlx::PgPool,
    (tenant, integration): (uuid::Uuid, uuid::Uuid),
    day: NaiveDate,
    status: &str,
    (posted, failed, skipped): (i32, i32, i32),
) {
    sqlx::query(
        "insert into sync_run (tenant_id, integration_id, trading_day, kind, status, total, done,
            posted, failed, skipped, started_at, finished_at)
         values ($1, $2, $3, 'nightly', $4::sync_run_status, $5, $5, $6, $7, $8,
                 ($3::date + 1 + time '08:00') at time zone 'UTC',
                 ($3::date + 1 + time '08:02') at time zone 'UTC')",
    )
    .bind(tenant)
    .bind(integration)
    .bind(day)
    .bind(status)
    .bind(posted + failed + skipped)
    .bind(posted)
    .bind(failed)
    .bind(skipped)
    .execute(db)
    .await
    .unwrap();
}

/// A signed-in customer whose integration has two nights of history, and another tenant with a
/// document on the same night.
struct Seeded {
    app: TestApp,
    id: uuid::Uuid,
    other: (uuid::Uuid, uuid::Uuid),
    failed_invoice: i64,
    other_doc: i64,
}

impl Seeded {
    async fn start() -> Self {
        let app = TestApp::spawn_with_sandboxes().await;
        assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
        assert_eq!(
            app.connect_quickbooks(US_REALM_ID, None).await.status(),
            303
        );
        let ours = integration_of(&app.db, US_REALM_ID).await;
        activate(&app.db, ours.1, days_ago(20)).await;
        let other = other_tenant(&app.db).await;
        let db = &app.db;
        let (d2, d1) = (days_ago(2), days_ago(1));

        // Two nights ago: everything posted at TrackTik's totals.
        doc(
            db,
            ours,
            "invoice",
            101,
            "INV-101",
            d2,
            "100.00",
            "posted",
            Some("100.00"),
            "",
        )
        .await;
        doc(
            db,
            ours,
            "invoice",
            102,
            "INV-102",
            d2,
            "250.50",
            "posted",
            Some("250.50"),
            "",
        )
        .await;
        doc(
            db,
            ours,
            "payrun",
            7,
            "PR-7",
            d2,
            "1000.00",
            "posted",
            Some("1000.00"),
            "",
        )
        .await;
        run(db, ours, d2, "succeeded", (3, 0, 0)).await;

        // Last night: a tax difference, two failures, one waiting, one skipped, one changed.
        doc(
            db,
            ours,
            "invoice",
            201,
            "INV-201",
            d1,
            "113.00",
            "posted",
            Some("113.01"),
            "discrepancy = 'QuickBooks computed the tax: 13.01 instead of 13.00'",
        )
        .await;
        let failed_invoice = doc(db, ours, "invoice", 202, "INV-202", d1, "40.25", "failed", None,
            "error_code = '6210', last_error = 'The QuickBooks books are closed for the date of this invoice.',
             fix_hint = 'Move the closing date in QuickBooks, then retry.', fix_at = 'quickbooks'").await;
        doc(
            db, ours, "invoice", 203, "INV-203", d1, "9.99", "pending", None, "",
        )
        .await;
        doc(db, ours, "invoice", 204, "INV-204", d1, "20.00", "posted", Some("20.00"),
            "changed_in_tracktik = true, change_note = 'Changed in TrackTik after it was posted to QuickBooks; the QuickBooks copy was not changed.'").await;
        doc(
            db,
            ours,
            "invoice",
            205,
            "INV-205",
            d1,
            "0.00",
            "skipped",
            None,
            "last_error = 'Nothing to post: invoice 205 has no lines.'",
        )
        .await;
        doc(db, ours, "payrun", 8, "PR-8", d1, "500.00", "failed", None,
            "error_code = 'translate', last_error = 'No QuickBooks wages account is chosen.',
             fix_hint = 'Change it in the Payroll settings, then retry.', fix_at = 'settings/payroll'").await;
        run(db, ours, d1, "partial", (2, 2, 1)).await;

        // Another tenant's document on the same night.
        let other_doc = doc(
            db,
            other,
            "invoice",
            901,
            "INV-901",
            d1,
            "7777.77",
            "failed",
            None,
            "error_code = '6210', last_error = 'Closed books elsewhere.'",
        )
        .await;
        run(db, other, d1, "partial", (0, 1, 0)).await;
        Self {
            app,
            id: ours.1,
            other,
            failed_invoice,
            other_doc,
        }
    }

    async fn page(&self, path: &str) -> String {
        let r = self.app.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        plain(&r.text().await.unwrap())
    }
}

/// The page's text with HTML escapes undone (askama writes `&` as `&#38;`).
fn plain(html: &str) -> String {
    unescape(&html.replace("&#38;", "&"))
}

fn label(day: NaiveDate) -> String {
    day.format("%a %-d %b %Y").to_string()
}

#[tokio::test]
async fn the_dashboard_shows_each_nights_counts_and_reconciles_to_the_cent() {
    let s = Seeded::start().await;
    let html = s.page(&format!("/integrations/{}", s.id)).await;
    let (d2, d1) = (days_ago(2), days_ago(1));

    // The chart and its summary in words.
    assert!(
        html.contains("<svg role=\"img\""),
        "the chart is inline SVG"
    );
    let first = days_ago(29).format("%-d %b %Y");
    let summary = format!(
        "30 nights from {first} to {}: 5 posted, 2 failed, 1 skipped, 1 waiting. Busiest night: {} with 6 documents. Nights with failures: {} (2).",
        today().format("%-d %b %Y"),
        d1.format("%-d %b"),
        d1.format("%-d %b"),
    );
    assert!(html.contains(&summary), "{summary}\n{html}");

    // Two nights ago balances; last night differs by exactly what is explained.
    assert!(html.contains("1,350.50 USD"), "TrackTik total of {d2}");
    assert!(html.contains("Balanced"));
    assert!(html.contains("683.24 USD"), "TrackTik total of {d1}");
    assert!(
        html.contains("133.01 USD"),
        "what QuickBooks holds for {d1}"
    );
    assert!(html.contains("Difference 550.23 USD"));
    assert!(
        html.contains(
            "540.25 USD</span>: 2 failed documents are not in QuickBooks (INV-202, PR-8)"
        )
    );
    assert!(html.contains("9.99 USD</span>: 1 document waits to be posted (INV-203)"));
    assert!(html.contains(
        "-0.01 USD</span>: QuickBooks holds 113.01 USD for invoice INV-201, TrackTik 113.00 USD: QuickBooks computed the tax"
    ));
    assert!(html.contains("invoice INV-204 was changed in TrackTik after it was posted"));
    // The other tenant's night is not counted.
    assert!(!html.contains("7,777.77") && !html.contains("INV-901"));

    // Counts per night, the last run and the next one in the customer's zone.
    assert!(html.contains(&label(d1)) && html.contains(&label(d2)));
    assert!(
        html.contains("Some failed"),
        "last night's run partially failed"
    );
    assert!(
        html.contains("2 failed"),
        "failed documents link to the list"
    );
    assert!(html.contains(&format!("Times in {ZONE}")));
    let (next_day, _) = ledgerbridge::sync::window::TradingSchedule {
        zone: ZONE.parse().unwrap(),
        cutoff: chrono::NaiveTime::from_hms_opt(3, 0, 0).unwrap(),
        start_date: days_ago(20),
    }
    .next_run(Utc::now());
    assert!(
        html.contains(&format!("(for {})", label(next_day))),
        "{html}"
    );
    // Idle: no progress box, no refresh.
    assert!(!html.contains("data-progress-url"));
    assert!(!html.contains("http-equiv=\"refresh\""));
}

#[tokio::test]
async fn a_new_integration_explains_when_its_first_sync_runs() {
    let app = TestApp::spawn_with_sandboxes().await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    assert_eq!(
        app.connect_quickbooks(US_REALM_ID, None).await.status(),
        303
    );
    let (_, id) = integration_of(&app.db, US_REALM_ID).await;
    let draft = plain(&app.get_html(&format!("/integrations/{id}")).await);
    assert!(draft.contains("Nothing is synced until setup is finished"));
    assert!(
        draft.contains("Syncing starts once setup is finished"),
        "no controls on a draft"
    );
    assert!(!draft.contains("/sync-now"));

    activate(&app.db, id, today()).await;
    let active = plain(&app.get_html(&format!("/integrations/{id}")).await);
    assert!(
        active.contains(&format!("Your first sync runs after 03:00 {ZONE}")),
        "{active}"
    );
    assert!(active.contains(&format!("(for {})", label(today()))));
}

#[tokio::test]
async fn another_tenants_integration_is_404_on_every_new_route() {
    let s = Seeded::start().await;
    let theirs = s.other.1;
    for path in [
        format!("/integrations/{theirs}"),
        format!("/integrations/{theirs}/documents"),
        format!("/integrations/{theirs}/preview"),
        format!("/integrations/{theirs}/progress"),
    ] {
        assert_eq!(s.app.get(&path).await.status(), 404, "GET {path}");
    }
    let ours = format!("/integrations/{}", s.id);
    for (action, fields) in [
        ("sync-now", vec![]),
        ("retry", vec![]),
        (
            "back-sync",
            vec![("from", "2026-01-01"), ("to", "2026-01-02")],
        ),
    ] {
        let r = s
            .app
            .post_form(&ours, &format!("/integrations/{theirs}/{action}"), &fields)
            .await;
        assert_eq!(r.status(), 404, "POST {action}");
    }
    // Their document cannot be retried through our integration either.
    let entry = s.other_doc.to_string();
    let r = s
        .app
        .post_form(&ours, &format!("{ours}/retry"), &[("entry", &entry)])
        .await;
    assert_eq!(r.status(), 404);
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs")
        .fetch_one(&s.app.db)
        .await
        .unwrap();
    assert_eq!(jobs, 0, "nothing was queued");
}

#[tokio::test]
async fn sync_now_queues_one_job_and_a_second_click_says_already_queued() {
    let s = Seeded::start().await;
    let page = format!("/integrations/{}", s.id);
    let first = s
        .app
        .post_form(&page, &format!("{page}/sync-now"), &[])
        .await;
    assert_eq!(
        (first.status().as_u16(), location(&first)),
        (303, page.clone())
    );
    let html = s.page(&page).await;
    assert!(html.contains("Sync queued — progress shows below."));
    assert!(html.contains(&format!("data-progress-url=\"{page}/progress\"")));
    assert!(html.contains("Queued: Sync now."), "{html}");
    assert!(html.contains("<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>"));
    // The confirmation is shown once.
    assert!(!s.page(&page).await.contains("Sync queued"));

    let second = s
        .app
        .post_form(&page, &format!("{page}/sync-now"), &[])
        .await;
    assert_eq!(second.status(), 303);
    assert!(s.page(&page).await.contains("That sync is already queued"));

    let jobs: Vec<Value> = sqlx::query_scalar("select job from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_all(&s.app.db)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["request"]["kind"], json!("asked"));
    assert_eq!(jobs[0]["request"]["sync_now"], json!(true));
    assert_eq!(jobs[0]["request"]["by_customer"], json!(true));
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'sync.queued'")
            .fetch_one(&s.app.db)
            .await
            .unwrap();
    assert_eq!(audited, 1, "the queued run is audited once");

    // Retry one failed document: queued for that row, back on the documents page.
    let entry = s.failed_invoice.to_string();
    let r = s
        .app
        .post_form(&page, &format!("{page}/retry"), &[("entry", &entry)])
        .await;
    assert_eq!(location(&r), format!("{page}/documents"));
    // It joins the sync already waiting: one job per integration asks for both.
    let jobs: Vec<Value> = sqlx::query_scalar("select job from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_all(&s.app.db)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["request"]["retry"], json!([s.failed_invoice]));
    assert_eq!(jobs[0]["request"]["sync_now"], json!(true));
}

#[tokio::test]
async fn back_sync_errors_are_shown_next_to_each_field_with_what_was_typed() {
    let s = Seeded::start().await;
    let page = format!("/integrations/{}", s.id);
    let r = s
        .app
        .post_form(
            &page,
            &format!("{page}/back-sync"),
            &[("from", "2026-11-31"), ("to", "")],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = plain(&r.text().await.unwrap());
    assert!(html.contains("id=\"from-error\">Enter the first day as a date like 2026-11-01"));
    assert!(html.contains("id=\"to-error\">Enter the last day to sync"));
    assert!(
        html.contains("value=\"2026-11-31\""),
        "what was typed is kept"
    );

    let (from, to) = (days_ago(3).to_string(), days_ago(5).to_string());
    let r = s
        .app
        .post_form(
            &page,
            &format!("{page}/back-sync"),
            &[("from", &from), ("to", &to)],
        )
        .await;
    assert_eq!(r.status(), 422);
    let html = plain(&r.text().await.unwrap());
    assert!(html.contains(&format!(
        "The last day must be on or after the first day ({from})"
    )));

    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs")
        .fetch_one(&s.app.db)
        .await
        .unwrap();
    assert_eq!(jobs, 0, "nothing is queued from a form with errors");

    let r = s
        .app
        .post_form(
            &page,
            &format!("{page}/back-sync"),
            &[("from", &to), ("to", &from)],
        )
        .await;
    assert_eq!(location(&r), page);
    let job: Value = sqlx::query_scalar("select job from apalis.jobs")
        .fetch_one(&s.app.db)
        .await
        .unwrap();
    assert_eq!(job["request"]["kind"], json!("asked"));
    assert_eq!(
        job["request"]["back_sync"],
        json!([{"from": to, "to": from}])
    );
    assert_eq!(job["day"], json!(from));
}

#[tokio::test]
async fn the_documents_page_filters_groups_failures_and_links_each_fix() {
    let s = Seeded::start().await;
    let base = format!("/integrations/{}/documents", s.id);
    let all = s.page(&base).await;
    assert!(all.contains("Documents 1–9 of 9"), "{all}");
    assert!(all.contains("View in QuickBooks"));
    assert!(all.contains("https://qbo.example/app/invoice?txnId=101"));
    assert!(!all.contains("INV-901"), "another tenant's document");
    // Failures grouped by reason, each with its fix and a link to the filtered list.
    assert!(all.contains("The QuickBooks books are closed for their dates"));
    assert!(all.contains("A setting is missing for these documents"));
    assert!(all.contains("state=failed&code=6210"));
    assert!(all.contains(&format!(
        "/integrations/{}/setup/payroll\">Open the Payroll step",
        s.id
    )));
    assert!(
        all.contains("settings?p=Advanced"),
        "closed books link to QuickBooks' closing date"
    );
    // Flags.
    assert!(all.contains("Changed in TrackTik"));
    assert!(all.contains("QuickBooks computed the tax: 13.01 instead of 13.00"));
    assert!(all.contains(">40.25 USD<"), "money with its currency");

    let failed = s.page(&format!("{base}?state=failed")).await;
    assert!(failed.contains("Documents 1–2 of 2"));
    assert!(failed.contains("INV-202") && failed.contains("PR-8"));
    assert!(
        failed.contains("Retry INV-202"),
        "a failed document can be retried"
    );
    let grouped = s.page(&format!("{base}?state=failed&code=6210")).await;
    assert!(grouped.contains("Documents 1–1 of 1") && grouped.contains("INV-202"));

    let payruns = s.page(&format!("{base}?kind=payrun")).await;
    assert!(payruns.contains("Documents 1–2 of 2") && payruns.contains("PR-7"));
    let night = days_ago(2).to_string();
    let by_day = s.page(&format!("{base}?from={night}&to={night}")).await;
    assert!(by_day.contains("Documents 1–3 of 3"));
    let by_number = s.page(&format!("{base}?q=INV-10")).await;
    assert!(by_number.contains("Documents 1–2 of 2") && by_number.contains("INV-102"));
    let none = s.page(&format!("{base}?q=901")).await;
    assert!(none.contains("No document matches these filters"));
    let bad = s.page(&format!("{base}?from=yesterday&state=posted")).await;
    assert!(bad.contains("id=\"from-error\">Enter a date like 2026-11-01"));
    assert!(bad.contains("value=\"yesterday\""));
    assert!(
        bad.contains("Documents 1–5 of 5"),
        "the other filters still apply"
    );

    // Fifty more on a third night: two pages.
    sqlx::query(
        "insert into ledger_entry (tenant_id, integration_id, source, source_id, revision,
            doc_number, trading_day, approved_at, amount, currency, state)
         select tenant_id, integration_id, 'invoice', 1000 + n, 'r1', 'INV-' || (1000 + n),
                $2, now(), 1, 'USD', 'pending'
         from integration, generate_series(1, 50) n where integration_id = $1",
    )
    .bind(s.id)
    .bind(days_ago(3))
    .execute(&s.app.db)
    .await
    .unwrap();
    let first = s.page(&base).await;
    assert!(first.contains("Documents 1–50 of 59") && first.contains("Page 1 of 2"));
    let second = s.page(&format!("{base}?page=2")).await;
    assert!(second.contains("Documents 51–59 of 59"));
}

#[tokio::test]
async fn staff_see_the_dashboard_and_documents_read_only_and_each_view_is_audited() {
    let app = TestApp::spawn().await;
    let (tenant, id) = other_tenant(&app.db).await;
    doc(&app.db, (tenant, id), "invoice", 1, "INV-1", days_ago(1), "12.34", "failed", None,
        "error_code = '6140', last_error = 'QuickBooks already has an invoice numbered INV-1.', fix_hint = 'Renumber it.', fix_at = 'quickbooks'").await;
    app.sign_in_staff().await;

    let r = app.get(&format!("/support/integrations/{id}")).await;
    assert_eq!(r.status(), 200);
    let html = plain(&r.text().await.unwrap());
    assert!(html.contains("topbar--staff"));
    assert!(html.contains("read-only"));
    assert!(
        html.contains("0 posted, 1 failed"),
        "the same numbers as the customer sees"
    );
    let forms: Vec<&str> = html
        .match_indices("<form")
        .map(|(i, _)| &html[i..i + 60])
        .collect();
    assert_eq!(forms.len(), 1, "only the staff sign-out form: {forms:?}");
    assert!(forms[0].contains("/staff/sign-out"));
    assert!(html.contains(&format!("/support/integrations/{id}/documents")));

    let docs = plain(
        &app.get_html(&format!("/support/integrations/{id}/documents"))
            .await,
    );
    assert!(
        docs.contains("INV-1")
            && docs.contains("QuickBooks already has an invoice numbered INV-1.")
    );
    assert_eq!(
        docs.matches("<form method=\"post\"").count(),
        1,
        "no Retry for staff"
    );

    let audited: Vec<(String, uuid::Uuid)> = sqlx::query_as(
        "select action, tenant_id from audit_event where actor_kind = 'staff' and action like 'staff.viewed_%' order by occurred_at",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        audited,
        vec![
            ("staff.viewed_dashboard".to_owned(), tenant),
            ("staff.viewed_documents".to_owned(), tenant)
        ]
    );
    assert_eq!(
        app.get(&format!("/support/integrations/{}", uuid::Uuid::new_v4()))
            .await
            .status(),
        404
    );
}

/// One server-sent event: (event name, JSON data).
async fn next_event(
    response: &mut reqwest::Response,
    buffer: &mut String,
) -> Option<(String, Value)> {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim());
                }
            }
            if data.is_empty() {
                continue; // a keep-alive comment
            }
            return Some((name, serde_json::from_str(&data).unwrap()));
        }
        let chunk = response.chunk().await.unwrap()?;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn the_progress_stream_follows_a_real_run_from_the_queue_to_its_end() {
    let app = TestApp::spawn_with_sandboxes().await;
    let (tenant_id, integration_id) =
        activated_integration(&app, US_REALM_ID, days_ago(6), ZONE).await;

    // Preview first: it lists what would be posted and writes nothing.
    let preview = plain(
        &app.get_html(&format!("/integrations/{integration_id}/preview"))
            .await,
    );
    assert!(preview.contains("What a sync would post now"), "{preview}");
    assert!(preview.contains("Ready"));
    let rows: i64 = sqlx::query_scalar("select count(*) from ledger_entry")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 0, "a preview writes nothing");

    // QuickBooks holds each write for two seconds, so the run lasts long enough to be watched
    // (documents go in batches of up to 30, or one by one when alone).
    for path in ["/batch", "/invoice", "/purchase"] {
        Sandboxes::control(
            app.sandboxes().quickbooks.base_url(),
            "/__sandbox/faults",
            json!({"kind": "timeout", "seconds": 2, "count": 2, "method": "POST", "path_contains": path}),
        )
        .await;
    }
    let (job, _) = controls::enqueue(
        &app.state,
        tenant_id,
        integration_id,
        RunRequest::Manual,
        None,
        ledgerbridge::sync::runs::Requester::Customer,
    )
    .await
    .unwrap();

    let mut stream = app
        .get(&format!("/integrations/{integration_id}/progress"))
        .await;
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut buffer = String::new();
    let (name, first) = next_event(&mut stream, &mut buffer).await.unwrap();
    assert_eq!(
        (name.as_str(), first["phase"].as_str()),
        ("progress", Some("queued"))
    );

    // The worker's part: run the job, then mark it done as apalis would.
    let worker = tokio::spawn({
        let state = app.state.clone();
        async move {
            let report = controls::run_job(&state, tenant_id, &job).await.unwrap();
            sqlx::query("update apalis.jobs set status = 'Done', done_at = now()")
                .execute(&state.db)
                .await
                .unwrap();
            report
        }
    });

    let mut running = Vec::new();
    let last = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            let (name, event) = next_event(&mut stream, &mut buffer)
                .await
                .expect("the stream ends with an end event");
            if name == "end" {
                return event;
            }
            assert_eq!(event["phase"], "running", "{event}");
            running.push(event);
        }
    })
    .await
    .expect("the run ends");
    let report = worker.await.unwrap();

    assert!(report.counts.total >= 3, "{report:?}");
    assert!(
        running.iter().any(|e| {
            let (done, total) = (e["done"].as_i64().unwrap(), e["total"].as_i64().unwrap());
            total > 0 && done < total
        }),
        "progress part-way through was streamed: {running:?}"
    );
    let dones: Vec<i64> = running
        .iter()
        .map(|e| e["done"].as_i64().unwrap())
        .collect();
    assert!(
        dones.windows(2).all(|w| w[0] <= w[1]),
        "progress only moves forward: {dones:?}"
    );
    assert_eq!(last["phase"], "finished");
    assert_eq!(
        last["total"].as_i64().unwrap(),
        i64::from(report.counts.total)
    );
    assert_eq!(
        last["posted"].as_i64().unwrap(),
        i64::from(report.counts.posted)
    );
    assert_eq!(last["done"], last["total"]);

    // After the run, the dashboard shows it and no progress box.
    let html = plain(
        &app.get_html(&format!("/integrations/{integration_id}"))
            .await,
    );
    assert!(!html.contains("data-progress-url"));
    assert!(
        html.contains("Sync now for"),
        "the last run is the manual one"
    );
    let _ = csrf_token(&html).expect("the page has its forms");
}
