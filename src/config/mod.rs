//! Configuration, read once at start from environment variables (and an optional `.env`).
//!
//! Every variable has a default that works on a developer machine. A value that cannot be used
//! fails at start with an error that names the variable and says what was expected. When
//! `LEDGERBRIDGE_PUBLIC_URL` is not this machine, [`Config::check_production`] also refuses the
//! demo's secrets and development-only settings (see `production.rs`).

mod lists;
mod production;
pub mod sizing;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
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
    /// `LEDGERBRIDGE_DB_MAX_CONNECTIONS`: pool size per process. Unset: the worker
    /// concurrency plus a quarter (at least 8 more), so runs never wait for a connection (see
    /// [`sizing`]).
    pub db_max_connections: u32,
    /// `LEDGERBRIDGE_LISTEN`: address the web server binds.
    pub listen: SocketAddr,
    /// `LEDGERBRIDGE_PUBLIC_URL`: the address people use to reach us; links in pages and
    /// notices, OAuth redirect URIs, and the origin that cross-site checks compare against.
    pub public_url: String,
    /// `LEDGERBRIDGE_WORKER_CONCURRENCY`: sync jobs one worker process runs at once (64 by
    /// default: runs wait on the network far more than they compute).
    pub worker_concurrency: usize,
    /// `LEDGERBRIDGE_QUICKBOOKS_TIMEOUT_SECONDS`: how long one QuickBooks request may take
    /// before the client gives up on it (and tries again under the same request id). A send
    /// given up on is treated as possibly in flight for this long.
    pub quickbooks_timeout_seconds: u64,
    /// `LEDGERBRIDGE_METRICS_LISTEN`: the operations listener, where every process (`serve`,
    /// `web`, `worker`) serves `/metrics`, `/healthz` and `/readyz`. Unset: no such listener
    /// (`web` and `serve` still answer `/healthz` and `/readyz` on `LEDGERBRIDGE_LISTEN`).
    pub metrics_listen: Option<SocketAddr>,
    /// `LEDGERBRIDGE_LOG_FORMAT`: `text` for people, `json` for log collectors.
    pub log_json: bool,
    /// `LEDGERBRIDGE_STAFF_MAX_FAILURES`: failed staff sign-ins allowed for one account from one
    /// client address before each further try must wait (30 s, doubling each time). A client
    /// address gets four times as many across all accounts.
    pub staff_max_failures: i64,
    /// `LEDGERBRIDGE_STAFF_LOCKOUT_MINUTES`: the longest wait the doubling reaches.
    pub staff_lockout_minutes: i64,
    /// `LEDGERBRIDGE_STAFF_HASH_CONCURRENCY`: staff password checks run at once (each holds
    /// about 19 MiB while it runs); sign-ins beyond it are answered 429 at once.
    pub staff_hash_concurrency: usize,
    /// `LEDGERBRIDGE_TRUSTED_PROXIES`: addresses or networks (`10.0.0.0/8`) of the reverse
    /// proxies in front of us. Only a request from one of them may name the client in
    /// `X-Forwarded-For`; everyone else is known by their socket address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `LEDGERBRIDGE_SIGN_IN_PER_MINUTE`: TrackTik sign-ins started per client address per
    /// minute.
    pub sign_in_per_minute: u32,
    /// `LEDGERBRIDGE_MANUAL_RUNS_PER_HOUR`: manual runs (Sync now, Retry, Back-sync) one tenant
    /// may queue per hour.
    pub manual_runs_per_hour: u32,
    /// `LEDGERBRIDGE_METRICS_ON_WEB`: also serve `/metrics` on `LEDGERBRIDGE_LISTEN`. Off by
    /// default: metrics belong on the operations listener (`LEDGERBRIDGE_METRICS_LISTEN`).
    pub metrics_on_web: bool,
    /// `LEDGERBRIDGE_TOKEN_KEYS`: `id:base64key[,…]`, the first encrypts. `None` on a developer
    /// machine means "generate a throw-away key at start" (see [`Config::token_cipher`]).
    pub token_keys: Option<SecretString>,
    /// `LEDGERBRIDGE_TOKEN_KEYS_FILE`: a file holding the same as `LEDGERBRIDGE_TOKEN_KEYS`
    /// (written once by `ledgerbridge init-keys`), so processes started apart share one key.
    pub token_keys_file: Option<PathBuf>,
    /// `TRACKTIK_CLIENT_ID` / `TRACKTIK_CLIENT_SECRET`: our OAuth app on TrackTik portals.
    pub tracktik_client_id: String,
    /// See `tracktik_client_id`.
    pub tracktik_client_secret: SecretString,
    /// `TRACKTIK_PORTAL_DOMAINS`: the domains a portal address must end with (TrackTik's
    /// own by default). Nothing is ever sent to a host outside them.
    pub tracktik_portal_domains: Vec<String>,
    /// `TRACKTIK_HTTP_PORTALS`: development only. Origins (a local sandbox) allowed over plain
    /// http, outside the domains above, and on loopback or private addresses. Must be empty
    /// in production.
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

