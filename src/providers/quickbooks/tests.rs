//! Unit tests: payloads shaped like Intuit's published examples (our own fixtures, derived
//! from the documented shapes), serialisation, request ids.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::models::*;
use super::*;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn an_invoice_response_with_the_appended_subtotal_line_is_read() {
    let body = r#"{
      "Invoice": {
        "AllowIPNPayment": false, "domain": "QBO", "sparse": false, "Id": "130", "SyncToken": "0",
        "MetaData": {"CreateTime": "2026-03-02T09:14:05-08:00", "LastUpdatedTime": "2026-03-02T09:14:05-08:00"},
        "CustomField": [], "DocNumber": "INV-000123", "TxnDate": "2026-03-01", "CurrencyRef": {"value": "USD", "name": "United States Dollar"},
        "LinkedTxn": [],
        "Line": [
          {"Id": "1", "LineNum": 1, "Description": "Guarding - Regular Hours", "Amount": 1020.00, "DetailType": "SalesItemLineDetail",
           "SalesItemLineDetail": {"ItemRef": {"value": "19", "name": "TrackTik Service Income"}, "UnitPrice": 25.5, "Qty": 40, "ServiceDate": "2026-02-27", "TaxCodeRef": {"value": "NON"}}},
          {"Amount": 1020.00, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
        ],
        "TxnTaxDetail": {"TotalTax": 0},
        "CustomerRef": {"value": "58", "name": "Globex Corp"},
        "DueDate": "2026-03-31", "TotalAmt": 1020.00, "PrintStatus": "NeedToPrint", "EmailStatus": "NotSet", "Balance": 1020.00
      },
      "time": "2026-03-02T09:14:05.201-08:00"
    }"#;
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    let invoice: Invoice = serde_json::from_value(value["Invoice"].clone()).unwrap();
    assert_eq!(invoice.id.as_deref(), Some("130"));
    assert_eq!(invoice.doc_number.as_deref(), Some("INV-000123"));
    assert_eq!(invoice.total_amt, Some(d("1020.00")));
    assert_eq!(invoice.line.len(), 2);
    assert_eq!(invoice.line[1].detail_type, DetailType::SubTotalLineDetail);
    let detail = invoice.line[0].sales_item_line_detail.as_ref().unwrap();
    assert_eq!(detail.unit_price, Some(d("25.5")));
    assert_eq!(
        detail.service_date,
        chrono::NaiveDate::from_ymd_opt(2026, 2, 27)
    );
    assert_eq!(invoice.customer_ref.unwrap().value, "58");
    assert!(invoice.meta_data.unwrap().create_time.is_some());
}

#[test]
fn a_bill_is_written_with_intuits_key_names_and_money_as_numbers() {
    let bill = Bill {
        vendor_ref: Some(Ref::id("56")),
        a_p_account_ref: Some(Ref::id("33")),
        txn_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
        line: vec![Line::account_expense(
            d("2106.45"),
            AccountBasedExpenseLineDetail {
                account_ref: Some(Ref::id("7")),
                ..Default::default()
            },
        )],
        ..Default::default()
    };
    let json = serde_json::to_value(&bill).unwrap();
    assert_eq!(json["APAccountRef"]["value"], "33");
    assert_eq!(json["VendorRef"]["value"], "56");
    assert_eq!(json["TxnDate"], "2026-03-01");
    assert_eq!(
        json["Line"][0]["DetailType"],
        "AccountBasedExpenseLineDetail"
    );
    assert_eq!(
        json["Line"][0]["AccountBasedExpenseLineDetail"]["AccountRef"]["value"],
        "7"
    );
    assert!(
        json["Line"][0]["Amount"].is_number(),
        "money goes out as a JSON number"
    );
    assert_eq!(json["Line"][0]["Amount"].to_string(), "2106.45");
    assert!(
        json.get("Id").is_none() && json.get("SalesItemLineDetail").is_none(),
        "absent fields are omitted"
    );
}

#[test]
fn an_account_query_page_is_read_including_subtypes() {
    let body = r#"{"QueryResponse":{"Account":[
        {"Name":"TrackTik Direct Wages","SubAccount":false,"FullyQualifiedName":"TrackTik Direct Wages","Active":true,
         "Classification":"Expense","AccountType":"Expense","AccountSubType":"PayrollWageExpenses","AcctNum":"TT-3000",
         "CurrentBalance":0,"CurrentBalanceWithSubAccounts":0,"CurrencyRef":{"value":"USD","name":"United States Dollar"},
         "domain":"QBO","sparse":false,"Id":"92","SyncToken":"0",
         "MetaData":{"CreateTime":"2026-03-02T09:00:00-08:00","LastUpdatedTime":"2026-03-02T09:00:00-08:00"}}
      ],"startPosition":1,"maxResults":1},"time":"2026-03-02T09:00:01.000-08:00"}"#;
    let value: serde_json::Value = serde_json::from_str(body).unwrap();
    let accounts: Vec<Account> =
        serde_json::from_value(value["QueryResponse"]["Account"].clone()).unwrap();
    assert_eq!(accounts[0].acct_num.as_deref(), Some("TT-3000"));
    assert_eq!(
        accounts[0].account_sub_type.as_deref(),
        Some("PayrollWageExpenses")
    );
    assert_eq!(accounts[0].current_balance, Some(Decimal::ZERO));
}

