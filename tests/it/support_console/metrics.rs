//! The metrics endpoint and the logs after a real sync run through both sandboxes.

use super::*;

/// Express defaults and a schedule, as the wizard would save them.
async fn set_up(
    app: &TestApp,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    start: NaiveDate,
) {
    let state = &app.state;
    let tt_conn = ledgerbridge::connections::db::tracktik_for_tenant(&state.db, tenant_id)
        .await
        .unwrap()
        .unwrap();
    let tt_token = ledgerbridge::connections::access_token(state, tenant_id, tt_conn.connection_id)
        .await
        .unwrap();
    let portal = Portal::new(&tt_conn.external_id).unwrap();
    let tt = AccessToken::new(secrecy::ExposeSecret::expose_secret(&tt_token).to_owned());
    let classes = state
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
    let qbo_conn = ledgerbridge::connections::db::quickbooks_for_integration(
        &state.db,
        tenant_id,
        integration_id,
    )
    .await
    .unwrap()
    .unwrap();
    let token = ledgerbridge::connections::access_token(state, tenant_id, qbo_conn.connection_id)
        .await
        .unwrap();
    let co = Company {
        realm_id: US_REALM_ID,
        access_token: &token,
    };
    let refs = ensure_defaults(
        &state.providers.quickbooks,
        &co,
        &inputs,
        &ExpressOptions::default(),
    )
    .await
    .expect("Express setup");
    let r = |x: &ledgerbridge::providers::quickbooks::models::Ref| {
        QboRef::new(x.value.clone(), x.name.clone().unwrap_or_default())
    };
    let mut settings = schedule(start);
    settings.billing.default_item = Some(r(&refs.refs.service_income_item));
    for (id, t) in &refs.refs.tax_classes {
        settings
            .taxes
            .classes
            .insert(*id, TaxTarget::Item { item: r(&t.item) });
    }
    settings.taxes.automated_tax_item = Some(r(&refs.refs.automated_tax.item));
    settings.schedule.cutoff = NaiveTime::from_hms_opt(3, 0, 0).unwrap();
    sqlx::query("update integration set settings = $2, state = 'active' where integration_id = $1")
        .bind(integration_id)
        .bind(sqlx::types::Json(&settings))
        .execute(&state.db)
        .await
        .unwrap();
}

/// The value of one sample line of the exposition, e.g. `ledgerbridge_documents{state="posted"}`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_show_runs_documents_queue_depth_and_quickbooks_calls_after_a_run() {
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_METRICS_ON_WEB", "true".into());
    let app = TestApp::spawn_with_sandboxes_and(settings).await;
    Sandboxes::control(
        app.sandboxes().quickbooks.base_url(),
        &format!("/__sandbox/companies/{US_REALM_ID}/settings"),
        json!({"multicurrency": true}),
    )
    .await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    assert_eq!(
        app.connect_quickbooks(US_REALM_ID, None).await.status(),
        303
    );
    let (tenant_id, integration_id): (TenantId, IntegrationId) =
        sqlx::query_as("select tenant_id, integration_id from integration where realm_id = $1")
            .bind(US_REALM_ID)
            .fetch_one(&app.db)
            .await
            .unwrap();
    set_up(&app, tenant_id, integration_id, days_ago(3)).await;

    let (job, _) = controls::enqueue(
        &app.state,
        tenant_id,
        integration_id,
        controls::RunRequest::Manual,
        Some(days_ago(1)),
        ledgerbridge::sync::runs::Requester::Customer,
    )
    .await
    .unwrap();
    let before = app.get_html("/metrics").await;
    assert_eq!(
        sample(
            &before,
            "ledgerbridge_queue_depth{job_type=\"SyncIntegration\"}"
        ),
        Some(1.0),
        "{before}"
    );
    assert_eq!(
        sample(
            &before,
            "ledgerbridge_sync_runs_total{kind=\"manual\",status=\"succeeded\"}"
        ),
        None
    );

    // The worker's function itself, as a worker would call it, with its JSON logs captured
    // (the test runtime runs everything on this thread).
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    tokio::time::timeout(
        Duration::from_secs(120),
        ledgerbridge::jobs::sync::run(job, apalis::prelude::Data::new(app.state.clone())),
    )
    .await
    .expect("the run ends")
    .expect("the job succeeds");
    drop(guard);

    let run: (String, i32, i32) = sqlx::query_as(
        "select status::text, posted, failed from sync_run where integration_id = $1",
    )
    .bind(integration_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let after = app.get_html("/metrics").await;
    let runs = sample(
        &after,
        &format!(
            "ledgerbridge_sync_runs_total{{kind=\"manual\",status=\"{}\"}}",
            run.0
        ),
    );
    assert_eq!(runs, Some(1.0), "{after}");
    let posted: i64 =
        sqlx::query_scalar("select count(*) from ledger_entry where state = 'posted'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(posted, i64::from(run.1));
    assert_eq!(
        sample(&after, "ledgerbridge_documents{state=\"posted\"}"),
        Some(posted as f64)
    );
    assert!(sample(&after, "ledgerbridge_documents{state=\"failed\"}").is_some());
    // Connecting read the company through the instrumented client; the run queried it.
    assert!(
        sample(
            &after,
            "ledgerbridge_quickbooks_calls_total{entity=\"companyinfo\",outcome=\"ok\"}"
        )
        .is_some_and(|n| n >= 1.0),
        "{after}"
    );
    assert!(
        sample(
            &after,
            "ledgerbridge_quickbooks_calls_total{entity=\"query\",outcome=\"ok\"}"
        )
        .is_some_and(|n| n >= 1.0)
    );
    assert!(after.contains("# TYPE ledgerbridge_quickbooks_throttled counter"));
    assert_eq!(
        sample(
            &after,
            "ledgerbridge_jobs_running{job_type=\"SyncIntegration\"}"
        ),
        Some(0.0)
    );
    if posted > 0 {
        // Posted one by one or in batch requests, depending on how many.
        let writes: f64 = ["invoice", "batch"]
            .iter()
            .filter_map(|e| {
                sample(
                    &after,
                    &format!(
                        "ledgerbridge_quickbooks_calls_total{{entity=\"{e}\",outcome=\"ok\"}}"
                    ),
                )
            })
            .sum();
        assert!(writes >= 1.0, "{after}");
    }

    // Every log line of the job carries the tenant and the integration; the last one the run.
    let run_id: i64 = sqlx::query_scalar("select sync_run_id from sync_run")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let lines = logs.lines();
    let done = lines
        .iter()
        .find(|l| l["message"] == "sync run done")
        .unwrap_or_else(|| panic!("no 'sync run done' line in {lines:?}"));
    assert_eq!(done["span"]["name"], "sync_job");
    assert_eq!(done["span"]["tenant"], json!(tenant_id.to_string()));
    assert_eq!(
        done["span"]["integration"],
        json!(integration_id.to_string())
    );
    assert_eq!(done["span"]["run"], json!(run_id));
    for line in &lines {
        let job_span = line["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["name"] == "sync_job"))
            .unwrap_or_else(|| panic!("a line outside the job's span: {line}"));
        assert_eq!(job_span["tenant"], json!(tenant_id.to_string()), "{line}");
        assert_eq!(job_span["integration"], json!(integration_id.to_string()));
    }
}

/// Log output captured in memory, one JSON object a line.
#[derive(Clone, Default)]
struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Logs {
    fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
