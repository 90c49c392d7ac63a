//! Express on companies that already hold objects: taken names, used numbers, inactive ones.

use super::*;

#[tokio::test]
async fn without_account_numbers_wages_fall_back_to_payroll_expenses_and_names_are_matched() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_NO_ACCTNUM_REALM_ID).await;
    let co = company(US_NO_ACCTNUM_REALM_ID, &tokens);
    let before = qbo.counts(&co).await;

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    let mut table = US_TABLE;
    table[0].2 = "PayrollExpenses";
    assert_table(&qbo, &co, &outcome, &table, false).await;
    assert!(outcome.objects.iter().all(|o| o.action == Action::Created));
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.contains("Account numbers are turned off")),
        "{:?}",
        outcome.notes
    );
    let wages = &outcome.objects[0];
    assert!(
        wages.notes.iter().any(
            |n| n.contains("refused the detail type Payroll Wage Expenses")
                && n.contains("created with Payroll Expenses")
        ),
        "{:?}",
        wages.notes
    );
    assert!(
        wages
            .notes
            .iter()
            .any(|n| n.contains("account numbers are off")),
        "{:?}",
        wages.notes
    );
    let items: Vec<_> = outcome
        .objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Item)
        .collect();
    assert!(
        items.iter().all(|i| i.number.is_some()),
        "SKUs are still set"
    );
    let after_first = qbo.counts(&co).await;
    assert_eq!(after_first, (before.0 + 6, before.1 + 4));

    let again = qbo.express(&co, &us_tax_classes()).await.unwrap();
    assert_eq!(qbo.counts(&co).await, after_first, "matched by name");
    assert!(again.objects.iter().all(|o| o.action == Action::Reused));
    assert!(
        again.objects[0]
            .notes
            .iter()
            .any(|n| n.contains("Payroll Expenses rather than Payroll Wage Expenses")),
        "{:?}",
        again.objects[0].notes
    );
    assert_eq!(again.refs, outcome.refs);
}

