//! The nightly sync end to end: the app's engine against both in-process sandboxes and a real
//! PostgreSQL. Every comparison reads QuickBooks back through its API.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use ledgerbridge::connections;
use ledgerbridge::ids::{IntegrationId, TenantId};
use ledgerbridge::integrations::IntegrationState;
use ledgerbridge::integrations::settings::{QboRef, Settings, TaxTarget};
use ledgerbridge::mapping::express::{ExpressOptions, TaxClassInput, ensure_defaults};
use ledgerbridge::providers::quickbooks::models::{Invoice, Purchase, Vendor};
use ledgerbridge::providers::quickbooks::{Company, QuickBooksClient, RequestId, RetryPolicy};
use ledgerbridge::providers::tracktik::{AccessToken, Portal, Window};
use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
use ledgerbridge::state::AppState;
use ledgerbridge::sync::controls::{self, SyncIntegration};
use ledgerbridge::sync::ledger::{self, LedgerState, Source};
use ledgerbridge::sync::runs::{self, RunKind, RunStatus};
use ledgerbridge::sync::{self, SyncError};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{Sandboxes, TestApp};

/// One connected, set-up integration and a state whose QBO client gives up quickly.
struct Synced {
    app: TestApp,
    state: AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    realm: String,
}

fn fast_qbo(state: &AppState) -> QuickBooksClient {
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

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

impl Synced {
    /// Signs in, connects `realm` (multicurrency turned on first: the seeded portal bills in
    /// CAD and USD), runs Express setup and activates the integration with `start_date`.
    async fn start(realm: &str, start_date: NaiveDate) -> Self {
        Self::start_with(realm, start_date, json!({})).await
    }

    /// [`Synced::start`], with more QuickBooks company settings (e.g. class tracking) set
    /// before connecting.
    async fn start_with(realm: &str, start_date: NaiveDate, mut company: Value) -> Self {
        let app = TestApp::spawn_with_sandboxes().await;
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
        state.providers.quickbooks = fast_qbo(&state);
        let synced = Self {
            app,
            state,
            tenant_id,
            integration_id,
            realm: realm.to_owned(),
        };
        synced.express(start_date).await;
        synced
    }

    async fn qbo_token(&self) -> SecretString {
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

    async fn tracktik(&self) -> (Portal, AccessToken) {
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

    async fn express(&self, start_date: NaiveDate) {
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

    async fn save(&self, settings: &Settings) {
        sqlx::query(
            "update integration set settings = $2, state = 'active' where integration_id = $1",
        )
        .bind(self.integration_id)
        .bind(sqlx::types::Json(settings))
        .execute(&self.state.db)
        .await
        .unwrap();
    }

    async fn settings(&self) -> Settings {
        sync::settings_of(&self.state.db, self.tenant_id, self.integration_id)
            .await
            .unwrap()
            .unwrap()
    }

    async fn run(&self, day: NaiveDate) -> Result<sync::RunReport, SyncError> {
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
    async fn run_every_day(&self, from: NaiveDate) {
        let mut day = from;
        while day < today() {
            let report = self.run(day).await.expect("the run completes");
            assert_eq!(report.counts.failed, 0, "{day}: {report:?}");
            day = day.succ_opt().unwrap();
        }
    }

    fn qbo_base(&self) -> &str {
        self.app.sandboxes().quickbooks.base_url()
    }

    fn tt_base(&self) -> &str {
        self.app.sandboxes().tracktik.base_url()
    }

    async fn qbo_invoices(&self) -> Vec<Invoice> {
        let token = self.qbo_token().await;
        let co = Company {
            realm_id: &self.realm,
            access_token: &token,
        };
        self.state
            .providers
            .quickbooks
            .query(&co, "SELECT * FROM Invoice")
            .await
            .unwrap()
    }

    async fn qbo_purchases(&self) -> Vec<Purchase> {
        let token = self.qbo_token().await;
        let co = Company {
            realm_id: &self.realm,
            access_token: &token,
        };
        self.state
            .providers
            .quickbooks
            .query(&co, "SELECT * FROM Purchase")
            .await
            .unwrap()
    }

    /// QBO creates per entity, from the sandbox's statistics.
    async fn creates(&self, entity: &str) -> i64 {
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
    async fn tracktik_invoices(
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

    async fn ledger(&self) -> Vec<ledger::LedgerEntry> {
        ledger::list(&self.state.db, self.tenant_id, self.integration_id)
            .await
            .unwrap()
    }

    async fn integration_state(&self) -> IntegrationState {
        sqlx::query_scalar("select state from integration where integration_id = $1")
            .bind(self.integration_id)
            .fetch_one(&self.state.db)
            .await
            .unwrap()
    }

    /// Creates and approves a TrackTik invoice for the first client; returns its id.
    async fn new_invoice(&self, invoice_date: NaiveDate, approved_on: DateTime<Utc>) -> i64 {
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

    async fn first_client(&self) -> i64 {
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
    async fn approved_invoices(
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
    async fn clear_qbo_requests(&self) {
        let r = reqwest::Client::new()
            .delete(format!("{}/__sandbox/requests", self.qbo_base()))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// The Accounting API calls the QBO sandbox logged for this company: (method, path).
    async fn qbo_requests(&self) -> Vec<(String, String)> {
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

    async fn first_bill_item(&self) -> i64 {
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

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

fn days_ago(n: u64) -> NaiveDate {
    today().checked_sub_days(Days::new(n)).unwrap()
}

#[tokio::test]
async fn a_seeded_portal_synced_day_by_day_matches_tracktik_document_for_document_and_cent_for_cent()
 {
    let start = days_ago(30);
    let s = Synced::start(US_REALM_ID, start).await;
    s.run_every_day(start).await;

    let expected = s
        .tracktik_invoices(start_of(start), start_of(today()))
        .await;
    assert!(expected.len() >= 10, "the seed has invoices: {expected:?}");
    let posted: BTreeMap<String, Decimal> = s
        .qbo_invoices()
        .await
        .into_iter()
        .map(|i| (i.doc_number.unwrap(), i.total_amt.unwrap()))
        .collect();
    assert_eq!(
        posted, expected,
        "QuickBooks has exactly TrackTik's invoices"
    );

    // Pay runs: one credit-card expense each, total equal to TrackTik's total cost.
    let (portal, tt) = s.tracktik().await;
    let payruns = s
        .state
        .providers
        .tracktik
        .approved_payruns_between(
            &portal,
            &tt,
            Window::new(start_of(start), start_of(today())).unwrap(),
        )
        .await
        .unwrap();
    assert!(!payruns.is_empty(), "the seed has approved pay runs");
    let expected: BTreeMap<String, Decimal> = payruns
        .iter()
        .map(|p| (format!("PR-{}", p.id), p.total_cost.unwrap()))
        .collect();
    let purchases: BTreeMap<String, Decimal> = s
        .qbo_purchases()
        .await
        .into_iter()
        .filter_map(|p| Some((p.doc_number?, p.total_amt?)))
        .collect();
    assert_eq!(purchases, expected);

    // The ledger says the same, with links, and every run row is finished.
    let rows = s.ledger().await;
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .all(|r| r.qbo_link.as_deref().is_some_and(|l| l.contains("txnId=")))
    );
    assert!(
        rows.iter().all(|r| r.qbo_amount == Some(r.amount)),
        "QuickBooks holds TrackTik's totals to the cent"
    );
    let recent = runs::recent(&s.state.db, s.tenant_id, s.integration_id, 100)
        .await
        .unwrap();
    assert_eq!(recent.len(), 30);
    assert!(
        recent
            .iter()
            .all(|r| r.status == RunStatus::Succeeded && r.finished_at.is_some())
    );
    assert_eq!(
        recent.iter().map(|r| r.posted).sum::<i32>() as usize,
        rows.len()
    );
}

#[tokio::test]
async fn a_second_run_of_the_same_night_posts_nothing() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    s.run_every_day(start).await;
    let invoices = s.creates("Invoice").await;
    let purchases = s.creates("Purchase").await;
    assert!(invoices > 0);

    let again = s.run(days_ago(1)).await.unwrap();
    assert_eq!(again.counts.total, 0, "{again:?}");
    assert_eq!(s.creates("Invoice").await, invoices);
    assert_eq!(s.creates("Purchase").await, purchases);
}

#[tokio::test]
async fn a_start_date_of_today_posts_nothing_until_tomorrows_run() {
    let s = Synced::start(US_REALM_ID, today()).await;
    let id = s.new_invoice(today(), Utc::now()).await;

    // Tonight's tick owes nothing: today's cutoff is tomorrow morning.
    assert!(
        controls::enqueue_due(&s.state, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.creates("Invoice").await, 0);

    // Tomorrow after the cutoff, today is due: enqueued once, however many ticks run.
    let tomorrow = start_of(today().succ_opt().unwrap()) + chrono::Duration::hours(4);
    let first = controls::enqueue_due(&s.state, tomorrow).await.unwrap();
    assert_eq!(
        first,
        vec![SyncIntegration::nightly(s.integration_id, today())]
    );
    assert!(
        controls::enqueue_due(&s.state, tomorrow)
            .await
            .unwrap()
            .is_empty()
    );
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(jobs, 1, "a second enqueue is a no-op");

    let report = s.run(today()).await.unwrap();
    assert_eq!(report.counts.posted, 1, "{report:?}");
    let rows = s.ledger().await;
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].source, rows[0].source_id), (Source::Invoice, id));
}

#[tokio::test]
async fn concurrent_ticks_enqueue_each_due_day_once() {
    let s = Synced::start(US_REALM_ID, days_ago(3)).await;
    let now = Utc::now();
    let mut handles = Vec::new();
    for _ in 0..4 {
        let state = s.state.clone();
        handles.push(tokio::spawn(async move {
            controls::enqueue_due(&state, now).await.unwrap().len()
        }));
    }
    let mut enqueued = 0;
    for h in handles {
        enqueued += h.await.unwrap();
    }
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(enqueued as i64, jobs);
    assert!((2..=3).contains(&jobs), "{jobs}");
}

#[tokio::test]
async fn a_manual_sync_is_queued_once_and_the_worker_posts_it() {
    let s = Synced::start(US_REALM_ID, days_ago(2)).await;
    let id = s.new_invoice(today(), Utc::now()).await;

    let request = controls::RunRequest::Manual;
    let (job, first) = controls::enqueue(&s.state, s.tenant_id, s.integration_id, request, None)
        .await
        .unwrap();
    assert_eq!(first, controls::Queued::Added);
    let (_, second) = controls::enqueue(&s.state, s.tenant_id, s.integration_id, request, None)
        .await
        .unwrap();
    assert_eq!(
        second,
        controls::Queued::AlreadyQueued,
        "two clicks, one job"
    );
    let jobs: i64 = sqlx::query_scalar("select count(*) from apalis.jobs where job_type = $1")
        .bind(controls::job_type())
        .fetch_one(&s.state.db)
        .await
        .unwrap();
    assert_eq!(jobs, 1);

    // Another tenant cannot queue anything for this integration.
    let stranger = TenantId(uuid::Uuid::new_v4());
    assert!(matches!(
        controls::enqueue(&s.state, stranger, s.integration_id, request, None).await,
        Err(SyncError::NotFound)
    ));

    let report = controls::run_job(&s.state, s.tenant_id, &job)
        .await
        .unwrap();
    assert_eq!(report.counts.failed, 0, "{report:?}");
    assert_eq!(report.counts.posted, report.counts.total, "{report:?}");
    let run = runs::get(&s.state.db, s.tenant_id, report.sync_run_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.kind, RunKind::Manual);
    let rows = s.ledger().await;
    assert!(
        rows.iter()
            .any(|r| r.source_id == id && r.state == LedgerState::Posted)
    );
}

#[tokio::test]
async fn a_posting_row_left_by_a_crash_ends_posted_exactly_once() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    s.run_every_day(start).await;
    let invoices = s.creates("Invoice").await;

    // A crash right after QuickBooks committed, before the ledger heard back.
    let victim = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.source == Source::Invoice)
        .unwrap();
    sqlx::query(
        "update ledger_entry set state = 'posting', qbo_id = null, qbo_link = null, posted_at = null
         where ledger_entry_id = $1",
    )
    .bind(victim.ledger_entry_id)
    .execute(&s.state.db)
    .await
    .unwrap();
    // A crash right before the call: a new document marked posting, never sent.
    let fresh = s
        .new_invoice(days_ago(2), Utc::now() - chrono::Duration::days(1))
        .await;
    let doc: Value = reqwest::get(format!("{}/__sandbox/invoices/{fresh}", s.tt_base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = doc["data"]["documentNumber"].as_str().unwrap().to_owned();
    sqlx::query(
        "insert into ledger_entry (tenant_id, integration_id, source, source_id, revision,
            doc_number, trading_day, approved_at, amount, state, qbo_entity, qbo_doc_number,
            request_id, attempts, posting_started_at)
         values ($1, $2, 'invoice', $3, 'before-crash', $4, $5, now() - interval '1 day', 242,
            'posting', 'Invoice', $6, 'never-sent', 1, now())",
    )
    .bind(s.tenant_id)
    .bind(s.integration_id)
    .bind(fresh)
    .bind(&number)
    .bind(days_ago(1))
    .bind(sync::fit_doc_number(&number))
    .execute(&s.state.db)
    .await
    .unwrap();
    assert_eq!(s.creates("Invoice").await, invoices);

    let report = s.run(days_ago(1)).await.unwrap();
    let rows = s.ledger().await;
    let victim_now = rows
        .iter()
        .find(|r| r.ledger_entry_id == victim.ledger_entry_id)
        .unwrap();
    assert_eq!(victim_now.state, LedgerState::Posted);
    assert_eq!(
        victim_now.qbo_id, victim.qbo_id,
        "found by lookup, not re-posted"
    );
    let fresh_now = rows.iter().find(|r| r.source_id == fresh).unwrap();
    assert_eq!(fresh_now.state, LedgerState::Posted, "{report:?}");
    // Not found by lookup, so posted: exactly one invoice carries the number.
    let numbered: Vec<Invoice> = s
        .qbo_invoices()
        .await
        .into_iter()
        .filter(|i| i.doc_number.as_deref() == Some(fresh_now.qbo_doc_number.as_deref().unwrap()))
        .collect();
    assert_eq!(numbered.len(), 1);
    let posted_numbers: Vec<String> = s
        .qbo_invoices()
        .await
        .into_iter()
        .filter_map(|i| i.doc_number)
        .collect();
    let mut unique = posted_numbers.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), posted_numbers.len(), "no duplicates");
}

#[tokio::test]
async fn a_connection_dropped_after_quickbooks_committed_is_resolved_by_lookup_without_a_duplicate()
{
    let s = Synced::start(US_REALM_ID, days_ago(10)).await;
    // Every try of the first invoice create is committed (or replayed) and then dropped.
    Sandboxes::control(
        s.qbo_base(),
        "/__sandbox/faults",
        json!({"kind": "drop", "count": 3, "path_contains": "/invoice", "method": "POST"}),
    )
    .await;
    s.run_every_day(days_ago(10)).await;
    let rows = s.ledger().await;
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{rows:#?}"
    );
    let invoices = s.qbo_invoices().await;
    assert_eq!(
        invoices.len(),
        rows.iter().filter(|r| r.source == Source::Invoice).count()
    );
    assert_eq!(s.creates("Invoice").await as usize, invoices.len());
}

#[tokio::test]
async fn the_fault_mix_ends_with_every_document_posted_and_a_revoked_integration_in_needs_reconnect()
 {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    for fault in [
        json!({"kind": "throttle", "count": 2}),
        json!({"kind": "server_error", "count": 2, "method": "POST"}),
        json!({"kind": "503", "count": 1}),
        json!({"kind": "timeout", "count": 1, "seconds": 3, "path_contains": "/invoice"}),
        json!({"kind": "drop", "count": 1, "path_contains": "/purchase"}),
    ] {
        Sandboxes::control(s.qbo_base(), "/__sandbox/faults", fault).await;
    }
    // Tokens expire on both sides (our stored expiry still says they are good).
    Sandboxes::control(s.qbo_base(), "/__sandbox/tokens/expire", json!({})).await;
    Sandboxes::control(s.tt_base(), "/__sandbox/tokens/expire", json!({})).await;
    Sandboxes::control(
        s.tt_base(),
        "/__sandbox/faults",
        json!({"status": 503, "count": 1, "pathContains": "/invoices"}),
    )
    .await;

    // Each night runs once; a night that QuickBooks kept too busy is caught up by the next.
    let mut day = start;
    while day < today() {
        let _ = s.run(day).await;
        day = day.succ_opt().unwrap();
    }
    let _ = s.run(days_ago(1)).await;
    let rows = s.ledger().await;
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{:#?}",
        rows.iter()
            .filter(|r| r.state != LedgerState::Posted)
            .collect::<Vec<_>>()
    );
    let invoices = s.qbo_invoices().await;
    assert_eq!(
        invoices.len(),
        rows.iter().filter(|r| r.source == Source::Invoice).count(),
        "no duplicates"
    );

    // Revoked: the run stops, the integration waits for a reconnect.
    Sandboxes::control(
        s.qbo_base(),
        "/__sandbox/tokens/revoke",
        json!({"realm_id": s.realm}),
    )
    .await;
    s.new_invoice(days_ago(1), Utc::now() - chrono::Duration::hours(20))
        .await;
    let stopped = s.run(days_ago(1)).await;
    assert!(
        matches!(stopped, Err(SyncError::NeedsReconnect(_))),
        "{stopped:?}"
    );
    assert_eq!(
        s.integration_state().await,
        IntegrationState::NeedsReconnect
    );
    // The tick skips it until it is fixed; its owed documents stay pending.
    assert!(
        controls::enqueue_due(&s.state, Utc::now() + chrono::Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_late_approval_of_an_earlier_day_is_caught_by_the_next_run() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    s.run_every_day(start).await;
    // Approved "on" day -5, but only now, after that night ran.
    let late = s
        .new_invoice(
            days_ago(6),
            start_of(days_ago(5)) + chrono::Duration::hours(12),
        )
        .await;
    let report = s.run(days_ago(1)).await.unwrap();
    assert_eq!(report.counts.posted, 1, "{report:?}");
    let row = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.source_id == late)
        .unwrap();
    assert_eq!(row.state, LedgerState::Posted);
    assert_eq!(row.trading_day, days_ago(5));
}

#[tokio::test]
async fn an_invoice_edited_or_deleted_in_tracktik_after_posting_is_flagged_and_not_reposted() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    s.run_every_day(start).await;
    let creates = s.creates("Invoice").await;
    let rows = s.ledger().await;
    let invoices: Vec<_> = rows
        .iter()
        .filter(|r| r.source == Source::Invoice)
        .collect();
    let (edited, deleted) = (invoices[0].source_id, invoices[1].source_id);
    let r = reqwest::Client::new()
        .patch(format!("{}/__sandbox/invoices/{edited}", s.tt_base()))
        .json(&json!({"dueDate": "2030-01-01"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let r = reqwest::Client::new()
        .delete(format!("{}/__sandbox/invoices/{deleted}", s.tt_base()))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let report = s.run(days_ago(1)).await.unwrap();
    assert_eq!(report.flagged, 2, "{report:?}");
    assert_eq!(s.creates("Invoice").await, creates, "nothing re-posted");
    let rows = s.ledger().await;
    for id in [edited, deleted] {
        let row = rows
            .iter()
            .find(|r| r.source_id == id && r.state == LedgerState::Posted)
            .unwrap();
        assert!(row.changed_in_tracktik, "{row:?}");
        assert!(row.change_note.is_some());
    }
    // Flagged once: the next run does not count them again.
    assert_eq!(s.run(days_ago(1)).await.unwrap().flagged, 0);
}

#[tokio::test]
async fn a_refused_document_fails_alone_in_plain_words_and_retry_failed_posts_it_with_a_new_request_id()
 {
    let start = days_ago(30);
    let s = Synced::start(US_REALM_ID, start).await;
    // The service item goes inactive in QuickBooks: every invoice is refused, pay runs are not.
    let mut settings = s.settings().await;
    let good = settings.billing.default_item.clone().unwrap();
    settings.billing.default_item = Some(QboRef::new("999999", "Retired Guarding Service"));
    s.save(&settings).await;
    let mut day = start;
    while day < today() {
        s.run(day).await.unwrap();
        day = day.succ_opt().unwrap();
    }
    let rows = s.ledger().await;
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| r.state == LedgerState::Failed)
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|r| r.source == Source::Invoice && !r.retryable)
    );
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("Retired Guarding Service"),
        "{:?}",
        failed[0]
    );
    assert_eq!(failed[0].fix_at.as_deref(), Some("settings"));
    assert!(
        rows.iter()
            .any(|r| r.source == Source::Payrun && r.state == LedgerState::Posted)
    );
    let old_request = failed[0].request_id.clone().unwrap();

    let notices = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from notice where kind = 'sync_failures'")
            .fetch_one(&s.state.db)
            .await
            .unwrap()
    };
    let sent = notices().await;
    assert!(sent >= 1, "new failures trigger a notice");

    // A nightly run does not hammer QuickBooks with the same refusal, nor mail about it again.
    let again = s.run(days_ago(1)).await.unwrap();
    assert_eq!(again.counts.total, 0);
    assert_eq!(notices().await, sent);

    // Fixed, then retried on purpose: a new generation, so a new request id.
    settings.billing.default_item = Some(good);
    s.save(&settings).await;
    let report = controls::retry_failed(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(report.counts.posted as usize, failed.len(), "{report:?}");
    let row = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.ledger_entry_id == failed[0].ledger_entry_id)
        .unwrap();
    assert_eq!(row.state, LedgerState::Posted);
    assert_eq!(row.generation, 1);
    assert_ne!(row.request_id.unwrap(), old_request);
}

#[tokio::test]
async fn a_client_whose_name_a_vendor_holds_becomes_a_customer_named_with_a_suffix() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let client = s.first_client().await;
    let (portal, tt) = s.tracktik().await;
    let name = s
        .state
        .providers
        .tracktik
        .clients(&portal, &tt)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == client)
        .unwrap()
        .display_name()
        .unwrap()
        .to_owned();
    let token = s.qbo_token().await;
    let co = Company {
        realm_id: &s.realm,
        access_token: &token,
    };
    s.state
        .providers
        .quickbooks
        .create(
            &co,
            &Vendor {
                display_name: Some(name.clone()),
                ..Default::default()
            },
            &RequestId::derive(&["test-vendor"]),
        )
        .await
        .unwrap();
    s.new_invoice(days_ago(3), Utc::now() - chrono::Duration::days(2))
        .await;
    s.run_every_day(start).await;
    let (qbo_name, note): (String, Option<String>) = sqlx::query_as(
        "select display_name, note from sync_customer where integration_id = $1 and client_id = $2",
    )
    .bind(s.integration_id)
    .bind(client)
    .fetch_one(&s.state.db)
    .await
    .unwrap();
    assert_eq!(qbo_name, format!("{name} (Customer)"));
    assert!(note.unwrap().contains("vendor"));
}

#[tokio::test]
async fn preview_lists_what_would_be_posted_and_writes_nothing() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let items = controls::preview(&s.state, s.tenant_id, s.integration_id, Some(days_ago(1)))
        .await
        .unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i.problem.is_none()), "{items:#?}");
    assert!(s.ledger().await.is_empty());
    assert_eq!(s.creates("Invoice").await, 0);
    assert_eq!(s.creates("Customer").await, 0);

    // Sync now then posts exactly those.
    let report = controls::sync_now(&s.state, s.tenant_id, s.integration_id, Some(days_ago(1)))
        .await
        .unwrap();
    assert_eq!(report.counts.posted as usize, items.len());
}

