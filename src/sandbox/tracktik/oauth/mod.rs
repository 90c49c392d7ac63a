//! OAuth 2 under `/rest/oauth2/` (and `/rest/v1/oauth2/`): the sign-in and Allow pages
//! (authorization code, optional PKCE), and the token endpoint (`authorization_code`,
//! `refresh_token` with single-use rotating refresh tokens, password). Failed sign-ins are
//! counted per client address: 40 within 2 minutes lock it out for 2 hours.

mod grant;
mod pages;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::server::{Shared, json as json_response};
use super::store::Portal;
use super::{DEMO_PASSWORD, DEMO_USERNAME, OAuthClient};

/// The sign-in of a portal user without administrator rights (an employee of the seeded
/// portal): they may read their own employee record and nothing else.
pub const VIEWER_USERNAME: &str = "viewer";
/// Its password.
pub const VIEWER_PASSWORD: &str = "viewer";

/// The portal users who can sign in: `demo` is the administrator (permission `admin:*`),
/// `viewer` the first other employee.
#[derive(Clone, Copy, Debug)]
pub struct Users {
    pub admin: i64,
    pub viewer: Option<i64>,
}

impl Users {
    pub fn of(portal: &Portal) -> Self {
        let admin = portal.admin_employee;
        let viewer = portal
            .table("employees")
            .and_then(|t| t.keys().copied().find(|id| *id != admin));
        Users { admin, viewer }
    }

    /// The user these credentials sign in, if any.
    pub fn check(&self, username: &str, password: &str) -> Option<i64> {
        match (username, password) {
            (DEMO_USERNAME, DEMO_PASSWORD) => Some(self.admin),
            (VIEWER_USERNAME, VIEWER_PASSWORD) => self.viewer,
            _ => None,
        }
    }
}

pub const MAX_FAILURES: usize = 40;
pub const FAILURE_WINDOW_SECS: i64 = 120;
pub const LOCKOUT_SECS: i64 = 2 * 3600;
pub const CODE_TTL_SECS: i64 = 600;
pub const REFRESH_TTL_DAYS: i64 = 30;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct AccessToken {
    client_id: String,
    user: i64,
    expires: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct RefreshToken {
    client_id: String,
    user: i64,
    expires: DateTime<Utc>,
    used: bool,
}

#[derive(Clone, Debug)]
struct AuthCode {
    client_id: String,
    redirect_uri: String,
    user: i64,
    challenge: Option<(String, String)>,
    expires: DateTime<Utc>,
}

/// Who is calling the API.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user: i64,
}

/// Clients, tokens, codes and the brute-force counters.
#[derive(Default, Serialize, Deserialize)]
pub struct AuthState {
    pub clients: BTreeMap<String, OAuthClient>,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    #[serde(skip)]
    codes: HashMap<String, AuthCode>,
    #[serde(skip)]
    tickets: HashMap<String, pages::Ticket>,
    #[serde(skip)]
    failures: HashMap<IpAddr, VecDeque<DateTime<Utc>>>,
    #[serde(skip)]
    locked_until: HashMap<IpAddr, DateTime<Utc>>,
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

impl AuthState {
    pub fn new(clients: Vec<OAuthClient>) -> Self {
        AuthState {
            clients: clients
                .into_iter()
                .map(|c| (c.client_id.clone(), c))
                .collect(),
            ..Default::default()
        }
    }

    /// Takes clients and tokens from a saved state (saved clients win).
    pub fn restore(&mut self, saved: AuthState) {
        self.clients.extend(saved.clients);
        self.access = saved.access;
        self.refresh = saved.refresh;
    }

    pub fn register(&mut self, client: OAuthClient) {
        self.clients.insert(client.client_id.clone(), client);
    }

    pub fn caller(&self, token: &str, now: DateTime<Utc>) -> Option<Caller> {
        let t = self.access.get(token).filter(|t| t.expires > now)?;
        Some(Caller { user: t.user })
    }

