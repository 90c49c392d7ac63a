//! Tenants set up without a browser, through the same library calls the sign-in and connect
//! flows end in: a TrackTik token (password grant) sealed into the tenant's connection, a
//! QuickBooks company connected with an authorization code (`complete_quickbooks_connect`),
//! Express setup (`ensure_defaults`) and an active integration. Plus approved TrackTik documents
//! made through the TrackTik sandbox's control API.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use ledgerbridge::connections::{self, Tokens};
use ledgerbridge::ids::{IntegrationId, TenantId};
use ledgerbridge::integrations::settings::{QboRef, Settings, TaxTarget};
use ledgerbridge::mapping::express::{ExpressOptions, TaxClassInput, ensure_defaults};
use ledgerbridge::providers::quickbooks::Company;
use ledgerbridge::providers::tracktik::models::ClientType;
use ledgerbridge::providers::tracktik::{AccessToken, Portal};
use ledgerbridge::sandbox::tracktik::{DEMO_PASSWORD, DEMO_USERNAME};
use ledgerbridge::state::AppState;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::host::SandboxHost;

/// One set-up tenant with one active integration.
#[derive(Clone, Debug)]
pub struct SeededTenant {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its integration.
    pub integration_id: IntegrationId,
    /// The QuickBooks company.
    pub realm: String,
}

/// A TrackTik access token for `portal_url` (password grant, as a service account would).
pub async fn tracktik_tokens(state: &AppState, portal_url: &str) -> anyhow::Result<Tokens> {
    let portal = Portal::new(portal_url)?;
    let set = state
        .providers
        .tracktik
        .password_grant(
            &portal,
            &state.providers.tracktik_app,
            DEMO_USERNAME,
            &SecretString::from(DEMO_PASSWORD),
        )
        .await
        .context("TrackTik password grant")?;
    Ok(Tokens::from_tracktik(set, None))
}

/// A portal and a token to read it with.
pub async fn tracktik_reader(
    state: &AppState,
    portal_url: &str,
) -> anyhow::Result<(Portal, AccessToken)> {
    let tokens = tracktik_tokens(state, portal_url).await?;
    Ok((
        Portal::new(portal_url)?,
        AccessToken::new(tokens.access.expose_secret().to_owned()),
    ))
}

/// The portal's tax classes, as Express setup takes them.
pub async fn tax_inputs(state: &AppState, portal_url: &str) -> anyhow::Result<Vec<TaxClassInput>> {
    let (portal, token) = tracktik_reader(state, portal_url).await?;
    let classes = state
        .providers
        .tracktik
        .tax_classes(&portal, &token)
        .await?;
    Ok(classes
        .iter()
        .map(|c| TaxClassInput {
            id: c.id,
            name: c.name.clone().unwrap_or_default(),
        })
        .collect())
}

/// A new US company in the QuickBooks sandbox, multicurrency on (the seeded portal bills in
/// CAD and USD); returns its realm id.
pub async fn new_company(host: &SandboxHost, name: &str) -> anyhow::Result<String> {
    let qbo = &host.urls.quickbooks;
    let made = host
        .control(
            qbo,
            "/__sandbox/companies",
            json!({"flavour": "us", "name": name}),
        )
        .await?;
    let realm = made["realmId"]
        .as_str()
        .context("the sandbox named no realm")?
        .to_owned();
    multicurrency(host, &realm).await?;
    Ok(realm)
}

/// Turns multicurrency on for a company.
pub async fn multicurrency(host: &SandboxHost, realm: &str) -> anyhow::Result<()> {
    host.control(
        &host.urls.quickbooks,
        &format!("/__sandbox/companies/{realm}/settings"),
        json!({"multicurrency": true}),
    )
    .await?;
    Ok(())
}

