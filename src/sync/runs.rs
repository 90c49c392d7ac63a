//! Sync runs (one row per run, with counts and progress for the dashboard) and the
//! (integration, day) keys that make enqueueing idempotent.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;

use crate::ids::{IntegrationId, TenantId};

/// Why a run was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "sync_run_kind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// The nightly job for a trading day.
    Nightly,
    /// "Sync now".
    Manual,
    /// "Back-sync a date range".
    BackSync,
    /// "Retry failed".
    Retry,
    /// "Preview": nothing written to QuickBooks.
    Preview,
}

/// Who asked for a run (the dashboard labels it so: a run support started is never shown as the
/// customer's own "Retry failed").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requester {
    /// The nightly schedule (the cron tick).
    #[default]
    Schedule,
    /// Someone of the customer's, from the dashboard.
    Customer,
    /// Support staff, from the console.
    Support,
    /// An operator, from the command line.
    CommandLine,
}

impl Requester {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Schedule => "schedule",
            Self::Customer => "customer",
            Self::Support => "support",
            Self::CommandLine => "command_line",
        }
    }

    /// From what was stored (older rows: the schedule).
    pub fn parse(s: &str) -> Self {
        match s {
            "customer" => Self::Customer,
            "support" => Self::Support,
            "command_line" => Self::CommandLine,
            _ => Self::Schedule,
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::Type)]
#[sqlx(type_name = "sync_run_status", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going.
    Running,
    /// Every document posted (or nothing to do).
    Succeeded,
    /// Some documents failed; the others were posted.
    Partial,
    /// The run stopped (e.g. a connection needs the customer).
    Failed,
}

/// One run.
#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow)]
pub struct SyncRun {
    /// Id.
    pub sync_run_id: i64,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Integration.
    pub integration_id: IntegrationId,
    /// The trading day it ran for.
    pub trading_day: NaiveDate,
    /// Why.
    pub kind: RunKind,
    /// Where it stands.
    pub status: RunStatus,
    /// Documents to post in this run.
    pub total: i32,
    /// Documents handled so far.
    pub done: i32,
    /// Posted.
    pub posted: i32,
    /// Failed.
    pub failed: i32,
    /// Skipped.
    pub skipped: i32,
    /// Why the run stopped, in plain language.
    pub error: Option<String>,
    /// Who asked for it (`schedule`, `customer`, `support`, `command_line`).
    pub requested_by: String,
    /// For a catch-up of several trading days: the first of them (`trading_day` is the last).
    pub first_day: Option<NaiveDate>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: Option<DateTime<Utc>>,
}

pub(crate) const COLUMNS: &str = "sync_run_id, tenant_id, integration_id, trading_day, kind, status, total, \
    done, posted, failed, skipped, error, requested_by, first_day, started_at, finished_at";

impl SyncRun {
    /// Who asked for it.
    pub fn requester(&self) -> Requester {
        Requester::parse(&self.requested_by)
    }
}

/// Starts a run for `day` (a catch-up: `first_day` to `day`), asked for by `by`. Called under
/// the integration's lock, when no other run of it can be alive: runs still marked `running`
/// were left by a worker that stopped mid-run, and are ended in the same statement (their
/// documents are resolved by this run).
pub async fn start(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
    kind: RunKind,
    by: Requester,
    first_day: Option<NaiveDate>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "with interrupted as (
            update sync_run set status = 'failed', finished_at = now(),
                error = 'The run was interrupted (its worker stopped); the next run took over its documents.'
            where tenant_id = $1 and integration_id = $2 and status = 'running')
         insert into sync_run (tenant_id, integration_id, trading_day, kind, requested_by,
            first_day)
         values ($1, $2, $3, $4, $5, $6) returning sync_run_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(day)
    .bind(kind)
    .bind(by.as_str())
    .bind(first_day.filter(|f| *f < day))
    .fetch_one(db)
    .await
}

/// Counts so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// To post.
    pub total: i32,
    /// Posted.
    pub posted: i32,
    /// Failed.
    pub failed: i32,
    /// Skipped.
    pub skipped: i32,
}

impl Counts {
    /// Handled so far.
    pub fn done(&self) -> i32 {
        self.posted + self.failed + self.skipped
    }
}

/// Writes the counts.
pub async fn progress(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    sync_run_id: i64,
    counts: Counts,
) -> sqlx::Result<()> {
    sqlx::query(
        "update sync_run set total = $3, done = $4, posted = $5, failed = $6, skipped = $7
         where tenant_id = $1 and sync_run_id = $2",
    )
    .bind(tenant_id)
    .bind(sync_run_id)
    .bind(counts.total)
    .bind(counts.done())
    .bind(counts.posted)
    .bind(counts.failed)
    .bind(counts.skipped)
    .execute(db)
    .await?;
    Ok(())
}

/// Ends a run with its final counts.
pub async fn finish(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    sync_run_id: i64,
    status: RunStatus,
    error: Option<&str>,
    counts: Counts,
) -> sqlx::Result<()> {
    sqlx::query(
        "update sync_run set status = $3, error = $4, finished_at = now(), total = $5,
            done = $6, posted = $7, failed = $8, skipped = $9
         where tenant_id = $1 and sync_run_id = $2",
    )
    .bind(tenant_id)
    .bind(sync_run_id)
    .bind(status)
    .bind(error)
    .bind(counts.total)
    .bind(counts.done())
    .bind(counts.posted)
    .bind(counts.failed)
    .bind(counts.skipped)
    .execute(db)
    .await?;
    Ok(())
}

/// One run.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    sync_run_id: i64,
) -> sqlx::Result<Option<SyncRun>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from sync_run where tenant_id = $1 and sync_run_id = $2"
    ))
    .bind(tenant_id)
    .bind(sync_run_id)
    .fetch_optional(db)
    .await
}

/// The integration's runs, newest first.
pub async fn recent(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    limit: i64,
) -> sqlx::Result<Vec<SyncRun>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from sync_run where tenant_id = $1 and integration_id = $2
         order by started_at desc, sync_run_id desc limit $3"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The latest day enqueued for the integration.
pub async fn last_enqueued_day(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Option<NaiveDate>> {
    sqlx::query_scalar(
        "select max(trading_day) from sync_day where tenant_id = $1 and integration_id = $2",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_one(db)
    .await
}

/// Claims (integration, day) for enqueueing; false when it was claimed before.
pub async fn claim_day(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "insert into sync_day (tenant_id, integration_id, trading_day) values ($1, $2, $3)
         on conflict do nothing",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(day)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
