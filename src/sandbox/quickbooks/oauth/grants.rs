//! OAuth bookkeeping: codes, grants, access and refresh tokens, and their lifetimes.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::{Deserialize, Serialize};
use serde_json::json;

const CODE_TTL_MINUTES: i64 = 10;
const ACCESS_TTL_SECONDS: i64 = 3600;
const REFRESH_TTL_SECONDS: i64 = 8_726_400; // 101 days, as Intuit's fixtures show
/// How long a superseded refresh token keeps working.
pub const REFRESH_GRACE_HOURS: i64 = 24;
const HARD_TTL_SECONDS: i64 = 5 * 365 * 86_400;

/// An issued authorization code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthCode {
    client_id: String,
    redirect_uri: String,
    realm_id: String,
    expires_at: DateTime<Utc>,
    used: bool,
    /// The scopes consented to (space-separated); `openid` adds an id_token.
    #[serde(default)]
    scope: String,
}

/// One consent (client × realm); all its tokens die together on revoke.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    client_id: String,
    realm_id: String,
    created_at: DateTime<Utc>,
    revoked: bool,
    #[serde(default)]
    scope: String,
}

/// An access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessToken {
    grant: u64,
    expires_at: DateTime<Utc>,
}

/// A refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshToken {
    grant: u64,
    expires_at: DateTime<Utc>,
    superseded_at: Option<DateTime<Utc>>,
}

/// All OAuth state.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OAuthStore {
    codes: HashMap<String, AuthCode>,
    grants: HashMap<u64, Grant>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    next_grant: u64,
}

/// Why a bearer token was refused.
pub enum TokenProblem {
    /// 401 with this detail.
    Unauthorized(String),
    /// 403: valid, but for another realm.
    WrongRealm,
}

