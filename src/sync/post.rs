//! The QuickBooks side of a run: a session that keeps a working token and the run's cache of
//! QuickBooks names, and finding documents again by what QuickBooks stores of them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;
use secrecy::SecretString;

use crate::connections::{self, ConnectionError};
use crate::ids::{ConnectionId, IntegrationId, TenantId};
use crate::integrations;
use crate::integrations::settings::QboRef;
use crate::providers::quickbooks::models::{self as qbo, Customer};
use crate::providers::quickbooks::{Company, MAX_BATCH_ITEMS, QboError};
use crate::state::AppState;

use super::SyncError;
use super::build::lines_total;
use super::dimensions::DimensionCache;

/// A working QuickBooks token for one integration, refreshed once on a 401, and what the run
/// has learnt about the company (read at most once per run).
pub(crate) struct QboSession<'a> {
    pub state: &'a AppState,
    pub tenant_id: TenantId,
    pub integration_id: IntegrationId,
    pub connection_id: ConnectionId,
    pub realm_id: String,
    token: SecretString,
    /// Active customers by lower-case DisplayName, read on the first client without a
    /// remembered customer.
    pub customers: Option<HashMap<String, Customer>>,
    /// The integration's remembered customers by TrackTik client, read in one query on the
    /// first document that needs one (instead of one query per document).
    pub remembered: Option<HashMap<i64, QboRef>>,
    /// Classes and Locations found or created.
    pub dimensions: DimensionCache,
    /// `BookCloseDate`, read on the first closed-books refusal.
    book_close: Option<Option<NaiveDate>>,
}

/// Runs a QBO call with the session's token; on a 401 refreshes once and tries again.
macro_rules! qbo_call {
    ($session:expr, |$co:ident| $call:expr) => {{
        let first = {
            let $co = $session.co();
            $call.await
        };
        match first {
            Err(crate::providers::quickbooks::QboError::Unauthorized { .. }) => {
                $session.refresh().await?;
                let $co = $session.co();
                $call.await
            }
            other => other,
        }
    }};
}
pub(crate) use qbo_call;

pub(crate) fn connection_stop(e: ConnectionError) -> SyncError {
    match e {
        ConnectionError::NeedsReconnect { provider, reason } => SyncError::NeedsReconnect(format!(
            "The {provider} connection needs to be reconnected ({reason}). Nothing more was posted; the documents still owed are posted by the first run after reconnecting."
        )),
        ConnectionError::Database(e) => SyncError::Database(e),
        ConnectionError::NotFound => {
            SyncError::NotReady("The connection to QuickBooks or TrackTik is missing.".into())
        }
        other => SyncError::Unavailable(other.to_string()),
    }
}

impl<'a> QboSession<'a> {
    pub async fn open(
        state: &'a AppState,
        tenant_id: TenantId,
        integration_id: IntegrationId,
        realm_id: &str,
    ) -> Result<Self, SyncError> {
        let conn =
            connections::db::quickbooks_for_integration(&state.db, tenant_id, integration_id)
                .await?
                .ok_or_else(|| SyncError::NotReady("QuickBooks is not connected.".into()))?;
        let token = connections::access_token(state, tenant_id, conn.connection_id)
            .await
            .map_err(connection_stop)?;
        Ok(Self {
            state,
            tenant_id,
            integration_id,
            connection_id: conn.connection_id,
            realm_id: realm_id.to_owned(),
            token,
            customers: None,
            remembered: None,
            dimensions: DimensionCache::default(),
            book_close: None,
        })
    }

    /// The company's `BookCloseDate`, read once per run.
    pub async fn book_close_date(&mut self) -> Result<Option<NaiveDate>, SyncError> {
        if let Some(d) = self.book_close {
            return Ok(d);
        }
        let prefs: Result<_, QboError> =
            qbo_call!(self, |co| self.state.providers.quickbooks.preferences(&co));
        let date = prefs
            .ok()
            .and_then(|p| p.accounting_info_prefs)
            .and_then(|a| a.book_close_date);
        self.book_close = Some(date);
        Ok(date)
    }

