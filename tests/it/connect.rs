//! Sign in with TrackTik, connect QuickBooks Online, keep both connections healthy: over HTTP
//! with a cookie jar, through both sandboxes' own consent pages.

use ledgerbridge::connections::{self, ConnectionError, Health};
use ledgerbridge::ids::{IntegrationId, TenantId};
use ledgerbridge::integrations::{self, IntegrationState};
use ledgerbridge::sandbox::quickbooks::{CA_REALM_ID, US_REALM_ID};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::helpers::{Sandboxes, TestApp, client, location};

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn only_tenant(app: &TestApp) -> TenantId {
    sqlx::query_scalar("select tenant_id from tenant")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Signs in and connects the US company; returns the integration id.
async fn signed_in_and_connected(app: &TestApp, realm: &str) -> String {
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let done = app.connect_quickbooks(realm, None).await;
    assert_eq!(done.status(), 303);
    location(&done)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .to_owned()
}

#[tokio::test]
async fn signing_in_with_tracktik_creates_the_tenant_and_a_second_sign_in_lands_in_the_same_one() {
    let app = TestApp::spawn_with_sandboxes().await;
    let done = app.sign_in_with_tracktik().await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/integrations");
    let page = app.get_html("/integrations").await;
    assert!(
        page.contains("Connect your first QuickBooks Online company"),
        "{page}"
    );
    assert_eq!(count(&app, "tenant").await, 1);
    let (portal, name): (String, String) = sqlx::query_as("select portal_url, name from tenant")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(portal, app.sandboxes().tracktik.base_url());
    assert!(!name.is_empty());

    // Sign out and in again: same tenant, same user.
    assert_eq!(
        app.post_form("/integrations", "/sign-out", &[])
            .await
            .status(),
        303
    );
    assert_eq!(app.get("/integrations").await.status(), 303, "signed out");
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    assert_eq!(count(&app, "tenant").await, 1);
    assert_eq!(count(&app, "tenant_user").await, 1);
    assert_eq!(count(&app, "connection").await, 1);
}

#[tokio::test]
async fn the_portal_address_is_validated_and_the_error_names_the_field() {
    let app = TestApp::spawn_with_sandboxes().await;
    let r = app
        .post_form("/", "/sign-in", &[("portal", "http://acme.tracktik.com")])
        .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("must start with https://"), "{html}");
    assert!(
        html.contains(r#"value="http://acme.tracktik.com""#),
        "what was typed is kept"
    );
    let r = app.post_form("/", "/sign-in", &[("portal", "")]).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Enter your TrackTik portal address")
    );
    let r = app
        .post_form("/", "/sign-in", &[("portal", "acme.tracktik.com")])
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("https://acme.tracktik.com/rest/oauth2/authorize?"));
    let query: Vec<(String, String)> = reqwest::Url::parse(&location(&r))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(
        query
            .iter()
            .any(|(k, v)| k == "code_challenge_method" && v == "S256"),
        "PKCE is used"
    );
}

#[tokio::test]
async fn denied_tracktik_consent_shows_a_clear_page_and_creates_nothing() {
    let app = TestApp::spawn_with_sandboxes().await;
    let tt = app.sandboxes().tracktik.base_url().to_owned();
    let start = app.post_form("/", "/sign-in", &[("portal", &tt)]).await;
    let done = app.tracktik_consent(&location(&start), "deny").await;
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("You chose not to allow"), "{html}");
    assert_eq!(count(&app, "tenant").await, 0);
    assert_eq!(count(&app, "connection").await, 0);
}

