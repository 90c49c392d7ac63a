//! The checks that apply once Ledgerbridge is reachable from other machines: no demo secrets,
//! no plain-http providers, no development portals. Each refusal names its variable.

use secrecy::ExposeSecret;

use super::{Config, ConfigError, DEMO_CLIENT_SECRET, invalid};

impl Config {
    /// When `LEDGERBRIDGE_PUBLIC_URL` is not this machine: both client secrets are set and are
    /// not the demo's, every provider URL is https, and `TRACKTIK_HTTP_PORTALS` is empty. A
    /// local setup (a developer machine, `demo`) passes as it is. The token key, also required
    /// off this machine, is checked by [`Config::token_cipher`].
    pub fn check_production(&self) -> Result<(), ConfigError> {
        if self.is_local() {
            return Ok(());
        }
        let secrets = [
            ("TRACKTIK_CLIENT_SECRET", &self.tracktik_client_secret),
            ("QUICKBOOKS_CLIENT_SECRET", &self.quickbooks_client_secret),
        ];
        for (variable, secret) in secrets {
            let secret = secret.expose_secret();
            if secret.trim().is_empty() || secret == DEMO_CLIENT_SECRET {
                return Err(invalid(
                    variable,
                    "(hidden)",
                    "required when LEDGERBRIDGE_PUBLIC_URL is not this machine: set the client secret of your own OAuth app (the demo's secret is refused)",
                ));
            }
        }
        if let Some(base) = self.quickbooks_base_url.as_deref() {
            if base != "intuit-sandbox" && !base.starts_with("https://") {
                return Err(invalid(
                    "QUICKBOOKS_BASE_URL",
                    base,
                    "must be an https:// URL (or unset for Intuit, or intuit-sandbox) when LEDGERBRIDGE_PUBLIC_URL is not this machine",
                ));
            }
        }
        if !self.tracktik_http_portals.is_empty() {
            return Err(invalid(
                "TRACKTIK_HTTP_PORTALS",
                &self.tracktik_http_portals.join(","),
                "must be empty when LEDGERBRIDGE_PUBLIC_URL is not this machine: plain-http portals are for a local sandbox only",
            ));
        }
        Ok(())
    }
}
