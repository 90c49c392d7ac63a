//! Region scope, payroll wording and mapping checks through the wizard, over HTTP with both
//! sandboxes: two companies splitting TrackTik's regions, an overlap refused at review and at
//! activation, the only integration keeping every region while a second must choose, clients
//! without a region, the Bill option one click away, and choices QuickBooks would refuse.

use std::collections::BTreeSet;

use crate::helpers::{Sandboxes, TestApp, TestDb, TestSettings, location};
use crate::wizard::{
    SCHEDULE_OK, checked_boxes, connected_to, express_and_activate, post_step, state_of, today,
};
use crate::wizard_mapping::selected;
use ledgerbridge::ids::{IntegrationId, TenantId};
use ledgerbridge::integrations::settings::{RegionChoice, ScopeSettings, Settings};
use ledgerbridge::sandbox::quickbooks::{CA_REALM_ID, US_REALM_ID};
use ledgerbridge::sandbox::tracktik;

/// Connects another company of the signed-in tenant; returns the integration id.
async fn connect_another(app: &TestApp, realm: &str) -> String {
    let done = app.connect_quickbooks(realm, None).await;
    assert_eq!(done.status(), 303);
    location(&done)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .to_owned()
}

pub(crate) async fn settings_of(app: &TestApp, id: &str) -> Settings {
    let json: sqlx::types::Json<Settings> =
        sqlx::query_scalar("select settings from integration where integration_id = $1::uuid")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    json.0
}

/// Saves the schedule and returns the review page.
pub(crate) async fn schedule_then_review(app: &TestApp, id: &str) -> String {
    let start = today();
    let mut fields = SCHEDULE_OK.to_vec();
    fields.push(("start_date", &start));
    let r = post_step(app, id, "schedule", &fields).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    app.get_html(&format!("/integrations/{id}/setup/review"))
        .await
}

fn only(settings: &Settings) -> BTreeSet<i64> {
    match &settings.scope.regions {
        RegionChoice::Only { regions } => regions.clone(),
        RegionChoice::Every => panic!("every region: {settings:?}"),
    }
}

