//! OAuth 2 with a TrackTik portal, through the `oauth2` crate.
//!
//! Endpoints (`/rest/oauth2/authorize`, `/rest/oauth2/access_token`) come from TrackTik's
//! support articles; client credentials go in the form body. Grants:
//! - authorization code (partner connect flow), with `state` and PKCE S256;
//! - refresh token: TrackTik's refresh tokens are **single-use and rotate**. [`TrackTikClient::refresh`]
//!   returns a new [`TokenSet`]; the caller must store its `refresh_token` (replacing the old
//!   one, which is now dead) *before* using the access token, or a crash would lose the only
//!   valid refresh token. Nothing here caches tokens;
//! - password (API service accounts and tests). TrackTik says not to send `scope` with it.
//!
//! `invalid_grant` (expired, revoked or reused refresh token; bad code; wrong password) maps to
//! [`TrackTikError::ReauthorizationRequired`]. The token endpoint is not retried: a refresh
//! that failed with a 5xx may already have consumed the refresh token.

mod identity;

use std::future::Future;

use chrono::{DateTime, Utc};
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername, Scope, TokenResponse,
    TokenUrl,
};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

pub use identity::{ADMIN_PERMISSION, PortalUser, token_claims};

use super::{AccessToken, Portal, RefreshToken, TrackTikClient, TrackTikError};

const TOKEN_RESOURCE: &str = "oauth2/access_token";

/// Ledgerbridge's OAuth client registration on a portal (client id + secret, and the
/// callback URL for the authorization-code flow).
#[derive(Clone, Debug)]
pub struct OAuthApp {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: SecretString,
    /// Our callback URL (required for the authorization-code flow).
    pub redirect_uri: Option<String>,
}

/// The start of an authorization-code flow. Keep `state` and `pkce_verifier` in the session
/// and send the user to `url`.
#[derive(Debug)]
pub struct AuthorizationRequest {
    /// Where to send the user's browser.
    pub url: Url,
    /// The CSRF `state` to compare on the callback.
    pub state: String,
    /// The PKCE verifier to send with the code exchange.
    pub pkce_verifier: SecretString,
}

/// Tokens from the token endpoint. After a refresh, **persist `refresh_token` first**: the
/// refresh token that was sent is consumed and will never work again.
#[derive(Clone, Debug)]
#[must_use = "the new refresh token must be saved: the old one is now spent"]
pub struct TokenSet {
    /// The bearer token for API calls.
    pub access_token: AccessToken,
    /// The next refresh token. Always present after [`TrackTikClient::refresh`].
    pub refresh_token: Option<RefreshToken>,
    /// When the access token expires (from `expires_in`, default one hour).
    pub expires_at: DateTime<Utc>,
    /// Granted scopes, when the server listed them.
    pub scopes: Vec<String>,
}

impl TokenSet {
    /// `true` when the access token expires within `margin` from now (refresh it first).
    pub fn expires_within(&self, margin: chrono::TimeDelta) -> bool {
        self.expires_at <= Utc::now() + margin
    }
}