#[tokio::test]
async fn a_tampered_state_is_refused_and_creates_nothing() {
    let app = TestApp::spawn_with_sandboxes().await;
    let tt = app.sandboxes().tracktik.base_url().to_owned();
    let start = app.post_form("/", "/sign-in", &[("portal", &tt)]).await;
    // Someone else's callback (right code, wrong state) reaches our session.
    let other = client();
    let form = other.get(location(&start)).send().await.unwrap();
    assert_eq!(form.status(), 200);
    let forged = app
        .get("/auth/tracktik/callback?code=forged-code&state=not-the-state")
        .await;
    assert_eq!(forged.status(), 400);
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("This sign-in link is not valid any more")
    );
    assert_eq!(count(&app, "tenant").await, 0);
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_creates_nothing_more() {
    let app = TestApp::spawn_with_sandboxes().await;
    let tt = app.sandboxes().tracktik.base_url().to_owned();
    let start = app.post_form("/", "/sign-in", &[("portal", &tt)]).await;
    // Drive the consent by hand to keep the callback URL.
    let sandbox = client();
    let form = sandbox
        .get(location(&start))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut fields = crate::helpers::inputs(&form);
    fields.push(("username".into(), "demo".into()));
    fields.push(("password".into(), "demo".into()));
    let allow = sandbox
        .post(format!("{tt}/rest/oauth2/authorize"))
        .form(&fields)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut fields = crate::helpers::inputs(&allow);
    fields.push(("decision".into(), "allow".into()));
    let back = sandbox
        .post(format!("{tt}/rest/oauth2/authorize/decision"))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let callback = location(&back);
    assert_eq!(
        app.client.get(&callback).send().await.unwrap().status(),
        303
    );

    // The same callback again: the flow is spent.
    let again = app.client.get(&callback).send().await.unwrap();
    assert_eq!(again.status(), 400);
    // A new flow, then the old code with the new state: TrackTik refuses the spent code.
    let restart = app
        .post_form("/integrations", "/sign-in", &[("portal", &tt)])
        .await;
    let new_state = reqwest::Url::parse(&location(&restart))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let old_code = reqwest::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let replay = app
        .get(&format!(
            "/auth/tracktik/callback?code={old_code}&state={new_state}"
        ))
        .await;
    assert_eq!(replay.status(), 400);
    assert!(replay.text().await.unwrap().contains("already used"));
    assert_eq!(count(&app, "tenant").await, 1);
    assert_eq!(count(&app, "tenant_user").await, 1);
}

#[tokio::test]
async fn connecting_quickbooks_reads_the_company_and_a_tenant_may_hold_several() {
    let app = TestApp::spawn_with_sandboxes().await;
    let us = signed_in_and_connected(&app, US_REALM_ID).await;
    let html = app.get_html(&format!("/integrations/{us}")).await;
    assert!(
        html.contains("Connected to Acme Security Inc. (US)"),
        "{html}"
    );
    assert!(html.contains("USD"));

    let ca = app.connect_quickbooks(CA_REALM_ID, None).await;
    assert_eq!(ca.status(), 303);
    let ca_id = location(&ca)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .to_owned();
    let html = app.get_html(&format!("/integrations/{ca_id}")).await;
    assert!(html.contains("Connected to Acme Security Ltd (CA)"));
    assert!(html.contains("CAD"));
    let list = app.get_html("/integrations").await;
    assert!(list.contains("Acme Security Inc. (US)") && list.contains("Acme Security Ltd (CA)"));
    assert!(
        list.contains("Switch company"),
        "several integrations get a switcher"
    );

    // Connecting the same company again does not duplicate it.
    app.connect_quickbooks(US_REALM_ID, None).await;
    assert_eq!(count(&app, "integration").await, 2);
    let state: IntegrationState =
        sqlx::query_scalar("select state from integration where realm_id = $1")
            .bind(US_REALM_ID)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(state, IntegrationState::Draft);
}

#[tokio::test]
async fn denied_quickbooks_consent_connects_nothing() {
    let app = TestApp::spawn_with_sandboxes().await;
    app.sign_in_with_tracktik().await;
    let start = app
        .post_form("/integrations", "/integrations/connect", &[])
        .await;
    let back = app
        .quickbooks_consent(&location(&start), US_REALM_ID, "deny")
        .await;
    assert_eq!(back.status(), 200);
    assert!(
        back.text()
            .await
            .unwrap()
            .contains("You chose not to allow access")
    );
    assert_eq!(count(&app, "integration").await, 0);
}

