//! The compose set-up without Docker (issue 16, "The compose file"): `docker-compose.yml`'s
//! services run here as separate processes of the built binary, with the environment the
//! compose file gives them, and complete a sync. Each process reads only its environment, so
//! if web and worker did not share a token key the worker could not open the tokens the web
//! server stored, and the run would fail.
//!
//! The compose file is read as written (its `x-ledgerbridge-env` block, each service's
//! `command` and volumes). Only what Docker itself provides is mapped: the database's address,
//! the `keys` volume (a directory here), and the published port.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ledgerbridge::sandbox::quickbooks::US_REALM_ID;

use crate::helpers::{AppProcess, Sandboxes, TempDir, TestApp, TestDb};

/// What the test needs from `docker-compose.yml`.
struct Compose {
    env: BTreeMap<String, String>,
    services: BTreeMap<String, Vec<String>>,
}

impl Compose {
    fn read() -> Self {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docker-compose.yml"))
                .expect("docker-compose.yml is readable");
        let mut env = BTreeMap::new();
        let mut services: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut section = "";
        let mut service = String::new();
        for line in text.lines() {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if !line.starts_with(' ') {
                section = if line.starts_with("x-ledgerbridge-env:") {
                    "env"
                } else if line.starts_with("services:") {
                    "services"
                } else {
                    ""
                };
                continue;
            }
            match section {
                "env" => {
                    let (k, v) = line.trim().split_once(": ").expect("KEY: value");
                    env.insert(k.to_owned(), v.trim().to_owned());
                }
                "services" if !line.starts_with("    ") => {
                    service = line.trim().trim_end_matches(':').to_owned();
                    services.insert(service.clone(), Vec::new());
                }
                "services" => services
                    .get_mut(&service)
                    .unwrap()
                    .push(line.trim().to_owned()),
                _ => {}
            }
        }
        Self { env, services }
    }

    fn block(&self, service: &str) -> &[String] {
        self.services
            .get(service)
            .unwrap_or_else(|| panic!("docker-compose.yml has a {service} service"))
    }

    /// The service's `command`, as arguments.
    fn command(&self, service: &str) -> Vec<String> {
        let line = self
            .block(service)
            .iter()
            .find_map(|l| l.strip_prefix("command: "))
            .unwrap_or_else(|| panic!("{service} has a command"));
        serde_json::from_str(line).expect("a command written as a JSON list")
    }

    /// Whether the service gets the shared settings.
    fn uses_env(&self, service: &str) -> bool {
        self.block(service).iter().any(|l| l == "environment: *env")
    }

    /// Where the service mounts the named volume `volume`.
    fn mount(&self, service: &str, volume: &str) -> Option<String> {
        self.block(service).iter().find_map(|l| {
            let spec = l.strip_prefix("- ")?;
            let (name, rest) = spec.split_once(':')?;
            (name == volume).then(|| rest.split(':').next().unwrap_or(rest).to_owned())
        })
    }
}

