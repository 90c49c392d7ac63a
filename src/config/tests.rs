//! Unit tests of reading the configuration.

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

const SECRETS: [(&str, &str); 3] = [
    ("LEDGERBRIDGE_PUBLIC_URL", "https://lb.example.com"),
    ("TRACKTIK_CLIENT_SECRET", "tt-production-secret"),
    ("QUICKBOOKS_CLIENT_SECRET", "qbo-production-secret"),
];

fn production(extra: &[(&str, &str)]) -> Result<(), ConfigError> {
    let mut vars = SECRETS.to_vec();
    vars.extend_from_slice(extra);
    config(&vars).unwrap().check_production()
}

#[test]
fn a_local_setup_passes_the_production_checks_with_the_demo_secrets() {
    let c = config(&[("TRACKTIK_HTTP_PORTALS", "http://127.0.0.1:8081")]).unwrap();
    assert!(c.check_production().is_ok());
}

#[test]
fn off_this_machine_the_demo_secrets_are_refused_naming_the_variable() {
    let remote = config(&[("LEDGERBRIDGE_PUBLIC_URL", "https://lb.example.com")]).unwrap();
    let err = remote.check_production().unwrap_err();
    assert_eq!(err.variable, "TRACKTIK_CLIENT_SECRET");
    assert!(!err.to_string().contains("demo-secret"), "{err}");
    let err = config(&[
        ("LEDGERBRIDGE_PUBLIC_URL", "https://lb.example.com"),
        ("TRACKTIK_CLIENT_SECRET", "tt-production-secret"),
        ("QUICKBOOKS_CLIENT_SECRET", "demo-secret"),
    ])
    .unwrap()
    .check_production()
    .unwrap_err();
    assert_eq!(err.variable, "QUICKBOOKS_CLIENT_SECRET");
    assert!(production(&[]).is_ok(), "own secrets pass");
}

#[test]
fn off_this_machine_providers_must_be_https_and_there_are_no_http_portals() {
    let err = production(&[("QUICKBOOKS_BASE_URL", "http://127.0.0.1:8082")]).unwrap_err();
    assert_eq!(err.variable, "QUICKBOOKS_BASE_URL");
    assert!(production(&[("QUICKBOOKS_BASE_URL", "intuit-sandbox")]).is_ok());
    assert!(production(&[("QUICKBOOKS_BASE_URL", "https://qbo.example.com")]).is_ok());
    let err = production(&[("TRACKTIK_HTTP_PORTALS", "http://127.0.0.1:8081")]).unwrap_err();
    assert_eq!(err.variable, "TRACKTIK_HTTP_PORTALS");
}

#[test]
fn portal_domains_default_to_tracktiks_own_and_are_validated() {
    let c = config(&[]).unwrap();
    assert_eq!(
        c.tracktik_portal_domains,
        vec!["tracktik.com", "staffr.us", "staffr.net", "staffr.com"]
    );
    let c = config(&[("TRACKTIK_PORTAL_DOMAINS", " .TrackTik.com. , example.org")]).unwrap();
    assert_eq!(
        c.tracktik_portal_domains,
        vec!["tracktik.com", "example.org"]
    );
    for bad in ["https://tracktik.com", "tracktik.com:443", "a..b", "-x.com"] {
        let err = config(&[("TRACKTIK_PORTAL_DOMAINS", bad)]).unwrap_err();
        assert_eq!(err.variable, "TRACKTIK_PORTAL_DOMAINS", "{bad}");
    }
}

#[test]
fn trusted_proxies_take_addresses_and_networks() {
    let c = config(&[(
        "LEDGERBRIDGE_TRUSTED_PROXIES",
        "10.0.0.7, 192.168.0.0/16, ::1",
    )])
    .unwrap();
    let shown: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
    assert_eq!(shown, vec!["10.0.0.7/32", "192.168.0.0/16", "::1/128"]);
    assert!(config(&[]).unwrap().trusted_proxies.is_empty());
    let err = config(&[("LEDGERBRIDGE_TRUSTED_PROXIES", "proxy.local")]).unwrap_err();
    assert_eq!(err.variable, "LEDGERBRIDGE_TRUSTED_PROXIES");
}