#[tokio::test]
async fn reconnecting_to_a_different_company_is_refused_naming_both() {
    let app = TestApp::spawn_with_sandboxes().await;
    let us = signed_in_and_connected(&app, US_REALM_ID).await;
    let refused = app.connect_quickbooks(CA_REALM_ID, Some(&us)).await;
    assert_eq!(refused.status(), 409);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("Acme Security Inc. (US)") && html.contains("Acme Security Ltd (CA)"),
        "{html}"
    );
    assert_eq!(count(&app, "integration").await, 1);
    let realm: String =
        sqlx::query_scalar("select external_id from connection where provider = 'quickbooks'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(realm, US_REALM_ID);
}

#[tokio::test]
async fn two_concurrent_refreshes_rotate_once_and_neither_gets_invalid_grant() {
    let app = TestApp::spawn_with_sandboxes().await;
    app.sign_in_with_tracktik().await;
    let tenant = only_tenant(&app).await;
    let conn = connections::db::tracktik_for_tenant(&app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    // TrackTik refresh tokens are single-use: a second spend would be invalid_grant.
    let (a, b) = tokio::join!(
        connections::force_refresh(&app.state, tenant, conn.connection_id),
        connections::force_refresh(&app.state, tenant, conn.connection_id)
    );
    let (a, b) = (
        a.expect("first refresh"),
        b.expect("second caller gets a token too"),
    );
    assert_eq!(
        a.expose_secret(),
        b.expose_secret(),
        "one rotation: both callers got the same new token"
    );
    let after = connections::db::get(&app.db, tenant, conn.connection_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.health, Health::Ok);
    // And the stored refresh token still works.
    connections::force_refresh(&app.state, tenant, conn.connection_id)
        .await
        .expect("the saved refresh token is the live one");
}

#[tokio::test]
async fn a_revoked_token_moves_the_integration_to_needs_reconnect_and_reconnect_restores_it() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = signed_in_and_connected(&app, US_REALM_ID).await;
    let tenant = only_tenant(&app).await;
    let integration_id: IntegrationId = id.parse().unwrap();
    let conn = connections::db::quickbooks_for_integration(&app.db, tenant, integration_id)
        .await
        .unwrap()
        .unwrap();
    let qbo = app.sandboxes().quickbooks.base_url().to_owned();
    Sandboxes::control(
        &qbo,
        "/__sandbox/tokens/revoke",
        json!({"realm_id": US_REALM_ID}),
    )
    .await;

    let err = connections::force_refresh(&app.state, tenant, conn.connection_id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectionError::NeedsReconnect { .. }),
        "{err}"
    );
    let integration = integrations::db::get(&app.db, tenant, integration_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(integration.state, IntegrationState::NeedsReconnect);
    let html = app.get_html(&format!("/integrations/{id}")).await;
    assert!(html.contains("Reconnect QuickBooks Online"), "{html}");
    assert!(html.contains("Needs reconnect"));

    let back = app.connect_quickbooks(US_REALM_ID, Some(&id)).await;
    assert_eq!(back.status(), 303);
    let integration = integrations::db::get(&app.db, tenant, integration_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        integration.state,
        IntegrationState::Draft,
        "back to where it was"
    );
    let conn = connections::db::get(&app.db, tenant, conn.connection_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conn.health, Health::Ok);
    connections::access_token(&app.state, tenant, conn.connection_id)
        .await
        .expect("works again");
}

