//! Walk-throughs in a real browser (Debian's Chromium driven by playwright-core from `e2e/`),
//! with a screenshot of every step kept under `test-output/browser/`.
//!
//! They need `/usr/bin/chromium` and `e2e/node_modules` (`.ci/run` installs both). Elsewhere
//! they say so and skip, except under CI (`CI` set), where a missing browser is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{TestApp, TestSettings};

fn browser_ready() -> bool {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready =
        Path::new(&chromium).exists() && root.join("e2e/node_modules/playwright-core").exists();
    if !ready {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install Chromium and e2e/node_modules (see .ci/run)"
        );
        eprintln!(
            "skipping: Chromium or e2e/node_modules is missing (run `npm ci --prefix e2e` and install chromium)"
        );
    }
    ready
}

fn output_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test-output/browser")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_newcomer_signs_in_connects_quickbooks_finishes_express_setup_and_staff_review_a_draft_in_a_real_browser()
 {
    if !browser_ready() {
        return;
    }
    let app = TestApp::spawn_with_sandboxes_and(TestSettings {
        outbox: true,
        ..Default::default()
    })
    .await;
    // Grace publishes her availability, so the customer can book her.
    crate::sessions::expert_available(&app, "grace@ledgerbridge.test").await;
    // A worker in the same process runs what Sync now queues.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(ledgerbridge::jobs::run(app.state.clone(), async move {
        let _ = stopped.await;
    }));
    let out = output_dir("first-visit");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e/walkthrough.js");
    let (base, tracktik) = (
        app.base_url.clone(),
        app.sandboxes().tracktik.base_url().to_owned(),
    );
    let qbo = app.sandboxes().quickbooks.base_url().to_owned();
    let out_arg = out.clone();
    let result = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .env("QUICKBOOKS_SANDBOX", &qbo)
            .args([
                &base,
                &tracktik,
                "grace@ledgerbridge.test",
                "a long enough password",
            ])
            .arg(&out_arg)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "walk-through failed:\n{stdout}\n{stderr}"
    );
    let shots = std::fs::read_dir(&out).unwrap().count();
    assert!(shots >= 20, "a screenshot per step, found {shots}");
    let states: Vec<(String, String)> =
        sqlx::query_as("select realm_id, state::text from integration order by realm_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        states,
        vec![
            ("9341453000000001".to_owned(), "active".to_owned()),
            ("9341453000000002".to_owned(), "draft".to_owned())
        ],
        "the browser's clicks activated one company and left the other a draft"
    );
    let states: Vec<(String, i64)> =
        sqlx::query_as("select state::text, count(*) from ledger_entry group by 1 order by 1")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert!(
        states.iter().any(|(s, n)| s == "posted" && *n > 0)
            && states.iter().any(|(s, n)| s == "failed" && *n > 0),
        "Sync now posted documents and failed some, as the pages showed: {states:?}"
    );
    let _ = stop.send(());
    worker.await.unwrap().unwrap();
    let sessions: i64 = sqlx::query_scalar("select count(*) from expert_session")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sessions, 1, "the browser booked one session");
    let invitations = app
        .state
        .mailer
        .outbox()
        .unwrap()
        .list()
        .iter()
        .filter(|m| {
            m.email
                .attachments
                .iter()
                .any(|a| a.filename == "invite.ics")
        })
        .count();
    assert_eq!(invitations, 2, "both sides got the .ics");
}

/// Runs `e2e/<script>` with `args` then the output directory; fails with its output.
async fn walk(script: &str, args: Vec<String>, out: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("e2e")
        .join(script);
    let out = out.to_owned();
    let result = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args(args)
            .arg(&out)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    assert!(
        result.status.success(),
        "walk-through failed:\n{}\n{}",
        String::from_utf8_lossy(&result.stdout),
        String::from_utf8_lossy(&result.stderr)
    );
}

