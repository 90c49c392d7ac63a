//! The nightly sync end to end: the app's engine against both in-process sandboxes and a real
//! PostgreSQL. Every comparison reads QuickBooks back through its API.

pub(super) use std::collections::BTreeMap;
pub(super) use std::time::Duration;

pub(super) use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
pub(super) use ledgerbridge::connections;
pub(super) use ledgerbridge::ids::{IntegrationId, TenantId};
pub(super) use ledgerbridge::integrations::IntegrationState;
pub(super) use ledgerbridge::integrations::settings::{QboRef, Settings, TaxTarget};
pub(super) use ledgerbridge::mapping::express::{ExpressOptions, TaxClassInput, ensure_defaults};
pub(super) use ledgerbridge::providers::quickbooks::models::{Invoice, Purchase, Vendor};
pub(super) use ledgerbridge::providers::quickbooks::{
    Company, QuickBooksClient, RequestId, RetryPolicy,
};
pub(super) use ledgerbridge::providers::tracktik::{AccessToken, Portal, Window};
pub(super) use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
pub(super) use ledgerbridge::state::AppState;
pub(super) use ledgerbridge::sync::controls::{self, SyncIntegration};
pub(super) use ledgerbridge::sync::ledger::{self, LedgerState, Source};
pub(super) use ledgerbridge::sync::runs::{self, Requester, RunKind, RunStatus};
pub(super) use ledgerbridge::sync::{self, SyncError};
pub(super) use rust_decimal::Decimal;
pub(super) use secrecy::SecretString;
pub(super) use serde_json::{Value, json};

pub(super) use crate::helpers::{Sandboxes, TestApp};

/// One connected, set-up integration and a state whose QBO client gives up quickly.
pub(super) struct Synced {
    pub(super) app: std::sync::Arc<TestApp>,
    pub(super) state: AppState,
    pub(super) tenant_id: TenantId,
    pub(super) integration_id: IntegrationId,
    pub(super) realm: String,
}

pub(super) fn fast_qbo(state: &AppState) -> QuickBooksClient {
    QuickBooksClient::new(
        state.providers.quickbooks.endpoints().clone(),
        Duration::from_secs(2),
    )
    .with_retry(RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        throttle_wait: Duration::from_millis(50),
    })
}

pub(super) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

impl Synced {
    /// Signs in, connects `realm` (multicurrency turned on first: the seeded portal bills in
    /// CAD and USD), runs Express setup and activates the integration with `start_date`.
    pub(super) async fn start(realm: &str, start_date: NaiveDate) -> Self {
        Self::start_with(realm, start_date, json!({})).await
    }

    /// [`Synced::start`], with more QuickBooks company settings (e.g. class tracking) set
    /// before connecting.
    pub(super) async fn start_with(realm: &str, start_date: NaiveDate, company: Value) -> Self {
        Self::start_in(
            TestApp::spawn_with_sandboxes().await,
            realm,
            start_date,
            company,
        )
        .await
    }

    /// [`Synced::start_with`] in an app made by the caller (e.g. with more settings).
    pub(super) async fn start_in(
        app: TestApp,
        realm: &str,
        start_date: NaiveDate,
        mut company: Value,
    ) -> Self {
        company["multicurrency"] = json!(true);
        Sandboxes::control(
            app.sandboxes().quickbooks.base_url(),
            &format!("/__sandbox/companies/{realm}/settings"),
            company,
        )
        .await;
        assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
        assert_eq!(app.connect_quickbooks(realm, None).await.status(), 303);
        let (tenant_id, integration_id): (TenantId, IntegrationId) =
            sqlx::query_as("select tenant_id, integration_id from integration where realm_id = $1")
                .bind(realm)
                .fetch_one(&app.db)
                .await
                .unwrap();
        let mut state = app.state.clone();
        let quickbooks = fast_qbo(&state);
        std::sync::Arc::make_mut(&mut state.providers).quickbooks = quickbooks;
        let synced = Self {
            app: std::sync::Arc::new(app),
            state,
            tenant_id,
            integration_id,
            realm: realm.to_owned(),
        };
        synced.express(start_date).await;
        synced
    }

    /// A second integration of the same tenant: a new US company connected, set up with
    /// Express and activated with `start_date`.
    pub(super) async fn another_company(&self, start_date: NaiveDate) -> Self {
        let made = Sandboxes::control(
            self.qbo_base(),
            "/__sandbox/companies",
            json!({"flavour": "us", "name": "Acme Security East LLC"}),
        )
        .await;
        let realm = made["realmId"].as_str().unwrap().to_owned();
        Sandboxes::control(
            self.qbo_base(),
            &format!("/__sandbox/companies/{realm}/settings"),
            json!({"multicurrency": true}),
        )
        .await;
        assert_eq!(
            self.app.connect_quickbooks(&realm, None).await.status(),
            303
        );
        let integration_id: IntegrationId =
            sqlx::query_scalar("select integration_id from integration where realm_id = $1")
                .bind(&realm)
                .fetch_one(&self.app.db)
                .await
                .unwrap();
        let other = Self {
            app: self.app.clone(),
            state: self.state.clone(),
            tenant_id: self.tenant_id,
            integration_id,
            realm,
        };
        other.express(start_date).await;
        other
    }

