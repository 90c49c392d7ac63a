//! SQL for tenants.

use sqlx::PgExecutor;

use super::Tenant;

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
    sqlx::query_as(
        "select tenant_id, portal_url, name, created_at from tenant
         where $1::text is null or name ilike $1 or portal_url ilike $1
         order by created_at desc",
    )
    .bind(pattern)
    .fetch_all(db)
    .await
}
