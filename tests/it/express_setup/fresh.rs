//! Express on untouched US and Canadian companies: the objects, numbers and tax codes it makes.

use super::*;

#[tokio::test]
async fn express_on_a_us_company_creates_exactly_the_objects_of_the_table() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let (accounts_before, items_before) = qbo.counts(&co).await;

    let outcome = qbo.express(&co, &us_tax_classes()).await.unwrap();

    assert!(
        outcome.objects.iter().all(|o| o.action == Action::Created),
        "{:#?}",
        outcome.objects
    );
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    let ids = assert_table(&qbo, &co, &outcome, &US_TABLE, true).await;
    assert_eq!(
        qbo.counts(&co).await,
        (accounts_before + 6, items_before + 4),
        "six accounts and four items, nothing else"
    );

    let refs = &outcome.refs;
    assert_eq!(refs.wages_account.value, ids["TrackTik Direct Wages"]);
    assert_eq!(
        refs.wages_liability_account.value,
        ids["TrackTik Direct Wages Liability"]
    );
    assert_eq!(
        refs.service_income_account.value,
        ids["TrackTik Service Income"]
    );
    assert_eq!(refs.tax_classes.len(), 2);
    assert_eq!(
        refs.tax_classes[&7].account.value,
        ids["TrackTik County Tax"]
    );
    assert_eq!(
        refs.tax_classes[&42].account.value,
        ids["TrackTik State Sales Tax"]
    );
    assert_eq!(
        refs.automated_tax.account.value,
        ids["TrackTik Automated Calculated Tax"]
    );
    let item: Item = qbo
        .client
        .read(&co, &refs.tax_classes[&42].item.value)
        .await
        .unwrap();
    assert_eq!(item.sku.as_deref(), Some("TT-8102"));
    assert_eq!(
        item.taxable,
        Some(false),
        "US tax lines are not taxed again"
    );
    let item: Item = qbo
        .client
        .read(&co, &refs.service_income_item.value)
        .await
        .unwrap();
    assert_eq!(item.name.as_deref(), Some("TrackTik Service Income"));
}

#[tokio::test]
async fn running_express_twice_creates_nothing_new() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let co = company(US_REALM_ID, &tokens);
    let first = qbo.express(&co, &us_tax_classes()).await.unwrap();
    let after_first = qbo.counts(&co).await;

    let second = qbo.express(&co, &us_tax_classes()).await.unwrap();

    assert_eq!(qbo.counts(&co).await, after_first);
    assert!(
        second.objects.iter().all(|o| o.action == Action::Reused),
        "{:#?}",
        second.objects
    );
    assert!(second.objects.iter().all(|o| o.notes.is_empty()));
    assert_eq!(second.refs, first.refs);
    let writes = qbo
        .requests()
        .await
        .into_iter()
        .filter(|r| r["method"] == "POST" && r["requestid"].is_string())
        .count();
    assert_eq!(writes, 10, "only the first run wrote");
}

