//! The QuickBooks side of a run: a session that keeps a working token, customers found or
//! created per TrackTik client, posting one document exactly once, and finding documents again.

use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;

use crate::connections::{self, ConnectionError};
use crate::ids::{ConnectionId, IntegrationId, TenantId};
use crate::integrations::settings::{CustomerMatching, QboRef, Settings};
use crate::integrations::{self, CompanyProfile};
use crate::providers::quickbooks::models::{self as qbo, Customer, Ref};
use crate::providers::quickbooks::{Company, QboError, RequestId};
use crate::state::AppState;

use super::SyncError;
use super::build::{Built, Txn, lines_total};
use super::explain::qbo_failure;
use super::ledger::Failure;

/// A working QuickBooks token for one integration, refreshed once on a 401.
pub(crate) struct QboSession<'a> {
    pub state: &'a AppState,
    pub tenant_id: TenantId,
    pub integration_id: IntegrationId,
    pub connection_id: ConnectionId,
    pub realm_id: String,
    token: SecretString,
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
        })
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
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A DisplayName QBO accepts: no `:` or `"`, at most 500 characters.
fn display_name(name: &str) -> String {
    name.replace(':', "-")
        .replace('"', "'")
        .trim()
        .chars()
        .take(480)
        .collect()
}

async fn find_customer(
    session: &mut QboSession<'_>,
    name: &str,
) -> Result<Result<Option<Customer>, QboError>, SyncError> {
    let statement = format!(
        "SELECT * FROM Customer WHERE DisplayName = {}",
        quoted(name)
    );
    let found: Result<Vec<Customer>, QboError> = qbo_call!(session, |co| session
        .state
        .providers
        .quickbooks
        .query(&co, &statement));
    Ok(found.map(|v| {
        v.into_iter().find(|c| {
            c.display_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    }))
}

async fn remember(
    session: &QboSession<'_>,
    client_id: i64,
    customer: &QboRef,
    note: Option<&str>,
) -> Result<(), SyncError> {
    sqlx::query(
        "insert into sync_customer (tenant_id, integration_id, client_id, qbo_id, display_name, note)
         values ($1, $2, $3, $4, $5, $6) on conflict (integration_id, client_id) do update
         set qbo_id = excluded.qbo_id, display_name = excluded.display_name, note = excluded.note",
    )
    .bind(session.tenant_id)
    .bind(session.integration_id)
    .bind(client_id)
    .bind(&customer.id)
    .bind(&customer.name)
    .bind(note)
    .execute(&session.state.db)
    .await?;
    Ok(())
}

/// The customer remembered for a client.
pub async fn remembered_customer(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    client_id: i64,
) -> sqlx::Result<Option<QboRef>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "select qbo_id, display_name from sync_customer
         where tenant_id = $1 and integration_id = $2 and client_id = $3",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(client_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, name)| QboRef::new(id, name)))
}

/// The QBO customer for a TrackTik client: picked in the settings, remembered, found by
/// DisplayName (case-insensitive), or created. A name QuickBooks already uses for a vendor,
/// an employee or an inactive customer (6240) gives `<name> (Customer)`, noted.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn customer_for(
    session: &mut QboSession<'_>,
    settings: &Settings,
    company: &CompanyProfile,
    client_id: i64,
    client_name: &str,
    currency: Option<&str>,
    create: bool,
) -> Result<Result<QboRef, Failure>, SyncError> {
    if let Some(c) = settings.billing.customer_map.get(&client_id) {
        return Ok(Ok(c.clone()));
    }
    if let Some(c) = remembered_customer(
        &session.state.db,
        session.tenant_id,
        session.integration_id,
        client_id,
    )
    .await?
    {
        return Ok(Ok(c));
    }
    if settings.billing.customer_matching == CustomerMatching::PickedOnly {
        return Ok(Err(Failure {
            message: format!(
                "No QuickBooks customer is picked for the TrackTik client \"{client_name}\"."
            ),
            code: "mapping".into(),
            fix: "Pick one in the billing settings, then retry.".into(),
            fix_at: Some("settings".into()),
            retryable: false,
        }));
    }
    let name = display_name(client_name);
    let alternative = format!("{name} (Customer)");
    for (candidate, note) in [
        (name.clone(), None),
        (
            alternative.clone(),
            Some(format!(
                "QuickBooks already uses \"{name}\" for a vendor, an employee or an inactive customer, so the customer is \"{alternative}\"."
            )),
        ),
    ] {
        match find_customer(session, &candidate).await? {
            Ok(Some(found)) => {
                let r = QboRef::new(found.id.unwrap_or_default(), candidate.clone());
                remember(session, client_id, &r, note.as_deref()).await?;
                return Ok(Ok(r));
            }
            Ok(None) => {}
            Err(e) if is_refusal(&e) => return Err(session.refused(&e).await),
            Err(e) => return Ok(Err(qbo_failure("looking up the customer", &e))),
        }
        if !create {
            return Ok(Ok(QboRef::new("", candidate)));
        }
        let new = Customer {
            display_name: Some(candidate.clone()),
            currency_ref: company
                .prefs
                .multicurrency
                .then(|| Ref::id(currency.unwrap_or(&company.home_currency))),
            ..Default::default()
        };
        let rid = RequestId::derive(&[
            &session.integration_id.to_string(),
            "customer",
            &client_id.to_string(),
            &candidate,
        ]);
        let made: Result<Customer, QboError> = qbo_call!(session, |co| session
            .state
            .providers
            .quickbooks
            .create(&co, &new, &rid));
        match made {
            Ok(c) => {
                let r = QboRef::new(c.id.unwrap_or_default(), candidate.clone());
                remember(session, client_id, &r, note.as_deref()).await?;
                return Ok(Ok(r));
            }
            Err(e) if e.fault().is_some_and(|f| f.has_code("6240")) => continue,
            Err(e) if is_refusal(&e) => return Err(session.refused(&e).await),
            Err(e) => {
                return Ok(Err(qbo_failure(
                    &format!("creating the customer \"{candidate}\""),
                    &e,
                )));
            }
        }
    }
    Ok(Err(Failure {
        message: format!(
            "QuickBooks already uses both \"{name}\" and \"{alternative}\" for other names (vendors, employees or inactive customers)."
        ),
        code: "6240".into(),
        fix: format!("Pick a customer for \"{client_name}\" in the billing settings, then retry."),
        fix_at: Some("settings".into()),
        retryable: false,
    }))
}

