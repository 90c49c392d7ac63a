//! Tenants (one per TrackTik portal) and the people who sign in to them.

pub mod db;

use chrono::{DateTime, Utc};

use crate::ids::{TenantId, TenantUserId};

/// A tenant.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Tenant {
    /// Its id.
    pub tenant_id: TenantId,
    /// The TrackTik portal's base URL (its origin, e.g. `https://acme.tracktik.com`).
    pub portal_url: String,
    /// The company's name.
    pub name: String,
    /// When it first signed in.
    pub created_at: DateTime<Utc>,
}

/// Someone who signed in with TrackTik.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TenantUser {
    /// Their id here.
    pub tenant_user_id: TenantUserId,
    /// Their tenant.
    pub tenant_id: TenantId,
    /// Their user id on the portal.
    pub tracktik_user_id: String,
    /// How we greet them.
    pub display_name: String,
}

/// Turns what a customer typed into a portal's origin (`https://acme.tracktik.com`).
/// A bare host gets `https://`; plain http is accepted only for the listed origins (a local
/// sandbox). The error says what to type instead.
pub fn portal_origin(input: &str, http_allowed: &[String]) -> Result<String, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err(
            "Enter your TrackTik portal address, for example https://acme.tracktik.com.".into(),
        );
    }
    let with_scheme = if input.contains("://") {
        input.to_owned()
    } else {
        format!("https://{input}")
    };
    let url = reqwest::Url::parse(&with_scheme)
        .map_err(|_| format!("“{input}” is not a web address. Enter it as it appears in your browser, for example https://acme.tracktik.com."))?;
    let origin = url.origin().ascii_serialization();
    match url.scheme() {
        "https"
            if url
                .host_str()
                .is_some_and(|h| h.contains('.') || h == "localhost") =>
        {
            Ok(origin)
        }
        "http" if http_allowed.contains(&origin) => Ok(origin),
        "http" => Err("Your TrackTik portal address must start with https://.".into()),
        _ => Err(format!(
            "“{input}” is not a TrackTik portal address, for example https://acme.tracktik.com."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::portal_origin;

    #[test]
    fn portal_addresses_are_normalised_to_their_https_origin() {
        assert_eq!(
            portal_origin("acme.tracktik.com", &[]).unwrap(),
            "https://acme.tracktik.com"
        );
        assert_eq!(
            portal_origin(" https://Acme.TrackTik.com/rest/v1/ ", &[]).unwrap(),
            "https://acme.tracktik.com"
        );
        assert_eq!(
            portal_origin("https://acme.staffr.us:8443", &[]).unwrap(),
            "https://acme.staffr.us:8443"
        );
    }

    #[test]
    fn plain_http_is_refused_unless_it_is_an_allowed_sandbox() {
        assert!(
            portal_origin("http://acme.tracktik.com", &[])
                .unwrap_err()
                .contains("https://")
        );
        let allowed = vec!["http://127.0.0.1:8081".to_owned()];
        assert_eq!(
            portal_origin("http://127.0.0.1:8081/", &allowed).unwrap(),
            "http://127.0.0.1:8081"
        );
        assert!(
            portal_origin("", &[])
                .unwrap_err()
                .contains("Enter your TrackTik portal address")
        );
        assert!(portal_origin("not a url at all", &[]).is_err());
        assert!(portal_origin("ftp://acme.tracktik.com", &[]).is_err());
        assert!(portal_origin("https://intranet", &[]).is_err());
    }
}
