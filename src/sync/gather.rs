//! The read phase of a run (and of a preview): what TrackTik changed since the watermark, the
//! back-sync ranges asked for, and the documents still owed, read in full. Nothing is written
//! here: a run records what this returns, a preview only shows it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::connections;
use crate::ids::{ConnectionId, IntegrationId, TenantId};
use crate::integrations::settings::{RegionChoice, Settings};
use crate::mapping::scope::ScopeIndex;
use crate::providers::tracktik::{AccessToken, Portal, TrackTikError};
use crate::state::AppState;

use super::SyncError;
use super::cursor::{self, Cursor, OVERLAP};
use super::ledger::{self, LedgerEntry, Source, SourceDoc};
use super::post;
use super::queue::DayRange;
use super::reader::{self, Headers, Owed};
use super::source::{self, Batch};
use super::window::{TradingSchedule, day_start};

/// What a run asks TrackTik about.
pub(crate) struct Ask<'a> {
    /// The integration's settings.
    pub settings: &'a Settings,
    /// Its trading schedule.
    pub schedule: &'a TradingSchedule,
    /// Documents approved at or after this are not posted by this run.
    pub until: DateTime<Utc>,
    /// Back-sync ranges asked for.
    pub back_sync: &'a [DayRange],
    /// The ledger's owed rows (read again by id).
    pub owed: &'a [LedgerEntry],
    /// Read only the back-sync ranges: no watermark, no first read from the start date (a
    /// preview of chosen days, e.g. the wizard's review of the last 30 days).
    pub only_ranges: bool,
}

/// What the read phase found.
#[derive(Debug, Default)]
pub(crate) struct Gathered {
    /// The documents still approved, in full.
    pub batch: Batch,
    /// Their ledger views.
    pub docs: Vec<SourceDoc>,
    /// Documents TrackTik, asked directly, says are not approved.
    pub not_approved: Vec<(Source, i64)>,
    /// Documents TrackTik, asked directly, says do not exist.
    pub deleted: Vec<(Source, i64)>,
    /// Watermarks to record once the run has recorded what it read: (source, read through,
    /// covered from).
    pub cursors: Vec<(Source, DateTime<Utc>, NaiveDate)>,
    /// Documents read but left out: another company's regions.
    pub out_of_scope: usize,
}

/// The sources the settings switch on (credit memos go with billing).
pub(crate) fn sources(settings: &Settings) -> Vec<Source> {
    let mut s = Vec::new();
    if settings.billing.enabled {
        s.push(Source::Invoice);
        s.push(Source::CreditMemo);
    }
    if settings.payroll.enabled {
        s.push(Source::Payrun);
    }
    s
}

/// The first local day whose approvals a source syncs: the start date, or the earlier
/// back-sync date of the wizard, but not before the day the source was switched back on.
pub(crate) fn first_day(
    settings: &Settings,
    schedule: &TradingSchedule,
    source: Source,
) -> NaiveDate {
    let mut day = schedule.start_date;
    if let Some(from) = settings.schedule.back_sync_from {
        day = day.min(from);
    }
    let resume = match source {
        Source::Invoice | Source::CreditMemo => settings.billing.resume_from,
        Source::Payrun => settings.payroll.resume_from,
    };
    resume.map_or(day, |r| day.max(r))
}

/// A working TrackTik token for the tenant (refreshed when `force`).
pub(crate) async fn tracktik(
    state: &AppState,
    tenant_id: TenantId,
    force: bool,
) -> Result<(Portal, AccessToken, ConnectionId), SyncError> {
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

pub(crate) fn tracktik_error(e: TrackTikError) -> SyncError {
    if e.needs_reauthorization() || e.is_unauthorized() {
        SyncError::NeedsReconnect(format!("TrackTik refused access: {e}"))
    } else {
        SyncError::Unavailable(format!("TrackTik could not be read: {e}"))
    }
}

/// Reads what a preview needs, all of it at once (a run reads the same in chunks while it
/// posts, see `sync::pipeline`); a 401 refreshes the TrackTik token once and reads again.
pub(crate) async fn gather(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    ask: &Ask<'_>,
) -> Result<Gathered, SyncError> {
    let (planned, portal, token) = plan(state, tenant_id, integration_id, ask).await?;
    let ids = planned.ids();
    if ids.is_empty() {
        return Ok(Gathered {
            cursors: planned.cursors,
            ..Gathered::default()
        });
    }
    let zone = ask.schedule.zone;
    let mut reader =
        super::pipeline::Reader::new(state, tenant_id, ask.settings, zone, (portal, token));
    let (reference, mut gathered) = reader.first(&ids).await?;
    gathered.batch.reference = reference;
    gathered.cursors = planned.cursors;
    Ok(gathered)
}

/// One document a run reads in full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Wanted {
    /// When it was approved (the order a run reads and posts in).
    pub approved: DateTime<Utc>,
    /// Its source.
    pub source: Source,
    /// Its TrackTik id.
    pub id: i64,
}