#[tokio::test]
async fn names_taken_by_incompatible_objects_are_left_alone_and_ours_get_the_ledgerbridge_suffix() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let bank = qbo
        .client
        .create(
            &co,
            &Account {
                name: Some("TrackTik Service Income".into()),
                account_type: Some("Bank".into()),
                account_sub_type: Some("Checking".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "bank named like express"]),
        )
        .await
        .unwrap();
    let services = qbo
        .accounts(&co)
        .await
        .into_iter()
        .find(|a| a.name.as_deref() == Some("Services"))
        .unwrap();
    let other_item = qbo
        .client
        .create(
            &co,
            &Item {
                name: Some("TrackTik Automated Calculated Tax".into()),
                sku: Some("OTHER-1".into()),
                item_type: Some("NonInventory".into()),
                income_account_ref: Some(Ref::id(services.id.clone().unwrap())),
                ..Default::default()
            },
            &RequestId::derive(&["test", "item named like express"]),
        )
        .await
        .unwrap();
    let before = qbo.counts(&co).await;

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    let income = &outcome.objects[2];
    assert_eq!(income.purpose, Purpose::ServiceIncome);
    assert_eq!(income.action, Action::CreatedUnderOtherName);
    assert_eq!(income.name, "TrackTik Service Income (Ledgerbridge)");
    assert_eq!(income.number.as_deref(), Some("TT-2000"));
    assert!(
        income
            .notes
            .iter()
            .any(|n| n.contains("\"TrackTik Service Income\"") && n.contains("type Bank")),
        "{:?}",
        income.notes
    );
    let read: Account = qbo.client.read(&co, &income.qbo_id).await.unwrap();
    assert_eq!(read.account_type.as_deref(), Some("Income"));
    assert_eq!(read.account_sub_type.as_deref(), Some("ServiceFeeIncome"));
    let service_item = &outcome.objects[3];
    assert_eq!(
        service_item.name, "TrackTik Service Income",
        "items have their own names"
    );
    assert_eq!(service_item.action, Action::Created);

    let tax_item = outcome
        .objects
        .iter()
        .find(|o| o.purpose == Purpose::AutomatedTax && o.kind == ObjectKind::Item)
        .unwrap();
    assert_eq!(tax_item.action, Action::CreatedUnderOtherName);
    assert_eq!(
        tax_item.name,
        "TrackTik Automated Calculated Tax (Ledgerbridge)"
    );
    assert!(
        tax_item.notes.iter().any(|n| n.contains("SKU OTHER-1")),
        "{:?}",
        tax_item.notes
    );
    let read: Item = qbo.client.read(&co, &tax_item.qbo_id).await.unwrap();
    assert_eq!(read.sku.as_deref(), Some("TT-8000"));
    assert_eq!(
        read.income_account_ref.map(|r| r.value),
        Some(outcome.refs.automated_tax.account.value.clone())
    );

    // The customer's own objects are untouched.
    let bank_now: Account = qbo
        .client
        .read(&co, bank.id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(bank_now, bank);
    let item_now: Item = qbo
        .client
        .read(&co, other_item.id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(item_now, other_item);
    assert_eq!(qbo.counts(&co).await, (before.0 + 6, before.1 + 4));

    // A second run finds the suffixed objects and creates nothing.
    let again = qbo.express(&co, &us_tax_classes()).await.unwrap();
    assert!(again.objects.iter().all(|o| o.action == Action::Reused));
    assert_eq!(again.refs, outcome.refs);
    assert_eq!(qbo.counts(&co).await, (before.0 + 6, before.1 + 4));
}

#[tokio::test]
async fn an_account_already_carrying_an_express_number_is_reused_under_its_own_name() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let mine = qbo
        .client
        .create(
            &co,
            &Account {
                name: Some("Guard wages".into()),
                acct_num: Some("TT-3000".into()),
                account_type: Some("Expense".into()),
                account_sub_type: Some("PayrollExpenses".into()),
                ..Default::default()
            },
            &RequestId::derive(&["test", "own wages"]),
        )
        .await
        .unwrap();

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    let wages = &outcome.objects[0];
    assert_eq!(wages.action, Action::Reused);
    assert_eq!(Some(wages.qbo_id.clone()), mine.id);
    assert_eq!(wages.name, "Guard wages");
    assert!(
        wages
            .notes
            .iter()
            .any(|n| n.contains("TT-3000") && n.contains("Guard wages")),
        "{:?}",
        wages.notes
    );
    assert!(
        qbo.accounts(&co)
            .await
            .iter()
            .all(|a| a.name.as_deref() != Some("TrackTik Direct Wages")),
        "no second wages account"
    );
}

#[tokio::test]
async fn inactive_express_objects_are_reactivated_not_duplicated() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let first = qbo.express(&co, &us_tax_classes()).await.unwrap();
    let counts = qbo.counts(&co).await;
    let wages: Account = qbo
        .client
        .read(&co, &first.refs.wages_account.value)
        .await
        .unwrap();
    let item: Item = qbo
        .client
        .read(&co, &first.refs.service_income_item.value)
        .await
        .unwrap();
    let off = qbo
        .client
        .update(
            &co,
            &Account {
                id: wages.id.clone(),
                sync_token: wages.sync_token.clone(),
                sparse: Some(true),
                active: Some(false),
                ..Default::default()
            },
            &RequestId::derive(&["test", "deactivate wages"]),
        )
        .await
        .unwrap();
    assert_eq!(off.name.as_deref(), Some("TrackTik Direct Wages (deleted)"));
    qbo.client
        .update(
            &co,
            &Item {
                id: item.id.clone(),
                sync_token: item.sync_token.clone(),
                sparse: Some(true),
                active: Some(false),
                ..Default::default()
            },
            &RequestId::derive(&["test", "deactivate item"]),
        )
        .await
        .unwrap();

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    assert_eq!(qbo.counts(&co).await, counts);
    assert_eq!(
        outcome.refs.wages_account.value,
        first.refs.wages_account.value
    );
    assert_eq!(
        outcome.refs.service_income_item.value,
        first.refs.service_income_item.value
    );
    let reactivated: Vec<_> = outcome.with_action(Action::Reactivated).collect();
    assert_eq!(reactivated.len(), 2, "{:#?}", outcome.objects);
    assert!(
        reactivated
            .iter()
            .all(|o| o.notes.iter().any(|n| n.contains("made active again")))
    );
    assert_table(&qbo, &co, &outcome, &US_TABLE, true).await;
}