/// Sets up one tenant for `portal_url` with an active integration for `realm`: syncing from
/// `start_date`, UTC, cutoff at midnight, payroll on or off.
pub async fn tenant(
    state: &AppState,
    host: &SandboxHost,
    portal_url: &str,
    realm: &str,
    tax_classes: &[TaxClassInput],
    start_date: NaiveDate,
    payroll: bool,
) -> anyhow::Result<SeededTenant> {
    // TrackTik: the tenant and its sealed tokens, as the sign-in callback stores them.
    let tokens = tracktik_tokens(state, portal_url).await?;
    let mut tx = state.db.begin().await?;
    let tenant = ledgerbridge::tenants::db::upsert_by_portal(
        &mut *tx,
        portal_url,
        portal_url,
        &format!("Bench {portal_url}"),
    )
    .await?;
    connections::db::save_tracktik(
        &mut tx,
        &state.cipher,
        tenant.tenant_id,
        portal_url,
        &tokens,
    )
    .await?;
    tx.commit().await?;

    // QuickBooks: a code from the sandbox, exchanged by the connect flow's own function.
    let issued = host
        .control(
            &host.urls.quickbooks,
            "/__sandbox/oauth/code",
            json!({
                "client_id": state.config.quickbooks_client_id,
                "redirect_uri": format!("{}/auth/quickbooks/callback", state.config.public_url),
                "realm_id": realm,
            }),
        )
        .await?;
    let code = issued["code"].as_str().context("no code")?;
    let integration = connections::signin::complete_quickbooks_connect(
        state,
        tenant.tenant_id,
        code,
        realm,
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("connecting QuickBooks: {e}"))?;

    let seeded = SeededTenant {
        tenant_id: tenant.tenant_id,
        integration_id: integration.integration_id,
        realm: realm.to_owned(),
    };
    express(state, &seeded, tax_classes, start_date, payroll).await?;
    Ok(seeded)
}

