//! The rows of the documents page and their words: each document's line, the failure groups
//! above the table, and where each failure is fixed.

use std::collections::HashMap;

use chrono_tz::Tz;

use super::super::dashboard::{Status, day_label, local};
use super::state_status;
use crate::dashboard::Document;
use crate::dashboard::money;
use crate::ids::IntegrationId;
use crate::sync::ledger::{LedgerState, Source};

/// Where a failure is fixed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixLink {
    /// The link's words.
    pub label: String,
    /// Where it goes.
    pub href: String,
    /// Outside Ledgerbridge (QuickBooks, TrackTik): opens in a new tab.
    pub external: bool,
}

/// Where the fix of a failure is made: the wizard step that holds the setting, the QuickBooks
/// screen, or the TrackTik portal.
pub fn fix_link(
    fix_at: Option<&str>,
    code: Option<&str>,
    fix_hint: Option<&str>,
    source: Option<Source>,
    integration: IntegrationId,
    qbo_app: &str,
    portal: &str,
) -> Option<FixLink> {
    let step = |slug: &str, name: &str| FixLink {
        label: format!("Open the {name} step"),
        href: format!("/integrations/{integration}/setup/{slug}"),
        external: false,
    };
    let qbo = |path: &str, label: &str| FixLink {
        label: label.to_owned(),
        href: format!("{qbo_app}{path}"),
        external: true,
    };
    Some(match fix_at? {
        "settings/billing" => step("billing", "Billing"),
        "settings/payroll" => step("payroll", "Payroll"),
        "settings/taxes" => step("taxes", "Taxes"),
        "settings" if fix_hint.is_some_and(|h| h.contains("tax settings")) => {
            step("taxes", "Taxes")
        }
        "settings" => match source {
            Some(Source::Payrun) => step("payroll", "Payroll"),
            Some(Source::Invoice | Source::CreditMemo) => step("billing", "Billing"),
            None => step("review", "Review"),
        },
        "quickbooks" => match code {
            Some("6210") => qbo(
                "settings?p=Advanced",
                "Open QuickBooks: Account and settings › Advanced (closing date)",
            ),
            _ => qbo("", "Open QuickBooks"),
        },
        "tracktik" => FixLink {
            label: "Open TrackTik".into(),
            href: portal.to_owned(),
            external: true,
        },
        "support" => FixLink {
            label: "Talk to an expert".into(),
            href: format!("/integrations/{integration}/expert"),
            external: false,
        },
        _ => return None,
    })
}

/// One row of the table.
pub struct DocLine {
    /// Row id (for Retry).
    pub id: i64,
    /// Invoice or pay run.
    pub kind: &'static str,
    /// TrackTik number.
    pub number: String,
    /// QuickBooks number, when it differs.
    pub qbo_number: Option<String>,
    /// Trading day.
    pub day: String,
    /// Approved at, local.
    pub approved: String,
    /// Amount.
    pub amount: String,
    /// Currency.
    pub currency: String,
    /// State.
    pub status: Status,
    /// "View in QuickBooks".
    pub qbo_link: Option<String>,
    /// Why it failed (or was skipped), in plain language.
    pub reason: Option<String>,
    /// What to do.
    pub fix: Option<String>,
    /// Where.
    pub fix_link: Option<FixLink>,
    /// Passes by itself.
    pub retryable: bool,
    /// Changed or deleted in TrackTik after posting.
    pub changed: Option<String>,
    /// QuickBooks' total differs.
    pub discrepancy: Option<String>,
    /// What a rollback did to it.
    pub reversal: Option<String>,
    /// Its cause is shared with other failures: what to do is said once, in the group.
    pub grouped: Option<Grouped>,
    /// Offer Retry.
    pub can_retry: bool,
}

/// A failure whose cause and fix are shown once, in its group.
pub struct Grouped {
    /// The group's anchor.
    pub anchor: String,
    /// How many other documents failed the same way.
    pub others: i64,
}