    /// Makes every access token expired (refresh tokens keep working).
    pub fn expire_access_tokens(&mut self, now: DateTime<Utc>) -> usize {
        for t in self.access.values_mut() {
            t.expires = t.expires.min(now - Duration::seconds(1));
        }
        self.access.len()
    }

    /// Revokes every access token, and refresh tokens too when `refresh`.
    pub fn revoke(&mut self, refresh: bool) -> (usize, usize) {
        let a = self.access.len();
        self.access.clear();
        let r = if refresh {
            std::mem::take(&mut self.refresh).len()
        } else {
            0
        };
        (a, r)
    }

    pub fn locked(&mut self, ip: IpAddr, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.locked_until.get(&ip) {
            Some(until) if *until > now => Some(*until),
            Some(_) => {
                self.locked_until.remove(&ip);
                None
            }
            None => None,
        }
    }

    /// Counts a failed sign-in; the 40th within two minutes locks the address out.
    pub fn fail(&mut self, ip: IpAddr, now: DateTime<Utc>) {
        let q = self.failures.entry(ip).or_default();
        q.push_back(now);
        while q
            .front()
            .is_some_and(|t| *t <= now - Duration::seconds(FAILURE_WINDOW_SECS))
        {
            q.pop_front();
        }
        if q.len() >= MAX_FAILURES {
            q.clear();
            self.locked_until
                .insert(ip, now + Duration::seconds(LOCKOUT_SECS));
        }
    }

    fn client(&self, id: &str, secret: &str) -> Option<&OAuthClient> {
        self.clients.get(id).filter(|c| c.client_secret == secret)
    }

    fn issue(
        &mut self,
        client_id: &str,
        user: i64,
        now: DateTime<Utc>,
        ttl: Duration,
        iss: &str,
    ) -> Value {
        let access = jwt(client_id, user, now, ttl, iss);
        let refresh = format!("def50200{}", random_hex(160));
        self.access.insert(
            access.clone(),
            AccessToken {
                client_id: client_id.into(),
                user,
                expires: now + ttl,
            },
        );
        self.refresh.insert(
            refresh.clone(),
            RefreshToken {
                client_id: client_id.into(),
                user,
                expires: now + Duration::days(REFRESH_TTL_DAYS),
                used: false,
            },
        );
        json!({
            "token_type": "Bearer",
            "expires_in": ttl.num_seconds(),
            "access_token": access,
            "refresh_token": refresh,
        })
    }
}

/// An RS256-looking JWT: real header and claims, random signature bytes.
fn jwt(client_id: &str, user: i64, now: DateTime<Utc>, ttl: Duration, iss: &str) -> String {
    let header = json!({"typ": "JWT", "alg": "RS256", "kid": "RS256-current"});
    let claims = json!({
        "aud": client_id,
        "jti": random_hex(40),
        "iat": now.timestamp(),
        "nbf": now.timestamp(),
        "exp": (now + ttl).timestamp(),
        "iss": iss,
        "sub": user.to_string(),
        "scopes": ["all:read", "all:write"],
    });
    let mut sig = vec![0u8; 256];
    rand::rng().fill_bytes(&mut sig);
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(sig)
    )
}

pub fn router() -> Router<Arc<Shared>> {
    let mut r = Router::new();
    for base in ["/rest/oauth2", "/rest/v1/oauth2"] {
        r = r
            .route(
                &format!("{base}/authorize"),
                get(pages::authorize_form).post(pages::sign_in),
            )
            .route(&format!("{base}/authorize/decision"), post(pages::decision))
            .route(&format!("{base}/access_token"), post(access_token));
    }
    r
}

async fn access_token(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = grant::parse_body(&headers, &body);
    let now = shared.now();
    let users = Users::of(&shared.portal());
    let ttl = Duration::from_std(shared.token_ttl).unwrap_or(Duration::hours(1));
    let mut auth = shared.auth();
    let issued = grant::token(&mut auth, &params, addr.ip(), now, &users)
        .map(|(client_id, user)| auth.issue(&client_id, user, now, ttl, &shared.base_url));
    match issued {
        Ok(body) => json_response(200, body),
        Err(e) => e.into_response(),
    }
}