    pub fn co(&self) -> Company<'_> {
        Company {
            realm_id: &self.realm_id,
            access_token: &self.token,
        }
    }

    pub async fn refresh(&mut self) -> Result<(), SyncError> {
        self.token = connections::force_refresh(self.state, self.tenant_id, self.connection_id)
            .await
            .map_err(connection_stop)?;
        Ok(())
    }

    /// QuickBooks refuses a fresh token: the customer must reconnect.
    pub async fn refused(&self, e: &QboError) -> SyncError {
        let reason = format!("QuickBooks refused access: {e}");
        let db = &self.state.db;
        let marked = async {
            connections::db::set_needs_reconnect(db, self.tenant_id, self.connection_id, &reason)
                .await?;
            integrations::db::mark_needs_reconnect(db, self.tenant_id, Some(self.integration_id))
                .await
        }
        .await;
        if let Err(e) = marked {
            return SyncError::Database(e);
        }
        SyncError::NeedsReconnect(
            "QuickBooks no longer accepts Ledgerbridge for this company: reconnect QuickBooks. The documents still owed are posted by the first run after reconnecting.".into(),
        )
    }
}

/// Whether an error (after the one refresh) means the run must stop.
pub(crate) fn is_refusal(e: &QboError) -> bool {
    matches!(
        e,
        QboError::Unauthorized { .. }
            | QboError::Forbidden { .. }
            | QboError::ReauthorizationRequired(_)
    )
}

/// A string literal for a QBO query.
pub(crate) fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A transaction found in QBO.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub id: String,
    pub doc_number: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub lines_total: Decimal,
    /// QBO's `TotalAmt` (journal entries have none: their liability credit).
    pub total: Option<Decimal>,
    /// The customer (invoice), vendor (bill) or paying account (expense) it is for.
    pub party: Option<String>,
    /// Its `TxnDate`.
    pub txn_date: Option<NaiveDate>,
}

/// What every transaction type shares, for look-ups.
struct TxnParts {
    id: Option<String>,
    doc_number: Option<String>,
    meta: Option<qbo::MetaData>,
    lines: Vec<qbo::Line>,
    total: Option<Decimal>,
    party: Option<String>,
    txn_date: Option<NaiveDate>,
}

fn found<E>(rows: Vec<E>, f: impl Fn(E) -> TxnParts) -> Vec<Found> {
    rows.into_iter()
        .map(f)
        .map(|t| {
            let lines_total = lines_total(&t.lines);
            Found {
                id: t.id.unwrap_or_default(),
                doc_number: t.doc_number,
                created: t
                    .meta
                    .and_then(|m| m.create_time)
                    .map(|c| c.with_timezone(&Utc)),
                total: t.total.or_else(|| Some(held_total(&t.lines))),
                lines_total,
                party: t.party,
                txn_date: t.txn_date,
            }
        })
        .collect()
}

/// What a transaction QuickBooks sent without a `TotalAmt` (a journal entry) is worth: its
/// last credit, the liability the pay run owes (a negative pay group is a credit too, so the
/// debits alone would overstate it); otherwise the sum of its lines.
fn held_total(lines: &[qbo::Line]) -> Decimal {
    lines
        .iter()
        .rev()
        .find_map(|l| {
            l.journal_entry_line_detail
                .as_ref()
                .filter(|d| d.posting_type == "Credit")
                .and(l.amount)
        })
        .unwrap_or_else(|| lines_total(lines))
}

