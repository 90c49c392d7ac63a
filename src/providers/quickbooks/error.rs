//! One error type for every way QuickBooks Online can say no.
//!
//! QBO answers failures in four shapes, and the parser accepts all of them:
//! 1. the standard JSON fault `{"Fault":{"Error":[{"Message","Detail","code","element"}],"type"}}`;
//! 2. the gateway's lower-case JSON fault `{"fault":{"error":[{"message","detail","code"}]}}` (401/403);
//! 3. XML `<IntuitResponse><Fault><Error code="…"><Message/><Detail/></Error></Fault>` (429, some 401s);
//! 4. HTML pages or empty bodies from load balancers (502/503/504).
//!
//! Every error keeps the `intuit_tid` response header so support can quote it to Intuit.

use serde::Deserialize;

/// One error entry of a fault.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultError {
    /// QBO's error code, e.g. `6240`.
    pub code: String,
    /// The short message, e.g. `Duplicate Name Exists Error`.
    pub message: String,
    /// The longer detail.
    pub detail: String,
    /// The field at fault, when QBO names one (e.g. `Line.SalesItemLineDetail.ItemRef`).
    pub element: Option<String>,
}

/// A parsed fault: its type and its errors.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fault {
    /// `ValidationFault`, `SystemFault`, `AUTHENTICATION`, `SERVICE`, …
    pub kind: String,
    /// At least one error when QBO sent a fault body.
    pub errors: Vec<FaultError>,
}

impl Fault {
    /// The first error's code, if any.
    pub fn code(&self) -> Option<&str> {
        self.errors.first().map(|e| e.code.as_str())
    }

    /// Whether any error has this code.
    pub fn has_code(&self, code: &str) -> bool {
        self.errors.iter().any(|e| e.code == code)
    }

    /// A one-line summary: `6240 Duplicate Name Exists Error: The name supplied already exists.`
    pub fn summary(&self) -> String {
        match self.errors.first() {
            Some(e) if e.detail.is_empty() => format!("{} {}", e.code, e.message),
            Some(e) => format!("{} {}: {}", e.code, e.message, e.detail),
            None => self.kind.clone(),
        }
    }
}

/// Everything a QuickBooks call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum QboError {
    /// 401: the access token is expired, revoked or malformed. Refresh, then retry once.
    #[error("QuickBooks refused the access token ({}); intuit_tid={}", .fault.summary(), tid(.intuit_tid))]
    Unauthorized {
        /// The fault as sent.
        fault: Fault,
        /// Intuit's transaction id.
        intuit_tid: Option<String>,
    },
    /// 403: the token is valid but not for this company (3100) or the app lost access.
    #[error("QuickBooks refused access to this company ({}); intuit_tid={}", .fault.summary(), tid(.intuit_tid))]
    Forbidden {
        /// The fault as sent.
        fault: Fault,
        /// Intuit's transaction id.
        intuit_tid: Option<String>,
    },
    /// 429 (or the old 403 ThrottleExceeded) after every retry was spent.
    #[error("QuickBooks is throttling this company; intuit_tid={}", tid(.intuit_tid))]
    Throttled {
        /// Intuit's transaction id.
        intuit_tid: Option<String>,
    },
    /// 400: QuickBooks refused the request (validation, business rule, stale object, …).
    #[error("QuickBooks refused the request: {}; intuit_tid={}", .fault.summary(), tid(.intuit_tid))]
    Rejected {
        /// HTTP status (usually 400).
        status: u16,
        /// The fault as sent.
        fault: Fault,
        /// Intuit's transaction id.
        intuit_tid: Option<String>,
    },
    /// 404 or 5xx after every retry was spent.
    #[error("QuickBooks failed with HTTP {status}: {}; intuit_tid={}", .fault.summary(), tid(.intuit_tid))]
    Server {
        /// HTTP status.
        status: u16,
        /// The fault, or an empty one for HTML/empty bodies.
        fault: Fault,
        /// Intuit's transaction id.
        intuit_tid: Option<String>,
    },
    /// No answer in time, or the connection dropped: the outcome of a write is unknown.
    #[error("no answer from QuickBooks: {0}")]
    Transport(String),
    /// A body we could not read.
    #[error("QuickBooks sent a response we could not read ({context}): {detail}")]
    InvalidResponse {
        /// What we were reading.
        context: String,
        /// What was wrong.
        detail: String,
    },
    /// OAuth: the refresh token or code is no longer valid; the customer must reconnect.
    #[error("QuickBooks needs the customer to reconnect: {0}")]
    ReauthorizationRequired(String),
    /// OAuth: any other failure at the token endpoint.
    #[error("QuickBooks sign-in failed: {0}")]
    OAuth(String),
}

