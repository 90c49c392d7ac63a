//! The dashboard, the documents page and the manual controls, over HTTP: the numbers of a
//! seeded history, the reconciliation to the cent, tenant isolation, the queue, the back-sync
//! form, the live progress stream of a real run, and the staff's read-only view.

pub(super) use std::time::Duration;

pub(super) use chrono::{Days, NaiveDate, Utc};
pub(super) use ledgerbridge::integrations::settings::Settings;
pub(super) use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
pub(super) use ledgerbridge::sync::controls::{self, RunRequest};
pub(super) use serde_json::{Value, json};

pub(super) use crate::helpers::{
    Sandboxes, TestApp, activated_integration, csrf_token, integration_of, location, unescape,
};

pub(super) const ZONE: &str = "America/Toronto";

pub(super) fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&ZONE.parse::<chrono_tz::Tz>().unwrap())
        .date_naive()
}

pub(super) fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

/// Activates an integration with a Toronto schedule that started `start` days ago.
pub(super) async fn activate(db: &sqlx::PgPool, integration: uuid::Uuid, start: NaiveDate) {
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
pub(super) async fn other_tenant(db: &sqlx::PgPool) -> (uuid::Uuid, uuid::Uuid) {
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
pub(super) async fn doc(
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

pub(super) async fn run(
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
pub(super) struct Seeded {
    pub(super) app: TestApp,
    pub(super) id: uuid::Uuid,
    pub(super) other: (uuid::Uuid, uuid::Uuid),
    pub(super) failed_invoice: i64,
    pub(super) other_doc: i64,
}

impl Seeded {
    pub(super) async fn start() -> Self {
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

    pub(super) async fn page(&self, path: &str) -> String {
        let r = self.app.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        plain(&r.text().await.unwrap())
    }
}

/// The page's text with HTML escapes undone (askama writes `&` as `&#38;`).
pub(super) fn plain(html: &str) -> String {
    unescape(&html.replace("&#38;", "&"))
}

pub(super) fn label(day: NaiveDate) -> String {
    day.format("%a %-d %b %Y").to_string()
}

mod groups;
mod manual;
mod pages;
mod progress;
mod rollback;
