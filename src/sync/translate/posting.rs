//! The QBO transaction a grouped pay run becomes: a bill or credit-card expense (one
//! account-based expense line per group) or a journal entry (a debit per group, one balancing
//! credit to the wages liability).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::integrations::settings::PayrollPosting;
use crate::providers::quickbooks::models::{
    AccountBasedExpenseLineDetail, Bill, JournalEntity, JournalEntry, JournalEntryLineDetail, Line,
    Purchase, Ref,
};

use super::payroll::{Group, PayrunContext, QboPayrun};
use super::{TranslateError, is_us, qbo_ref};

/// The transaction fields every posting kind shares.
pub(crate) struct Header {
    pub(crate) doc_number: Option<String>,
    pub(crate) txn_date: NaiveDate,
    pub(crate) private_note: Option<String>,
    pub(crate) currency: Option<Ref>,
    pub(crate) global_tax: Option<String>,
}

/// The journal entry's balancing credit line.
pub(crate) struct Credit {
    pub(crate) class: Option<Ref>,
    pub(crate) location: Option<Ref>,
    pub(crate) amount: Decimal,
    pub(crate) description: String,
}

/// Debits per group (a negative group is a credit to its expense account: journal lines are
/// positive), then one credit of the pay run's total to the liability account, naming the
/// payroll vendor when there is one (QBO requires it if the liability is an AP account).
pub(crate) fn journal_entry(
    ctx: &PayrunContext<'_>,
    header: Header,
    groups: Vec<(String, Group)>,
    credit: Credit,
) -> Result<QboPayrun, TranslateError> {
    let payroll = &ctx.settings.payroll;
    let liability = liability(ctx)?;
    let mut lines: Vec<Line> = groups
        .into_iter()
        .map(|(description, g)| {
            let posting = if g.total < Decimal::ZERO {
                "Credit"
            } else {
                "Debit"
            };
            let mut line = Line::journal(
                g.total.abs(),
                JournalEntryLineDetail {
                    posting_type: posting.into(),
                    account_ref: g.account,
                    entity: None,
                    class_ref: g.class,
                    department_ref: g.location,
                },
            );
            line.description = Some(description);
            line
        })
        .collect();
    let mut credit_line = Line::journal(
        credit.amount,
        JournalEntryLineDetail {
            posting_type: "Credit".into(),
            account_ref: qbo_ref(liability),
            entity: payroll.vendor.as_ref().map(|v| JournalEntity {
                entity_type: "Vendor".into(),
                entity_ref: qbo_ref(v),
            }),
            class_ref: credit.class,
            department_ref: credit.location,
        },
    );
    credit_line.description = Some(credit.description);
    lines.push(credit_line);
    number(&mut lines);
    Ok(QboPayrun::JournalEntry(JournalEntry {
        doc_number: header.doc_number,
        txn_date: Some(header.txn_date),
        private_note: header.private_note,
        currency_ref: header.currency,
        global_tax_calculation: header.global_tax,
        line: lines,
        ..JournalEntry::default()
    }))
}

/// A bill to the payroll vendor or a credit-card expense against the liability account, one
/// expense line per group. Outside the US every line needs a tax code: wages are not taxed,
/// so they carry the exempt code.
pub(crate) fn expense(
    ctx: &PayrunContext<'_>,
    header: Header,
    groups: Vec<(String, Group)>,
    department_ref: Option<Ref>,
) -> Result<QboPayrun, TranslateError> {
    let payroll = &ctx.settings.payroll;
    let tax_code = if is_us(ctx.company) {
        None
    } else {
        Some(
            ctx.settings
                .taxes
                .exempt_tax_code
                .as_ref()
                .map(qbo_ref)
                .ok_or(TranslateError::MissingExemptTaxCode)?,
        )
    };
    let mut lines: Vec<Line> = groups
        .into_iter()
        .map(|(description, g)| {
            let mut line = Line::account_expense(
                g.total,
                AccountBasedExpenseLineDetail {
                    account_ref: Some(g.account),
                    class_ref: g.class,
                    tax_code_ref: tax_code.clone(),
                    ..AccountBasedExpenseLineDetail::default()
                },
            );
            line.description = Some(description);
            line
        })
        .collect();
    number(&mut lines);
    if payroll.posting == PayrollPosting::Bill {
        let vendor = payroll
            .vendor
            .as_ref()
            .ok_or(TranslateError::MissingPayrollVendor)?;
        return Ok(QboPayrun::Bill(Bill {
            doc_number: header.doc_number,
            txn_date: Some(header.txn_date),
            private_note: header.private_note,
            currency_ref: header.currency,
            department_ref,
            global_tax_calculation: header.global_tax,
            line: lines,
            vendor_ref: Some(qbo_ref(vendor)),
            a_p_account_ref: ctx.ap_account.map(qbo_ref),
            ..Bill::default()
        }));
    }
    Ok(QboPayrun::Purchase(Purchase {
        doc_number: header.doc_number,
        txn_date: Some(header.txn_date),
        private_note: header.private_note,
        currency_ref: header.currency,
        department_ref,
        global_tax_calculation: header.global_tax,
        line: lines,
        account_ref: Some(qbo_ref(liability(ctx)?)),
        payment_type: Some("CreditCard".into()),
        entity_ref: payroll.vendor.as_ref().map(|v| Ref {
            kind: Some("Vendor".into()),
            ..qbo_ref(v)
        }),
        ..Purchase::default()
    }))
}

fn liability<'a>(
    ctx: &PayrunContext<'a>,
) -> Result<&'a crate::integrations::settings::QboRef, TranslateError> {
    let payroll = &ctx.settings.payroll;
    payroll
        .liability_account
        .as_ref()
        .ok_or(TranslateError::MissingLiabilityAccount {
            posting: payroll.posting,
        })
}

fn number(lines: &mut [Line]) {
    for (n, line) in lines.iter_mut().enumerate() {
        line.line_num = u32::try_from(n + 1).ok();
    }
}
