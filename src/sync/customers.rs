//! The QuickBooks customer of each TrackTik client: picked in the settings, remembered after
//! first use, found by name, or created (with a suffix when QuickBooks holds the name for
//! another kind of name).

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::CompanyProfile;
use crate::integrations::settings::{CustomerMatching, QboRef, Settings};
use crate::providers::quickbooks::models::{Customer, Ref};
use crate::providers::quickbooks::{QboError, RequestId};

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
    if session.remembered.is_none() {
        session.remembered = Some(
            remembered_customers(&session.state.db, session.tenant_id, session.integration_id)
                .await?,
        );
    }
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
