//! Keeping tokens healthy and sealed: one refresh at a time, keep-alive, encryption, new keys.

use super::*;

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