fn tid(t: &Option<String>) -> &str {
    t.as_deref().unwrap_or("-")
}

impl QboError {
    /// The QBO fault, when there is one.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Self::Unauthorized { fault, .. }
            | Self::Forbidden { fault, .. }
            | Self::Rejected { fault, .. }
            | Self::Server { fault, .. } => Some(fault),
            _ => None,
        }
    }

    /// Intuit's transaction id for support.
    pub fn intuit_tid(&self) -> Option<&str> {
        match self {
            Self::Unauthorized { intuit_tid, .. }
            | Self::Forbidden { intuit_tid, .. }
            | Self::Throttled { intuit_tid }
            | Self::Rejected { intuit_tid, .. }
            | Self::Server { intuit_tid, .. } => intuit_tid.as_deref(),
            _ => None,
        }
    }

    /// Whether trying again later (same request id) can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Throttled { .. } | Self::Server { .. } | Self::Transport(_)
        )
    }

    /// Whether QuickBooks answered that the object does not exist (610, "Object Not Found":
    /// also what reading a deleted transaction gives).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Rejected { fault, .. } if fault.has_code("610"))
    }

    /// Whether QuickBooks may have applied a write whose answer we never saw.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Self::Transport(_) | Self::Server { .. })
    }
}

/// Parses any of the four fault shapes. Unknown shapes give a fault with no errors.
pub fn parse_fault(body: &str) -> Fault {
    let trimmed = body.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(f) = serde_json::from_str::<UpperEnvelope>(trimmed) {
            if let Some(fault) = f.fault {
                return fault.into();
            }
        }
        if let Ok(f) = serde_json::from_str::<LowerEnvelope>(trimmed) {
            if let Some(fault) = f.fault {
                return fault.into();
            }
        }
        return Fault::default();
    }
    if trimmed.starts_with('<')
        && (trimmed.contains("<Fault") || trimmed.contains("<IntuitResponse"))
    {
        return parse_xml_fault(trimmed);
    }
    Fault::default()
}

#[derive(Deserialize)]
struct UpperEnvelope {
    #[serde(rename = "Fault")]
    fault: Option<UpperFault>,
}

