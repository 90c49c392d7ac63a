//! Sends that got no answer: after a lost answer, a time-out or a crash. Nothing is regrouped
//! and nothing is sent under a new request id before QuickBooks has been asked.
//!
//! 1. The members still `posting` are looked up in QuickBooks by what it stores (number,
//!    customer or vendor, date, line total, created after the send). Found → `posted`.
//! 2. If none was found, the send goes again: same request id, same body. QuickBooks replays
//!    the answer of a request id it has seen, or processes it once if it never got it.
//! 3. If some were found, the batch was processed; the others were not created. Once the send
//!    can no longer be in flight, they go back to `pending`, to be sent in a new send.
//! 4. When QuickBooks cannot even be asked, everything stays as it is for later.

use chrono::Utc;

use crate::integrations::settings::ClosedBooks;

use super::super::SyncError;
use super::super::build::{self, Built};
use super::super::ledger::{self, LedgerEntry, LedgerState};
use super::super::post::{self, Found, Key, QboSession};
use super::settle::posted;
use super::{Ready, Send, close_if_done, members_posting, open_sends, settle, transmit};

/// Where a send stands after an attempt to resolve it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// Every member is settled (posted, failed, or back to pending).
    Done,
    /// Some members are still `posting`: QuickBooks could not be asked or did not answer, or
    /// the send may still be in flight. Tried again later.
    Waiting,
}

/// Resolves every open send of the session's integration, oldest first (and rows left
/// `posting` without a send by a version before sends were recorded). Returns whether all of
/// them are settled.
pub(crate) async fn resolve_open(
    session: &mut QboSession<'_>,
    closed_books: ClosedBooks,
) -> Result<bool, SyncError> {
    let db = session.state.db.clone();
    let mut all = resolve_unrecorded(session).await?;
    let sends = open_sends(&db, session.tenant_id, session.integration_id).await?;
    for send in sends {
        if resolve(session, closed_books, &send).await? == Resolution::Waiting {
            all = false;
        }
    }
    Ok(all)
}

/// Rows left `posting` with no recorded send (by a version of Ledgerbridge before sends were
/// recorded): looked up by number and creation time; found → `posted`; absent and started
/// longer ago than a request may take → `pending`; otherwise left for later.
async fn resolve_unrecorded(session: &mut QboSession<'_>) -> Result<bool, SyncError> {
    let db = session.state.db.clone();
    let rows: Vec<LedgerEntry> = sqlx::query_as(&format!(
        "select {} from ledger_entry
         where tenant_id = $1 and integration_id = $2 and state = 'posting' and send_id is null",
        ledger::COLUMNS
    ))
    .bind(session.tenant_id)
    .bind(session.integration_id)
    .fetch_all(&db)
    .await?;
    let horizon = chrono::Duration::from_std(super::in_flight(session)).unwrap_or_default();
    let mut all = true;
    for row in rows {
        let started = row.posting_started_at.unwrap_or(row.updated_at);
        let (Some(entity), Some(number)) = (&row.qbo_entity, &row.qbo_doc_number) else {
            ledger::unrecorded_to_pending(&db, row.tenant_id, row.ledger_entry_id).await?;
            continue;
        };
        let found = match post::find_documents(session, entity, &[number]).await? {
            Ok(f) => f,
            Err(e) if post::is_refusal(&e) => return Err(session.refused(&e).await),
            Err(_) => return Ok(false),
        };
        let mine = found.into_iter().find(|f| {
            f.doc_number.as_deref() == Some(number.as_str())
                && f.created
                    .is_none_or(|c| c >= started - chrono::Duration::hours(1))
        });
        match mine {
            Some(f) => {
                let link = session
                    .state
                    .providers
                    .quickbooks
                    .endpoints()
                    .app_link(build::link_path(entity), &f.id);
                ledger::unrecorded_posted(
                    &db,
                    row.tenant_id,
                    row.ledger_entry_id,
                    ledger::Posted {
                        entity,
                        id: &f.id,
                        doc_number: f.doc_number.as_deref(),
                        link: &link,
                        amount: f.total.map(|t| super::settle::signed(entity, t)),
                    },
                )
                .await?;
            }
            None if started + horizon < Utc::now() => {
                ledger::unrecorded_to_pending(&db, row.tenant_id, row.ledger_entry_id).await?;
            }
            None => all = false,
        }
    }
    Ok(all)
}

/// The transaction a member was sent as, read back from the send's body.
fn built_of(send: &Send, row: &LedgerEntry) -> Option<Built> {
    let body: serde_json::Value = serde_json::from_str(send.body.as_deref()?).ok()?;
    let body = &body;
    let entity = row.qbo_entity.as_deref()?;
    let json = if send.kind == super::BATCH {
        let item = usize::try_from(row.send_item?).ok()?;
        body.get("BatchItemRequest")?.get(item)?.get(entity)?
    } else {
        body
    };
    build::from_json(entity, json, row.amount)
}

