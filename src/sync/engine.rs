//! One run for one integration and trading day, in order: lock the integration, resolve rows a
//! crash left in `posting`, read TrackTik, record every document in the ledger, then post what
//! is owed in batches of up to 30 (a lone document on its own), each outcome committed as it
//! happens.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::connections;
use crate::ids::{IntegrationId, TenantId};
use crate::integrations::settings::Settings;
use crate::integrations::{self, CompanyProfile, Integration, IntegrationState};
use crate::providers::quickbooks::MAX_BATCH_ITEMS;
use crate::providers::tracktik::{AccessToken, Portal};
use crate::state::AppState;

use super::SyncError;
use super::document::{Inputs, build_one, post_batch, post_one, prepare};
use super::ledger::{self, LedgerState, Recorded, Source};
use super::post::{self, QboSession};
use super::recover::resolve_posting;
use super::runs::{self, Counts, RunKind, RunStatus};
use super::source::{self, Batch};
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
    /// The QBO entity it would become.
    pub qbo_entity: Option<String>,
    /// Why it could not be posted, when it could not.
    pub problem: Option<String>,
}

/// How a run went.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunReport {
    /// The run row (none for previews and days before the start date).
    pub sync_run_id: Option<i64>,
    /// Counts.
    pub counts: Counts,
    /// Documents TrackTik changed or deleted after posting, newly flagged.
    pub flagged: u64,
    /// Previews only: what would be posted.
    pub preview: Vec<PreviewItem>,
}

/// The integration's settings.
pub async fn settings_of(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Option<Settings>> {
    let row: Option<(sqlx::types::Json<Settings>,)> = sqlx::query_as(
        "select settings from integration where tenant_id = $1 and integration_id = $2",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.0.0))
}

/// The trading schedule the settings describe (UTC when no zone was chosen).
pub fn schedule_of(settings: &Settings) -> Result<TradingSchedule, SyncError> {
    let zone: Tz = match settings.schedule.time_zone.as_deref() {
        Some(z) if !z.trim().is_empty() => z.trim().parse().map_err(|_| {
            SyncError::NotReady(format!("The time zone \"{z}\" in the schedule is unknown."))
        })?,
        _ => Tz::UTC,
    };
    let start_date = settings
        .schedule
        .start_date
        .ok_or_else(|| SyncError::NotReady("No sync start date is set.".into()))?;
    Ok(TradingSchedule {
        zone,
        cutoff: settings.schedule.cutoff,
        start_date,
    })
}

fn company_of(i: &Integration) -> CompanyProfile {
    CompanyProfile {
        realm_id: i.realm_id.clone(),
        name: i.company_name.clone(),
        country: i.country.clone(),
        home_currency: i.home_currency.clone(),
        prefs: i.company_prefs.0.clone(),
    }
}

/// Runs the sync of `day` for one integration: every document approved from the sync start
/// date to the end of `day` that is not posted yet. Previews write nothing anywhere.
pub async fn run_day(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
    kind: RunKind,
) -> Result<RunReport, SyncError> {
    run_with(state, tenant_id, integration_id, day, kind, None).await
}

/// [`run_day`], with the window starting at `from` instead of the start date when earlier
/// (back-sync).
pub(crate) async fn run_with(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
    kind: RunKind,
    from: Option<NaiveDate>,
) -> Result<RunReport, SyncError> {
    let db = &state.db;
    let integration = integrations::db::get(db, tenant_id, integration_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    let preview = kind == RunKind::Preview;
    match integration.state {
        IntegrationState::Active => {}
        IntegrationState::NeedsReconnect => {
            return Err(SyncError::NeedsReconnect(
                "A connection needs to be reconnected before anything can be posted.".into(),
            ));
        }
        _ if preview => {}
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
    let mut schedule = schedule_of(&settings)?;
    if let Some(from) = from {
        schedule.start_date = schedule.start_date.min(from);
    }
    let Some((from, until)) = schedule.window(day) else {
        return Ok(RunReport::default());
    };

    // One run per integration at a time, across every worker: a transaction-scoped advisory
    // lock, released by commit, rollback or a dropped connection.
    let mut lock = db.begin().await?;
    if !preview {
        sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 20261126))")
            .bind(format!("sync:{integration_id}"))
            .execute(&mut *lock)
            .await?;
    }

    let mut report = RunReport::default();
    let run_id = if preview {
        None
    } else {
        // Holding the lock, no other run of this integration is alive: rows still `running`
        // belong to a worker that died.
        runs::close_interrupted(db, tenant_id, integration_id).await?;
        Some(runs::start(db, tenant_id, integration_id, day, kind).await?)
    };
    report.sync_run_id = run_id;
    let outcome = run_locked(
        state,
        &integration,
        &settings,
        &schedule,
        (from, until),
        &mut report,
        &mut lock,
    )
    .await;
    if let Some(id) = run_id {
        let (status, error) = match &outcome {
            Ok(()) if report.counts.failed > 0 => (RunStatus::Partial, None),
            Ok(()) => (RunStatus::Succeeded, None),
            Err(e) => (RunStatus::Failed, Some(e.to_string())),
        };
        runs::progress(db, tenant_id, id, report.counts).await?;
        runs::finish(db, tenant_id, id, status, error.as_deref()).await?;
        if let Err(e) = notify_failures(state, &integration, id).await {
            tracing::warn!(integration = %integration_id, error = %e, "failure notice not sent");
        }
    }
    lock.commit().await?;
    outcome.map(|()| report)
}

