//! Seeded companies: deterministic realm ids and entity ids, realistic charts of accounts.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::entities::{self, Ctx};
use super::json::{meta_time, money};
use super::store::{Company, Flavour, Kind, Store};
use super::{CA_REALM_ID, US_NO_ACCTNUM_REALM_ID, US_REALM_ID};

/// Seeds the three default companies.
pub fn seed_defaults(store: &mut Store) {
    let now = store.clock.now();
    for (realm, flavour) in [
        (US_REALM_ID, Flavour::Us),
        (CA_REALM_ID, Flavour::Ca),
        (US_NO_ACCTNUM_REALM_ID, Flavour::UsNoAcctNum),
    ] {
        store
            .companies
            .insert(realm.to_string(), company(realm, flavour, None, now));
    }
}

/// Default company name per flavour.
pub fn default_name(flavour: Flavour) -> &'static str {
    match flavour {
        Flavour::Us => "Acme Security Inc. (US)",
        Flavour::Ca => "Acme Security Ltd (CA)",
        Flavour::UsNoAcctNum => "Beacon Patrol LLC (US, no account numbers)",
    }
}

fn raw(
    co: &mut Company,
    kind: Kind,
    fields: Value,
    id: Option<&str>,
    now: DateTime<Utc>,
) -> String {
    let mut e: Map<String, Value> = fields.as_object().cloned().unwrap_or_default();
    let id = match id {
        Some(i) => i.to_string(),
        None => co.alloc_id().0,
    };
    let t = meta_time(now, co.tz());
    e.insert("Id".into(), json!(id));
    e.insert("SyncToken".into(), json!("0"));
    e.insert("domain".into(), json!("QBO"));
    e.insert("sparse".into(), json!(false));
    e.insert(
        "MetaData".into(),
        json!({"CreateTime": t, "LastUpdatedTime": t}),
    );
    co.put(kind, e);
    id
}

fn add(co: &mut Company, kind: Kind, body: Value, ctx: &Ctx) -> String {
    let e = entities::create(co, kind, body, ctx)
        .unwrap_or_else(|err| panic!("seed {kind:?} is invalid: {err:?}"));
    e["Id"].as_str().unwrap_or_default().to_string()
}

