//! The test harness: a fresh database per test, the app on a random port, an HTTP client
//! with a cookie jar that does not follow redirects.

use std::collections::HashMap;
use std::str::FromStr;

use ledgerbridge::config::Config;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};

/// The server holding every test database: `DATABASE_URL`'s server, or the local default.
fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| ledgerbridge::config::DEFAULT_DATABASE_URL.to_owned())
}

/// A database made for one test and dropped after it.
pub struct TestDb {
    pub name: String,
    pub url: String,
    /// The server holding it.
    server: String,
}

impl TestDb {
    /// Creates an empty database with a unique name (the app migrates it itself).
    pub async fn new() -> Self {
        Self::new_on(&server_url()).await
    }

    /// [`TestDb::new`] on another server (e.g. a throw-away cluster a test restarts).
    pub async fn new_on(server: &str) -> Self {
        let base = PgConnectOptions::from_str(server).expect("DATABASE_URL is a PostgreSQL URL");
        let name = format!("lb_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = base.clone().database("postgres").connect().await.expect(
            "PostgreSQL must be running on 127.0.0.1:5432 (or at DATABASE_URL) for the tests",
        );
        sqlx::query(&format!("create database \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.ok();
        let url = base.database(&name).to_url_lossy().to_string();
        Self {
            name,
            url,
            server: server.to_owned(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let server = self.server.clone();
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let admin = PgConnectOptions::from_str(&server)
                    .unwrap()
                    .database("postgres");
                if let Ok(mut conn) = admin.connect().await {
                    let _ =
                        sqlx::query(&format!("drop database if exists \"{name}\" with (force)"))
                            .execute(&mut conn)
                            .await;
                }
            });
        })
        .join();
    }
}

/// The two sandboxes, in process, on random ports.
pub struct Sandboxes {
    pub tracktik: ledgerbridge::sandbox::tracktik::Running,
    pub quickbooks: ledgerbridge::sandbox::quickbooks::Running,
}

impl Sandboxes {
    pub async fn start() -> Self {
        use ledgerbridge::sandbox::{quickbooks, tracktik};
        let tracktik = tracktik::start(tracktik::Options {
            seed: tracktik::SeedConfig::small(),
            ..Default::default()
        })
        .await
        .expect("TrackTik sandbox starts");
        let quickbooks = quickbooks::start(quickbooks::Options::default())
            .await
            .expect("QuickBooks sandbox starts");
        Self {
            tracktik,
            quickbooks,
        }
    }