#[tokio::test]
async fn express_works_on_a_canadian_company_and_its_items_take_gst_hst_codes() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(CA_REALM_ID).await;
    let co = company(CA_REALM_ID, &tokens);
    let before = qbo.counts(&co).await;
    let classes = [tc(3, "HST ON"), tc(1, "GST"), tc(2, "PST BC")];

    let outcome = qbo.express(&co, &classes).await.unwrap();

    assert!(outcome.objects.iter().all(|o| o.action == Action::Created));
    let table: [Expected; 7] = [
        US_TABLE[0],
        US_TABLE[1],
        US_TABLE[2],
        (
            "TrackTik GST",
            "Other Current Liability",
            "OtherCurrentLiabilities",
            "TT-8101",
            true,
        ),
        (
            "TrackTik PST BC",
            "Other Current Liability",
            "OtherCurrentLiabilities",
            "TT-8102",
            true,
        ),
        (
            "TrackTik HST ON",
            "Other Current Liability",
            "OtherCurrentLiabilities",
            "TT-8103",
            true,
        ),
        US_TABLE[5],
    ];
    assert_table(&qbo, &co, &outcome, &table, true).await;
    assert_eq!(qbo.counts(&co).await, (before.0 + 7, before.1 + 5));
    for o in outcome
        .objects
        .iter()
        .filter(|o| o.kind == ObjectKind::Account)
    {
        let a: Account = qbo.client.read(&co, &o.qbo_id).await.unwrap();
        assert_eq!(a.currency_ref.map(|r| r.value).as_deref(), Some("CAD"));
    }

    // The items are usable on a Canadian invoice: service income plus a tax-class line, each
    // with a GST/HST code.
    let codes: Vec<TaxCode> = qbo
        .client
        .query(&co, "select * from TaxCode")
        .await
        .unwrap();
    let hst = codes
        .iter()
        .find(|c| c.name.as_deref() == Some("HST ON"))
        .unwrap();
    let exempt = codes
        .iter()
        .find(|c| c.name.as_deref() == Some("Exempt"))
        .unwrap();
    let customers: Vec<Customer> = qbo
        .client
        .query(&co, "select * from Customer")
        .await
        .unwrap();
    let customer = customers
        .iter()
        .find(|c| c.currency_ref.as_ref().is_some_and(|r| r.value == "CAD"))
        .unwrap();
    let line = |item: &Ref, amount: &str, code: &TaxCode| {
        Line::sales(
            Decimal::from_str(amount).unwrap(),
            SalesItemLineDetail {
                item_ref: Some(item.clone()),
                tax_code_ref: Some(Ref::id(code.id.clone().unwrap())),
                ..Default::default()
            },
        )
    };
    let invoice = Invoice {
        customer_ref: Some(Ref::id(customer.id.clone().unwrap())),
        currency_ref: Some(Ref::id("CAD")),
        global_tax_calculation: Some("TaxExcluded".into()),
        line: vec![
            line(&outcome.refs.service_income_item, "100.00", hst),
            line(&outcome.refs.tax_classes[&3].item, "13.00", exempt),
        ],
        ..Default::default()
    };
    let saved = qbo
        .client
        .create(
            &co,
            &invoice,
            &RequestId::derive(&["test", "ca express invoice"]),
        )
        .await
        .unwrap();
    assert_eq!(saved.total_amt, Some(Decimal::from_str("126.00").unwrap()));
}

#[tokio::test]
async fn the_same_tax_classes_in_another_order_get_the_same_numbers() {
    let qbo = Qbo::start().await;
    let forward = [tc(5, "Alpha"), tc(9, "Bravo"), tc(12, "Charlie")];
    let shuffled = [tc(12, "Charlie"), tc(5, "Alpha"), tc(9, "Bravo")];
    let summary = |o: &ExpressOutcome| -> Vec<(Purpose, ObjectKind, String, Option<String>)> {
        o.objects
            .iter()
            .map(|o| (o.purpose, o.kind, o.name.clone(), o.number.clone()))
            .collect()
    };

    let realm_a = qbo.new_company("us").await;
    let tokens_a = qbo.connect(&realm_a).await;
    let a = qbo
        .express(&company(&realm_a, &tokens_a), &forward)
        .await
        .unwrap();
    let realm_b = qbo.new_company("us").await;
    let tokens_b = qbo.connect(&realm_b).await;
    let co_b = company(&realm_b, &tokens_b);
    let b = qbo.express(&co_b, &shuffled).await.unwrap();

    assert_eq!(summary(&a), summary(&b));
    let numbers: BTreeMap<i64, String> = a
        .objects
        .iter()
        .filter_map(|o| match o.purpose {
            Purpose::TaxClass { id } if o.kind == ObjectKind::Account => {
                Some((id, o.number.clone().unwrap()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        numbers,
        BTreeMap::from([
            (5, "TT-8101".to_owned()),
            (9, "TT-8102".to_owned()),
            (12, "TT-8103".to_owned())
        ])
    );

    // Re-running with yet another order reuses everything.
    let counts = qbo.counts(&co_b).await;
    let again = qbo
        .express(&co_b, &[tc(9, "Bravo"), tc(12, "Charlie"), tc(5, "Alpha")])
        .await
        .unwrap();
    assert!(again.objects.iter().all(|o| o.action == Action::Reused));
    assert_eq!(again.refs, b.refs);
    assert_eq!(qbo.counts(&co_b).await, counts);
}
