//! Durable sends. Every request that creates documents in QuickBooks (a batch of up to 30, or
//! one create) is recorded first: its request id, its members in item order and its exact body,
//! in the same committed transaction that puts those rows in `posting`. Then it is sent.
//!
//! - An answer settles each member on its own, fenced: only a row still `posting` in this send
//!   takes the outcome (see `ledger::settle_posted`).
//! - A send that got no answer is never regrouped: it is looked up, and sent again with the
//!   same request id and the same body (QuickBooks replays a request id it has seen), see
//!   [`resolve`].
//! - A member goes back to `pending` (to be sent again under a new request id) only when a
//!   look-up proves QuickBooks does not hold it and its send can no longer be in flight.
//!
//! None of this relies on QuickBooks refusing a duplicate document number: that check is a
//! company preference, and may be off.

mod resolve;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::settings::ClosedBooks;
use crate::providers::quickbooks::{QboError, RequestId};

use super::SyncError;
use super::build::Built;
use super::explain;
use super::ledger::{self, COLUMNS, LedgerEntry, LedgerState, Posted, Settled};
use super::post::{self, Created, Key, QboSession, qbo_call};

pub(crate) use resolve::{Resolution, resolve, resolve_open};

/// The `kind` of a batch send (a lone create's kind is its entity name).
const BATCH: &str = "batch";

/// A document ready to send: its ledger row and its transaction.
pub(crate) struct Ready {
    pub row: LedgerEntry,
    pub built: Built,
}

/// A recorded send.
#[derive(Clone, Debug, sqlx::FromRow)]
pub(crate) struct Send {
    pub send_id: i64,
    pub tenant_id: TenantId,
    pub request_id: String,
    pub kind: String,
    pub body: Option<String>,
    pub body_hash: String,
    pub members: Vec<i64>,
    pub created_at: DateTime<Utc>,
    pub in_flight_until: Option<DateTime<Utc>>,
}

const SEND_COLUMNS: &str = "send_id, tenant_id, request_id, kind, body, body_hash, members, \
    created_at, in_flight_until";

/// The request id of a send: from its members, their revisions, generations and attempts, so
/// that no two sends share one.
fn request_id(integration_id: IntegrationId, rows: &[&LedgerEntry]) -> RequestId {
    let mut parts = vec!["send".to_owned(), integration_id.to_string()];
    for row in rows {
        parts.push(row.source.key().to_owned());
        parts.push(row.source_id.to_string());
        parts.push(row.revision.clone());
        parts.push(row.generation.to_string());
        parts.push(row.attempts.to_string());
    }
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    RequestId::derive(&parts)
}

/// The kind and exact body of a send of `docs`.
fn body_of(docs: &[&Ready]) -> Result<(String, Value), SyncError> {
    let json = |b: &Built| {
        b.to_json()
            .map_err(|e| SyncError::Unavailable(format!("a document could not be written: {e}")))
    };
    if let [one] = docs {
        return Ok((one.built.entity().to_owned(), json(&one.built)?));
    }
    let mut items = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let mut item = json!({"bId": post::b_id(i), "operation": "create"});
        item[d.built.entity()] = json(&d.built)?;
        items.push(item);
    }
    Ok((BATCH.to_owned(), json!({ "BatchItemRequest": items })))
}

