//! QuickBooks refusals in the customer's words, with what to do and where.

use crate::providers::quickbooks::QboError;
use crate::providers::quickbooks::models::Ref;

use super::build::{Built, Txn};
use super::ledger::Failure;

pub(crate) fn qbo_failure(what: &str, e: &QboError) -> Failure {
    if e.is_retryable() {
        return Failure {
            message: format!("QuickBooks did not answer in time while {what}."),
            code: "qbo_unavailable".into(),
            fix: "Nothing to do: the next run tries again.".into(),
            fix_at: None,
            retryable: true,
        };
    }
    Failure {
        message: format!("QuickBooks refused {what}: {}", summary(e)),
        code: e.fault().and_then(|f| f.code()).unwrap_or("qbo").to_owned(),
        fix: "Fix it in QuickBooks, then retry the document.".into(),
        fix_at: Some("quickbooks".into()),
        retryable: false,
    }
}

fn summary(e: &QboError) -> String {
    e.fault()
        .map(|f| f.summary())
        .unwrap_or_else(|| e.to_string())
}

/// Names of every reference in the document, to name what QuickBooks refused.
fn named_refs(built: &Built) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut push = |r: &Option<Ref>| {
        if let Some(r) = r {
            if let Some(n) = &r.name {
                out.push((r.value.clone(), n.clone()));
            }
        }
    };
    let lines = match &built.txn {
        Txn::Invoice(t) => {
            push(&t.customer_ref);
            &t.line
        }
        Txn::Purchase(t) => {
            push(&t.account_ref);
            &t.line
        }
        Txn::Bill(t) => {
            push(&t.vendor_ref);
            &t.line
        }
        Txn::JournalEntry(t) => &t.line,
        Txn::CreditMemo(t) => {
            push(&t.customer_ref);
            &t.line
        }
    };
    for l in lines {
        if let Some(d) = &l.sales_item_line_detail {
            push(&d.item_ref);
            push(&d.tax_code_ref);
        }
        if let Some(d) = &l.account_based_expense_line_detail {
            push(&d.account_ref);
        }
        if let Some(d) = &l.journal_entry_line_detail {
            push(&Some(d.account_ref.clone()));
        }
    }
    out
}

