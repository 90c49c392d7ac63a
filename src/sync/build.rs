//! Building the QuickBooks transaction of one document: the engine's adapter over
//! [`super::translate`] (pure functions), plus the checks the engine applies to its answer.
//!
//! Money rule: amounts are copied from TrackTik and summed, never recomputed. A disagreement in
//! TrackTik's own figures that affects a total (subtotal, tax total, total, pay-run total:
//! [`translate::Check::affects_total`]) fails the document with the figures, so it is reported
//! and never adjusted away. A line whose amount is not quantity × rate is posted without
//! quantity and rate (translate's rule), which changes no amount. Line amounts are then rounded
//! to the cent ([`Built::round_to_cents`]), because QuickBooks keeps cents: the total we expect
//! is then the one QuickBooks holds, and a difference with TrackTik's total is recorded on the
//! document (its discrepancy), never hidden.

use rust_decimal::Decimal;

use crate::integrations::CompanyProfile;
use crate::integrations::settings::{QboRef, Settings};
use crate::providers::quickbooks::models::{self as qbo, Line};

use super::dimensions::Needed;
use super::ledger::Failure;
use super::source::{InvoiceDoc, PayrunDoc, Reference};
use super::translate::{
    self, DimensionRefs, FixAt, InvoiceContext, InvoiceDocument, Names, PayrunContext,
    PayrunDocument, QboPayrun, TranslateError,
};

/// A transaction ready to create, with the total TrackTik says it must have.
#[derive(Clone, Debug)]
pub struct Built {
    /// The transaction.
    pub txn: Txn,
    /// TrackTik's total.
    pub expected_total: Decimal,
}

/// The QBO transaction.
#[derive(Clone, Debug)]
pub enum Txn {
    /// An invoice.
    Invoice(qbo::Invoice),
    /// A credit-card expense.
    Purchase(qbo::Purchase),
    /// A bill.
    Bill(qbo::Bill),
    /// A journal entry.
    JournalEntry(qbo::JournalEntry),
    /// A credit memo (a TrackTik credit memo, or an invoice below zero).
    CreditMemo(qbo::CreditMemo),
}