    /// POSTs JSON to a sandbox's control API.
    pub async fn control(base: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let r = reqwest::Client::new()
            .post(format!("{base}{path}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }
}

/// A running app with its own database.
pub struct TestApp {
    pub base_url: String,
    /// The test database's URL, for processes started by the test.
    pub db_url: String,
    pub db: PgPool,
    pub client: reqwest::Client,
    pub state: ledgerbridge::state::AppState,
    pub sandboxes: Option<Sandboxes>,
    _server: tokio::task::JoinHandle<()>,
    _test_db: TestDb,
    /// The `ledgerbridge` process serving `base_url`, when the app runs as one.
    _process: Option<AppProcess>,
}

/// Settings for a test app, on top of the defaults.
#[derive(Default)]
pub struct TestSettings {
    pub env: HashMap<&'static str, String>,
    /// Keep e-mail in the demo's outbox (and serve `/demo/outbox`), as `demo` does.
    pub outbox: bool,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(TestSettings::default()).await
    }

    /// The app wired to both sandboxes, as `demo` does.
    pub async fn spawn_with_sandboxes() -> Self {
        Self::spawn_with_sandboxes_and(TestSettings::default()).await
    }

    /// The app wired to both sandboxes, with extra settings.
    pub async fn spawn_with_sandboxes_and(mut settings: TestSettings) -> Self {
        let sandboxes = Sandboxes::start().await;
        settings.env.insert(
            "TRACKTIK_HTTP_PORTALS",
            sandboxes.tracktik.base_url().to_owned(),
        );
        settings.env.insert(
            "QUICKBOOKS_BASE_URL",
            sandboxes.quickbooks.base_url().to_owned(),
        );
        let mut app = Self::spawn_with(settings).await;
        app.sandboxes = Some(sandboxes);
        app
    }

    pub fn sandboxes(&self) -> &Sandboxes {
        self.sandboxes.as_ref().expect("spawned with sandboxes")
    }

    pub async fn spawn_with(settings: TestSettings) -> Self {
        Self::spawn_on(TestDb::new().await, settings).await
    }

    /// The app on a database made by the caller (e.g. on a throw-away cluster).
    pub async fn spawn_on(test_db: TestDb, settings: TestSettings) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let outbox = settings.outbox;
        let mut env = settings.env;
        env.insert("DATABASE_URL", test_db.url.clone());
        env.insert("LEDGERBRIDGE_LISTEN", addr.to_string());
        env.insert("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "5".into());
        // Tests generate their own token key.
        env.entry("LEDGERBRIDGE_TOKEN_KEYS").or_insert_with(|| {
            secrecy::ExposeSecret::expose_secret(&ledgerbridge::crypto::TokenCipher::generate_spec(
                "test",
            ))
            .to_owned()
        });
        let config =
            Config::from_lookup(|name| env.get(name).cloned()).expect("test config is valid");
        let mut state = ledgerbridge::server::build_state(config)
            .await
            .expect("app starts");
        if outbox {
            state.mailer = state.mailer.clone().with_outbox();
        }
        let server = tokio::spawn({
            let state = state.clone();
            async move {
                ledgerbridge::server::run_web(state, listener, std::future::pending())
                    .await
                    .expect("server runs");
            }
        });
        Self {
            base_url: format!("http://{addr}"),
            db_url: test_db.url.clone(),
            db: state.db.clone(),
            client: client(),
            state,
            sandboxes: None,
            _server: server,
            _test_db: test_db,
            _process: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get_html(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Posts a form with the CSRF token taken from `form_page`.
    pub async fn post_form(
        &self,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let html = self.get_html(form_page).await;
        let token = csrf_token(&html).expect("the page has a CSRF token");
        let mut body: Vec<(&str, &str)> = fields.to_vec();
        body.push(("csrf_token", &token));
        self.client
            .post(self.url(action))
            .form(&body)
            .send()
            .await
            .expect("request sent")
    }

    /// Creates a staff account directly.
    pub async fn add_staff(&self, email: &str, password: &str) {
        ledgerbridge::staff::add(
            &self.db,
            email,
            ledgerbridge::staff::StaffRole::Support,
            password,
        )
        .await
        .expect("staff account saved");
    }

    /// Signs in as a staff member with the `support` role (account created first).
    pub async fn sign_in_staff(&self) -> &'static str {
        self.sign_in_staff_as(ledgerbridge::staff::StaffRole::Support)
            .await
    }

    /// Signs in as a staff member with `role` (account created first).
    pub async fn sign_in_staff_as(&self, role: ledgerbridge::staff::StaffRole) -> &'static str {
        let (email, password) = ("ada@ledgerbridge.test", "a long enough password");
        ledgerbridge::staff::add(&self.db, email, role, password)
            .await
            .expect("staff account saved");
        let response = self
            .post_form(
                "/staff/sign-in",
                "/staff/sign-in",
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(response.status(), 303, "staff sign-in should redirect");
        email
    }
}

/// A client with a cookie jar that does not follow redirects (so tests see each 303).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first `csrf_token` hidden field in a page.
pub fn csrf_token(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `(name, value)` of every `<input>` with a name in `html` (hidden fields of a form).
pub fn inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input").skip(1) {
        let tag = &chunk[..chunk.find('>').unwrap_or(chunk.len())];
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            tag.find(&key).map(|i| {
                let rest = &tag[i + key.len()..];
                unescape(&rest[..rest.find('"').unwrap_or(rest.len())])
            })
        };
        if let Some(name) = attr("name") {
            if attr("type").as_deref() == Some("hidden") {
                out.push((name, attr("value").unwrap_or_default()));
            }
        }
    }
    out
}

pub fn unescape(s: &str) -> String {
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl TestApp {
    /// Signs in through the TrackTik sandbox's sign-in and Allow pages; returns the final
    /// response of our callback.
    pub async fn sign_in_with_tracktik(&self) -> reqwest::Response {
        let tt = self.sandboxes().tracktik.base_url().to_owned();
        let start = self.post_form("/", "/sign-in", &[("portal", &tt)]).await;
        assert_eq!(start.status(), 303, "sign-in sends the browser to TrackTik");
        let authorize = location(&start);
        assert!(authorize.starts_with(&tt), "{authorize}");
        self.tracktik_consent(&authorize, "allow").await
    }

    /// Drives the TrackTik sandbox's pages for `authorize` and answers `decision`; returns our
    /// callback's response.
    pub async fn tracktik_consent(&self, authorize: &str, decision: &str) -> reqwest::Response {
        let tt = self.sandboxes().tracktik.base_url().to_owned();
        self.tracktik_consent_as(
            &tt,
            authorize,
            decision,
            ledgerbridge::sandbox::tracktik::DEMO_USERNAME,
            ledgerbridge::sandbox::tracktik::DEMO_PASSWORD,
        )
        .await
    }

    /// [`TestApp::tracktik_consent`] on the TrackTik sandbox at `tt`, signed in as `username`.
    pub async fn tracktik_consent_as(
        &self,
        tt: &str,
        authorize: &str,
        decision: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let sandbox = client();
        let form = sandbox
            .get(authorize)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut fields = inputs(&form);
        fields.push(("username".into(), username.into()));
        fields.push(("password".into(), password.into()));
        let allow = sandbox
            .post(format!("{tt}/rest/oauth2/authorize"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let allow_html = allow.text().await.unwrap();
        let mut fields = inputs(&allow_html);
        fields.push(("decision".into(), decision.into()));
        let back = sandbox
            .post(format!("{tt}/rest/oauth2/authorize/decision"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert!(
            back.status().is_redirection(),
            "the Allow page redirects back: {}",
            back.status()
        );
        let callback = location(&back);
        assert!(callback.starts_with(&self.base_url), "{callback}");
        self.client.get(callback).send().await.unwrap()
    }

    /// Connects a QuickBooks company through the sandbox's consent page; returns our callback's
    /// response. `reconnect` names an integration to reconnect instead of "Connect new account".
    pub async fn connect_quickbooks(
        &self,
        realm_id: &str,
        reconnect: Option<&str>,
    ) -> reqwest::Response {
        let start = match reconnect {
            Some(id) => {
                self.post_form(
                    &format!("/integrations/{id}"),
                    &format!("/integrations/{id}/reconnect"),
                    &[],
                )
                .await
            }
            None => {
                self.post_form("/integrations", "/integrations/connect", &[])
                    .await
            }
        };
        assert_eq!(start.status(), 303);
        let authorize = location(&start);
        self.quickbooks_consent(&authorize, realm_id, "allow").await
    }

    /// Answers the QuickBooks sandbox's consent page.
    pub async fn quickbooks_consent(
        &self,
        authorize: &str,
        realm_id: &str,
        decision: &str,
    ) -> reqwest::Response {
        let qbo = self.sandboxes().quickbooks.base_url().to_owned();
        assert!(authorize.starts_with(&qbo), "{authorize}");
        let sandbox = client();
        let page = sandbox
            .get(authorize)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut fields = inputs(&page);
        fields.push(("realm_id".into(), realm_id.into()));
        fields.push(("decision".into(), decision.into()));
        let back = sandbox
            .post(format!("{qbo}/connect/oauth2"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert!(
            back.status().is_redirection(),
            "consent redirects back: {}",
            back.status()
        );
        let callback = location(&back);
        assert!(callback.starts_with(&self.base_url), "{callback}");
        self.client.get(callback).send().await.unwrap()
    }
}

/// Every (schema.table) whose rows, as text, contain one of `needles` in the clear or as hex.
pub async fn scan_database_for(db: &PgPool, needles: &[String]) -> Vec<String> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "select table_schema::text, table_name::text from information_schema.tables
         where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert!(
        tables.iter().any(|(_, t)| t == "connection"),
        "the scan sees our tables"
    );
    let hex: Vec<String> = needles
        .iter()
        .map(|n| n.bytes().map(|b| format!("{b:02x}")).collect())
        .collect();
    let mut hits = Vec::new();
    for (schema, table) in tables {
        let rows: Vec<String> =
            sqlx::query_scalar(&format!("select t::text from \"{schema}\".\"{table}\" t"))
                .fetch_all(db)
                .await
                .unwrap();
        for row in rows {
            if needles
                .iter()
                .chain(hex.iter())
                .any(|n| row.contains(n.as_str()))
            {
                hits.push(format!("{schema}.{table}"));
                break;
            }
        }
    }
    hits
}

/// A message as the sink received it: envelope recipients and raw data.
pub type Received = (Vec<String>, String);

/// A local SMTP sink: accepts every message and keeps it.
#[derive(Clone, Default)]
pub struct SmtpSink {
    pub url: String,
    pub messages: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink {
            url: format!("smtp://{}", listener.local_addr().unwrap()),
            ..Default::default()
        };
        let messages = sink.messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let messages = messages.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let (mut to, mut data, mut in_data) = (Vec::new(), String::new(), false);
                    while let Ok(Some(line)) = lines.next_line().await {
                        if in_data {
                            if line == "." {
                                in_data = false;
                                messages
                                    .lock()
                                    .unwrap()
                                    .push((std::mem::take(&mut to), std::mem::take(&mut data)));
                                let _ = write.write_all(b"250 queued\r\n").await;
                            } else {
                                data.push_str(&line);
                                data.push('\n');
                            }
                            continue;
                        }
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO")
                        {
                            b"250 sink\r\n"
                        } else if upper.starts_with("RCPT TO:") {
                            to.push(
                                line[8..]
                                    .trim()
                                    .trim_matches(|c| c == '<' || c == '>')
                                    .to_owned(),
                            );
                            b"250 ok\r\n"
                        } else if upper.starts_with("DATA") {
                            in_data = true;
                            b"354 go ahead\r\n"
                        } else if upper.starts_with("QUIT") {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        } else {
                            b"250 ok\r\n"
                        };
                        let _ = write.write_all(reply).await;
                    }
                });
            }
        });
        sink
    }

    pub fn count(&self) -> usize {
        self.messages.lock().unwrap().len()
    }
}

impl Sandboxes {
    /// Both sandboxes with the given options (a bigger portal, QBO limits lifted, …).
    pub async fn start_with(
        tracktik: ledgerbridge::sandbox::tracktik::Options,
        quickbooks: ledgerbridge::sandbox::quickbooks::Options,
    ) -> Self {
        Self {
            tracktik: ledgerbridge::sandbox::tracktik::start(tracktik)
                .await
                .expect("TrackTik sandbox starts"),
            quickbooks: ledgerbridge::sandbox::quickbooks::start(quickbooks)
                .await
                .expect("QuickBooks sandbox starts"),
        }
    }
}

/// A new token-key specification (`id:base64`), for a test app and the processes it starts to
/// share.
pub fn token_key_spec() -> String {
    secrecy::ExposeSecret::expose_secret(&ledgerbridge::crypto::TokenCipher::generate_spec("test"))
        .to_owned()
}

impl TestApp {
    /// The app on `db`, wired to already started sandboxes, with extra settings.
    pub async fn spawn_with_these_sandboxes(
        db: TestDb,
        sandboxes: Sandboxes,
        mut settings: TestSettings,
    ) -> Self {
        settings.env.insert(
            "TRACKTIK_HTTP_PORTALS",
            sandboxes.tracktik.base_url().to_owned(),
        );
        settings.env.insert(
            "QUICKBOOKS_BASE_URL",
            sandboxes.quickbooks.base_url().to_owned(),
        );
        let mut app = Self::spawn_on(db, settings).await;
        app.sandboxes = Some(sandboxes);
        app
    }

    /// Signs in with TrackTik, connects `realm` (multicurrency turned on first: the seeded
    /// portals bill in CAD and USD), runs Express setup through the library and activates the
    /// integration with `start_date` (UTC, cutoff 03:00, pay runs on).
    pub async fn activate_integration(
        &self,
        realm: &str,
        start_date: chrono::NaiveDate,
    ) -> ActiveIntegration {
        Sandboxes::control(
            self.sandboxes().quickbooks.base_url(),
            &format!("/__sandbox/companies/{realm}/settings"),
            serde_json::json!({"multicurrency": true}),
        )
        .await;
        assert_eq!(self.sign_in_with_tracktik().await.status(), 303);
        assert_eq!(self.connect_quickbooks(realm, None).await.status(), 303);
        let (tenant_id, integration_id) =
            sqlx::query_as("select tenant_id, integration_id from integration where realm_id = $1")
                .bind(realm)
                .fetch_one(&self.db)
                .await
                .unwrap();
        let active = ActiveIntegration {
            tenant_id,
            integration_id,
            realm: realm.to_owned(),
        };
        active.express(&self.state, start_date).await;
        active
    }
}

/// A connected, set-up, active integration.
pub struct ActiveIntegration {
    pub tenant_id: ledgerbridge::ids::TenantId,
    pub integration_id: ledgerbridge::ids::IntegrationId,
    pub realm: String,
}

impl ActiveIntegration {
    /// A QBO access token (refreshed when needed, single-flight with every other process).
    pub async fn qbo_token(&self, state: &ledgerbridge::state::AppState) -> secrecy::SecretString {
        let conn = ledgerbridge::connections::db::quickbooks_for_integration(
            &state.db,
            self.tenant_id,
            self.integration_id,
        )
        .await
        .unwrap()
        .unwrap();
        ledgerbridge::connections::access_token(state, self.tenant_id, conn.connection_id)
            .await
            .unwrap()
    }

    /// The TrackTik portal and an access token.
    pub async fn tracktik(
        &self,
        state: &ledgerbridge::state::AppState,
    ) -> (
        ledgerbridge::providers::tracktik::Portal,
        ledgerbridge::providers::tracktik::AccessToken,
    ) {
        let conn = ledgerbridge::connections::db::tracktik_for_tenant(&state.db, self.tenant_id)
            .await
            .unwrap()
            .unwrap();
        let token =
            ledgerbridge::connections::access_token(state, self.tenant_id, conn.connection_id)
                .await
                .unwrap();
        (
            ledgerbridge::providers::tracktik::Portal::new(&conn.external_id).unwrap(),
            ledgerbridge::providers::tracktik::AccessToken::new(
                secrecy::ExposeSecret::expose_secret(&token).to_owned(),
            ),
        )
    }

    /// Express setup's defaults in QBO, then settings saved and the integration made active.
    async fn express(&self, state: &ledgerbridge::state::AppState, start_date: chrono::NaiveDate) {
        use ledgerbridge::integrations::settings::{QboRef, Settings, TaxTarget};
        use ledgerbridge::mapping::express::{ExpressOptions, TaxClassInput, ensure_defaults};
        let (portal, tt) = self.tracktik(state).await;
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
        let token = self.qbo_token(state).await;
        let co = ledgerbridge::providers::quickbooks::Company {
            realm_id: &self.realm,
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
        settings.schedule.cutoff = chrono::NaiveTime::from_hms_opt(3, 0, 0).unwrap();
        sqlx::query(
            "update integration set settings = $2, state = 'active' where integration_id = $1",
        )
        .bind(self.integration_id)
        .bind(sqlx::types::Json(&settings))
        .execute(&state.db)
        .await
        .unwrap();
    }
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

/// The tenant and integration of a connected QuickBooks company.
pub async fn integration_of(db: &PgPool, realm_id: &str) -> (uuid::Uuid, uuid::Uuid) {
    sqlx::query_as("select tenant_id, integration_id from integration where realm_id = $1")
        .bind(realm_id)
        .fetch_one(db)
        .await
        .unwrap()
}

/// Signs in through the TrackTik sandbox, connects `realm` (multicurrency on: the seeded
/// portal bills in CAD and USD), saves Express setup's defaults with payroll on, the sync
/// `start_date` and time zone `zone`, and activates the integration, as a customer who went
/// through the wizard would. Returns (tenant, integration).
pub async fn activated_integration(
    app: &TestApp,
    realm: &str,
    start_date: chrono::NaiveDate,
    zone: &str,
) -> (
    ledgerbridge::ids::TenantId,
    ledgerbridge::ids::IntegrationId,
) {
    use ledgerbridge::connections;
    use ledgerbridge::ids::{IntegrationId, TenantId};
    use ledgerbridge::integrations::settings::{QboRef, Settings, TaxTarget};
    use ledgerbridge::mapping::express::{ExpressOptions, TaxClassInput, ensure_defaults};
    use ledgerbridge::providers::quickbooks::Company;
    use ledgerbridge::providers::tracktik::{AccessToken, Portal};
    use secrecy::ExposeSecret;

    Sandboxes::control(
        app.sandboxes().quickbooks.base_url(),
        &format!("/__sandbox/companies/{realm}/settings"),
        serde_json::json!({"multicurrency": true}),
    )
    .await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    assert_eq!(app.connect_quickbooks(realm, None).await.status(), 303);
    let (tenant, integration) = integration_of(&app.db, realm).await;
    let (tenant_id, integration_id) = (TenantId(tenant), IntegrationId(integration));
    let state = &app.state;

    let tt_conn = connections::db::tracktik_for_tenant(&state.db, tenant_id)
        .await
        .unwrap()
        .unwrap();
    let tt_token = connections::access_token(state, tenant_id, tt_conn.connection_id)
        .await
        .unwrap();
    let portal = Portal::new(&tt_conn.external_id).unwrap();
    let tt = AccessToken::new(tt_token.expose_secret().to_owned());
    let inputs: Vec<TaxClassInput> = state
        .providers
        .tracktik
        .tax_classes(&portal, &tt)
        .await
        .unwrap()
        .iter()
        .map(|c| TaxClassInput {
            id: c.id,
            name: c.name.clone().unwrap_or_default(),
        })
        .collect();
    let qbo_conn =
        connections::db::quickbooks_for_integration(&state.db, tenant_id, integration_id)
            .await
            .unwrap()
            .unwrap();
    let token = connections::access_token(state, tenant_id, qbo_conn.connection_id)
        .await
        .unwrap();
    let co = Company {
        realm_id: realm,
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
    settings.schedule.time_zone = Some(zone.into());
    sqlx::query("update integration set settings = $2, state = 'active' where integration_id = $1")
        .bind(integration_id)
        .bind(sqlx::types::Json(&settings))
        .execute(&state.db)
        .await
        .unwrap();
    (tenant_id, integration_id)
}
