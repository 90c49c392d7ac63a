//! One run for one integration, in order: take the integration's lock without waiting, settle
//! the sends a crash or a lost answer left open, find what TrackTik changed and what is still
//! owed, then read it in chunks, each recorded and posted while the next is read (see
//! `pipeline`), in sends of up to 30 (a lone document on its own), each outcome committed as
//! it happens.

use chrono::{NaiveDate, Utc};
use serde::Serialize;

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::settings::Settings;
use crate::integrations::{self, Integration, IntegrationState};
use crate::state::AppState;

use super::SyncError;
use super::cursor;
use super::document::ById;
use super::gather::{self, Ask};
use super::ledger::{self, Source};
use super::notify;
use super::pipeline;
use super::post::QboSession;
use super::posting::Poster;
use super::queue::DayRange;
use super::runs::{self, Counts, Requester, RunKind, RunStatus};
use super::send;
use super::source::{Batch, Reference};
use super::window::TradingSchedule;

/// What would be posted, for a preview.
#[derive(Clone, Debug, Serialize)]
pub struct PreviewItem {
    /// Invoice or pay run.
    pub source: Source,
    /// TrackTik id.
    pub source_id: i64,
    /// TrackTik document number.
    pub doc_number: String,
    /// TrackTik total.
    pub amount: rust_decimal::Decimal,
    /// Its currency, when known.
    pub currency: Option<String>,
    /// The QBO entity it would become.
    pub qbo_entity: Option<String>,
    /// Why it could not be posted, when it could not.
    pub problem: Option<String>,
    /// Where that is fixed (`settings/billing`, `settings/payroll`, `settings/taxes`,
    /// `settings`, `quickbooks`, `tracktik`), when known.
    pub fix_at: Option<String>,
}

/// How a run went.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunReport {
    /// The run row (none for previews and days before the start date).
    pub sync_run_id: Option<i64>,
    /// Counts.
    pub counts: Counts,
    /// Documents left waiting (QuickBooks' answer unknown, or not read by this run).
    pub waiting: i32,
    /// Previews only: what would be posted.
    pub preview: Vec<PreviewItem>,
}

/// What a run is asked to do.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// Why it runs.
    pub kind: RunKind,
    /// The last trading day it covers: documents approved before its end are posted.
    pub day: NaiveDate,
    /// For a catch-up of several days: the first of them (shown on the run).
    pub first_day: Option<NaiveDate>,
    /// Ranges of days whose approvals are read even before the start date.
    pub back_sync: Vec<DayRange>,
    /// Who asked.
    pub by: Requester,
}

impl RunPlan {
    /// A plain run of `kind` for `day`, asked by the schedule.
    pub fn of(kind: RunKind, day: NaiveDate) -> Self {
        Self {
            kind,
            day,
            first_day: None,
            back_sync: Vec::new(),
            by: Requester::Schedule,
        }
    }
}

pub(crate) use super::profile::company_of;
pub use super::profile::{schedule_of, settings_of};

/// Runs the sync of `day` for one integration: every document approved up to the end of
/// `day` that is not posted yet (see [`run`]).
pub async fn run_day(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
    kind: RunKind,
) -> Result<RunReport, SyncError> {
    if kind == RunKind::Preview {
        let items = super::preview::compute(state, tenant_id, integration_id, day).await?;
        return Ok(RunReport {
            counts: Counts {
                total: items.len() as i32,
                ..Counts::default()
            },
            preview: items,
            ..RunReport::default()
        });
    }
    run(state, tenant_id, integration_id, RunPlan::of(kind, day)).await
}

