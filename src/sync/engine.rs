//! One run for one integration, in order: take the integration's lock without waiting, settle
//! the sends a crash or a lost answer left open, read what TrackTik changed and what is still
//! owed, record it, then post what is owed in sends of up to 30 (a lone document on its own),
//! each outcome committed as it happens.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use serde::Serialize;

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::settings::Settings;
use crate::integrations::{self, Integration, IntegrationState};
use crate::providers::quickbooks::MAX_BATCH_ITEMS;
use crate::state::AppState;

use super::SyncError;
use super::document::{Inputs, prepare};
use super::gather::{self, Ask};
use super::ledger::{self, LedgerState, Source};
use super::notify;
use super::post::QboSession;
use super::queue::DayRange;
use super::runs::{self, Counts, Requester, RunKind, RunStatus};
use super::send::{self, Answer, Ready};
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
    // belong to a worker that died.
    runs::close_interrupted(db, tenant_id, integration_id).await?;
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
    runs::progress(db, tenant_id, run_id, report.counts).await?;
    runs::finish(db, tenant_id, run_id, status, error.as_deref()).await?;
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
    let db = &state.db;
    let (tenant_id, integration_id) = (integration.tenant_id, integration.integration_id);
    let company = company_of(integration);
    let closed_books = settings.schedule.closed_books;
    let mut session =
        QboSession::open(state, tenant_id, integration_id, &integration.realm_id).await?;

    // 1. Sends left without an answer are settled before anything new is sent.
    send::resolve_open(&mut session, closed_books).await?;

    // 2. Read TrackTik: changes since the watermark, back-sync ranges, owed documents.
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
    let gathered = gather::gather(state, tenant_id, integration_id, &ask).await?;
    gather::record(db, tenant_id, integration_id, &gathered).await?;

    // 3. Post what is owed, in passes: a document sent back to `pending` during the run (books
    // closed on its date, absent after a lost answer) gets one more try.
    let invoices: HashMap<i64, _> = gathered
        .batch
        .invoices
        .iter()
        .map(|d| (d.invoice.id, d))
        .collect();
    let payruns: HashMap<i64, _> = gathered
        .batch
        .payruns
        .iter()
        .map(|d| (d.payrun.id, d))
        .collect();
    let credit_memos: HashMap<i64, _> = gathered
        .batch
        .credit_memos
        .iter()
        .map(|d| (d.invoice.id, d))
        .collect();
    let inputs = Inputs {
        settings,
        company: &company,
        batch: &gathered.batch,
        invoices: &invoices,
        payruns: &payruns,
        credit_memos: &credit_memos,
    };
    let mut outcome: HashMap<i64, LedgerState> = HashMap::new();
    let mut tries: HashMap<i64, u8> = HashMap::new();
    let mut not_read = std::collections::HashSet::new();
    let mut silent = 0;
    let mut total = 0;
    for _pass in 0..3 {
        let rows: Vec<_> = ledger::owed(db, tenant_id, integration_id, &sources, until)
            .await?
            .into_iter()
            .filter(|r| {
                let n = tries.entry(r.ledger_entry_id).or_insert(0);
                *n += 1;
                *n <= 2 && !not_read.contains(&r.ledger_entry_id)
            })
            .collect();
        if rows.is_empty() {
            break;
        }
        // Everything this run handles so far, so the page shows how much is left.
        let fresh = rows
            .iter()
            .filter(|r| !outcome.contains_key(&r.ledger_entry_id))
            .count();
        total = total.max(outcome.len() + fresh);
        report.counts = counts(&outcome, total);
        runs::progress(
            db,
            tenant_id,
            report.sync_run_id.unwrap_or_default(),
            report.counts,
        )
        .await?;
        let mut ready: Vec<Ready> = Vec::with_capacity(MAX_BATCH_ITEMS);
        let mut rows = rows.into_iter().peekable();
        while let Some(row) = rows.next() {
            let id = row.ledger_entry_id;
            match prepare(&mut session, inputs, row).await? {
                Ok(doc) => ready.push(doc),
                Err(state) => {
                    if state == LedgerState::Pending {
                        not_read.insert(id);
                    }
                    outcome.insert(id, state);
                }
            }
            if ready.len() == MAX_BATCH_ITEMS || (rows.peek().is_none() && !ready.is_empty()) {
                still_locked(lock).await?;
                let docs = std::mem::take(&mut ready);
                let ids: Vec<i64> = docs.iter().map(|d| d.row.ledger_entry_id).collect();
                let settled =
                    post(&mut session, closed_books, tenant_id, integration_id, docs).await?;
                if settled {
                    silent = 0;
                } else {
                    silent += 1;
                }
                for (id, state) in states_of(db, tenant_id, &ids).await? {
                    outcome.insert(id, state);
                }
                report.counts = counts(&outcome, total);
                runs::progress(
                    db,
                    tenant_id,
                    report.sync_run_id.unwrap_or_default(),
                    report.counts,
                )
                .await?;
                if silent >= 2 {
                    return Err(SyncError::Unavailable(
                        "QuickBooks did not answer two sends in a row; the run stopped. Nothing is lost or sent twice: the next run settles those documents first.".into(),
                    ));
                }
            }
        }
        report.counts = counts(&outcome, total);
    }

    // 4. A send still unanswered may be in flight a little longer: wait for it (at most the
    // client's time-out), then settle it.
    if let Some(wait) = send::longest_wait(&session).await? {
        tokio::time::sleep(wait).await;
        still_locked(lock).await?;
        send::resolve_open(&mut session, closed_books).await?;
        let ids: Vec<i64> = outcome.keys().copied().collect();
        for (id, state) in states_of(db, tenant_id, &ids).await? {
            outcome.insert(id, state);
        }
    }
    report.counts = counts(&outcome, total);
    report.waiting = outcome
        .values()
        .filter(|s| matches!(s, LedgerState::Pending | LedgerState::Posting))
        .count() as i32;
    Ok(())
}