#[derive(Deserialize)]
struct UpperFault {
    #[serde(rename = "Error", default)]
    error: Vec<UpperError>,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
struct UpperError {
    #[serde(rename = "Message", default)]
    message: String,
    #[serde(rename = "Detail", default)]
    detail: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    element: Option<String>,
}

impl From<UpperFault> for Fault {
    fn from(f: UpperFault) -> Self {
        Fault {
            kind: f.kind,
            errors: f
                .error
                .into_iter()
                .map(|e| FaultError {
                    code: e.code,
                    message: e.message,
                    detail: e.detail,
                    element: e.element.filter(|s| !s.is_empty()),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
struct LowerEnvelope {
    fault: Option<LowerFault>,
}

#[derive(Deserialize)]
struct LowerFault {
    #[serde(default)]
    error: Vec<LowerError>,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
struct LowerError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    detail: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    element: Option<String>,
}

impl From<LowerFault> for Fault {
    fn from(f: LowerFault) -> Self {
        Fault {
            kind: f.kind,
            errors: f
                .error
                .into_iter()
                .map(|e| FaultError {
                    code: e.code,
                    message: e.message,
                    detail: e.detail,
                    element: e.element.filter(|s| !s.is_empty()),
                })
                .collect(),
        }
    }
}

/// A small, forgiving reader for Intuit's XML faults: attributes `type` and `code`, elements
/// `Message` and `Detail`. No XML crate for so little.
fn parse_xml_fault(xml: &str) -> Fault {
    let kind = between(xml, "<Fault", ">")
        .and_then(|attrs| attribute(attrs, "type"))
        .unwrap_or_default();
    let mut errors = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<Error") {
        let after = &rest[start..];
        let end = after
            .find("</Error>")
            .map(|e| e + "</Error>".len())
            .unwrap_or(after.len());
        let block = &after[..end];
        let code = between(block, "<Error", ">")
            .and_then(|a| attribute(a, "code"))
            .unwrap_or_default();
        errors.push(FaultError {
            code,
            message: between(block, "<Message>", "</Message>")
                .map(unescape)
                .unwrap_or_default(),
            detail: between(block, "<Detail>", "</Detail>")
                .map(unescape)
                .unwrap_or_default(),
            element: between(block, "<Error", ">").and_then(|a| attribute(a, "element")),
        });
        rest = &after[end..];
    }
    Fault { kind, errors }
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)? + start;
    Some(&s[start..end])
}

fn attribute(attrs: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = attrs.find(&key)? + key.len();
    let end = attrs[start..].find('"')? + start;
    Some(unescape(&attrs[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_json_fault_is_parsed_with_its_element() {
        let body = r#"{"Fault":{"Error":[{"Message":"Invalid Reference Id","Detail":"Invalid Reference Id : Item element id 99 not found","code":"2500","element":"Line.SalesItemLineDetail.ItemRef"}],"type":"ValidationFault"},"time":"2026-03-01T10:00:00.000-08:00"}"#;
        let f = parse_fault(body);
        assert_eq!(f.kind, "ValidationFault");
        assert_eq!(f.code(), Some("2500"));
        assert_eq!(
            f.errors[0].element.as_deref(),
            Some("Line.SalesItemLineDetail.ItemRef")
        );
        assert!(f.summary().contains("element id 99"));
    }

    #[test]
    fn the_gateways_lower_case_fault_is_parsed() {
        let body = r#"{"warnings":null,"intuitObject":null,"fault":{"error":[{"message":"message=AuthenticationFailed; errorCode=003200; statusCode=401","detail":"Token expired: eyJ...","code":"3200","element":null}],"type":"AUTHENTICATION"},"report":null,"queryResponse":null,"batchItemResponse":[],"attachableResponse":[],"syncErrorResponse":null,"requestId":null,"time":1764150000000,"status":null,"cdcresponse":[]}"#;
        let f = parse_fault(body);
        assert_eq!(f.kind, "AUTHENTICATION");
        assert_eq!(f.code(), Some("3200"));
        assert_eq!(f.errors[0].element, None);
    }

    #[test]
    fn the_xml_throttle_fault_is_parsed() {
        let body = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="2026-03-01T10:00:00.000-08:00"><Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.  Try again later</Detail></Error></Fault></IntuitResponse>"#;
        let f = parse_fault(body);
        assert_eq!(f.kind, "SERVICE");
        assert_eq!(f.code(), Some("3001"));
        assert!(f.errors[0].message.contains("ThrottleExceeded"));
        assert_eq!(
            f.errors[0].detail,
            "The request limit was reached.  Try again later"
        );
    }

    #[test]
    fn html_and_empty_bodies_give_an_empty_fault_not_a_panic() {
        assert_eq!(
            parse_fault("<html><body><h1>503 Service Unavailable</h1></body></html>"),
            Fault::default()
        );
        assert_eq!(parse_fault(""), Fault::default());
        assert_eq!(parse_fault("{not json"), Fault::default());
        assert_eq!(parse_fault(r#"{"QueryResponse":{}}"#), Fault::default());
    }

    #[test]
    fn several_errors_are_all_kept() {
        let body = r#"{"Fault":{"Error":[{"Message":"A","Detail":"a","code":"2020","element":"VendorRef"},{"Message":"B","Detail":"b","code":"2020","element":"Line"}],"type":"ValidationFault"}}"#;
        let f = parse_fault(body);
        assert_eq!(f.errors.len(), 2);
        assert!(f.has_code("2020"));
        assert_eq!(f.errors[1].element.as_deref(), Some("Line"));
    }
}
