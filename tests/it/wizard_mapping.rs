//! Mapping that cannot be set up wrong, through the wizard over HTTP with both sandboxes:
//! Express on a Canadian company matching its tax codes, payroll in the seed's words with the
//! Bill option one click away, and choices QuickBooks would refuse, refused at their step with
//! the reason.

use std::collections::BTreeSet;

use crate::helpers::{TestApp, unescape};
use crate::wizard::{
    SCHEDULE_OK, checked_boxes, choice_labelled, connected_to, first_choice, options, post_step,
    regions_as_proposed, today,
};
use crate::wizard_scope::{schedule_then_review, settings_of};
use ledgerbridge::ids::{IntegrationId, TenantId};
use ledgerbridge::sandbox::quickbooks::{CA_REALM_ID, US_REALM_ID};

/// Express from the setup method to the review, regions as proposed.
async fn express_to_review(app: &TestApp, id: &str) -> String {
    let r = post_step(app, id, "method", &[("setup_method", "express")]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(regions_as_proposed(app, id).await.status(), 303);
    for step in ["billing", "payroll", "taxes"] {
        let r = post_step(app, id, step, &[]).await;
        assert_eq!(r.status(), 303, "{step}: {}", r.text().await.unwrap());
    }
    schedule_then_review(app, id).await
}

#[tokio::test]
async fn express_on_a_canadian_company_matches_every_tax_class_to_its_tax_code_and_is_ready() {
    let app = TestApp::spawn_with_sandboxes().await;
    crate::helpers::Sandboxes::control(
        app.sandboxes().quickbooks.base_url(),
        &format!("/__sandbox/companies/{CA_REALM_ID}/settings"),
        serde_json::json!({"multicurrency": false}),
    )
    .await;
    let id = connected_to(&app, CA_REALM_ID).await;
    assert_eq!(
        post_step(&app, &id, "method", &[("setup_method", "express")])
            .await
            .status(),
        303
    );
    // CAD books without multicurrency: Ontario and British Columbia are proposed, not New
    // York (USD), so its NYC Sales Tax is not Express's business here.
    let regions = app
        .get_html(&format!("/integrations/{id}/setup/regions"))
        .await;
    assert_eq!(
        checked_boxes(&regions),
        vec!["region_1".to_owned(), "region_2".to_owned()],
        "{regions}"
    );
    assert_eq!(regions_as_proposed(&app, &id).await.status(), 303);
    for step in ["billing", "payroll"] {
        assert_eq!(post_step(&app, &id, step, &[]).await.status(), 303);
    }
    let taxes = app
        .get_html(&format!("/integrations/{id}/setup/taxes"))
        .await;
    assert!(taxes.contains("outside the US"), "{taxes}");
    assert!(!taxes.contains("NYC Sales Tax"), "{taxes}");
    let chosen = selected(&taxes);
    let label = |name: &str| {
        let value = chosen
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        options(&taxes, name)
            .into_iter()
            .find(|(v, _)| *v == value)
            .map(|(_, l)| l)
            .unwrap_or_default()
    };
    assert_eq!(label("tax_4"), "HST ON", "ON HST 13 %");
    assert_eq!(label("tax_5"), "GST/PST BC", "BC GST + PST 12 %");
    assert_eq!(label("exempt_tax_code"), "Exempt");
    assert!(taxes.contains("TrackTik charges 13 %."), "{taxes}");

    // A code charging another rate is refused with the reason; untaxed lines need a code.
    let gst = choice_labelled(&taxes, "tax_4", "GST");
    let r = post_step(
        &app,
        &id,
        "taxes",
        &[("tax_4", &gst), ("exempt_tax_code", "")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("For “ON HST”: TrackTik charges 13 %, but the tax code “GST” charges 5 %"),
        "{html}"
    );
    assert!(html.contains("Choose “HST ON”."), "{html}");
    assert!(
        html.contains("Choose the tax code for lines TrackTik did not tax"),
        "{html}"
    );

    // As Express left it, everything is mapped: the review is ready.
    let as_left = selected(&taxes);
    let fields: Vec<(&str, &str)> = as_left
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(post_step(&app, &id, "taxes", &fields).await.status(), 303);
    let start = today();
    let mut fields = SCHEDULE_OK.to_vec();
    fields.push(("start_date", &start));
    assert_eq!(
        post_step(&app, &id, "schedule", &fields).await.status(),
        303
    );
    let review = app
        .get_html(&format!("/integrations/{id}/setup/review"))
        .await;
    assert!(review.contains("Ready to activate"), "{review}");
    assert!(
        review.contains("ON HST (13 %) → <strong>HST ON</strong>"),
        "{review}"
    );
    assert!(!review.contains("Map the tax class"), "{review}");
    let kinds: Vec<String> = sqlx::query_scalar(
        "select v->>'kind' from integration, jsonb_each(settings->'taxes'->'classes') c(k, v) where integration_id = $1::uuid",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(
        !kinds.is_empty() && kinds.iter().all(|k| k == "tax_code"),
        "{kinds:?}"
    );
    // Express made tax-class accounts only for the classes of Ontario and British Columbia.
    let names: Vec<String> = sqlx::query_scalar(
        "select o->>'name' from integration, jsonb_array_elements(express_outcome->'objects') o where integration_id = $1::uuid",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(names.iter().any(|n| n == "TrackTik ON HST"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("NYC")), "{names:?}");
}

/// Every select's selected value, as the page would post them.
pub(crate) fn selected(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, _) in html.match_indices("<select id=\"") {
        let rest = &html[i + "<select id=\"".len()..];
        let name = &rest[..rest.find('"').unwrap()];
        let end = rest.find("</select>").unwrap();
        if let Some(pos) = rest[..end].find("\" selected>") {
            let before = &rest[..pos];
            let value = &before[before.rfind("value=\"").unwrap() + "value=\"".len()..];
            out.push((name.to_owned(), unescape(value)));
        }
    }
    out
}

#[tokio::test]
async fn payroll_reads_as_the_seed_says_and_the_bill_option_is_one_click_away_with_what_it_needs() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected_to(&app, US_REALM_ID).await;
    let review = express_to_review(&app, &id).await;
    assert!(
        review.contains("Each pay run becomes one bill-style expense on TrackTik Direct Wages Liability (TT-9000), a credit card account."),
        "{review}"
    );
    assert!(review.contains("Why not a QuickBooks Bill"), "{review}");
    let bill_href = format!("/integrations/{id}/setup/payroll?posting=bill#posting");
    assert!(
        review.contains(&bill_href.replace('&', "&amp;")),
        "{review}"
    );
    let settings = settings_of(&app, &id).await;
    assert_eq!(
        settings.payroll.amount_codes,
        BTreeSet::from(["EXP".to_owned()])
    );
    let dashboard = app.get_html(&format!("/integrations/{id}")).await;
    assert!(
        dashboard.contains("How pay runs go into QuickBooks"),
        "{dashboard}"
    );
    assert!(
        dashboard.contains("(TT-9000), a credit card account"),
        "{dashboard}"
    );

    // Express's payroll step says the same and lists the amount pay code as such.
    let payroll = app
        .get_html(&format!("/integrations/{id}/setup/payroll"))
        .await;
    assert!(payroll.contains("(an amount, not hours)"), "{payroll}");
    assert!(
        !payroll.contains("<select id=\"vendor\""),
        "read-only under Express"
    );

    // One click: the payroll form opens with Bill chosen and its accounts to pick.
    let form = app
        .get_html(&format!("/integrations/{id}/setup/payroll?posting=bill"))
        .await;
    assert!(form.contains("value=\"bill\" checked"), "{form}");
    assert!(form.contains("<select id=\"vendor\""), "{form}");
    assert!(form.contains("<select id=\"ap_account\""), "{form}");
    let fields = |vendor: &str| {
        vec![
            ("posting".to_owned(), "bill".to_owned()),
            ("grouping".to_owned(), "per_pay_code".to_owned()),
            (
                "wages_account".to_owned(),
                first_choice(&form, "wages_account"),
            ),
            ("vendor".to_owned(), vendor.to_owned()),
        ]
    };
    let post = |f: Vec<(String, String)>| {
        let app = &app;
        let id = id.clone();
        async move {
            let borrowed: Vec<(&str, &str)> =
                f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            post_step(app, &id, "payroll", &borrowed).await
        }
    };
    let r = post(fields("")).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("A Bill is owed to a vendor"),
        "a Bill needs a vendor"
    );
    let r = post(fields(&first_choice(&form, "vendor"))).await;
    assert_eq!(r.status(), 303);
    let p = settings_of(&app, &id).await.payroll;
    assert_eq!(
        p.posting,
        ledgerbridge::integrations::settings::PayrollPosting::Bill
    );
    assert_eq!(
        p.ap_account.map(|a| a.name),
        Some("2000 · Accounts Payable (A/P)".to_owned()),
        "the company's only Accounts Payable account"
    );
    let review = app
        .get_html(&format!("/integrations/{id}/setup/review"))
        .await;
    assert!(
        review.contains("Each pay run becomes one bill to"),
        "{review}"
    );
    assert!(review.contains("Ready to activate"), "{review}");
}

#[tokio::test]
async fn choices_quickbooks_would_refuse_are_refused_at_their_step_with_the_reason() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected_to(&app, US_REALM_ID).await;
    assert_eq!(
        post_step(&app, &id, "method", &[("setup_method", "advanced")])
            .await
            .status(),
        303
    );
    assert_eq!(regions_as_proposed(&app, &id).await.status(), 303);

    // Billing: "No default product" while bill items are left on the default is refused.
    let billing = app
        .get_html(&format!("/integrations/{id}/setup/billing"))
        .await;
    let common = [
        ("customer_matching", "match_or_create"),
        ("doc_number_template", "{number}"),
        ("memo_template", "TrackTik {number}"),
    ];
    let mut fields = common.to_vec();
    fields.push(("default_item", ""));
    let r = post_step(&app, &id, "billing", &fields).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Choose a default product: “"), "{html}");
    assert!(html.contains("left on “Use the default product”"), "{html}");

    // "Create a new product" sells into the income account chosen for it.
    let start = billing.find("name=\"item_").unwrap() + "name=\"".len();
    let item_field = billing[start..start + billing[start..].find('"').unwrap()].to_owned();
    let sales = choice_labelled(&billing, "new_product_income", "Sales");
    let default = first_choice(&billing, "default_item");
    let mut fields = common.to_vec();
    fields.extend([
        ("default_item", default.as_str()),
        (item_field.as_str(), "new"),
        ("new_product_income", ""),
    ]);
    let r = post_step(&app, &id, "billing", &fields).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Choose the income account the new products sell into."),
    );
    fields.retain(|(k, _)| *k != "new_product_income");
    fields.push(("new_product_income", sales.as_str()));
    let r = post_step(&app, &id, "billing", &fields).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let product = settings_of(&app, &id)
        .await
        .billing
        .items
        .into_values()
        .next()
        .unwrap();
    let items: Vec<ledgerbridge::providers::quickbooks::models::Item> = qbo_query(
        &app,
        &format!("select * from Item where Id = '{}'", product.id),
    )
    .await;
    assert_eq!(
        items[0]
            .income_account_ref
            .as_ref()
            .map(|r| r.value.clone()),
        Some(sales.clone()),
        "the new product sells into the chosen account"
    );

    // Payroll: a bill-style expense charged to a Bank account is refused with the reason.
    let payroll = app
        .get_html(&format!("/integrations/{id}/setup/payroll"))
        .await;
    assert!(
        !payroll.contains("1000 · Checking</option>"),
        "a bank account is not offered as the liability"
    );
    let r = post_step(
        &app,
        &id,
        "payroll",
        &[
            ("posting", "credit_card_expense"),
            ("grouping", "per_pay_code"),
            ("wages_account", &first_choice(&payroll, "wages_account")),
            ("liability_account", &checking_id(&app).await),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("“1000 · Checking” is a Bank account: QuickBooks would refuse every pay run"),
        "{html}"
    );
}

/// The id of the US company's "Checking" bank account, read through the QBO API.
async fn checking_id(app: &TestApp) -> String {
    let found: Vec<ledgerbridge::providers::quickbooks::models::Account> =
        qbo_query(app, "select * from Account where Name = 'Checking'").await;
    found[0].id.clone().unwrap()
}

/// A query of the US company through the QBO API, with the integration's token.
async fn qbo_query<E: ledgerbridge::providers::quickbooks::models::Entity>(
    app: &TestApp,
    query: &str,
) -> Vec<E> {
    let (tenant, integration) = crate::helpers::integration_of(&app.db, US_REALM_ID).await;
    let conn = ledgerbridge::connections::db::quickbooks_for_integration(
        &app.db,
        TenantId(tenant),
        IntegrationId(integration),
    )
    .await
    .unwrap()
    .unwrap();
    let token =
        ledgerbridge::connections::access_token(&app.state, TenantId(tenant), conn.connection_id)
            .await
            .unwrap();
    let co = ledgerbridge::providers::quickbooks::Company {
        realm_id: US_REALM_ID,
        access_token: &token,
    };
    app.state
        .providers
        .quickbooks
        .query(&co, query)
        .await
        .unwrap()
}
