//! Defence in depth and production settings (issue 16, items 7 and 11): tokens bound to
//! their portal or company, references that cannot cross tenants (and keys that lead with the
//! tenant, issue 18), `/metrics` off the public port, and a program that will not start in
//! production on the demo's settings.

use ledgerbridge::connections::{self, ConnectionError};
use ledgerbridge::ids::TenantId;
use ledgerbridge::sandbox::quickbooks::US_REALM_ID;

use crate::helpers::{AppProcess, TempDir, TestApp, TestDb, TestSettings, token_key_spec};

#[tokio::test]
async fn a_token_moved_to_another_portal_or_company_does_not_open() {
    let app = TestApp::spawn_with_sandboxes().await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    assert_eq!(
        app.connect_quickbooks(US_REALM_ID, None).await.status(),
        303
    );
    let rows: Vec<(TenantId, ledgerbridge::ids::ConnectionId, String)> =
        sqlx::query_as("select tenant_id, connection_id, provider::text from connection")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2);
    for (tenant_id, id, provider) in rows {
        // Opens where it was sealed.
        connections::access_token(&app.state, tenant_id, id)
            .await
            .unwrap_or_else(|e| panic!("{provider}: {e}"));
        // Pointed at another portal or realm (as a tampered row would be), it does not.
        sqlx::query(
            "update connection set external_id = case provider
                 when 'tracktik' then 'https://evil.tracktik.com' else '4620816365999999999' end
             where connection_id = $1",
        )
        .bind(id)
        .execute(&app.db)
        .await
        .unwrap();
        let moved = connections::access_token(&app.state, tenant_id, id).await;
        assert!(
            matches!(moved, Err(ConnectionError::Crypto(_))),
            "{provider}: {moved:?}"
        );
    }
}