#[test]
fn preferences_and_company_info_are_read() {
    let prefs: Preferences = serde_json::from_str(
        r#"{"AccountingInfoPrefs":{"UseAccountNumbers":true,"TrackDepartments":true,"DepartmentTerminology":"Location",
            "ClassTrackingPerTxn":false,"ClassTrackingPerTxnLine":true,"BookCloseDate":"2025-12-31","CustomerTerminology":"Customers"},
           "CurrencyPrefs":{"MultiCurrencyEnabled":true,"HomeCurrency":{"value":"CAD"}},
           "TaxPrefs":{"UsingSalesTax":true,"PartnerTaxEnabled":false},
           "SalesFormsPrefs":{"CustomTxnNumbers":true,"AllowServiceDate":true},
           "domain":"QBO","sparse":false,"Id":"1","SyncToken":"4"}"#,
    )
    .unwrap();
    let info = prefs.accounting_info_prefs.unwrap();
    assert_eq!(
        info.book_close_date,
        chrono::NaiveDate::from_ymd_opt(2025, 12, 31)
    );
    assert_eq!(info.department_terminology.as_deref(), Some("Location"));
    assert_eq!(
        prefs.currency_prefs.unwrap().home_currency.unwrap().value,
        "CAD"
    );

    let company: CompanyInfo = serde_json::from_str(
        r#"{"CompanyName":"Acme Security Ltd (CA)","LegalName":"Acme Security Ltd","Country":"CA","Id":"1","SyncToken":"2",
            "CompanyAddr":{"Id":"1","Line1":"1 King St W","City":"Toronto","CountrySubDivisionCode":"ON","PostalCode":"M5H 1A1"},
            "NameValue":[{"Name":"OfferingSku","Value":"QuickBooks Online Plus"}]}"#,
    )
    .unwrap();
    assert_eq!(company.country.as_deref(), Some("CA"));
    assert_eq!(
        company.company_addr.unwrap().city.as_deref(),
        Some("Toronto")
    );
}

#[test]
fn an_unknown_line_detail_type_does_not_break_reading() {
    let line: Line =
        serde_json::from_str(r#"{"Amount":5,"DetailType":"TDSLineDetail","TDSLineDetail":{}}"#)
            .unwrap();
    assert_eq!(line.detail_type, DetailType::Other);
}

#[test]
fn a_journal_entry_line_names_its_party() {
    let line = Line::journal(
        d("10.00"),
        JournalEntryLineDetail {
            posting_type: "Credit".into(),
            account_ref: Ref::id("33"),
            entity: Some(JournalEntity {
                entity_type: "Vendor".into(),
                entity_ref: Ref::id("56"),
            }),
            class_ref: None,
            department_ref: None,
        },
    );
    let json = serde_json::to_value(&line).unwrap();
    assert_eq!(json["JournalEntryLineDetail"]["PostingType"], "Credit");
    assert_eq!(json["JournalEntryLineDetail"]["Entity"]["Type"], "Vendor");
    assert_eq!(
        json["JournalEntryLineDetail"]["Entity"]["EntityRef"]["value"],
        "56"
    );
}

#[test]
fn request_ids_are_deterministic_unique_per_input_and_fit_the_batch_limit() {
    let a = RequestId::derive(&["integration-1", "invoice", "9001", "r1"]);
    let b = RequestId::derive(&["integration-1", "invoice", "9001", "r1"]);
    let c = RequestId::derive(&["integration-1", "invoice", "9001", "r2"]);
    let d = RequestId::derive(&["integration-1", "invoice", "90011", "r"]);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_ne!(
        c, d,
        "parts are separated, so shifting a character makes another id"
    );
    assert!(a.as_str().len() <= 36);
}

#[test]
fn app_links_point_at_the_transaction() {
    let endpoints = Endpoints::production();
    assert_eq!(
        endpoints.app_link("invoice", "130"),
        "https://qbo.intuit.com/app/invoice?txnId=130"
    );
    let local = Endpoints::single_host("http://127.0.0.1:8082/");
    assert_eq!(
        local.token.as_str(),
        "http://127.0.0.1:8082/oauth2/v1/tokens/bearer"
    );
    assert_eq!(local.api_base.as_str(), "http://127.0.0.1:8082/");
}
