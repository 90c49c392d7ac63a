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
}

impl TestDb {
    /// Creates an empty database with a unique name (the app migrates it itself).
    pub async fn new() -> Self {
        let base =
            PgConnectOptions::from_str(&server_url()).expect("DATABASE_URL is a PostgreSQL URL");
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
        Self { name, url }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let server = server_url();
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

/// A running app with its own database.
pub struct TestApp {
    pub base_url: String,
    /// The test database's URL, for processes started by the test.
    pub db_url: String,
    pub db: PgPool,
    pub client: reqwest::Client,
    _server: tokio::task::JoinHandle<()>,
    _test_db: TestDb,
}

/// Settings for a test app, on top of the defaults.
#[derive(Default)]
pub struct TestSettings {
    pub env: HashMap<&'static str, String>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(TestSettings::default()).await
    }

    pub async fn spawn_with(settings: TestSettings) -> Self {
        let test_db = TestDb::new().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut env = settings.env;
        env.insert("DATABASE_URL", test_db.url.clone());
        env.insert("LEDGERBRIDGE_LISTEN", addr.to_string());
        env.insert("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "5".into());
        let config =
            Config::from_lookup(|name| env.get(name).cloned()).expect("test config is valid");
        let state = ledgerbridge::server::build_state(config)
            .await
            .expect("app starts");
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
            _server: server,
            _test_db: test_db,
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

    /// Signs in as a staff member (account created first).
    pub async fn sign_in_staff(&self) -> &'static str {
        let (email, password) = ("ada@ledgerbridge.test", "a long enough password");
        self.add_staff(email, password).await;
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
