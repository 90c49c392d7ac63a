//! Who signed in: the portal user behind an access token, and whether they administer the
//! portal.
//!
//! From `/work/shared/spec/tracktik-api.md`: access tokens are JWTs whose `sub` is the user id
//! and whose `iss` is the portal's host [V S19]; a person is an employee record
//! (`GET /rest/v1/employees/{id}`: `name`, `firstName`, `lastName`, `email`) [V S1]; and every
//! answer's `meta.security` says which of the caller's permissions granted it (`grantedBy`,
//! e.g. `admin:*`) [V S19]. A portal administrator is a user whose access is granted by
//! `admin:*`, TrackTik's permission over everything [I]. Anyone else, including a user the
//! portal refuses their own employee record (403), is not an administrator.
//!
//! The token came straight from the portal's token endpoint over a checked connection, so its
//! claims are read without verifying the signature (TrackTik publishes no key for it).

use base64::Engine;
use serde_json::Value;

use super::super::http::OnGatewayTimeout;
use super::super::{AccessToken, Employee, Portal, TrackTikClient, TrackTikError};

/// The permission that makes a portal user an administrator.
pub const ADMIN_PERMISSION: &str = "admin:*";

/// The person behind an access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalUser {
    /// Their user (employee) id: the token's `sub`.
    pub user_id: String,
    /// The portal as the token names it (`iss`), when it does.
    pub issuer: Option<String>,
    /// Their name, when the portal shows it to them.
    pub name: Option<String>,
    /// Their e-mail address, when the portal shows it to them.
    pub email: Option<String>,
    /// Whether the portal grants them `admin:*`.
    pub administrator: bool,
}

/// The `sub` and `iss` claims of a JWT access token; `None` when it is not a JWT or names no
/// user.
pub fn token_claims(access_token: &str) -> Option<(String, Option<String>)> {
    let payload = access_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let sub = match claims.get("sub")? {
        Value::String(s) if !s.trim().is_empty() => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Some((sub, iss))
}

impl TrackTikClient {
    /// Reads who `token` belongs to and whether they administer the portal. A token that names
    /// no user is an error: every person must be known as themselves.
    pub async fn signed_in_user(
        &self,
        portal: &Portal,
        token: &AccessToken,
    ) -> Result<PortalUser, TrackTikError> {
        let (user_id, issuer) = token_claims(token.secret()).ok_or_else(|| {
            TrackTikError::invalid(
                "oauth2/access_token",
                Some("sub".into()),
                "the access token does not say which user it belongs to",
            )
        })?;
        let mut user = PortalUser {
            user_id,
            issuer,
            name: None,
            email: None,
            administrator: false,
        };
        let Ok(id) = user.user_id.parse::<i64>() else {
            return Ok(user);
        };
        let path = format!("employees/{id}");
        let body = match self
            .get_json(portal, token, &path, &path, &[], OnGatewayTimeout::Retry)
            .await
        {
            Ok(body) => body,
            Err(TrackTikError::Forbidden { .. } | TrackTikError::NotFound { .. }) => {
                return Ok(user);
            }
            Err(e) => return Err(e),
        };
        let security = &body["meta"]["security"];
        user.administrator = security["granted"] == Value::Bool(true)
            && security["grantedBy"].as_str() == Some(ADMIN_PERMISSION);
        if let Ok(employee) = serde_json::from_value::<Employee>(body["data"].clone()) {
            user.name = employee
                .name
                .or_else(|| match (employee.first_name, employee.last_name) {
                    (Some(f), Some(l)) => Some(format!("{f} {l}")),
                    (f, l) => f.or(l),
                })
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty());
            user.email = employee
                .email
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty());
        }
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims);
        format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln")
    }

    #[test]
    fn the_user_and_the_portal_are_read_from_a_jwt_access_token() {
        assert_eq!(
            token_claims(&jwt(r#"{"sub":"1001","iss":"acme.tracktik.com"}"#)),
            Some(("1001".into(), Some("acme.tracktik.com".into())))
        );
        assert_eq!(
            token_claims(&jwt(r#"{"sub":42}"#)),
            Some(("42".into(), None))
        );
        assert_eq!(token_claims(&jwt(r#"{"sub":""}"#)), None);
        assert_eq!(token_claims(&jwt(r#"{"iss":"acme.tracktik.com"}"#)), None);
        assert_eq!(token_claims("opaque-token"), None);
    }
}