/// A refusal in the customer's words, with the fix.
pub(crate) fn explain(e: &QboError, built: &Built) -> Failure {
    if e.is_retryable() || matches!(e, QboError::InvalidResponse { .. }) {
        return Failure {
            message: "QuickBooks did not answer in time; the document is sent again by the next run (it cannot be duplicated).".into(),
            code: "qbo_unavailable".into(),
            fix: "Nothing to do.".into(),
            fix_at: None,
            retryable: true,
        };
    }
    let Some(fault) = e.fault() else {
        return qbo_failure("the document", e);
    };
    let code = fault.code().unwrap_or("qbo").to_owned();
    // Explanations key on what QuickBooks sends every time (code, message, detail). `element` is
    // often empty in real faults (2500, the Canadian 6000 tax fault), so it only adds words.
    let detail = fault
        .errors
        .first()
        .map(|f| format!("{} {}", f.message, f.detail))
        .unwrap_or_default();
    let words = detail.to_lowercase();
    let element = fault
        .errors
        .first()
        .and_then(|f| f.element.clone())
        .unwrap_or_default();
    let named = named_refs(built)
        .into_iter()
        .find(|(id, _)| {
            detail
                .split(|c: char| !c.is_ascii_digit())
                .any(|w| !w.is_empty() && w == id)
        })
        .map(|(_, n)| n);
    let what = built.entity();
    let (message, fix, fix_at) = match code.as_str() {
        "610" | "2500" => (
            match (&named, element.is_empty()) {
                (Some(n), _) => format!(
                    "\"{n}\", used by this {what}, is inactive or was deleted in QuickBooks."
                ),
                (None, false) => format!(
                    "Something this {what} uses ({element}) is inactive or was deleted in QuickBooks."
                ),
                (None, true) => format!(
                    "Something this {what} uses (an account, customer, vendor, product or tax code) is inactive or was deleted in QuickBooks."
                ),
            },
            "Make it active again in QuickBooks, or choose another one in the settings, then retry.",
            "settings",
        ),
        "6210" => (
            format!("The QuickBooks books are closed for the date of this {what}."),
            "Move the closing date in QuickBooks, or choose \"post on the first open date\" in the schedule settings, then retry.",
            "quickbooks",
        ),
        "6140" => (
            format!(
                "QuickBooks already has a {what} numbered {} that Ledgerbridge did not create.",
                built.doc_number()
            ),
            "Renumber or delete the other one in QuickBooks, or change the document number template, then retry.",
            "quickbooks",
        ),
        "6190" => (
            "The QuickBooks subscription is not active, so nothing can be posted.".into(),
            "Reactivate the QuickBooks subscription, then retry.",
            "quickbooks",
        ),
        "6000" if mentions_tax_code(&words) => (
            format!("QuickBooks needs a tax code on every line of this {what}."),
            "Choose the tax codes in the tax settings, then retry.",
            "settings",
        ),
        "6000" if words.contains("currency") => (
            format!(
                "The currency of this {what} does not match its customer or vendor in QuickBooks."
            ),
            "Use a customer or vendor in the document's currency (pick one in the settings), then retry.",
            "settings",
        ),
        _ if fault.errors.is_empty() => (
            format!(
                "QuickBooks refused this {what} without saying why ({}).",
                status_words(e)
            ),
            "Check the document in TrackTik (its size and amounts) and retry; if it fails again, ask support with the document number.",
            "quickbooks",
        ),
        _ => (
            format!("QuickBooks refused this {what}: {}", fault.summary()),
            "Fix it in QuickBooks or in the settings, then retry.",
            "quickbooks",
        ),
    };
    Failure {
        message,
        code,
        fix: fix.into(),
        fix_at: Some(fix_at.into()),
        retryable: false,
    }
}

/// Whether a fault's words are about a missing or wrong tax code (the Canadian company's
/// "Make sure all your transactions have a GST/HST rate before you save." among them).
fn mentions_tax_code(words: &str) -> bool {
    ["gst/hst", "tax code", "taxcode", "tax rate", "sales tax"]
        .iter()
        .any(|w| words.contains(w))
}

