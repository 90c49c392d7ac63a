//! Which top-level properties each entity has (from Intuit's `Finance.xsd`). Anything else on a
//! create/update is refused with 2010, as QBO does. Read-only fields are accepted (clients send
//! back what they read) and recomputed.

use serde_json::Value;

use super::Entity;
use crate::sandbox::quickbooks::fault::QboError;
use crate::sandbox::quickbooks::store::Kind;

const COMMON: &[&str] = &[
    "Id",
    "SyncToken",
    "sparse",
    "domain",
    "MetaData",
    "CustomField",
    "AttachableRef",
    "status",
];

const TXN: &[&str] = &[
    "DocNumber",
    "TxnDate",
    "DepartmentRef",
    "CurrencyRef",
    "ExchangeRate",
    "PrivateNote",
    "TxnStatus",
    "LinkedTxn",
    "Line",
    "TxnTaxDetail",
    "TxnSource",
    "GlobalTaxCalculation",
    "TotalAmt",
    "HomeTotalAmt",
    "ProjectRef",
    "TransactionLocationType",
    "RecurDataRef",
    "TaxExemptionRef",
];

const INVOICE: &[&str] = &[
    "AutoDocNumber",
    "CustomerRef",
    "CustomerMemo",
    "BillAddr",
    "ShipAddr",
    "ShipFromAddr",
    "FreeFormAddress",
    "ClassRef",
    "SalesTermRef",
    "DueDate",
    "SalesRepRef",
    "PONumber",
    "ShipMethodRef",
    "ShipDate",
    "TrackingNum",
    "ApplyTaxAfterDiscount",
    "PrintStatus",
    "EmailStatus",
    "BillEmail",
    "BillEmailCc",
    "BillEmailBcc",
    "ARAccountRef",
    "Balance",
    "HomeBalance",
    "DepositToAccountRef",
    "Deposit",
    "AllowIPNPayment",
    "AllowOnlinePayment",
    "AllowOnlineCreditCardPayment",
    "AllowOnlineACHPayment",
    "InvoiceLink",
    "DeliveryInfo",
    "PaymentMethodRef",
];

const BILL: &[&str] = &[
    "VendorRef",
    "APAccountRef",
    "SalesTermRef",
    "DueDate",
    "Balance",
    "HomeBalance",
    "VendorAddr",
    "RemitToAddr",
    "ShipAddr",
    "Memo",
    "BillEmail",
    "ReplyEmail",
    "PayerRef",
];

const PURCHASE: &[&str] = &[
    "AccountRef",
    "PaymentMethodRef",
    "PaymentRefNum",
    "PaymentType",
    "CheckPayment",
    "CreditCardPayment",
    "EntityRef",
    "Credit",
    "RemitToAddr",
    "Memo",
    "PrintStatus",
    "PurchaseEx",
];

const JOURNAL: &[&str] = &[
    "Adjustment",
    "HomeCurrencyAdjustment",
    "EnteredInHomeCurrency",
];

const ACCOUNT: &[&str] = &[
    "Name",
    "SubAccount",
    "ParentRef",
    "Description",
    "FullyQualifiedName",
    "AccountAlias",
    "TxnLocationType",
    "Active",
    "Classification",
    "AccountType",
    "AccountSubType",
    "AccountPurposes",
    "AcctNum",
    "AcctNumExtn",
    "BankNum",
    "OpeningBalance",
    "OpeningBalanceDate",
    "CurrentBalance",
    "CurrentBalanceWithSubAccounts",
    "CurrencyRef",
    "TaxAccount",
    "TaxCodeRef",
    "OnlineBankingEnabled",
    "FIName",
    "JournalCodeRef",
];

const ITEM: &[&str] = &[
    "Name",
    "Sku",
    "Description",
    "Active",
    "SubItem",
    "ParentRef",
    "Level",
    "FullyQualifiedName",
    "Taxable",
    "SalesTaxIncluded",
    "UnitPrice",
    "Type",
    "IncomeAccountRef",
    "PurchaseDesc",
    "PurchaseTaxIncluded",
    "PurchaseCost",
    "ExpenseAccountRef",
    "COGSAccountRef",
    "AssetAccountRef",
    "PrefVendorRef",
    "TrackQtyOnHand",
    "QtyOnHand",
    "InvStartDate",
    "SalesTaxCodeRef",
    "PurchaseTaxCodeRef",
    "ClassRef",
    "ItemCategoryType",
    "TaxClassificationRef",
];

const NAME_BASE: &[&str] = &[
    "Title",
    "GivenName",
    "MiddleName",
    "FamilyName",
    "Suffix",
    "FullyQualifiedName",
    "CompanyName",
    "DisplayName",
    "PrintOnCheckName",
    "Active",
    "PrimaryPhone",
    "AlternatePhone",
    "Mobile",
    "Fax",
    "PrimaryEmailAddr",
    "WebAddr",
    "DefaultTaxCodeRef",
    "OtherContactInfo",
    "Notes",
    "Balance",
    "AcctNum",
    "CurrencyRef",
    "BillAddr",
    "ShipAddr",
];