#[tokio::test]
async fn back_sync_posts_documents_approved_before_the_start_date() {
    let s = Synced::start(US_REALM_ID, days_ago(3)).await;
    s.run_every_day(days_ago(3)).await;
    let before = s.ledger().await.len();
    let report = controls::back_sync(
        &s.state,
        s.tenant_id,
        s.integration_id,
        days_ago(10),
        days_ago(1),
    )
    .await
    .unwrap();
    assert!(report.counts.posted > 0, "{report:?}");
    assert_eq!(
        s.ledger().await.len(),
        before + report.counts.posted as usize
    );
    let run = runs::recent(&s.state.db, s.tenant_id, s.integration_id, 1)
        .await
        .unwrap();
    assert_eq!(run[0].kind, RunKind::BackSync);
}

#[tokio::test]
async fn a_canadian_company_gets_currencies_and_tax_codes_and_qbo_tax_differences_are_recorded() {
    use ledgerbridge::providers::quickbooks::models::TaxCode;
    use ledgerbridge::sandbox::quickbooks::CA_REALM_ID;
    let start = days_ago(30);
    let s = Synced::start(CA_REALM_ID, start).await;
    let token = s.qbo_token().await;
    let co = Company {
        realm_id: &s.realm,
        access_token: &token,
    };
    let codes: Vec<TaxCode> = s
        .state
        .providers
        .quickbooks
        .query(&co, "SELECT * FROM TaxCode")
        .await
        .unwrap();
    let code = |name: &str| {
        let c = codes
            .iter()
            .find(|c| c.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} in {codes:?}"));
        QboRef::new(c.id.clone().unwrap(), name)
    };
    let (portal, tt) = s.tracktik().await;
    let classes = s
        .state
        .providers
        .tracktik
        .tax_classes(&portal, &tt)
        .await
        .unwrap();
    let mut settings = s.settings().await;
    settings.taxes.classes.clear();
    for c in &classes {
        let name = c.name.clone().unwrap_or_default();
        let target = if name.contains("HST") {
            code("HST ON")
        } else if name.contains("PST") {
            code("GST/PST BC")
        } else {
            // A US sales tax has no Canadian code: zero-rated, so QBO's total comes out lower.
            code("Zero-rated")
        };
        settings
            .taxes
            .classes
            .insert(c.id, TaxTarget::TaxCode { code: target });
    }
    settings.taxes.exempt_tax_code = Some(code("Exempt"));
    settings.taxes.automated_tax_item = None;
    s.save(&settings).await;

    s.run_every_day(start).await;
    let rows = s.ledger().await;
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{rows:#?}"
    );
    let invoices = s.qbo_invoices().await;
    assert_eq!(
        invoices.len(),
        rows.iter().filter(|r| r.source == Source::Invoice).count()
    );
    let mut currencies: Vec<String> = invoices
        .iter()
        .map(|i| i.currency_ref.as_ref().unwrap().value.clone())
        .collect();
    currencies.sort();
    currencies.dedup();
    assert_eq!(currencies, ["CAD", "USD"], "the region's billing currency");
    assert!(invoices.iter().all(|i| {
        i.global_tax_calculation.as_deref() == Some("TaxExcluded")
            && i.line
                .iter()
                .filter_map(|l| l.sales_item_line_detail.as_ref())
                .all(|d| d.tax_code_ref.is_some())
    }));
    // USD (New York) invoices with tax in TrackTik: QBO computed none; recorded, not hidden.
    let usd_taxed: Vec<_> = rows
        .iter()
        .filter(|r| r.currency.as_deref() == Some("USD") && r.source == Source::Invoice)
        .collect();
    assert!(!usd_taxed.is_empty());
    assert!(
        usd_taxed.iter().any(|r| r.discrepancy.is_some()),
        "{usd_taxed:#?}"
    );
    // What QuickBooks holds is recorded beside TrackTik's amount, for the daily reconciliation.
    assert!(rows.iter().all(|r| {
        let qbo = r.qbo_amount.expect("every posted row has QBO's total");
        (qbo != r.amount) == r.discrepancy.is_some()
    }));
}