/// Runs a one-shot service to its end, as compose does before starting the others.
async fn run_to_end(args: &[String], env: &[(&'static str, String)], log: &Path) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut process = AppProcess::start(&args, env, log);
    let started = Instant::now();
    loop {
        if let Some(status) = process.exited() {
            assert!(
                status.success(),
                "ledgerbridge {args:?} failed: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{args:?} hangs"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_and_worker_started_as_the_compose_file_starts_them_share_a_key_and_complete_a_sync() {
    let compose = Compose::read();
    for service in ["keys", "migrate", "web", "worker"] {
        assert!(
            compose.uses_env(service),
            "{service} gets the shared settings"
        );
    }
    assert!(
        !compose.env.contains_key("LEDGERBRIDGE_TOKEN_KEYS"),
        "the key is not written into the compose file"
    );
    // The `keys` volume: one directory, mounted where every service expects it.
    let key_file = compose
        .env
        .get("LEDGERBRIDGE_TOKEN_KEYS_FILE")
        .expect("web and worker are told where the shared key is")
        .clone();
    let mounted = compose
        .mount("keys", "keys")
        .expect("keys writes to the volume");
    for service in ["web", "worker"] {
        assert_eq!(
            compose.mount(service, "keys").as_deref(),
            Some(mounted.as_str()),
            "{service} reads the key from the volume"
        );
    }
    let relative = Path::new(&key_file)
        .strip_prefix(&mounted)
        .expect("the key file is inside the volume");
    let dir = TempDir::new("lb-compose");
    let volume = dir.path().join("keys-volume");
    std::fs::create_dir_all(&volume).unwrap();
    let key_here: PathBuf = volume.join(relative);

    let db = TestDb::new().await;
    let sandboxes = Sandboxes::start().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut env: Vec<(&'static str, String)> = Vec::new();
    for (k, v) in &compose.env {
        let name: &'static str = Box::leak(k.clone().into_boxed_str());
        let value = match name {
            // What Docker provides: the database's address, the volume, the published port.
            "DATABASE_URL" => db.url.clone(),
            "LEDGERBRIDGE_TOKEN_KEYS_FILE" => key_here.to_str().unwrap().to_owned(),
            "LEDGERBRIDGE_PUBLIC_URL" => format!("http://127.0.0.1:{port}"),
            _ => v.clone(),
        };
        env.push((name, value));
    }
    env.extend([
        ("LEDGERBRIDGE_LISTEN", format!("127.0.0.1:{port}")),
        ("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "5".to_owned()),
        // The sandboxes stand in for TrackTik and Intuit.
        (
            "TRACKTIK_HTTP_PORTALS",
            sandboxes.tracktik.base_url().to_owned(),
        ),
        (
            "QUICKBOOKS_BASE_URL",
            sandboxes.quickbooks.base_url().to_owned(),
        ),
    ]);

    run_to_end(&compose.command("keys"), &env, &dir.path().join("keys.log")).await;
    assert!(key_here.exists(), "init-keys wrote the key into the volume");
    run_to_end(
        &compose.command("migrate"),
        &env,
        &dir.path().join("migrate.log"),
    )
    .await;
    let web_args = compose.command("web");
    let web_args: Vec<&str> = web_args.iter().map(String::as_str).collect();
    let app = TestApp::start_process_on(
        db,
        &web_args,
        sandboxes,
        env.clone(),
        &dir.path().join("web.log"),
    )
    .await;
    let worker_args = compose.command("worker");
    let worker_args: Vec<&str> = worker_args.iter().map(String::as_str).collect();
    let worker_log = dir.path().join("worker.log");
    let mut worker = AppProcess::start(&worker_args, &env, &worker_log);

    Sandboxes::control(
        app.sandboxes().quickbooks.base_url(),
        "/__sandbox/rate-limits",
        serde_json::json!({"enforce": false}),
    )
    .await;
    // Sign-in and connect through the web process (which seals the tokens).
    let today = chrono::Utc::now().date_naive();
    let active = app
        .activate_integration(US_REALM_ID, today - chrono::Days::new(10))
        .await;
    let id = active.integration_id;
    let queued = app
        .post_form(
            &format!("/integrations/{id}"),
            &format!("/integrations/{id}/sync-now"),
            &[],
        )
        .await;
    assert_eq!(queued.status(), 303);

    // The worker process opens the tokens and posts.
    let started = Instant::now();
    let status = loop {
        let run: Option<String> = sqlx::query_scalar(
            "select status::text from sync_run where integration_id = $1 and status <> 'running'
             order by started_at desc limit 1",
        )
        .bind(id)
        .fetch_optional(&app.db)
        .await
        .unwrap();
        if let Some(status) = run {
            break status;
        }
        if let Some(exit) = worker.exited() {
            panic!(
                "the worker exited ({exit}): {}",
                std::fs::read_to_string(&worker_log).unwrap_or_default()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no run finished: {}",
            std::fs::read_to_string(&worker_log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_ne!(
        status,
        "failed",
        "the worker could not run the sync: {}",
        std::fs::read_to_string(&worker_log).unwrap_or_default()
    );
    let posted: i64 = sqlx::query_scalar(
        "select count(*) from ledger_entry where integration_id = $1 and state = 'posted'",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(posted > 0, "the worker posted documents");
}
