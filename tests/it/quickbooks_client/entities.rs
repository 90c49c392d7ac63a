//! Writing QuickBooks objects: accounts and sync tokens, documents with totals, Canadian tax.

use super::*;

#[tokio::test]
async fn accounts_are_created_read_updated_sparsely_and_a_stale_sync_token_is_refused() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let created = qbo
        .client
        .create(
            &co,
            &Account {
                name: Some("TrackTik Service Income".into()),
                acct_num: Some("TT-2000".into()),
                account_type: Some("Income".into()),
                account_sub_type: Some("ServiceFeeIncome".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "account", "TT-2000"]),
        )
        .await
        .unwrap();
    let id = created.id.clone().unwrap();
    assert_eq!(created.sync_token.as_deref(), Some("0"));
    assert_eq!(created.classification.as_deref(), Some("Revenue"));

    let read: Account = qbo.client.read(&co, &id).await.unwrap();
    assert_eq!(read.acct_num.as_deref(), Some("TT-2000"));

    let renamed = qbo
        .client
        .update(
            &co,
            &Account {
                id: Some(id.clone()),
                sync_token: Some("0".into()),
                sparse: Some(true),
                description: Some("Billing income from TrackTik".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "account", "TT-2000", "describe"]),
        )
        .await
        .unwrap();
    assert_eq!(renamed.sync_token.as_deref(), Some("1"));
    assert_eq!(
        renamed.name.as_deref(),
        Some("TrackTik Service Income"),
        "sparse update keeps other fields"
    );

    let stale = qbo
        .client
        .update(
            &co,
            &Account {
                id: Some(id),
                sync_token: Some("0".into()),
                sparse: Some(true),
                description: Some("x".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "account", "TT-2000", "stale"]),
        )
        .await
        .unwrap_err();
    assert_eq!(
        stale.fault().and_then(|f| f.code()),
        Some("5010"),
        "{stale}"
    );
}

#[tokio::test]
async fn an_invoice_a_bill_an_expense_and_a_journal_entry_are_posted_with_server_totals() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let customers: Vec<Customer> = qbo
        .client
        .query(&co, "select * from Customer")
        .await
        .unwrap();
    let items: Vec<Item> = qbo
        .client
        .query(&co, "select * from Item where Type = 'Service'")
        .await
        .unwrap();
    let vendors: Vec<Vendor> = qbo.client.query(&co, "select * from Vendor").await.unwrap();
    let ap = account_of_type(&qbo, &co, "Accounts Payable").await;
    let expense = account_of_type(&qbo, &co, "Expense").await;
    let card = account_of_type(&qbo, &co, "Credit Card").await;

    let invoice = qbo
        .client
        .create(
            &co,
            &Invoice {
                doc_number: Some("INV-000123".into()),
                txn_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1),
                customer_ref: Some(Ref::id(customers[0].id.clone().unwrap())),
                line: vec![Line::sales(
                    d("1020.00"),
                    SalesItemLineDetail {
                        item_ref: Some(Ref::id(items[0].id.clone().unwrap())),
                        qty: Some(d("40")),
                        unit_price: Some(d("25.50")),
                        ..Default::default()
                    },
                )],
                ..Default::default()
            },
            &RequestId::derive(&["test", "invoice", "INV-000123"]),
        )
        .await
        .unwrap();
    assert_eq!(invoice.total_amt, Some(d("1020.00")));
    assert!(
        invoice
            .line
            .iter()
            .any(|l| l.detail_type == DetailType::SubTotalLineDetail)
    );

    let expense_line = |amount: &str| {
        Line::account_expense(
            d(amount),
            AccountBasedExpenseLineDetail {
                account_ref: Some(Ref::id(expense.id.clone().unwrap())),
                ..Default::default()
            },
        )
    };
    let bill = qbo
        .client
        .create(
            &co,
            &Bill {
                vendor_ref: Some(Ref::id(vendors[0].id.clone().unwrap())),
                a_p_account_ref: Some(Ref::id(ap.id.clone().unwrap())),
                total_amt: Some(d("999999")), // ignored by QBO
                line: vec![expense_line("880.00"), expense_line("132.00")],
                ..Default::default()
            },
            &RequestId::derive(&["test", "bill", "1"]),
        )
        .await
        .unwrap();
    assert_eq!(bill.total_amt, Some(d("1012.00")), "QBO computes the total");

    let purchase = qbo
        .client
        .create(
            &co,
            &Purchase {
                account_ref: Some(Ref::id(card.id.clone().unwrap())),
                payment_type: Some("CreditCard".into()),
                line: vec![expense_line("2106.45")],
                ..Default::default()
            },
            &RequestId::derive(&["test", "purchase", "1"]),
        )
        .await
        .unwrap();
    assert_eq!(purchase.total_amt, Some(d("2106.45")));

    let je_line = |posting: &str, account: &Account| {
        Line::journal(
            d("500.00"),
            JournalEntryLineDetail {
                posting_type: posting.into(),
                account_ref: Ref::id(account.id.clone().unwrap()),
                ..Default::default()
            },
        )
    };
    let je = qbo
        .client
        .create(
            &co,
            &JournalEntry {
                line: vec![je_line("Debit", &expense), je_line("Credit", &card)],
                ..Default::default()
            },
            &RequestId::derive(&["test", "je", "1"]),
        )
        .await
        .unwrap();
    assert!(je.id.is_some());

    let count = qbo
        .client
        .count(
            &co,
            "select count(*) from Invoice where DocNumber = 'INV-000123'",
        )
        .await
        .unwrap();
    assert_eq!(count, 1);
    let link = qbo
        .client
        .endpoints()
        .app_link("invoice", invoice.id.as_deref().unwrap());
    assert!(link.ends_with(&format!("invoice?txnId={}", invoice.id.unwrap())));
}

