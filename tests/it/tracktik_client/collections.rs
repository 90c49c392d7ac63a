//! Reading TrackTik collections: relations, windows, paging past 1,000 rows, id batches, money.

use super::*;

#[tokio::test]
async fn every_collection_is_listed_and_relations_resolve() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let (client, portal) = (&sandbox.client, &sandbox.portal);

    let reference = client.reference_data(portal, &token).await.unwrap();
    assert!(!reference.regions.is_empty());
    assert!(
        reference.regions.iter().all(|r| r.time_zone.is_some()),
        "timeZone was included"
    );
    assert!(!reference.back_office_settings.is_empty());
    assert!(
        reference
            .back_office_settings
            .iter()
            .all(|s| s.billing_base_currency.is_some())
    );
    assert!(!reference.clients.is_empty());
    assert!(!reference.bill_items.is_empty());
    assert!(!reference.tax_classes.is_empty());
    assert!(!reference.tax_class_items.is_empty());
    assert!(!reference.payroll_codes.is_empty());
    assert!(!reference.employees.is_empty());

    let invoices = client
        .approved_invoices_between(portal, &token, sandbox.everything())
        .await
        .unwrap();
    assert!(!invoices.is_empty(), "the seed has approved invoices");
    assert!(
        invoices
            .iter()
            .all(|i| i.status == InvoiceStatus::Approved && i.approved_on.is_some())
    );
    let client_ids: Vec<i64> = reference.clients.iter().map(|c| c.id).collect();
    assert!(
        invoices
            .iter()
            .all(|i| client_ids.contains(&i.client.as_ref().unwrap().id()))
    );

    let with_lines = client
        .invoice_with_lines(portal, &token, invoices[0].id)
        .await
        .unwrap();
    let lines = with_lines.lines.expect("lines were included");
    assert!(!lines.is_empty());
    let invoice_ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    let detailed = client
        .invoices_with_lines(portal, &token, &invoice_ids)
        .await
        .unwrap();
    assert_eq!(detailed.len(), invoices.len());
    assert!(
        detailed
            .iter()
            .all(|i| i.lines.as_ref().is_some_and(|l| !l.is_empty()))
    );
    let taxes = client
        .line_taxes_for_invoices(portal, &token, &invoice_ids)
        .await
        .unwrap();
    assert!(!taxes.is_empty());
    let line_ids: Vec<i64> = lines.iter().map(|l| l.id).collect();
    let line_taxes = client
        .line_taxes_for_lines(portal, &token, &line_ids)
        .await
        .unwrap();
    assert!(
        line_taxes
            .iter()
            .all(|t| line_ids.contains(&t.invoice_line_id().unwrap()))
    );
    let billables = client
        .billable_items_for_invoices(portal, &token, &invoice_ids)
        .await
        .unwrap();
    assert!(!billables.is_empty());
    assert!(
        billables
            .iter()
            .all(|b| b.bill_item.as_ref().is_some_and(|r| r.object().is_some()))
    );

    let payruns = client
        .approved_payruns_between(portal, &token, sandbox.everything())
        .await
        .unwrap();
    assert!(!payruns.is_empty(), "the seed has approved pay runs");
    assert!(payruns.iter().all(|p| p.approved_on.is_some()));
    let items = client
        .payrun_items(portal, &token, payruns[0].id)
        .await
        .unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|i| i.payrun.id() == payruns[0].id));
    assert!(
        items
            .iter()
            .all(|i| i.employee.as_ref().is_some_and(|e| e.object().is_some()))
    );
}

#[tokio::test]
async fn an_invoice_approved_outside_the_window_is_not_returned() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let all = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, sandbox.everything())
        .await
        .unwrap();
    let first = all
        .iter()
        .filter_map(|i| i.approved_on)
        .min()
        .unwrap()
        .to_utc();
    let narrow = Window::new(first, first + TimeDelta::seconds(1)).unwrap();
    let found = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, narrow)
        .await
        .unwrap();
    assert!(!found.is_empty());
    assert!(found.len() < all.len());
    assert!(
        found
            .iter()
            .all(|i| i.approved_on.unwrap().to_utc() == first)
    );
    let before = Window::new(first - TimeDelta::hours(1), first).unwrap();
    let none = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, before)
        .await
        .unwrap();
    assert!(none.is_empty(), "the window's end is exclusive");
}

/// Creates an approved pay run with `n` items through the control API; returns its id.
async fn payrun_with_items(sandbox: &Sandbox, token: &AccessToken, n: usize) -> i64 {
    let employees = sandbox
        .client
        .employees(&sandbox.portal, token)
        .await
        .unwrap();
    let regions = sandbox
        .client
        .regions(&sandbox.portal, token)
        .await
        .unwrap();
    let items: Vec<Value> = (0..n)
        .map(|i| {
            json!({"employee": employees[i % employees.len()].id, "code": "REG",
                   "quantity": "8", "rate": format!("{}.25", 15 + i % 10)})
        })
        .collect();
    let created = sandbox
        .control(
            reqwest::Method::POST,
            "payruns",
            json!({"region": regions[0].id, "occurrenceDate": "2024-06-15", "items": items, "approve": true}),
        )
        .await;
    created["data"]["id"]
        .as_i64()
        .expect("the new pay run's id")
}