impl Built {
    /// The QBO entity name.
    pub fn entity(&self) -> &'static str {
        match &self.txn {
            Txn::Invoice(_) => "Invoice",
            Txn::Purchase(_) => "Purchase",
            Txn::Bill(_) => "Bill",
            Txn::JournalEntry(_) => "JournalEntry",
            Txn::CreditMemo(_) => "CreditMemo",
        }
    }

    /// The path segment of its "View in QuickBooks" link.
    pub fn link_path(&self) -> &'static str {
        link_path(self.entity())
    }

    /// Its `DocNumber`.
    pub fn doc_number(&self) -> &str {
        match &self.txn {
            Txn::Invoice(t) => t.doc_number.as_deref(),
            Txn::Purchase(t) => t.doc_number.as_deref(),
            Txn::Bill(t) => t.doc_number.as_deref(),
            Txn::JournalEntry(t) => t.doc_number.as_deref(),
            Txn::CreditMemo(t) => t.doc_number.as_deref(),
        }
        .unwrap_or_default()
    }

    /// Moves it to another date (closed books).
    pub fn set_txn_date(&mut self, date: chrono::NaiveDate) {
        match &mut self.txn {
            Txn::Invoice(t) => t.txn_date = Some(date),
            Txn::Purchase(t) => t.txn_date = Some(date),
            Txn::Bill(t) => t.txn_date = Some(date),
            Txn::JournalEntry(t) => t.txn_date = Some(date),
            Txn::CreditMemo(t) => t.txn_date = Some(date),
        }
    }

    /// Its lines.
    pub fn lines(&self) -> &[Line] {
        match &self.txn {
            Txn::Invoice(t) => &t.line,
            Txn::Purchase(t) => &t.line,
            Txn::Bill(t) => &t.line,
            Txn::JournalEntry(t) => &t.line,
            Txn::CreditMemo(t) => &t.line,
        }
    }

    /// Σ line amounts (debits only for journal entries): what a found document must carry to
    /// be taken for this one.
    pub fn lines_total(&self) -> Decimal {
        lines_total(self.lines())
    }

    /// Its date.
    pub fn txn_date(&self) -> Option<chrono::NaiveDate> {
        match &self.txn {
            Txn::Invoice(t) => t.txn_date,
            Txn::Purchase(t) => t.txn_date,
            Txn::Bill(t) => t.txn_date,
            Txn::JournalEntry(t) => t.txn_date,
            Txn::CreditMemo(t) => t.txn_date,
        }
    }

    /// The customer (invoice), vendor (bill) or paying account (expense) it is for, as
    /// QuickBooks stores it; none for a journal entry.
    pub fn party(&self) -> Option<&str> {
        match &self.txn {
            Txn::Invoice(t) => t.customer_ref.as_ref(),
            Txn::Purchase(t) => t.account_ref.as_ref(),
            Txn::Bill(t) => t.vendor_ref.as_ref(),
            Txn::CreditMemo(t) => t.customer_ref.as_ref(),
            Txn::JournalEntry(_) => None,
        }
        .map(|r| r.value.as_str())
    }

    /// The transaction as JSON, exactly as it is sent.
    pub fn to_json(&self) -> serde_json::Result<serde_json::Value> {
        match &self.txn {
            Txn::Invoice(t) => serde_json::to_value(t),
            Txn::Purchase(t) => serde_json::to_value(t),
            Txn::Bill(t) => serde_json::to_value(t),
            Txn::JournalEntry(t) => serde_json::to_value(t),
            Txn::CreditMemo(t) => serde_json::to_value(t),
        }
    }

    fn lines_mut(&mut self) -> &mut Vec<Line> {
        match &mut self.txn {
            Txn::Invoice(t) => &mut t.line,
            Txn::Purchase(t) => &mut t.line,
            Txn::Bill(t) => &mut t.line,
            Txn::JournalEntry(t) => &mut t.line,
            Txn::CreditMemo(t) => &mut t.line,
        }
    }

    /// The credit memo that credits this invoice (a TrackTik credit memo is read as an
    /// invoice): same customer, lines and totals.
    pub fn into_credit_memo(self) -> Built {
        match self.txn {
            Txn::Invoice(i) => Built {
                txn: Txn::CreditMemo(qbo::CreditMemo::crediting(i)),
                expected_total: self.expected_total,
            },
            _ => self,
        }
    }

    /// Rounds every line amount to the cent, half away from zero, as QuickBooks keeps them, so
    /// that the total we expect is the total QuickBooks holds and a look-up can recognise the
    /// document. A journal entry stays balanced: its last credit line (the liability) takes the
    /// rounded debits less the other rounded credits.
    pub fn round_to_cents(&mut self) {
        let is_journal = matches!(self.txn, Txn::JournalEntry(_));
        let lines = self.lines_mut();
        for line in lines.iter_mut() {
            if let Some(a) = line.amount {
                line.amount = Some(cents(a));
            }
        }
        if !is_journal {
            return;
        }
        let side = |l: &Line| {
            l.journal_entry_line_detail
                .as_ref()
                .map(|d| d.posting_type.clone())
                .unwrap_or_default()
        };
        let Some(last_credit) = lines.iter().rposition(|l| side(l) == "Credit") else {
            return;
        };
        let debits: Decimal = lines
            .iter()
            .filter(|l| side(l) == "Debit")
            .filter_map(|l| l.amount)
            .sum();
        let other_credits: Decimal = lines
            .iter()
            .enumerate()
            .filter(|(i, l)| *i != last_credit && side(l) == "Credit")
            .filter_map(|(_, l)| l.amount)
            .sum();
        lines[last_credit].amount = Some(debits - other_credits);
    }
}