#[tokio::test]
async fn a_canadian_company_computes_tax_from_the_line_tax_codes() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(CA_REALM_ID).await;
    let co = company(CA_REALM_ID, &tokens);
    let prefs = qbo.client.preferences(&co).await.unwrap();
    assert_eq!(
        prefs
            .currency_prefs
            .as_ref()
            .and_then(|c| c.multi_currency_enabled),
        Some(true)
    );
    let codes: Vec<TaxCode> = qbo
        .client
        .query(&co, "select * from TaxCode")
        .await
        .unwrap();
    let hst = codes
        .iter()
        .find(|c| c.name.as_deref().is_some_and(|n| n.starts_with("HST")))
        .expect("an HST code");
    let customers: Vec<Customer> = qbo
        .client
        .query(&co, "select * from Customer")
        .await
        .unwrap();
    let customer = customers
        .iter()
        .find(|c| c.currency_ref.as_ref().is_some_and(|r| r.value == "CAD"))
        .unwrap();
    let items: Vec<Item> = qbo
        .client
        .query(&co, "select * from Item where Type = 'Service'")
        .await
        .unwrap();
    let line = Line::sales(
        d("100.00"),
        SalesItemLineDetail {
            item_ref: Some(Ref::id(items[0].id.clone().unwrap())),
            tax_code_ref: Some(Ref::id(hst.id.clone().unwrap())),
            ..Default::default()
        },
    );
    let mut invoice = Invoice {
        customer_ref: Some(Ref::id(customer.id.clone().unwrap())),
        currency_ref: Some(Ref::id("CAD")),
        line: vec![line.clone()],
        ..Default::default()
    };
    let err = qbo
        .client
        .create(&co, &invoice, &RequestId::derive(&["ca", "no-gtc"]))
        .await
        .unwrap_err();
    assert_eq!(
        err.fault().and_then(|f| f.code()),
        Some("2020"),
        "GlobalTaxCalculation is required: {err}"
    );
    invoice.global_tax_calculation = Some("TaxExcluded".into());
    let saved = qbo
        .client
        .create(&co, &invoice, &RequestId::derive(&["ca", "ok"]))
        .await
        .unwrap();
    assert_eq!(
        saved.txn_tax_detail.and_then(|t| t.total_tax),
        Some(d("13.00"))
    );
    assert_eq!(saved.total_amt, Some(d("113.00")));
}
