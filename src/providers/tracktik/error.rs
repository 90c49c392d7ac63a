//! The one error type of the TrackTik client.
//!
//! Each variant tells the caller what to do next: [`TrackTikError::Unauthorized`] means
//! "refresh the token and try again", [`TrackTikError::ReauthorizationRequired`] means "the
//! customer must connect again", [`TrackTikError::RateLimited`] and friends mean "try later".
//! No variant ever carries an access token, refresh token, client secret or password: messages
//! are built from status codes, resource names and TrackTik's own `error` text only.

use std::time::Duration;

/// Everything that can go wrong when talking to a TrackTik portal.
#[derive(Debug, thiserror::Error)]
pub enum TrackTikError {
    /// 401: the access token has expired or was revoked. Refresh it and retry once.
    #[error(
        "TrackTik rejected the access token for {resource} (401): it has expired or was revoked"
    )]
    Unauthorized {
        /// The resource that was being read (e.g. `invoices`).
        resource: String,
    },
    /// 403: the OAuth client or its user lacks the permission (scope or role) for this resource.
    #[error("TrackTik refused access to {resource} (403): {message}")]
    Forbidden {
        /// The resource that was being read.
        resource: String,
        /// TrackTik's explanation, when it sent one.
        message: String,
    },
    /// 404: no such record or endpoint.
    #[error("TrackTik has no {resource} here (404)")]
    NotFound {
        /// The resource (and id) that was asked for.
        resource: String,
    },
    /// 429 on every attempt the retry policy allowed.
    #[error("TrackTik kept rate-limiting requests for {resource} (429) after {attempts} attempts")]
    RateLimited {
        /// The resource that was being read.
        resource: String,
        /// How many requests were sent.
        attempts: u32,
        /// The last `Retry-After` TrackTik sent, if any.
        retry_after: Option<Duration>,
    },
    /// 400: TrackTik rejected the request; `message` is the `error` of its `{"status","error"}` body.
    #[error("TrackTik rejected the request for {resource} ({status}): {message}")]
    BadRequest {
        /// The resource that was being read.
        resource: String,
        /// The HTTP status (400, or another 4xx without a dedicated variant).
        status: u16,
        /// TrackTik's error message.
        message: String,
    },
    /// A 5xx answer (500, 502, 503) on every attempt the retry policy allowed.
    #[error("TrackTik failed with {status} for {resource} after {attempts} attempts: {message}")]
    Server {
        /// The resource that was being read.
        resource: String,
        /// The last HTTP status.
        status: u16,
        /// How many requests were sent.
        attempts: u32,
        /// TrackTik's error message, when it sent one.
        message: String,
    },
    /// The request took too long: our own timeout fired, or TrackTik answered 504 (its 30 s
    /// limit, `gateway == true`) even after the date window was narrowed as far as allowed.
    #[error("TrackTik did not answer {resource} in time (gateway timeout: {gateway})")]
    Timeout {
        /// The resource that was being read.
        resource: String,
        /// `true` for a 504 from TrackTik, `false` for our own client-side timeout.
        gateway: bool,
    },
    /// The answer did not have the documented shape. `field` names the offending field when it
    /// could be found (e.g. `id` for a record without one).
    #[error("TrackTik sent an unexpected {resource} response{}: {detail}", field_suffix(.field))]
    InvalidResponse {
        /// The resource whose answer was malformed.
        resource: String,
        /// The JSON field at fault, when known (e.g. `id`, `meta.count`, `data[3].invoiceDate`).
        field: Option<String>,
        /// What was wrong (never includes token material).
        detail: String,
    },
    /// The refresh token or authorization code was rejected (`invalid_grant`): it expired, was
    /// revoked or was already used. Only a new authorization by the customer helps.
    #[error(
        "the TrackTik authorization is no longer valid ({reason}); the customer must connect again"
    )]
    ReauthorizationRequired {
        /// TrackTik's `error_description`, or `invalid_grant`.
        reason: String,
    },
    /// Any other OAuth error from the token endpoint (`invalid_client`, `unauthorized_client`,
    /// `unsupported_grant_type`, …): usually a configuration problem on our side.
    #[error("the TrackTik token endpoint answered {code}{}", description_suffix(.description))]
    OAuth {
        /// The OAuth `error` code.
        code: String,
        /// The OAuth `error_description`, if any.
        description: Option<String>,
    },
    /// The portal could not be reached (DNS, TLS, connection reset, …).
    #[error("could not reach TrackTik for {resource}: {source}")]
    Transport {
        /// The resource that was being read.
        resource: String,
        /// The underlying error. reqwest errors name the URL, which never contains a token.
        #[source]
        source: reqwest::Error,
    },
    /// The portal's answer was bigger than we read; nothing of it was used.
    #[error("TrackTik sent more than {limit} for {resource}; the answer was not read")]
    TooLarge {
        /// The resource that was being read.
        resource: String,
        /// The limit, in words (`10 MB`).
        limit: String,
    },
    /// The portal address is not one we connect to (see `guard`); nothing was sent.
    #[error("Ledgerbridge does not connect to this portal address: {reason}")]
    Refused {
        /// Why, in words.
        reason: String,
    },
    /// A value we were given cannot be used (a malformed portal URL, an empty window, …).
    #[error("invalid TrackTik client configuration: {0}")]
    Config(String),
}

fn field_suffix(field: &Option<String>) -> String {
    field
        .as_ref()
        .map(|f| format!(" (field `{f}`)"))
        .unwrap_or_default()
}

fn description_suffix(description: &Option<String>) -> String {
    description
        .as_ref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

impl TrackTikError {
    /// `true` when the stored connection is dead and the customer must authorize again.
    pub fn needs_reauthorization(&self) -> bool {
        matches!(self, TrackTikError::ReauthorizationRequired { .. })
    }

    /// `true` when TrackTik answered that the record does not exist (404).
    pub fn is_not_found(&self) -> bool {
        matches!(self, TrackTikError::NotFound { .. })
    }

    /// `true` when a fresh access token might fix the call (401).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, TrackTikError::Unauthorized { .. })
    }

    /// `true` for failures that may go away by themselves (rate limits, 5xx, timeouts,
    /// transport errors), so a whole sync can be retried later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            TrackTikError::RateLimited { .. }
                | TrackTikError::Server { .. }
                | TrackTikError::Timeout { .. }
                | TrackTikError::Transport { .. }
        )
    }

    /// The field named by an [`TrackTikError::InvalidResponse`], if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            TrackTikError::InvalidResponse { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn invalid(
        resource: &str,
        field: Option<String>,
        detail: impl Into<String>,
    ) -> Self {
        TrackTikError::InvalidResponse {
            resource: resource.to_owned(),
            field,
            detail: detail.into(),
        }
    }
}