async fn tracktik(
    state: &AppState,
    tenant_id: TenantId,
    force: bool,
) -> Result<(Portal, AccessToken, crate::ids::ConnectionId), SyncError> {
    let conn = connections::db::tracktik_for_tenant(&state.db, tenant_id)
        .await?
        .ok_or_else(|| SyncError::NotReady("TrackTik is not connected.".into()))?;
    let token = if force {
        connections::force_refresh(state, tenant_id, conn.connection_id).await
    } else {
        connections::access_token(state, tenant_id, conn.connection_id).await
    }
    .map_err(post::connection_stop)?;
    let portal =
        Portal::new(&conn.external_id).map_err(|e| SyncError::Unavailable(e.to_string()))?;
    Ok((
        portal,
        AccessToken::new(secrecy::ExposeSecret::expose_secret(&token).to_owned()),
        conn.connection_id,
    ))
}

async fn read_tracktik(
    state: &AppState,
    tenant_id: TenantId,
    settings: &Settings,
    from: chrono::DateTime<Utc>,
    until: chrono::DateTime<Utc>,
) -> Result<Batch, SyncError> {
    let tt = &state.providers.tracktik;
    let (portal, token, _) = tracktik(state, tenant_id, false).await?;
    match source::read(tt, &portal, &token, settings, from, until).await {
        Ok(b) => Ok(b),
        Err(e) if e.is_unauthorized() => {
            let (portal, token, _) = tracktik(state, tenant_id, true).await?;
            source::read(tt, &portal, &token, settings, from, until)
                .await
                .map_err(|e| tracktik_error(state, tenant_id, e))
        }
        Err(e) => Err(tracktik_error(state, tenant_id, e)),
    }
}

fn tracktik_error(
    _state: &AppState,
    _tenant_id: TenantId,
    e: crate::providers::tracktik::TrackTikError,
) -> SyncError {
    if e.needs_reauthorization() || e.is_unauthorized() {
        SyncError::NeedsReconnect(format!("TrackTik refused access: {e}"))
    } else {
        SyncError::Unavailable(format!("TrackTik could not be read: {e}"))
    }
}

