//! SQL for the wizard. Every function that reads a tenant's data takes the tenant id first and
//! filters by it; the staff queue is the one cross-tenant read, and says so.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use super::express::ExpressRecord;
use super::{Draft, Editor, Step};
use crate::ids::{IntegrationId, StaffUserId, TenantId};
use crate::integrations::IntegrationState;
use crate::integrations::settings::Settings;

pub(crate) const DRAFT_COLUMNS: &str = "integration_id, tenant_id, realm_id, company_name, country, home_currency, company_prefs, state, settings, wizard_step, wizard_reached, settings_saved_at, activated_at, express_outcome,
    (select count(*) from integration o where o.tenant_id = integration.tenant_id and o.integration_id <> integration.integration_id) as siblings";

/// One integration of the tenant with its answers; `None` also for another tenant's id.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
) -> sqlx::Result<Option<Draft>> {
    sqlx::query_as(&format!(
        "select {DRAFT_COLUMNS} from integration where tenant_id = $1 and integration_id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// [`get`], and whether both sides are connected and working (neither waits for a reconnect
/// nor was disconnected): what a wizard page needs, in one statement.
pub async fn get_connected(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
) -> sqlx::Result<Option<(Draft, bool)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        draft: Draft,
        connected: bool,
    }
    let working = "c.health not in ('needs_reconnect', 'disconnected')";
    let row: Option<Row> = sqlx::query_as(&format!(
        "select {DRAFT_COLUMNS},
                exists (select 1 from connection c where c.tenant_id = $1
                        and c.provider = 'tracktik' and {working})
                and exists (select 1 from connection c where c.tenant_id = $1
                        and c.integration_id = $2 and c.provider = 'quickbooks' and {working})
                    as connected
         from integration where tenant_id = $1 and integration_id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.draft, r.connected)))
}

/// Another integration of the same tenant, as scope checks need it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Sibling {
    /// Its id.
    pub integration_id: IntegrationId,
    /// Its QBO company's name.
    pub company_name: String,
    /// Draft, active…
    pub state: IntegrationState,
    /// Its answers (its scope among them).
    pub settings: Json<Settings>,
}

impl Sibling {
    /// Set up (not a draft): its regions are taken.
    pub fn is_set_up(&self) -> bool {
        self.state != IntegrationState::Draft
    }
}

