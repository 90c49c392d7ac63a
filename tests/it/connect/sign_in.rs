//! Signing in with TrackTik, refused consents and codes, and what other tenants and staff see.

use super::*;

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