/// A transaction read back from the JSON it was sent as (a recorded send), to explain its
/// answer. `None` for an entity the sync does not send.
pub fn from_json(entity: &str, v: &serde_json::Value, expected_total: Decimal) -> Option<Built> {
    let txn = match entity {
        "Invoice" => Txn::Invoice(serde_json::from_value(v.clone()).ok()?),
        "Purchase" => Txn::Purchase(serde_json::from_value(v.clone()).ok()?),
        "Bill" => Txn::Bill(serde_json::from_value(v.clone()).ok()?),
        "JournalEntry" => Txn::JournalEntry(serde_json::from_value(v.clone()).ok()?),
        "CreditMemo" => Txn::CreditMemo(serde_json::from_value(v.clone()).ok()?),
        _ => return None,
    };
    Some(Built {
        txn,
        expected_total,
    })
}

/// `d` rounded to the cent, half away from zero (QuickBooks' rounding).
pub fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// The path segment of a "View in QuickBooks" link for an entity.
pub fn link_path(entity: &str) -> &'static str {
    match entity {
        "Invoice" => "invoice",
        "CreditMemo" => "creditmemo",
        "Purchase" => "expense",
        "Bill" => "bill",
        _ => "journal",
    }
}

/// Σ amounts of item, expense and debit lines (QBO's appended subtotal line excluded).
pub fn lines_total(lines: &[Line]) -> Decimal {
    lines
        .iter()
        .filter(|l| match l.detail_type {
            qbo::DetailType::SalesItemLineDetail
            | qbo::DetailType::AccountBasedExpenseLineDetail
            | qbo::DetailType::ItemBasedExpenseLineDetail => true,
            qbo::DetailType::JournalEntryLineDetail => l
                .journal_entry_line_detail
                .as_ref()
                .is_some_and(|d| d.posting_type == "Debit"),
            _ => false,
        })
        .filter_map(|l| l.amount)
        .sum()
}

/// Code of a document with nothing to post (it is skipped, not failed).
pub const NOTHING_TO_POST: &str = "nothing_to_post";

/// Why a document was not built.
#[derive(Clone, Debug)]
pub enum Unbuilt {
    /// It needs a Class or Location the run has not resolved yet: resolve it and build again.
    Needs(Needed),
    /// It cannot be posted (or has nothing to post), for this reason.
    Failed(Failure),
}

impl From<Failure> for Unbuilt {
    fn from(f: Failure) -> Self {
        Self::Failed(f)
    }
}

fn unbuilt(e: TranslateError) -> Unbuilt {
    match e {
        TranslateError::MissingDimension {
            dimension,
            from,
            id,
            name,
            area,
        } => Unbuilt::Needs(Needed {
            kind: dimension,
            from,
            id,
            name,
            area,
        }),
        e => Unbuilt::Failed(failure(&e)),
    }
}

fn failure(e: &TranslateError) -> Failure {
    let (fix, fix_at) = match e.fix_at() {
        FixAt::Billing => (
            "Change it in the Billing settings, then retry.",
            "settings/billing",
        ),
        FixAt::Payroll => (
            "Change it in the Payroll settings, then retry.",
            "settings/payroll",
        ),
        FixAt::Taxes => (
            "Change it in the Tax settings, then retry.",
            "settings/taxes",
        ),
        FixAt::QuickBooks => ("Change it in QuickBooks, then retry.", "quickbooks"),
        FixAt::TrackTik => (
            "Correct the document in TrackTik; the next run posts the corrected version.",
            "tracktik",
        ),
    };
    Failure {
        message: e.to_string(),
        code: if matches!(e, TranslateError::NothingToPost { .. }) {
            NOTHING_TO_POST.into()
        } else {
            "translate".into()
        },
        fix: fix.into(),
        fix_at: Some(fix_at.into()),
        retryable: false,
    }
}

