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

mod lists;
mod metrics;
mod replays;