/// What the read phase found to read in full, before reading it.
#[derive(Debug, Default)]
pub(crate) struct Planned {
    /// The documents, oldest approval first.
    pub wanted: Vec<Wanted>,
    /// Watermarks to record once every document is recorded: (source, read through, covered
    /// from).
    pub cursors: Vec<(Source, DateTime<Utc>, NaiveDate)>,
}

impl Planned {
    /// Every document, per source.
    pub fn ids(&self) -> reader::Ids {
        let mut ids = reader::Ids::default();
        for w in &self.wanted {
            ids.push(w.source, w.id);
        }
        ids
    }

    /// The documents in chunks of at most `size`, oldest approval first.
    pub fn chunks(&self, size: usize) -> Vec<reader::Ids> {
        self.wanted
            .chunks(size.max(1))
            .map(|chunk| {
                let mut ids = reader::Ids::default();
                for w in chunk {
                    ids.push(w.source, w.id);
                }
                ids
            })
            .collect()
    }
}

/// Finds what a run reads in full: changes since the watermark, back-sync ranges, owed rows;
/// a 401 refreshes the TrackTik token once and asks again. Returns the portal and token it
/// used, for the reads that follow.
pub(crate) async fn plan(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    ask: &Ask<'_>,
) -> Result<(Planned, Portal, AccessToken), SyncError> {
    let (portal, token, _) = tracktik(state, tenant_id, false).await?;
    match plan_with(state, tenant_id, integration_id, ask, &portal, &token).await? {
        Ok(p) => Ok((p, portal, token)),
        Err(e) if e.is_unauthorized() => {
            let (portal, token, _) = tracktik(state, tenant_id, true).await?;
            let p = plan_with(state, tenant_id, integration_id, ask, &portal, &token)
                .await?
                .map_err(tracktik_error)?;
            Ok((p, portal, token))
        }
        Err(e) => Err(tracktik_error(e)),
    }
}

async fn plan_with(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    ask: &Ask<'_>,
    portal: &Portal,
    token: &AccessToken,
) -> Result<Result<Planned, TrackTikError>, SyncError> {
    let db = &state.db;
    let tt = &state.providers.tracktik;
    let zone = ask.schedule.zone;
    let sources = sources(ask.settings);
    let cursors = cursor::get(db, tenant_id, integration_id).await?;
    let started = Utc::now();
    let mut planned = Planned::default();
    let mut headers = Headers::default();
    macro_rules! tt {
        ($call:expr) => {
            match $call.await {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            }
        };
    }
    for &source in sources.iter().filter(|_| !ask.only_ranges) {
        let only = [source];
        let first = first_day(ask.settings, ask.schedule, source);
        let from = day_start(zone, first);
        let read_through = started.min(ask.until);
        match cursors.get(&source) {
            None => {
                // The first read: every approval from the first day on.
                headers.merge(tt!(reader::approved_between(
                    tt, portal, token, &only, from, ask.until
                )));
            }
            Some(Cursor {
                read_through: mark,
                covered_from,
                ..
            }) => {
                let since = *mark - OVERLAP;
                let since = reader::Since {
                    invoices: (source == Source::Invoice).then_some(since),
                    payruns: (source == Source::Payrun).then_some(since),
                    credit_memos: (source == Source::CreditMemo).then_some(since),
                };
                headers.merge(tt!(reader::updated_since(tt, portal, token, since)));
                if first < *covered_from {
                    // The first day moved earlier (a back-sync from, a new start date): read
                    // the days not covered yet once.
                    let to = day_start(zone, *covered_from);
                    headers.merge(tt!(reader::approved_between(
                        tt, portal, token, &only, from, to
                    )));
                }
            }
        }
        planned.cursors.push((source, read_through, first));
    }
    let mut ranges = Vec::new();
    for r in ask.back_sync {
        let (from, to) = (
            day_start(zone, r.from),
            day_start(zone, r.to.succ_opt().unwrap_or(r.to)),
        );
        ranges.push((from, to));
        headers.merge(tt!(reader::approved_between(
            tt, portal, token, &sources, from, to
        )));
    }
    // Approved documents in scope: before the run's end, and from the source's first day or in
    // a back-sync range. Already posted ones are left to the changes check.
    let mut wanted: BTreeMap<(Source, i64), DateTime<Utc>> = BTreeMap::new();
    for (source, id, approved) in headers.approvals() {
        let Some(approved) = approved else { continue };
        let first = day_start(zone, first_day(ask.settings, ask.schedule, source));
        let in_range = ranges.iter().any(|(f, t)| approved >= *f && approved < *t);
        if sources.contains(&source) && approved < ask.until && (approved >= first || in_range) {
            wanted.insert((source, id), approved);
        }
    }
    for &source in &sources {
        let ids: Vec<i64> = wanted
            .keys()
            .filter(|(s, _)| *s == source)
            .map(|(_, id)| *id)
            .collect();
        let posted = ledger::posted_among(db, tenant_id, integration_id, source, &ids).await?;
        wanted.retain(|(s, id), _| *s != source || !posted.contains(id));
    }
    for row in ask.owed {
        if sources.contains(&row.source) {
            wanted
                .entry((row.source, row.source_id))
                .or_insert(row.approved_at);
        }
    }
    planned.wanted = wanted
        .into_iter()
        .map(|((source, id), approved)| Wanted {
            approved,
            source,
            id,
        })
        .collect();
    planned.wanted.sort_unstable();
    Ok(Ok(planned))
}