#[tokio::test]
async fn closed_books_fail_the_document_or_post_it_on_the_first_open_date_as_chosen() {
    use ledgerbridge::integrations::settings::ClosedBooks;
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let closed = days_ago(1);
    Sandboxes::control(
        s.qbo_base(),
        &format!("/__sandbox/companies/{}/settings", s.realm),
        json!({"book_close_date": closed.to_string()}),
    )
    .await;
    let mut day = start;
    while day < today() {
        s.run(day).await.unwrap();
        day = day.succ_opt().unwrap();
    }
    let rows = s.ledger().await;
    let failed: Vec<_> = rows
        .iter()
        .filter(|r| r.state == LedgerState::Failed)
        .collect();
    assert!(!failed.is_empty());
    assert!(
        failed
            .iter()
            .all(|r| r.error_code.as_deref() == Some("6210"))
    );
    assert!(failed[0].last_error.as_deref().unwrap().contains("closed"));

    let mut settings = s.settings().await;
    settings.schedule.closed_books = ClosedBooks::PostOnFirstOpenDate;
    s.save(&settings).await;
    let report = controls::retry_failed(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(report.counts.posted as usize, failed.len(), "{report:?}");
    let first_open = today();
    let invoices = s.qbo_invoices().await;
    let moved = invoices
        .iter()
        .filter(|i| i.txn_date == Some(first_open))
        .count();
    assert!(
        moved
            >= failed
                .iter()
                .filter(|r| r.source == Source::Invoice)
                .count()
    );
}

#[tokio::test]
async fn the_job_runs_what_the_tick_enqueued_and_owed_days_are_caught_up_after_a_reconnect() {
    use apalis::prelude::Data;
    let start = days_ago(4);
    let s = Synced::start(US_REALM_ID, start).await;
    // Lost connection: nothing is enqueued while it waits.
    sqlx::query("update integration set state = 'needs_reconnect' where integration_id = $1")
        .bind(s.integration_id)
        .execute(&s.state.db)
        .await
        .unwrap();
    assert!(
        controls::enqueue_due(&s.state, Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    // Reconnected: the next tick enqueues every owed day.
    sqlx::query("update integration set state = 'active' where integration_id = $1")
        .bind(s.integration_id)
        .execute(&s.state.db)
        .await
        .unwrap();
    let owed = controls::enqueue_due(&s.state, Utc::now()).await.unwrap();
    assert!(owed.len() >= 3, "{owed:?}");
    let payloads: Vec<Value> =
        sqlx::query_scalar("select job from apalis.jobs where job_type = $1 order by run_at")
            .bind(controls::job_type())
            .fetch_all(&s.state.db)
            .await
            .unwrap();
    assert_eq!(payloads.len(), owed.len());
    for p in payloads {
        let job: SyncIntegration = serde_json::from_value(p).unwrap();
        ledgerbridge::jobs::sync::run(job, Data::new(s.state.clone()))
            .await
            .unwrap();
    }
    let rows = s.ledger().await;
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.state == LedgerState::Posted));
}

#[tokio::test]
async fn two_workers_running_the_same_integration_at_once_post_each_document_once() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let mut handles = Vec::new();
    for _ in 0..3 {
        let state = s.state.clone();
        let (t, i) = (s.tenant_id, s.integration_id);
        handles.push(tokio::spawn(async move {
            sync::run_day(&state, t, i, days_ago(1), RunKind::Nightly).await
        }));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    // One at a time: the runs' lifetimes do not overlap.
    let mut ran = runs::recent(&s.state.db, s.tenant_id, s.integration_id, 10)
        .await
        .unwrap();
    ran.sort_by_key(|r| r.started_at);
    assert_eq!(ran.len(), 3);
    for pair in ran.windows(2) {
        assert!(
            pair[0].finished_at.unwrap() <= pair[1].started_at,
            "runs overlapped: {pair:#?}"
        );
    }
    let rows = s.ledger().await;
    assert!(rows.iter().all(|r| r.state == LedgerState::Posted));
    assert_eq!(
        s.creates("Invoice").await as usize,
        rows.iter().filter(|r| r.source == Source::Invoice).count()
    );
    assert_eq!(
        s.creates("Purchase").await as usize,
        rows.iter().filter(|r| r.source == Source::Payrun).count()
    );
}

#[tokio::test]
async fn tracktik_totals_that_do_not_add_up_fail_the_invoice_instead_of_being_adjusted() {
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let id = s
        .new_invoice(days_ago(3), Utc::now() - chrono::Duration::days(2))
        .await;
    let doc: Value = reqwest::get(format!("{}/__sandbox/invoices/{id}", s.tt_base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total: Decimal = doc["data"]["total"].to_string().parse().unwrap();
    let r = reqwest::Client::new()
        .patch(format!("{}/__sandbox/invoices/{id}", s.tt_base()))
        .json(&json!({"total": total + Decimal::new(1, 2)}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let mut day = start;
    while day < today() {
        s.run(day).await.unwrap();
        day = day.succ_opt().unwrap();
    }
    let row = s
        .ledger()
        .await
        .into_iter()
        .find(|r| r.source_id == id)
        .unwrap();
    assert_eq!(row.state, LedgerState::Failed);
    assert_eq!(row.error_code.as_deref(), Some("tracktik_totals"));
    assert_eq!(row.fix_at.as_deref(), Some("tracktik"));
    let number = sync::fit_doc_number(doc["data"]["documentNumber"].as_str().unwrap());
    assert!(
        !s.qbo_invoices()
            .await
            .iter()
            .any(|i| i.doc_number.as_deref() == Some(number.as_str())),
        "nothing was posted for it"
    );
}

#[tokio::test]
async fn a_document_number_quickbooks_already_has_fails_that_document_alone() {
    use ledgerbridge::providers::quickbooks::models::{Line, Ref, SalesItemLineDetail};
    let start = days_ago(10);
    let s = Synced::start(US_REALM_ID, start).await;
    let id = s
        .new_invoice(days_ago(3), Utc::now() - chrono::Duration::days(2))
        .await;
    let doc: Value = reqwest::get(format!("{}/__sandbox/invoices/{id}", s.tt_base()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let number = doc["data"]["documentNumber"].as_str().unwrap().to_owned();
    // Someone typed an invoice with that number into QuickBooks last month.
    let token = s.qbo_token().await;
    let co = Company {
        realm_id: &s.realm,
        access_token: &token,
    };
    s.state
        .providers
        .quickbooks
        .create(
            &co,
            &Invoice {
                doc_number: Some(sync::fit_doc_number(&number)),
                customer_ref: Some(Ref::id("28")),
                currency_ref: Some(Ref::id("USD")),
                line: vec![Line::sales(
                    Decimal::new(100, 0),
                    SalesItemLineDetail {
                        item_ref: Some(Ref::id("22")),
                        ..Default::default()
                    },
                )],
                ..Default::default()
            },
            &RequestId::derive(&["typed-by-hand"]),
        )
        .await
        .unwrap();
    let mut day = start;
    while day < today() {
        s.run(day).await.unwrap();
        day = day.succ_opt().unwrap();
    }
    let rows = s.ledger().await;
    let row = rows.iter().find(|r| r.source_id == id).unwrap();
    assert_eq!(row.state, LedgerState::Failed, "{row:?}");
    assert_eq!(row.error_code.as_deref(), Some("6140"));
    assert!(
        row.last_error
            .as_deref()
            .unwrap()
            .contains("did not create")
    );
    assert!(
        rows.iter()
            .filter(|r| r.source_id != id)
            .all(|r| r.state == LedgerState::Posted)
    );
}

#[tokio::test]
async fn seventy_five_invoices_go_in_three_batch_requests_and_nothing_is_read_back() {
    let s = Synced::start(US_REALM_ID, today()).await;
    let client = s.first_client().await;
    let item = s.first_bill_item().await;
    let ids = s.approved_invoices(75, client, |_| item).await;
    s.clear_qbo_requests().await;

    let report = s.run(today()).await.unwrap();
    assert_eq!(report.counts.posted, 75, "{report:?}");

    let calls = s.qbo_requests().await;
    let batches = calls
        .iter()
        .filter(|(m, p)| m == "POST" && p.ends_with("/batch"))
        .count();
    assert_eq!(batches, 3, "30 + 30 + 15: {calls:?}");
    // Besides the batches: the customer list, read once, and the new customer.
    assert!(
        calls.iter().all(|(_, p)| !p.contains("/invoice")),
        "no single creates, no reads of what was written: {calls:?}"
    );
    assert_eq!(calls.len(), 3 + 2, "{calls:?}");
    assert!(calls.len() as f64 / 75.0 <= 1.05);

    let rows = s.ledger().await;
    assert_eq!(rows.len(), 75);
    assert!(rows.iter().all(|r| ids.contains(&r.source_id)));
    for r in &rows {
        assert_eq!(r.state, LedgerState::Posted, "{r:?}");
        assert!(r.qbo_link.as_deref().is_some_and(|l| l.contains("txnId=")));
        assert_eq!(
            r.qbo_amount,
            Some(r.amount),
            "QBO's total is recorded: {r:?}"
        );
    }
    let mut request_ids: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.request_id.as_deref())
        .collect();
    request_ids.sort_unstable();
    request_ids.dedup();
    assert_eq!(request_ids.len(), 3, "one request id per batch");
    assert_eq!(s.qbo_invoices().await.len(), 75);
    assert_eq!(s.creates("Invoice").await, 75);
}

#[tokio::test]
async fn one_refused_item_fails_alone_in_plain_words_and_the_rest_of_its_batch_posts() {
    let s = Synced::start(US_REALM_ID, today()).await;
    let (portal, tt) = s.tracktik().await;
    let items = s
        .state
        .providers
        .tracktik
        .bill_items(&portal, &tt)
        .await
        .unwrap();
    let (good, retired) = (items[0].id, items[1].id);
    let mut settings = s.settings().await;
    settings
        .billing
        .items
        .insert(retired, QboRef::new("999999", "Retired Alarm Response"));
    s.save(&settings).await;
    let client = s.first_client().await;
    let ids = s
        .approved_invoices(6, client, |k| if k == 2 { retired } else { good })
        .await;
    s.clear_qbo_requests().await;

    let report = s.run(today()).await.unwrap();
    assert_eq!(
        (report.counts.posted, report.counts.failed),
        (5, 1),
        "{report:?}"
    );
    let calls = s.qbo_requests().await;
    assert_eq!(
        calls.iter().filter(|(_, p)| p.ends_with("/batch")).count(),
        1,
        "{calls:?}"
    );
    let rows = s.ledger().await;
    let refused = rows.iter().find(|r| r.source_id == ids[2]).unwrap();
    assert_eq!(refused.state, LedgerState::Failed);
    assert!(!refused.retryable);
    let why = refused.last_error.as_deref().unwrap();
    assert!(why.contains("\"Retired Alarm Response\""), "{why}");
    assert!(why.contains("inactive or was deleted"), "{why}");
    assert_eq!(refused.fix_at.as_deref(), Some("settings"));
    assert!(refused.qbo_amount.is_none());
    assert!(
        rows.iter()
            .filter(|r| r.source_id != ids[2])
            .all(|r| r.state == LedgerState::Posted && r.qbo_amount == Some(r.amount))
    );
    assert_eq!(s.qbo_invoices().await.len(), 5);
}

#[tokio::test]
async fn a_batch_answer_lost_after_quickbooks_committed_it_leaves_no_duplicate_after_the_next_run()
{
    let s = Synced::start(US_REALM_ID, today()).await;
    let client = s.first_client().await;
    let item = s.first_bill_item().await;
    // The first night posts one invoice alone and remembers the customer.
    s.approved_invoices(1, client, |_| item).await;
    assert_eq!(s.run(today()).await.unwrap().counts.posted, 1);

    let ids = s.approved_invoices(5, client, |_| item).await;
    // QuickBooks commits the batch but every try's answer is lost, and it cannot be asked.
    Sandboxes::control(
        s.qbo_base(),
        "/__sandbox/faults",
        json!({"kind": "drop", "count": 3, "path_contains": "/batch"}),
    )
    .await;
    Sandboxes::control(
        s.qbo_base(),
        "/__sandbox/faults",
        json!({"kind": "server_error", "count": 3, "path_contains": "/query"}),
    )
    .await;
    let lost = s.run(today()).await.unwrap();
    assert_eq!(lost.counts.posted, 0, "{lost:?}");
    let rows = s.ledger().await;
    assert!(
        rows.iter()
            .filter(|r| ids.contains(&r.source_id))
            .all(|r| r.state == LedgerState::Posting),
        "{rows:#?}"
    );
    assert_eq!(s.creates("Invoice").await, 6, "QuickBooks has them");

    // The next run looks them up before sending anything.
    s.clear_qbo_requests().await;
    let next = s.run(today()).await.unwrap();
    assert_eq!(next.counts.total, 0, "nothing left to send: {next:?}");
    let calls = s.qbo_requests().await;
    assert!(
        calls.iter().all(|(_, p)| !p.ends_with("/batch")),
        "{calls:?}"
    );
    let rows = s.ledger().await;
    assert!(
        rows.iter()
            .all(|r| r.state == LedgerState::Posted && r.qbo_amount == Some(r.amount))
    );
    assert_eq!(s.qbo_invoices().await.len(), 6);
    assert_eq!(s.creates("Invoice").await, 6);
}

#[tokio::test]
async fn classes_and_locations_come_from_the_tracktik_sites_and_regions_found_or_created_once() {
    use ledgerbridge::integrations::settings::Dimension;
    use ledgerbridge::providers::quickbooks::models::{Class, Department};
    let start = days_ago(30);
    let s = Synced::start_with(
        US_REALM_ID,
        start,
        json!({"class_tracking": true, "department_tracking": true}),
    )
    .await;
    let token = s.qbo_token().await;
    let co = Company {
        realm_id: &s.realm,
        access_token: &token,
    };
    let qbo = &s.state.providers.quickbooks;
    // One region already has its Location in QuickBooks (named in another case).
    let (portal, tt) = s.tracktik().await;
    let regions = s
        .state
        .providers
        .tracktik
        .regions(&portal, &tt)
        .await
        .unwrap();
    let ontario = regions[0].name.clone().unwrap();
    let existing: Department = qbo
        .create(
            &co,
            &Department {
                name: Some(ontario.to_uppercase()),
                ..Default::default()
            },
            &RequestId::derive(&["made-by-hand", &ontario]),
        )
        .await
        .unwrap();
    let mut settings = s.settings().await;
    settings.billing.class_from = Some(Dimension::Site);
    settings.billing.location_from = Some(Dimension::Region);
    settings.payroll.class_from = Some(Dimension::Region);
    s.save(&settings).await;

    // One run for the whole month: every document of it, in batches.
    let report = s.run(days_ago(1)).await.unwrap();
    assert_eq!(report.counts.failed, 0, "{report:?}");
    let rows = s.ledger().await;
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{rows:#?}"
    );

    let departments: Vec<Department> = qbo.query(&co, "SELECT * FROM Department").await.unwrap();
    let classes: Vec<Class> = qbo.query(&co, "SELECT * FROM Class").await.unwrap();
    let mut names: Vec<String> = departments
        .iter()
        .filter_map(|d| d.name.clone())
        .map(|n| n.to_lowercase())
        .collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "each Location once: {departments:?}");
    let invoices = s.qbo_invoices().await;
    assert!(invoices.iter().all(|i| i.department_ref.is_some()));
    assert!(
        invoices
            .iter()
            .any(|i| i.department_ref.as_ref().unwrap().value == existing.id.clone().unwrap()),
        "the existing Location is used, whatever its case"
    );
    let class_ids: Vec<String> = classes.iter().filter_map(|c| c.id.clone()).collect();
    // Service lines carry their site's Class (US tax lines have no site, so no Class).
    let line_classes = |i: &Invoice| -> Vec<String> {
        i.line
            .iter()
            .filter_map(|l| l.sales_item_line_detail.as_ref()?.class_ref.clone())
            .map(|c| c.value)
            .collect()
    };
    assert!(invoices.iter().all(|i| {
        let classes = line_classes(i);
        !classes.is_empty() && classes.iter().all(|c| class_ids.contains(c))
    }));
    let purchases = s.qbo_purchases().await;
    assert!(!purchases.is_empty());
    assert!(purchases.iter().all(|p| p.line.iter().all(|l| {
        l.account_based_expense_line_detail
            .as_ref()
            .is_some_and(|d| d.class_ref.is_some())
    })));
}

#[tokio::test]
async fn a_missing_class_fails_its_documents_by_name_when_the_sync_may_not_create_it() {
    use ledgerbridge::integrations::settings::{CustomerMatching, Dimension};
    use ledgerbridge::providers::quickbooks::models::Class;
    let start = days_ago(30);
    let s = Synced::start_with(US_REALM_ID, start, json!({"class_tracking": true})).await;
    let mut settings = s.settings().await;
    settings.billing.enabled = false;
    settings.billing.customer_matching = CustomerMatching::PickedOnly;
    settings.payroll.class_from = Some(Dimension::Region);
    s.save(&settings).await;
    let mut day = start;
    while day < today() {
        s.run(day).await.unwrap();
        day = day.succ_opt().unwrap();
    }
    let rows = s.ledger().await;
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Failed),
        "{rows:#?}"
    );
    let why = rows[0].last_error.as_deref().unwrap();
    assert!(why.contains("QuickBooks has no Class named"), "{why}");
    assert!(
        rows[0]
            .fix_hint
            .as_deref()
            .unwrap()
            .contains("Create the Class")
    );
    assert_eq!(rows[0].fix_at.as_deref(), Some("quickbooks"));
    assert_eq!(s.creates("Class").await, 0);

    // Someone creates the Classes in QuickBooks; Retry failed posts the pay runs with them.
    let token = s.qbo_token().await;
    let co = Company {
        realm_id: &s.realm,
        access_token: &token,
    };
    let (portal, tt) = s.tracktik().await;
    for region in s
        .state
        .providers
        .tracktik
        .regions(&portal, &tt)
        .await
        .unwrap()
    {
        let name = region.name.unwrap();
        s.state
            .providers
            .quickbooks
            .create(
                &co,
                &Class {
                    name: Some(name.clone()),
                    ..Default::default()
                },
                &RequestId::derive(&["class-by-hand", &name]),
            )
            .await
            .unwrap();
    }
    let report = controls::retry_failed(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(report.counts.posted as usize, rows.len(), "{report:?}");
    assert!(
        s.qbo_purchases()
            .await
            .iter()
            .all(|p| p.line.iter().all(|l| {
                l.account_based_expense_line_detail
                    .as_ref()
                    .is_some_and(|d| d.class_ref.is_some())
            }))
    );
}