/// The tenant's other integrations, oldest first.
pub async fn siblings(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
) -> sqlx::Result<Vec<Sibling>> {
    sqlx::query_as(
        "select integration_id, company_name, state, settings from integration
         where tenant_id = $1 and integration_id <> $2 order by created_at, integration_id",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_all(db)
    .await
}

/// Save + Continue under a lock on every integration of the tenant: `check` sees the other
/// integrations as they are now and says why activation must not happen (an overlap of
/// regions), or the integration becomes active. Two activations at once cannot both pass.
pub async fn activate_checked(
    db: &PgPool,
    tenant_id: TenantId,
    id: IntegrationId,
    check: impl FnOnce(&[Sibling]) -> Option<String>,
) -> sqlx::Result<Result<(), String>> {
    let mut tx = db.begin().await?;
    sqlx::query("select integration_id from integration where tenant_id = $1 order by integration_id for update")
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    let others = siblings(&mut *tx, tenant_id, id).await?;
    if let Some(why) = check(&others) {
        return Ok(Err(why));
    }
    activate(&mut *tx, tenant_id, id).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Saves the answers of `step` and moves the resume point to `next`, recording the change
/// (before/after) when anything changed. One transaction; the row is locked while it runs.
pub async fn save_step(
    db: &PgPool,
    tenant_id: TenantId,
    id: IntegrationId,
    step: Step,
    next: Step,
    settings: &Settings,
    editor: &Editor,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let row: Option<(Json<Settings>, String)> = sqlx::query_as(
        "select settings, wizard_reached from integration
         where tenant_id = $1 and integration_id = $2 for update",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((Json(before), reached)) = row else {
        return Err(sqlx::Error::RowNotFound);
    };
    let reached = Step::from_key(&reached).max(next);
    sqlx::query(
        "update integration set settings = $3, wizard_step = $4, wizard_reached = $5, settings_saved_at = now()
         where tenant_id = $1 and integration_id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(Json(settings))
    .bind(next.key())
    .bind(reached.key())
    .execute(&mut *tx)
    .await?;
    if &before != settings {
        sqlx::query(
            "insert into settings_change (tenant_id, integration_id, step, actor_kind, actor_label, before, after)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(tenant_id)
        .bind(id)
        .bind(step.key())
        .bind(editor.kind)
        .bind(&editor.label)
        .bind(Json(&before))
        .bind(Json(settings))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Moves the resume point without changing any answer (a step that only shows defaults).
pub async fn set_step(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
    next: Step,
) -> sqlx::Result<()> {
    sqlx::query(
        "update integration set wizard_step = $3,
            wizard_reached = case when array_position($4::text[], wizard_reached) < array_position($4::text[], $3)
                                  then $3 else wizard_reached end,
            settings_saved_at = coalesce(settings_saved_at, now())
         where tenant_id = $1 and integration_id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(next.key())
    .bind(Step::ALL.map(Step::key).to_vec())
    .execute(db)
    .await?;
    Ok(())
}

/// Remembers what Express setup did.
pub async fn set_express_outcome(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
    record: Option<&ExpressRecord>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update integration set express_outcome = $3 where tenant_id = $1 and integration_id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(record.map(Json))
    .execute(db)
    .await?;
    Ok(())
}

/// Save + Continue: the integration becomes active. A draft gets `activated_at = now()`; an
/// integration that was active before keeps its first activation time.
pub async fn activate(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
) -> sqlx::Result<()> {
    sqlx::query(
        "update integration set state = 'active', wizard_step = 'review', wizard_reached = 'review',
            activated_at = case when state = 'draft' or activated_at is null then now() else activated_at end
         where tenant_id = $1 and integration_id = $2 and state in ('draft', 'active', 'paused')",
    )
    .bind(tenant_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// One recorded save.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SettingsChange {
    /// Which step was saved (`Step::key`).
    pub step: String,
    /// `user` or `staff`.
    pub actor_kind: String,
    /// Who.
    pub actor_label: String,
    /// The answers before.
    pub before: Json<Settings>,
    /// The answers after.
    pub after: Json<Settings>,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// The newest changes of one integration, newest first.
pub async fn list_changes(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: IntegrationId,
    limit: i64,
) -> sqlx::Result<Vec<SettingsChange>> {
    sqlx::query_as(
        "select step, actor_kind, actor_label, before, after, changed_at from settings_change
         where tenant_id = $1 and integration_id = $2
         order by changed_at desc, settings_change_id desc limit $3",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Open or done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "support_request_status", rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for staff.
    Open,
    /// Handled.
    Done,
}

impl RequestStatus {
    /// The word people see.
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Done => "Done",
        }
    }

    /// The CSS modifier for its badge.
    pub fn css(self) -> &'static str {
        match self {
            Self::Open => "warn",
            Self::Done => "ok",
        }
    }
}

/// A "Talk to an expert" request, with the names the queue shows.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SupportRequest {
    /// Its id.
    pub support_request_id: Uuid,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The tenant's name.
    pub tenant_name: String,
    /// The integration.
    pub integration_id: IntegrationId,
    /// The QBO company's name.
    pub company_name: String,
    /// The step it was asked from (`Step::key`).
    pub step: String,
    /// When the customer is free.
    pub preferred_times: String,
    /// What they need help with.
    pub note: String,
    /// Who asked.
    pub requested_by: String,
    /// Open or done.
    pub status: RequestStatus,
    /// When it was marked done.
    pub done_at: Option<DateTime<Utc>>,
    /// Who marked it done.
    pub done_by: Option<String>,
    /// When it was asked.
    pub created_at: DateTime<Utc>,
}

impl SupportRequest {
    /// The step it was asked from.
    pub fn step_label(&self) -> &'static str {
        Step::from_key(&self.step).label()
    }
}

const REQUEST_SELECT: &str = "select r.support_request_id, r.tenant_id, t.name as tenant_name, r.integration_id,
        i.company_name, r.step, r.preferred_times, r.note, r.requested_by, r.status, r.done_at, r.done_by, r.created_at
     from support_request r
     join tenant t on t.tenant_id = r.tenant_id
     join integration i on i.tenant_id = r.tenant_id and i.integration_id = r.integration_id";

/// Records a request.
pub async fn insert_request(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    step: Step,
    preferred_times: &str,
    note: &str,
    requested_by: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "insert into support_request (tenant_id, integration_id, step, preferred_times, note, requested_by)
         values ($1, $2, $3, $4, $5, $6) returning support_request_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(step.key())
    .bind(preferred_times)
    .bind(note)
    .bind(requested_by)
    .fetch_one(db)
    .await
}

/// One request of the tenant (the customer's confirmation page).
pub async fn get_request(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: Uuid,
) -> sqlx::Result<Option<SupportRequest>> {
    sqlx::query_as(&format!(
        "{REQUEST_SELECT} where r.tenant_id = $1 and r.support_request_id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Staff only, across tenants: one request by id.
pub async fn find_request_for_staff(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> sqlx::Result<Option<SupportRequest>> {
    sqlx::query_as(&format!("{REQUEST_SELECT} where r.support_request_id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Staff only, across tenants: the queue, open requests first (oldest first), then the
/// newest done ones.
pub async fn list_requests_for_staff(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<SupportRequest>> {
    sqlx::query_as(&format!(
        "{REQUEST_SELECT} order by r.status = 'done', case when r.status = 'open' then r.created_at end asc,
            r.done_at desc nulls last limit 200"
    ))
    .fetch_all(db)
    .await
}

/// Marks a request done.
pub async fn mark_done(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: Uuid,
    by: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update support_request set status = 'done', done_at = now(), done_by = $3
         where tenant_id = $1 and support_request_id = $2 and status = 'open'",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(by)
    .execute(db)
    .await?;
    Ok(())
}

/// An internal staff note on a request.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RequestNote {
    /// Who wrote it.
    pub author: String,
    /// What.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Adds a staff note.
pub async fn insert_note(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    request_id: Uuid,
    staff_user_id: StaffUserId,
    author: &str,
    body: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into support_request_note (tenant_id, support_request_id, staff_user_id, author, body)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(tenant_id)
    .bind(request_id)
    .bind(staff_user_id)
    .bind(author)
    .bind(body)
    .execute(db)
    .await?;
    Ok(())
}

/// A request's notes, oldest first.
pub async fn list_notes(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    request_id: Uuid,
) -> sqlx::Result<Vec<RequestNote>> {
    sqlx::query_as(
        "select author, body, created_at from support_request_note
         where tenant_id = $1 and support_request_id = $2 order by created_at, support_request_note_id",
    )
    .bind(tenant_id)
    .bind(request_id)
    .fetch_all(db)
    .await
}
