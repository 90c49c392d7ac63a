//! What the integration dashboard shows besides its documents, read in one statement: the
//! integration with its answers, both connections, the run going on, the runs waiting, the
//! recent runs, the last finished one, the rollbacks and the number of failed documents.
//!
//! Each part is the read of its own function ([`super::live_run`], [`super::queued`],
//! [`crate::sync::runs::recent`], [`super::last_finished_run`],
//! [`crate::sync::rollback::recent`], [`super::documents::error_groups`] summed,
//! [`crate::connections::db`]'s two connections) as a sub-select, so a view costs one round
//! trip instead of ten, and every part is as current as the statement.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{FromRow, PgExecutor, Row};

use super::Activity;
use crate::connections::Connection;
use crate::ids::{IntegrationId, TenantId};
use crate::integrations::Integration;
use crate::sync::controls::SyncIntegration;
use crate::sync::rollback::Rollback;
use crate::sync::runs::SyncRun;
use crate::wizard::Draft;

/// The dashboard's reads of one integration (see the module).
#[derive(Clone, Debug)]
pub struct Overview {
    /// The integration with its answers (and what Express set up).
    pub draft: Draft,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
    /// The tenant's TrackTik connection.
    pub tracktik: Option<Connection>,
    /// The integration's QuickBooks connection.
    pub quickbooks: Option<Connection>,
    /// The run going on, else the runs waiting (as [`super::activity`] says).
    pub activity: Activity,
    /// The latest runs, newest first.
    pub recent: Vec<SyncRun>,
    /// The latest finished run.
    pub last_finished: Option<SyncRun>,
    /// The rollbacks, newest first (the latest 50).
    pub rollbacks: Vec<Rollback>,
    /// Documents QuickBooks refused (every failed group's count).
    pub failed_documents: i64,
}

impl Overview {
    /// The integration as the other pages read it.
    pub fn integration(&self) -> Integration {
        let d = &self.draft;
        Integration {
            integration_id: d.integration_id,
            tenant_id: d.tenant_id,
            realm_id: d.realm_id.clone(),
            company_name: d.company_name.clone(),
            country: d.country.clone(),
            home_currency: d.home_currency.clone(),
            company_prefs: d.company_prefs.clone(),
            state: d.state,
            created_at: self.created_at,
        }
    }
}

/// One run and which part of the overview it answers.
#[derive(serde::Deserialize)]
struct PartRun {
    part: String,
    #[serde(flatten)]
    run: SyncRun,
}

/// The connection whose columns are `names` (see [`TRACKTIK`]), if the row has one.
fn connection(row: &PgRow, names: &[&str; 10]) -> sqlx::Result<Option<Connection>> {
    let Some(connection_id) = row.try_get(names[0])? else {
        return Ok(None);
    };
    Ok(Some(Connection {
        connection_id,
        tenant_id: row.try_get(names[1])?,
        integration_id: row.try_get(names[2])?,
        provider: row.try_get(names[3])?,
        external_id: row.try_get(names[4])?,
        health: row.try_get(names[5])?,
        health_reason: row.try_get(names[6])?,
        access_expires_at: row.try_get(names[7])?,
        refresh_expires_at: row.try_get(names[8])?,
        refreshed_at: row.try_get(names[9])?,
    }))
}

const TRACKTIK: [&str; 10] = [
    "tt_connection_id",
    "tt_tenant_id",
    "tt_integration_id",
    "tt_provider",
    "tt_external_id",
    "tt_health",
    "tt_health_reason",
    "tt_access_expires_at",
    "tt_refresh_expires_at",
    "tt_refreshed_at",
];

const QUICKBOOKS: [&str; 10] = [
    "qb_connection_id",
    "qb_tenant_id",
    "qb_integration_id",
    "qb_provider",
    "qb_external_id",
    "qb_health",
    "qb_health_reason",
    "qb_access_expires_at",
    "qb_refresh_expires_at",
    "qb_refreshed_at",
];