/// Documents of `entity` carrying any of `doc_numbers`: one query per 30 numbers.
pub(crate) async fn find_documents(
    session: &mut QboSession<'_>,
    entity: &str,
    doc_numbers: &[&str],
) -> Result<Result<Vec<Found>, QboError>, SyncError> {
    let mut all = Vec::new();
    for chunk in doc_numbers.chunks(MAX_BATCH_ITEMS) {
        let list: Vec<String> = chunk.iter().map(|n| quoted(n)).collect();
        let statement = format!(
            "SELECT * FROM {entity} WHERE DocNumber IN ({})",
            list.join(", ")
        );
        macro_rules! q {
            ($ty:ty, |$t:ident| $party:expr) => {{
                let r: Result<Vec<$ty>, QboError> = qbo_call!(session, |co| session
                    .state
                    .providers
                    .quickbooks
                    .query(&co, &statement));
                r.map(|rows| {
                    found(rows, |$t: $ty| TxnParts {
                        party: $party,
                        id: $t.id,
                        doc_number: $t.doc_number,
                        meta: $t.meta_data,
                        lines: $t.line,
                        total: $t.total_amt,
                        txn_date: $t.txn_date,
                    })
                })
            }};
        }
        let rows = match entity {
            "Invoice" => q!(qbo::Invoice, |t| t
                .customer_ref
                .as_ref()
                .map(|r| r.value.clone())),
            "Purchase" => q!(qbo::Purchase, |t| t
                .account_ref
                .as_ref()
                .map(|r| r.value.clone())),
            "Bill" => q!(qbo::Bill, |t| t
                .vendor_ref
                .as_ref()
                .map(|r| r.value.clone())),
            _ => q!(qbo::JournalEntry, |t| None),
        };
        match rows {
            Ok(rows) => all.extend(rows),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(all))
}

/// What QuickBooks stores of a document we sent, to recognise it in a look-up.
#[derive(Clone, Debug)]
pub(crate) struct Key<'a> {
    /// Its `DocNumber`.
    pub doc_number: &'a str,
    /// The customer, vendor or paying account it was sent for.
    pub party: Option<&'a str>,
    /// The date it was sent with.
    pub txn_date: Option<NaiveDate>,
    /// Σ of its line amounts as sent (lines are sent rounded to the cent, as QuickBooks keeps
    /// them).
    pub lines_total: Decimal,
    /// When it was first sent: a document created before (less an hour of clock skew) is
    /// someone else's.
    pub sent: DateTime<Utc>,
}

/// The found document that is ours: same number, party, date and line total, created after we
/// first sent it. With QuickBooks' duplicate-number check off, a number alone proves nothing.
pub(crate) fn ours<'f>(found: &'f [Found], key: &Key<'_>) -> Option<&'f Found> {
    found.iter().find(|f| {
        f.doc_number.as_deref() == Some(key.doc_number)
            && f.created.is_none_or(|c| c >= key.sent - Duration::hours(1))
            && (key.party.is_none() || f.party.is_none() || f.party.as_deref() == key.party)
            && (key.txn_date.is_none() || f.txn_date.is_none() || f.txn_date == key.txn_date)
            && f.lines_total == key.lines_total
    })
}

/// What QuickBooks answered to a create.
#[derive(Clone, Debug)]
pub(crate) struct Created {
    pub id: String,
    pub doc_number: Option<String>,
    pub total: Option<Decimal>,
}

impl From<Found> for Created {
    fn from(f: Found) -> Self {
        Self {
            id: f.id,
            doc_number: f.doc_number,
            total: f.total,
        }
    }
}

impl Created {
    /// Reads a created transaction from QuickBooks' JSON of it. A journal entry has no
    /// `TotalAmt`: its total is the sum of its debits.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, QboError> {
        let invalid = |detail: &str| QboError::InvalidResponse {
            context: "a created transaction".into(),
            detail: detail.into(),
        };
        let id = v
            .get("Id")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| invalid("no Id"))?
            .to_owned();
        let doc_number = v
            .get("DocNumber")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let total = match v.get("TotalAmt") {
            Some(t) if !t.is_null() => Some(
                serde_json::from_value::<Decimal>(t.clone())
                    .map_err(|e| invalid(&e.to_string()))?,
            ),
            _ => match v.get("Line") {
                Some(lines) => {
                    let lines: Vec<qbo::Line> = serde_json::from_value(lines.clone())
                        .map_err(|e| invalid(&e.to_string()))?;
                    Some(held_total(&lines))
                }
                None => None,
            },
        };
        Ok(Self {
            id,
            doc_number,
            total,
        })
    }
}

/// The `bId` of the `i`-th item of a batch (QBO allows 10 characters with a request id).
pub(crate) fn b_id(i: usize) -> String {
    format!("d{i}")
}
