//! The integration dashboard (`/integrations/{id}`, and read-only for staff at
//! `/support/integrations/{id}`): connections, last and next run, documents per night with the
//! chart of the last 30 nights, the nightly reconciliation, and the live progress of a running
//! sync streamed as Server-Sent Events.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::chart;
use super::controls::BackSyncForm;
use super::db_conn::Db;
use super::extract::{ClientAddr, CurrentStaff, CurrentUser, PathParam};
use super::integrations::IntegrationView;
use super::pages::Chrome;
use crate::audit::{self, Actor};
use crate::dashboard::{self, Activity};
use crate::error::{AppError, AppResult};
use crate::ids::{IntegrationId, TenantId};
use crate::integrations::IntegrationState;
use crate::state::AppState;

/// Nights in the chart.
pub const CHART_NIGHTS: u64 = 30;
/// Nights in the table under it.
const TABLE_NIGHTS: usize = 7;
/// Runs in the list of recent runs.
const RECENT_RUNS: i64 = 8;

/// The session key of the one-time confirmation shown after a control was used.
pub(super) const FLASH: &str = "dashboard.flash";

/// A one-time message after a post/redirect/get.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flash {
    /// Good news (green) or a refusal (amber).
    pub ok: bool,
    /// What happened.
    pub message: String,
}

impl Flash {
    /// The CSS modifier of its alert.
    pub fn css(&self) -> &'static str {
        if self.ok { "ok" } else { "warn" }
    }
}

/// Stores a flash for the next page.
pub(super) async fn flash(
    session: &Session,
    ok: bool,
    message: impl Into<String>,
) -> AppResult<()> {
    session
        .insert(
            FLASH,
            Flash {
                ok,
                message: message.into(),
            },
        )
        .await?;
    Ok(())
}

/// The integration's time zone (UTC until one is chosen).
pub(super) fn zone_of(settings: &crate::integrations::settings::Settings) -> Tz {
    settings
        .schedule
        .time_zone
        .as_deref()
        .and_then(|z| z.trim().parse().ok())
        .unwrap_or(Tz::UTC)
}

/// A moment in the customer's zone, e.g. `Fri 27 Nov 2026, 03:00 EST`.
pub(super) fn local(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone)
        .format("%a %-d %b %Y, %H:%M %Z")
        .to_string()
}

/// A trading day as people read it, e.g. `Thu 26 Nov 2026`.
pub(super) fn day_label(day: NaiveDate) -> String {
    day.format("%a %-d %b %Y").to_string()
}

mod lines;

pub use lines::*;

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/show.html")]
pub struct DashboardPage {
    chrome: Chrome,
    view: IntegrationView,
    /// A staff member's read-only view: no forms.
    staff: bool,
    /// `/integrations/{id}` or `/support/integrations/{id}`.
    base: String,
    zone: String,
    next_run: Option<String>,
    last_run: Option<RunLine>,
    runs: Vec<RunLine>,
    activity: ActivityLine,
    nights: Vec<NightLine>,
    chart_svg: String,
    chart_summary: String,
    has_history: bool,
    empty_message: String,
    failed_documents: i64,
    controls: ControlsLine,
    flash: Option<Flash>,
    back_sync: BackSyncForm,
    /// How pay runs are posted, in plain words (the Bill option only for the customer).
    payroll_words: Option<crate::wizard::words::PayrollWords>,
}

impl DashboardPage {
    /// A run is queued or going: the page refreshes itself without JavaScript.
    pub fn live(&self) -> bool {
        self.activity.phase != "idle"
    }
}

