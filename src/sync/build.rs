//! Building the QuickBooks transaction of one document.
//!
//! Interim: `sync::translate` (another branch) owns the full translation (templates, classes and
//! locations, discrepancy reports). Until it is merged, this module builds the documents the
//! engine posts with the same money rule (amounts copied from TrackTik and summed, never
//! recomputed or rounded; a mismatch fails the document, it is never adjusted away).

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use crate::integrations::CompanyProfile;
use crate::integrations::settings::{PayrollPosting, QboRef, Settings, TaxTarget};
use crate::providers::quickbooks::models::{
    self as qbo, AccountBasedExpenseLineDetail, JournalEntryLineDetail, Line, Ref,
    SalesItemLineDetail,
};

use super::ledger::Failure;
use super::source::{InvoiceDoc, PayrunDoc, Reference, pay_code, payrun_doc_number};

/// QBO keeps at most this many characters of a document number.
pub const MAX_DOC_NUMBER: usize = 21;

/// The QBO `DocNumber` for a TrackTik number: kept when it fits; otherwise its first 12
/// characters, `~` and 8 hex digits of a hash of the whole number (so two long numbers that
/// share a prefix stay distinct, and the same number always gives the same result).
pub fn fit_doc_number(number: &str) -> String {
    let number = number.trim();
    if number.chars().count() <= MAX_DOC_NUMBER {
        return number.to_owned();
    }
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(number.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let head: String = number.chars().take(12).collect();
    format!("{head}~{hex}")
}

/// A transaction ready to create.
#[derive(Clone, Debug)]
pub enum Built {
    /// An invoice.
    Invoice(qbo::Invoice),
    /// A credit-card expense.
    Purchase(qbo::Purchase),
    /// A bill.
    Bill(qbo::Bill),
    /// A journal entry.
    JournalEntry(qbo::JournalEntry),
}

impl Built {
    /// The QBO entity name.
    pub fn entity(&self) -> &'static str {
        match self {
            Self::Invoice(_) => "Invoice",
            Self::Purchase(_) => "Purchase",
            Self::Bill(_) => "Bill",
            Self::JournalEntry(_) => "JournalEntry",
        }
    }

    /// The path segment of its "View in QuickBooks" link.
    pub fn link_path(&self) -> &'static str {
        match self {
            Self::Invoice(_) => "invoice",
            Self::Purchase(_) => "expense",
            Self::Bill(_) => "bill",
            Self::JournalEntry(_) => "journal",
        }
    }

    /// Its `DocNumber`.
    pub fn doc_number(&self) -> &str {
        match self {
            Self::Invoice(t) => t.doc_number.as_deref(),
            Self::Purchase(t) => t.doc_number.as_deref(),
            Self::Bill(t) => t.doc_number.as_deref(),
            Self::JournalEntry(t) => t.doc_number.as_deref(),
        }
        .unwrap_or_default()
    }

    /// Moves it to another date (closed books).
    pub fn set_txn_date(&mut self, date: chrono::NaiveDate) {
        match self {
            Self::Invoice(t) => t.txn_date = Some(date),
            Self::Purchase(t) => t.txn_date = Some(date),
            Self::Bill(t) => t.txn_date = Some(date),
            Self::JournalEntry(t) => t.txn_date = Some(date),
        }
    }

    /// Σ line amounts (debits only for journal entries), what a found document must carry to
    /// be taken for this one.
    pub fn lines_total(&self) -> Decimal {
        lines_total(match self {
            Self::Invoice(t) => &t.line,
            Self::Purchase(t) => &t.line,
            Self::Bill(t) => &t.line,
            Self::JournalEntry(t) => &t.line,
        })
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

fn mapping(message: String, fix: &str) -> Failure {
    Failure {
        message,
        code: "mapping".into(),
        fix: fix.into(),
        fix_at: Some("settings".into()),
        retryable: false,
    }
}

fn totals(message: String) -> Failure {
    Failure {
        message,
        code: "tracktik_totals".into(),
        fix: "Correct the document in TrackTik (or ask TrackTik support); the next run posts the corrected version.".into(),
        fix_at: Some("tracktik".into()),
        retryable: false,
    }
}

fn to_ref(r: &QboRef) -> Ref {
    Ref {
        value: r.id.clone(),
        name: (!r.name.is_empty()).then(|| r.name.clone()),
        kind: None,
    }
}

fn is_us(company: &CompanyProfile) -> bool {
    company.country.eq_ignore_ascii_case("US")
}

/// The `CurrencyRef`: the TrackTik currency in multicurrency companies; none otherwise.
fn currency(company: &CompanyProfile, currency: Option<&str>) -> Result<Option<Ref>, Failure> {
    if !company.prefs.multicurrency {
        return match currency {
            Some(c) if !c.eq_ignore_ascii_case(&company.home_currency) => Err(mapping(
                format!(
                    "TrackTik bills in {c}, but the QuickBooks company works in {} only.",
                    company.home_currency
                ),
                "Turn on multicurrency in QuickBooks (Account and settings → Advanced → Currency), then retry.",
            )),
            _ => Ok(None),
        };
    }
    Ok(Some(Ref::id(
        currency
            .unwrap_or(&company.home_currency)
            .to_ascii_uppercase(),
    )))
}

/// A TrackTik invoice → a QBO invoice for `customer`.
pub fn invoice(
    doc: &InvoiceDoc,
    settings: &Settings,
    company: &CompanyProfile,
    reference: &Reference,
    customer: &QboRef,
    currency_code: Option<&str>,
) -> Result<Built, Failure> {
    let inv = &doc.invoice;
    let number = inv
        .document_number
        .clone()
        .unwrap_or_else(|| inv.id.to_string());
    let us = is_us(company);
    let mut lines = Vec::new();
    let mut subtotal = Decimal::ZERO;
    for l in &doc.lines {
        let amount = l.line_sub_total.unwrap_or_default();
        subtotal += amount;
        let bill_item = doc.bill_item_of_line.get(&l.id).copied();
        let item = bill_item
            .and_then(|b| settings.billing.items.get(&b))
            .or(settings.billing.default_item.as_ref())
            .ok_or_else(|| {
                let name = bill_item
                    .and_then(|b| reference.bill_items.get(&b).cloned())
                    .unwrap_or_else(|| "(none)".into());
                mapping(
                    format!("No QuickBooks product/service is chosen for the TrackTik bill item \"{name}\"."),
                    "Choose a product/service for it (or a default one) in the billing settings, then retry.",
                )
            })?;
        let site = l
            .service_location
            .as_ref()
            .map(|s| reference.client_name(s.id()));
        let item_name = bill_item.and_then(|b| reference.bill_items.get(&b).cloned());
        let description = match (item_name, site) {
            (Some(i), Some(s)) => Some(format!("{i} — {s}")),
            (Some(i), None) => Some(i),
            (None, s) => s,
        };
        let (qty, rate) = match (l.quantity, l.unit_price) {
            (Some(q), Some(p)) if (q * p).round_dp(2) == amount.round_dp(2) => (Some(q), Some(p)),
            _ => (None, None),
        };
        let tax_code = if us {
            Some(Ref::id("NON"))
        } else {
            Some(line_tax_code(l, doc, settings, reference)?)
        };
        let mut line = Line::sales(
            amount,
            SalesItemLineDetail {
                item_ref: Some(to_ref(item)),
                qty,
                unit_price: rate,
                service_date: l.service_date_time.map(|t| t.date_naive()),
                tax_code_ref: tax_code,
                class_ref: None,
            },
        );
        line.description = description;
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(Failure {
            message: "The TrackTik invoice has no lines; QuickBooks needs at least one.".into(),
            code: "nothing_to_post".into(),
            fix: "Nothing to do unless the invoice is wrong in TrackTik.".into(),
            fix_at: None,
            retryable: false,
        });
    }
    let tax_sum: Decimal = doc.taxes.iter().map(|t| t.amount).sum();
    if us {
        let mut by_class: BTreeMap<Option<i64>, Decimal> = BTreeMap::new();
        for t in &doc.taxes {
            *by_class.entry(reference.tax_class_of(t)).or_default() += t.amount;
        }
        for (class, amount) in by_class {
            if amount.is_zero() {
                continue;
            }
            let target = class.and_then(|c| settings.taxes.classes.get(&c));
            let item = match target {
                Some(TaxTarget::Item { item }) => item,
                _ => settings.taxes.automated_tax_item.as_ref().ok_or_else(|| {
                    let name = class
                        .and_then(|c| reference.tax_classes.get(&c).cloned())
                        .unwrap_or_else(|| "(unattributed tax)".into());
                    mapping(
                        format!("No QuickBooks tax item is chosen for the TrackTik tax class \"{name}\"."),
                        "Choose one in the tax settings, then retry.",
                    )
                })?,
            };
            let mut line = Line::sales(
                amount,
                SalesItemLineDetail {
                    item_ref: Some(to_ref(item)),
                    tax_code_ref: Some(Ref::id("NON")),
                    ..Default::default()
                },
            );
            line.description = Some(
                class
                    .and_then(|c| reference.tax_classes.get(&c).cloned())
                    .unwrap_or_else(|| "Tax".into()),
            );
            lines.push(line);
        }
        if let Some(total) = inv.total {
            if total != subtotal + tax_sum {
                return Err(totals(format!(
                    "TrackTik's total {total} is not its lines {subtotal} plus its taxes {tax_sum}."
                )));
            }
        }
    }
    if let Some(sub) = inv.sub_total {
        if sub != subtotal {
            return Err(totals(format!(
                "TrackTik's subtotal {sub} is not the sum of its lines {subtotal}."
            )));
        }
    }
    let client = inv.client.as_ref().map(|c| reference.client_name(c.id()));
    Ok(Built::Invoice(qbo::Invoice {
        doc_number: Some(fit_doc_number(&number)),
        txn_date: inv.effective_invoice_date(),
        due_date: inv.due_date,
        customer_ref: Some(to_ref(customer)),
        currency_ref: currency(company, currency_code)?,
        global_tax_calculation: (!us).then(|| "TaxExcluded".to_owned()),
        private_note: Some(format!(
            "TrackTik invoice {number}{}",
            client.map(|c| format!(" for {c}")).unwrap_or_default()
        )),
        line: lines,
        ..Default::default()
    }))
}

fn line_tax_code(
    line: &crate::providers::tracktik::models::InvoiceLine,
    doc: &InvoiceDoc,
    settings: &Settings,
    reference: &Reference,
) -> Result<Ref, Failure> {
    let taxed = doc
        .taxes
        .iter()
        .any(|t| t.invoice_line_id() == Some(line.id) && !t.amount.is_zero());
    let class = line.tax_class.as_ref().map(|c| c.id());
    if taxed {
        if let Some(TaxTarget::TaxCode { code }) =
            class.and_then(|c| settings.taxes.classes.get(&c))
        {
            return Ok(to_ref(code));
        }
        let name = class
            .and_then(|c| reference.tax_classes.get(&c).cloned())
            .unwrap_or_else(|| "(none)".into());
        return Err(mapping(
            format!("No QuickBooks tax code is chosen for the TrackTik tax class \"{name}\"."),
            "Choose one in the tax settings, then retry.",
        ));
    }
    settings
        .taxes
        .exempt_tax_code
        .as_ref()
        .map(to_ref)
        .ok_or_else(|| {
            mapping(
                "No QuickBooks tax code is chosen for untaxed lines.".into(),
                "Choose the exempt or zero-rated code in the tax settings, then retry.",
            )
        })
}

/// A TrackTik pay run → the QBO transaction the payroll settings ask for, one line per pay code.
pub fn payrun(
    doc: &PayrunDoc,
    settings: &Settings,
    company: &CompanyProfile,
    currency_code: Option<&str>,
) -> Result<Built, Failure> {
    let p = &doc.payrun;
    let payroll = &settings.payroll;
    let us = is_us(company);
    let mut by_code: BTreeMap<String, (Decimal, usize)> = BTreeMap::new();
    for item in &doc.items {
        let e = by_code.entry(pay_code(item)).or_default();
        e.0 += item.total.unwrap_or_default();
        e.1 += 1;
    }
    let sum: Decimal = by_code.values().map(|v| v.0).sum();
    if let Some(total) = p.total_cost {
        if total != sum {
            return Err(totals(format!(
                "TrackTik's pay run total {total} is not the sum of its items {sum}."
            )));
        }
    }
    if by_code.is_empty() {
        return Err(Failure {
            message: "The TrackTik pay run has no items.".into(),
            code: "nothing_to_post".into(),
            fix: "Nothing to do unless the pay run is wrong in TrackTik.".into(),
            fix_at: None,
            retryable: false,
        });
    }
    let liability = || {
        payroll.liability_account.as_ref().ok_or_else(|| {
            mapping(
                "No wages-liability account is chosen for pay runs.".into(),
                "Choose one in the payroll settings, then retry.",
            )
        })
    };
    let tax_code = if us {
        None
    } else {
        Some(settings.taxes.exempt_tax_code.as_ref().map(to_ref).ok_or_else(|| {
            mapping(
                "No QuickBooks tax code is chosen for untaxed lines (pay runs need one outside the US).".into(),
                "Choose the exempt or zero-rated code in the tax settings, then retry.",
            )
        })?)
    };
    let mut expense_lines = Vec::new();
    for (code, (amount, count)) in &by_code {
        let account = payroll
            .pay_code_accounts
            .get(code)
            .or(payroll.wages_account.as_ref())
            .ok_or_else(|| {
                mapping(
                    format!("No expense account is chosen for the TrackTik pay code \"{code}\"."),
                    "Choose one (or a default wages account) in the payroll settings, then retry.",
                )
            })?;
        expense_lines.push((code.clone(), *amount, *count, to_ref(account)));
    }
    let number = payrun_doc_number(p.id);
    let note = format!(
        "TrackTik pay run {} ({})",
        p.id,
        p.occurrence_date.map(|d| d.to_string()).unwrap_or_default()
    );
    let txn_date = p.occurrence_date.or(p.approved_on.map(|a| a.date_naive()));
    let currency_ref = currency(company, currency_code)?;
    let gtc = (!us).then(|| "NotApplicable".to_owned());
    let account_lines = || {
        expense_lines
            .iter()
            .map(|(code, amount, count, account)| {
                let mut l = Line::account_expense(
                    *amount,
                    AccountBasedExpenseLineDetail {
                        account_ref: Some(account.clone()),
                        tax_code_ref: tax_code.clone(),
                        ..Default::default()
                    },
                );
                l.description = Some(format!("{code} ({count} items)"));
                l
            })
            .collect::<Vec<_>>()
    };
    Ok(match payroll.posting {
        PayrollPosting::CreditCardExpense => Built::Purchase(qbo::Purchase {
            doc_number: Some(number),
            txn_date,
            private_note: Some(note),
            currency_ref,
            global_tax_calculation: gtc,
            account_ref: Some(to_ref(liability()?)),
            payment_type: Some("CreditCard".into()),
            line: account_lines(),
            ..Default::default()
        }),
        PayrollPosting::Bill => Built::Bill(qbo::Bill {
            doc_number: Some(number),
            txn_date,
            private_note: Some(note),
            currency_ref,
            global_tax_calculation: gtc,
            vendor_ref: Some(to_ref(payroll.vendor.as_ref().ok_or_else(|| {
                mapping(
                    "No payroll vendor is chosen for pay runs posted as bills.".into(),
                    "Choose one in the payroll settings, then retry.",
                )
            })?)),
            line: account_lines(),
            ..Default::default()
        }),
        PayrollPosting::JournalEntry => {
            let mut line: Vec<Line> = expense_lines
                .iter()
                .map(|(code, amount, count, account)| {
                    let mut l = Line::journal(
                        *amount,
                        JournalEntryLineDetail {
                            posting_type: "Debit".into(),
                            account_ref: account.clone(),
                            ..Default::default()
                        },
                    );
                    l.description = Some(format!("{code} ({count} items)"));
                    l
                })
                .collect();
            let mut credit = Line::journal(
                sum,
                JournalEntryLineDetail {
                    posting_type: "Credit".into(),
                    account_ref: to_ref(liability()?),
                    ..Default::default()
                },
            );
            credit.description = Some(note.clone());
            line.push(credit);
            Built::JournalEntry(qbo::JournalEntry {
                doc_number: Some(number),
                txn_date,
                private_note: Some(note),
                currency_ref,
                global_tax_calculation: gtc,
                line,
                ..Default::default()
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_document_numbers_are_shortened_the_same_way_every_time() {
        let a = fit_doc_number("INV-000123-C512-CONSOLIDATED");
        assert_eq!(a.chars().count(), 21);
        assert_eq!(a, fit_doc_number("INV-000123-C512-CONSOLIDATED"));
        assert_ne!(a, fit_doc_number("INV-000123-C512-CONSOLIDATEE"));
        assert_eq!(fit_doc_number("INV-1"), "INV-1");
    }
}