#[tokio::test]
async fn a_rolled_back_night_is_posted_once_again_by_sync_now_and_an_invited_accountant_edits_a_draft_in_a_real_browser()
 {
    use ledgerbridge::providers::quickbooks::Company;
    use ledgerbridge::providers::quickbooks::models::{Invoice, Purchase};

    if !browser_ready() {
        return;
    }
    let app = TestApp::spawn_with_sandboxes_and(TestSettings {
        outbox: true,
        ..Default::default()
    })
    .await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(ledgerbridge::jobs::run(app.state.clone(), async move {
        let _ = stopped.await;
    }));
    let out = output_dir("people");
    let args = vec![
        app.base_url.clone(),
        app.sandboxes().tracktik.base_url().to_owned(),
    ];
    walk("people.js", args, &out).await;
    let _ = stop.send(());
    worker.await.unwrap().unwrap();

    let (tenant_id, integration_id): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select tenant_id, integration_id from integration where realm_id = '9341453000000001'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let (status, reversed): (String, i64) = sqlx::query_as(
        "select r.status::text, (select count(*) from reversal v where v.rollback_id = r.rollback_id)
         from rollback r where r.integration_id = $1",
    )
    .bind(integration_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(status, "done");
    assert!(reversed > 0, "the night had documents to undo");
    let unposted: i64 = sqlx::query_scalar(
        "select count(*) from ledger_entry where integration_id = $1 and state <> 'posted' and state <> 'failed'",
    )
    .bind(integration_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(unposted, 0, "Sync now posted the rolled-back night again");

    // In QuickBooks: each posted invoice once under its number (voided ones were renamed), and
    // as many expenses as posted pay runs (the rolled-back ones were deleted).
    let tenant = ledgerbridge::ids::TenantId(tenant_id);
    let integration = ledgerbridge::ids::IntegrationId(integration_id);
    let conn =
        ledgerbridge::connections::db::quickbooks_for_integration(&app.db, tenant, integration)
            .await
            .unwrap()
            .unwrap();
    let token = ledgerbridge::connections::access_token(&app.state, tenant, conn.connection_id)
        .await
        .unwrap();
    let co = Company {
        realm_id: "9341453000000001",
        access_token: &token,
    };
    let qbo = &app.state.providers.quickbooks;
    let invoices: Vec<Invoice> = qbo.query(&co, "SELECT * FROM Invoice").await.unwrap();
    let purchases: Vec<Purchase> = qbo.query(&co, "SELECT * FROM Purchase").await.unwrap();
    let mut live: Vec<String> = invoices
        .iter()
        .filter_map(|i| i.doc_number.clone())
        .filter(|n| !n.ends_with("-VOID"))
        .collect();
    live.sort();
    let mut posted: Vec<String> = sqlx::query_scalar(
        "select qbo_doc_number from ledger_entry
         where integration_id = $1 and state = 'posted' and qbo_entity = 'Invoice'",
    )
    .bind(integration_id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    posted.sort();
    assert_eq!(live, posted, "each invoice once in QuickBooks");
    assert!(
        invoices.len() > live.len(),
        "the rolled-back invoices stay, voided"
    );
    let payruns: i64 = sqlx::query_scalar(
        "select count(*) from ledger_entry
         where integration_id = $1 and state = 'posted' and qbo_entity = 'Purchase'",
    )
    .bind(integration_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(purchases.len() as i64, payruns, "each pay run once");

    let who: String = sqlx::query_scalar(
        "select actor_label from settings_change order by changed_at desc limit 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        who, "Jane Ledger",
        "the accountant's change is recorded as hers"
    );
}

#[tokio::test]
async fn three_regions_go_into_two_companies_each_holding_exactly_its_regions_documents_in_a_real_browser()
 {
    use ledgerbridge::providers::quickbooks::Company;
    use ledgerbridge::providers::quickbooks::models::Invoice;

    if !browser_ready() {
        return;
    }
    let app = TestApp::spawn_with_sandboxes().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(ledgerbridge::jobs::run(app.state.clone(), async move {
        let _ = stopped.await;
    }));
    let out = output_dir("regions");
    let args = vec![
        app.base_url.clone(),
        app.sandboxes().tracktik.base_url().to_owned(),
    ];
    walk("regions.js", args, &out).await;
    let _ = stop.send(());
    worker.await.unwrap().unwrap();

    let mut held = Vec::new();
    for (realm, currency) in [("9341453000000001", "USD"), ("9341453000000002", "CAD")] {
        let (tenant_id, integration_id): (uuid::Uuid, uuid::Uuid) =
            sqlx::query_as("select tenant_id, integration_id from integration where realm_id = $1")
                .bind(realm)
                .fetch_one(&app.db)
                .await
                .unwrap();
        let states: Vec<(String, String, i64)> = sqlx::query_as(
            "select state::text, coalesce(currency, ''), count(*) from ledger_entry
             where integration_id = $1 group by 1, 2 order by 1, 2",
        )
        .bind(integration_id)
        .fetch_all(&app.db)
        .await
        .unwrap();
        assert!(
            states.iter().all(|(s, _, _)| s == "posted"),
            "{realm}: every document posted, none failed on currency: {states:?}"
        );
        assert!(
            states.iter().all(|(_, c, _)| c.is_empty() || c == currency),
            "{realm}: only its regions' currency: {states:?}"
        );
        let tenant = ledgerbridge::ids::TenantId(tenant_id);
        let integration = ledgerbridge::ids::IntegrationId(integration_id);
        let conn =
            ledgerbridge::connections::db::quickbooks_for_integration(&app.db, tenant, integration)
                .await
                .unwrap()
                .unwrap();
        let token = ledgerbridge::connections::access_token(&app.state, tenant, conn.connection_id)
            .await
            .unwrap();
        let co = Company {
            realm_id: realm,
            access_token: &token,
        };
        let invoices: Vec<Invoice> = app
            .state
            .providers
            .quickbooks
            .query(&co, "SELECT * FROM Invoice")
            .await
            .unwrap();
        let mut numbers: Vec<String> = invoices.into_iter().filter_map(|i| i.doc_number).collect();
        numbers.sort();
        let mut posted: Vec<String> = sqlx::query_scalar(
            "select qbo_doc_number from ledger_entry
             where integration_id = $1 and qbo_entity = 'Invoice'",
        )
        .bind(integration_id)
        .fetch_all(&app.db)
        .await
        .unwrap();
        posted.sort();
        assert!(!posted.is_empty(), "{realm} has invoices");
        assert_eq!(
            numbers, posted,
            "{realm} holds exactly its regions' invoices"
        );
        held.push(numbers);
    }
    assert!(
        held[0].iter().all(|n| !held[1].contains(n)),
        "no invoice is in both companies"
    );
}
