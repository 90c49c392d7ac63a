//! The test harness: a fresh database per test, the app on a random port, an HTTP client
//! with a cookie jar that does not follow redirects.

use std::collections::HashMap;
use std::str::FromStr;

use ledgerbridge::config::Config;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};

mod app;
mod browser;
mod db;
mod integration;
mod process;
mod stand_ins;

pub use app::{TestApp, TestSettings};
pub use browser::{client, csrf_token, inputs, location, unescape};
pub use db::{TestDb, integration_of, scan_database_for};
pub use integration::{ActiveIntegration, activated_integration};
pub use process::{AppProcess, TempDir, token_key_spec};
pub use stand_ins::{Sandboxes, SmtpSink};