/// Runs a plan. Fails with [`SyncError::Busy`] at once, without waiting, when another run of
/// the integration holds its lock.
pub async fn run(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    plan: RunPlan,
) -> Result<RunReport, SyncError> {
    let db = &state.db;
    let integration = integrations::db::get(db, tenant_id, integration_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    match integration.state {
        IntegrationState::Active => {}
        IntegrationState::NeedsReconnect => {
            return Err(SyncError::NeedsReconnect(
                "A connection needs to be reconnected before anything can be posted.".into(),
            ));
        }
        s => {
            return Err(SyncError::NotReady(format!(
                "The integration is {}; only active integrations sync.",
                s.label().to_lowercase()
            )));
        }
    }
    let settings = settings_of(db, tenant_id, integration_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    let schedule = schedule_of(&settings)?;
    let reaches_back = plan.back_sync.iter().any(|r| r.from <= plan.day);
    if plan.day
        < gather::first_day(&settings, &schedule, Source::Invoice).min(gather::first_day(
            &settings,
            &schedule,
            Source::Payrun,
        ))
        && !reaches_back
    {
        return Ok(RunReport::default());
    }
    let until = super::window::day_start(schedule.zone, plan.day.succ_opt().unwrap_or(plan.day));

    let mut lock = try_lock(db, integration_id).await?;
    // Holding the lock, no other run of this integration is alive: rows still `running`
    // belong to a worker that died, and are closed as this one starts.
    let run_id = runs::start(
        db,
        tenant_id,
        integration_id,
        plan.day,
        plan.kind,
        plan.by,
        plan.first_day,
    )
    .await?;
    let mut report = RunReport {
        sync_run_id: Some(run_id),
        ..RunReport::default()
    };
    let outcome = run_locked(
        state,
        &integration,
        &settings,
        &schedule,
        &plan,
        until,
        &mut report,
        &mut lock,
    )
    .await;
    let (status, error) = match &outcome {
        Ok(()) if report.counts.failed > 0 => (RunStatus::Partial, None),
        Ok(()) if report.waiting > 0 => (
            RunStatus::Partial,
            Some(format!(
                "{} document(s) wait for QuickBooks' answer; the next run settles them without sending anything twice.",
                report.waiting
            )),
        ),
        Ok(()) => (RunStatus::Succeeded, None),
        Err(e) => (RunStatus::Failed, Some(e.to_string())),
    };
    runs::finish(
        db,
        tenant_id,
        run_id,
        status,
        error.as_deref(),
        report.counts,
    )
    .await?;
    if let Err(e) = notify::failures(state, &integration).await {
        tracing::warn!(integration = %integration_id, error = %e, "failure notice not sent");
    }
    lock.commit().await?;
    outcome.map(|()| report)
}

/// The integration's lock, taken without waiting: one run (or rollback) per integration at a
/// time, across every worker. A transaction-scoped advisory lock, released by commit,
/// rollback or a dropped connection. [`SyncError::Busy`] when another holds it.
pub(crate) async fn try_lock(
    db: &sqlx::PgPool,
    integration_id: IntegrationId,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, SyncError> {
    let mut lock = db.begin().await?;
    let locked: bool =
        sqlx::query_scalar("select pg_try_advisory_xact_lock(hashtextextended($1, 20261126))")
            .bind(format!("sync:{integration_id}"))
            .fetch_one(&mut *lock)
            .await?;
    if locked {
        Ok(lock)
    } else {
        Err(SyncError::Busy)
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_locked(
    state: &AppState,
    integration: &Integration,
    settings: &Settings,
    schedule: &TradingSchedule,
    plan: &RunPlan,
    until: chrono::DateTime<Utc>,
    report: &mut RunReport,
    lock: &mut sqlx::PgConnection,
) -> Result<(), SyncError> {
    let (tenant_id, integration_id) = (integration.tenant_id, integration.integration_id);
    let company = company_of(integration);
    let closed_books = settings.schedule.closed_books;
    let mut session =
        QboSession::open(state, tenant_id, integration_id, &integration.realm_id).await?;

    // 1. Sends left without an answer are settled before anything new is sent.
    send::resolve_open(&mut session, closed_books).await?;
    let run_id = report.sync_run_id.unwrap_or_default();
    let mut poster = Poster::new(session, closed_books, run_id, lock);
    let outcome = read_and_post(
        state,
        &mut poster,
        (integration, &company, settings, schedule),
        plan,
        until,
    )
    .await;
    report.counts = poster.counts();
    outcome?;

    // 4. A send still unanswered may be in flight a little longer: wait for it, then settle.
    poster.settle_late().await?;
    report.counts = poster.counts();
    report.waiting = poster.waiting();
    Ok(())
}

/// Steps 2 and 3 of a run: read TrackTik (changes since the watermark, back-sync ranges, owed
/// documents) and post what is owed while later chunks are still read; then the passes that
/// give a document sent back to `pending` during the run one more try.
async fn read_and_post(
    state: &AppState,
    poster: &mut Poster<'_, '_>,
    (integration, company, settings, schedule): (
        &Integration,
        &crate::integrations::CompanyProfile,
        &Settings,
        &TradingSchedule,
    ),
    plan: &RunPlan,
    until: chrono::DateTime<Utc>,
) -> Result<(), SyncError> {
    let db = &state.db;
    let (tenant_id, integration_id) = (integration.tenant_id, integration.integration_id);
    let sources = gather::sources(settings);
    let owed = ledger::owed(db, tenant_id, integration_id, &sources, until).await?;
    let ask = Ask {
        settings,
        schedule,
        until,
        back_sync: &plan.back_sync,
        owed: &owed,
        only_ranges: false,
    };
    let (planned, portal, token) = gather::plan(state, tenant_id, integration_id, &ask).await?;
    poster.expect(planned.wanted.len()).await?;
    let mut chunks = planned.chunks(pipeline::CHUNK).into_iter();
    let mut reference = Reference::default();
    let mut batch = Batch::default();
    if let Some(first_ids) = chunks.next() {
        let mut reader =
            pipeline::Reader::new(state, tenant_id, settings, schedule.zone, (portal, token));
        let (read, first) = reader.first(&first_ids).await?;
        reference = read;
        let cx = pipeline::Context {
            tenant_id,
            integration_id,
            settings,
            company,
            reference: &reference,
            until,
        };
        batch = pipeline::run(poster, cx, reader, first, chunks.collect()).await?;
    }
    // Every chunk is recorded: the watermarks may move.
    cursor::advance_all(db, tenant_id, integration_id, &planned.cursors).await?;

    let by_id = ById::of(&batch);
    let inputs = by_id.inputs(settings, company, &reference);
    for _pass in 0..2 {
        let rows = ledger::owed(db, tenant_id, integration_id, &sources, until).await?;
        if poster.post_rows(inputs, rows).await? == 0 {
            break;
        }
    }
    Ok(())
}