type Configured =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Why a token request did not produce a response oauth2 could read.
#[derive(Debug, thiserror::Error)]
enum TokenHttpError {
    #[error("transport error")]
    Transport(#[source] reqwest::Error),
    #[error("HTTP {0}")]
    Status(u16),
    #[error("{0}")]
    Build(String),
    #[error("the answer is too large")]
    TooLarge,
    #[error("{0}")]
    Refused(String),
}

impl TrackTikClient {
    /// Builds the authorize URL for `portal` (`/rest/oauth2/authorize`) with a random `state`
    /// and a PKCE S256 challenge. `scopes` may be empty (TrackTik then grants the client's
    /// configured scopes).
    pub fn authorize_url(
        &self,
        portal: &Portal,
        app: &OAuthApp,
        scopes: &[&str],
    ) -> Result<AuthorizationRequest, TrackTikError> {
        let client = oauth_client(portal, app)?;
        if app.redirect_uri.is_none() {
            return Err(TrackTikError::Config(
                "the authorization-code flow needs a redirect URI".into(),
            ));
        }
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())))
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizationRequest {
            url,
            state: state.secret().clone(),
            pkce_verifier: SecretString::from(verifier.secret().clone()),
        })
    }

    /// Exchanges the `code` from the callback for tokens. Pass the PKCE verifier kept from
    /// [`TrackTikClient::authorize_url`].
    pub async fn exchange_code(
        &self,
        portal: &Portal,
        app: &OAuthApp,
        code: &str,
        pkce_verifier: Option<&SecretString>,
    ) -> Result<TokenSet, TrackTikError> {
        let client = oauth_client(portal, app)?;
        let mut request = client.exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = pkce_verifier {
            request = request
                .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().to_owned()));
        }
        let http = self.token_http();
        token_set(request.request_async(&http).await)
    }

    /// Trades a refresh token for new tokens. The given refresh token is spent whatever the
    /// outcome: save the returned [`TokenSet::refresh_token`] before anything else.
    /// A reused, revoked or expired refresh token yields
    /// [`TrackTikError::ReauthorizationRequired`].
    pub async fn refresh(
        &self,
        portal: &Portal,
        app: &OAuthApp,
        refresh_token: &RefreshToken,
    ) -> Result<TokenSet, TrackTikError> {
        let client = oauth_client(portal, app)?;
        let token = oauth2::RefreshToken::new(refresh_token.secret().to_owned());
        let http = self.token_http();
        let tokens = token_set(
            client
                .exchange_refresh_token(&token)
                .request_async(&http)
                .await,
        )?;
        if tokens.refresh_token.is_none() {
            return Err(TrackTikError::invalid(
                TOKEN_RESOURCE,
                Some("refresh_token".into()),
                "the refresh answer carried no new refresh token",
            ));
        }
        Ok(tokens)
    }

    /// The password grant, for API service accounts (and tests): a dedicated portal user's
    /// credentials. No `scope` is sent, as TrackTik asks.
    pub async fn password_grant(
        &self,
        portal: &Portal,
        app: &OAuthApp,
        username: &str,
        password: &SecretString,
    ) -> Result<TokenSet, TrackTikError> {
        let client = oauth_client(portal, app)?;
        let username = ResourceOwnerUsername::new(username.to_owned());
        let password = ResourceOwnerPassword::new(password.expose_secret().to_owned());
        let http = self.token_http();
        token_set(
            client
                .exchange_password(&username, &password)
                .request_async(&http)
                .await,
        )
    }

    /// An oauth2 HTTP client over our `reqwest::Client` (redirects off) that turns 429 and 5xx
    /// answers into errors carrying the status, instead of unreadable "error responses".
    fn token_http(
        &self,
    ) -> impl Fn(
        HttpRequest,
    ) -> std::pin::Pin<
        Box<dyn Future<Output = Result<HttpResponse, TokenHttpError>> + Send>,
    > {
        let client = self.clone();
        move |request: HttpRequest| {
            let client = client.clone();
            Box::pin(async move {
                let request =
                    reqwest::Request::try_from(request).map_err(TokenHttpError::Transport)?;
                // The request carries our client secret: it goes nowhere the guard refuses.
                if let Err(e) = client.check_url(request.url()) {
                    return Err(TokenHttpError::Refused(e.to_string()));
                }
                let response = client.http.execute(request).await.map_err(|e| {
                    if super::http::refused_address(&e) {
                        TokenHttpError::Refused(super::guard::RefusedAddress.to_string())
                    } else {
                        TokenHttpError::Transport(e)
                    }
                })?;
                let status = response.status();
                if status.as_u16() == 429 || status.is_server_error() {
                    return Err(TokenHttpError::Status(status.as_u16()));
                }
                let mut builder = oauth2::http::Response::builder().status(status.as_u16());
                for (name, value) in response.headers() {
                    builder = builder.header(name.as_str(), value.as_bytes());
                }
                let body = crate::providers::read_capped(response, super::MAX_TOKEN_BODY_BYTES)
                    .await
                    .map_err(|e| match e {
                        crate::providers::BodyError::TooLarge => TokenHttpError::TooLarge,
                        crate::providers::BodyError::Transport(e) => TokenHttpError::Transport(e),
                    })?;
                builder
                    .body(body)
                    .map_err(|e| TokenHttpError::Build(e.to_string()))
            })
        }
    }
}