impl<'r> FromRow<'r, PgRow> for Overview {
    fn from_row(row: &'r PgRow) -> sqlx::Result<Self> {
        let Json(runs): Json<Vec<PartRun>> = row.try_get("runs")?;
        let Json(queued): Json<Vec<SyncIntegration>> = row.try_get("queued")?;
        let Json(rollbacks): Json<Vec<Rollback>> = row.try_get("rollbacks")?;
        let (mut live, mut last_finished, mut recent) = (None, None, Vec::new());
        for PartRun { part, run } in runs {
            match part.as_str() {
                "live" => live = Some(run),
                "last" => last_finished = Some(run),
                _ => recent.push(run),
            }
        }
        let activity = match live {
            Some(run) => Activity::Running(run),
            None if queued.is_empty() => Activity::Idle,
            None => Activity::Queued(queued.into_iter().map(|j| j.request).collect()),
        };
        Ok(Self {
            draft: Draft::from_row(row)?,
            created_at: row.try_get("created_at")?,
            tracktik: connection(row, &TRACKTIK)?,
            quickbooks: connection(row, &QUICKBOOKS)?,
            activity,
            recent,
            last_finished,
            rollbacks,
            failed_documents: row.try_get("failed_documents")?,
        })
    }
}

/// A connection's columns from the table aliased `alias`, each named `{alias}_{column}`.
fn connection_columns(alias: &str) -> String {
    crate::connections::db::COLUMNS
        .split(',')
        .map(|c| format!("{alias}.{0} as {alias}_{0}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The overview of this tenant's integration (`None` for another tenant's), with the latest
/// `recent` runs.
pub async fn read(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    recent: i64,
) -> sqlx::Result<Option<Overview>> {
    sqlx::query_as(statement())
        .bind(tenant_id)
        .bind(integration_id)
        .bind(recent)
        .bind(crate::sync::controls::job_type())
        .fetch_optional(db)
        .await
}

/// The statement [`read`] sends (built once per process).
fn statement() -> &'static str {
    static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SQL.get_or_init(|| {
        let runs = crate::sync::runs::COLUMNS;
        format!(
            "select d.*, {tt}, {qb},
                (select count(*) from ledger_entry l
                 where l.tenant_id = $1 and l.integration_id = $2 and l.state = 'failed')
                    as failed_documents,
                (select coalesce(json_agg(j.job order by j.run_at, j.id), '[]')
                 from apalis.jobs j
                 where j.job_type = $4 and j.status in ('Pending', 'Running')
                   and j.job ->> 'integration_id' = $2::text) as queued,
                (select coalesce(json_agg(r order by r.created_at desc), '[]')
                 from (select rollback_id, trading_day, requested_by, status, reversed, refused,
                              created_at, finished_at
                       from rollback where tenant_id = $1 and integration_id = $2
                       order by created_at desc limit 50) r) as rollbacks,
                (select coalesce(json_agg(r order by r.part, r.started_at desc,
                                          r.sync_run_id desc), '[]') from (
                    (select 'live' as part, {live_columns} from ({live}) live)
                    union all
                    (select 'recent', {runs} from sync_run
                     where tenant_id = $1 and integration_id = $2
                     order by started_at desc, sync_run_id desc limit $3)
                    union all
                    (select 'last', {runs} from sync_run
                     where tenant_id = $1 and integration_id = $2 and finished_at is not null
                     order by finished_at desc, sync_run_id desc limit 1)) r) as runs
             from (select {draft}, created_at from integration
                   where tenant_id = $1 and integration_id = $2) d
             left join connection tt on tt.tenant_id = d.tenant_id and tt.provider = 'tracktik'
             left join connection qb on qb.tenant_id = d.tenant_id
                  and qb.integration_id = d.integration_id and qb.provider = 'quickbooks'",
            tt = connection_columns("tt"),
            qb = connection_columns("qb"),
            live = super::LIVE_RUN,
            live_columns = runs,
            draft = crate::wizard::db::DRAFT_COLUMNS,
        )
    })
}
