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
    /// Its id.
    pub audit_event_id: i64,
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
        "select audit_event_id, occurred_at, actor_kind, actor_label, action, tenant_id, detail,
                client_addr
         from audit_event order by occurred_at desc, audit_event_id desc limit $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A staff action with the name of the tenant it touched, for the support console.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StaffAction {
    /// The event.
    #[sqlx(flatten)]
    pub event: AuditEvent,
    /// The tenant's name, when the action touched one that still exists.
    pub tenant_name: Option<String>,
}

impl StaffAction {
    /// The action as people read it.
    pub fn action_label(&self) -> std::borrow::Cow<'static, str> {
        action_label(&self.event.action)
    }

    /// The details as `key: value` pairs, in a stable order.
    pub fn details(&self) -> Vec<(String, String)> {
        match &self.event.detail {
            serde_json::Value::Object(map) => map
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    (k.replace('_', " "), v)
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// What an action key means, in words. Every key Ledgerbridge records has its sentence here; a
/// key without one is still shown as words (`staff.viewed_runs` → "Viewed runs"), never as a
/// code.
pub fn action_label(action: &str) -> std::borrow::Cow<'static, str> {
    let known = match action {
        "staff.sign_in" => "Signed in",
        "staff.sign_in_failed" => "Sign-in failed",
        "staff.sign_in_refused" => "Sign-in refused (too many tries)",
        "staff.sign_out" => "Signed out",
        "staff.account_saved" => "Staff account saved",
        "staff.viewed_customers" => "Viewed the customer list",
        "staff.viewed_tenant" => "Viewed a customer",
        "staff.viewed_integrations" => "Viewed the integrations list",
        "staff.viewed_dashboard" => "Viewed a dashboard",
        "staff.viewed_documents" => "Viewed the documents of an integration",
        "staff.viewed_runs" => "Viewed sync runs",
        "staff.viewed_failures" => "Viewed failed documents",
        "staff.viewed_requests" => "Viewed the expert requests",
        "staff.viewed_draft" => "Viewed a draft",
        "staff.viewed_audit_log" => "Viewed the audit log",
        "staff.viewed_replay" => "Opened a document replay",
        "staff.viewed_replay_day" => "Opened a day replay",
        "staff.noted_request" => "Noted an expert request",
        "staff.closed_request" => "Closed an expert request",
        "staff.replayed_document" => "Replayed a document",
        "staff.replayed_day" => "Replayed a day",
        "user.sign_in" => "Customer signed in",
        "integration.connected" => "Connected a QuickBooks company",
        "integration.reconnected" => "Reconnected a QuickBooks company",
        "integration.disconnected" => "Disconnected a QuickBooks company",
        "integration.express_setup" => "Ran Express setup",
        "integration.settings_confirmed" => "Confirmed the settings",
        "integration.activated" => "Activated an integration",
        "support_request.created" => "Asked for an expert",
        "member.invited" => "Invited an accountant",
        "expert_session.booked" => "Booked an expert session",
        "expert_session.rescheduled" => "Moved an expert session",
        "expert_session.cancelled" => "Cancelled an expert session",
        "staff.saved_availability" => "Saved their availability",
        "staff.viewed_sessions" => "Viewed the expert sessions",
        "staff.viewed_session" => "Viewed an expert session and its draft",
        "staff.noted_session" => "Wrote the notes of an expert session",
        "staff.cancelled_session" => "Cancelled an expert session",
        "staff.viewed_drafts" => "Viewed the list of drafts",
        "staff.viewed_preview" => "Viewed a sync preview",
        "member.link_resent" => "Resent a member's sign-in link",
        "member.link_requested" => "A member asked for a sign-in link",
        "member.revoked" => "Revoked a member's access",
        "member.activation_allowed" => "Allowed a member to activate",
        "member.activation_withdrawn" => "Stopped a member activating",
        "sync.queued" => "Queued a sync",
        "sync.rolled_back" => "Rolled back a night's sync",
        _ => return std::borrow::Cow::Owned(in_words(action)),
    };
    std::borrow::Cow::Borrowed(known)
}

/// `staff.viewed_runs` → "Viewed runs".
fn in_words(action: &str) -> String {
    let tail = action
        .rsplit('.')
        .next()
        .unwrap_or(action)
        .replace('_', " ");
    let mut chars = tail.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Did something".to_owned(),
    }
}

/// Staff actions, newest first: optionally one staff member's and one tenant's. Returns
/// `limit` rows from `offset`.
pub async fn staff_actions(
    db: impl PgExecutor<'_>,
    staff: Option<StaffUserId>,
    tenant_id: Option<TenantId>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<StaffAction>> {
    sqlx::query_as(
        "select a.audit_event_id, a.occurred_at, a.actor_kind, a.actor_label, a.action,
                a.tenant_id, a.detail, a.client_addr, t.name as tenant_name
         from audit_event a left join tenant t on t.tenant_id = a.tenant_id
         where a.actor_kind = 'staff'
           and ($1::uuid is null or a.actor_id = $1)
           and ($2::uuid is null or a.tenant_id = $2)
         order by a.occurred_at desc, a.audit_event_id desc
         limit $3 offset $4",
    )
    .bind(staff)
    .bind(tenant_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// Every staff member who appears in the log: `(id, latest email)`, by email.
pub async fn staff_actors(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(StaffUserId, String)>> {
    sqlx::query_as(
        "select distinct on (actor_id) actor_id, actor_label from audit_event
         where actor_kind = 'staff' and actor_id is not null
         order by actor_id, occurred_at desc",
    )
    .fetch_all(db)
    .await
    .map(|mut v: Vec<(StaffUserId, String)>| {
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    })
}

/// Every tenant staff acted on: `(id, name)`, by name.
pub async fn staff_tenants(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(TenantId, String)>> {
    sqlx::query_as(
        "select t.tenant_id, t.name from tenant t
         where exists (select 1 from audit_event a
                       where a.tenant_id = t.tenant_id and a.actor_kind = 'staff')
         order by t.name, t.tenant_id",
    )
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::action_label;

    /// Every action key written anywhere in `src/` (a quoted `area.verb_object` passed to
    /// `audit::record`) has its own sentence.
    #[test]
    fn every_recorded_action_reads_as_words() {
        let mut keys = std::collections::BTreeSet::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for chunk in text.split("audit::record(").skip(1) {
                let call = &chunk[..chunk.find(".await").unwrap_or(chunk.len())];
                for literal in call.split('"').skip(1).step_by(2) {
                    let is_key = literal.contains('.')
                        && literal
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
                    if is_key {
                        keys.insert(literal.to_owned());
                    }
                }
            }
        }
        assert!(keys.contains("staff.viewed_dashboard"), "{keys:?}");
        for key in keys {
            let label = action_label(&key);
            assert!(
                matches!(label, std::borrow::Cow::Borrowed(_)),
                "{key} has no sentence in audit::action_label"
            );
        }
        assert_eq!(
            action_label("staff.viewed_something_new"),
            "Viewed something new"
        );
    }
}
