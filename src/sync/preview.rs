//! Previews: what a run would post now, and what would stop each document, with no write to
//! QuickBooks or the ledger. A preview takes no lock, opens no transaction and holds no
//! database connection while it waits for TrackTik or QuickBooks. Previews of one integration
//! and day run once at a time: a second request waits for the first and shares its answer,
//! and only a few previews run at once in a process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::NaiveDate;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tokio::sync::Semaphore;

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::{self, IntegrationState};
use crate::state::AppState;

use super::SyncError;
use super::document::{ById, build_one};
use super::engine::{PreviewItem, company_of, schedule_of, settings_of};
use super::gather::{self, Ask};
use super::ledger;
use super::post::QboSession;
use super::queue::DayRange;

/// Previews computed at once in one process; more wait their turn.
const AT_ONCE: usize = 4;

/// A preview's outcome, shareable between the requests that wait for it.
type Outcome = Result<Arc<Vec<PreviewItem>>, Arc<SyncError>>;
type Flight = Shared<BoxFuture<'static, Outcome>>;
/// A preview's key: the integration, the day it runs to, and the first day of a range
/// preview (none for "what a run would post now").
type Key = (TenantId, IntegrationId, NaiveDate, Option<NaiveDate>);
type Flights = Mutex<HashMap<Key, Flight>>;

fn flights() -> &'static Flights {
    static FLIGHTS: OnceLock<Flights> = OnceLock::new();
    FLIGHTS.get_or_init(Default::default)
}

fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(AT_ONCE))
}

/// What a run for `day` would post now (see the module documentation).
pub async fn preview(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
) -> Result<Vec<PreviewItem>, SyncError> {
    shared(state, (tenant_id, integration_id, day, None)).await
}

/// What posting the documents approved from `from` to the end of `to` would meet, whatever
/// the integration's state, watermark or ledger (the wizard's review of recent days).
pub async fn range(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<PreviewItem>, SyncError> {
    shared(state, (tenant_id, integration_id, to, Some(from))).await
}

async fn shared(state: &AppState, key: Key) -> Result<Vec<PreviewItem>, SyncError> {
    let (tenant_id, integration_id, day, from) = key;
    let flight = {
        let mut all = flights().lock().unwrap_or_else(|e| e.into_inner());
        all.entry(key)
            .or_insert_with(|| {
                let state = state.clone();
                // Its own task: it finishes (and leaves the map) even when every request
                // waiting for it has gone.
                let work = tokio::spawn(async move {
                    let outcome = match slots().acquire().await {
                        Ok(_permit) => compute_with(&state, tenant_id, integration_id, day, from)
                            .await
                            .map(Arc::new)
                            .map_err(Arc::new),
                        Err(_) => Err(Arc::new(SyncError::Unavailable(
                            "previews are shutting down".into(),
                        ))),
                    };
                    flights()
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(&key);
                    outcome
                });
                async move {
                    work.await.unwrap_or_else(|e| {
                        Err(Arc::new(SyncError::Unavailable(format!(
                            "the preview stopped: {e}"
                        ))))
                    })
                }
                .boxed()
                .shared()
            })
            .clone()
    };
    match flight.await {
        Ok(items) => Ok(items.as_ref().clone()),
        Err(e) => Err(match e.as_ref() {
            SyncError::NotFound => SyncError::NotFound,
            SyncError::NotReady(m) => SyncError::NotReady(m.clone()),
            SyncError::NeedsReconnect(m) => SyncError::NeedsReconnect(m.clone()),
            other => SyncError::Unavailable(other.to_string()),
        }),
    }
}

/// Computes a preview (no sharing).
pub(crate) async fn compute(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
) -> Result<Vec<PreviewItem>, SyncError> {
    compute_with(state, tenant_id, integration_id, day, None).await
}

/// Computes a preview to the end of `day`; with `from`, of that range of days only.
async fn compute_with(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    day: NaiveDate,
    from: Option<NaiveDate>,
) -> Result<Vec<PreviewItem>, SyncError> {
    let db = &state.db;
    let integration = integrations::db::get(db, tenant_id, integration_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    if integration.state == IntegrationState::NeedsReconnect {
        return Err(SyncError::NeedsReconnect(
            "A connection needs to be reconnected before anything can be posted.".into(),
        ));
    }
    let settings = settings_of(db, tenant_id, integration_id)
        .await?
        .ok_or(SyncError::NotFound)?;
    let schedule = schedule_of(&settings)?;
    let until = super::window::day_start(schedule.zone, day.succ_opt().unwrap_or(day));
    let sources = gather::sources(&settings);
    let owed = match from {
        Some(_) => Vec::new(),
        None => ledger::owed(db, tenant_id, integration_id, &sources, until).await?,
    };
    let ranges: Vec<DayRange> = from
        .map(|f| DayRange { from: f, to: day })
        .into_iter()
        .collect();
    let gathered = gather::gather(
        state,
        tenant_id,
        integration_id,
        &Ask {
            settings: &settings,
            schedule: &schedule,
            until,
            back_sync: &ranges,
            owed: &owed,
            only_ranges: from.is_some(),
        },
    )
    .await?;
    let company = company_of(&integration);
    let mut session =
        QboSession::open(state, tenant_id, integration_id, &integration.realm_id).await?;
    let by_id = ById::of(&gathered.batch);
    let inputs = by_id.inputs(&settings, &company, &gathered.batch.reference);
    let mut docs: Vec<_> = gathered
        .docs
        .iter()
        .filter(|d| d.approved_at < until)
        .collect();
    docs.sort_by_key(|d| (d.approved_at, d.source, d.source_id));
    let mut items = Vec::with_capacity(docs.len());
    for doc in docs {
        let built = build_one(&mut session, inputs, doc.source, doc.source_id, false).await?;
        items.push(PreviewItem {
            source: doc.source,
            source_id: doc.source_id,
            doc_number: doc.doc_number.clone(),
            amount: doc.amount,
            currency: doc.currency.clone(),
            qbo_entity: built.as_ref().ok().map(|b| b.entity().to_owned()),
            fix_at: built.as_ref().err().and_then(|f| f.fix_at.clone()),
            problem: built.err().map(|f| f.message),
        });
    }
    // Owed documents TrackTik no longer has as approved: a run would skip them, and says why.
    for row in &owed {
        let key = (row.source, row.source_id);
        let why = if gathered.not_approved.contains(&key) {
            "TrackTik says it is not approved any more; it would be skipped."
        } else if gathered.deleted.contains(&key) {
            "TrackTik says it no longer exists; it would be skipped."
        } else {
            continue;
        };
        items.push(PreviewItem {
            source: row.source,
            source_id: row.source_id,
            doc_number: row.doc_number.clone(),
            amount: row.amount,
            currency: row.currency.clone(),
            qbo_entity: None,
            fix_at: Some("tracktik".into()),
            problem: Some(why.into()),
        });
    }
    Ok(items)
}
