//! A TrackTik portal address as a customer types it, checked and made canonical, so that one
//! portal is one tenant however its address is written.
//!
//! Canonical means: `https`, the host in lower case with IDNA applied (`xn--…`), no trailing
//! dot, the default port dropped, no path. The bare name `acme` stands for
//! `acme.tracktik.com`. A user name or password in the address, an IP address, or a host
//! outside TrackTik's domains is refused with a sentence that says what to type instead;
//! the development origins of `TRACKTIK_HTTP_PORTALS` are taken as they are.

use crate::providers::tracktik::PortalGuard;

/// The domain a bare portal name belongs to.
pub const SHORTHAND_DOMAIN: &str = "tracktik.com";

/// A checked portal address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalAddress {
    /// Where to reach it: `https://acme.tracktik.com` (or a development origin as listed).
    pub origin: String,
    /// Its canonical host and port (`acme.tracktik.com`, `127.0.0.1:8081`): one per portal.
    pub key: String,
}

const EXAMPLE: &str = "for example acme.tracktik.com";

/// Checks what a customer typed and returns the portal's canonical address, or what to fix.
pub fn parse(input: &str, guard: &PortalGuard) -> Result<PortalAddress, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err(format!("Enter your TrackTik portal address, {EXAMPLE}."));
    }
    let shorthand = !input.is_empty()
        && input.len() <= 63
        && input.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !input.starts_with('-');
    let with_scheme = if shorthand {
        format!("https://{input}.{SHORTHAND_DOMAIN}")
    } else if input.contains("://") {
        input.to_owned()
    } else {
        format!("https://{input}")
    };
    let url = reqwest::Url::parse(&with_scheme).map_err(|_| {
        format!(
            "“{input}” is not a web address. Enter it as it appears in your browser, {EXAMPLE}."
        )
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "Enter the portal address without a user name or password, {EXAMPLE}. You sign in on TrackTik's own page next."
        ));
    }
    let origin = url.origin().ascii_serialization();
    if guard.is_dev_origin(&origin) {
        let key = origin
            .split_once("://")
            .map_or(origin.as_str(), |(_, rest)| rest)
            .to_owned();
        return Ok(PortalAddress { origin, key });
    }
    match url.scheme() {
        "https" => {}
        "http" => return Err("Your TrackTik portal address must start with https://.".into()),
        _ => {
            return Err(format!(
                "“{input}” is not a TrackTik portal address; enter one {EXAMPLE}."
            ));
        }
    }
    let host = url.host_str().unwrap_or_default().trim_end_matches('.');
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || bare.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!(
            "Enter your portal's name, not an IP address, {EXAMPLE}."
        ));
    }
    if !guard.allows_host(host) {
        return Err(format!(
            "“{host}” is not a TrackTik portal. Portal addresses end with {}; check the address in your browser when you use TrackTik.",
            guard.domains().join(", ")
        ));
    }
    let key = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    Ok(PortalAddress {
        origin: format!("https://{key}"),
        key,
    })
}

/// The canonical host (and port) named by a token's `iss` claim (`acme.tracktik.com`, or a URL
/// such as `https://acme.tracktik.com/`), when it is an address we would accept as a portal.
/// TrackTik names the portal there, so aliases of one portal share it.
pub fn key_from_issuer(issuer: &str, guard: &PortalGuard) -> Option<String> {
    let issuer = issuer.trim();
    if issuer.is_empty() {
        return None;
    }
    let as_url = if issuer.contains("://") {
        issuer.to_owned()
    } else {
        format!("https://{issuer}")
    };
    let url = reqwest::Url::parse(&as_url).ok()?;
    let origin = url.origin().ascii_serialization();
    if guard.is_dev_origin(&origin) {
        return origin.split_once("://").map(|(_, rest)| rest.to_owned());
    }
    parse(issuer, guard).ok().map(|address| address.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> PortalGuard {
        PortalGuard::new(
            &["tracktik.com".into(), "staffr.us".into()],
            &["http://127.0.0.1:8081".into()],
        )
    }

    fn origin(input: &str) -> Result<String, String> {
        parse(input, &guard()).map(|a| a.origin)
    }

    #[test]
    fn one_portal_written_many_ways_has_one_canonical_address() {
        for typed in [
            "acme",
            "ACME",
            "acme.tracktik.com",
            "https://acme.tracktik.com",
            " https://Acme.TrackTik.com/rest/v1/ ",
            "https://acme.tracktik.com.",
            "https://acme.tracktik.com:443/",
            "acme.tracktik.com.",
        ] {
            let address = parse(typed, &guard()).unwrap();
            assert_eq!(address.origin, "https://acme.tracktik.com", "{typed:?}");
            assert_eq!(address.key, "acme.tracktik.com", "{typed:?}");
        }
        assert_eq!(
            origin("https://acme.staffr.us:8443").unwrap(),
            "https://acme.staffr.us:8443"
        );
        assert_eq!(
            origin("https://sécurité.tracktik.com").unwrap(),
            "https://xn--scurit-bvaf.tracktik.com"
        );
    }

    #[test]
    fn addresses_that_are_not_tracktik_portals_are_refused_with_what_to_type() {
        assert!(
            origin("")
                .unwrap_err()
                .contains("Enter your TrackTik portal address")
        );
        assert!(
            origin("http://acme.tracktik.com")
                .unwrap_err()
                .contains("https://")
        );
        assert!(
            origin("https://user:pw@evil.example")
                .unwrap_err()
                .contains("user name")
        );
        assert!(
            origin("https://user:pw@acme.tracktik.com")
                .unwrap_err()
                .contains("user name")
        );
        for ip in [
            "https://127.0.0.1:8443",
            "https://10.255.255.1",
            "https://169.254.169.254",
            "https://[::1]",
            "10.255.255.1",
        ] {
            assert!(
                origin(ip).unwrap_err().contains("not an IP address"),
                "{ip}"
            );
        }
        for outside in [
            "https://evil.example",
            "intranet.local",
            "https://localhost",
        ] {
            assert!(
                origin(outside)
                    .unwrap_err()
                    .contains("tracktik.com, staffr.us"),
                "{outside}"
            );
        }
        assert!(origin("ftp://acme.tracktik.com").is_err());
        assert!(origin("not a url at all").is_err());
    }

    #[test]
    fn a_development_origin_is_taken_as_it_is() {
        let address = parse("http://127.0.0.1:8081/", &guard()).unwrap();
        assert_eq!(address.origin, "http://127.0.0.1:8081");
        assert_eq!(address.key, "127.0.0.1:8081");
        assert!(origin("http://127.0.0.1:9999").is_err());
    }

    #[test]
    fn the_issuer_names_the_portal_when_it_is_one() {
        let g = guard();
        assert_eq!(
            key_from_issuer("acme.tracktik.com", &g).as_deref(),
            Some("acme.tracktik.com")
        );
        assert_eq!(
            key_from_issuer("https://ACME.tracktik.com/", &g).as_deref(),
            Some("acme.tracktik.com")
        );
        assert_eq!(
            key_from_issuer("http://127.0.0.1:8081", &g).as_deref(),
            Some("127.0.0.1:8081")
        );
        assert_eq!(key_from_issuer("evil.example", &g), None);
        assert_eq!(key_from_issuer("", &g), None);
    }
}