    pub(super) async fn qbo_token(&self) -> SecretString {
        let conn = connections::db::quickbooks_for_integration(
            &self.state.db,
            self.tenant_id,
            self.integration_id,
        )
        .await
        .unwrap()
        .unwrap();
        connections::access_token(&self.state, self.tenant_id, conn.connection_id)
            .await
            .unwrap()
    }

    pub(super) async fn tracktik(&self) -> (Portal, AccessToken) {
        let conn = connections::db::tracktik_for_tenant(&self.state.db, self.tenant_id)
            .await
            .unwrap()
            .unwrap();
        let token = connections::access_token(&self.state, self.tenant_id, conn.connection_id)
            .await
            .unwrap();
        (
            Portal::new(&conn.external_id).unwrap(),
            AccessToken::new(secrecy::ExposeSecret::expose_secret(&token).to_owned()),
        )
    }

    pub(super) async fn express(&self, start_date: NaiveDate) {
        let (portal, tt) = self.tracktik().await;
        let classes = self
            .state
            .providers
            .tracktik
            .tax_classes(&portal, &tt)
            .await
            .unwrap();
        let inputs: Vec<TaxClassInput> = classes
            .iter()
            .map(|c| TaxClassInput {
                id: c.id,
                name: c.name.clone().unwrap_or_default(),
            })
            .collect();
        let token = self.qbo_token().await;
        let co = Company {
            realm_id: &self.realm,
            access_token: &token,
        };
        let refs = ensure_defaults(
            &self.state.providers.quickbooks,
            &co,
            &inputs,
            &ExpressOptions::default(),
        )
        .await
        .expect("Express setup");
        let r = |x: &ledgerbridge::providers::quickbooks::models::Ref| {
            QboRef::new(x.value.clone(), x.name.clone().unwrap_or_default())
        };
        let mut settings = Settings::default();
        settings.billing.default_item = Some(r(&refs.refs.service_income_item));
        for (id, t) in &refs.refs.tax_classes {
            settings
                .taxes
                .classes
                .insert(*id, TaxTarget::Item { item: r(&t.item) });
        }
        settings.taxes.automated_tax_item = Some(r(&refs.refs.automated_tax.item));
        settings.payroll.enabled = true;
        settings.payroll.wages_account = Some(r(&refs.refs.wages_account));
        settings.payroll.liability_account = Some(r(&refs.refs.wages_liability_account));
        settings.schedule.start_date = Some(start_date);
        settings.schedule.time_zone = Some("UTC".into());
        settings.schedule.cutoff = NaiveTime::from_hms_opt(3, 0, 0).unwrap();
        self.save(&settings).await;
    }

    pub(super) async fn save(&self, settings: &Settings) {
        sqlx::query(
            "update integration set settings = $2, state = 'active' where integration_id = $1",
        )
        .bind(self.integration_id)
        .bind(sqlx::types::Json(settings))
        .execute(&self.state.db)
        .await
        .unwrap();
    }

    pub(super) async fn settings(&self) -> Settings {
        sync::settings_of(&self.state.db, self.tenant_id, self.integration_id)
            .await
            .unwrap()
            .unwrap()
    }

    pub(super) async fn run(&self, day: NaiveDate) -> Result<sync::RunReport, SyncError> {
        sync::run_day(
            &self.state,
            self.tenant_id,
            self.integration_id,
            day,
            RunKind::Nightly,
        )
        .await
    }

    /// Every day from the start date to yesterday, one run each, as the nightly job does.
    pub(super) async fn run_every_day(&self, from: NaiveDate) {
        let mut day = from;
        while day < today() {
            let report = self.run(day).await.expect("the run completes");
            assert_eq!(report.counts.failed, 0, "{day}: {report:?}");
            day = day.succ_opt().unwrap();
        }
    }

    pub(super) fn qbo_base(&self) -> &str {
        self.app.sandboxes().quickbooks.base_url()
    }

    pub(super) fn tt_base(&self) -> &str {
        self.app.sandboxes().tracktik.base_url()
    }

    /// Every `E` the company holds (`SELECT * FROM <entity>`).
    pub(super) async fn qbo_all<E: ledgerbridge::providers::quickbooks::models::Entity>(
        &self,
    ) -> Vec<E> {
        let token = self.qbo_token().await;
        let co = Company {
            realm_id: &self.realm,
            access_token: &token,
        };
        self.state
            .providers
            .quickbooks
            .query(&co, &format!("SELECT * FROM {}", E::NAME))
            .await
            .unwrap()
    }