fn hash(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Records a send of `docs` (1 to 30, in item order) and puts its rows in `posting`, in one
/// transaction committed before anything is sent. Rows another run took meanwhile are left
/// out. `None` when no row is left.
pub(crate) async fn record(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    docs: Vec<Ready>,
) -> Result<Option<(Send, Vec<Ready>)>, SyncError> {
    let ids: Vec<i64> = docs.iter().map(|d| d.row.ledger_entry_id).collect();
    let mut tx = db.begin().await?;
    let open: Vec<i64> = sqlx::query_scalar(
        "select ledger_entry_id from ledger_entry
         where tenant_id = $1 and ledger_entry_id = any($2) and state in ('pending', 'failed')
         for update",
    )
    .bind(tenant_id)
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await?;
    let docs: Vec<Ready> = docs
        .into_iter()
        .filter(|d| open.contains(&d.row.ledger_entry_id))
        .collect();
    if docs.is_empty() {
        return Ok(None);
    }
    let refs: Vec<&Ready> = docs.iter().collect();
    let rows: Vec<&LedgerEntry> = docs.iter().map(|d| &d.row).collect();
    let rid = request_id(integration_id, &rows);
    let (kind, body) = body_of(&refs)?;
    let members: Vec<i64> = docs.iter().map(|d| d.row.ledger_entry_id).collect();
    let send: Send = sqlx::query_as(&format!(
        "insert into qbo_send (tenant_id, integration_id, request_id, kind, body, body_hash,
            members)
         values ($1, $2, $3, $4, $5, $6, $7) returning {SEND_COLUMNS}"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(rid.as_str())
    .bind(&kind)
    .bind(body.to_string())
    .bind(hash(&body.to_string()))
    .bind(&members)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "update ledger_entry l set state = 'posting', send_id = $3, send_item = d.item,
            request_id = $4, qbo_entity = d.entity, qbo_doc_number = d.doc,
            qbo_customer_id = d.party, qbo_txn_date = d.txn_date, qbo_lines_total = d.total,
            attempts = l.attempts + 1, posting_started_at = now()
         from unnest($2::bigint[], $5::int[], $6::text[], $7::text[], $8::text[], $9::date[],
                     $10::numeric[]) as d(id, item, entity, doc, party, txn_date, total)
         where l.tenant_id = $1 and l.ledger_entry_id = d.id",
    )
    .bind(tenant_id)
    .bind(&members)
    .bind(send.send_id)
    .bind(rid.as_str())
    .bind((0..docs.len() as i32).collect::<Vec<_>>())
    .bind(docs.iter().map(|d| d.built.entity()).collect::<Vec<_>>())
    .bind(
        docs.iter()
            .map(|d| d.built.doc_number())
            .collect::<Vec<_>>(),
    )
    .bind(docs.iter().map(|d| d.built.party()).collect::<Vec<_>>())
    .bind(docs.iter().map(|d| d.built.txn_date()).collect::<Vec<_>>())
    .bind(
        docs.iter()
            .map(|d| d.built.lines_total())
            .collect::<Vec<_>>(),
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some((send, docs)))
}

/// One member's answer.
#[derive(Debug)]
pub(crate) enum Item {
    /// QuickBooks created it.
    Created(Created),
    /// QuickBooks refused it.
    Refused(QboError),
    /// No usable answer for it: it may or may not be in QuickBooks.
    Unknown,
}

/// What QuickBooks answered to a send.
#[derive(Debug)]
pub(crate) enum Answer {
    /// One answer per member, in item order.
    Items(Vec<Item>),
    /// The request as a whole was refused: nothing was created.
    Refused(QboError),
    /// No answer (time-out, connection lost, QuickBooks unavailable after the client's retries).
    Unknown(QboError),
}

/// How long after its last try an unanswered send may still be processed by QuickBooks.
fn in_flight(session: &QboSession<'_>) -> Duration {
    session.state.providers.quickbooks.request_timeout() + Duration::from_secs(5)
}

/// Hands a recorded send to QuickBooks: its stored body, under its request id. A refusal of
/// access (after one token refresh) stops the run; the members stay `posting`.
pub(crate) async fn transmit(
    session: &mut QboSession<'_>,
    send: &Send,
) -> Result<Answer, SyncError> {
    let db = session.state.db.clone();
    let horizon = in_flight(session);
    let Some(text) = send.body.as_deref() else {
        return Err(SyncError::Unavailable(format!(
            "the recorded send {} has no body left to send",
            send.send_id
        )));
    };
    if hash(text) != send.body_hash {
        return Err(SyncError::Unavailable(format!(
            "the recorded send {} does not match its hash; it is not sent",
            send.send_id
        )));
    }
    let mark = "update qbo_send set sent_at = now(), attempts = attempts + $3,
                    in_flight_until = now() + make_interval(secs => $4)
                where tenant_id = $1 and send_id = $2";
    sqlx::query(mark)
        .bind(send.tenant_id)
        .bind(send.send_id)
        .bind(1)
        .bind(horizon.as_secs_f64())
        .execute(&db)
        .await?;
    let rid = RequestId::from_recorded(&send.request_id);
    let answer = if send.kind == BATCH {
        let result = qbo_call!(session, |co| session
            .state
            .providers
            .quickbooks
            .batch_text(&co, text, &rid));
        match result {
            Ok(outcomes) => Ok(Answer::Items(
                (0..send.members.len())
                    .map(|i| {
                        let b_id = post::b_id(i);
                        match outcomes.iter().find(|o| o.b_id == b_id) {
                            Some(o) => match &o.result {
                                Ok(v) => Created::from_json(v)
                                    .map(Item::Created)
                                    .unwrap_or(Item::Unknown),
                                Err(fault) => Item::Refused(QboError::Rejected {
                                    status: 200,
                                    fault: fault.clone(),
                                    intuit_tid: None,
                                }),
                            },
                            None => Item::Unknown,
                        }
                    })
                    .collect(),
            )),
            Err(e) => Err(e),
        }
    } else {
        let path = send.kind.to_ascii_lowercase();
        let result = qbo_call!(session, |co| session
            .state
            .providers
            .quickbooks
            .create_text(&co, &path, &send.kind, text, &rid));
        match result {
            Ok(v) => Ok(Answer::Items(vec![
                Created::from_json(&v)
                    .map(Item::Created)
                    .unwrap_or(Item::Unknown),
            ])),
            Err(e) if post::is_refusal(&e) || e.is_retryable() || e.outcome_unknown() => Err(e),
            Err(e) => Ok(Answer::Items(vec![Item::Refused(e)])),
        }
    };
    match answer {
        Ok(a) => Ok(a),
        Err(e) if post::is_refusal(&e) => Err(session.refused(&e).await),
        Err(e) if e.is_retryable() || e.outcome_unknown() => {
            // The last try may have left just now.
            sqlx::query(mark)
                .bind(send.tenant_id)
                .bind(send.send_id)
                .bind(0)
                .bind(horizon.as_secs_f64())
                .execute(&db)
                .await?;
            Ok(Answer::Unknown(e))
        }
        Err(e) => Ok(Answer::Refused(e)),
    }
}

/// Settles each member of `send` from its answer, in item order. `docs` are the members still
/// carried by the send, each with its transaction. Returns each one's state afterwards.
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
    let mut states = Vec::with_capacity(docs.len());
    for d in docs {
        let item = send
            .members
            .iter()
            .position(|m| *m == d.row.ledger_entry_id)
            .and_then(|i| items.get_mut(i))
            .and_then(Option::take)
            .unwrap_or(Item::Unknown);
        let state = match item {
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
            amount: created.total,
        },
    )
    .await?;
    if settled == Settled::Done
        && let Some(diff) = created
            .total
            .and_then(|total| super::translate::reconcile(d.built.expected_total, total))
    {
        ledger::note_discrepancy(db, tenant_id, id, &diff.to_string()).await?;
    }
    Ok(())
}

