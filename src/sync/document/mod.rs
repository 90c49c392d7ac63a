//! Posting ledger rows exactly once, alone or in batches of up to 30 (rows a crash left in
//! `posting` are resolved by [`super::recover`]).
//!
//! Either way the order is the same: every row is `posting` (committed, with the request id
//! about to be sent) before QuickBooks is called; each row then gets its own outcome. A batch
//! whose answer is lost is looked up (one query per entity for the whole batch) before anything
//! is sent again; rows that could not even be looked up stay `posting` for the next run.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::integrations::CompanyProfile;
use crate::integrations::settings::{ClosedBooks, Settings};
use crate::providers::quickbooks::{QboError, RequestId};

use super::SyncError;
use super::build::{self, Built, Unbuilt};
use super::dimensions::{self, Needed};
use super::explain;
use super::ledger::{self, Failure, LedgerEntry, LedgerState, Posted, Source};
use super::post::{self, Created, Found, QboSession};
use super::source::{self, Batch};

/// Most Class/Location look-ups one document may need (one per region or site it touches).
const MAX_DIMENSIONS_PER_DOCUMENT: usize = 200;

/// What a run posts from: the settings, the company, and what TrackTik said.
#[derive(Clone, Copy)]
pub(crate) struct Inputs<'a> {
    pub settings: &'a Settings,
    pub company: &'a CompanyProfile,
    pub batch: &'a Batch,
    pub invoices: &'a HashMap<i64, &'a source::InvoiceDoc>,
    pub payruns: &'a HashMap<i64, &'a source::PayrunDoc>,
}

impl Inputs<'_> {
    fn present(&self, kind: Source, source_id: i64) -> bool {
        match kind {
            Source::Invoice => self.invoices.contains_key(&source_id),
            Source::Payrun => self.payruns.contains_key(&source_id),
        }
    }
}

/// Builds the QBO transaction of one document: its customer found or created (when `create`),
/// its Classes and Locations resolved. Previews pass `create = false` and write nothing.
pub(crate) async fn build_one(
    session: &mut QboSession<'_>,
    inputs: Inputs<'_>,
    kind: Source,
    source_id: i64,
    create: bool,
) -> Result<Result<Built, Failure>, SyncError> {
    let reference = &inputs.batch.reference;
    let (settings, company) = (inputs.settings, inputs.company);
    let customer = match kind {
        Source::Invoice => {
            let Some(doc) = inputs.invoices.get(&source_id) else {
                return Ok(Err(gone(kind)));
            };
            let Some(client) = doc.invoice.client.as_ref().map(|c| c.id()) else {
                return Ok(Err(Failure {
                    message: "The TrackTik invoice names no client.".into(),
                    code: "tracktik_data".into(),
                    fix: "Correct the invoice in TrackTik.".into(),
                    fix_at: Some("tracktik".into()),
                    retryable: false,
                }));
            };
            let currency = reference.client_currency(client);
            match post::customer_for(
                session,
                settings,
                company,
                client,
                &reference.client_name(client),
                currency.as_deref(),
                create,
            )
            .await?
            {
                Ok(customer) => Some((*doc, customer, currency)),
                Err(f) => return Ok(Err(f)),
            }
        }
        Source::Payrun => None,
    };
    let mut asked: Vec<Needed> = Vec::new();
    loop {
        let dims = &session.dimensions.refs;
        let built = match &customer {
            Some((doc, customer, currency)) => build::invoice(
                doc,
                settings,
                company,
                reference,
                customer,
                currency.as_deref(),
                dims,
            ),
            None => {
                let Some(doc) = inputs.payruns.get(&source_id) else {
                    return Ok(Err(gone(kind)));
                };
                let currency = doc
                    .payrun
                    .region
                    .as_ref()
                    .and_then(|r| reference.currency_of_region.get(&r.id()).cloned());
                build::payrun(doc, settings, company, reference, currency.as_deref(), dims)
            }
        };
        match built {
            Ok(b) => return Ok(Ok(b)),
            Err(Unbuilt::Failed(f)) => return Ok(Err(f)),
            Err(Unbuilt::Needs(needed)) => {
                // Each resolution adds to the cache, so the same need never comes back; the
                // guard only protects the worker from a translation that keeps asking.
                if asked.contains(&needed) || asked.len() >= MAX_DIMENSIONS_PER_DOCUMENT {
                    return Ok(Err(Failure {
                        message: format!(
                            "The QuickBooks {} for the TrackTik {} could not be settled.",
                            needed.kind, needed.name
                        ),
                        code: "dimension".into(),
                        fix: "Contact support.".into(),
                        fix_at: Some("support".into()),
                        retryable: false,
                    }));
                }
                if let Err(f) = dimensions::resolve(session, settings, &needed, !create).await? {
                    return Ok(Err(f));
                }
                asked.push(needed);
            }
        }
    }
}

