//! OpenID Connect as Intuit serves it: both discovery documents with every key, a JWKS, and an
//! RS256 id_token with the `openid` scope.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{REDIRECT, Sb, US_REALM_ID};
use crate::sandbox::quickbooks::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

const DISCOVERY_KEYS: &[&str] = &[
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "userinfo_endpoint",
    "revocation_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "scopes_supported",
    "token_endpoint_auth_methods_supported",
    "claims_supported",
];

async fn get_json(sb: &Sb, url: &str) -> Value {
    let r = sb.http.get(url).send().await.expect("get");
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.expect("json")
}

fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).expect("base64url")
}

#[tokio::test]
async fn both_discovery_documents_carry_every_key_intuits_do_and_a_working_jwks_uri() {
    let sb = Sb::start().await;
    for path in [
        "/.well-known/openid_configuration",
        "/.well-known/openid_sandbox_configuration",
        "/.well-known/openid_sandbox_configuration/",
    ] {
        let doc = get_json(&sb, &sb.url(path)).await;
        let keys: Vec<&str> = doc
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        for k in DISCOVERY_KEYS {
            assert!(keys.contains(k), "{path} lacks {k}");
        }
        assert_eq!(doc["issuer"], "https://oauth.platform.intuit.com/op/v1");
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            json!(["RS256"])
        );
        let jwks = get_json(&sb, doc["jwks_uri"].as_str().expect("jwks_uri")).await;
        let key = &jwks["keys"][0];
        assert_eq!(
            (key["kty"].as_str(), key["alg"].as_str()),
            (Some("RSA"), Some("RS256"))
        );
        assert!(key["kid"].is_string() && key["n"].is_string() && key["e"].is_string());
    }
}

async fn exchange(sb: &Sb, scope: &str) -> Value {
    let code = sb
        .control(
            "oauth/code",
            json!({"client_id": DEMO_CLIENT_ID, "redirect_uri": REDIRECT, "realm_id": US_REALM_ID, "scope": scope}),
        )
        .await["code"]
        .as_str()
        .expect("code")
        .to_string();
    let (status, body) = sb
        .token_call(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn with_the_openid_scope_the_token_answer_carries_an_rs256_id_token_the_jwks_verifies() {
    let sb = Sb::start().await;
    let plain = exchange(&sb, "com.intuit.quickbooks.accounting").await;
    assert!(
        plain.get("id_token").is_none(),
        "no id_token without openid"
    );

    let body = exchange(&sb, "com.intuit.quickbooks.accounting openid email").await;
    let token = body["id_token"].as_str().expect("id_token");
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: Value = serde_json::from_slice(&b64(parts[0])).expect("header");
    let claims: Value = serde_json::from_slice(&b64(parts[1])).expect("claims");
    assert_eq!(header["alg"], "RS256");

    let doc = get_json(&sb, &sb.url("/.well-known/openid_configuration")).await;
    let jwks = get_json(&sb, doc["jwks_uri"].as_str().expect("jwks_uri")).await;
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the id_token's kid is in the JWKS");
    let public = RsaPublicKey::new(
        BigUint::from_bytes_be(&b64(jwk["n"].as_str().expect("n"))),
        BigUint::from_bytes_be(&b64(jwk["e"].as_str().expect("e"))),
    )
    .expect("public key");
    let sig = Signature::try_from(b64(parts[2]).as_slice()).expect("signature");
    VerifyingKey::<Sha256>::new(public)
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
        .expect("the id_token verifies with the published key");

    for k in ["sub", "aud", "iss", "realmid", "exp", "iat", "auth_time"] {
        assert!(claims.get(k).is_some(), "claim {k}");
    }
    assert_eq!(claims["aud"], json!([DEMO_CLIENT_ID]));
    assert_eq!(claims["iss"], doc["issuer"]);
    assert_eq!(claims["realmid"], US_REALM_ID);
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        3600
    );
    let user: Value = sb
        .http
        .get(sb.url("/v1/openid_connect/userinfo"))
        .bearer_auth(body["access_token"].as_str().expect("access token"))
        .send()
        .await
        .expect("userinfo")
        .json()
        .await
        .expect("json");
    assert_eq!(
        user["sub"], claims["sub"],
        "userinfo and id_token name one user"
    );
}

#[tokio::test]
async fn the_token_endpoint_accepts_client_secret_post_as_its_discovery_document_says() {
    let sb = Sb::start().await;
    let code = sb.code(US_REALM_ID).await;
    let r = sb
        .http
        .post(sb.url("/oauth2/v1/tokens/bearer"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("token call");
    assert_eq!(r.status(), 200);
    let bad = sb
        .http
        .post(sb.url("/oauth2/v1/tokens/bearer"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .expect("token call");
    assert_eq!(bad.status(), 401);
}

#[tokio::test]
async fn the_consent_page_button_reads_allow_access_and_carries_the_scope_through() {
    let sb = Sb::start().await;
    let page = sb
        .http
        .get(super::oauth::authorize_url(
            &sb,
            "com.intuit.quickbooks.accounting openid",
        ))
        .send()
        .await
        .expect("consent page")
        .text()
        .await
        .expect("html");
    assert!(page.contains(">Allow access</button>"), "{page}");
    assert!(page.contains("name=\"scope\" value=\"com.intuit.quickbooks.accounting openid\""));
}
