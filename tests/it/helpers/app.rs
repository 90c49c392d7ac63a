//! The app in process on a random port, with requests and staff sign-in helpers.

use super::*;

/// A running app with its own database.
pub struct TestApp {
    pub base_url: String,
    /// The test database's URL, for processes started by the test.
    pub db_url: String,
    pub db: PgPool,
    pub client: reqwest::Client,
    pub state: ledgerbridge::state::AppState,
    pub sandboxes: Option<Sandboxes>,
    pub(super) _server: tokio::task::JoinHandle<()>,
    pub(super) _test_db: TestDb,
    /// The `ledgerbridge` process serving `base_url`, when the app runs as one.
    pub(super) _process: Option<AppProcess>,
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
}