pub(crate) fn gone(kind: Source) -> Failure {
    Failure {
        message: format!(
            "The TrackTik {} is no longer approved (or was deleted), so it was not posted.",
            kind.label()
        ),
        code: "gone".into(),
        fix: "Nothing to do; it is posted if it is approved again.".into(),
        fix_at: None,
        retryable: false,
    }
}

fn request_id(row: &LedgerEntry, extra: &[&str]) -> RequestId {
    let mut parts = vec![
        row.integration_id.to_string(),
        row.source.key().to_owned(),
        row.source_id.to_string(),
        row.revision.clone(),
        row.generation.to_string(),
    ];
    parts.extend(extra.iter().map(|s| (*s).to_owned()));
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    RequestId::derive(&parts)
}

/// The request id of a batch: derived from its rows, in order, with their revisions and
/// generations, so the same batch always gets the same id and any change gives a new one.
fn batch_request_id(rows: &[&LedgerEntry]) -> RequestId {
    let mut parts = vec!["batch".to_owned()];
    for row in rows {
        parts.push(row.integration_id.to_string());
        parts.push(row.source.key().to_owned());
        parts.push(row.source_id.to_string());
        parts.push(row.revision.clone());
        parts.push(row.generation.to_string());
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    RequestId::derive(&parts)
}

/// A document ready to send.
pub(crate) struct Ready {
    row: LedgerEntry,
    built: Built,
}

/// Builds a row's transaction. `Err` carries the state of a row settled here (skipped because
/// TrackTik no longer lists it or it has nothing to post; failed because it cannot be built).
pub(crate) async fn prepare(
    session: &mut QboSession<'_>,
    inputs: Inputs<'_>,
    row: LedgerEntry,
) -> Result<Result<Ready, LedgerState>, SyncError> {
    let db = session.state.db.clone();
    let (tenant_id, id) = (row.tenant_id, row.ledger_entry_id);
    if !inputs.present(row.source, row.source_id) {
        ledger::mark_skipped(&db, tenant_id, id, &gone(row.source).message).await?;
        return Ok(Err(LedgerState::Skipped));
    }
    match build_one(session, inputs, row.source, row.source_id, true).await? {
        Ok(built) => Ok(Ok(Ready { row, built })),
        Err(f) if f.code == build::NOTHING_TO_POST => {
            ledger::mark_skipped(&db, tenant_id, id, &f.message).await?;
            Ok(Err(LedgerState::Skipped))
        }
        Err(f) => {
            ledger::mark_failed(&db, tenant_id, id, &f).await?;
            Ok(Err(LedgerState::Failed))
        }
    }
}

/// Posts one document with its own request id.
pub(crate) async fn post_one(
    session: &mut QboSession<'_>,
    inputs: Inputs<'_>,
    ready: Ready,
) -> Result<LedgerState, SyncError> {
    let db = session.state.db.clone();
    let rid = request_id(&ready.row, &[]);
    if !ledger::start_posting(
        &db,
        ready.row.tenant_id,
        ready.row.ledger_entry_id,
        rid.as_str(),
        ready.built.entity(),
        ready.built.doc_number(),
    )
    .await?
    {
        return Ok(LedgerState::Skipped);
    }
    let started = Utc::now();
    let result = post::create(session, &ready.built, &rid).await?;
    settle(session, inputs, ready, started, result).await
}

/// Posts up to 30 documents in one batch request; returns each row's state, in order. One
/// item's refusal does not touch the others.
pub(crate) async fn post_batch(
    session: &mut QboSession<'_>,
    inputs: Inputs<'_>,
    docs: Vec<Ready>,
) -> Result<Vec<LedgerState>, SyncError> {
    let db = session.state.db.clone();
    let tenant_id = session.tenant_id;
    let items: Vec<(i64, &str, &str)> = docs
        .iter()
        .map(|d| {
            (
                d.row.ledger_entry_id,
                d.built.entity(),
                d.built.doc_number(),
            )
        })
        .collect();
    let by_id: HashMap<i64, &LedgerEntry> = docs
        .iter()
        .map(|d| (d.row.ledger_entry_id, &d.row))
        .collect();
    let (started_ids, rid) = ledger::start_posting_batch(&db, tenant_id, &items, |ids| {
        let rows: Vec<&LedgerEntry> = ids.iter().filter_map(|id| by_id.get(id).copied()).collect();
        batch_request_id(&rows)
    })
    .await?;
    let mut states = vec![LedgerState::Skipped; docs.len()];
    let mut sent: Vec<(usize, Ready)> = docs
        .into_iter()
        .enumerate()
        .filter(|(_, d)| started_ids.contains(&d.row.ledger_entry_id))
        .collect();
    if sent.is_empty() {
        return Ok(states);
    }
    let started = Utc::now();
    let builts: Vec<&Built> = sent.iter().map(|(_, d)| &d.built).collect();
    let answer = post::create_batch(session, &builts, &rid).await?;
    match answer {
        Ok(outcomes) => {
            // Once the run must stop (QuickBooks refused access while settling an item), the
            // remaining created items are still recorded; the rest stay `posting` for the
            // next run's look-up.
            let mut stop: Option<SyncError> = None;
            for (n, (i, ready)) in sent.into_iter().enumerate() {
                let b_id = post::b_id(n);
                // No answer for an item, or one we cannot read, is as good as a lost answer:
                // QuickBooks may hold the document, so it is looked up.
                let result = match outcomes.iter().find(|o| o.b_id == b_id) {
                    Some(o) => post::created_of(o, &ready.built).map_err(|e| match e {
                        QboError::InvalidResponse { .. } => {
                            QboError::Transport(format!("batch item {b_id} unreadable: {e}"))
                        }
                        e => e,
                    }),
                    None => Err(QboError::Transport(format!(
                        "the batch answer has no item {b_id}"
                    ))),
                };
                states[i] = match (&stop, result) {
                    (None, result) => match settle(session, inputs, ready, started, result).await {
                        Ok(state) => state,
                        Err(e @ SyncError::Database(_)) => return Err(e),
                        Err(e) => {
                            stop = Some(e);
                            LedgerState::Posting
                        }
                    },
                    (Some(_), Ok(created)) => {
                        posted(session, &ready, created).await?;
                        LedgerState::Posted
                    }
                    (Some(_), Err(_)) => LedgerState::Posting,
                };
            }
            if let Some(e) = stop {
                return Err(e);
            }
        }
        // Rows stay `posting`: the first run after the reconnect looks them up.
        Err(e) if post::is_refusal(&e) => return Err(session.refused(&e).await),
        Err(e) if e.is_retryable() || e.outcome_unknown() => {
            let looked = look_up(session, sent.iter().map(|(_, d)| d)).await?;
            for (i, ready) in sent.drain(..) {
                states[i] = match &looked {
                    Ok(found) => match post::ours(found, ready.built.doc_number(), started)
                        .filter(|f| f.lines_total == ready.built.lines_total())
                    {
                        Some(f) => {
                            posted(session, &ready, f.clone().into()).await?;
                            LedgerState::Posted
                        }
                        None => {
                            let failure = explain::explain(&e, &ready.built);
                            ledger::mark_failed(
                                &db,
                                tenant_id,
                                ready.row.ledger_entry_id,
                                &failure,
                            )
                            .await?;
                            LedgerState::Failed
                        }
                    },
                    Err(_) => LedgerState::Posting,
                };
            }
        }
        // The request as a whole was refused: nothing was created.
        Err(e) => {
            for (i, ready) in sent {
                let failure = explain::explain(&e, &ready.built);
                ledger::mark_failed(&db, tenant_id, ready.row.ledger_entry_id, &failure).await?;
                states[i] = LedgerState::Failed;
            }
        }
    }
    Ok(states)
}

/// Every document of `docs` QuickBooks holds under their numbers: one query per entity (and
/// per 30 numbers).
async fn look_up<'r>(
    session: &mut QboSession<'_>,
    docs: impl Iterator<Item = &'r Ready>,
) -> Result<Result<Vec<Found>, QboError>, SyncError> {
    let mut numbers: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for d in docs {
        numbers
            .entry(d.built.entity())
            .or_default()
            .push(d.built.doc_number());
    }
    let mut all = Vec::new();
    for (entity, numbers) in numbers {
        match post::find_documents(session, entity, &numbers).await? {
            Ok(found) => all.extend(found),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(all))
}

/// Records a row as posted, and a difference between QuickBooks' total and TrackTik's.
async fn posted(
    session: &QboSession<'_>,
    ready: &Ready,
    created: Created,
) -> Result<(), SyncError> {
    let db = &session.state.db;
    let (tenant_id, id) = (ready.row.tenant_id, ready.row.ledger_entry_id);
    let link = session
        .state
        .providers
        .quickbooks
        .endpoints()
        .app_link(ready.built.link_path(), &created.id);
    ledger::mark_posted(
        db,
        tenant_id,
        id,
        Posted {
            entity: ready.built.entity(),
            id: &created.id,
            doc_number: created.doc_number.as_deref(),
            link: &link,
            amount: created.total,
        },
    )
    .await?;
    if let Some(d) = created
        .total
        .and_then(|total| super::translate::reconcile(ready.built.expected_total, total))
    {
        ledger::note_discrepancy(db, tenant_id, id, &d.to_string()).await?;
    }
    Ok(())
}

/// Moves a document refused for closed books to the first open date, with a request id naming
/// that date, and sends it again on its own. `None` when the closing date cannot be read.
async fn post_on_first_open_date(
    session: &mut QboSession<'_>,
    ready: &mut Ready,
) -> Result<Option<Result<Created, QboError>>, SyncError> {
    let Some(closed) = session.book_close_date().await? else {
        return Ok(None);
    };
    let Some(open) = closed.succ_opt() else {
        return Ok(None);
    };
    ready.built.set_txn_date(open);
    let rid = request_id(&ready.row, &["first-open-date", &open.to_string()]);
    sqlx::query(
        "update ledger_entry set request_id = $3, change_note = $4
         where tenant_id = $1 and ledger_entry_id = $2",
    )
    .bind(ready.row.tenant_id)
    .bind(ready.row.ledger_entry_id)
    .bind(rid.as_str())
    .bind(format!(
        "The QuickBooks books were closed through {closed}; posted on {open}, the first open date."
    ))
    .execute(&session.state.db)
    .await?;
    Ok(Some(post::create(session, &ready.built, &rid).await?))
}

/// Records what QuickBooks answered for one document (alone or as a batch item).
async fn settle(
    session: &mut QboSession<'_>,
    inputs: Inputs<'_>,
    mut ready: Ready,
    started: DateTime<Utc>,
    mut result: Result<Created, QboError>,
) -> Result<LedgerState, SyncError> {
    let db = session.state.db.clone();
    let (tenant_id, id) = (ready.row.tenant_id, ready.row.ledger_entry_id);
    if let Err(e) = &result
        && e.fault().is_some_and(|f| f.has_code("6210"))
        && inputs.settings.schedule.closed_books == ClosedBooks::PostOnFirstOpenDate
        && let Some(again) = post_on_first_open_date(session, &mut ready).await?
    {
        result = again;
    }
    match result {
        Ok(created) => {
            posted(session, &ready, created).await?;
            Ok(LedgerState::Posted)
        }
        Err(e) if post::is_refusal(&e) => Err(session.refused(&e).await),
        Err(e)
            if e.is_retryable()
                || e.outcome_unknown()
                || e.fault().is_some_and(|f| f.has_code("6140")) =>
        {
            // The outcome is unknown (or a document with our number exists): look before
            // anything else is sent.
            let number = ready.built.doc_number().to_owned();
            match post::find_documents(session, ready.built.entity(), &[&number]).await? {
                Ok(found) => {
                    let mine = post::ours(&found, &number, started)
                        .filter(|f| f.lines_total == ready.built.lines_total());
                    if let Some(f) = mine {
                        posted(session, &ready, f.clone().into()).await?;
                        Ok(LedgerState::Posted)
                    } else {
                        ledger::mark_failed(
                            &db,
                            tenant_id,
                            id,
                            &explain::explain(&e, &ready.built),
                        )
                        .await?;
                        Ok(LedgerState::Failed)
                    }
                }
                // Could not even look: leave it in `posting`; the next run looks first.
                Err(_) => Ok(LedgerState::Posting),
            }
        }
        Err(e) => {
            ledger::mark_failed(&db, tenant_id, id, &explain::explain(&e, &ready.built)).await?;
            Ok(LedgerState::Failed)
        }
    }
}

#[cfg(test)]
mod tests;