#[tokio::test]
async fn disconnect_revokes_at_intuit_and_deletes_the_tokens_here() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = signed_in_and_connected(&app, US_REALM_ID).await;
    let confirm = app
        .get_html(&format!("/integrations/{id}/disconnect"))
        .await;
    assert!(
        confirm.contains("revoke its access"),
        "the page says what will happen"
    );
    let done = app
        .post_form(
            &format!("/integrations/{id}/disconnect"),
            &format!("/integrations/{id}/disconnect"),
            &[],
        )
        .await;
    assert_eq!(done.status(), 303);
    let (access, refresh, health): (Option<Vec<u8>>, Option<Vec<u8>>, Health) =
        sqlx::query_as("select access_token_enc, refresh_token_enc, health from connection where provider = 'quickbooks'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(access.is_none() && refresh.is_none());
    assert_eq!(health, Health::Disconnected);
    let log: Vec<serde_json::Value> = reqwest::get(format!(
        "{}/__sandbox/requests",
        app.sandboxes().quickbooks.base_url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(
        log.iter().any(|r| r["path"] == "/v2/oauth2/tokens/revoke"),
        "revoked at Intuit"
    );
    assert!(
        app.get_html(&format!("/integrations/{id}"))
            .await
            .contains("Disconnected")
    );
}

#[tokio::test]
async fn the_keep_alive_refreshes_connections_idle_for_a_day() {
    let app = TestApp::spawn_with_sandboxes().await;
    signed_in_and_connected(&app, US_REALM_ID).await;
    sqlx::query("update connection set refreshed_at = now() - interval '21 hours'")
        .execute(&app.db)
        .await
        .unwrap();
    let (ok, refused, failed) = connections::keep_alive(&app.state).await.unwrap();
    assert_eq!((ok, refused, failed), (2, 0, 0));
    let stale: i64 = sqlx::query_scalar(
        "select count(*) from connection where refreshed_at < now() - interval '1 hour'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(stale, 0);
    assert_eq!(
        connections::keep_alive(&app.state).await.unwrap(),
        (0, 0, 0),
        "fresh ones are left alone"
    );
}

#[tokio::test]
async fn the_database_holds_no_plaintext_token_in_any_column() {
    let app = TestApp::spawn_with_sandboxes().await;
    signed_in_and_connected(&app, US_REALM_ID).await;
    let tenant = only_tenant(&app).await;
    let integration: IntegrationId = sqlx::query_scalar("select integration_id from integration")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let mut secrets = Vec::new();
    for conn in [
        connections::db::tracktik_for_tenant(&app.db, tenant)
            .await
            .unwrap()
            .unwrap(),
        connections::db::quickbooks_for_integration(&app.db, tenant, integration)
            .await
            .unwrap()
            .unwrap(),
    ] {
        let row = connections::db::sealed(&app.db, tenant, conn.connection_id, false)
            .await
            .unwrap()
            .unwrap();
        secrets.push(
            row.access(&app.state.cipher)
                .unwrap()
                .unwrap()
                .expose_secret()
                .to_owned(),
        );
        secrets.push(
            row.refresh(&app.state.cipher)
                .unwrap()
                .unwrap()
                .expose_secret()
                .to_owned(),
        );
    }
    assert!(secrets.iter().all(|s| s.len() > 16));
    let hits = crate::helpers::scan_database_for(&app.db, &secrets).await;
    assert!(hits.is_empty(), "plaintext tokens found in: {hits:?}");
}

#[tokio::test]
async fn another_tenants_integration_answers_404_on_every_route() {
    let app = TestApp::spawn_with_sandboxes().await;
    let mine = signed_in_and_connected(&app, US_REALM_ID).await;
    // A second tenant with an integration, made directly.
    let other_tenant: TenantId = sqlx::query_scalar("insert into tenant (portal_url, name) values ('https://other.tracktik.com', 'Other Co') returning tenant_id")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let theirs: IntegrationId = sqlx::query_scalar(
        "insert into integration (tenant_id, realm_id, company_name, country, home_currency) values ($1, '999', 'Theirs Inc', 'US', 'USD') returning integration_id",
    )
    .bind(other_tenant)
    .fetch_one(&app.db)
    .await
    .unwrap();
    for path in [
        format!("/integrations/{theirs}"),
        format!("/integrations/{theirs}/disconnect"),
    ] {
        assert_eq!(app.get(&path).await.status(), 404, "GET {path}");
    }
    for action in ["reconnect", "disconnect"] {
        let r = app
            .post_form(
                &format!("/integrations/{mine}"),
                &format!("/integrations/{theirs}/{action}"),
                &[],
            )
            .await;
        assert_eq!(r.status(), 404, "POST {action}");
    }
    assert!(!app.get_html("/integrations").await.contains("Theirs Inc"));
    let state: IntegrationState =
        sqlx::query_scalar("select state from integration where integration_id = $1")
            .bind(theirs)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(state, IntegrationState::Draft, "untouched");
    // Signed-out visitors are sent to sign in, everywhere.
    let anonymous = client();
    for path in [
        "/integrations".to_owned(),
        format!("/integrations/{mine}"),
        format!("/integrations/{mine}/disconnect"),
    ] {
        let r = anonymous.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{path}");
        assert_eq!(location(&r), "/");
    }
}

#[tokio::test]
async fn staff_see_the_tenant_read_only_and_each_view_is_audited() {
    let app = TestApp::spawn_with_sandboxes().await;
    signed_in_and_connected(&app, US_REALM_ID).await;
    let tenant = only_tenant(&app).await;
    app.post_form("/integrations", "/sign-out", &[]).await;
    app.sign_in_staff().await;
    let list = app.get_html("/support").await;
    assert!(list.contains(&format!("/support/tenants/{tenant}")));
    let page = app.get_html(&format!("/support/tenants/{tenant}")).await;
    assert!(page.contains("Acme Security Inc. (US)"));
    assert!(page.contains("recorded in the audit log"));
    assert!(
        !page.contains("<form method=\"post\" action=\"/integrations"),
        "read-only"
    );
    let views: i64 = sqlx::query_scalar(
        "select count(*) from audit_event where action = 'staff.viewed_tenant' and tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(views, 1);
}

#[tokio::test]
async fn rotate_keys_reseals_every_token_under_the_new_key() {
    use ledgerbridge::crypto::TokenCipher;
    let app = TestApp::spawn_with_sandboxes().await;
    signed_in_and_connected(&app, US_REALM_ID).await;
    let tenant = only_tenant(&app).await;
    let conn = connections::db::tracktik_for_tenant(&app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    let before = connections::access_token(&app.state, tenant, conn.connection_id)
        .await
        .unwrap();

    // Put a new key first, keep the old one (the app's throw-away key) second.
    let old_id = app.state.cipher.current_key_id().to_owned();
    let new_spec = TokenCipher::generate_spec("k2027");
    let mut state = app.state.clone();
    state.cipher = TokenCipher::combine(&[
        TokenCipher::from_spec(&new_spec).unwrap(),
        app.state.cipher.clone(),
    ]);
    let n = connections::rotate_keys(&state).await.unwrap();
    assert_eq!(n, 2);
    let keys: Vec<String> = sqlx::query_scalar("select distinct token_key_id from connection")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(keys, vec!["k2027".to_owned()]);
    assert_ne!(old_id, "k2027");
    // Only the new key is needed now.
    state.cipher = TokenCipher::from_spec(&new_spec).unwrap();
    let after = connections::access_token(&state, tenant, conn.connection_id)
        .await
        .unwrap();
    assert_eq!(before.expose_secret(), after.expose_secret());
    assert_eq!(
        connections::rotate_keys(&state).await.unwrap(),
        0,
        "nothing left to rotate"
    );
}

#[tokio::test]
async fn a_lost_tracktik_sign_in_pauses_every_integration_until_the_customer_signs_in_again() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = signed_in_and_connected(&app, US_REALM_ID).await;
    let tenant = only_tenant(&app).await;
    let name: String = sqlx::query_scalar("select display_name from tenant_user")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(
        !name.starts_with("TrackTik user"),
        "greeted by name: {name}"
    );
    let tt = app.sandboxes().tracktik.base_url().to_owned();
    Sandboxes::control(
        &tt,
        "/__sandbox/tokens/revoke",
        json!({"refreshTokens": true}),
    )
    .await;
    let conn = connections::db::tracktik_for_tenant(&app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    let err = connections::force_refresh(&app.state, tenant, conn.connection_id)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectionError::NeedsReconnect { .. }),
        "{err}"
    );
    let html = app.get_html(&format!("/integrations/{id}")).await;
    assert!(html.contains("Sign in with TrackTik again"), "{html}");

    // Signing in again restores the connection and the integration.
    app.post_form("/integrations", "/sign-out", &[]).await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let conn = connections::db::tracktik_for_tenant(&app.db, tenant)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(conn.health, Health::Ok);
    let state: IntegrationState = sqlx::query_scalar("select state from integration")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(state, IntegrationState::Draft);
}
