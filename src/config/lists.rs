//! Comma-separated settings: development portals, TrackTik's domains, trusted proxies.

use super::{ConfigError, invalid};

fn entries(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|e| !e.is_empty())
}

/// `TRACKTIK_HTTP_PORTALS`: http origins such as `http://127.0.0.1:8081`.
pub(super) fn http_portals(
    (value, var): (String, &'static str),
) -> Result<Vec<String>, ConfigError> {
    entries(&value)
        .map(|o| o.trim_end_matches('/'))
        .map(|o| match reqwest::Url::parse(o) {
            Ok(u) if u.scheme() == "http" && u.host().is_some() && u.username().is_empty() => {
                Ok(u.origin().ascii_serialization())
            }
            _ => Err(invalid(
                var,
                o,
                "expected http:// origins such as http://127.0.0.1:8081, separated by commas",
            )),
        })
        .collect()
}

/// `TRACKTIK_PORTAL_DOMAINS`: domain names such as `tracktik.com`, lower-cased.
pub(super) fn portal_domains(
    (value, var): (String, &'static str),
) -> Result<Vec<String>, ConfigError> {
    let domains: Vec<String> = entries(&value)
        .map(|d| {
            d.trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase()
        })
        .collect();
    for d in &domains {
        let well_formed = !d.is_empty()
            && d.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !well_formed {
            return Err(invalid(
                var,
                d,
                "expected domain names such as tracktik.com,staffr.us (no scheme, no port), separated by commas",
            ));
        }
    }
    if domains.is_empty() {
        return Err(invalid(
            var,
            &value,
            "at least one domain is needed, e.g. tracktik.com",
        ));
    }
    Ok(domains)
}

/// `LEDGERBRIDGE_TRUSTED_PROXIES`: addresses (`10.0.0.7`) or networks (`10.0.0.0/8`).
pub(super) fn networks(
    (value, var): (String, &'static str),
) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    entries(&value)
        .map(|e| {
            e.parse::<ipnet::IpNet>()
                .or_else(|_| e.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|n| n.trunc())
                .map_err(|_| {
                    invalid(
                        var,
                        e,
                        "expected addresses or networks such as 10.0.0.7 or 10.0.0.0/8, separated by commas",
                    )
                })
        })
        .collect()
}
