//! Company shapes: Canadian tax and currencies, Classes and Locations.

use super::*;

#[tokio::test]
async fn a_canadian_company_gets_currencies_and_tax_codes_and_qbo_tax_differences_are_recorded() {
    use ledgerbridge::providers::quickbooks::models::TaxCode;
    use ledgerbridge::sandbox::quickbooks::CA_REALM_ID;
    let start = days_ago(30);
    let s = Synced::start(CA_REALM_ID, start).await;
    let token = s.qbo_token().await;
    let co = Company {
        realm_id: &s.realm,
        access_token: &token,
    };
    let codes: Vec<TaxCode> = s
        .state
        .providers
        .quickbooks
        .query(&co, "SELECT * FROM TaxCode")
        .await
        .unwrap();
    let code = |name: &str| {
        let c = codes
            .iter()
            .find(|c| c.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} in {codes:?}"));
        QboRef::new(c.id.clone().unwrap(), name)
    };
    let (portal, tt) = s.tracktik().await;
    let classes = s
        .state
        .providers
        .tracktik
        .tax_classes(&portal, &tt)
        .await
        .unwrap();
    let mut settings = s.settings().await;
    settings.taxes.classes.clear();
    for c in &classes {
        let name = c.name.clone().unwrap_or_default();
        let target = if name.contains("HST") {
            code("HST ON")
        } else if name.contains("PST") {
            code("GST/PST BC")
        } else {
            // A US sales tax has no Canadian code: zero-rated, so QBO's total comes out lower.
            code("Zero-rated")
        };
        settings
            .taxes
            .classes
            .insert(c.id, TaxTarget::TaxCode { code: target });
    }
    settings.taxes.exempt_tax_code = Some(code("Exempt"));
    settings.taxes.automated_tax_item = None;
    s.save(&settings).await;

    s.run_every_day(start).await;
    let rows = s.ledger().await;
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{rows:#?}"
    );
    let invoices = s.qbo_invoices().await;
    assert_eq!(
        invoices.len(),
        rows.iter().filter(|r| r.source == Source::Invoice).count()
    );
    let mut currencies: Vec<String> = invoices
        .iter()
        .map(|i| i.currency_ref.as_ref().unwrap().value.clone())
        .collect();
    currencies.sort();
    currencies.dedup();
    assert_eq!(currencies, ["CAD", "USD"], "the region's billing currency");
    assert!(invoices.iter().all(|i| {
        i.global_tax_calculation.as_deref() == Some("TaxExcluded")
            && i.line
                .iter()
                .filter_map(|l| l.sales_item_line_detail.as_ref())
                .all(|d| d.tax_code_ref.is_some())
    }));
    // USD (New York) invoices with tax in TrackTik: QBO computed none; recorded, not hidden.
    let usd_taxed: Vec<_> = rows
        .iter()
        .filter(|r| r.currency.as_deref() == Some("USD") && r.source == Source::Invoice)
        .collect();
    assert!(!usd_taxed.is_empty());
    assert!(
        usd_taxed.iter().any(|r| r.discrepancy.is_some()),
        "{usd_taxed:#?}"
    );
    // What QuickBooks holds is recorded beside TrackTik's amount, for the daily reconciliation.
    assert!(rows.iter().all(|r| {
        let qbo = r.qbo_amount.expect("every posted row has QBO's total");
        (qbo != r.amount) == r.discrepancy.is_some()
    }));
}