/// One group of failures.
pub struct GroupLine {
    /// Heading.
    pub label: &'static str,
    /// Documents.
    pub count: i64,
    /// The newest reason.
    pub example: String,
    /// What to do.
    pub fix: Option<String>,
    /// Where.
    pub fix_link: Option<FixLink>,
    /// The filtered list.
    pub href: String,
    /// Its anchor on the page.
    pub anchor: String,
    /// The documents, by number: "INV-1, INV-2, INV-7 and 157 more".
    pub documents: String,
}

/// What every row of one page shares.
pub(super) struct Context<'a> {
    pub(super) id: IntegrationId,
    pub(super) staff: bool,
    /// The reader may retry (Retry buttons).
    pub(super) may_retry: bool,
    pub(super) active: bool,
    pub(super) zone: Tz,
    pub(super) home: &'a str,
    pub(super) qbo_app: &'a str,
    pub(super) portal: &'a str,
    /// Failed documents per error code: a failure that shares its cause with others says what
    /// to do once, in its group above the table.
    /// (count, the group's example reason).
    pub(super) groups: HashMap<String, (i64, String)>,
}

/// The anchor of a failure group on the page.
pub(super) fn group_anchor(code: &str) -> String {
    let safe: String = code
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("why-{safe}")
}

impl Context<'_> {
    pub(super) fn link(
        &self,
        fix_at: Option<&str>,
        code: Option<&str>,
        hint: Option<&str>,
        source: Option<Source>,
    ) -> Option<FixLink> {
        // Staff cannot open the customer's settings, QuickBooks or TrackTik: words only.
        if self.staff {
            return None;
        }
        fix_link(
            fix_at,
            code,
            hint,
            source,
            self.id,
            self.qbo_app,
            self.portal,
        )
    }

    pub(super) fn line(&self, d: Document) -> DocLine {
        let failed = d.state == LedgerState::Failed;
        let code = d.error_code.as_deref().unwrap_or("unknown");
        let group = self.groups.get(code).filter(|(n, _)| failed && *n > 1);
        let grouped = group.map(|(n, _)| Grouped {
            anchor: group_anchor(code),
            others: n - 1,
        });
        // The group above already says a reason shared word for word.
        let said_above = group.is_some_and(|(_, example)| d.last_error.as_ref() == Some(example));
        let failed_alone = failed && grouped.is_none();
        let shows_reason = matches!(
            d.state,
            LedgerState::Failed | LedgerState::Skipped | LedgerState::Pending
        );
        DocLine {
            id: d.ledger_entry_id,
            kind: d.source.label(),
            qbo_number: d.qbo_doc_number.clone().filter(|n| *n != d.doc_number),
            day: day_label(d.trading_day),
            approved: local(d.approved_at, self.zone),
            amount: money(d.amount),
            currency: d.currency_or(self.home).to_owned(),
            status: state_status(d.state),
            qbo_link: d
                .qbo_link
                .clone()
                .filter(|_| d.state == LedgerState::Posted),
            reason: d.last_error.clone().filter(|_| shows_reason && !said_above),
            fix: d.fix_hint.clone().filter(|_| failed_alone),
            fix_link: if failed_alone {
                self.link(
                    d.fix_at.as_deref(),
                    d.error_code.as_deref(),
                    d.fix_hint.as_deref(),
                    Some(d.source),
                )
            } else {
                None
            },
            retryable: d.retryable,
            changed: d
                .change_note
                .clone()
                .or_else(|| {
                    d.changed_in_tracktik
                        .then(|| "Changed in TrackTik after it was posted.".to_owned())
                })
                .filter(|_| d.changed_in_tracktik),
            discrepancy: d.discrepancy.clone(),
            reversal: d.reversal_note.clone(),
            grouped,
            can_retry: failed && self.active && self.may_retry,
            number: d.doc_number,
        }
    }
}
