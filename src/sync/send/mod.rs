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
mod settle;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::ids::{IntegrationId, TenantId};
use crate::providers::quickbooks::{QboError, RequestId};

use super::SyncError;
use super::build::Built;
#[cfg(test)]
use super::ledger::LedgerState;
use super::ledger::{COLUMNS, LedgerEntry};
use super::post::{self, Created, QboSession, qbo_call};

pub(crate) use resolve::{Resolution, resolve, resolve_open};
pub(crate) use settle::settle;

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
    // One statement: whether any send is open, and the latest in-flight time among them.
    let (open, until): (bool, Option<DateTime<Utc>>) = sqlx::query_as(
        "select count(*) > 0, max(in_flight_until) from qbo_send
         where tenant_id = $1 and integration_id = $2 and settled_at is null",
    )
    .bind(session.tenant_id)
    .bind(session.integration_id)
    .fetch_one(&session.state.db)
    .await?;
    if !open {
        return Ok(None);
    }
    let left = until
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
