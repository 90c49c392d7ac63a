//! Configuration, read once at start from environment variables (and an optional `.env`).
//!
//! Every variable has a default that works on a developer machine. A value that cannot be used
//! fails at start with an error that names the variable and says what was expected.

use std::net::SocketAddr;
use std::str::FromStr;

use thiserror::Error;

/// A configuration value that could not be used.
#[derive(Debug, Error)]
#[error("{variable}: {problem} (got {value:?})")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// The value as given.
    pub value: String,
    /// What was expected instead.
    pub problem: String,
}

/// Where the product's settings come from and what they are.
#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: the PostgreSQL database. Created at start when it does not exist.
    pub database_url: String,
    /// `LEDGERBRIDGE_DB_MAX_CONNECTIONS`: pool size per process.
    pub db_max_connections: u32,
    /// `LEDGERBRIDGE_LISTEN`: address the web server binds.
    pub listen: SocketAddr,
    /// `LEDGERBRIDGE_PUBLIC_URL`: the address people use to reach us; links in pages and
    /// notices, OAuth redirect URIs, and the origin that cross-site checks compare against.
    pub public_url: String,
    /// `LEDGERBRIDGE_WORKER_CONCURRENCY`: jobs one worker process runs at once.
    pub worker_concurrency: usize,
    /// `LEDGERBRIDGE_LOG_FORMAT`: `text` for people, `json` for log collectors.
    pub log_json: bool,
    /// `LEDGERBRIDGE_STAFF_MAX_FAILURES`: failed staff sign-ins allowed per account (and per
    /// client address) in `LEDGERBRIDGE_STAFF_LOCKOUT_MINUTES` before further tries are refused.
    pub staff_max_failures: i64,
    /// `LEDGERBRIDGE_STAFF_LOCKOUT_MINUTES`: the window for the rule above.
    pub staff_lockout_minutes: i64,
}

/// The default database for a developer machine.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/ledgerbridge";

impl Config {
    /// Reads the process environment (after loading `.env` if there is one).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass their own variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str, default: &str| -> (String, &'static str) {
            (
                lookup(name)
                    .filter(|v| !v.trim().is_empty())
                    .unwrap_or_else(|| default.to_owned()),
                name,
            )
        };

        let (database_url, var) = get("DATABASE_URL", DEFAULT_DATABASE_URL);
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(invalid(
                var,
                &database_url,
                "expected a postgres:// URL, e.g. postgres://postgres@127.0.0.1:5432/ledgerbridge",
            ));
        }

        let listen: SocketAddr = parse(
            get("LEDGERBRIDGE_LISTEN", "127.0.0.1:8080"),
            "an address and port such as 127.0.0.1:8080",
        )?;
        let (public_url, var) = get("LEDGERBRIDGE_PUBLIC_URL", &format!("http://{listen}"));
        let public_url = public_url.trim_end_matches('/').to_owned();
        match reqwest::Url::parse(&public_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => {
                return Err(invalid(
                    var,
                    &public_url,
                    "expected an http:// or https:// URL such as https://ledgerbridge.example.com",
                ));
            }
        }

        let (log_format, var) = get("LEDGERBRIDGE_LOG_FORMAT", "text");
        let log_json = match log_format.as_str() {
            "text" => false,
            "json" => true,
            other => return Err(invalid(var, other, "expected `text` or `json`")),
        };

        Ok(Self {
            database_url,
            db_max_connections: positive(get("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "10"))?,
            listen,
            public_url,
            worker_concurrency: positive(get("LEDGERBRIDGE_WORKER_CONCURRENCY", "4"))?,
            log_json,
            staff_max_failures: positive(get("LEDGERBRIDGE_STAFF_MAX_FAILURES", "5"))?,
            staff_lockout_minutes: positive(get("LEDGERBRIDGE_STAFF_LOCKOUT_MINUTES", "15"))?,
        })
    }

    /// Whether cookies must carry `Secure`: whenever people reach us over https.
    pub fn serves_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

fn invalid(variable: &'static str, value: &str, problem: &str) -> ConfigError {
    ConfigError {
        variable,
        value: value.to_owned(),
        problem: problem.to_owned(),
    }
}

fn parse<T: FromStr>(
    (value, var): (String, &'static str),
    expected: &str,
) -> Result<T, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(var, &value, &format!("expected {expected}")))
}

fn positive<T: FromStr + PartialOrd + Default>(
    (value, var): (String, &'static str),
) -> Result<T, ConfigError> {
    match value.trim().parse::<T>() {
        Ok(n) if n > T::default() => Ok(n),
        _ => Err(invalid(
            var,
            &value,
            "expected a whole number greater than zero",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_work_on_a_developer_machine() {
        let c = config(&[]).expect("defaults are valid");
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert!(!c.serves_https());
    }

    #[test]
    fn a_bad_listen_address_names_the_variable() {
        let err = config(&[("LEDGERBRIDGE_LISTEN", "localhost")]).unwrap_err();
        assert_eq!(err.variable, "LEDGERBRIDGE_LISTEN");
        assert!(err.to_string().contains("LEDGERBRIDGE_LISTEN"), "{err}");
    }

    #[test]
    fn a_non_postgres_database_url_is_refused() {
        let err = config(&[("DATABASE_URL", "mysql://root@localhost/db")]).unwrap_err();
        assert_eq!(err.variable, "DATABASE_URL");
    }

    #[test]
    fn zero_workers_is_refused() {
        let err = config(&[("LEDGERBRIDGE_WORKER_CONCURRENCY", "0")]).unwrap_err();
        assert_eq!(err.variable, "LEDGERBRIDGE_WORKER_CONCURRENCY");
        let err = config(&[("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "ten")]).unwrap_err();
        assert_eq!(err.variable, "LEDGERBRIDGE_DB_MAX_CONNECTIONS");
    }

    #[test]
    fn an_https_public_url_turns_on_secure_cookies() {
        let c = config(&[("LEDGERBRIDGE_PUBLIC_URL", "https://lb.example.com/")]).unwrap();
        assert_eq!(c.public_url, "https://lb.example.com");
        assert!(c.serves_https());
        let err = config(&[("LEDGERBRIDGE_PUBLIC_URL", "lb.example.com")]).unwrap_err();
        assert_eq!(err.variable, "LEDGERBRIDGE_PUBLIC_URL");
    }

    #[test]
    fn an_unknown_log_format_is_refused() {
        let err = config(&[("LEDGERBRIDGE_LOG_FORMAT", "xml")]).unwrap_err();
        assert_eq!(err.variable, "LEDGERBRIDGE_LOG_FORMAT");
    }
}
