//! The QuickBooks customer of each TrackTik client: picked in the settings, remembered after
//! first use, found by name, or created (with a suffix when QuickBooks holds the name for
//! another kind of name).

use std::collections::HashSet;

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::CompanyProfile;
use crate::integrations::settings::{CustomerMatching, QboRef, Settings};
use crate::providers::quickbooks::models::{Customer, Ref};
use crate::providers::quickbooks::{BatchItem, MAX_BATCH_ITEMS, QboError, RequestId};

use super::SyncError;
use super::explain::qbo_failure;
use super::ledger::Failure;
use super::post::{QboSession, is_refusal, qbo_call};

/// A DisplayName QBO accepts: no `:` or `"`, at most 500 characters.
fn display_name(name: &str) -> String {
    name.replace(':', "-")
        .replace('"', "'")
        .trim()
        .chars()
        .take(480)
        .collect()
}

/// The active customer named `name` (case-insensitive). Every active customer is read once per
/// run, the first time a client has no remembered customer.
async fn find_customer(
    session: &mut QboSession<'_>,
    name: &str,
) -> Result<Result<Option<Customer>, QboError>, SyncError> {
    if session.customers.is_none() {
        let all: Result<Vec<Customer>, QboError> = qbo_call!(session, |co| session
            .state
            .providers
            .quickbooks
            .query(&co, "SELECT * FROM Customer"));
        match all {
            Ok(all) => {
                session.customers = Some(
                    all.into_iter()
                        .filter_map(|c| Some((c.display_name.clone()?.to_lowercase(), c)))
                        .collect(),
                );
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(session
        .customers
        .as_ref()
        .and_then(|all| all.get(&name.to_lowercase()).cloned())))
}

async fn remember(
    session: &mut QboSession<'_>,
    client_id: i64,
    customer: &QboRef,
    note: Option<&str>,
) -> Result<(), SyncError> {
    sqlx::query(
        "insert into sync_customer (tenant_id, integration_id, client_id, qbo_id, display_name, note)
         values ($1, $2, $3, $4, $5, $6) on conflict (tenant_id, integration_id, client_id) do update
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
    if let Some(remembered) = session.remembered.as_mut() {
        remembered.insert(client_id, customer.clone());
    }
    Ok(())
}

/// A new customer named `name`, in the client's currency when the company keeps several.
fn new_customer(company: &CompanyProfile, name: &str, currency: Option<&str>) -> Customer {
    Customer {
        display_name: Some(name.to_owned()),
        currency_ref: company
            .prefs
            .multicurrency
            .then(|| Ref::id(currency.unwrap_or(&company.home_currency))),
        ..Default::default()
    }
}

/// Loads the integration's remembered customers once per run.
async fn load_remembered(session: &mut QboSession<'_>) -> Result<(), SyncError> {
    if session.remembered.is_none() {
        session.remembered = Some(
            remembered_customers(&session.state.db, session.tenant_id, session.integration_id)
                .await?,
        );
    }
    Ok(())
}

/// Creates the customers `clients` (TrackTik client ids) still lack, in batches of up to 30,
/// before their documents are built: a first night with many new clients costs a request per
/// 30 of them, not one each. Only the plain case is done here (a client with no picked,
/// remembered or same-named customer); a refused item, a name QuickBooks holds for another
/// kind of name, or an unknown outcome is left to [`customer_for`], which handles each one
/// and explains it. (After an unknown outcome the customer list is read again first, so a
/// customer QuickBooks did create is found, not created twice.)
pub(crate) async fn create_missing(
    session: &mut QboSession<'_>,
    settings: &Settings,
    company: &CompanyProfile,
    reference: &super::source::Reference,
    clients: Vec<i64>,
) -> Result<(), SyncError> {
    if settings.billing.customer_matching == CustomerMatching::PickedOnly {
        return Ok(());
    }
    load_remembered(session).await?;
    let mut seen = HashSet::new();
    let mut wanted: Vec<(i64, String, Customer)> = Vec::new();
    for client in clients {
        let known = settings.billing.customer_map.contains_key(&client)
            || session
                .remembered
                .as_ref()
                .is_some_and(|all| all.contains_key(&client));
        if known || !seen.insert(client) {
            continue;
        }
        let name = display_name(&reference.client_name(client));
        match find_customer(session, &name).await? {
            Ok(None) if seen_name(&wanted, &name) => {}
            Ok(None) => {
                let currency = reference.client_currency(client);
                let new = new_customer(company, &name, currency.as_deref());
                wanted.push((client, name, new));
            }
            Ok(Some(_)) => {}
            Err(_) => return Ok(()),
        }
    }
    if wanted.len() < 2 {
        // One customer is one request either way: the single create explains its own outcome.
        return Ok(());
    }
    for group in wanted.chunks(MAX_BATCH_ITEMS) {
        let mut items = Vec::with_capacity(group.len());
        for (k, (_, _, new)) in group.iter().enumerate() {
            let item = BatchItem::create(format!("c{k}"), new)
                .map_err(|e| SyncError::Unavailable(e.to_string()))?;
            items.push(item);
        }
        let rid = {
            let mut parts = vec![session.integration_id.to_string(), "customers".into()];
            parts.extend(
                group
                    .iter()
                    .map(|(client, name, _)| format!("{client}:{name}")),
            );
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            RequestId::derive(&parts)
        };
        let answer = qbo_call!(session, |co| session
            .state
            .providers
            .quickbooks
            .batch(&co, &items, &rid));
        let outcomes = match answer {
            Ok(outcomes) => outcomes,
            Err(e) if is_refusal(&e) => return Err(session.refused(&e).await),
            Err(_) => {
                session.customers = None;
                return Ok(());
            }
        };
        let mut made = Vec::new();
        for outcome in outcomes {
            let Some(k) = outcome
                .b_id
                .strip_prefix('c')
                .and_then(|k| k.parse::<usize>().ok())
            else {
                continue;
            };
            let (Some((client, name, _)), Ok(c)) = (group.get(k), outcome.entity::<Customer>())
            else {
                continue;
            };
            if let Some(all) = session.customers.as_mut() {
                all.insert(name.to_lowercase(), c.clone());
            }
            made.push((*client, QboRef::new(c.id.unwrap_or_default(), name.clone())));
        }
        remember_all(session, &made).await?;
    }
    Ok(())
}

fn seen_name(wanted: &[(i64, String, Customer)], name: &str) -> bool {
    wanted.iter().any(|(_, n, _)| n.eq_ignore_ascii_case(name))
}

/// Remembers several new customers in one statement.
async fn remember_all(
    session: &mut QboSession<'_>,
    made: &[(i64, QboRef)],
) -> Result<(), SyncError> {
    if made.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into sync_customer (tenant_id, integration_id, client_id, qbo_id, display_name)
         select $1, $2, m.client_id, m.qbo_id, m.display_name
         from unnest($3::bigint[], $4::text[], $5::text[]) as m(client_id, qbo_id, display_name)
         on conflict (tenant_id, integration_id, client_id) do update
         set qbo_id = excluded.qbo_id, display_name = excluded.display_name, note = null",
    )
    .bind(session.tenant_id)
    .bind(session.integration_id)
    .bind(made.iter().map(|(c, _)| *c).collect::<Vec<_>>())
    .bind(made.iter().map(|(_, r)| r.id.clone()).collect::<Vec<_>>())
    .bind(made.iter().map(|(_, r)| r.name.clone()).collect::<Vec<_>>())
    .execute(&session.state.db)
    .await?;
    if let Some(remembered) = session.remembered.as_mut() {
        remembered.extend(made.iter().cloned());
    }
    Ok(())
}

/// Every customer remembered for the integration's clients, by client.
pub async fn remembered_customers(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<std::collections::HashMap<i64, QboRef>> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "select client_id, qbo_id, display_name from sync_customer
         where tenant_id = $1 and integration_id = $2",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(client, id, name)| (client, QboRef::new(id, name)))
        .collect())
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
    load_remembered(session).await?;
    if let Some(c) = session
        .remembered
        .as_ref()
        .and_then(|all| all.get(&client_id))
    {
        return Ok(Ok(c.clone()));
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
        let new = new_customer(company, &candidate, currency);
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
                if let Some(all) = session.customers.as_mut() {
                    all.insert(candidate.to_lowercase(), c.clone());
                }
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