/// Everything the dashboard needs, for a customer (`staff == false`) or a staff member.
pub(super) async fn build(
    mut db: Db,
    chrome: Chrome,
    tenant_id: TenantId,
    id: IntegrationId,
    staff: bool,
    flash: Option<Flash>,
    back_sync: BackSyncForm,
) -> AppResult<DashboardPage> {
    // Two statements: everything but the documents, then the documents of the nights shown
    // (which nights depends on the zone the first one reads).
    let overview = dashboard::overview::read(&mut *db, tenant_id, id, RECENT_RUNS)
        .await?
        .ok_or(AppError::NotFound)?;
    let settings = &overview.draft.settings.0;
    let zone = zone_of(settings);
    let now = Utc::now();
    let today = now.with_timezone(&zone).date_naive();
    let first = today
        .checked_sub_days(chrono::Days::new(CHART_NIGHTS - 1))
        .unwrap_or(today);
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= today).collect();

    let documents = dashboard::current_documents(&mut *db, tenant_id, id, first, today).await?;
    drop(db);
    let view = IntegrationView {
        integration: overview.integration(),
        quickbooks: overview.quickbooks.clone(),
        tracktik: overview.tracktik.clone(),
    };
    let nights = dashboard::nights(&days, &documents);
    let home = view.integration.home_currency.clone();
    let rollbacks = &overview.rollbacks;
    let rollback_of = |day: NaiveDate| {
        rollbacks.iter().find(|r| r.trading_day == day).map(|r| {
            let when = local(r.created_at, zone);
            match r.status.as_str() {
                "done" => format!(
                    "Rolled back {when} by {}: {} undone in QuickBooks{}",
                    r.requested_by,
                    r.reversed,
                    if r.refused > 0 {
                        format!(", {} refused by QuickBooks (see the documents)", r.refused)
                    } else {
                        String::new()
                    }
                ),
                _ => format!("Rollback asked {when} by {}: going on", r.requested_by),
            }
        })
    };
    let night_lines: Vec<NightLine> = nights
        .iter()
        .rev()
        .filter(|n| n.total() > 0)
        .take(TABLE_NIGHTS)
        .map(|n| NightLine {
            iso: n.day.to_string(),
            day: day_label(n.day),
            night: n.clone(),
            reconciliation: dashboard::reconcile(n.day, &documents, &home)
                .iter()
                .map(ReconLine::from)
                .collect(),
            rollback: rollback_of(n.day),
        })
        .collect();

    let activity = &overview.activity;
    let live_id = match activity {
        Activity::Running(r) => Some(r.sync_run_id),
        _ => None,
    };
    let recent = &overview.recent;
    let last_run = overview
        .last_finished
        .as_ref()
        .map(|r| run_line(r, live_id, zone));
    let schedule = crate::sync::schedule_of(settings).ok();
    let active = view.integration.state == IntegrationState::Active;
    let next = schedule.filter(|_| active).map(|s| s.next_run(now));
    let next_run = next.map(|(day, at)| format!("{} (for {})", local(at, zone), day_label(day)));
    let has_history = !recent.is_empty() || !documents.is_empty();
    let empty_message = match (view.integration.state, next) {
        (IntegrationState::Active, Some((day, at))) => format!(
            "Your first sync runs after {} {} on {} (for {}): invoices approved and pay runs approved and locked in TrackTik that day appear here after it, with their QuickBooks links.",
            at.with_timezone(&zone).format("%H:%M"),
            zone.name(),
            at.with_timezone(&zone).format("%a %-d %b"),
            day_label(day)
        ),
        (IntegrationState::Draft, _) => "Nothing is synced until setup is finished. Once the integration is active, each night's invoices and pay runs appear here the morning after.".to_owned(),
        (IntegrationState::NeedsReconnect, _) => "Nothing was synced yet. Reconnect first; the nightly syncs then catch up every day missed.".to_owned(),
        _ => "Nothing was synced yet. Each night's invoices and pay runs appear here once the integration is active.".to_owned(),
    };
    let failed_documents = overview.failed_documents;
    let payroll_words = crate::wizard::words::payroll_words(&overview.draft).map(|mut w| {
        if staff {
            w.bill_href = None;
        }
        w
    });
    Ok(DashboardPage {
        payroll_words,
        chrome,
        base: if staff {
            format!("/support/integrations/{id}")
        } else {
            format!("/integrations/{id}")
        },
        staff,
        zone: zone.name().to_owned(),
        next_run,
        last_run,
        runs: recent.iter().map(|r| run_line(r, live_id, zone)).collect(),
        activity: activity_line(activity, zone),
        chart_svg: chart::nights_svg(&nights),
        chart_summary: chart::summary(&nights),
        nights: night_lines,
        has_history,
        empty_message,
        failed_documents,
        controls: controls_line(view.integration.state),
        view,
        flash,
        back_sync,
    })
}

/// `GET /integrations/{id}`: the customer's dashboard.
pub async fn show(
    session: Session,
    current: CurrentUser,
    db: Db,
    PathParam(id): PathParam<IntegrationId>,
) -> AppResult<DashboardPage> {
    let flash = session.remove::<Flash>(FLASH).await?;
    let chrome = Chrome::customer(&session, &current).await?;
    build(
        db,
        chrome,
        current.tenant.tenant_id,
        id,
        false,
        flash,
        BackSyncForm::default(),
    )
    .await
}

/// The tenant of an integration, for staff pages (404 when there is none).
pub(super) async fn staff_tenant(state: &AppState, id: IntegrationId) -> AppResult<TenantId> {
    crate::sync::controls::tenant_of(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /support/integrations/{id}`: the same dashboard, read-only, for staff. Audited.
pub async fn support_show(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<IntegrationId>,
) -> AppResult<DashboardPage> {
    let tenant_id = staff_tenant(&state, id).await?;
    audit::record(
        &state.db,
        Actor::Staff(staff.staff_user_id, staff.email.clone()),
        "staff.viewed_dashboard",
        Some(tenant_id),
        serde_json::json!({ "integration": id, "page": "dashboard" }),
        Some(&addr),
    )
    .await?;
    let chrome = Chrome::staff(&session, &staff).await?;
    build(
        Db(state.db.acquire().await?),
        chrome,
        tenant_id,
        id,
        true,
        None,
        BackSyncForm::default(),
    )
    .await
}
