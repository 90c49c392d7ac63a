//! Transaction lines: one detail object per line, named by its `DetailType`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::Ref;

/// What kind of detail a line carries; exactly one matching detail object is present.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DetailType {
    SalesItemLineDetail,
    AccountBasedExpenseLineDetail,
    ItemBasedExpenseLineDetail,
    JournalEntryLineDetail,
    SubTotalLineDetail,
    DescriptionOnly,
    DiscountLineDetail,
    TaxLineDetail,
    GroupLineDetail,
    /// Any other value QBO may send.
    #[serde(other)]
    Other,
}

/// `SalesItemLineDetail` of an invoice line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SalesItemLineDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qty: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_code_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_ref: Option<Ref>,
}

/// `AccountBasedExpenseLineDetail` of a bill or purchase line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountBasedExpenseLineDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_code_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billable_status: Option<String>,
}

/// `ItemBasedExpenseLineDetail` of a bill or purchase line.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ItemBasedExpenseLineDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qty: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_code_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_ref: Option<Ref>,
}

/// The party on a journal entry line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JournalEntity {
    /// `Vendor`, `Customer`, `Employee`, …
    #[serde(rename = "Type")]
    pub entity_type: String,
    pub entity_ref: Ref,
}

/// `JournalEntryLineDetail`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JournalEntryLineDetail {
    /// `Debit` or `Credit`.
    pub posting_type: String,
    pub account_ref: Ref,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<JournalEntity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_ref: Option<Ref>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department_ref: Option<Ref>,
}

/// One line of any transaction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Line {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_num: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
    pub detail_type: DetailType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sales_item_line_detail: Option<SalesItemLineDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_based_expense_line_detail: Option<AccountBasedExpenseLineDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_based_expense_line_detail: Option<ItemBasedExpenseLineDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub journal_entry_line_detail: Option<JournalEntryLineDetail>,
    /// Present on the subtotal line QBO appends to invoices; its content is not needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_total_line_detail: Option<serde_json::Value>,
}

impl Line {
    fn empty(detail_type: DetailType, amount: Decimal) -> Self {
        Self {
            id: None,
            line_num: None,
            description: None,
            amount: Some(amount),
            detail_type,
            sales_item_line_detail: None,
            account_based_expense_line_detail: None,
            item_based_expense_line_detail: None,
            journal_entry_line_detail: None,
            sub_total_line_detail: None,
        }
    }

    /// An invoice line selling an item.
    pub fn sales(amount: Decimal, detail: SalesItemLineDetail) -> Self {
        Self {
            sales_item_line_detail: Some(detail),
            ..Self::empty(DetailType::SalesItemLineDetail, amount)
        }
    }

    /// A bill or purchase line against an account.
    pub fn account_expense(amount: Decimal, detail: AccountBasedExpenseLineDetail) -> Self {
        Self {
            account_based_expense_line_detail: Some(detail),
            ..Self::empty(DetailType::AccountBasedExpenseLineDetail, amount)
        }
    }

    /// A journal entry line.
    pub fn journal(amount: Decimal, detail: JournalEntryLineDetail) -> Self {
        Self {
            journal_entry_line_detail: Some(detail),
            ..Self::empty(DetailType::JournalEntryLineDetail, amount)
        }
    }
}
