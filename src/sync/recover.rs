//! Rows a crash or a lost answer left in `posting`, resolved at the start of every run by
//! looking them up in QuickBooks before anything is sent again.

use std::collections::{BTreeMap, HashMap};

use super::SyncError;
use super::build;
use super::ledger::{self, LedgerState, Posted};
use super::post::{self, Found, QboSession};

/// Rows a crash (or a lost answer) left in `posting`: looked up in QuickBooks by document number
/// and type (one query per entity) before anything is re-posted. Found → posted; not found →
/// pending again (a re-post of the same rows carries the same request id, so QuickBooks replays
/// rather than duplicates).
pub(crate) async fn resolve_posting(session: &mut QboSession<'_>) -> Result<(), SyncError> {
    let db = session.state.db.clone();
    let rows = ledger::in_state(
        &db,
        session.tenant_id,
        session.integration_id,
        LedgerState::Posting,
    )
    .await?;
    let mut numbers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for row in &rows {
        if let (Some(entity), Some(doc_number)) = (&row.qbo_entity, &row.qbo_doc_number) {
            numbers
                .entry(entity.clone())
                .or_default()
                .push(doc_number.clone());
        }
    }
    let mut found: HashMap<String, Vec<Found>> = HashMap::new();
    for (entity, numbers) in &numbers {
        let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
        match post::find_documents(session, entity, &numbers).await? {
            Ok(f) => {
                found.insert(entity.clone(), f);
            }
            Err(e) if post::is_refusal(&e) => return Err(session.refused(&e).await),
            Err(e) => {
                return Err(SyncError::Unavailable(format!(
                    "QuickBooks could not be asked about an interrupted document: {e}"
                )));
            }
        }
    }
    for row in rows {
        let (tenant_id, id) = (row.tenant_id, row.ledger_entry_id);
        let (Some(entity), Some(doc_number)) = (&row.qbo_entity, &row.qbo_doc_number) else {
            ledger::back_to_pending(&db, tenant_id, id, "Resumed after an interruption.").await?;
            continue;
        };
        let started = row.posting_started_at.unwrap_or(row.updated_at);
        let candidates = found.get(entity).map(Vec::as_slice).unwrap_or_default();
        match post::ours(candidates, doc_number, started) {
            Some(f) => {
                let link = session
                    .state
                    .providers
                    .quickbooks
                    .endpoints()
                    .app_link(build::link_path(entity), &f.id);
                ledger::mark_posted(
                    &db,
                    tenant_id,
                    id,
                    Posted {
                        entity,
                        id: &f.id,
                        doc_number: f.doc_number.as_deref(),
                        link: &link,
                        amount: f.total,
                    },
                )
                .await?;
            }
            None => {
                ledger::back_to_pending(
                    &db,
                    tenant_id,
                    id,
                    "Interrupted before QuickBooks had it; sent again.",
                )
                .await?;
            }
        }
    }
    Ok(())
}