#[tokio::test]
async fn two_companies_split_the_regions_and_an_overlap_is_refused_naming_the_other_company() {
    let app = TestApp::spawn_with_sandboxes().await;
    // The US company (USD, no multicurrency) takes New York, the region billing in USD.
    let us = connected_to(&app, US_REALM_ID).await;
    express_and_activate(&app, &us).await;
    assert_eq!(only(&settings_of(&app, &us).await), BTreeSet::from([3]));

    // The Canadian company has multicurrency on, yet New York is not proposed: it is taken.
    let ca = connect_another(&app, CA_REALM_ID).await;
    let r = post_step(&app, &ca, "method", &[("setup_method", "express")]).await;
    assert_eq!(location(&r), format!("/integrations/{ca}/setup/regions"));
    let page = app
        .get_html(&format!("/integrations/{ca}/setup/regions"))
        .await;
    assert_eq!(
        checked_boxes(&page),
        vec!["region_1".to_owned(), "region_2".to_owned()]
    );
    assert!(
        page.contains("Already goes into Acme Security Inc. (US)."),
        "{page}"
    );
    // Express made no account or product for New York's tax class in the Canadian company.
    let names: Vec<String> = sqlx::query_scalar(
        "select o->>'name' from integration, jsonb_array_elements(express_outcome->'objects') o where integration_id = $1::uuid",
    )
    .bind(&ca)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(names.iter().any(|n| n == "TrackTik ON HST"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("NYC")), "{names:?}");

    // Taking New York as well is saved, but the review refuses it and names the US company.
    let r = post_step(
        &app,
        &ca,
        "regions",
        &[
            ("regions", "only"),
            ("region_1", "on"),
            ("region_2", "on"),
            ("region_3", "on"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    for step in ["billing", "payroll"] {
        assert_eq!(post_step(&app, &ca, step, &[]).await.status(), 303);
    }
    let taxes = app
        .get_html(&format!("/integrations/{ca}/setup/taxes"))
        .await;
    assert!(
        taxes.contains("NYC Sales Tax"),
        "New York's class is listed now"
    );
    let as_left = selected(&taxes);
    let fields: Vec<(&str, &str)> = as_left
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(post_step(&app, &ca, "taxes", &fields).await.status(), 303);
    let review = schedule_then_review(&app, &ca).await;
    assert!(
        review.contains("New York already goes into Acme Security Inc. (US)"),
        "{review}"
    );
    assert!(!review.contains("Ready to activate"), "{review}");
    let r = post_step(&app, &ca, "review", &[]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(state_of(&app, &ca).await, "draft");

    // Back to its own regions: every tax class has its code, and it activates.
    let r = post_step(
        &app,
        &ca,
        "regions",
        &[("regions", "only"), ("region_1", "on"), ("region_2", "on")],
    )
    .await;
    assert_eq!(r.status(), 303);
    let review = app
        .get_html(&format!("/integrations/{ca}/setup/review"))
        .await;
    assert!(review.contains("Ready to activate"), "{review}");
    let r = post_step(&app, &ca, "review", &[]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(state_of(&app, &ca).await, "active");
    let ca_regions = only(&settings_of(&app, &ca).await);
    let us_regions = only(&settings_of(&app, &us).await);
    assert!(
        ca_regions.is_disjoint(&us_regions),
        "{ca_regions:?} {us_regions:?}"
    );
}

#[tokio::test]
async fn the_only_integration_keeps_every_region_and_a_second_must_choose_before_activating() {
    let app = TestApp::spawn_with_sandboxes().await;
    let us = connected_to(&app, US_REALM_ID).await;
    express_and_activate(&app, &us).await;
    // As if it had been set up before regions existed: its saved answers have no scope.
    sqlx::query(
        "update integration set settings = settings - 'scope' where integration_id = $1::uuid",
    )
    .bind(&us)
    .execute(&app.db)
    .await
    .unwrap();
    let legacy = settings_of(&app, &us).await;
    assert_eq!(legacy.scope, ScopeSettings::default(), "old answers load");
    assert_eq!(legacy.scope.regions, RegionChoice::Every);
    let page = app
        .get_html(&format!("/integrations/{us}/setup/regions"))
        .await;
    assert!(
        page.contains("value=\"every\" checked"),
        "an integration already set up shows what it books: {page}"
    );
    let review = app
        .get_html(&format!("/integrations/{us}/setup/review"))
        .await;
    assert!(
        !review.contains("Choose which TrackTik regions"),
        "the only integration keeps every region: {review}"
    );

    // A second company: until its regions are chosen on the Regions step it cannot be
    // activated, and taking every region would overlap the first.
    let ca = connect_another(&app, CA_REALM_ID).await;
    assert_eq!(
        post_step(&app, &ca, "method", &[("setup_method", "advanced")])
            .await
            .status(),
        303
    );
    sqlx::query("update integration set wizard_step = 'review', wizard_reached = 'review' where integration_id = $1::uuid")
        .bind(&ca)
        .execute(&app.db)
        .await
        .unwrap();
    let review = app
        .get_html(&format!("/integrations/{ca}/setup/review"))
        .await;
    assert!(
        review.contains("Choose which TrackTik regions go into this company"),
        "{review}"
    );
    assert!(
        review.contains(&format!("/integrations/{ca}/setup/regions#regions")),
        "{review}"
    );
    assert!(
        review.contains("Acme Security Inc. (US) takes every region too"),
        "{review}"
    );
    assert_eq!(post_step(&app, &ca, "review", &[]).await.status(), 422);
    assert_eq!(state_of(&app, &ca).await, "draft");
    // The first one now has a sibling: its own review asks it to choose too.
    let review = app
        .get_html(&format!("/integrations/{us}/setup/review"))
        .await;
    assert!(
        review.contains("Choose which TrackTik regions go into this company"),
        "{review}"
    );
}

#[tokio::test]
async fn two_activations_at_once_cannot_both_take_the_same_region() {
    use ledgerbridge::mapping::scope::{ClientPlaces, RegionTree, overlap};
    let app = TestApp::spawn().await;
    let tenant: uuid::Uuid = sqlx::query_scalar(
        "insert into tenant (portal_url, name) values ('https://race.tracktik.test', 'Race') returning tenant_id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let settings = Settings {
        scope: ScopeSettings {
            regions: RegionChoice::Only {
                regions: [2].into(),
            },
            chosen: true,
            ..ScopeSettings::default()
        },
        ..Settings::default()
    };
    let mut ids = Vec::new();
    for realm in ["1", "2"] {
        let id: uuid::Uuid = sqlx::query_scalar(
            "insert into integration (tenant_id, realm_id, company_name, country, home_currency, settings)
             values ($1, $2, 'Books ' || $2, 'CA', 'CAD', $3) returning integration_id",
        )
        .bind(tenant)
        .bind(realm)
        .bind(sqlx::types::Json(&settings))
        .fetch_one(&app.db)
        .await
        .unwrap();
        ids.push(id);
    }
    let tree = RegionTree::new([(1, None), (2, Some(1))]);
    let places = ClientPlaces::default();
    let activate = |id: uuid::Uuid| {
        let (db, tree, places, scope) = (
            app.db.clone(),
            tree.clone(),
            places.clone(),
            settings.scope.clone(),
        );
        async move {
            ledgerbridge::wizard::db::activate_checked(
                &db,
                TenantId(tenant),
                IntegrationId(id),
                move |others| {
                    others
                        .iter()
                        .filter(|o| o.is_set_up())
                        .find_map(|o| overlap(&scope, &o.settings.scope, &tree, &places))
                        .map(|_| "taken".to_owned())
                },
            )
            .await
            .unwrap()
        }
    };
    let (a, b) = tokio::join!(activate(ids[0]), activate(ids[1]));
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {b:?}"
    );
    let active: i64 = sqlx::query_scalar(
        "select count(*) from integration where tenant_id = $1 and state = 'active'",
    )
    .bind(tenant)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(active, 1);
}

#[tokio::test]
async fn clients_without_a_region_and_sub_regions_are_shown_and_go_where_the_customer_says() {
    let sandboxes = Sandboxes::start_with(
        tracktik::Options {
            seed: tracktik::SeedConfig {
                scope_extras: true,
                ..tracktik::SeedConfig::small()
            },
            ..Default::default()
        },
        ledgerbridge::sandbox::quickbooks::Options::default(),
    )
    .await;
    let app = TestApp::spawn_with_these_sandboxes(
        TestDb::new().await,
        sandboxes,
        TestSettings::default(),
    )
    .await;
    let id = connected_to(&app, CA_REALM_ID).await;
    assert_eq!(
        post_step(&app, &id, "method", &[("setup_method", "advanced")])
            .await
            .status(),
        303
    );
    let page = app
        .get_html(&format!("/integrations/{id}/setup/regions"))
        .await;
    assert!(page.contains("Toronto"), "{page}");
    assert!(
        page.contains("Sub-region of Ontario: comes with it when it is checked"),
        "{page}"
    );
    assert!(
        page.contains("Clients and pay runs without a region")
            && page.contains("Northgate Logistics"),
        "{page}"
    );
    let start = page.find("name=\"client_").expect("a client box") + "name=\"".len();
    let client_field = page[start..start + page[start..].find('"').unwrap()].to_owned();
    let client: i64 = client_field.trim_start_matches("client_").parse().unwrap();
    let r = post_step(
        &app,
        &id,
        "regions",
        &[
            ("regions", "only"),
            ("region_1", "on"),
            (&client_field, "on"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let settings = settings_of(&app, &id).await;
    assert!(settings.scope.chosen);
    assert_eq!(settings.scope.without_region, BTreeSet::from([client]));

    // What the sync's reader will ask, from TrackTik's own lists: Toronto's client comes with
    // Ontario, the client without a region and its site come as chosen, New York does not.
    let state = &app.state;
    let (tenant, integration): (uuid::Uuid, uuid::Uuid) =
        crate::helpers::integration_of(&app.db, CA_REALM_ID).await;
    let conn = ledgerbridge::connections::db::tracktik_for_tenant(&state.db, TenantId(tenant))
        .await
        .unwrap()
        .unwrap();
    let token =
        ledgerbridge::connections::access_token(state, TenantId(tenant), conn.connection_id)
            .await
            .unwrap();
    let portal = ledgerbridge::providers::tracktik::Portal::new(&conn.external_id).unwrap();
    let token = ledgerbridge::providers::tracktik::AccessToken::new(
        secrecy::ExposeSecret::expose_secret(&token).to_owned(),
    );
    let regions = state
        .providers
        .tracktik
        .regions(&portal, &token)
        .await
        .unwrap();
    let clients = state
        .providers
        .tracktik
        .clients(&portal, &token)
        .await
        .unwrap();
    let index = ledgerbridge::mapping::scope::ScopeIndex::new(&settings.scope, &regions, &clients);
    let named = |n: &str| {
        clients
            .iter()
            .find(|c| c.display_name() == Some(n))
            .unwrap()
            .id
    };
    assert!(index.client(named("Lakeshore Towers Condominium")));
    assert!(index.client(named("Lakeshore Towers - Lobby")));
    assert!(index.client(named("Northgate Logistics - Warehouse")));
    let new_york = clients
        .iter()
        .find(|c| c.region.as_ref().map(|r| r.id()) == Some(3))
        .unwrap();
    assert!(!index.client(new_york.id));
    assert!(!index.payrun(Some(3)) && index.payrun(Some(1)) && !index.payrun(None));
    let _ = IntegrationId(integration);
}