/// Express setup and activation, as the wizard's Express path ends.
async fn express(
    state: &AppState,
    t: &SeededTenant,
    tax_classes: &[TaxClassInput],
    start_date: NaiveDate,
    payroll: bool,
) -> anyhow::Result<()> {
    let conn =
        connections::db::quickbooks_for_integration(&state.db, t.tenant_id, t.integration_id)
            .await?
            .context("no QuickBooks connection")?;
    let token = connections::access_token(state, t.tenant_id, conn.connection_id)
        .await
        .map_err(|e| anyhow::anyhow!("QuickBooks token: {e}"))?;
    let co = Company {
        realm_id: &t.realm,
        access_token: &token,
    };
    let outcome = ensure_defaults(
        &state.providers.quickbooks,
        &co,
        tax_classes,
        &ExpressOptions::default(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("Express setup: {e}"))?;
    let r = |x: &ledgerbridge::providers::quickbooks::models::Ref| {
        QboRef::new(x.value.clone(), x.name.clone().unwrap_or_default())
    };
    let refs = &outcome.refs;
    let mut settings = Settings::default();
    settings.billing.default_item = Some(r(&refs.service_income_item));
    for (id, target) in &refs.tax_classes {
        settings.taxes.classes.insert(
            *id,
            TaxTarget::Item {
                item: r(&target.item),
            },
        );
    }
    settings.taxes.automated_tax_item = Some(r(&refs.automated_tax.item));
    settings.payroll.enabled = payroll;
    settings.payroll.wages_account = Some(r(&refs.wages_account));
    settings.payroll.liability_account = Some(r(&refs.wages_liability_account));
    settings.schedule.start_date = Some(start_date);
    settings.schedule.time_zone = Some("UTC".into());
    settings.schedule.cutoff = NaiveTime::MIN;
    sqlx::query(
        "update integration set settings = $3, state = 'active'
         where tenant_id = $1 and integration_id = $2",
    )
    .bind(t.tenant_id)
    .bind(t.integration_id)
    .bind(sqlx::types::Json(&settings))
    .execute(&state.db)
    .await?;
    Ok(())
}

/// What approved documents are made of: the portal's billed clients, bill items, a region and
/// some employees.
pub struct Catalogue {
    /// Billed clients (type CLIENT).
    pub clients: Vec<i64>,
    /// Bill items.
    pub bill_items: Vec<i64>,
    /// A region for pay runs.
    pub region: i64,
    /// Employees for pay run items.
    pub employees: Vec<i64>,
}

/// Reads the catalogue through the TrackTik client.
pub async fn catalogue(state: &AppState, portal_url: &str) -> anyhow::Result<Catalogue> {
    let (portal, token) = tracktik_reader(state, portal_url).await?;
    let tt = &state.providers.tracktik;
    let clients: Vec<i64> = tt
        .clients(&portal, &token)
        .await?
        .into_iter()
        .filter(|c| c.kind == Some(ClientType::Client))
        .map(|c| c.id)
        .collect();
    let bill_items: Vec<i64> = tt
        .bill_items(&portal, &token)
        .await?
        .into_iter()
        .map(|b| b.id)
        .collect();
    let region = tt
        .regions(&portal, &token)
        .await?
        .first()
        .context("the portal has no region")?
        .id;
    let employees: Vec<i64> = tt
        .employees(&portal, &token)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    anyhow::ensure!(
        !clients.is_empty() && !bill_items.is_empty(),
        "the portal needs clients and bill items"
    );
    Ok(Catalogue {
        clients,
        bill_items,
        region,
        employees,
    })
}

/// Makes `count` invoices in the TrackTik sandbox, approved at `approved_at` (plus a second per
/// invoice), spread over the clients, one to three lines each; `parallel` requests at a time.
pub async fn approved_invoices(
    host: &SandboxHost,
    cat: &Catalogue,
    count: usize,
    invoice_date: NaiveDate,
    approved_at: DateTime<Utc>,
    parallel: usize,
) -> anyhow::Result<()> {
    use futures_like::for_each_limited;
    let tt = host.urls.tracktik.clone();
    for_each_limited(0..count, parallel, |i| {
        let tt = tt.clone();
        let client = cat.clients[i % cat.clients.len()];
        let lines: Vec<serde_json::Value> = (0..1 + i % 3)
            .map(|l| {
                json!({
                    "billItem": cat.bill_items[(i + l) % cat.bill_items.len()],
                    "quantity": 4 + (i + l) % 9,
                    "unitPrice": format!("{}.{:02}", 18 + (i * 7 + l) % 30, (i * 13 + l) % 100),
                })
            })
            .collect();
        let approved = approved_at + chrono::Duration::seconds(i as i64);
        async move {
            let made = host
                .control(
                    &tt,
                    "/__sandbox/invoices",
                    json!({"client": client, "invoiceDate": invoice_date.to_string(), "lines": lines}),
                )
                .await?;
            let id = made["data"]["id"].as_i64().context("no invoice id")?;
            host.control(
                &tt,
                &format!("/__sandbox/invoices/{id}/approve"),
                json!({"approvedOn": approved.to_rfc3339()}),
            )
            .await?;
            Ok(())
        }
    })
    .await
}

/// Makes one pay run with an item per employee (at most five), approved and locked at
/// `approved_at`.
pub async fn approved_payrun(
    host: &SandboxHost,
    cat: &Catalogue,
    occurrence: NaiveDate,
    approved_at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let tt = &host.urls.tracktik;
    let items: Vec<serde_json::Value> = cat
        .employees
        .iter()
        .take(5)
        .enumerate()
        .map(|(i, e)| json!({"employee": e, "code": "REG", "quantity": 8 + i, "rate": "22.50"}))
        .collect();
    let made = host
        .control(
            tt,
            "/__sandbox/payruns",
            json!({"region": cat.region, "occurrenceDate": occurrence.to_string(), "items": items}),
        )
        .await?;
    let id = made["data"]["id"].as_i64().context("no pay run id")?;
    host.control(
        tt,
        &format!("/__sandbox/payruns/{id}/approve"),
        json!({"approvedOn": approved_at.to_rfc3339()}),
    )
    .await?;
    Ok(())
}

/// Bounded concurrency without another crate: `limit` tasks on the current runtime's
/// `JoinSet`, fed from an iterator.
pub mod futures_like {
    use std::future::Future;

    /// Runs `f(item)` for every item, at most `limit` at once; the first error wins.
    pub async fn for_each_limited<I, F, Fut>(
        items: impl IntoIterator<Item = I>,
        limit: usize,
        mut f: F,
    ) -> anyhow::Result<()>
    where
        F: FnMut(I) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        // Futures borrowing from the caller cannot be spawned; poll them together instead.
        let mut pending = Vec::new();
        let mut items = items.into_iter();
        loop {
            while pending.len() < limit.max(1) {
                match items.next() {
                    Some(item) => pending.push(Box::pin(f(item))),
                    None => break,
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            let (result, _, rest) = select_all(pending).await;
            pending = rest;
            result?;
        }
    }

    /// Waits for the first of several futures; returns its output, index and the rest.
    async fn select_all<Fut: Future + Unpin>(
        mut futures: Vec<Fut>,
    ) -> (Fut::Output, usize, Vec<Fut>) {
        let (out, i) = std::future::poll_fn(|cx| {
            for (i, f) in futures.iter_mut().enumerate() {
                if let std::task::Poll::Ready(out) = std::pin::Pin::new(f).poll(cx) {
                    return std::task::Poll::Ready((out, i));
                }
            }
            std::task::Poll::Pending
        })
        .await;
        drop(futures.swap_remove(i));
        (out, i, futures)
    }
}
