//! Every draft integration across tenants, for the console: age, the step reached, the last
//! activity, and the blockers of the latest full check (kept in `draft_check` whenever the
//! review runs, for the customer or for staff).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use sqlx::types::Json;

use crate::ids::{IntegrationId, TenantId};

/// One blocker as the latest check saw it, in words.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Blocker {
    /// The step that fixes it (its label).
    pub step: String,
    /// What is wrong.
    pub message: String,
}

/// A draft as the console lists it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DraftRow {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub tenant_name: String,
    /// The integration.
    pub integration_id: IntegrationId,
    /// The QuickBooks company.
    pub company_name: String,
    /// When it was connected.
    pub created_at: DateTime<Utc>,
    /// The furthest step reached (`Step::key`).
    pub wizard_reached: String,
    /// The latest thing a customer did on it (a save, an action), or its connection.
    pub last_activity: DateTime<Utc>,
    /// When the latest full check ran, if one did since the last save.
    pub checked_at: Option<DateTime<Utc>>,
    /// What that check found.
    pub blockers: Option<Json<Vec<Blocker>>>,
}

/// Every draft, the longest idle first; with `stuck_days`, only those idle for more than that
/// many days.
pub async fn list(db: impl PgExecutor<'_>, stuck_days: Option<i64>) -> sqlx::Result<Vec<DraftRow>> {
    sqlx::query_as(
        "with d as (
             select i.tenant_id, t.name as tenant_name, i.integration_id, i.company_name,
                    i.created_at, i.wizard_reached, i.settings_saved_at,
                    greatest(i.created_at, i.settings_saved_at,
                             (select max(a.occurred_at) from audit_event a
                              where a.tenant_id = i.tenant_id and a.actor_kind = 'user'
                                and a.detail->>'integration' = i.integration_id::text)) as last_activity
             from integration i join tenant t on t.tenant_id = i.tenant_id
             where i.state = 'draft')
         select d.tenant_id, d.tenant_name, d.integration_id, d.company_name, d.created_at,
                d.wizard_reached, d.last_activity, c.checked_at, c.problems as blockers
         from d left join draft_check c
              on c.tenant_id = d.tenant_id and c.integration_id = d.integration_id
             and c.checked_at >= coalesce(d.settings_saved_at, d.created_at)
         where $1::bigint is null or d.last_activity < now() - make_interval(days => $1::int)
         order by d.last_activity, d.integration_id",
    )
    .bind(stuck_days)
    .fetch_all(db)
    .await
}

/// Keeps what a full check found.
pub async fn save_check(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    blockers: &[Blocker],
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into draft_check (tenant_id, integration_id, problems) values ($1, $2, $3)
         on conflict (tenant_id, integration_id)
         do update set problems = excluded.problems, checked_at = now()",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(Json(blockers))
    .execute(db)
    .await?;
    Ok(())
}