/// Closes a send once none of its members is `posting` in it any more (its body is dropped).
async fn close_if_done(db: &sqlx::PgPool, send: &Send) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update qbo_send set settled_at = now(), body = null
         where tenant_id = $1 and send_id = $2 and settled_at is null
           and not exists (select 1 from ledger_entry
                           where tenant_id = $1 and send_id = $2 and state = 'posting')",
    )
    .bind(send.tenant_id)
    .bind(send.send_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The members still `posting` in a send, in item order.
async fn members_posting(db: &sqlx::PgPool, send: &Send) -> sqlx::Result<Vec<LedgerEntry>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from ledger_entry
         where tenant_id = $1 and send_id = $2 and state = 'posting' order by send_item"
    ))
    .bind(send.tenant_id)
    .bind(send.send_id)
    .fetch_all(db)
    .await
}

/// How long until every open send of the session's integration is past its in-flight time
/// (at most the client's request time-out); `None` when no send is open.
pub(crate) async fn longest_wait(session: &QboSession<'_>) -> Result<Option<Duration>, SyncError> {
    let until: Option<Option<DateTime<Utc>>> = sqlx::query_scalar(
        "select max(in_flight_until) from qbo_send
         where tenant_id = $1 and integration_id = $2 and settled_at is null",
    )
    .bind(session.tenant_id)
    .bind(session.integration_id)
    .fetch_optional(&session.state.db)
    .await?;
    let open: bool = sqlx::query_scalar(
        "select exists (select 1 from qbo_send
                        where tenant_id = $1 and integration_id = $2 and settled_at is null)",
    )
    .bind(session.tenant_id)
    .bind(session.integration_id)
    .fetch_one(&session.state.db)
    .await?;
    if !open {
        return Ok(None);
    }
    let left = until
        .flatten()
        .map(|t| (t - Utc::now()).to_std().unwrap_or_default())
        .unwrap_or_default();
    Ok(Some(left.min(in_flight(session))))
}

/// Sends not settled yet of an integration, oldest first.
async fn open_sends(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Vec<Send>> {
    sqlx::query_as(&format!(
        "select {SEND_COLUMNS} from qbo_send
         where tenant_id = $1 and integration_id = $2 and settled_at is null
         order by send_id"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(db)
    .await
}

#[cfg(test)]
mod tests;
