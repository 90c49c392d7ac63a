//! Connecting QuickBooks companies: reading the company, refusals, reconnecting, disconnecting.

use super::*;

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
