//! QuickBooks OAuth: the consent URL, code exchange, refresh rotation and refused tokens.

use super::*;

#[tokio::test]
async fn the_consent_url_names_the_accounting_scope_and_the_state() {
    let qbo = Qbo::start().await;
    let url = qbo.oauth.authorize_url("state-123");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(query.contains(&("scope".into(), "com.intuit.quickbooks.accounting".into())));
    assert!(query.contains(&("state".into(), "state-123".into())));
    assert!(query.contains(&("response_type".into(), "code".into())));
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(page.status(), 200, "the sandbox shows its consent page");
}

#[tokio::test]
async fn a_code_is_exchanged_refreshed_and_revoked() {
    let qbo = Qbo::start().await;
    let first = qbo.connect(US_REALM_ID).await;
    assert!(first.access_expires_at > chrono::Utc::now() + chrono::Duration::minutes(55));
    assert!(first.refresh_expires_at.is_some());
    let info = qbo
        .client
        .company_info(&company(US_REALM_ID, &first))
        .await
        .unwrap();
    assert_eq!(
        info.company_name.as_deref(),
        Some("Acme Security Inc. (US)")
    );
    assert_eq!(info.country.as_deref(), Some("US"));

    let second = qbo.oauth.refresh(&first.refresh_token).await.unwrap();
    use secrecy::ExposeSecret;
    assert_ne!(
        second.refresh_token.expose_secret(),
        first.refresh_token.expose_secret(),
        "refresh tokens rotate"
    );
    let user = qbo.oauth.userinfo(&second.access_token).await.unwrap();
    assert!(user.email.is_some() || user.sub.is_some());

    qbo.oauth.revoke(&second.refresh_token).await.unwrap();
    let err = qbo
        .client
        .company_info(&company(US_REALM_ID, &second))
        .await
        .unwrap_err();
    assert!(matches!(err, QboError::Unauthorized { .. }), "{err}");
    let err = qbo.oauth.refresh(&second.refresh_token).await.unwrap_err();
    assert!(matches!(err, QboError::ReauthorizationRequired(_)), "{err}");
}

#[tokio::test]
async fn an_old_refresh_token_dies_a_day_after_rotation() {
    let qbo = Qbo::start().await;
    let first = qbo.connect(US_REALM_ID).await;
    let _second = qbo.oauth.refresh(&first.refresh_token).await.unwrap();
    assert!(
        qbo.oauth.refresh(&first.refresh_token).await.is_ok(),
        "still valid within 24 hours"
    );
    qbo.control("/__sandbox/clock", json!({"advance_seconds": 25 * 3600}))
        .await;
    let err = qbo.oauth.refresh(&first.refresh_token).await.unwrap_err();
    assert!(matches!(err, QboError::ReauthorizationRequired(_)), "{err}");
}

#[tokio::test]
async fn an_expired_access_token_is_unauthorized_and_another_realm_is_forbidden() {
    let qbo = Qbo::start().await;
    let tokens = qbo.connect(US_REALM_ID).await;
    let err = qbo
        .client
        .preferences(&company(CA_REALM_ID, &tokens))
        .await
        .unwrap_err();
    match &err {
        QboError::Forbidden { fault, intuit_tid } => {
            assert_eq!(fault.code(), Some("3100"));
            assert!(intuit_tid.is_some(), "intuit_tid kept for support");
        }
        other => panic!("expected Forbidden, got {other}"),
    }
    qbo.control("/__sandbox/tokens/expire", json!({"realm_id": US_REALM_ID}))
        .await;
    let err = qbo
        .client
        .preferences(&company(US_REALM_ID, &tokens))
        .await
        .unwrap_err();
    match err {
        QboError::Unauthorized { fault, .. } => assert_eq!(fault.code(), Some("3200")),
        other => panic!("expected Unauthorized, got {other}"),
    }
}