fn oauth_client(portal: &Portal, app: &OAuthApp) -> Result<Configured, TrackTikError> {
    let client = BasicClient::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            app.client_secret.expose_secret().to_owned(),
        ))
        .set_auth_uri(AuthUrl::from_url(portal.authorize_url()?))
        .set_token_uri(TokenUrl::from_url(portal.token_url()?))
        .set_auth_type(AuthType::RequestBody);
    match &app.redirect_uri {
        Some(uri) => {
            let uri = RedirectUrl::new(uri.clone())
                .map_err(|e| TrackTikError::Config(format!("invalid redirect URI: {e}")))?;
            Ok(client.set_redirect_uri(uri))
        }
        None => Ok(client),
    }
}

fn token_set(
    result: Result<BasicTokenResponse, RequestTokenError<TokenHttpError, BasicErrorResponse>>,
) -> Result<TokenSet, TrackTikError> {
    let response = result.map_err(token_error)?;
    let lifetime = response
        .expires_in()
        .unwrap_or(std::time::Duration::from_secs(3600));
    let expires_at =
        Utc::now() + chrono::TimeDelta::from_std(lifetime).unwrap_or(chrono::TimeDelta::hours(1));
    Ok(TokenSet {
        access_token: AccessToken::new(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|t| RefreshToken::new(t.secret().clone())),
        expires_at,
        scopes: response
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    })
}

