//! SQL for members and their sign-in links. Tenant-scoped functions take the tenant id first.

use sqlx::{PgConnection, PgExecutor};

use super::{Invitation, LinkInfo, LinkPurpose, Member, NewLink, new_token, token_hash};
use crate::ids::{TenantId, TenantUserId};
use crate::tenants::TenantUser;

const USER: &str =
    "tenant_user_id, tenant_id, tracktik_user_id, display_name, email, role, may_activate";

/// Everyone of the tenant: administrators and viewers who signed in with TrackTik, and
/// invited members (revoked ones last).
pub async fn list(db: impl PgExecutor<'_>, tenant_id: TenantId) -> sqlx::Result<Vec<Member>> {
    sqlx::query_as(
        "select u.tenant_user_id, u.display_name, u.email, u.role,
                u.tracktik_user_id is not null as tracktik,
                i.display_name as invited_by_name, u.invited_at,
                case when u.tracktik_user_id is not null then u.last_signed_in_at
                     else (select max(l.used_at) from member_link l
                           where l.tenant_id = u.tenant_id and l.tenant_user_id = u.tenant_user_id)
                end as last_signed_in_at,
                u.revoked_at, u.may_activate,
                (select max(l.expires_at) from member_link l
                 where l.tenant_id = u.tenant_id and l.tenant_user_id = u.tenant_user_id
                   and l.used_at is null) as link_expires_at
         from tenant_user u
         left join tenant_user i on i.tenant_user_id = u.invited_by and i.tenant_id = u.tenant_id
         where u.tenant_id = $1
         order by u.revoked_at is not null, u.role, lower(u.display_name), u.tenant_user_id",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await
}

/// An invited member and whether their access was revoked.
#[derive(sqlx::FromRow)]
struct InvitedRow {
    #[sqlx(flatten)]
    user: TenantUser,
    revoked: bool,
}

/// One invited member of the tenant (revoked or not): the person and whether they are revoked.
pub async fn get_invited(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    user_id: TenantUserId,
) -> sqlx::Result<Option<(TenantUser, bool)>> {
    sqlx::query_as::<_, InvitedRow>(&format!(
        "select {USER}, revoked_at is not null as revoked from tenant_user
         where tenant_id = $1 and tenant_user_id = $2 and tracktik_user_id is null"
    ))
    .bind(tenant_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
    .map(|r| r.map(|r| (r.user, r.revoked)))
}

/// Why an invitation was not saved.
#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    /// The address already belongs to a member of this tenant who has access.
    #[error("already a member")]
    AlreadyMember,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Makes `invitation` a member of the tenant with the `accountant` role, invited by
/// `inviter`; someone whose access was revoked is let back in with the new name and choice.
pub async fn invite(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    inviter: TenantUserId,
    invitation: &Invitation,
) -> Result<TenantUser, InviteError> {
    let existing: Option<(TenantUserId, bool)> = sqlx::query_as(
        "select tenant_user_id, revoked_at is not null from tenant_user
         where tenant_id = $1 and tracktik_user_id is null and lower(email) = lower($2)
         for update",
    )
    .bind(tenant_id)
    .bind(&invitation.email)
    .fetch_optional(&mut *conn)
    .await?;
    let user = match existing {
        Some((_, false)) => return Err(InviteError::AlreadyMember),
        Some((id, true)) => {
            sqlx::query_as(&format!(
                "update tenant_user set display_name = $3, email = $4, may_activate = $5,
                        invited_by = $6, invited_at = now(), revoked_at = null, revoked_by = null
                 where tenant_id = $1 and tenant_user_id = $2 returning {USER}"
            ))
            .bind(tenant_id)
            .bind(id)
            .bind(&invitation.name)
            .bind(&invitation.email)
            .bind(invitation.may_activate)
            .bind(inviter)
            .fetch_one(&mut *conn)
            .await?
        }
        None => {
            sqlx::query_as(&format!(
                "insert into tenant_user (tenant_id, tracktik_user_id, display_name, email, role,
                                          may_activate, invited_by, invited_at)
                 values ($1, null, $2, $3, 'accountant', $4, $5, now())
                 on conflict do nothing
                 returning {USER}"
            ))
            .bind(tenant_id)
            .bind(&invitation.name)
            .bind(&invitation.email)
            .bind(invitation.may_activate)
            .bind(inviter)
            .fetch_optional(&mut *conn)
            .await?
            // Someone invited the same address at the same instant.
            .ok_or(InviteError::AlreadyMember)?
        }
    };
    Ok(user)
}

/// A new single-use link for the member; their earlier unused links stop working.
pub async fn issue_link(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: TenantUserId,
    purpose: LinkPurpose,
) -> sqlx::Result<NewLink> {
    sqlx::query(
        "delete from member_link where tenant_id = $1 and tenant_user_id = $2 and used_at is null",
    )
    .bind(tenant_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    let token = new_token();
    let expires_at = chrono::Utc::now() + purpose.valid_for();
    sqlx::query(
        "insert into member_link (tenant_id, tenant_user_id, token_hash, purpose, expires_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(token_hash(&token))
    .bind(purpose.key())
    .bind(expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(NewLink { token, expires_at })
}

const LINK: &str = "l.tenant_id, t.name as tenant_name, l.tenant_user_id, u.display_name,
                    l.expires_at, l.used_at, u.revoked_at";

/// What a link leads to, whatever its state (for the page that asks to confirm the sign-in).
pub async fn find_link(db: impl PgExecutor<'_>, token: &str) -> sqlx::Result<Option<LinkInfo>> {
    sqlx::query_as(&format!(
        "select {LINK} from member_link l
         join tenant_user u on u.tenant_id = l.tenant_id and u.tenant_user_id = l.tenant_user_id
         join tenant t on t.tenant_id = l.tenant_id
         where l.token_hash = $1"
    ))
    .bind(token_hash(token))
    .fetch_optional(db)
    .await
}

/// Uses a link: only once, only before it expires, only while the member has access. Returns
/// who it signs in.
pub async fn use_link(conn: &mut PgConnection, token: &str) -> sqlx::Result<Option<LinkInfo>> {
    let used: Option<(TenantId, TenantUserId)> = sqlx::query_as(
        "update member_link l set used_at = now()
         from tenant_user u
         where l.token_hash = $1 and l.used_at is null and l.expires_at > now()
           and u.tenant_id = l.tenant_id and u.tenant_user_id = l.tenant_user_id
           and u.revoked_at is null
         returning l.tenant_id, l.tenant_user_id",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *conn)
    .await?;
    let Some((tenant_id, user_id)) = used else {
        return Ok(None);
    };
    sqlx::query(
        "update tenant_user set last_signed_in_at = now() where tenant_id = $1 and tenant_user_id = $2",
    )
    .bind(tenant_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    find_link(&mut *conn, token).await
}

/// Ends an invited member's access: their sessions stop at their next request (the sign-in
/// check refuses a revoked member) and their unused links stop working.
pub async fn revoke(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user_id: TenantUserId,
    by: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update tenant_user set revoked_at = now(), revoked_by = $3
         where tenant_id = $1 and tenant_user_id = $2 and tracktik_user_id is null
           and revoked_at is null",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(by)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    sqlx::query(
        "delete from member_link where tenant_id = $1 and tenant_user_id = $2 and used_at is null",
    )
    .bind(tenant_id)
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(done)
}

/// Lets an invited member activate the integration, or stops letting them.
pub async fn set_may_activate(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    user_id: TenantUserId,
    may_activate: bool,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "update tenant_user set may_activate = $3
         where tenant_id = $1 and tenant_user_id = $2 and tracktik_user_id is null
           and revoked_at is null",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(may_activate)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Every membership with access of an invited member with this address, across tenants (a
/// bookkeeper may serve several companies): `(tenant, tenant name, member)`.
pub async fn invited_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> sqlx::Result<Vec<(TenantId, String, TenantUserId)>> {
    sqlx::query_as(
        "select u.tenant_id, t.name, u.tenant_user_id from tenant_user u
         join tenant t on t.tenant_id = u.tenant_id
         where u.tracktik_user_id is null and u.revoked_at is null and lower(u.email) = lower($1)
         order by t.name",
    )
    .bind(email.trim())
    .fetch_all(db)
    .await
}

/// The tenant's portal administrators' e-mail addresses.
pub async fn administrator_emails(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "select email from tenant_user
         where tenant_id = $1 and role = 'portal_admin' and email is not null and revoked_at is null
         order by last_signed_in_at desc",
    )
    .bind(tenant_id)
    .fetch_all(db)
    .await
}
