//! Where the TrackTik client may connect, checked before anything is sent.
//!
//! A portal address comes from a customer, so it must not become a way to make our server talk
//! to anything else (our own network, a cloud metadata service, another company's server)
//! or to hand our OAuth client secret to a stranger. A guarded client therefore:
//! - sends nothing to a URL that carries a user name or password, is not https, or whose host
//!   is not under one of TrackTik's domains (`TRACKTIK_PORTAL_DOMAINS`);
//! - resolves host names itself and keeps only public addresses: loopback, private, link-local,
//!   shared, unspecified, multicast and documentation addresses are dropped, and a name with
//!   no public address is refused before any connection is made (the check is repeated on
//!   every connection, so a name that later resolves elsewhere is caught too);
//! - makes an exception only for the origins a development setup names explicitly
//!   (`TRACKTIK_HTTP_PORTALS`, e.g. a local sandbox), which may be plain http on loopback.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::TrackTikError;

/// The rules a guarded client applies to every URL and every resolved address.
#[derive(Clone, Debug, Default)]
pub struct PortalGuard {
    domains: Arc<Vec<String>>,
    dev_origins: Arc<Vec<String>>,
}

impl PortalGuard {
    /// Portals under `domains` (e.g. `tracktik.com`), plus the development origins named in
    /// `dev_origins` (e.g. `http://127.0.0.1:8081`), which are exempt from every rule.
    pub fn new(domains: &[String], dev_origins: &[String]) -> Self {
        Self {
            domains: Arc::new(
                domains
                    .iter()
                    .map(|d| d.trim_matches('.').to_ascii_lowercase())
                    .collect(),
            ),
            dev_origins: Arc::new(dev_origins.to_vec()),
        }
    }

    /// Whether `host` (lower case, no trailing dot) is one of the domains or under one.
    pub fn allows_host(&self, host: &str) -> bool {
        self.domains.iter().any(|d| {
            host == d
                || host
                    .strip_suffix(d.as_str())
                    .is_some_and(|p| p.ends_with('.'))
        })
    }

    /// The domains, as configured.
    pub fn domains(&self) -> &[String] {
        &self.domains
    }

    /// Whether `origin` (`scheme://host[:port]`) is a development origin named in the settings.
    pub fn is_dev_origin(&self, origin: &str) -> bool {
        self.dev_origins.iter().any(|o| o == origin)
    }

    /// Refuses a URL the client must not send anything to (see the module docs). Nothing is
    /// resolved or connected here.
    pub fn check_url(&self, url: &Url) -> Result<(), TrackTikError> {
        let refuse = |reason: &str| {
            Err(TrackTikError::Refused {
                reason: reason.to_owned(),
            })
        };
        if !url.username().is_empty() || url.password().is_some() {
            return refuse("the portal address carries a user name or password");
        }
        if self.is_dev_origin(&url.origin().ascii_serialization()) {
            return Ok(());
        }
        if url.scheme() != "https" {
            return refuse("the portal address is not https");
        }
        let Some(host) = url.host_str() else {
            return refuse("the portal address has no host");
        };
        let host = host.trim_end_matches('.');
        if host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok()
        {
            return refuse("the portal address is an IP address, not a TrackTik portal name");
        }
        if self.allows_host(host) {
            Ok(())
        } else {
            refuse("the portal address is not under one of TrackTik's domains")
        }
    }

    /// The DNS resolver a guarded `reqwest::Client` uses.
    pub(super) fn resolver(&self) -> Arc<GuardedResolver> {
        let exempt = self
            .dev_origins
            .iter()
            .filter_map(|o| Url::parse(o).ok())
            .filter_map(|u| u.host_str().map(|h| h.trim_end_matches('.').to_owned()))
            .collect();
        Arc::new(GuardedResolver { exempt })
    }
}

/// Whether an address is reachable on the public internet: not loopback, private (RFC 1918,
/// unique-local), link-local, shared (100.64/10), unspecified, broadcast, multicast,
/// documentation or otherwise reserved. IPv4-mapped IPv6 addresses are judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || (first == 0x0064 && v6.segments()[1] == 0xff9b))
        }
    }
}

/// Resolves with the system resolver, then keeps only public addresses (all of them for the
/// hosts of development origins).
#[derive(Debug)]
pub(super) struct GuardedResolver {
    exempt: Vec<String>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let exempt = self.exempt.contains(&host);
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| exempt || is_public(a.ip()))
                .collect();
            if kept.is_empty() {
                let refused: Box<dyn std::error::Error + Send + Sync> = Box::new(RefusedAddress);
                return Err(refused);
            }
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// A portal name that resolves only to addresses we do not connect to.
#[derive(Debug, thiserror::Error)]
#[error(
    "the portal's name resolves only to private, loopback or otherwise non-public addresses, which Ledgerbridge does not connect to"
)]
pub struct RefusedAddress;

#[cfg(test)]
mod tests {
    use super::*;

    fn guard() -> PortalGuard {
        PortalGuard::new(
            &["tracktik.com".into(), "staffr.us".into()],
            &["http://127.0.0.1:8081".into()],
        )
    }

    fn check(url: &str) -> Result<(), TrackTikError> {
        guard().check_url(&Url::parse(url).unwrap())
    }

    #[test]
    fn only_https_portals_under_tracktiks_domains_pass() {
        assert!(check("https://acme.tracktik.com/rest/oauth2/access_token").is_ok());
        assert!(check("https://acme.staffr.us:8443/rest/v1/regions").is_ok());
        for refused in [
            "http://acme.tracktik.com/",
            "https://evil.example/",
            "https://tracktik.com.evil.example/",
            "https://eviltracktik.com/",
            "https://user:pw@acme.tracktik.com/",
            "https://127.0.0.1:8443/",
            "https://10.255.255.1/",
            "https://169.254.169.254/",
            "https://[::1]/",
        ] {
            assert!(
                matches!(check(refused), Err(TrackTikError::Refused { .. })),
                "{refused}"
            );
        }
    }

    #[test]
    fn a_development_origin_named_in_the_settings_is_exempt() {
        assert!(check("http://127.0.0.1:8081/rest/v1/regions").is_ok());
        assert!(check("http://127.0.0.1:8082/rest/v1/regions").is_err());
        assert!(check("http://user@127.0.0.1:8081/").is_err());
    }

    #[test]
    fn non_public_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.255.255.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "151.101.1.140", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