/// Records and sends one group of documents; after a lost answer, resolves it at once (look-up,
/// then the same send again). Returns false when QuickBooks gave no answer at all.
async fn post(
    session: &mut QboSession<'_>,
    closed_books: crate::integrations::settings::ClosedBooks,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    docs: Vec<Ready>,
) -> Result<bool, SyncError> {
    let db = session.state.db.clone();
    let Some((sent, docs)) = send::record(&db, tenant_id, integration_id, docs).await? else {
        return Ok(true);
    };
    let answer = send::transmit(session, &sent).await?;
    let unknown = matches!(answer, Answer::Unknown(_));
    if let Answer::Unknown(e) = &answer {
        tracing::warn!(send = sent.send_id, error = %e, "no answer from QuickBooks; looking the send up");
    }
    send::settle(session, closed_books, &sent, docs, answer).await?;
    if unknown {
        return Ok(send::resolve(session, closed_books, &sent).await? == send::Resolution::Done);
    }
    Ok(true)
}

async fn states_of(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    ids: &[i64],
) -> sqlx::Result<Vec<(i64, LedgerState)>> {
    sqlx::query_as(
        "select ledger_entry_id, state from ledger_entry
         where tenant_id = $1 and ledger_entry_id = any($2)",
    )
    .bind(tenant_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

fn counts(outcome: &HashMap<i64, LedgerState>, total: usize) -> Counts {
    let mut c = Counts {
        total: total.max(outcome.len()) as i32,
        ..Counts::default()
    };
    for state in outcome.values() {
        match state {
            LedgerState::Posted => c.posted += 1,
            LedgerState::Failed => c.failed += 1,
            LedgerState::Skipped => c.skipped += 1,
            LedgerState::Pending | LedgerState::Posting => {}
        }
    }
    c
}

/// Stops the run when the connection holding its advisory lock is gone (the database
/// restarted or dropped it): the lock went with it, and another run may now hold it. Whatever
/// this run still writes is fenced (see `ledger::settle_posted`).
async fn still_locked(lock: &mut sqlx::PgConnection) -> Result<(), SyncError> {
    sqlx::query("select 1")
        .execute(lock)
        .await
        .map(|_| ())
        .map_err(|_| {
            SyncError::Unavailable(
                "The database connection holding this run's lock was lost; the run stopped and is tried again.".into(),
            )
        })
}
