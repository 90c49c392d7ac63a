//! SQL for tenants and their users. Tenant-scoped functions take the tenant id first.

use sqlx::PgExecutor;

use super::{Tenant, TenantUser};
use crate::ids::{TenantId, TenantUserId};

const TENANT: &str = "tenant_id, portal_url, name, created_at";
const USER: &str = "tenant_user_id, tenant_id, tracktik_user_id, display_name";

/// Every tenant, for staff, newest first, optionally filtered by a search on name or portal.
pub async fn list_all(db: impl PgExecutor<'_>, search: Option<&str>) -> sqlx::Result<Vec<Tenant>> {
    let pattern = search.map(str::trim).filter(|s| !s.is_empty()).map(|s| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    sqlx::query_as(&format!(
        "select {TENANT} from tenant
         where $1::text is null or name ilike $1 or portal_url ilike $1
         order by created_at desc"
    ))
    .bind(pattern)
    .fetch_all(db)
    .await
}

/// One tenant.
pub async fn get(db: impl PgExecutor<'_>, tenant_id: TenantId) -> sqlx::Result<Option<Tenant>> {
    sqlx::query_as(&format!("select {TENANT} from tenant where tenant_id = $1"))
        .bind(tenant_id)
        .fetch_optional(db)
        .await
}

/// The tenant of this portal, created on first sign-in; a later sign-in refreshes its name.
pub async fn upsert_by_portal(
    db: impl PgExecutor<'_>,
    portal_url: &str,
    name: &str,
) -> sqlx::Result<Tenant> {
    sqlx::query_as(&format!(
        "insert into tenant (portal_url, name) values ($1, $2)
         on conflict (portal_url) do update set name = excluded.name
         returning {TENANT}"
    ))
    .bind(portal_url)
    .bind(name)
    .fetch_one(db)
    .await
}

/// Records a sign-in of a portal user, creating them on the first.
pub async fn upsert_user(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    tracktik_user_id: &str,
    display_name: &str,
) -> sqlx::Result<TenantUser> {
    sqlx::query_as(&format!(
        "insert into tenant_user (tenant_id, tracktik_user_id, display_name) values ($1, $2, $3)
         on conflict (tenant_id, tracktik_user_id)
         do update set display_name = excluded.display_name, last_signed_in_at = now()
         returning {USER}"
    ))
    .bind(tenant_id)
    .bind(tracktik_user_id)
    .bind(display_name)
    .fetch_one(db)
    .await
}

/// A user of this tenant.
pub async fn get_user(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    user_id: TenantUserId,
) -> sqlx::Result<Option<TenantUser>> {
    sqlx::query_as(&format!(
        "select {USER} from tenant_user where tenant_id = $1 and tenant_user_id = $2"
    ))
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}