/// Maps a token-endpoint failure. Bodies are never copied into the error: they may hold tokens.
fn token_error(error: RequestTokenError<TokenHttpError, BasicErrorResponse>) -> TrackTikError {
    let resource = TOKEN_RESOURCE.to_owned();
    match error {
        RequestTokenError::ServerResponse(response) => {
            let description = response.error_description().cloned();
            match response.error() {
                BasicErrorResponseType::InvalidGrant => TrackTikError::ReauthorizationRequired {
                    reason: description.unwrap_or_else(|| "invalid_grant".into()),
                },
                other => TrackTikError::OAuth {
                    code: other.as_ref().to_owned(),
                    description,
                },
            }
        }
        RequestTokenError::Request(TokenHttpError::Transport(e)) if e.is_timeout() => {
            TrackTikError::Timeout {
                resource,
                gateway: false,
            }
        }
        RequestTokenError::Request(TokenHttpError::Transport(e)) => TrackTikError::Transport {
            resource,
            source: e.without_url(),
        },
        RequestTokenError::Request(TokenHttpError::Status(429)) => TrackTikError::RateLimited {
            resource,
            attempts: 1,
            retry_after: None,
        },
        RequestTokenError::Request(TokenHttpError::Status(504)) => TrackTikError::Timeout {
            resource,
            gateway: true,
        },
        RequestTokenError::Request(TokenHttpError::Status(status)) => TrackTikError::Server {
            resource,
            status,
            attempts: 1,
            message: "token endpoint failed".into(),
        },
        RequestTokenError::Request(TokenHttpError::Build(message)) => {
            TrackTikError::Config(message)
        }
        RequestTokenError::Request(TokenHttpError::TooLarge) => TrackTikError::TooLarge {
            resource,
            limit: crate::providers::size_in_words(super::MAX_TOKEN_BODY_BYTES),
        },
        RequestTokenError::Request(TokenHttpError::Refused(reason)) => {
            TrackTikError::Refused { reason }
        }
        RequestTokenError::Parse(e, _body) => TrackTikError::invalid(
            TOKEN_RESOURCE,
            Some(e.path().to_string()).filter(|p| p != "."),
            "the token endpoint's answer could not be read",
        ),
        RequestTokenError::Other(message) => TrackTikError::invalid(TOKEN_RESOURCE, None, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::tracktik::ClientConfig;

    fn app() -> OAuthApp {
        OAuthApp {
            client_id: "ledgerbridge".into(),
            client_secret: SecretString::from("s3cret-value".to_owned()),
            redirect_uri: Some("https://app.example/oauth/tracktik/callback".into()),
        }
    }

    #[test]
    fn the_authorize_url_points_at_the_portal_with_state_and_an_s256_challenge() {
        let client = TrackTikClient::new(ClientConfig::default()).unwrap();
        let portal = Portal::new("https://acme.staffr.us/").unwrap();
        let start = client.authorize_url(&portal, &app(), &[]).unwrap();
        assert_eq!(start.url.path(), "/rest/oauth2/authorize");
        let params: std::collections::HashMap<String, String> =
            start.url.query_pairs().into_owned().collect();
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["client_id"], "ledgerbridge");
        assert_eq!(
            params["redirect_uri"],
            "https://app.example/oauth/tracktik/callback"
        );
        assert_eq!(params["state"], start.state);
        assert_eq!(params["code_challenge_method"], "S256");
        assert!(params["code_challenge"].len() >= 43);
        assert!(!params.contains_key("scope"));
        assert!(start.pkce_verifier.expose_secret().len() >= 43);
        assert!(!start.url.as_str().contains("s3cret"));
        let again = client
            .authorize_url(&portal, &app(), &["all:read"])
            .unwrap();
        assert_ne!(again.state, start.state);
        assert!(again.url.as_str().contains("scope=all%3Aread"));
    }

    #[test]
    fn the_code_flow_refuses_to_start_without_a_redirect_uri() {
        let client = TrackTikClient::new(ClientConfig::default()).unwrap();
        let portal = Portal::new("https://acme.staffr.us").unwrap();
        let app = OAuthApp {
            redirect_uri: None,
            ..app()
        };
        assert!(matches!(
            client.authorize_url(&portal, &app, &[]),
            Err(TrackTikError::Config(_))
        ));
    }

    #[test]
    fn invalid_grant_means_reauthorization_and_other_oauth_errors_keep_their_code() {
        let parse = |body: &str| serde_json::from_str::<BasicErrorResponse>(body).unwrap();
        let error = token_error(RequestTokenError::ServerResponse(parse(
            r#"{"error":"invalid_grant","error_description":"Token has been revoked"}"#,
        )));
        assert!(error.needs_reauthorization());
        assert!(error.to_string().contains("Token has been revoked"));
        let error = token_error(RequestTokenError::ServerResponse(parse(
            r#"{"error":"invalid_client"}"#,
        )));
        assert!(matches!(error, TrackTikError::OAuth { ref code, .. } if code == "invalid_client"));
        let error = token_error(RequestTokenError::Request(TokenHttpError::Status(503)));
        assert!(matches!(error, TrackTikError::Server { status: 503, .. }));
        let error = token_error(RequestTokenError::Request(TokenHttpError::Status(429)));
        assert!(matches!(error, TrackTikError::RateLimited { .. }));
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let tokens = TokenSet {
            access_token: AccessToken::new("eyJ.secret-access"),
            refresh_token: Some(RefreshToken::new("def50200secret-refresh")),
            expires_at: Utc::now(),
            scopes: vec![],
        };
        assert!(tokens.expires_within(chrono::TimeDelta::seconds(1)));
        let shown = format!("{tokens:?}");
        assert!(
            !shown.contains("secret-access") && !shown.contains("secret-refresh"),
            "{shown}"
        );
        let shown = format!("{:?}", app());
        assert!(!shown.contains("s3cret-value"), "{shown}");
    }

    #[test]
    fn a_portal_url_must_be_absolute_http_without_query() {
        assert_eq!(
            Portal::new("https://acme.staffr.us/").unwrap().base_url(),
            "https://acme.staffr.us"
        );
        assert_eq!(
            Portal::new("http://127.0.0.1:8080/tt")
                .unwrap()
                .api_url("invoices")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/tt/rest/v1/invoices"
        );
        assert!(Portal::new("acme.staffr.us").is_err());
        assert!(Portal::new("ftp://acme.staffr.us").is_err());
        assert!(Portal::new("https://acme.staffr.us/?x=1").is_err());
    }
}