#[test]
fn metrics_stay_off_the_web_port_unless_asked_for() {
    assert!(!config(&[]).unwrap().metrics_on_web);
    assert!(
        config(&[("LEDGERBRIDGE_METRICS_ON_WEB", "true")])
            .unwrap()
            .metrics_on_web
    );
    let err = config(&[("LEDGERBRIDGE_METRICS_ON_WEB", "sometimes")]).unwrap_err();
    assert_eq!(err.variable, "LEDGERBRIDGE_METRICS_ON_WEB");
}

#[test]
fn the_token_keys_can_come_from_a_file_but_not_from_both_places() {
    let dir = std::env::temp_dir().join(format!("lb-keys-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token-keys");
    let spec = crate::crypto::TokenCipher::generate_spec("filed");
    let path_text = path.to_str().unwrap().to_owned();
    let both = config(&[
        (
            "LEDGERBRIDGE_TOKEN_KEYS",
            secrecy::ExposeSecret::expose_secret(&spec),
        ),
        ("LEDGERBRIDGE_TOKEN_KEYS_FILE", &path_text),
    ])
    .unwrap_err();
    assert_eq!(both.variable, "LEDGERBRIDGE_TOKEN_KEYS_FILE");
    let c = config(&[
        ("LEDGERBRIDGE_PUBLIC_URL", "https://lb.example.com"),
        ("LEDGERBRIDGE_TOKEN_KEYS_FILE", &path_text),
    ])
    .unwrap();
    let missing = c.token_cipher().unwrap_err();
    assert_eq!(missing.variable, "LEDGERBRIDGE_TOKEN_KEYS_FILE");
    assert!(missing.problem.contains("init-keys"), "{missing}");
    std::fs::write(
        &path,
        format!("{}\n", secrecy::ExposeSecret::expose_secret(&spec)),
    )
    .unwrap();
    assert_eq!(c.token_cipher().unwrap().current_key_id(), "filed");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn by_default_a_worker_runs_many_syncs_with_a_pool_larger_than_them() {
    let c = config(&[]).unwrap();
    assert_eq!(c.worker_concurrency, 64);
    assert_eq!(c.db_max_connections, 80);
}

#[test]
fn the_pool_follows_the_concurrency_and_the_concurrency_fits_the_pool() {
    let c = config(&[("LEDGERBRIDGE_WORKER_CONCURRENCY", "200")]).unwrap();
    assert_eq!((c.worker_concurrency, c.db_max_connections), (200, 250));
    let c = config(&[("LEDGERBRIDGE_WORKER_CONCURRENCY", "4")]).unwrap();
    assert_eq!((c.worker_concurrency, c.db_max_connections), (4, 12));
    let c = config(&[("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "10")]).unwrap();
    assert_eq!((c.worker_concurrency, c.db_max_connections), (8, 10));
    let c = config(&[("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "2")]).unwrap();
    assert_eq!((c.worker_concurrency, c.db_max_connections), (1, 2));
}

#[test]
fn a_pool_smaller_than_the_runs_it_serves_is_refused() {
    let err = config(&[
        ("LEDGERBRIDGE_WORKER_CONCURRENCY", "16"),
        ("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "10"),
    ])
    .unwrap_err();
    assert_eq!(err.variable, "LEDGERBRIDGE_DB_MAX_CONNECTIONS");
    assert!(err.to_string().contains("18"), "{err}");
    let c = config(&[
        ("LEDGERBRIDGE_WORKER_CONCURRENCY", "16"),
        ("LEDGERBRIDGE_DB_MAX_CONNECTIONS", "18"),
    ])
    .unwrap();
    assert_eq!((c.worker_concurrency, c.db_max_connections), (16, 18));
}
