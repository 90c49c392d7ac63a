//! TrackTik OAuth grants: code with PKCE, refresh rotation, revoked tokens, the password grant.

use super::*;

#[tokio::test]
async fn the_authorization_code_flow_with_pkce_yields_tokens_that_read_the_api() {
    let sandbox = Sandbox::start().await;
    let start = sandbox
        .client
        .authorize_url(&sandbox.portal, &sandbox.app(), &[])
        .unwrap();
    let callback = consent(&sandbox, &start.url).await;
    assert!(callback.as_str().starts_with(REDIRECT), "{callback}");
    let query: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    assert_eq!(param(&query, "state"), Some(start.state.as_str()));
    let code = param(&query, "code").expect("a code on the callback");

    let tokens = sandbox
        .client
        .exchange_code(
            &sandbox.portal,
            &sandbox.app(),
            code,
            Some(&start.pkce_verifier),
        )
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_some());
    assert!(tokens.expires_at > Utc::now() + TimeDelta::minutes(50));
    assert!(!tokens.expires_within(TimeDelta::minutes(5)));
    let regions = sandbox
        .client
        .regions(&sandbox.portal, &tokens.access_token)
        .await
        .unwrap();
    assert!(!regions.is_empty());

    let again = sandbox
        .client
        .exchange_code(
            &sandbox.portal,
            &sandbox.app(),
            code,
            Some(&start.pkce_verifier),
        )
        .await
        .unwrap_err();
    assert!(
        again.needs_reauthorization(),
        "a used code must be refused: {again:?}"
    );
}

#[tokio::test]
async fn a_code_exchange_with_the_wrong_pkce_verifier_is_refused() {
    let sandbox = Sandbox::start().await;
    let start = sandbox
        .client
        .authorize_url(&sandbox.portal, &sandbox.app(), &[])
        .unwrap();
    let callback = consent(&sandbox, &start.url).await;
    let query: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    let code = param(&query, "code").unwrap();
    let wrong = SecretString::from("x".repeat(64));
    let error = sandbox
        .client
        .exchange_code(&sandbox.portal, &sandbox.app(), code, Some(&wrong))
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token_and_a_spent_one_is_refused() {
    let sandbox = Sandbox::start().await;
    let first = sandbox.tokens().await;
    let spent = first
        .refresh_token
        .clone()
        .expect("the password grant returns a refresh token");

    let second = sandbox
        .client
        .refresh(&sandbox.portal, &sandbox.app(), &spent)
        .await
        .unwrap();
    let next = second
        .refresh_token
        .clone()
        .expect("a rotated refresh token");
    assert_ne!(
        next.secret(),
        spent.secret(),
        "the refresh token must rotate"
    );
    assert_ne!(second.access_token.secret(), first.access_token.secret());
    sandbox
        .client
        .regions(&sandbox.portal, &second.access_token)
        .await
        .unwrap();

    let reuse = sandbox
        .client
        .refresh(&sandbox.portal, &sandbox.app(), &spent)
        .await
        .unwrap_err();
    assert!(
        matches!(reuse, TrackTikError::ReauthorizationRequired { .. }),
        "reusing a spent refresh token: {reuse:?}"
    );
    assert!(!format!("{reuse} {reuse:?}").contains(spent.secret()));
}

#[tokio::test]
async fn a_revoked_or_unknown_refresh_token_requires_reauthorization() {
    let sandbox = Sandbox::start().await;
    let tokens = sandbox.tokens().await;
    sandbox
        .control(
            reqwest::Method::POST,
            "tokens/revoke",
            json!({"refreshTokens": true}),
        )
        .await;
    let error = sandbox
        .client
        .refresh(
            &sandbox.portal,
            &sandbox.app(),
            tokens.refresh_token.as_ref().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");

    let unknown = RefreshToken::new("def50200not-a-real-token");
    let error = sandbox
        .client
        .refresh(&sandbox.portal, &sandbox.app(), &unknown)
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");
}

#[tokio::test]
async fn the_password_grant_works_and_bad_credentials_are_told_apart() {
    let sandbox = Sandbox::start().await;
    let tokens = sandbox.tokens().await;
    assert!(!tokens.access_token.secret().is_empty());

    let wrong_password = SecretString::from("not-the-password".to_owned());
    let error = sandbox
        .client
        .password_grant(
            &sandbox.portal,
            &sandbox.app(),
            DEMO_USERNAME,
            &wrong_password,
        )
        .await
        .unwrap_err();
    assert!(error.needs_reauthorization(), "{error:?}");

    let mut app = sandbox.app();
    app.client_secret = SecretString::from("wrong-secret".to_owned());
    let right_password = SecretString::from(DEMO_PASSWORD.to_owned());
    let error = sandbox
        .client
        .password_grant(&sandbox.portal, &app, DEMO_USERNAME, &right_password)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, TrackTikError::OAuth { code, .. } if code == "invalid_client"),
        "{error:?}"
    );
    assert!(!format!("{error:?}").contains("wrong-secret"));
}
