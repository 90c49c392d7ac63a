//! Configuration, read once at start from environment variables (and an optional `.env`).
//!
//! Every variable has a default that works on a developer machine. A value that cannot be used
//! fails at start with an error that names the variable and says what was expected.

use std::net::SocketAddr;
use std::str::FromStr;

use secrecy::SecretString;
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
    /// `LEDGERBRIDGE_METRICS_LISTEN`: where a `worker` process serves `/metrics`, `/healthz`
    /// and `/readyz` (workers make the QuickBooks calls, so their counters live there). Unset:
    /// no listener. `serve` and `web` serve them on `LEDGERBRIDGE_LISTEN`.
    pub metrics_listen: Option<SocketAddr>,
    /// `LEDGERBRIDGE_LOG_FORMAT`: `text` for people, `json` for log collectors.
    pub log_json: bool,
    /// `LEDGERBRIDGE_STAFF_MAX_FAILURES`: failed staff sign-ins allowed per account (and per
    /// client address) in `LEDGERBRIDGE_STAFF_LOCKOUT_MINUTES` before further tries are refused.
    pub staff_max_failures: i64,
    /// `LEDGERBRIDGE_STAFF_LOCKOUT_MINUTES`: the window for the rule above.
    pub staff_lockout_minutes: i64,
    /// `LEDGERBRIDGE_TOKEN_KEYS`: `id:base64key[,…]`, the first encrypts. `None` on a developer
    /// machine means "generate a throw-away key at start" (see [`Config::token_keys_or_ephemeral`]).
    pub token_keys: Option<SecretString>,
    /// `TRACKTIK_CLIENT_ID` / `TRACKTIK_CLIENT_SECRET`: our OAuth app on TrackTik portals.
    pub tracktik_client_id: String,
    /// See `tracktik_client_id`.
    pub tracktik_client_secret: SecretString,
    /// `TRACKTIK_HTTP_PORTALS`: origins allowed over plain http (a local sandbox); every other
    /// portal address must be https.
    pub tracktik_http_portals: Vec<String>,
    /// `QUICKBOOKS_CLIENT_ID` / `QUICKBOOKS_CLIENT_SECRET`: our Intuit app.
    pub quickbooks_client_id: String,
    /// See `quickbooks_client_id`.
    pub quickbooks_client_secret: SecretString,
    /// `QUICKBOOKS_BASE_URL`: unset for Intuit production; `intuit-sandbox` for Intuit's
    /// development companies; any other URL is a single-host stand-in (our sandbox).
    pub quickbooks_base_url: Option<String>,
    /// Set by `ledgerbridge demo` only: what the landing page tells a newcomer.
    pub demo: Option<DemoHints>,
    /// `LEDGERBRIDGE_SMTP_URL`: where e-mail notices go (`smtp://host:port`, `smtps://user:pass@host`);
    /// unset means notices are recorded and logged but not sent.
    pub smtp_url: Option<String>,
    /// `LEDGERBRIDGE_MAIL_FROM`: the sender of notices.
    pub mail_from: String,
}

/// What `demo` tells the newcomer on the landing page.
#[derive(Clone, Debug)]
pub struct DemoHints {
    /// The TrackTik sandbox's address, to type as the portal.
    pub portal_url: String,
    /// Its sign-in.
    pub username: String,
    /// Its password.
    pub password: String,
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