/// The HTTP status of a refusal that came without a fault, in words.
fn status_words(e: &QboError) -> String {
    match e {
        QboError::Rejected { status: 413, .. } => "the request was too large, HTTP 413".into(),
        QboError::Rejected { status, .. } => format!("HTTP {status}"),
        _ => "no fault in the answer".into(),
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::explain;
    use crate::providers::quickbooks::QboError;
    use crate::providers::quickbooks::error::parse_fault;
    use crate::providers::quickbooks::models::{self as qbo, Line, Ref, SalesItemLineDetail};
    use crate::sync::build::{Built, Txn};

    fn invoice() -> Built {
        let mut item = Ref::id("22");
        item.name = Some("Guard Services".into());
        let mut customer = Ref::id("28");
        customer.name = Some("Northwind Mall".into());
        Built {
            txn: Txn::Invoice(qbo::Invoice {
                customer_ref: Some(customer),
                doc_number: Some("INV-7".into()),
                line: vec![Line::sales(
                    Decimal::ONE,
                    SalesItemLineDetail {
                        item_ref: Some(item),
                        ..Default::default()
                    },
                )],
                ..Default::default()
            }),
            expected_total: Decimal::ONE,
        }
    }

    /// A 400 with a fault body shaped as QuickBooks sends it.
    fn refused(body: &str) -> QboError {
        QboError::Rejected {
            status: 400,
            fault: parse_fault(body),
            intuit_tid: None,
        }
    }

    #[test]
    fn the_canadian_missing_tax_fault_with_an_empty_element_asks_for_tax_codes() {
        // As recorded (activepieces/activepieces#8539): code 6000, element "".
        let e = refused(
            r#"{"Fault":{"Error":[{"Message":"A business validation error has occurred while processing your request","Detail":"Business Validation Error: Make sure all your transactions have a GST/HST rate before you save.","code":"6000","element":""}],"type":"ValidationFault"},"time":"2025-07-26T21:32:59.136-07:00"}"#,
        );
        let f = explain(&e, &invoice());
        assert_eq!(f.code, "6000");
        assert!(
            f.message.contains("needs a tax code on every line"),
            "{}",
            f.message
        );
        assert_eq!(f.fix_at.as_deref(), Some("settings"));
    }

    #[test]
    fn a_currency_fault_is_explained_from_its_detail_whatever_the_element() {
        let e = refused(
            r#"{"Fault":{"Error":[{"Message":"A business validation error has occurred while processing your request","Detail":"Business Validation Error: The transaction currency (USD) must match the currency of the customer or vendor (CAD).","code":"6000","element":""}],"type":"ValidationFault"},"time":"2026-11-20T10:17:20.251-05:00"}"#,
        );
        let f = explain(&e, &invoice());
        assert!(
            f.message
                .contains("currency of this Invoice does not match"),
            "{}",
            f.message
        );
    }

    #[test]
    fn a_missing_reference_names_the_thing_from_the_detail_and_never_prints_empty_brackets() {
        // The detail names the list and id (fylein/fyle-qbo-api fixtures); element is empty.
        let e = refused(
            r#"{"Fault":{"Error":[{"Message":"Invalid Reference Id","Detail":"Invalid Reference Id : Items element id 22 not found","code":"2500","element":""}],"type":"ValidationFault"},"time":"2026-11-20T10:17:20.251-08:00"}"#,
        );
        let f = explain(&e, &invoice());
        assert!(
            f.message
                .starts_with("\"Guard Services\", used by this Invoice"),
            "{}",
            f.message
        );
        // The inactive-object wording QBO also sends (intuit/QuickBooks-V3-PHP-SDK#95): no id.
        let e = refused(
            r#"{"Fault":{"Error":[{"Message":"Invalid Reference Id","Detail":"Invalid Reference Id : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.","code":"2500","element":""}],"type":"ValidationFault"},"time":"2017-11-23T08:05:18.937-08:00"}"#,
        );
        let f = explain(&e, &invoice());
        assert!(!f.message.contains("()"), "{}", f.message);
        assert!(
            f.message.contains("is inactive or was deleted"),
            "{}",
            f.message
        );
        // 610 from a batch item (minimul/qbo_api spec/vcr/batch/basic.yml).
        let e = refused(
            r#"{"Fault":{"Error":[{"Message":"Object Not Found","Detail":"Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees.","code":"610","element":""}],"type":"ValidationFault"}}"#,
        );
        assert!(!explain(&e, &invoice()).message.contains("()"));
    }

    #[test]
    fn closed_books_duplicate_numbers_and_a_lapsed_subscription_keep_their_explanations() {
        for (code, message, detail, says) in [
            (
                "6210",
                "Account Period Closed",
                "The account period has closed and the books are locked as of 2025-12-31.",
                "books are closed",
            ),
            (
                "6140",
                "Duplicate Document Number Error",
                "Duplicate Document Number Error : You must specify a different number. This number has already been used. DocNumber=INV-7 is assigned to TxnType=Invoice with TxnId=130",
                "numbered INV-7",
            ),
            (
                "6190",
                "Invalid Company Status",
                "Subscription period has ended or canceled or there was a billing problem",
                "subscription is not active",
            ),
        ] {
            let body = serde_json::json!({"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}], "type": "ValidationFault"}, "time": "2026-11-20T10:17:20.251-08:00"});
            let f = explain(&refused(&body.to_string()), &invoice());
            assert_eq!(f.code, code);
            assert!(f.message.contains(says), "{code}: {}", f.message);
        }
    }
}