/// What TrackTik said of documents read in full, as a run records it: only the documents of
/// the company's regions (see `mapping::scope`; the others are another company's, and are
/// neither recorded nor posted here), with their ledger views. The batch's reference data is
/// left empty: it is `reference`, read once.
pub(crate) fn in_scope(
    settings: &Settings,
    zone: chrono_tz::Tz,
    owed: Owed,
    reference: &source::Reference,
) -> Gathered {
    let Owed {
        mut batch,
        not_approved,
        deleted,
    } = owed;
    let read = batch.invoices.len() + batch.credit_memos.len() + batch.payruns.len();
    if let Some(scope) = scope_of(settings, reference) {
        let client_of = |d: &source::InvoiceDoc| d.invoice.client.as_ref().map(|c| c.id());
        batch
            .invoices
            .retain(|d| client_of(d).is_some_and(|c| scope.client(c)));
        batch
            .credit_memos
            .retain(|d| client_of(d).is_some_and(|c| scope.client(c)));
        batch
            .payruns
            .retain(|d| scope.payrun(d.payrun.region.as_ref().map(|r| r.id())));
    }
    let mut docs = Vec::new();
    for d in &batch.invoices {
        docs.extend(source::invoice_source(d, zone, reference));
    }
    for d in &batch.credit_memos {
        docs.extend(source::credit_memo_source(d, zone, reference));
    }
    for d in &batch.payruns {
        docs.extend(source::payrun_source(d, zone, reference));
    }
    let kept = batch.invoices.len() + batch.credit_memos.len() + batch.payruns.len();
    Gathered {
        batch,
        docs,
        not_approved,
        deleted,
        cursors: Vec::new(),
        out_of_scope: read - kept,
    }
}

/// Which documents go into this company, when it takes only some regions (`None`: all).
fn scope_of(settings: &Settings, reference: &source::Reference) -> Option<ScopeIndex> {
    if matches!(settings.scope.regions, RegionChoice::Every) {
        return None;
    }
    let clients: Vec<_> = reference.clients.values().cloned().collect();
    Some(ScopeIndex::new(
        &settings.scope,
        &reference.region_list,
        &clients,
    ))
}

/// Records what was read: the documents and what TrackTik said about the others. The
/// watermarks are the caller's to move, once every chunk is recorded.
pub(crate) async fn record(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    gathered: &Gathered,
) -> Result<(), SyncError> {
    ledger::record_all(db, tenant_id, integration_id, &gathered.docs).await?;
    for (items, reason) in [
        (&gathered.not_approved, ledger::SkipReason::NotApproved),
        (&gathered.deleted, ledger::SkipReason::Deleted),
    ] {
        for source in [Source::Invoice, Source::Payrun, Source::CreditMemo] {
            let ids: Vec<i64> = items
                .iter()
                .filter(|(s, _)| *s == source)
                .map(|(_, id)| *id)
                .collect();
            ledger::skip_told(db, tenant_id, integration_id, source, &ids, reason).await?;
        }
    }
    Ok(())
}
