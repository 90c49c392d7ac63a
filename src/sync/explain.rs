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
    let detail = fault
        .errors
        .first()
        .map(|f| format!("{} {}", f.message, f.detail))
        .unwrap_or_default();
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
            match &named {
                Some(n) => format!(
                    "\"{n}\", used by this {what}, is inactive or was deleted in QuickBooks."
                ),
                None => format!(
                    "Something this {what} uses ({element}) is inactive or was deleted in QuickBooks."
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
        "6000" if element.contains("TaxCodeRef") => (
            format!("QuickBooks needs a tax code on every line of this {what}."),
            "Choose the tax codes in the tax settings, then retry.",
            "settings",
        ),
        "6000" if element.contains("CurrencyRef") => (
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

/// The HTTP status of a refusal that came without a fault, in words.
fn status_words(e: &QboError) -> String {
    match e {
        QboError::Rejected { status: 413, .. } => "the request was too large, HTTP 413".into(),
        QboError::Rejected { status, .. } => format!("HTTP {status}"),
        _ => "no fault in the answer".into(),
    }
}