/// Builds one company of a flavour.
pub fn company(realm: &str, flavour: Flavour, name: Option<&str>, now: DateTime<Utc>) -> Company {
    let us = flavour != Flavour::Ca;
    let numbers = flavour != Flavour::UsNoAcctNum;
    let name = name.unwrap_or(default_name(flavour)).to_string();
    let mut co = Company {
        realm_id: realm.to_string(),
        flavour,
        info: Map::new(),
        prefs: Map::new(),
        entities: BTreeMap::new(),
        deleted: BTreeMap::new(),
        next_id: 1,
        next_address_id: 2,
        request_ids: HashMap::new(),
        reject_payroll_wage: flavour == Flavour::UsNoAcctNum,
        subscription_lapsed: false,
        duplicate_doc_check: true,
        names: HashMap::new(),
        doc_numbers: HashMap::new(),
    };
    let t = meta_time(now, co.tz());
    let (country, region, city) = if us {
        ("US", "CA", "San Diego")
    } else {
        ("CA", "ON", "Toronto")
    };
    let addr = json!({"Id": "1", "Line1": "100 Sentinel Way", "City": city, "CountrySubDivisionCode": region, "PostalCode": if us {"92101"} else {"M5V 2T6"}, "Country": country});
    co.info = json!({
        "CompanyName": name, "LegalName": name, "CompanyAddr": addr, "LegalAddr": addr,
        "CustomerCommunicationAddr": addr, "Country": country, "FiscalYearStartMonth": "January",
        "SupportedLanguages": "en", "CompanyStartDate": "2020-01-01", "WebAddr": {},
        "EmployerId": if us {"987654321"} else {"123456789RT0001"},
        "Email": {"Address": "books@acme-security.test"}, "PrimaryPhone": {"FreeFormNumber": "(555) 010-0100"},
        "NameValue": [
            {"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
            {"Name": "SubscriptionStatus", "Value": "SUBSCRIBED"},
            {"Name": "PayrollFeature", "Value": "false"},
            {"Name": "IsQbdtMigrated", "Value": "false"}
        ],
        "Id": "1", "SyncToken": "0", "domain": "QBO", "sparse": false,
        "MetaData": {"CreateTime": t, "LastUpdatedTime": t}
    })
    .as_object()
    .cloned()
    .unwrap_or_default();
    co.prefs = preferences(us, numbers, &t);

    // Terms (ids 1–3), tax rates and codes: read-only lists.
    raw(
        &mut co,
        Kind::Term,
        json!({"Name": "Due on receipt", "Active": true, "Type": "STANDARD", "DiscountPercent": 0, "DueDays": 0, "DiscountDays": 0}),
        None,
        now,
    );
    raw(
        &mut co,
        Kind::Term,
        json!({"Name": "Net 15", "Active": true, "Type": "STANDARD", "DiscountPercent": 0, "DueDays": 15, "DiscountDays": 0}),
        None,
        now,
    );
    raw(
        &mut co,
        Kind::Term,
        json!({"Name": "Net 30", "Active": true, "Type": "STANDARD", "DiscountPercent": 0, "DueDays": 30, "DiscountDays": 0}),
        None,
        now,
    );
    if us {
        raw(
            &mut co,
            Kind::TaxCode,
            json!({"Name": "TAX", "Description": "TAX", "Active": true, "Taxable": true, "TaxGroup": false}),
            Some("TAX"),
            now,
        );
        raw(
            &mut co,
            Kind::TaxCode,
            json!({"Name": "NON", "Description": "NON", "Active": true, "Taxable": false, "TaxGroup": false}),
            Some("NON"),
            now,
        );
        let state = raw(
            &mut co,
            Kind::TaxRate,
            json!({"Name": "California State Tax", "Description": "CA state sales tax", "Active": true, "RateValue": money("7.25".parse().unwrap_or_default()), "AgencyRef": {"value": "1"}, "SpecialTaxType": "NONE", "DisplayType": "ReadOnly"}),
            None,
            now,
        );
        raw(
            &mut co,
            Kind::TaxCode,
            json!({"Name": "California", "Description": "California sales tax", "Active": true, "Taxable": true, "TaxGroup": true, "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": state, "name": "California State Tax"}, "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": 0}]}, "PurchaseTaxRateList": {"TaxRateDetail": []}}),
            None,
            now,
        );
    } else {
        let rate = |co: &mut Company, n: &str, v: &str| {
            raw(
                co,
                Kind::TaxRate,
                json!({"Name": n, "Description": n, "Active": true, "RateValue": money(v.parse().unwrap_or_default()), "AgencyRef": {"value": "1"}, "SpecialTaxType": if v == "0" {"ZERO_RATE"} else {"NONE"}, "DisplayType": "ReadOnly"}),
                None,
                now,
            )
        };
        let gst = rate(&mut co, "GST", "5");
        let hst = rate(&mut co, "HST ON", "13");
        let pst = rate(&mut co, "PST BC", "7");
        let zero = rate(&mut co, "Zero-rated", "0");
        let exempt = rate(&mut co, "Exempt", "0");
        let code = |co: &mut Company, n: &str, rates: &[(&str, &str)]| {
            let details: Vec<Value> = rates.iter().enumerate().map(|(i, (id, rn))| json!({"TaxRateRef": {"value": id, "name": rn}, "TaxTypeApplicable": "TaxOnAmount", "TaxOrder": i})).collect();
            raw(
                co,
                Kind::TaxCode,
                json!({"Name": n, "Description": n, "Active": true, "Taxable": true, "TaxGroup": rates.len() > 1, "SalesTaxRateList": {"TaxRateDetail": details}, "PurchaseTaxRateList": {"TaxRateDetail": details}}),
                None,
                now,
            )
        };
        code(&mut co, "GST", &[(&gst, "GST")]);
        code(&mut co, "HST ON", &[(&hst, "HST ON")]);
        code(&mut co, "GST/PST BC", &[(&gst, "GST"), (&pst, "PST BC")]);
        code(&mut co, "Zero-rated", &[(&zero, "Zero-rated")]);
        code(&mut co, "Exempt", &[(&exempt, "Exempt")]);
    }

    let ctx = Ctx::new(now);
    let num = |n: &str| if numbers { json!(n) } else { Value::Null };
    let account = |co: &mut Company, name: &str, t: &str, sub: &str, n: &str| {
        let mut body = json!({"Name": name, "AccountType": t, "AccountSubType": sub});
        if numbers {
            body["AcctNum"] = num(n);
        }
        add(co, Kind::Account, body, &ctx)
    };
    account(&mut co, "Checking", "Bank", "Checking", "1000");
    account(
        &mut co,
        "Accounts Receivable (A/R)",
        "Accounts Receivable",
        "AccountsReceivable",
        "1100",
    );
    account(
        &mut co,
        "Undeposited Funds",
        "Other Current Asset",
        "UndepositedFunds",
        "1200",
    );
    account(
        &mut co,
        "Accounts Payable (A/P)",
        "Accounts Payable",
        "AccountsPayable",
        "2000",
    );
    account(
        &mut co,
        "Visa Business Card",
        "Credit Card",
        "CreditCard",
        "2100",
    );
    account(
        &mut co,
        "Payroll Liabilities",
        "Other Current Liability",
        "PayrollTaxPayable",
        "2200",
    );
    if !us {
        account(
            &mut co,
            "GST/HST Payable",
            "Other Current Liability",
            "GlobalTaxPayable",
            "2300",
        );
        let mut usd_ap = json!({"Name": "Accounts Payable (A/P) - USD", "AccountType": "Accounts Payable", "AccountSubType": "AccountsPayable", "CurrencyRef": {"value": "USD"}});
        usd_ap["AcctNum"] = json!("2010");
        add(&mut co, Kind::Account, usd_ap, &ctx);
    }
    account(
        &mut co,
        "Opening Balance Equity",
        "Equity",
        "OpeningBalanceEquity",
        "3000",
    );
    let services = account(&mut co, "Services", "Income", "ServiceFeeIncome", "4000");
    account(&mut co, "Sales", "Income", "SalesOfProductIncome", "4100");
    let payroll = account(
        &mut co,
        "Payroll Expenses",
        "Expense",
        "PayrollExpenses",
        "6000",
    );
    account(
        &mut co,
        "Payroll Taxes",
        "Expense",
        "PayrollTaxExpenses",
        "6010",
    );
    let supplies = account(
        &mut co,
        "Uniforms and Supplies",
        "Expense",
        "SuppliesMaterials",
        "6100",
    );
    account(
        &mut co,
        "Rent or Lease",
        "Expense",
        "RentOrLeaseOfBuildings",
        "6200",
    );
    account(&mut co, "Vehicle Fuel", "Expense", "Auto", "6300");
    account(&mut co, "Bank Charges", "Expense", "BankCharges", "6400");
    let _ = payroll;

    add(
        &mut co,
        Kind::Item,
        json!({"Name": "Services", "Type": "Service", "IncomeAccountRef": {"value": services}}),
        &ctx,
    );
    add(
        &mut co,
        Kind::Item,
        json!({"Name": "Guard Services", "Type": "Service", "UnitPrice": 32.5, "Description": "Uniformed security guard, per hour", "IncomeAccountRef": {"value": services}}),
        &ctx,
    );
    add(
        &mut co,
        Kind::Item,
        json!({"Name": "Mobile Patrol", "Type": "Service", "UnitPrice": 45, "IncomeAccountRef": {"value": services}}),
        &ctx,
    );
    add(
        &mut co,
        Kind::Item,
        json!({"Name": "Uniform", "Type": "NonInventory", "UnitPrice": 60, "IncomeAccountRef": {"value": services}, "ExpenseAccountRef": {"value": supplies}}),
        &ctx,
    );

    let cur = |c: &str| json!({"value": c});
    let home = if us { "USD" } else { "CAD" };
    add(
        &mut co,
        Kind::Vendor,
        json!({"DisplayName": "Allied Uniform Supply", "CompanyName": "Allied Uniform Supply", "TermRef": {"value": "3"}, "CurrencyRef": cur(home)}),
        &ctx,
    );
    add(
        &mut co,
        Kind::Vendor,
        json!({"DisplayName": "City Power & Light", "CurrencyRef": cur(home)}),
        &ctx,
    );
    add(
        &mut co,
        Kind::Vendor,
        json!({"DisplayName": "Payroll Provider Inc.", "CurrencyRef": cur(home)}),
        &ctx,
    );
    if !us {
        add(
            &mut co,
            Kind::Vendor,
            json!({"DisplayName": "Guardian Software USA", "CurrencyRef": cur("USD")}),
            &ctx,
        );
    }
    add(
        &mut co,
        Kind::Customer,
        json!({"DisplayName": "Northwind Mall", "CompanyName": "Northwind Mall", "SalesTermRef": {"value": "2"}, "CurrencyRef": cur(home)}),
        &ctx,
    );
    add(
        &mut co,
        Kind::Customer,
        json!({"DisplayName": "Harbor Logistics", "CurrencyRef": cur(home)}),
        &ctx,
    );
    add(
        &mut co,
        Kind::Employee,
        json!({"DisplayName": "Jordan Smith", "GivenName": "Jordan", "FamilyName": "Smith"}),
        &ctx,
    );
    if !us {
        add(
            &mut co,
            Kind::Class,
            json!({"Name": "Static Guarding"}),
            &ctx,
        );
        add(&mut co, Kind::Class, json!({"Name": "Mobile Patrol"}), &ctx);
        add(&mut co, Kind::Department, json!({"Name": "Toronto"}), &ctx);
        add(
            &mut co,
            Kind::Department,
            json!({"Name": "Vancouver"}),
            &ctx,
        );
    }
    add_tax_agencies(&mut co, now);
    co
}

