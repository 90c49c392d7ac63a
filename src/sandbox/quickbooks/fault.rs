//! QBO error bodies: the standard `Fault` envelope, the gateway's lower-case auth fault, the XML
//! throttle fault, and the load balancer's HTML 503 page.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One QBO validation or system error, as returned inside `Fault.Error[]`.
#[derive(Debug, Clone, PartialEq)]
pub struct QboError {
    /// HTTP status when the error is the whole response (batch items are always 200).
    pub status: u16,
    /// QBO error code, e.g. `"6240"`.
    pub code: String,
    /// `Message`.
    pub message: String,
    /// `Detail`.
    pub detail: String,
    /// `element`: the offending field path, or empty.
    pub element: String,
    /// QBO leaves `element` out of some faults (2010, 6240, 500 in recorded traffic).
    pub omit_element: bool,
    /// QBO leaves `time` out of some fault bodies (2030 in recorded traffic).
    pub omit_time: bool,
    /// `Fault.type`.
    pub fault_type: &'static str,
}

impl QboError {
    fn new(code: &str, message: &str, detail: impl Into<String>, element: &str) -> Self {
        Self {
            status: 400,
            code: code.into(),
            message: message.into(),
            detail: detail.into(),
            element: element.into(),
            omit_element: false,
            omit_time: false,
            fault_type: "ValidationFault",
        }
    }

    fn without_element(mut self) -> Self {
        self.omit_element = true;
        self
    }

    /// 2020: a required field is missing.
    pub fn required(element: &str) -> Self {
        Self::new(
            "2020",
            "Required param missing, need to supply the required value for the API",
            format!("Required parameter {element} is missing in the request"),
            element,
        )
    }

    /// 2010: a property the entity does not have. Like QBO, the field is named in `Detail` only.
    pub fn unknown_property(element: &str, entity: &str) -> Self {
        Self::new(
            "2010",
            "Request has invalid or unsupported property",
            format!(
                "Property Name:Unrecognized field \"{element}\" (class com.intuit.schema.finance.v3.{entity}), not marked as ignorable specified is unsupported or invalid"
            ),
            element,
        )
        .without_element()
    }

    /// 2010 with a detail already worded by the schema reader (unknown field, with QBO's list).
    pub fn unknown_property_detail(detail: &str) -> Self {
        Self::new(
            "2010",
            "Request has invalid or unsupported property",
            detail,
            "",
        )
        .without_element()
    }

    /// 2010 for a value the schema reader could not read as its type.
    pub fn unparseable_detail(element: &str, detail: &str) -> Self {
        Self::new(
            "2010",
            "Request has invalid or unsupported property",
            detail,
            element,
        )
        .without_element()
    }

    /// 2010 as QBO's deserialiser reports it: a value that cannot be read (bad date, bad number).
    pub fn unparseable(element: &str, value: &str) -> Self {
        Self::new(
            "2010",
            "Request has invalid or unsupported property",
            format!(
                "Property Name:Can not parse value {value} for {element} specified is unsupported or invalid"
            ),
            element,
        )
    }

    /// 2170: a value outside an enumeration.
    pub fn bad_enum(element: &str, value: &str) -> Self {
        Self::new(
            "2170",
            "Invalid Enumeration",
            format!("Invalid Enumeration : {value}"),
            element,
        )
    }

    /// 2030: a non-numeric id (recorded without a `time` in the body).
    pub fn invalid_id(value: &str) -> Self {
        let mut e = Self::new(
            "2030",
            "Invalid ID",
            format!("Id should be a valid number. Supplied value:{value}"),
            "Id",
        );
        e.omit_time = true;
        e
    }

    /// 2040: a string with forbidden characters.
    pub fn invalid_string(element: &str, what: &str) -> Self {
        Self::new(
            "2040",
            "Invalid String",
            format!("{element} can not contain {what}"),
            element,
        )
    }

    /// 2050: a string longer than the field allows.
    pub fn too_long(element: &str, max: usize, len: usize) -> Self {
        Self::new(
            "2050",
            "String length is either shorter or longer than supported by specification",
            format!(
                "String length specified does not match the supported length. Min:0 Max:{max} supported. Supplied length:{len}"
            ),
            element,
        )
    }

    /// 2500: a reference to an id that does not exist (`list` is QBO's list name, e.g. `Accounts`).
    /// Recorded 2500 faults carry an empty `element`; the field is named by the list in `Detail`.
    pub fn invalid_ref(_element: &str, list: &str, id: &str) -> Self {
        Self::new(
            "2500",
            "Invalid Reference Id",
            format!("Invalid Reference Id : {list} element id {id} not found"),
            "",
        )
    }

    /// 610: the object is inactive or deleted.
    pub fn not_found(element: &str) -> Self {
        Self::new(
            "610",
            "Object Not Found",
            "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.",
            element,
        )
    }

    /// 6240: duplicate name.
    pub fn duplicate_name(detail: &str) -> Self {
        Self::new(
            "6240",
            "Duplicate Name Exists Error",
            format!("The name supplied already exists. : {detail}"),
            "",
        )
        .without_element()
    }

