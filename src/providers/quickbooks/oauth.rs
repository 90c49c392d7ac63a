//! Intuit OAuth 2.0: consent URL, code exchange, refresh, revoke and user info.
//!
//! Code exchange and refresh go through the `oauth2` crate (HTTP Basic client auth, form body,
//! redirects disabled). Intuit's revoke endpoint takes a JSON body, which `oauth2` does not
//! send, so revoke is a plain call. Refresh tokens rotate: [`QuickBooksOAuth::refresh`] returns
//! the new pair and keeps nothing, so the caller must store the new refresh token before
//! using the new access token (Intuit kills the previous one 24 hours later).

use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::error::QboError;
use super::{ACCOUNTING_SCOPE, AppCredentials, Endpoints};

/// Intuit's extra token fields.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IntuitTokenFields {
    /// Seconds until the refresh token expires (rolling, about 100 days).
    #[serde(default)]
    pub x_refresh_token_expires_in: Option<u64>,
}

impl ExtraTokenFields for IntuitTokenFields {}

type IntuitTokenResponse = StandardTokenResponse<IntuitTokenFields, BasicTokenType>;
type IntuitClient = oauth2::Client<
    BasicErrorResponse,
    IntuitTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A fresh pair of tokens.
#[derive(Clone, Debug)]
pub struct TokenSet {
    /// Bearer token for API calls (one hour).
    pub access_token: SecretString,
    /// The new refresh token: store it before using `access_token`.
    pub refresh_token: SecretString,
    /// When the access token stops working.
    pub access_expires_at: DateTime<Utc>,
    /// When the refresh token stops working, if Intuit said.
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

/// Who signed in, from OpenID user info.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// Intuit's user id.
    pub sub: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
}

/// OAuth with Intuit for one app registration.
#[derive(Clone)]
pub struct QuickBooksOAuth {
    client: IntuitClient,
    http: reqwest::Client,
    endpoints: Endpoints,
    credentials: AppCredentials,
}

impl QuickBooksOAuth {
    /// Builds the OAuth client. Fails when a URL is malformed.
    pub fn new(endpoints: Endpoints, credentials: AppCredentials) -> Result<Self, QboError> {
        let bad = |what: &str, e: oauth2::url::ParseError| {
            QboError::OAuth(format!("{what} is not a valid URL: {e}"))
        };
        let client = oauth2::Client::new(ClientId::new(credentials.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                credentials.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_uri(
                AuthUrl::new(endpoints.authorize.to_string())
                    .map_err(|e| bad("authorize URL", e))?,
            )
            .set_token_uri(
                TokenUrl::new(endpoints.token.to_string()).map_err(|e| bad("token URL", e))?,
            )
            .set_redirect_uri(
                RedirectUrl::new(credentials.redirect_uri.clone())
                    .map_err(|e| bad("redirect URI", e))?,
            );
        // No redirects: an OAuth endpoint that redirects is a misconfiguration, not a hop to follow.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| QboError::OAuth(format!("HTTP client: {e}")))?;
        Ok(Self {
            client,
            http,
            endpoints,
            credentials,
        })
    }

    /// The consent URL to send the browser to, carrying our `state`.
    pub fn authorize_url(&self, state: &str) -> reqwest::Url {
        let state = state.to_owned();
        let (url, _) = self
            .client
            .authorize_url(move || CsrfToken::new(state))
            .add_scope(Scope::new(ACCOUNTING_SCOPE.to_owned()))
            .url();
        url
    }

    /// Exchanges the authorization code from the callback for tokens.
    pub async fn exchange_code(&self, code: &str) -> Result<TokenSet, QboError> {
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(token_set(response, None))
    }

    /// Exchanges a refresh token for a new pair.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, QboError> {
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = self
            .client
            .exchange_refresh_token(&token)
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(token_set(response, Some(refresh_token)))
    }

    /// Revokes a token (access or refresh); Intuit then disconnects the app from the company.
    pub async fn revoke(&self, token: &SecretString) -> Result<(), QboError> {
        let response = self
            .http
            .post(self.endpoints.revoke.clone())
            .basic_auth(
                &self.credentials.client_id,
                Some(self.credentials.client_secret.expose_secret()),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&serde_json::json!({ "token": token.expose_secret() }))
            .send()
            .await
            .map_err(|e| QboError::Transport(format!("revoke: {}", e.without_url())))?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            // Already revoked or expired: the goal is reached.
            400 => Ok(()),
            status => Err(QboError::OAuth(format!(
                "revoking the token failed with HTTP {status}"
            ))),
        }
    }

    /// Reads the signed-in user's OpenID profile.
    pub async fn userinfo(&self, access_token: &SecretString) -> Result<UserInfo, QboError> {
        let response = self
            .http
            .get(self.endpoints.userinfo.clone())
            .bearer_auth(access_token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| QboError::Transport(format!("userinfo: {}", e.without_url())))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| QboError::Transport(format!("userinfo: {}", e.without_url())))?;
        if status.as_u16() == 401 {
            return Err(QboError::Unauthorized {
                fault: super::error::parse_fault(&text),
                intuit_tid: None,
            });
        }
        if !status.is_success() {
            return Err(QboError::OAuth(format!(
                "user info failed with HTTP {status}"
            )));
        }
        serde_json::from_str(&text).map_err(|e| QboError::InvalidResponse {
            context: "user info".into(),
            detail: e.to_string(),
        })
    }
}

fn token_set(response: IntuitTokenResponse, previous_refresh: Option<&SecretString>) -> TokenSet {
    let now = Utc::now();
    let access_expires_at = now
        + chrono::Duration::from_std(response.expires_in().unwrap_or(Duration::from_secs(3600)))
            .unwrap_or(chrono::Duration::hours(1));
    let refresh_expires_at = response
        .extra_fields()
        .x_refresh_token_expires_in
        .and_then(|s| i64::try_from(s).ok())
        .map(|s| now + chrono::Duration::seconds(s));
    let refresh_token = match (response.refresh_token(), previous_refresh) {
        (Some(t), _) => SecretString::from(t.secret().to_owned()),
        // Intuit always returns one; if a provider did not, the old one stays valid.
        (None, Some(old)) => old.clone(),
        (None, None) => SecretString::from(String::new()),
    };
    TokenSet {
        access_token: SecretString::from(response.access_token().secret().to_owned()),
        refresh_token,
        access_expires_at,
        refresh_expires_at,
    }
}

type TokenRequestError =
    RequestTokenError<oauth2::HttpClientError<reqwest::Error>, BasicErrorResponse>;

fn token_error(e: TokenRequestError) -> QboError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let detail = r
                .error_description()
                .cloned()
                .unwrap_or_else(|| r.error().to_string());
            match r.error() {
                BasicErrorResponseType::InvalidGrant => QboError::ReauthorizationRequired(detail),
                other => QboError::OAuth(format!("{other}: {detail}")),
            }
        }
        RequestTokenError::Request(e) => QboError::Transport(format!("token endpoint: {e}")),
        RequestTokenError::Parse(e, _) => QboError::InvalidResponse {
            context: "token response".into(),
            detail: e.to_string(),
        },
        RequestTokenError::Other(e) => QboError::OAuth(e),
    }
}