#[tokio::test]
async fn every_table_naming_an_integration_names_its_tenant_with_a_composite_key() {
    let app = TestApp::spawn().await;
    // Every table with both columns has a foreign key on exactly (tenant_id, integration_id)
    // to integration. (Tables added later are covered by this check too.)
    let uncovered: Vec<String> = sqlx::query_scalar(
        "select c.table_name::text from information_schema.columns c
         where c.table_schema = 'public' and c.column_name = 'integration_id'
           and c.table_name <> 'integration'
           and exists (select 1 from information_schema.columns t
                       where t.table_schema = 'public' and t.table_name = c.table_name
                         and t.column_name = 'tenant_id')
           and not exists (
               select 1 from pg_constraint k
               where k.contype = 'f' and k.conrelid = ('public.' || c.table_name)::regclass
                 and k.confrelid = 'public.integration'::regclass
                 and (select array_agg(a.attname::text order by a.attname)
                      from unnest(k.conkey) n join pg_attribute a
                        on a.attrelid = k.conrelid and a.attnum = n)
                     = array['integration_id', 'tenant_id'])
         order by 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(uncovered, Vec::<String>::new());
    // And a row that mixes two tenants is refused.
    let tenants: Vec<uuid::Uuid> = sqlx::query_scalar(
        "insert into tenant (portal_url, name) values
             ('https://a.tracktik.com', 'A'), ('https://b.tracktik.com', 'B')
         returning tenant_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let integration: uuid::Uuid = sqlx::query_scalar(
        "insert into integration (tenant_id, realm_id, company_name, country, home_currency)
         values ($1, '1', 'A Books', 'US', 'USD') returning integration_id",
    )
    .bind(tenants[0])
    .fetch_one(&app.db)
    .await
    .unwrap();
    let crossed = sqlx::query(
        "insert into notice (tenant_id, integration_id, kind, dedupe_key, recipients, subject, delivered)
         values ($1, $2, 'sync_failures', 'x', '{}', 's', false)",
    )
    .bind(tenants[1])
    .bind(integration)
    .execute(&app.db)
    .await;
    let err = crossed.expect_err("tenant B's row may not name tenant A's integration");
    assert!(err.to_string().contains("foreign key"), "{err}");
}

/// Keys and indexes of tenant data that may lead with another column: each row's own id
/// (unique by itself), look-ups made before the tenant is known, and lists staff and the
/// periodic jobs read across tenants.
const GLOBAL_KEYS: &[&str] = &[
    // Each row's own id.
    "audit_event_pkey",
    "connection_pkey",
    "expert_session_pkey",
    "integration_pkey",
    "ledger_entry_pkey",
    "member_link_pkey",
    "notice_pkey",
    "qbo_send_pkey",
    "rollback_pkey",
    "settings_change_pkey",
    "support_request_pkey",
    "support_request_note_pkey",
    "sync_run_pkey",
    "tenant_user_pkey",
    // Before the tenant is known: sign-in by portal, links by their token.
    "tenant_portal_key",
    "tenant_portal_url_key",
    "member_link_token_hash_key",
    "expert_session_link_pkey",
    // Across tenants: the staff's audit log and requests, token keep-alive, experts' calendars.
    "audit_event_occurred_idx",
    "support_request_status_idx",
    "connection_refresh_idx",
    "expert_session_no_double_booking",
    "expert_session_upcoming_idx",
];

#[tokio::test]
async fn every_key_and_index_of_tenant_data_leads_with_tenant_id_but_the_global_ones() {
    let app = TestApp::spawn().await;
    let leading_elsewhere: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_index x
         join pg_class c on c.oid = x.indexrelid
         join pg_class t on t.oid = x.indrelid
         join pg_namespace n on n.oid = t.relnamespace
         where n.nspname = 'public'
           and exists (select 1 from pg_attribute a
                       where a.attrelid = t.oid and a.attname = 'tenant_id')
           and (select a.attname::text from pg_attribute a
                where a.attrelid = t.oid and a.attnum = x.indkey[0]) is distinct from 'tenant_id'
         order by 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let mut expected: Vec<String> = GLOBAL_KEYS.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(leading_elsewhere, expected);
    // And every reference from one tenant's row to another names the tenant.
    let crossing: Vec<String> = sqlx::query_scalar(
        "select k.conname::text from pg_constraint k
         where k.contype = 'f' and k.connamespace = 'public'::regnamespace
           and exists (select 1 from pg_attribute a
                       where a.attrelid = k.confrelid and a.attname = 'tenant_id')
           and not exists (select 1 from unnest(k.conkey) n join pg_attribute a
                             on a.attrelid = k.conrelid and a.attnum = n
                           where a.attname = 'tenant_id')
         order by 1",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(crossing, Vec::<String>::new());
}

#[tokio::test]
async fn metrics_are_served_on_the_web_port_only_when_configured() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.get("/metrics").await.status(),
        404,
        "not on the public port"
    );
    assert_eq!(app.get("/healthz").await.status(), 200);
    // The operations listener has them.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_METRICS_LISTEN", format!("127.0.0.1:{port}"));
    let ops = TestApp::spawn_with(settings).await;
    ledgerbridge::server::start_ops_listener(&ops.state)
        .await
        .unwrap();
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert_eq!(ops.get("/metrics").await.status(), 404);
    // Asked for: on the web port too.
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_METRICS_ON_WEB", "true".into());
    let public = TestApp::spawn_with(settings).await;
    assert_eq!(public.get("/metrics").await.status(), 200);
}

/// Starts `ledgerbridge web` with `env` on top of a fresh database and a key; returns its exit
/// status and output, or panics if it is still running after 30 s.
async fn web_exit(env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    let db = TestDb::new().await;
    let dir = TempDir::new("lb-prod-check");
    let log = dir.path().join("web.log");
    let mut vars: Vec<(&str, String)> = vec![
        ("DATABASE_URL", db.url.clone()),
        ("LEDGERBRIDGE_LISTEN", "127.0.0.1:0".into()),
        ("LEDGERBRIDGE_TOKEN_KEYS", token_key_spec()),
    ];
    vars.extend(env.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let mut process = AppProcess::start(&["web"], &vars, &log);
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = process.exited() {
            return (status, std::fs::read_to_string(&log).unwrap_or_default());
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "web started with {env:?}: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn web_off_this_machine_stops_at_start_on_demo_settings_naming_the_variable() {
    let public = ("LEDGERBRIDGE_PUBLIC_URL", "https://lb.example.com");
    let (status, output) = web_exit(&[public]).await;
    assert!(!status.success());
    assert!(output.contains("TRACKTIK_CLIENT_SECRET"), "{output}");
    assert!(!output.contains("demo-secret"), "{output}");
    let secrets = [
        public,
        ("TRACKTIK_CLIENT_SECRET", "tt-production-secret"),
        ("QUICKBOOKS_CLIENT_SECRET", "qbo-production-secret"),
    ];
    for (extra, variable) in [
        (
            ("QUICKBOOKS_BASE_URL", "http://127.0.0.1:8082"),
            "QUICKBOOKS_BASE_URL",
        ),
        (
            ("TRACKTIK_HTTP_PORTALS", "http://127.0.0.1:8081"),
            "TRACKTIK_HTTP_PORTALS",
        ),
    ] {
        let mut env = secrets.to_vec();
        env.push(extra);
        let (status, output) = web_exit(&env).await;
        assert!(!status.success());
        assert!(output.contains(variable), "{variable}: {output}");
    }
}