/// TrackTik's own domains: portals are `<name>.tracktik.com` or `<name>.staffr.us` and the like
/// (`/work/shared/spec/tracktik-api.md`, section 1).
pub const DEFAULT_PORTAL_DOMAINS: &str = "tracktik.com,staffr.us,staffr.net,staffr.com";

/// The OAuth client secret the demo and the sandboxes use; never valid in production.
pub const DEMO_CLIENT_SECRET: &str = "demo-secret";

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
        let token_keys_file = lookup("LEDGERBRIDGE_TOKEN_KEYS_FILE")
            .filter(|v| !v.trim().is_empty())
            .map(|v| PathBuf::from(v.trim()));
        if token_keys.is_some() && token_keys_file.is_some() {
            return Err(invalid(
                "LEDGERBRIDGE_TOKEN_KEYS_FILE",
                "(hidden)",
                "set LEDGERBRIDGE_TOKEN_KEYS or LEDGERBRIDGE_TOKEN_KEYS_FILE, not both",
            ));
        }
        if let Some(keys) = &token_keys {
            crate::crypto::TokenCipher::from_spec(keys).map_err(|e| ConfigError {
                variable: "LEDGERBRIDGE_TOKEN_KEYS",
                value: "(hidden)".into(),
                problem: e.to_string(),
            })?;
        }
        let tracktik_http_portals = lists::http_portals(get("TRACKTIK_HTTP_PORTALS", ""))?;
        let tracktik_portal_domains =
            lists::portal_domains(get("TRACKTIK_PORTAL_DOMAINS", DEFAULT_PORTAL_DOMAINS))?;
        let trusted_proxies = lists::networks(get("LEDGERBRIDGE_TRUSTED_PROXIES", ""))?;
        let (metrics_on_web, var) = get("LEDGERBRIDGE_METRICS_ON_WEB", "false");
        let metrics_on_web = match metrics_on_web.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            other => return Err(invalid(var, other, "expected true or false")),
        };
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

        let set = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (v, name))
        };
        let (worker_concurrency, db_max_connections) = sizing::read(
            set("LEDGERBRIDGE_WORKER_CONCURRENCY"),
            set("LEDGERBRIDGE_DB_MAX_CONNECTIONS"),
        )?;

        Ok(Self {
            demo: None,
            smtp_url,
            mail_from,
            token_keys,
            token_keys_file,
            tracktik_client_id: get("TRACKTIK_CLIENT_ID", "ledgerbridge-demo").0,
            tracktik_client_secret: SecretString::from(
                get("TRACKTIK_CLIENT_SECRET", DEMO_CLIENT_SECRET).0,
            ),
            tracktik_http_portals,
            tracktik_portal_domains,
            quickbooks_client_id: get("QUICKBOOKS_CLIENT_ID", "ledgerbridge-demo").0,
            quickbooks_client_secret: SecretString::from(
                get("QUICKBOOKS_CLIENT_SECRET", DEMO_CLIENT_SECRET).0,
            ),
            quickbooks_base_url,
            database_url,
            db_max_connections,
            listen,
            public_url,
            worker_concurrency,
            quickbooks_timeout_seconds: positive(get(
                "LEDGERBRIDGE_QUICKBOOKS_TIMEOUT_SECONDS",
                "120",
            ))?,
            metrics_listen,
            log_json,
            staff_max_failures: positive(get("LEDGERBRIDGE_STAFF_MAX_FAILURES", "5"))?,
            staff_lockout_minutes: positive(get("LEDGERBRIDGE_STAFF_LOCKOUT_MINUTES", "15"))?,
            staff_hash_concurrency: positive(get("LEDGERBRIDGE_STAFF_HASH_CONCURRENCY", "2"))?,
            trusted_proxies,
            sign_in_per_minute: positive(get("LEDGERBRIDGE_SIGN_IN_PER_MINUTE", "10"))?,
            manual_runs_per_hour: positive(get("LEDGERBRIDGE_MANUAL_RUNS_PER_HOUR", "30"))?,
            metrics_on_web,
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
        if let Some(path) = &self.token_keys_file {
            let keys = crate::crypto::read_key_file(path).map_err(|problem| ConfigError {
                variable: "LEDGERBRIDGE_TOKEN_KEYS_FILE",
                value: path.display().to_string(),
                problem,
            })?;
            return crate::crypto::TokenCipher::from_spec(&keys).map_err(|e| ConfigError {
                variable: "LEDGERBRIDGE_TOKEN_KEYS_FILE",
                value: path.display().to_string(),
                problem: e.to_string(),
            });
        }
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
                "required when LEDGERBRIDGE_PUBLIC_URL is not this machine; create one with `ledgerbridge generate-key` (or set LEDGERBRIDGE_TOKEN_KEYS_FILE and run `ledgerbridge init-keys`)",
            )),
        }
    }
}

pub(crate) fn invalid(variable: &'static str, value: &str, problem: &str) -> ConfigError {
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