/// The full `Preferences` entity, every block QuickBooks answers (shapes as recorded), with
/// QuickBooks' defaults: duplicate cheque numbers warned about, bill and journal numbers not.
fn preferences(us: bool, numbers: bool, t: &str) -> Map<String, Value> {
    let home = if us { "USD" } else { "CAD" };
    let message = |what: &str| {
        json!({"Message": format!("Your {what} is attached.\nThank you for your business."),
               "Subject": format!("{what} from Acme Security")})
    };
    let custom = |prefix: &str| {
        json!([{"CustomField": [
            {"BooleanValue": false, "Type": "BooleanType", "Name": format!("{prefix}.Use{}Custom1", if prefix == "SalesFormsPrefs" {"Sales"} else {"Purchase"})}
        ]}])
    };
    let nv = |n: &str, v: &str| json!({"Name": n, "Value": v});
    json!({
        "EmailMessagesPrefs": {
            "InvoiceMessage": message("invoice"), "EstimateMessage": message("estimate"),
            "SalesReceiptMessage": message("sales receipt"), "StatementMessage": message("statement")
        },
        "ProductAndServicesPrefs": {"ForSales": true, "ForPurchase": true, "QuantityWithPriceAndRate": true, "QuantityOnHand": false},
        "ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": false},
        "AccountingInfoPrefs": {
            "UseAccountNumbers": numbers, "TrackDepartments": !us, "DepartmentTerminology": "Location",
            "ClassTrackingPerTxn": false, "ClassTrackingPerTxnLine": !us, "CustomerTerminology": "Customers",
            "FirstMonthOfFiscalYear": "January", "TaxYearMonth": "January", "TaxForm": "6"
        },
        "SalesFormsPrefs": {
            "CustomField": custom("SalesFormsPrefs"), "DefaultDiscountAccount": "14",
            "CustomTxnNumbers": true, "AllowDeposit": false, "AllowDiscount": true, "AllowEstimates": true,
            "AllowServiceDate": true, "AllowShipping": false, "AutoApplyCredit": true, "AutoApplyPayments": true,
            "DefaultTerms": {"value": "3"}, "DefaultCustomerMessage": "Thank you for your business.",
            "EmailCopyToCompany": false, "ETransactionEnabledStatus": "NotApplicable",
            "ETransactionAttachPDF": false, "ETransactionPaymentEnabled": false,
            "IPNSupportEnabled": false, "UsingPriceLevels": false
        },
        "VendorAndPurchasesPrefs": {
            "BillableExpenseTracking": true, "TrackingByCustomer": true,
            "POCustomField": custom("PurchasePrefs")
        },
        "TaxPrefs": if us {json!({"TaxGroupCodeRef": {"value": "5"}, "UsingSalesTax": true})} else {json!({"UsingSalesTax": true})},
        "OtherPrefs": {"NameValue": [
            nv("SalesFormsPrefs.DefaultCustomerMessage", "Thank you for your business."),
            nv("SalesFormsPrefs.DefaultItem", "21"),
            nv("DTXCopyMemo", "false"),
            nv("UncategorizedAssetAccountId", "8"),
            nv("UncategorizedIncomeAccountId", "14"),
            nv("UncategorizedExpenseAccountId", "20"),
            nv("SFCEnabled", "true"),
            nv("DataPartner", "false"),
            nv("Vendor1099Enabled", "true"),
            nv("TimeTrackingFeatureEnabled", "true"),
            nv("FDPEnabled", "false"),
            nv("ProjectsEnabled", "false"),
            nv("VendorAndPurchasesPrefs.UseCustomTxnNumbers", "true"),
            nv("DateFormat", "Month Date Year separated by a slash"),
            nv("DateFormatMnemonic", "MMDDYYYY_SEP_SLASH"),
            nv("NumberFormat", if us {"US Number Format"} else {"CA Number Format"}),
            nv("NumberFormatMnemonic", if us {"US_NB"} else {"CA_NB"}),
            nv("WarnDuplicateCheckNumber", "true"),
            nv("WarnDuplicateBillNumber", "false"),
            nv("WarnDuplicateJournalNumber", "false"),
            nv("SignoutInactiveMinutes", "60"),
            nv("AccountingInfoPrefs.ShowAccountNumbers", if numbers {"true"} else {"false"})
        ]},
        "TimeTrackingPrefs": {"UseServices": true, "WorkWeekStartDate": "Monday", "MarkTimeEntriesBillable": true, "ShowBillRateToAll": false, "BillCustomers": true},
        "CurrencyPrefs": {"MultiCurrencyEnabled": !us, "HomeCurrency": {"value": home}},
        "Id": "1", "SyncToken": "0", "domain": "QBO", "sparse": false,
        "MetaData": {"CreateTime": t, "LastUpdatedTime": t}
    })
    .as_object()
    .cloned()
    .unwrap_or_default()
}

/// Tax agencies, seeded last so the other seeded ids stay stable; rates point at them.
fn add_tax_agencies(co: &mut Company, now: DateTime<Utc>) {
    let agencies: &[(&str, &[&str])] = if co.is_us() {
        &[(
            "California Department of Tax and Fee Administration",
            &["California State Tax"],
        )]
    } else {
        &[
            (
                "Canada Revenue Agency",
                &["GST", "HST ON", "Zero-rated", "Exempt"],
            ),
            ("BC Ministry of Finance", &["PST BC"]),
        ]
    };
    let country = if co.is_us() { "US" } else { "CA" };
    for (name, rates) in agencies {
        let id = raw(
            co,
            Kind::TaxAgency,
            json!({"DisplayName": name, "TaxTrackedOnSales": true, "TaxTrackedOnPurchases": !co.is_us(), "SalesTaxCountry": country}),
            None,
            now,
        );
        if let Some(all) = co.entities.get_mut(&Kind::TaxRate) {
            for rate in all.values_mut() {
                if rate
                    .get("Name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| rates.contains(&n))
                {
                    rate.insert("AgencyRef".into(), json!({"value": id}));
                }
            }
        }
    }
}