/// What QuickBooks stores of a member, from what was recorded when it was sent.
fn key_of_row<'r>(row: &'r LedgerEntry, send: &Send) -> Option<Key<'r>> {
    Some(Key {
        doc_number: row.qbo_doc_number.as_deref()?,
        party: row.qbo_customer_id.as_deref(),
        txn_date: row.qbo_txn_date,
        lines_total: row.qbo_lines_total?,
        sent: send.created_at,
    })
}

/// Resolves one send (see the module documentation).
pub(crate) async fn resolve(
    session: &mut QboSession<'_>,
    closed_books: ClosedBooks,
    send: &Send,
) -> Result<Resolution, SyncError> {
    let db = session.state.db.clone();
    let rows = members_posting(&db, send).await?;
    if rows.is_empty() {
        close_if_done(&db, send).await?;
        return Ok(Resolution::Done);
    }
    // 1. Look up every member, one query per entity.
    let mut found: Vec<Found> = Vec::new();
    let mut numbers: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for row in &rows {
        if let (Some(entity), Some(number)) = (&row.qbo_entity, &row.qbo_doc_number) {
            numbers.entry(entity).or_default().push(number);
        }
    }
    for (entity, numbers) in numbers {
        match post::find_documents(session, entity, &numbers).await? {
            Ok(f) => found.extend(f),
            Err(e) if post::is_refusal(&e) => return Err(session.refused(&e).await),
            Err(_) => return Ok(Resolution::Waiting),
        }
    }
    let mut remaining: Vec<(LedgerEntry, Option<Built>)> = Vec::new();
    let mut any_found = false;
    let posting = rows.len();
    for row in rows {
        let built = built_of(send, &row);
        let mine = key_of_row(&row, send).and_then(|k| post::ours(&found, &k).cloned());
        match (mine, built) {
            (Some(f), Some(built)) => {
                any_found = true;
                posted(session, send.send_id, &Ready { row, built }, f.into()).await?;
            }
            (Some(f), None) => {
                any_found = true;
                posted_without_body(session, send, &row, f).await?;
            }
            (None, built) => remaining.push((row, built)),
        }
    }
    if remaining.is_empty() {
        close_if_done(&db, send).await?;
        return Ok(Resolution::Done);
    }
    // A member already settled (by an answer or an earlier look-up) proves QuickBooks processed
    // the send: sending its body again could only duplicate what it created.
    let processed = any_found || posting < send.members.len();
    let in_flight = send.in_flight_until.is_some_and(|t| t > Utc::now());
    let resend = !processed && send.body.is_some() && remaining.iter().all(|(_, b)| b.is_some());
    if !resend {
        // 3. The send was processed (or cannot be sent again as it was): the members QuickBooks
        // does not hold go back to `pending` once the send cannot be in flight any more.
        if in_flight {
            return Ok(Resolution::Waiting);
        }
        for (row, _) in &remaining {
            ledger::back_to_pending(
                &db,
                row.tenant_id,
                row.ledger_entry_id,
                send.send_id,
                "QuickBooks does not hold this document; it is sent again.",
            )
            .await?;
        }
        close_if_done(&db, send).await?;
        return Ok(Resolution::Done);
    }
    // 2. Nothing of it is in QuickBooks: send it again, exactly as it was.
    let docs: Vec<Ready> = remaining
        .into_iter()
        .filter_map(|(row, built)| built.map(|built| Ready { row, built }))
        .collect();
    let answer = transmit(session, send).await?;
    let states = settle(session, closed_books, send, docs, answer).await?;
    Ok(if states.contains(&LedgerState::Posting) {
        Resolution::Waiting
    } else {
        Resolution::Done
    })
}

/// Records a member posted when its transaction cannot be read back (its send's body is
/// gone): the link and the amount come from what QuickBooks holds.
async fn posted_without_body(
    session: &QboSession<'_>,
    send: &Send,
    row: &LedgerEntry,
    found: Found,
) -> Result<(), SyncError> {
    let entity = row.qbo_entity.as_deref().unwrap_or("Invoice");
    let link = session
        .state
        .providers
        .quickbooks
        .endpoints()
        .app_link(build::link_path(entity), &found.id);
    ledger::settle_posted(
        &session.state.db,
        row.tenant_id,
        row.ledger_entry_id,
        send.send_id,
        ledger::Posted {
            entity,
            id: &found.id,
            doc_number: found.doc_number.as_deref(),
            link: &link,
            amount: found.total.map(|t| super::settle::signed(entity, t)),
        },
    )
    .await?;
    Ok(())
}