    pub(super) async fn qbo_invoices(&self) -> Vec<Invoice> {
        self.qbo_all().await
    }

    pub(super) async fn qbo_purchases(&self) -> Vec<Purchase> {
        self.qbo_all().await
    }

    /// QBO creates per entity, from the sandbox's statistics.
    pub(super) async fn creates(&self, entity: &str) -> i64 {
        let stats: Value = reqwest::get(format!("{}/__sandbox/stats", self.qbo_base()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["creates_per_entity"][&self.realm][entity]
            .as_i64()
            .unwrap_or(0)
    }

    /// TrackTik's approved invoices (document number → total) approved in `[from, until)`.
    pub(super) async fn tracktik_invoices(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> BTreeMap<String, Decimal> {
        let (portal, tt) = self.tracktik().await;
        self.state
            .providers
            .tracktik
            .approved_invoices_between(&portal, &tt, Window::new(from, until).unwrap())
            .await
            .unwrap()
            .into_iter()
            .map(|i| {
                (
                    sync::fit_doc_number(&i.document_number.unwrap()),
                    i.total.unwrap(),
                )
            })
            .collect()
    }

    pub(super) async fn ledger(&self) -> Vec<ledger::LedgerEntry> {
        ledger::list(&self.state.db, self.tenant_id, self.integration_id)
            .await
            .unwrap()
    }

    pub(super) async fn integration_state(&self) -> IntegrationState {
        sqlx::query_scalar("select state from integration where integration_id = $1")
            .bind(self.integration_id)
            .fetch_one(&self.state.db)
            .await
            .unwrap()
    }

    /// Creates and approves a TrackTik invoice for the first client; returns its id.
    pub(super) async fn new_invoice(
        &self,
        invoice_date: NaiveDate,
        approved_on: DateTime<Utc>,
    ) -> i64 {
        let made = Sandboxes::control(
            self.tt_base(),
            "/__sandbox/invoices",
            json!({"client": self.first_client().await, "invoiceDate": invoice_date.to_string(),
                   "lines": [{"billItem": self.first_bill_item().await, "quantity": 8, "unitPrice": 30.25}]}),
        )
        .await;
        let id = made["data"]["id"].as_i64().unwrap();
        Sandboxes::control(
            self.tt_base(),
            &format!("/__sandbox/invoices/{id}/approve"),
            json!({"approvedOn": approved_on.to_rfc3339()}),
        )
        .await;
        id
    }

    pub(super) async fn first_client(&self) -> i64 {
        let (portal, tt) = self.tracktik().await;
        self.state
            .providers
            .tracktik
            .clients(&portal, &tt)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.kind == Some(ledgerbridge::providers::tracktik::models::ClientType::Client))
            .unwrap()
            .id
    }

    /// Creates `n` TrackTik invoices for `client`, approved now, the `k`-th billing `bill_item(k)`;
    /// returns their ids.
    pub(super) async fn approved_invoices(
        &self,
        n: usize,
        client: i64,
        bill_item: impl Fn(usize) -> i64,
    ) -> Vec<i64> {
        let mut ids = Vec::with_capacity(n);
        for k in 0..n {
            let made = Sandboxes::control(
                self.tt_base(),
                "/__sandbox/invoices",
                json!({"client": client, "invoiceDate": today().to_string(), "approve": true,
                       "lines": [{"billItem": bill_item(k), "quantity": 1 + k % 7, "unitPrice": 41.5}]}),
            )
            .await;
            ids.push(made["data"]["id"].as_i64().unwrap());
        }
        ids
    }

    /// Forgets the QBO sandbox's request log.
    pub(super) async fn clear_qbo_requests(&self) {
        let r = reqwest::Client::new()
            .delete(format!("{}/__sandbox/requests", self.qbo_base()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// The Accounting API calls the QBO sandbox logged for this company: (method, path).
    pub(super) async fn qbo_requests(&self) -> Vec<(String, String)> {
        let log: Vec<Value> = reqwest::get(format!(
            "{}/__sandbox/requests?realm_id={}",
            self.qbo_base(),
            self.realm
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        log.iter()
            .map(|e| {
                (
                    e["method"].as_str().unwrap().to_owned(),
                    e["path"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    pub(super) async fn first_bill_item(&self) -> i64 {
        let (portal, tt) = self.tracktik().await;
        self.state
            .providers
            .tracktik
            .bill_items(&portal, &tt)
            .await
            .unwrap()[0]
            .id
    }
}

pub(super) fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

pub(super) fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

mod batches;
mod companies;
mod credits;
mod documents;
mod exactly_once;
mod fairness;
mod nightly;
mod recovery;
mod rollback;
mod stranded;
