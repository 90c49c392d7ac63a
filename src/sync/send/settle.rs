//! Settling a send's members from QuickBooks' answer, each on its own and fenced on the send.

use chrono::{DateTime, Utc};

use crate::integrations::settings::ClosedBooks;
use crate::providers::quickbooks::QboError;

use super::super::SyncError;
use super::super::explain;
use super::super::ledger::{self, LedgerState, Posted, Settled};
use super::super::post::{self, Created, Key, QboSession};
use super::{Answer, Item, Ready, Send, close_if_done};

/// Settles each member of `send` from its answer: the created ones in one statement, then the
/// rest in item order. `docs` are the members still carried by the send, each with its
/// transaction. Returns each one's state afterwards, in the order of `docs`.
pub(crate) async fn settle(
    session: &mut QboSession<'_>,
    closed_books: ClosedBooks,
    send: &Send,
    docs: Vec<Ready>,
    answer: Answer,
) -> Result<Vec<LedgerState>, SyncError> {
    let db = session.state.db.clone();
    let items: Vec<Item> = match answer {
        Answer::Items(items) => items,
        Answer::Refused(e) => {
            let mut states = Vec::with_capacity(docs.len());
            for d in &docs {
                let f = explain::explain(&e, &d.built);
                ledger::settle_failed(&db, send.tenant_id, d.row.ledger_entry_id, send.send_id, &f)
                    .await?;
                states.push(LedgerState::Failed);
            }
            close_if_done(&db, send).await?;
            return Ok(states);
        }
        Answer::Unknown(_) => return Ok(vec![LedgerState::Posting; docs.len()]),
    };
    let mut items: Vec<Option<Item>> = items.into_iter().map(Some).collect();
    let answered: Vec<(Ready, Item)> = docs
        .into_iter()
        .map(|d| {
            let item = send
                .members
                .iter()
                .position(|m| *m == d.row.ledger_entry_id)
                .and_then(|i| items.get_mut(i))
                .and_then(Option::take)
                .unwrap_or(Item::Unknown);
            (d, item)
        })
        .collect();
    // The members QuickBooks created, in one statement; any it did not take (no longer in
    // this send) go one by one below, which tells a replayed answer from a conflict.
    let settled = posted_all(session, send.send_id, &answered).await?;
    let mut states = Vec::with_capacity(answered.len());
    for (d, item) in answered {
        let state = match item {
            Item::Created(_) if settled.contains(&d.row.ledger_entry_id) => LedgerState::Posted,
            Item::Created(c) => {
                posted(session, send.send_id, &d, c).await?;
                LedgerState::Posted
            }
            Item::Unknown => LedgerState::Posting,
            Item::Refused(e) => refused(session, closed_books, send, &d, &e).await?,
        };
        states.push(state);
    }
    close_if_done(&db, send).await?;
    Ok(states)
}

/// A member QuickBooks refused: a number QuickBooks says it already holds is looked up (it
/// may be ours); closed books move it to the first open date when the settings say so;
/// anything else fails it in plain words.
async fn refused(
    session: &mut QboSession<'_>,
    closed_books: ClosedBooks,
    send: &Send,
    d: &Ready,
    e: &QboError,
) -> Result<LedgerState, SyncError> {
    let db = session.state.db.clone();
    let id = d.row.ledger_entry_id;
    if e.fault().is_some_and(|f| f.has_code("6140")) {
        let number = d.built.doc_number().to_owned();
        if let Ok(found) = post::find_documents(session, d.built.entity(), &[&number]).await?
            && let Some(f) = post::ours(&found, &key_of(d, send.created_at))
        {
            posted(session, send.send_id, d, f.clone().into()).await?;
            return Ok(LedgerState::Posted);
        }
    }
    if e.fault().is_some_and(|f| f.has_code("6210"))
        && closed_books == ClosedBooks::PostOnFirstOpenDate
        && let Some(open) = session
            .book_close_date()
            .await?
            .and_then(|closed| closed.succ_opt())
    {
        sqlx::query(
            "update ledger_entry set txn_date_override = $4, change_note = $5
             where tenant_id = $1 and ledger_entry_id = $2 and state = 'posting' and send_id = $3",
        )
        .bind(send.tenant_id)
        .bind(id)
        .bind(send.send_id)
        .bind(open)
        .bind(format!(
            "The QuickBooks books were closed on its date; it is posted on {open}, the first open date."
        ))
        .execute(&db)
        .await?;
        ledger::back_to_pending(
            &db,
            send.tenant_id,
            id,
            send.send_id,
            "Sent again on the first open date.",
        )
        .await?;
        return Ok(LedgerState::Pending);
    }
    let failure = explain::explain(e, &d.built);
    ledger::settle_failed(&db, send.tenant_id, id, send.send_id, &failure).await?;
    Ok(LedgerState::Failed)
}

