//! Who in a portal may connect (issue 16, item 12): identity and role come from TrackTik;
//! portal administrators change things, everyone else views; each person is recorded as
//! themselves; a token that names nobody signs nobody in.

use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
use ledgerbridge::sandbox::tracktik::{
    DEMO_PASSWORD, DEMO_USERNAME, VIEWER_PASSWORD, VIEWER_USERNAME,
};

use super::portal::{FakePortal, state_of};
use crate::helpers::{TestApp, TestSettings, location};

async fn sign_in_as(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    let tt = app.sandboxes().tracktik.base_url().to_owned();
    let start = app.post_form("/", "/sign-in", &[("portal", &tt)]).await;
    assert_eq!(start.status(), 303);
    app.tracktik_consent_as(&tt, &location(&start), "allow", username, password)
        .await
}

async fn tracktik_tokens(app: &TestApp) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    sqlx::query_as(
        "select access_token_enc, refresh_token_enc from connection where provider = 'tracktik'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_portal_user_who_is_not_an_administrator_may_view_but_not_change() {
    let app = TestApp::spawn_with_sandboxes().await;
    assert_eq!(
        sign_in_as(&app, DEMO_USERNAME, DEMO_PASSWORD)
            .await
            .status(),
        303
    );
    let done = app.connect_quickbooks(US_REALM_ID, None).await;
    let id = location(&done)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .to_owned();
    app.post_form("/integrations", "/sign-out", &[]).await;
    let tokens = tracktik_tokens(&app).await;

    let viewer = sign_in_as(&app, VIEWER_USERNAME, VIEWER_PASSWORD).await;
    assert_eq!(
        viewer.status(),
        303,
        "a viewer signs in to an existing tenant"
    );
    assert_eq!(
        tracktik_tokens(&app).await,
        tokens,
        "a viewer's sign-in leaves the administrator's connection alone"
    );
    let list = app.get_html("/integrations").await;
    assert!(
        list.contains("Acme Security Inc. (US)"),
        "they see the integration"
    );
    assert!(list.contains("You can view, not change"), "{list}");
    assert!(
        !list.contains("Connect new account"),
        "no button they cannot use"
    );
    assert_eq!(app.get(&format!("/integrations/{id}")).await.status(), 200);
    assert_eq!(
        app.get(&format!("/integrations/{id}/documents"))
            .await
            .status(),
        200
    );
    for (path, fields) in [
        ("/integrations/connect".to_owned(), vec![]),
        (format!("/integrations/{id}/reconnect"), vec![]),
        (format!("/integrations/{id}/disconnect"), vec![]),
        (
            format!("/integrations/{id}/setup/method"),
            vec![("method", "express")],
        ),
        (format!("/integrations/{id}/sync-now"), vec![]),
        (format!("/integrations/{id}/retry"), vec![]),
        (
            format!("/integrations/{id}/expert"),
            vec![("preferred_times", "Monday"), ("note", "")],
        ),
    ] {
        let r = app.post_form("/integrations", &path, &fields).await;
        assert_eq!(r.status(), 403, "POST {path}");
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("only a TrackTik portal administrator"),
            "{path}"
        );
    }
    assert_eq!(
        app.get(&format!("/integrations/{id}/disconnect"))
            .await
            .status(),
        403
    );
    let state: String =
        sqlx::query_scalar("select health::text from connection where provider = 'quickbooks'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(state, "ok", "still connected");
}

#[tokio::test]
async fn only_an_administrator_can_set_up_a_portal_that_has_no_tenant_yet() {
    let app = TestApp::spawn_with_sandboxes().await;
    let r = sign_in_as(&app, VIEWER_USERNAME, VIEWER_PASSWORD).await;
    assert_eq!(r.status(), 403);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Ask a portal administrator")
    );
    let tenants: i64 = sqlx::query_scalar("select count(*) from tenant")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(tenants, 0);
    assert_eq!(
        app.get("/integrations").await.status(),
        303,
        "not signed in"
    );
}

#[tokio::test]
async fn each_person_is_recorded_as_themselves_with_their_role() {
    let app = TestApp::spawn_with_sandboxes().await;
    sign_in_as(&app, DEMO_USERNAME, DEMO_PASSWORD).await;
    app.post_form("/integrations", "/sign-out", &[]).await;
    sign_in_as(&app, VIEWER_USERNAME, VIEWER_PASSWORD).await;
    let people: Vec<(String, String, String)> = sqlx::query_as(
        "select tracktik_user_id, display_name, role::text from tenant_user order by role",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(people.len(), 2, "{people:?}");
    assert_ne!(people[0].0, people[1].0);
    assert_eq!(people[0].1, "Dana Whitfield");
    assert_eq!(people[0].2, "portal_admin");
    assert_eq!(people[1].2, "viewer");
    assert!(!people[1].1.starts_with("TrackTik user"), "{people:?}");
    let audited: Vec<(uuid::Uuid, String)> = sqlx::query_as(
        "select actor_id, actor_label from audit_event where action = 'user.sign_in'
         order by audit_event_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(audited.len(), 2);
    assert_ne!(audited[0].0, audited[1].0, "two people, two actors");
    assert_eq!(audited[0].1, "Dana Whitfield");
    assert_eq!(audited[1].1, people[1].1);
}

#[tokio::test]
async fn a_token_that_names_no_user_signs_nobody_in() {
    let fake = FakePortal::start(|_| "opaque-access-token".to_owned()).await;
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("TRACKTIK_HTTP_PORTALS", fake.base_url.clone());
    let app = TestApp::spawn_with(settings).await;
    let start = app
        .post_form("/", "/sign-in", &[("portal", &fake.base_url)])
        .await;
    let callback = app
        .get(&format!(
            "/auth/tracktik/callback?code=anything&state={}",
            state_of(&location(&start))
        ))
        .await;
    assert_eq!(callback.status(), 502);
    let users: i64 = sqlx::query_scalar("select count(*) from tenant_user")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 0, "nobody is recorded as a shared 'portal-user'");
}