async fn run_locked(
    state: &AppState,
    integration: &Integration,
    settings: &Settings,
    schedule: &TradingSchedule,
    (from, until): (chrono::DateTime<Utc>, chrono::DateTime<Utc>),
    report: &mut RunReport,
    lock: &mut sqlx::PgConnection,
) -> Result<(), SyncError> {
    // The run's row (none for a preview).
    let run_id = report.sync_run_id;
    let db = &state.db;
    let tenant_id = integration.tenant_id;
    let integration_id = integration.integration_id;
    let preview = run_id.is_none();
    let company = company_of(integration);
    let mut session =
        QboSession::open(state, tenant_id, integration_id, &integration.realm_id).await?;

    if !preview {
        resolve_posting(&mut session).await?;
    }
    let batch = read_tracktik(state, tenant_id, settings, from, until).await?;
    let zone = schedule.zone;

    let mut invoices = HashMap::new();
    let mut payruns = HashMap::new();
    let mut docs = Vec::new();
    for d in &batch.invoices {
        if let Some(s) = source::invoice_source(d, zone, &batch.reference) {
            invoices.insert(d.invoice.id, d);
            docs.push(s);
        }
    }
    for d in &batch.payruns {
        if let Some(s) = source::payrun_source(d, zone, &batch.reference) {
            payruns.insert(d.payrun.id, d);
            docs.push(s);
        }
    }

    let inputs = Inputs {
        settings,
        company: &company,
        batch: &batch,
        invoices: &invoices,
        payruns: &payruns,
    };

    if preview {
        let posted: std::collections::HashSet<(Source, i64)> =
            ledger::in_state(db, tenant_id, integration_id, LedgerState::Posted)
                .await?
                .into_iter()
                .map(|r| (r.source, r.source_id))
                .collect();
        for doc in &docs {
            if posted.contains(&(doc.source, doc.source_id)) {
                continue;
            }
            let built = build_one(&mut session, inputs, doc.source, doc.source_id, false).await?;
            report.preview.push(PreviewItem {
                source: doc.source,
                source_id: doc.source_id,
                doc_number: doc.doc_number.clone(),
                amount: doc.amount,
                qbo_entity: built.as_ref().ok().map(|b| b.entity().to_owned()),
                problem: built.err().map(|f| f.message),
            });
        }
        report.counts.total = report.preview.len() as i32;
        return Ok(());
    }

    for doc in &docs {
        if ledger::record(db, tenant_id, integration_id, doc).await?
            == Recorded::ChangedAfterPosting
        {
            report.flagged += 1;
        }
    }
    for kind in [Source::Invoice, Source::Payrun] {
        let enabled = match kind {
            Source::Invoice => settings.billing.enabled,
            Source::Payrun => settings.payroll.enabled,
        };
        if enabled {
            let ids: Vec<i64> = docs
                .iter()
                .filter(|d| d.source == kind)
                .map(|d| d.source_id)
                .collect();
            report.flagged +=
                ledger::flag_missing(db, tenant_id, integration_id, kind, from, until, &ids)
                    .await?;
        }
    }

    let rows = ledger::to_post(db, tenant_id, integration_id, until).await?;
    report.counts.total = rows.len() as i32;
    let run_id = run_id.unwrap_or_default();
    runs::progress(db, tenant_id, run_id, report.counts).await?;
    // Documents are built as they come (customers and Classes/Locations found or created on
    // first use, one request each) and sent 30 at a time; a lone document goes on its own.
    let mut ready = Vec::with_capacity(MAX_BATCH_ITEMS);
    let mut rows = rows.into_iter().peekable();
    while let Some(row) = rows.next() {
        match prepare(&mut session, inputs, row).await? {
            Ok(doc) => ready.push(doc),
            Err(state) => {
                count(&mut report.counts, state);
                runs::progress(db, tenant_id, run_id, report.counts).await?;
            }
        }
        if ready.len() == MAX_BATCH_ITEMS || (rows.peek().is_none() && !ready.is_empty()) {
            still_locked(lock).await?;
            let docs = std::mem::take(&mut ready);
            let states = if docs.len() == 1 {
                let doc = docs.into_iter().next().expect("one document");
                vec![post_one(&mut session, inputs, doc).await?]
            } else {
                post_batch(&mut session, inputs, docs).await?
            };
            for state in states {
                count(&mut report.counts, state);
            }
            runs::progress(db, tenant_id, run_id, report.counts).await?;
        }
    }
    Ok(())
}

/// Stops the run when the connection holding its advisory lock is gone (the database
/// restarted or dropped it): the lock went with it, and another run may now hold it.
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

/// Counts one document's outcome (one left `posting` counts as skipped for this run).
fn count(counts: &mut Counts, state: LedgerState) {
    match state {
        LedgerState::Posted => counts.posted += 1,
        LedgerState::Failed => counts.failed += 1,
        _ => counts.skipped += 1,
    }
}

/// One notice per run that left documents failed for a reason a person must fix (failures that
/// pass by themselves are retried by the next run and not announced).
async fn notify_failures(
    state: &AppState,
    integration: &Integration,
    sync_run_id: i64,
) -> anyhow::Result<()> {
    let db = &state.db;
    let tenant_id = integration.tenant_id;
    let Some(run) = runs::get(db, tenant_id, sync_run_id).await? else {
        return Ok(());
    };
    let failed: Vec<(String, Option<String>)> = sqlx::query_as(
        "select doc_number, last_error from ledger_entry
         where tenant_id = $1 and integration_id = $2 and state = 'failed' and not retryable
           and updated_at >= $3
         order by approved_at limit 20",
    )
    .bind(tenant_id)
    .bind(integration.integration_id)
    .bind(run.started_at)
    .fetch_all(db)
    .await?;
    if failed.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = failed
        .iter()
        .map(|(doc, why)| format!("- {doc}: {}", why.as_deref().unwrap_or("refused")))
        .collect();
    let link = format!(
        "{}/integrations/{}",
        state.config.public_url.trim_end_matches('/'),
        integration.integration_id
    );
    let notice = crate::notices::Notice {
        kind: "sync_failures",
        dedupe_key: format!("sync_failures:{}:{sync_run_id}", integration.integration_id),
        subject: format!(
            "{} document(s) could not be posted to QuickBooks for {}",
            failed.len(),
            integration.company_name
        ),
        body: format!(
            "The sync of {} left these documents unposted; everything else was posted.\n\n{}\n\n\
             Fix the reason shown, then use Retry failed: {link}\n",
            run.trading_day,
            lines.join("\n")
        ),
    };
    crate::notices::send(
        db,
        &state.mailer,
        tenant_id,
        Some(integration.integration_id),
        notice,
    )
    .await?;
    Ok(())
}