impl OAuthStore {
    /// Checks an access token for `realm_id`.
    pub fn check_access(
        &self,
        token: &str,
        realm_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, TokenProblem> {
        let short: String = token.chars().take(12).collect();
        let Some(at) = self.access.get(token) else {
            return Err(TokenProblem::Unauthorized(format!(
                "Token invalid: {short}…"
            )));
        };
        let grant = &self.grants[&at.grant];
        if grant.revoked {
            return Err(TokenProblem::Unauthorized(format!(
                "Token revoked: {short}…"
            )));
        }
        if now >= at.expires_at {
            return Err(TokenProblem::Unauthorized(format!(
                "Token expired: {short}…"
            )));
        }
        if realm_id.is_some_and(|r| r != grant.realm_id) {
            return Err(TokenProblem::WrongRealm);
        }
        Ok(grant.realm_id.clone())
    }

    /// Revokes the grant owning `token` (access or refresh), if it belongs to `client_id` (any
    /// client when `None`). Returns whether a grant was revoked.
    pub fn revoke_token(&mut self, token: &str, client_id: Option<&str>) -> bool {
        let grant = self
            .access
            .get(token)
            .map(|a| a.grant)
            .or_else(|| self.refresh.get(token).map(|r| r.grant));
        match grant
            .and_then(|g| self.grants.get_mut(&g))
            .filter(|g| client_id.is_none_or(|c| c == g.client_id))
        {
            Some(g) => {
                g.revoked = true;
                true
            }
            None => false,
        }
    }

    /// Revokes every grant of a realm (or of every realm).
    pub fn revoke_realm(&mut self, realm_id: Option<&str>) -> usize {
        let mut n = 0;
        for g in self.grants.values_mut() {
            if realm_id.is_none_or(|r| r == g.realm_id) && !g.revoked {
                g.revoked = true;
                n += 1;
            }
        }
        n
    }

    /// Makes the access tokens of a realm (or all) expire now.
    pub fn expire_access(&mut self, realm_id: Option<&str>, now: DateTime<Utc>) -> usize {
        let mut n = 0;
        for at in self.access.values_mut() {
            let realm = &self.grants[&at.grant].realm_id;
            if realm_id.is_none_or(|r| r == realm) && at.expires_at > now {
                at.expires_at = now;
                n += 1;
            }
        }
        n
    }

    /// Issues a code (used by the consent page and the control shortcut).
    pub fn issue_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        realm_id: &str,
        scope: &str,
        now: DateTime<Utc>,
    ) -> String {
        let code = format!("AB11{}", random(46));
        self.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.into(),
                redirect_uri: redirect_uri.into(),
                realm_id: realm_id.into(),
                expires_at: now + Duration::minutes(CODE_TTL_MINUTES),
                used: false,
                scope: scope.to_string(),
            },
        );
        code
    }

    /// `grant_type=authorization_code`: single-use, unexpired, same client and redirect URI.
    pub fn exchange_code(
        &mut self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        now: DateTime<Utc>,
        hard: bool,
    ) -> Result<serde_json::Value, (&'static str, &'static str)> {
        let Some(c) = self.codes.get_mut(code) else {
            return Err(("invalid_grant", "Token invalid"));
        };
        if c.used || now >= c.expires_at || c.client_id != client_id {
            return Err(("invalid_grant", "Token invalid"));
        }
        if c.redirect_uri != redirect_uri {
            return Err(("invalid_grant", "Redirect URI mismatch"));
        }
        c.used = true;
        let realm_id = c.realm_id.clone();
        let scope = c.scope.clone();
        let id = self.next_grant;
        self.next_grant += 1;
        self.grants.insert(
            id,
            Grant {
                client_id: client_id.to_string(),
                realm_id: realm_id.clone(),
                created_at: now,
                revoked: false,
                scope: scope.clone(),
            },
        );
        let mut body = self.issue_tokens(id, now, hard);
        if scope.split_whitespace().any(|s| s == "openid") {
            let t = now.timestamp();
            body["id_token"] = json!(super::jwt::id_token(
                client_id,
                &user_sub(&realm_id),
                &realm_id,
                t,
                t
            ));
        }
        Ok(body)
    }

    /// `grant_type=refresh_token`: rotates; a superseded token works for 24 more hours.
    pub fn refresh(
        &mut self,
        client_id: &str,
        token: &str,
        now: DateTime<Utc>,
        hard: bool,
    ) -> Result<serde_json::Value, (&'static str, &'static str)> {
        let Some(rt) = self.refresh.get(token).cloned() else {
            return Err(("invalid_grant", "Token invalid"));
        };
        let grant = &self.grants[&rt.grant];
        let past_grace = rt
            .superseded_at
            .is_some_and(|t| now >= t + Duration::hours(REFRESH_GRACE_HOURS));
        if grant.revoked || grant.client_id != client_id || now >= rt.expires_at || past_grace {
            return Err(("invalid_grant", "Token has been expired or revoked."));
        }
        if rt.superseded_at.is_none()
            && let Some(r) = self.refresh.get_mut(token)
        {
            r.superseded_at = Some(now);
        }
        Ok(self.issue_tokens(rt.grant, now, hard))
    }

    fn issue_tokens(&mut self, grant: u64, now: DateTime<Utc>, hard: bool) -> serde_json::Value {
        let access = format!(
            "eyJlbmMiOiJBMTI4Q0JDLUhTMjU2IiwiYWxnIjoiZGlyIn0..{}",
            random(80)
        );
        let refresh = format!("AB11{}", random(46));
        self.access.insert(
            access.clone(),
            AccessToken {
                grant,
                expires_at: now + Duration::seconds(ACCESS_TTL_SECONDS),
            },
        );
        self.refresh.insert(
            refresh.clone(),
            RefreshToken {
                grant,
                expires_at: now + Duration::seconds(REFRESH_TTL_SECONDS),
                superseded_at: None,
            },
        );
        let mut body = json!({
            "x_refresh_token_expires_in": REFRESH_TTL_SECONDS,
            "refresh_token": refresh,
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ACCESS_TTL_SECONDS,
        });
        if hard {
            let created = self.grants[&grant].created_at;
            let left = (created + Duration::seconds(HARD_TTL_SECONDS) - now).num_seconds();
            body["x_refresh_token_hard_expires_in"] = json!(left.max(0));
        }
        body
    }
}

/// The OpenID subject of the (one) user of a realm: a UUID, as Intuit's `sub` is.
pub fn user_sub(realm_id: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, realm_id.as_bytes()).to_string()
}

fn random(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}