/// A transaction found in QBO.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub id: String,
    pub doc_number: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub lines_total: rust_decimal::Decimal,
}

fn found<E>(
    rows: Vec<E>,
    f: impl Fn(
        E,
    ) -> (
        Option<String>,
        Option<String>,
        Option<qbo::MetaData>,
        Vec<qbo::Line>,
    ),
) -> Vec<Found> {
    rows.into_iter()
        .map(f)
        .map(|(id, doc, meta, lines)| Found {
            id: id.unwrap_or_default(),
            doc_number: doc,
            created: meta
                .and_then(|m| m.create_time)
                .map(|t| t.with_timezone(&Utc)),
            lines_total: lines_total(&lines),
        })
        .collect()
}

/// Documents of `entity` with `doc_number`.
pub(crate) async fn find_documents(
    session: &mut QboSession<'_>,
    entity: &str,
    doc_number: &str,
) -> Result<Result<Vec<Found>, QboError>, SyncError> {
    let statement = format!(
        "SELECT * FROM {entity} WHERE DocNumber = {}",
        quoted(doc_number)
    );
    macro_rules! q {
        ($ty:ty) => {{
            let r: Result<Vec<$ty>, QboError> = qbo_call!(session, |co| session
                .state
                .providers
                .quickbooks
                .query(&co, &statement));
            r.map(|rows| found(rows, |t: $ty| (t.id, t.doc_number, t.meta_data, t.line)))
        }};
    }
    Ok(match entity {
        "Invoice" => q!(qbo::Invoice),
        "Purchase" => q!(qbo::Purchase),
        "Bill" => q!(qbo::Bill),
        _ => q!(qbo::JournalEntry),
    })
}

/// The one found document that is ours: created after we started posting (minus an hour of
/// clock skew).
pub(crate) fn ours(found: &[Found], posting_started: DateTime<Utc>) -> Option<&Found> {
    found.iter().find(|f| {
        f.created
            .is_none_or(|c| c >= posting_started - Duration::hours(1))
    })
}

/// What QuickBooks answered to a create.
pub(crate) struct Created {
    pub id: String,
    pub doc_number: Option<String>,
    pub total: Option<rust_decimal::Decimal>,
}

/// Creates the transaction.
pub(crate) async fn create(
    session: &mut QboSession<'_>,
    built: &Built,
    rid: &RequestId,
) -> Result<Result<Created, QboError>, SyncError> {
    // Every transaction type is created the same way; only the type differs.
    macro_rules! create {
        ($ty:ty, $t:expr) => {{
            let r: Result<$ty, QboError> = qbo_call!(session, |co| session
                .state
                .providers
                .quickbooks
                .create(&co, $t, rid));
            r.map(|e| Created {
                id: e.id.unwrap_or_default(),
                doc_number: e.doc_number,
                total: e.total_amt,
            })
        }};
    }
    Ok(match &built.txn {
        Txn::Invoice(t) => create!(qbo::Invoice, t),
        Txn::Purchase(t) => create!(qbo::Purchase, t),
        Txn::Bill(t) => create!(qbo::Bill, t),
        Txn::JournalEntry(t) => create!(qbo::JournalEntry, t),
    })
}
