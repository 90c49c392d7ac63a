//! The real `ledgerbridge` binary as a child process, and a temporary directory for it.

use super::*;

/// A new token-key specification (`id:base64`), for a test app and the processes it starts to
/// share.
pub fn token_key_spec() -> String {
    secrecy::ExposeSecret::expose_secret(&ledgerbridge::crypto::TokenCipher::generate_spec("test"))
        .to_owned()
}

/// A `ledgerbridge` process (the real binary, e.g. `worker`) whose stdout and stderr are
/// appended to a log file. Dropping it kills it.
pub struct AppProcess {
    child: std::process::Child,
}

impl AppProcess {
    /// Starts `ledgerbridge <args>` (or the binary `LEDGERBRIDGE_BIN` names) with exactly `env`
    /// (nothing inherited but `PATH`), in a directory without a `.env`, output appended to
    /// `log`.
    pub fn start(args: &[&str], env: &[(&str, String)], log: &std::path::Path) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file opens");
        // `LEDGERBRIDGE_BIN` runs a copy (the shared target dir may be rebuilt mid-run).
        let binary = std::env::var("LEDGERBRIDGE_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_ledgerbridge").to_owned());
        let mut command = std::process::Command::new(binary);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .current_dir(log.parent().expect("the log is in a directory"))
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file);
        for (k, v) in env {
            command.env(k, v);
        }
        Self {
            child: command.spawn().expect("the ledgerbridge binary starts"),
        }
    }

    /// SIGKILL (no chance to clean up), then reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether it has exited on its own.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A directory under the system temp dir, removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestApp {
    /// The real binary serving the app (`ledgerbridge <args>`, e.g. `serve`: web and worker in
    /// one process) on a free port, wired to `sandboxes`, output appended to `log`. The test
    /// gets an in-process state on the same database and key, for reading and for library
    /// calls; every HTTP request goes to the process.
    pub async fn spawn_process(
        args: &[&str],
        sandboxes: Sandboxes,
        extra_env: &[(&'static str, &str)],
        log: &std::path::Path,
    ) -> Self {
        let test_db = TestDb::new().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut env: Vec<(&'static str, String)> = vec![
            ("DATABASE_URL", test_db.url.clone()),
            ("LEDGERBRIDGE_LISTEN", listen.clone()),
            ("LEDGERBRIDGE_TOKEN_KEYS", token_key_spec()),
            ("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "10".into()),
            (
                "TRACKTIK_HTTP_PORTALS",
                sandboxes.tracktik.base_url().to_owned(),
            ),
            (
                "QUICKBOOKS_BASE_URL",
                sandboxes.quickbooks.base_url().to_owned(),
            ),
        ];
        env.extend(extra_env.iter().map(|(k, v)| (*k, (*v).to_owned())));
        Self::start_process_on(test_db, args, sandboxes, env, log).await
    }

    /// Starts `ledgerbridge <args>` on `test_db` with exactly `env` (which must name the
    /// database, `LEDGERBRIDGE_LISTEN` and how to find the token key), waits for `/healthz`,
    /// and builds an in-process state from the same settings.
    pub async fn start_process_on(
        test_db: TestDb,
        args: &[&str],
        sandboxes: Sandboxes,
        env: Vec<(&'static str, String)>,
        log: &std::path::Path,
    ) -> Self {
        let listen = env
            .iter()
            .find(|(k, _)| *k == "LEDGERBRIDGE_LISTEN")
            .map(|(_, v)| v.clone())
            .expect("the process is told where to listen");
        let mut process = AppProcess::start(args, &env, log);
        let base_url = format!("http://{listen}");
        let started = std::time::Instant::now();
        loop {
            if let Ok(r) = reqwest::get(format!("{base_url}/healthz")).await {
                if r.status().is_success() {
                    break;
                }
            }
            if let Some(status) = process.exited() {
                panic!(
                    "ledgerbridge {args:?} exited ({status}): {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(60),
                "ledgerbridge {args:?} did not answer /healthz"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let lookup: HashMap<&str, String> = env.into_iter().collect();
        let config =
            Config::from_lookup(|name| lookup.get(name).cloned()).expect("process config is valid");
        let state = ledgerbridge::server::build_state(config)
            .await
            .expect("the state builds");
        Self {
            base_url,
            db_url: test_db.url.clone(),
            db: state.db.clone(),
            client: client(),
            state,
            sandboxes: Some(sandboxes),
            _server: tokio::spawn(async {}),
            _test_db: test_db,
            _process: Some(process),
        }
    }
}
