//! The right documents into the right company, end to end: a portal with Ontario, British
//! Columbia and New York, a US company and a Canadian one, both set up with Express through the
//! wizard, both synced. Each company holds exactly its regions' documents, no document is in
//! both, and nothing fails on currency.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, Utc};
use ledgerbridge::connections;
use ledgerbridge::ids::{IntegrationId, TenantId};
use ledgerbridge::providers::quickbooks::Company;
use ledgerbridge::providers::quickbooks::models::{CreditMemo, Invoice};
use ledgerbridge::providers::tracktik::{AccessToken, Portal, Window};
use ledgerbridge::sandbox::quickbooks::{CA_REALM_ID, US_REALM_ID};
use ledgerbridge::sync::controls;
use ledgerbridge::sync::ledger::{self, LedgerState};

use crate::helpers::{TestApp, location};
use crate::wizard::{
    SCHEDULE_OK, connected_to, express_and_activate, post_step, regions_as_proposed, state_of,
    today,
};
use crate::wizard_mapping::selected;

/// Express for the Canadian company: every step as Express leaves it, the tax codes it
/// matched posted back as chosen.
async fn express_in_canada(app: &TestApp, id: &str) {
    let r = post_step(app, id, "method", &[("setup_method", "express")]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = regions_as_proposed(app, id).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    for step in ["billing", "payroll"] {
        let r = post_step(app, id, step, &[]).await;
        assert_eq!(r.status(), 303, "{step}: {}", r.text().await.unwrap());
    }
    let taxes = app
        .get_html(&format!("/integrations/{id}/setup/taxes"))
        .await;
    let chosen = selected(&taxes);
    let fields: Vec<(&str, &str)> = chosen
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let r = post_step(app, id, "taxes", &fields).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let start = today();
    let mut fields = SCHEDULE_OK.to_vec();
    fields.push(("start_date", &start));
    let r = post_step(app, id, "schedule", &fields).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = post_step(app, id, "review", &[]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(state_of(app, id).await, "active");
}

async fn ids(app: &TestApp, id: &str) -> (TenantId, IntegrationId) {
    sqlx::query_as(
        "select tenant_id, integration_id from integration where integration_id = $1::uuid",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Invoice numbers QuickBooks holds in one company.
async fn held(app: &TestApp, realm: &str, t: TenantId, i: IntegrationId) -> BTreeSet<String> {
    let conn = connections::db::quickbooks_for_integration(&app.db, t, i)
        .await
        .unwrap()
        .unwrap();
    let token = connections::access_token(&app.state, t, conn.connection_id)
        .await
        .unwrap();
    let co = Company {
        realm_id: realm,
        access_token: &token,
    };
    let qbo = &app.state.providers.quickbooks;
    let invoices: Vec<Invoice> = qbo.query(&co, "SELECT * FROM Invoice").await.unwrap();
    let memos: Vec<CreditMemo> = qbo.query(&co, "SELECT * FROM CreditMemo").await.unwrap();
    invoices
        .into_iter()
        .filter_map(|x| x.doc_number)
        .chain(memos.into_iter().filter_map(|x| x.doc_number))
        .collect()
}

#[tokio::test]
async fn three_regions_and_two_companies_each_company_holds_exactly_its_regions_documents() {
    let app = TestApp::spawn_with_sandboxes().await;
    let us = connected_to(&app, US_REALM_ID).await;
    express_and_activate(&app, &us).await;
    let done = app.connect_quickbooks(CA_REALM_ID, None).await;
    let ca = location(&done)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .to_owned();
    express_in_canada(&app, &ca).await;

    // Both sync the last two weeks.
    let from = Utc::now().date_naive() - Days::new(14);
    sqlx::query(
        "update integration set settings = jsonb_set(settings, '{schedule,start_date}', to_jsonb($1::text))",
    )
    .bind(from.to_string())
    .execute(&app.db)
    .await
    .unwrap();
    let (tenant, us_id) = ids(&app, &us).await;
    let (_, ca_id) = ids(&app, &ca).await;
    for id in [us_id, ca_id] {
        let report = controls::sync_now(&app.state, tenant, id, None)
            .await
            .unwrap();
        assert_eq!(report.counts.failed, 0, "{report:?}");
        // Another company's documents are not counted as this company's.
        assert_eq!(
            report.counts.total,
            report.counts.done() + report.waiting,
            "{report:?}"
        );
    }

    // What TrackTik approved, by the billing currency of the client's region.
    let conn = connections::db::tracktik_for_tenant(&app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    let token = connections::access_token(&app.state, tenant, conn.connection_id)
        .await
        .unwrap();
    let (portal, token) = (
        Portal::new(&conn.external_id).unwrap(),
        AccessToken::new(secrecy::ExposeSecret::expose_secret(&token).to_owned()),
    );
    let tt = &app.state.providers.tracktik;
    let start = from.and_hms_opt(0, 0, 0).unwrap().and_utc() - chrono::Duration::days(1);
    let approved = tt
        .approved_invoices_between(&portal, &token, Window::new(start, Utc::now()).unwrap())
        .await
        .unwrap();
    let clients: BTreeMap<i64, i64> = tt
        .clients(&portal, &token)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| Some((c.id, c.region.as_ref()?.id())))
        .collect();
    let currency: BTreeMap<i64, String> = tt
        .back_office_settings(&portal, &token)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| Some((s.region.as_ref()?.id(), s.billing_base_currency.clone()?)))
        .collect();
    let us_ledger = ledger::list(&app.db, tenant, us_id).await.unwrap();
    let ca_ledger = ledger::list(&app.db, tenant, ca_id).await.unwrap();
    let posted = |rows: &[ledger::LedgerEntry]| -> BTreeSet<i64> {
        rows.iter()
            .filter(|r| r.state == LedgerState::Posted)
            .map(|r| r.source_id)
            .collect()
    };
    let (us_posted, ca_posted) = (posted(&us_ledger), posted(&ca_ledger));
    assert!(!us_posted.is_empty() && !ca_posted.is_empty());
    assert!(
        us_posted.is_disjoint(&ca_posted),
        "a document in both companies"
    );
    let mut expected_us = BTreeSet::new();
    let mut expected_ca = BTreeSet::new();
    for i in approved.iter().filter(|i| {
        i.approved_on
            .is_some_and(|a| a.to_utc() >= from.and_hms_opt(0, 0, 0).unwrap().and_utc())
    }) {
        let region = i.client.as_ref().and_then(|c| clients.get(&c.id()));
        match region.and_then(|r| currency.get(r)).map(String::as_str) {
            Some("USD") => expected_us.insert(i.id),
            Some("CAD") => expected_ca.insert(i.id),
            other => panic!("invoice {} in a region billing {other:?}", i.id),
        };
    }
    let invoices = |set: &BTreeSet<i64>, rows: &[ledger::LedgerEntry]| -> BTreeSet<i64> {
        rows.iter()
            .filter(|r| set.contains(&r.source_id) && r.source == ledger::Source::Invoice)
            .map(|r| r.source_id)
            .collect()
    };
    assert_eq!(
        invoices(&us_posted, &us_ledger),
        expected_us,
        "the US company: New York"
    );
    assert_eq!(
        invoices(&ca_posted, &ca_ledger),
        expected_ca,
        "the Canadian one: ON and BC"
    );
    // Nothing failed on currency, and QuickBooks agrees: no number in both books.
    assert!(
        us_ledger
            .iter()
            .chain(&ca_ledger)
            .all(|r| r.state != LedgerState::Failed)
    );
    let us_books = held(&app, US_REALM_ID, tenant, us_id).await;
    let ca_books = held(&app, CA_REALM_ID, tenant, ca_id).await;
    assert!(
        us_books.is_disjoint(&ca_books),
        "{:?}",
        us_books.intersection(&ca_books)
    );
    assert!(!us_books.is_empty() && !ca_books.is_empty());
}