const VENDOR: &[&str] = &[
    "ContactName",
    "TaxIdentifier",
    "BusinessNumber",
    "TermRef",
    "Vendor1099",
    "APAccountRef",
    "GSTIN",
    "GSTRegistrationType",
    "CostRate",
    "BillRate",
    "T4AEligible",
    "T5018Eligible",
];

const CUSTOMER: &[&str] = &[
    "Taxable",
    "Job",
    "BillWithParent",
    "ParentRef",
    "Level",
    "SalesTermRef",
    "PaymentMethodRef",
    "BalanceWithJobs",
    "OpenBalanceDate",
    "PreferredDeliveryMethod",
    "ResaleNum",
    "ARAccountRef",
    "PrimaryTaxIdentifier",
    "TaxExemptionReasonId",
    "IsProject",
    "GSTIN",
    "GSTRegistrationType",
    "BusinessNumber",
    "CustomerTypeRef",
];

const EMPLOYEE: &[&str] = &[
    "EmployeeNumber",
    "SSN",
    "PrimaryAddr",
    "BillableTime",
    "BillRate",
    "BirthDate",
    "Gender",
    "HiredDate",
    "ReleasedDate",
    "CostRate",
    "Organization",
];

const CLASS: &[&str] = &[
    "Name",
    "SubClass",
    "SubDepartment",
    "ParentRef",
    "FullyQualifiedName",
    "Active",
];

/// The allowed top-level keys of a kind.
fn allowed(kind: Kind) -> Vec<&'static [&'static str]> {
    let specific: &[&[&str]] = match kind {
        Kind::Invoice => &[TXN, INVOICE],
        Kind::Bill => &[TXN, BILL],
        Kind::Purchase => &[TXN, PURCHASE],
        Kind::JournalEntry => &[TXN, JOURNAL],
        Kind::Account => &[ACCOUNT],
        Kind::Item => &[ITEM],
        Kind::Vendor => &[NAME_BASE, VENDOR],
        Kind::Customer => &[NAME_BASE, CUSTOMER],
        Kind::Employee => &[NAME_BASE, EMPLOYEE],
        Kind::Class => &[CLASS],
        Kind::Department => &[CLASS, &["Address"]],
        _ => &[],
    };
    let mut v = vec![COMMON];
    v.extend_from_slice(specific);
    v
}

/// 2010 for the first property the entity does not have.
pub fn check_unknown(kind: Kind, body: &Entity) -> Result<(), QboError> {
    let lists = allowed(kind);
    for key in body.keys() {
        if !lists.iter().any(|l| l.contains(&key.as_str())) {
            return Err(QboError::unknown_property(key, kind.name()));
        }
    }
    Ok(())
}

/// Keys allowed on a transaction line besides its detail payload.
pub const LINE_KEYS: &[&str] = &[
    "Id",
    "LineNum",
    "Description",
    "Amount",
    "DetailType",
    "LinkedTxn",
    "CustomField",
    "ProjectRef",
];

/// The valid `DetailType` values (Finance.xsd `LineDetailTypeEnum`).
pub const DETAIL_TYPES: &[&str] = &[
    "PaymentLineDetail",
    "DiscountLineDetail",
    "TaxLineDetail",
    "SalesItemLineDetail",
    "ItemBasedExpenseLineDetail",
    "AccountBasedExpenseLineDetail",
    "DepositLineDetail",
    "PurchaseOrderItemLineDetail",
    "ItemReceiptLineDetail",
    "JournalEntryLineDetail",
    "GroupLineDetail",
    "DescriptionOnly",
    "SubTotalLineDetail",
    "SalesOrderItemLineDetail",
    "TDSLineDetail",
    "ReimburseLineDetail",
    "ItemAdjustmentLineDetail",
];

/// The payload key for a detail type (`DescriptionOnly` → `DescriptionLineDetail`).
pub fn detail_key(detail_type: &str) -> &str {
    if detail_type == "DescriptionOnly" {
        "DescriptionLineDetail"
    } else {
        detail_type
    }
}

/// Whether a line key is a detail payload of any type.
pub fn is_detail_key(key: &str) -> bool {
    key == "DescriptionLineDetail" || DETAIL_TYPES.contains(&key)
}

/// Line keys check (2010 on e.g. `AccountRef` placed directly on the line).
pub fn check_line_keys(line: &serde_json::Map<String, Value>) -> Result<(), QboError> {
    for key in line.keys() {
        if !LINE_KEYS.contains(&key.as_str()) && !is_detail_key(key) {
            return Err(QboError::unknown_property(&format!("Line.{key}"), "Line"));
        }
    }
    Ok(())
}