#[tokio::test]
async fn classes_and_locations_come_from_the_tracktik_sites_and_regions_found_or_created_once() {
    use ledgerbridge::integrations::settings::Dimension;
    use ledgerbridge::providers::quickbooks::models::{Class, Department};
    let start = days_ago(30);
    let s = Synced::start_with(
        US_REALM_ID,
        start,
        json!({"class_tracking": true, "department_tracking": true}),
    )
    .await;
    let token = s.qbo_token().await;
    let co = Company {
        realm_id: &s.realm,
        access_token: &token,
    };
    let qbo = &s.state.providers.quickbooks;
    // One region already has its Location in QuickBooks (named in another case).
    let (portal, tt) = s.tracktik().await;
    let regions = s
        .state
        .providers
        .tracktik
        .regions(&portal, &tt)
        .await
        .unwrap();
    let ontario = regions[0].name.clone().unwrap();
    let existing: Department = qbo
        .create(
            &co,
            &Department {
                name: Some(ontario.to_uppercase()),
                ..Default::default()
            },
            &RequestId::derive(&["made-by-hand", &ontario]),
        )
        .await
        .unwrap();
    let mut settings = s.settings().await;
    settings.billing.class_from = Some(Dimension::Site);
    settings.billing.location_from = Some(Dimension::Region);
    settings.payroll.class_from = Some(Dimension::Region);
    s.save(&settings).await;

    // One run for the whole month: every document of it, in batches.
    let report = s.run(days_ago(1)).await.unwrap();
    assert_eq!(report.counts.failed, 0, "{report:?}");
    let rows = s.ledger().await;
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Posted),
        "{rows:#?}"
    );

    let departments: Vec<Department> = qbo.query(&co, "SELECT * FROM Department").await.unwrap();
    let classes: Vec<Class> = qbo.query(&co, "SELECT * FROM Class").await.unwrap();
    let mut names: Vec<String> = departments
        .iter()
        .filter_map(|d| d.name.clone())
        .map(|n| n.to_lowercase())
        .collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "each Location once: {departments:?}");
    let invoices = s.qbo_invoices().await;
    assert!(invoices.iter().all(|i| i.department_ref.is_some()));
    assert!(
        invoices
            .iter()
            .any(|i| i.department_ref.as_ref().unwrap().value == existing.id.clone().unwrap()),
        "the existing Location is used, whatever its case"
    );
    let class_ids: Vec<String> = classes.iter().filter_map(|c| c.id.clone()).collect();
    // Service lines carry their site's Class (US tax lines have no site, so no Class).
    let line_classes = |i: &Invoice| -> Vec<String> {
        i.line
            .iter()
            .filter_map(|l| l.sales_item_line_detail.as_ref()?.class_ref.clone())
            .map(|c| c.value)
            .collect()
    };
    assert!(invoices.iter().all(|i| {
        let classes = line_classes(i);
        !classes.is_empty() && classes.iter().all(|c| class_ids.contains(c))
    }));
    let purchases = s.qbo_purchases().await;
    assert!(!purchases.is_empty());
    assert!(purchases.iter().all(|p| p.line.iter().all(|l| {
        l.account_based_expense_line_detail
            .as_ref()
            .is_some_and(|d| d.class_ref.is_some())
    })));
}

#[tokio::test]
async fn a_missing_class_fails_its_documents_by_name_when_the_sync_may_not_create_it() {
    use ledgerbridge::integrations::settings::{CustomerMatching, Dimension};
    use ledgerbridge::providers::quickbooks::models::Class;
    let start = days_ago(30);
    let s = Synced::start_with(US_REALM_ID, start, json!({"class_tracking": true})).await;
    let mut settings = s.settings().await;
    settings.billing.enabled = false;
    settings.billing.customer_matching = CustomerMatching::PickedOnly;
    settings.payroll.class_from = Some(Dimension::Region);
    s.save(&settings).await;
    let mut day = start;
    while day < today() {
        s.run(day).await.unwrap();
        day = day.succ_opt().unwrap();
    }
    let rows = s.ledger().await;
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.state == LedgerState::Failed),
        "{rows:#?}"
    );
    let why = rows[0].last_error.as_deref().unwrap();
    assert!(why.contains("QuickBooks has no Class named"), "{why}");
    assert!(
        rows[0]
            .fix_hint
            .as_deref()
            .unwrap()
            .contains("Create the Class")
    );
    assert_eq!(rows[0].fix_at.as_deref(), Some("quickbooks"));
    assert_eq!(s.creates("Class").await, 0);

    // Someone creates the Classes in QuickBooks; Retry failed posts the pay runs with them.
    let token = s.qbo_token().await;
    let co = Company {
        realm_id: &s.realm,
        access_token: &token,
    };
    let (portal, tt) = s.tracktik().await;
    for region in s
        .state
        .providers
        .tracktik
        .regions(&portal, &tt)
        .await
        .unwrap()
    {
        let name = region.name.unwrap();
        s.state
            .providers
            .quickbooks
            .create(
                &co,
                &Class {
                    name: Some(name.clone()),
                    ..Default::default()
                },
                &RequestId::derive(&["class-by-hand", &name]),
            )
            .await
            .unwrap();
    }
    let report = controls::retry_failed(&s.state, s.tenant_id, s.integration_id, None)
        .await
        .unwrap();
    assert_eq!(report.counts.posted as usize, rows.len(), "{report:?}");
    assert!(
        s.qbo_purchases()
            .await
            .iter()
            .all(|p| p.line.iter().all(|l| {
                l.account_based_expense_line_detail
                    .as_ref()
                    .is_some_and(|d| d.class_ref.is_some())
            }))
    );
}