    /// 6140: duplicate document number.
    pub fn duplicate_doc(doc: &str, txn_type: &str, txn_id: &str) -> Self {
        Self::new(
            "6140",
            "Duplicate Document Number Error",
            format!(
                "Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber={doc} is assigned to TxnType={txn_type} with TxnId={txn_id}"
            ),
            "",
        )
    }

    /// 5010: stale SyncToken.
    pub fn stale() -> Self {
        Self::new(
            "5010",
            "Stale Object Error",
            "Stale Object Error : You and sandbox@ledgerbridge.test were working on this at the same time. sandbox@ledgerbridge.test finished before you did, so your work was not saved.",
            "",
        )
    }

    /// 6210: the books are closed for that date.
    pub fn period_closed(close: &str) -> Self {
        Self::new(
            "6210",
            "Account Period Closed",
            format!(
                "The account period has closed and the books are locked as of {close}. Please change the transaction date or ask the company admin to reopen the period."
            ),
            "TxnDate",
        )
    }

    /// 6190: the company's subscription ended (control API switch).
    pub fn subscription_lapsed() -> Self {
        Self::new(
            "6190",
            "Invalid Company Status",
            "Subscription period has ended or canceled or there was a billing problem : You can't add data to QuickBooks Online because your trial or subscription period ended, you canceled your subscription, or there was a billing problem.",
            "",
        )
    }

    /// 6000: a business rule.
    pub fn business(detail: &str, element: &str) -> Self {
        Self::new(
            "6000",
            "A business validation error has occurred while processing your request",
            format!("Business Validation Error: {detail}"),
            element,
        )
    }

    /// 6070: line amount differs from quantity × unit price (`element` is `Line.Amount`).
    pub fn amount_mismatch(supplied: &str) -> Self {
        Self::new(
            "6070",
            "Amount calculation incorrect in the request.",
            format!("Amount is not equal to UnitPrice * Qty. Supplied value:{supplied}"),
            "Line.Amount",
        )
    }

    /// 4001: query not understood (recorded without `element`).
    pub fn query(detail: &str) -> Self {
        Self::new(
            "4001",
            "Invalid query",
            format!("QueryValidationError: {detail}"),
            "",
        )
        .without_element()
    }

    /// 500: unsupported operation or unknown path.
    pub fn unsupported(detail: &str) -> Self {
        Self::new("500", "Unsupported Operation", detail, "").without_element()
    }

    /// 10000: injected system failure.
    pub fn system() -> Self {
        Self {
            status: 500,
            code: "10000".into(),
            message: "An application error has occurred while processing your request".into(),
            detail: "System Failure Error: An unexpected error occurred while accessing or saving your data. Please wait a few minutes and try again. If the problem persists, contact customer support.".into(),
            element: String::new(),
            omit_element: false,
            omit_time: false,
            fault_type: "SystemFault",
        }
    }

    /// The `Fault` object (without `time`).
    pub fn fault_value(&self) -> Value {
        let mut error = json!({"Message": self.message, "Detail": self.detail, "code": self.code});
        if !self.omit_element {
            error["element"] = json!(self.element);
        }
        json!({"Error": [error], "type": self.fault_type})
    }
}

/// The lower-case gateway body of a 401 (code 3200) or 403 (code 3100).
pub fn gateway_auth_body(status: u16, detail: &str, epoch_millis: i64) -> Value {
    let (message, code, kind) = if status == 403 {
        (
            "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
            "3100",
            "SERVICE",
        )
    } else {
        (
            "message=AuthenticationFailed; errorCode=003200; statusCode=401",
            "3200",
            "AUTHENTICATION",
        )
    };
    json!({
        "warnings": null,
        "intuitObject": null,
        "fault": {"error": [{"message": message, "detail": detail, "code": code, "element": null}], "type": kind},
        "report": null,
        "queryResponse": null,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": null,
        "requestId": null,
        "time": epoch_millis,
        "status": null,
        "cdcresponse": []
    })
}

/// A 401/403 response with the gateway body and, for 401, `WWW-Authenticate`.
pub fn auth_response(status: u16, detail: &str, epoch_millis: i64) -> Response {
    let body = gateway_auth_body(status, detail, epoch_millis).to_string();
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED),
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response();
    if status == 401 {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"Intuit\", error=\"invalid_token\""),
        );
    }
    resp
}

/// The XML body QBO sends with a 429, whatever `Accept` said.
pub fn throttle_xml(time: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<IntuitResponse xmlns=\"http://schema.intuit.com/finance/v3\" time=\"{time}\"><Fault type=\"SERVICE\"><Error code=\"3001\"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.  Try again later</Detail></Error></Fault></IntuitResponse>"
    )
}

/// The load balancer's HTML 503 page.
pub const SERVICE_UNAVAILABLE_HTML: &str = "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>503 Service Unavailable</title>\n</head><body>\n<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your\nrequest due to maintenance downtime or capacity\nproblems. Please try again later.</p>\n</body></html>\n";
