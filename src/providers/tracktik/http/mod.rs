//! Sending one GET to the REST API: bearer auth, status mapping to [`TrackTikError`], and
//! retries for 429, 500, 502, 503 and timeouts.
//!
//! A 504 means the query ran past TrackTik's 30 s limit. For date-window queries retrying the
//! same query is pointless, so the caller asks for [`OnGatewayTimeout::Surface`] and narrows
//! the window instead (see `paging`); other calls retry it like a 503.

mod retry;

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, RETRY_AFTER};
use serde_json::Value;

pub use retry::RetryPolicy;
pub(crate) use retry::parse_retry_after;

use super::{AccessToken, Portal, TrackTikClient, TrackTikError};

/// What to do with a 504.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnGatewayTimeout {
    /// Retry it like a 503.
    Retry,
    /// Return `Timeout { gateway: true }` at once.
    Surface,
}

/// The result of one attempt.
enum Step {
    Done(Result<Value, TrackTikError>),
    Retry {
        error: TrackTikError,
        retry_after: Option<Duration>,
    },
}

impl TrackTikClient {
    /// GETs `/rest/v1/{path}` with `pairs` as the query string and returns the JSON body.
    pub(crate) async fn get_json(
        &self,
        portal: &Portal,
        token: &AccessToken,
        resource: &str,
        path: &str,
        pairs: &[(String, String)],
        on_504: OnGatewayTimeout,
    ) -> Result<Value, TrackTikError> {
        let url = portal.api_url(path)?;
        self.check_url(&url)?;
        let policy = &self.config.retry;
        let max_attempts = policy.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .http
                .get(url.clone())
                .query(pairs)
                .bearer_auth(token.secret())
                .header(ACCEPT, "application/json")
                .send()
                .await;
            let step = match sent {
                Ok(response) => {
                    answer(
                        response,
                        resource,
                        attempt,
                        on_504,
                        self.config.max_body_bytes,
                    )
                    .await
                }
                Err(e) => failure(e, resource),
            };
            match step {
                Step::Done(result) => return result,
                Step::Retry { error, .. } if attempt >= max_attempts => return Err(error),
                Step::Retry { error, retry_after } => {
                    let wait = policy.delay(attempt, retry_after);
                    tracing::warn!(
                        tracktik.resource = resource,
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        error = %error,
                        "TrackTik request failed, retrying"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// Whether a request failed because the guard's resolver refused every address of the host.
pub(crate) fn refused_address(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(error);
    while let Some(e) = source {
        if e.is::<super::guard::RefusedAddress>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Maps a transport-level failure: timeouts and connection failures are retried, except a
/// connection the guard refused (it would be refused again).
fn failure(error: reqwest::Error, resource: &str) -> Step {
    if refused_address(&error) {
        return Step::Done(Err(TrackTikError::Refused {
            reason: super::guard::RefusedAddress.to_string(),
        }));
    }
    if error.is_timeout() {
        Step::Retry {
            error: TrackTikError::Timeout {
                resource: resource.into(),
                gateway: false,
            },
            retry_after: None,
        }
    } else if error.is_connect() || error.is_request() || error.is_body() {
        Step::Retry {
            error: TrackTikError::Transport {
                resource: resource.into(),
                source: error.without_url(),
            },
            retry_after: None,
        }
    } else {
        Step::Done(Err(TrackTikError::Transport {
            resource: resource.into(),
            source: error.without_url(),
        }))
    }
}

/// Maps an HTTP answer to a result or a retry.
async fn answer(
    response: reqwest::Response,
    resource: &str,
    attempt: u32,
    on_504: OnGatewayTimeout,
    max_body_bytes: usize,
) -> Step {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
    tracing::debug!(
        tracktik.resource = resource,
        status = status.as_u16(),
        attempt,
        "TrackTik answered"
    );
    let body = match crate::providers::read_capped(response, max_body_bytes).await {
        Ok(body) => body,
        Err(crate::providers::BodyError::Transport(e)) => return failure(e, resource),
        Err(crate::providers::BodyError::TooLarge) => {
            return Step::Done(Err(TrackTikError::TooLarge {
                resource: resource.to_owned(),
                limit: crate::providers::size_in_words(max_body_bytes),
            }));
        }
    };
    if status.is_success() {
        return Step::Done(serde_json::from_slice(&body).map_err(|e| {
            TrackTikError::invalid(resource, None, format!("the body is not JSON: {e}"))
        }));
    }
    let message = error_message(&body);
    let resource = resource.to_owned();
    match status {
        StatusCode::UNAUTHORIZED => Step::Done(Err(TrackTikError::Unauthorized { resource })),
        StatusCode::FORBIDDEN => Step::Done(Err(TrackTikError::Forbidden { resource, message })),
        StatusCode::NOT_FOUND => Step::Done(Err(TrackTikError::NotFound { resource })),
        StatusCode::TOO_MANY_REQUESTS => Step::Retry {
            error: TrackTikError::RateLimited {
                resource,
                attempts: attempt,
                retry_after,
            },
            retry_after,
        },
        StatusCode::GATEWAY_TIMEOUT if on_504 == OnGatewayTimeout::Surface => {
            Step::Done(Err(TrackTikError::Timeout {
                resource,
                gateway: true,
            }))
        }
        StatusCode::GATEWAY_TIMEOUT => Step::Retry {
            error: TrackTikError::Timeout {
                resource,
                gateway: true,
            },
            retry_after,
        },
        StatusCode::INTERNAL_SERVER_ERROR
        | StatusCode::BAD_GATEWAY
        | StatusCode::SERVICE_UNAVAILABLE => Step::Retry {
            error: TrackTikError::Server {
                resource,
                status: status.as_u16(),
                attempts: attempt,
                message,
            },
            retry_after,
        },
        s if s.is_client_error() => Step::Done(Err(TrackTikError::BadRequest {
            resource,
            status: s.as_u16(),
            message,
        })),
        s => Step::Done(Err(TrackTikError::Server {
            resource,
            status: s.as_u16(),
            attempts: attempt,
            message,
        })),
    }
}

/// TrackTik's error text: `error` of `{"status","error"}`, else `message`, else a short
/// excerpt of the body.
fn error_message(body: &[u8]) -> String {
    if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) {
        for key in ["error", "message", "error_description"] {
            match fields.get(key) {
                Some(Value::String(text)) => return text.clone(),
                Some(Value::Object(inner)) => {
                    if let Some(Value::String(text)) = inner.get("message") {
                        return text.clone();
                    }
                }
                _ => {}
            }
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "(no message)".to_owned()
    } else {
        text.chars().take(200).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::error_message;

    #[test]
    fn error_message_reads_tracktiks_status_error_body() {
        let body = br#"{"status":400,"error":"page is not a field in employees"}"#;
        assert_eq!(error_message(body), "page is not a field in employees");
    }

    #[test]
    fn error_message_falls_back_to_a_short_excerpt_of_other_bodies() {
        assert_eq!(
            error_message(b"<html>Bad Gateway</html>"),
            "<html>Bad Gateway</html>"
        );
        assert_eq!(error_message(b""), "(no message)");
        assert_eq!(error_message(&[b'x'; 500]).len(), 200);
    }
}
