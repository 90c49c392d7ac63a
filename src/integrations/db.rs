//! SQL for integrations. Every function takes the tenant id first and filters by it.

use sqlx::PgExecutor;

use super::{CompanyProfile, Integration, IntegrationState};
use crate::ids::{IntegrationId, TenantId};

const COLUMNS: &str = "integration_id, tenant_id, realm_id, company_name, country, home_currency, company_prefs, state, created_at";

/// The tenant's integrations, oldest first.
pub async fn list(db: impl PgExecutor<'_>, tenant_id: TenantId) -> sqlx::Result<Vec<Integration>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from integration where tenant_id = $1 order by created_at, integration_id"
    ))
    .bind(tenant_id)
    .fetch_all(db)
    .await
}

/// One integration of the tenant; `None` also when it belongs to another tenant.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
) -> sqlx::Result<Option<Integration>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from integration where tenant_id = $1 and integration_id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The tenant's integration with this QuickBooks company, if any.
pub async fn find_by_realm(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    realm_id: &str,
) -> sqlx::Result<Option<Integration>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from integration where tenant_id = $1 and realm_id = $2"
    ))
    .bind(tenant_id)
    .bind(realm_id)
    .fetch_optional(db)
    .await
}

/// Creates the integration for a newly connected company (a draft).
pub async fn insert(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    company: &CompanyProfile,
) -> sqlx::Result<Integration> {
    sqlx::query_as(&format!(
        "insert into integration (tenant_id, realm_id, company_name, country, home_currency, company_prefs)
         values ($1, $2, $3, $4, $5, $6) returning {COLUMNS}"
    ))
    .bind(tenant_id)
    .bind(&company.realm_id)
    .bind(&company.name)
    .bind(&company.country)
    .bind(&company.home_currency)
    .bind(sqlx::types::Json(&company.prefs))
    .fetch_one(db)
    .await
}

/// Refreshes what we know of the company (after a reconnect).
pub async fn update_company(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
    company: &CompanyProfile,
) -> sqlx::Result<()> {
    sqlx::query(
        "update integration set company_name = $3, country = $4, home_currency = $5, company_prefs = $6
         where tenant_id = $1 and integration_id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(&company.name)
    .bind(&company.country)
    .bind(&company.home_currency)
    .bind(sqlx::types::Json(&company.prefs))
    .execute(db)
    .await?;
    Ok(())
}

/// Marks integrations as needing a reconnect, remembering where each stood. `only` limits it
/// to one integration; `None` means every integration of the tenant (TrackTik was lost).
pub async fn mark_needs_reconnect(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    only: Option<IntegrationId>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update integration set resume_state = state, state = 'needs_reconnect'
         where tenant_id = $1 and ($2::uuid is null or integration_id = $2) and state <> 'needs_reconnect'",
    )
    .bind(tenant_id)
    .bind(only)
    .execute(db)
    .await?
    .rows_affected())
}

/// Restores integrations whose connections all work again to the state they had.
pub async fn restore_after_reconnect(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update integration i set state = coalesce(i.resume_state, 'draft'), resume_state = null
         where i.tenant_id = $1 and i.state = 'needs_reconnect'
           and not exists (select 1 from connection c
                           where c.tenant_id = i.tenant_id
                             and (c.integration_id = i.integration_id or c.provider = 'tracktik')
                             and c.health in ('needs_reconnect', 'disconnected'))
           and exists (select 1 from connection c
                       where c.tenant_id = i.tenant_id and c.integration_id = i.integration_id)",
    )
    .bind(tenant_id)
    .execute(db)
    .await?
    .rows_affected())
}

/// Sets the state (wizard activation, pause, resume).
pub async fn set_state(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
    state: IntegrationState,
) -> sqlx::Result<()> {
    sqlx::query("update integration set state = $3 where tenant_id = $1 and integration_id = $2")
        .bind(tenant_id)
        .bind(id)
        .bind(state)
        .execute(db)
        .await?;
    Ok(())
}

/// The integration's settings (defaults where nothing was saved yet).
pub async fn settings(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
) -> sqlx::Result<super::settings::Settings> {
    let raw: Option<sqlx::types::Json<serde_json::Value>> = sqlx::query_scalar(
        "select settings from integration where tenant_id = $1 and integration_id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(raw
        .and_then(|json| serde_json::from_value(json.0).ok())
        .unwrap_or_default())
}
