//! The audit log: who did what, when, from where. Written for every staff sign-in and every
//! staff look at customer data; read by the support console.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::ids::{StaffUserId, TenantId, TenantUserId};

/// Who acted.
#[derive(Clone, Debug)]
pub enum Actor {
    /// A staff member (id, email).
    Staff(StaffUserId, String),
    /// A customer's user (id, name).
    User(TenantUserId, String),
    /// Ledgerbridge itself (jobs, CLI).
    System,
    /// Someone not signed in.
    Anonymous,
}

impl Actor {
    fn parts(&self) -> (&'static str, Option<Uuid>, String) {
        match self {
            Self::Staff(id, email) => ("staff", Some(id.0), email.clone()),
            Self::User(id, name) => ("user", Some(id.0), name.clone()),
            Self::System => ("system", None, "Ledgerbridge".to_owned()),
            Self::Anonymous => ("anonymous", None, "anonymous".to_owned()),
        }
    }
}

/// One entry of the log.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditEvent {
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// `staff`, `user`, `system` or `anonymous`.
    pub actor_kind: String,
    /// Who, as people read it.
    pub actor_label: String,
    /// What, e.g. `staff.sign_in`.
    pub action: String,
    /// Which tenant's data, if any.
    pub tenant_id: Option<TenantId>,
    /// Details (never secrets).
    pub detail: serde_json::Value,
    /// The client's address.
    pub client_addr: Option<String>,
}

/// Appends one event.
pub async fn record(
    db: impl PgExecutor<'_>,
    actor: Actor,
    action: &str,
    tenant_id: Option<TenantId>,
    detail: serde_json::Value,
    client_addr: Option<&str>,
) -> sqlx::Result<()> {
    let (kind, id, label) = actor.parts();
    sqlx::query(
        "insert into audit_event (actor_kind, actor_id, actor_label, action, tenant_id, detail, client_addr)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(kind)
    .bind(id)
    .bind(label)
    .bind(action)
    .bind(tenant_id)
    .bind(detail)
    .bind(client_addr)
    .execute(db)
    .await?;
    Ok(())
}

/// The newest events, newest first.
pub async fn recent(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<AuditEvent>> {
    sqlx::query_as(
        "select occurred_at, actor_kind, actor_label, action, tenant_id, detail, client_addr
         from audit_event order by occurred_at desc, audit_event_id desc limit $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}
