//! Transactions: invoices, credit memos, bills, purchases and journal entries.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{EmailAddress, Entity, Line, MetaData, Ref};

/// One tax line of a transaction's tax detail.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TxnTaxDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub txn_tax_code_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_tax: Option<Decimal>,
    /// The computed tax lines (kept raw: only `TotalTax` is used).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tax_line: Vec<serde_json::Value>,
}

/// `{"value":"…"}` as used by `CustomerMemo`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoRef {
    /// The text.
    pub value: String,
}

macro_rules! transaction {
    ($(#[$doc:meta])* $ty:ident, $name:literal, $path:literal { $($(#[$fdoc:meta])* $field:ident : $fty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $ty {
            #[serde(skip_serializing_if = "Option::is_none")]
            pub id: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub sync_token: Option<String>,
            #[serde(rename = "sparse", skip_serializing_if = "Option::is_none")]
            pub sparse: Option<bool>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub doc_number: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub txn_date: Option<NaiveDate>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub private_note: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub currency_ref: Option<Ref>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub exchange_rate: Option<Decimal>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub department_ref: Option<Ref>,
            /// `TaxExcluded`, `TaxInclusive` or `NotApplicable`; required outside the US.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub global_tax_calculation: Option<String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub txn_tax_detail: Option<TxnTaxDetail>,
            /// Computed by QBO; ignored when sent.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub total_amt: Option<Decimal>,
            #[serde(default)]
            pub line: Vec<Line>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub meta_data: Option<MetaData>,
            $($(#[$fdoc])* #[serde(skip_serializing_if = "Option::is_none")] pub $field: Option<$fty>,)*
        }
        entity!($ty, $name, $path);
    };
}

transaction!(
    /// An invoice (accounts receivable).
    Invoice, "Invoice", "invoice" {
        customer_ref: Ref,
        due_date: NaiveDate,
        sales_term_ref: Ref,
        customer_memo: MemoRef,
        class_ref: Ref,
        bill_email: EmailAddress,
        balance: Decimal,
        /// Deleted/voided marker on delete responses.
        status: String,
    }
);

transaction!(
    /// A credit memo: a credit to a customer (its lines are positive; QBO subtracts them).
    CreditMemo, "CreditMemo", "creditmemo" {
        customer_ref: Ref,
        customer_memo: MemoRef,
        class_ref: Ref,
        bill_email: EmailAddress,
        balance: Decimal,
        remaining_credit: Decimal,
        status: String,
    }
);

impl CreditMemo {
    /// The credit memo that credits what `invoice` bills: same customer, lines, date, number
    /// and tax treatment.
    pub fn crediting(invoice: Invoice) -> Self {
        Self {
            doc_number: invoice.doc_number,
            txn_date: invoice.txn_date,
            private_note: invoice.private_note,
            currency_ref: invoice.currency_ref,
            exchange_rate: invoice.exchange_rate,
            department_ref: invoice.department_ref,
            global_tax_calculation: invoice.global_tax_calculation,
            txn_tax_detail: invoice.txn_tax_detail,
            line: invoice.line,
            customer_ref: invoice.customer_ref,
            customer_memo: invoice.customer_memo,
            class_ref: invoice.class_ref,
            bill_email: invoice.bill_email,
            ..Self::default()
        }
    }
}

transaction!(
    /// A bill (accounts payable).
    Bill, "Bill", "bill" {
        vendor_ref: Ref,
        /// Must be an Accounts Payable account.
        a_p_account_ref: Ref,
        due_date: NaiveDate,
        sales_term_ref: Ref,
        balance: Decimal,
        status: String,
    }
);

transaction!(
    /// An expense, cheque or credit-card charge.
    Purchase, "Purchase", "purchase" {
        /// Bank account for Cash/Check, credit-card account for CreditCard.
        account_ref: Ref,
        /// `Cash`, `Check` or `CreditCard`.
        payment_type: String,
        entity_ref: Ref,
        /// `true` for a refund or card credit.
        credit: bool,
        status: String,
    }
);

transaction!(
    /// A journal entry; its debit and credit lines must balance.
    JournalEntry, "JournalEntry", "journalentry" {
        adjustment: bool,
        status: String,
    }
);
