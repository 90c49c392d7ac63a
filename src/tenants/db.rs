//! SQL for tenants and their users. Tenant-scoped functions take the tenant id first.

use sqlx::PgExecutor;

use super::{Tenant, TenantUser};
use crate::ids::{IntegrationId, TenantId, TenantUserId};

const TENANT: &str = "tenant_id, portal_url, portal_key, name, created_at";
const USER: &str =
    "tenant_user_id, tenant_id, tracktik_user_id, display_name, email, role, may_activate";

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

/// The tenant of the portal with this key, if it has one.
pub async fn find_by_key(
    db: impl PgExecutor<'_>,
    portal_key: &str,
) -> sqlx::Result<Option<Tenant>> {
    sqlx::query_as(&format!(
        "select {TENANT} from tenant where portal_key = $1"
    ))
    .bind(portal_key)
    .fetch_optional(db)
    .await
}

/// The tenant of the portal with this key, created on first sign-in (reached at
/// `portal_url`); a later sign-in refreshes its name.
pub async fn upsert_by_portal(
    db: impl PgExecutor<'_>,
    portal_key: &str,
    portal_url: &str,
    name: &str,
) -> sqlx::Result<Tenant> {
    sqlx::query_as(&format!(
        "insert into tenant (portal_key, portal_url, name) values ($1, $2, $3)
         on conflict (portal_key) do update set name = excluded.name
         returning {TENANT}"
    ))
    .bind(portal_key)
    .bind(portal_url)
    .bind(name)
    .fetch_one(db)
    .await
}

/// Who signed in, as their portal describes them.
#[derive(Clone, Debug)]
pub struct UserProfile<'a> {
    /// Their user id on the portal.
    pub tracktik_user_id: &'a str,
    /// Their name.
    pub display_name: &'a str,
    /// Their e-mail address.
    pub email: Option<&'a str>,
    /// Their role now.
    pub role: super::MemberRole,
}

/// Records a sign-in of a portal user, creating them on the first; their name, e-mail and
/// role are refreshed each time.
pub async fn upsert_user(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    profile: &UserProfile<'_>,
) -> sqlx::Result<TenantUser> {
    sqlx::query_as(&format!(
        "insert into tenant_user (tenant_id, tracktik_user_id, display_name, email, role)
         values ($1, $2, $3, $4, $5)
         on conflict (tenant_id, tracktik_user_id)
         do update set display_name = excluded.display_name, email = excluded.email,
                       role = excluded.role, last_signed_in_at = now()
         returning {USER}"
    ))
    .bind(tenant_id)
    .bind(profile.tracktik_user_id)
    .bind(profile.display_name)
    .bind(profile.email)
    .bind(profile.role)
    .fetch_one(db)
    .await
}

/// A user of this tenant who may sign in (a revoked member is nobody).
pub async fn get_user(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    user_id: TenantUserId,
) -> sqlx::Result<Option<TenantUser>> {
    sqlx::query_as(&format!(
        "select {USER} from tenant_user
         where tenant_id = $1 and tenant_user_id = $2 and revoked_at is null"
    ))
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// One integration as the page frame lists it (the switcher, and the zone times are shown in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameIntegration {
    /// Its id.
    pub integration_id: IntegrationId,
    /// Its QuickBooks company's name.
    pub company_name: String,
    /// The time zone its schedule names, as stored (not checked).
    pub time_zone: Option<String>,
}

/// A signed-in member as every customer page needs them, read in one statement: the person,
/// their tenant and the tenant's integrations, oldest first.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SignedIn {
    /// The person.
    #[sqlx(flatten)]
    pub user: TenantUser,
    /// Their tenant.
    #[sqlx(flatten)]
    pub tenant: Tenant,
    /// `(id, company, time zone)` of each integration, oldest first.
    #[sqlx(try_from = "Vec<(uuid::Uuid, String, Option<String>)>")]
    pub integrations: FrameIntegrations,
}

/// The tenant's integrations for the frame (see [`SignedIn`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameIntegrations(pub Vec<FrameIntegration>);

impl From<Vec<(uuid::Uuid, String, Option<String>)>> for FrameIntegrations {
    fn from(rows: Vec<(uuid::Uuid, String, Option<String>)>) -> Self {
        Self(
            rows.into_iter()
                .map(|(id, company_name, time_zone)| FrameIntegration {
                    integration_id: IntegrationId(id),
                    company_name,
                    time_zone,
                })
                .collect(),
        )
    }
}

/// A member of this tenant who may sign in (revoked: `None`), with their tenant and its
/// integrations: what [`get_user`], [`get`] and the integration list read, in one round trip.
pub async fn signed_in(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    user_id: TenantUserId,
) -> sqlx::Result<Option<SignedIn>> {
    sqlx::query_as(
        "select u.tenant_user_id, u.tenant_id, u.tracktik_user_id, u.display_name, u.email,
                u.role, u.may_activate, t.portal_url, t.portal_key, t.name, t.created_at,
                array(select row(i.integration_id, i.company_name,
                                 i.settings -> 'schedule' ->> 'time_zone')
                      from integration i where i.tenant_id = u.tenant_id
                      order by i.created_at, i.integration_id) as integrations
         from tenant_user u join tenant t on t.tenant_id = u.tenant_id
         where u.tenant_id = $1 and u.tenant_user_id = $2 and u.revoked_at is null",
    )
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}