/// Fails on disagreements in TrackTik's own figures (see the module doc).
fn check(discrepancies: &[translate::Discrepancy]) -> Result<(), Failure> {
    let blocking: Vec<String> = discrepancies
        .iter()
        .filter(|d| d.what.affects_total())
        .map(ToString::to_string)
        .collect();
    if blocking.is_empty() {
        return Ok(());
    }
    Err(Failure {
        message: format!(
            "TrackTik's figures do not add up, so nothing was posted: {}.",
            blocking.join("; ")
        ),
        code: "tracktik_totals".into(),
        fix: "Correct the document in TrackTik; the next run posts the corrected version.".into(),
        fix_at: Some("tracktik".into()),
        retryable: false,
    })
}

fn names(reference: &Reference) -> Names {
    let mut n = Names::default();
    for (id, c) in &reference.clients {
        if let Some(name) = c.display_name() {
            n.clients.insert(*id, name.to_owned());
            n.sites.insert(*id, name.to_owned());
        }
    }
    n.regions = reference.regions.clone().into_iter().collect();
    n.bill_items = reference.bill_items.clone().into_iter().collect();
    n.tax_classes = reference.tax_classes.clone().into_iter().collect();
    n
}

/// A TrackTik invoice → a QBO invoice for `customer`, with the Classes and Locations resolved
/// so far.
pub fn invoice(
    doc: &InvoiceDoc,
    settings: &Settings,
    company: &CompanyProfile,
    reference: &Reference,
    customer: &QboRef,
    currency: Option<&str>,
    dimensions: &DimensionRefs,
) -> Result<Built, Unbuilt> {
    let region_id = doc
        .invoice
        .client
        .as_ref()
        .and_then(|c| reference.clients.get(&c.id()))
        .and_then(|c| c.region.as_ref())
        .map(|r| r.id());
    let document = InvoiceDocument {
        invoice: doc.invoice.clone(),
        lines: doc.lines.clone(),
        billable_items: doc.billable_items.clone(),
        line_taxes: doc.taxes.clone(),
        tax_class_items: reference.tax_class_items.clone(),
        region_id,
    };
    let names = names(reference);
    let ctx = InvoiceContext {
        settings,
        company,
        currency,
        customer: Some(customer),
        names: &names,
        dimensions,
    };
    let t = translate::translate_invoice(&document, &ctx).map_err(unbuilt)?;
    check(&t.discrepancies)?;
    let mut built = Built {
        txn: Txn::Invoice(t.invoice),
        expected_total: t.expected_total,
    };
    if t.credit {
        // Below zero: QuickBooks keeps it as a credit memo (translate turned its lines round).
        built = built.into_credit_memo();
    }
    built.round_to_cents();
    Ok(built)
}

/// A TrackTik pay run → the QBO transaction the payroll settings ask for, with the Classes and
/// Locations resolved so far.
pub fn payrun(
    doc: &PayrunDoc,
    settings: &Settings,
    company: &CompanyProfile,
    reference: &Reference,
    currency: Option<&str>,
    dimensions: &DimensionRefs,
) -> Result<Built, Unbuilt> {
    let document = PayrunDocument {
        payrun: doc.payrun.clone(),
        items: doc.items.clone(),
    };
    let names = names(reference);
    let ctx = PayrunContext {
        settings,
        company,
        currency,
        ap_account: None,
        names: &names,
        dimensions,
    };
    let t = translate::translate_payrun(&document, &ctx).map_err(unbuilt)?;
    check(&t.discrepancies)?;
    let mut built = Built {
        txn: match t.transaction {
            QboPayrun::Purchase(p) => Txn::Purchase(p),
            QboPayrun::Bill(b) => Txn::Bill(b),
            QboPayrun::JournalEntry(j) => Txn::JournalEntry(j),
        },
        expected_total: t.expected_total,
    };
    built.round_to_cents();
    Ok(built)
}