/// What QuickBooks stores of a member, to recognise it in a look-up.
pub(crate) fn key_of(d: &Ready, sent: DateTime<Utc>) -> Key<'_> {
    Key {
        doc_number: d.built.doc_number(),
        party: d.built.party(),
        txn_date: d.built.txn_date(),
        lines_total: d.built.lines_total(),
        sent,
    }
}

/// Records a member posted (fenced on its send), and a difference between QuickBooks' total
/// and TrackTik's.
pub(crate) async fn posted(
    session: &QboSession<'_>,
    send_id: i64,
    d: &Ready,
    created: Created,
) -> Result<(), SyncError> {
    let db = &session.state.db;
    let (tenant_id, id) = (d.row.tenant_id, d.row.ledger_entry_id);
    let link = session
        .state
        .providers
        .quickbooks
        .endpoints()
        .app_link(d.built.link_path(), &created.id);
    let settled = ledger::settle_posted(
        db,
        tenant_id,
        id,
        send_id,
        Posted {
            entity: d.built.entity(),
            id: &created.id,
            doc_number: created.doc_number.as_deref(),
            link: &link,
            amount: created.total.map(|t| signed(d.built.entity(), t)),
        },
    )
    .await?;
    if settled == Settled::Done
        && let Some(diff) = created
            .total
            .and_then(|total| super::super::translate::reconcile(d.built.expected_total, total))
    {
        ledger::note_discrepancy(db, tenant_id, id, &diff.to_string()).await?;
    }
    Ok(())
}

/// Records every created member still in the send posted, in one statement, with the
/// difference notes [`posted`] writes. Returns the ids settled.
async fn posted_all(
    session: &QboSession<'_>,
    send_id: i64,
    answered: &[(Ready, Item)],
) -> Result<std::collections::HashSet<i64>, SyncError> {
    let created: Vec<(&Ready, &Created)> = answered
        .iter()
        .filter_map(|(d, item)| match item {
            Item::Created(c) => Some((d, c)),
            _ => None,
        })
        .collect();
    let Some((first, _)) = created.first() else {
        return Ok(Default::default());
    };
    let tenant_id = first.row.tenant_id;
    let endpoints = session.state.providers.quickbooks.endpoints();
    let links: Vec<String> = created
        .iter()
        .map(|(d, c)| endpoints.app_link(d.built.link_path(), &c.id))
        .collect();
    let rows: Vec<(i64, Posted<'_>)> = created
        .iter()
        .zip(&links)
        .map(|((d, c), link)| {
            (
                d.row.ledger_entry_id,
                Posted {
                    entity: d.built.entity(),
                    id: &c.id,
                    doc_number: c.doc_number.as_deref(),
                    link,
                    amount: c.total.map(|t| signed(d.built.entity(), t)),
                },
            )
        })
        .collect();
    let db = &session.state.db;
    let settled = ledger::settle_posted_all(db, tenant_id, send_id, &rows).await?;
    for (d, c) in &created {
        let id = d.row.ledger_entry_id;
        if settled.contains(&id)
            && let Some(diff) = c
                .total
                .and_then(|total| super::super::translate::reconcile(d.built.expected_total, total))
        {
            ledger::note_discrepancy(db, tenant_id, id, &diff.to_string()).await?;
        }
    }
    Ok(settled)
}

/// What a posted document is worth to the books: a credit memo's total reduces them (the
/// ledger keeps credits below zero, as TrackTik's amount of a credit is).
pub(crate) fn signed(entity: &str, total: rust_decimal::Decimal) -> rust_decimal::Decimal {
    if entity == "CreditMemo" {
        -total
    } else {
        total
    }
}