#[tokio::test]
async fn paging_reads_more_than_a_thousand_rows_to_the_end() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let payrun = payrun_with_items(&sandbox, &token, 1234).await;
    sandbox.clear_log().await;

    let items = sandbox
        .client
        .payrun_items(&sandbox.portal, &token, payrun)
        .await
        .unwrap();
    assert_eq!(items.len(), 1234);
    let mut ids: Vec<i64> = items.iter().map(Record::id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 1234, "no duplicates");

    let pages = sandbox.logged("payroll-payrun-items").await;
    let keys: Vec<(Option<&str>, Option<&str>, Option<&str>)> = pages
        .iter()
        .map(|(_, q)| (param(q, "limit"), param(q, "id:gt"), param(q, "offset")))
        .collect();
    let after = ids[999].to_string();
    assert_eq!(
        keys,
        vec![
            (Some("1000"), None, None),
            (Some("1000"), Some(after.as_str()), None)
        ]
    );
}

#[tokio::test]
async fn a_smaller_page_size_reads_the_same_rows_in_more_pages() {
    let sandbox = Sandbox::start_with(ClientConfig {
        page_size: 400,
        ..Default::default()
    })
    .await;
    let token = sandbox.token().await;
    let payrun = payrun_with_items(&sandbox, &token, 1000).await;
    sandbox.clear_log().await;
    let items = sandbox
        .client
        .payrun_items(&sandbox.portal, &token, payrun)
        .await
        .unwrap();
    assert_eq!(items.len(), 1000);
    let pages = sandbox.logged("payroll-payrun-items").await;
    let after: Vec<Option<&str>> = pages.iter().map(|(_, q)| param(q, "id:gt")).collect();
    let (i399, i799) = (
        Record::id(&items[399]).to_string(),
        Record::id(&items[799]).to_string(),
    );
    assert_eq!(after, vec![None, Some(i399.as_str()), Some(i799.as_str())]);
}

#[tokio::test]
async fn long_id_lists_are_sent_in_batches_of_at_most_one_hundred() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let invoices = sandbox
        .client
        .approved_invoices_between(&sandbox.portal, &token, sandbox.everything())
        .await
        .unwrap();
    let real: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    let expected = sandbox
        .client
        .billable_items_for_invoices(&sandbox.portal, &token, &real)
        .await
        .unwrap();
    let mut ids: Vec<i64> = (1..=230).map(|n| 900_000_000 + n).collect();
    ids.extend(&real);
    sandbox.clear_log().await;
    let found = sandbox
        .client
        .billable_items_for_invoices(&sandbox.portal, &token, &ids)
        .await
        .unwrap();
    assert_eq!(found.len(), expected.len());
    let batches = sandbox.logged("/billable-items").await;
    assert!(batches.len() >= 3);
    assert!(
        batches
            .iter()
            .all(|(_, q)| param(q, "invoice:in").unwrap().split(',').count() <= 100)
    );
}

#[tokio::test]
async fn invoice_money_read_from_the_portal_adds_up_to_the_cent() {
    let sandbox = Sandbox::start().await;
    let token = sandbox.token().await;
    let (client, portal) = (&sandbox.client, &sandbox.portal);
    let invoices = client
        .approved_invoices_with_lines_between(portal, &token, sandbox.everything())
        .await
        .unwrap();
    assert!(!invoices.is_empty());
    let ids: Vec<i64> = invoices.iter().map(|i| i.id).collect();
    let taxes = client
        .line_taxes_for_invoices(portal, &token, &ids)
        .await
        .unwrap();
    for invoice in &invoices {
        let lines = invoice
            .lines
            .as_ref()
            .expect("lines were included on the collection");
        assert!(!lines.is_empty());
        let sub_total: Decimal = lines.iter().map(|l| l.line_sub_total.unwrap()).sum();
        assert_eq!(Some(sub_total), invoice.sub_total, "invoice {}", invoice.id);
        let line_ids: Vec<i64> = lines.iter().map(|l| l.id).collect();
        let tax_total: Decimal = taxes
            .iter()
            .filter(|t| line_ids.contains(&t.invoice_line_id().unwrap()))
            .map(|t| t.amount)
            .sum();
        assert_eq!(Some(tax_total), invoice.tax_total, "invoice {}", invoice.id);
        assert_eq!(
            invoice.total,
            Some(sub_total + tax_total),
            "invoice {}",
            invoice.id
        );
    }
}