        let token_keys = lookup("LEDGERBRIDGE_TOKEN_KEYS")
            .filter(|v| !v.trim().is_empty())
            .map(SecretString::from);
        if let Some(keys) = &token_keys {
            crate::crypto::TokenCipher::from_spec(keys).map_err(|e| ConfigError {
                variable: "LEDGERBRIDGE_TOKEN_KEYS",
                value: "(hidden)".into(),
                problem: e.to_string(),
            })?;
        }
        let (tracktik_http_portals, var) = get("TRACKTIK_HTTP_PORTALS", "");
        let tracktik_http_portals = tracktik_http_portals
            .split(',')
            .map(|o| o.trim().trim_end_matches('/'))
            .filter(|o| !o.is_empty())
            .map(|o| match reqwest::Url::parse(o) {
                Ok(u) if u.scheme() == "http" && u.host().is_some() => {
                    Ok(u.origin().ascii_serialization())
                }
                _ => Err(invalid(
                    var,
                    o,
                    "expected http:// origins such as http://127.0.0.1:8081, separated by commas",
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (quickbooks_base_url, var) = get("QUICKBOOKS_BASE_URL", "");
        let quickbooks_base_url = match quickbooks_base_url.trim() {
            "" => None,
            "intuit-sandbox" => Some("intuit-sandbox".to_owned()),
            url => match reqwest::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {
                    Some(url.trim_end_matches('/').to_owned())
                }
                _ => {
                    return Err(invalid(
                        var,
                        url,
                        "expected a URL such as http://127.0.0.1:8082, or intuit-sandbox",
                    ));
                }
            },
        };

        let metrics_listen =
            match lookup("LEDGERBRIDGE_METRICS_LISTEN").filter(|v| !v.trim().is_empty()) {
                Some(v) => Some(parse(
                    (v, "LEDGERBRIDGE_METRICS_LISTEN"),
                    "an address and port such as 127.0.0.1:9187, or nothing",
                )?),
                None => None,
            };
        let smtp_url = lookup("LEDGERBRIDGE_SMTP_URL").filter(|v| !v.trim().is_empty());
        if let Some(url) = &smtp_url {
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(invalid(
                    "LEDGERBRIDGE_SMTP_URL",
                    "(hidden)",
                    "expected smtp://host:port or smtps://user:password@host",
                ));
            }
        }
        let (mail_from, var) = get(
            "LEDGERBRIDGE_MAIL_FROM",
            "Ledgerbridge <notices@ledgerbridge.localhost>",
        );
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                var,
                &mail_from,
                "expected an address such as Ledgerbridge <notices@example.com>",
            ));
        }

        Ok(Self {
            demo: None,
            smtp_url,
            mail_from,
            token_keys,
            tracktik_client_id: get("TRACKTIK_CLIENT_ID", "ledgerbridge-demo").0,
            tracktik_client_secret: SecretString::from(
                get("TRACKTIK_CLIENT_SECRET", "demo-secret").0,
            ),
            tracktik_http_portals,
            quickbooks_client_id: get("QUICKBOOKS_CLIENT_ID", "ledgerbridge-demo").0,
            quickbooks_client_secret: SecretString::from(
                get("QUICKBOOKS_CLIENT_SECRET", "demo-secret").0,
            ),
            quickbooks_base_url,
            database_url,
            db_max_connections: positive(get("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "10"))?,
            listen,
            public_url,
            worker_concurrency: positive(get("LEDGERBRIDGE_WORKER_CONCURRENCY", "4"))?,
            metrics_listen,
            log_json,
            staff_max_failures: positive(get("LEDGERBRIDGE_STAFF_MAX_FAILURES", "5"))?,
            staff_lockout_minutes: positive(get("LEDGERBRIDGE_STAFF_LOCKOUT_MINUTES", "15"))?,
        })
    }

    /// Whether cookies must carry `Secure`: whenever people reach us over https.
    pub fn serves_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// Whether the public address is this machine (a developer or demo setup).
    pub fn is_local(&self) -> bool {
        reqwest::Url::parse(&self.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .is_some_and(|h| h == "127.0.0.1" || h == "localhost" || h == "[::1]")
    }

    /// The token cipher: from `LEDGERBRIDGE_TOKEN_KEYS`, or, on a local setup only, a fresh
    /// random key (tokens saved with it cannot be read after a restart). Anywhere else a
    /// missing key is an error naming the variable.
    pub fn token_cipher(&self) -> Result<crate::crypto::TokenCipher, ConfigError> {
        match &self.token_keys {
            Some(keys) => crate::crypto::TokenCipher::from_spec(keys).map_err(|e| ConfigError {
                variable: "LEDGERBRIDGE_TOKEN_KEYS",
                value: "(hidden)".into(),
                problem: e.to_string(),
            }),
            None if self.is_local() => {
                tracing::warn!(
                    "LEDGERBRIDGE_TOKEN_KEYS is not set: using a throw-away key; connections made now will need reconnecting after a restart"
                );
                crate::crypto::TokenCipher::from_spec(&crate::crypto::TokenCipher::generate_spec(
                    "ephemeral",
                ))
                .map_err(|e| invalid("LEDGERBRIDGE_TOKEN_KEYS", "", &e.to_string()))
            }
            None => Err(invalid(
                "LEDGERBRIDGE_TOKEN_KEYS",
                "",
                "required when LEDGERBRIDGE_PUBLIC_URL is not this machine; create one with `ledgerbridge generate-key`",
            )),
        }
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
    fn token_keys_are_checked_at_start_and_required_off_this_machine() {
        let err = config(&[("LEDGERBRIDGE_TOKEN_KEYS", "k1:short")]).unwrap_err();
        assert_eq!(err.variable, "LEDGERBRIDGE_TOKEN_KEYS");
        assert!(
            !err.to_string().contains("short"),
            "the key is never echoed: {err}"
        );
        let local = config(&[]).unwrap();
        assert!(
            local.token_cipher().is_ok(),
            "a developer machine gets a throw-away key"
        );
        let remote = config(&[("LEDGERBRIDGE_PUBLIC_URL", "https://lb.example.com")]).unwrap();
        assert_eq!(
            remote.token_cipher().unwrap_err().variable,
            "LEDGERBRIDGE_TOKEN_KEYS"
        );
        let spec = crate::crypto::TokenCipher::generate_spec("k1");
        let c = config(&[
            ("LEDGERBRIDGE_PUBLIC_URL", "https://lb.example.com"),
            (
                "LEDGERBRIDGE_TOKEN_KEYS",
                secrecy::ExposeSecret::expose_secret(&spec),
            ),
        ])
        .unwrap();
        assert_eq!(c.token_cipher().unwrap().current_key_id(), "k1");
    }

    #[test]
    fn http_portals_and_the_quickbooks_base_url_are_validated() {
        let c = config(&[(
            "TRACKTIK_HTTP_PORTALS",
            "http://127.0.0.1:8081/, http://localhost:9000",
        )])
        .unwrap();
        assert_eq!(
            c.tracktik_http_portals,
            vec!["http://127.0.0.1:8081", "http://localhost:9000"]
        );
        assert_eq!(
            config(&[("TRACKTIK_HTTP_PORTALS", "ftp://x")])
                .unwrap_err()
                .variable,
            "TRACKTIK_HTTP_PORTALS"
        );
        assert_eq!(
            config(&[("QUICKBOOKS_BASE_URL", "nope")])
                .unwrap_err()
                .variable,
            "QUICKBOOKS_BASE_URL"
        );
        assert_eq!(
            config(&[("QUICKBOOKS_BASE_URL", "http://127.0.0.1:8082/")])
                .unwrap()
                .quickbooks_base_url
                .as_deref(),
            Some("http://127.0.0.1:8082")
        );
    }

    #[test]
    fn an_unknown_log_format_is_refused() {
        let err = config(&[("LEDGERBRIDGE_LOG_FORMAT", "xml")]).unwrap_err();
        assert_eq!(err.variable, "LEDGERBRIDGE_LOG_FORMAT");
    }
}
