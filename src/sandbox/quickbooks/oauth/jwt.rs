//! RS256 id_tokens and the JWKS that verifies them, as Intuit's OpenID Connect serves them.
//!
//! The signing key is the sandbox's own: a 2048-bit RSA key made once per process (the first
//! sandbox to need it makes it), so id_tokens from an earlier run do not verify after a restart,
//! as after a key rotation at Intuit. `kid` is derived from the public key.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The issuer Intuit puts in its discovery documents and id_tokens.
pub const ISSUER: &str = "https://oauth.platform.intuit.com/op/v1";

struct Key {
    signing: SigningKey<Sha256>,
    public: RsaPublicKey,
    kid: String,
}

fn key() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(|| {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .expect("the OS random source works");
        let public = private.to_public_key();
        let digest = Sha256::digest(public.n().to_bytes_be());
        let kid = URL_SAFE_NO_PAD.encode(&digest[..15]);
        Key {
            signing: SigningKey::<Sha256>::new(private),
            public,
            kid,
        }
    })
}

/// `GET /op/v1/jwks`: the public key as a JWK set.
pub fn jwks() -> Value {
    let k = key();
    json!({"keys": [{
        "kty": "RSA",
        "e": URL_SAFE_NO_PAD.encode(k.public.e().to_bytes_be()),
        "use": "sig",
        "kid": k.kid,
        "alg": "RS256",
        "n": URL_SAFE_NO_PAD.encode(k.public.n().to_bytes_be()),
    }]})
}

/// A signed compact JWS of `claims`, with Intuit's header (`kid`, `alg`).
pub fn sign(claims: &Value) -> String {
    let k = key();
    let header = json!({"kid": k.kid, "alg": "RS256"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = k.signing.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// The id_token Intuit issues with the `openid` scope: `sub`, `aud` (a list), `realmid`, `iss`,
/// `auth_time`, `iat`, `exp` (one hour).
pub fn id_token(client_id: &str, sub: &str, realm_id: &str, auth_time: i64, now: i64) -> String {
    sign(&json!({
        "sub": sub,
        "aud": [client_id],
        "realmid": realm_id,
        "auth_time": auth_time,
        "iss": ISSUER,
        "exp": now + 3600,
        "iat": now,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::BigUint;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    fn b64(v: &Value) -> Vec<u8> {
        URL_SAFE_NO_PAD
            .decode(v.as_str().expect("a string"))
            .expect("base64url")
    }

    #[test]
    fn an_id_token_verifies_with_the_key_published_in_the_jwks() {
        let token = id_token("client-1", "user-1", "9341453000000001", 100, 200);
        let set = jwks();
        let jwk = &set["keys"][0];
        let public = RsaPublicKey::new(
            BigUint::from_bytes_be(&b64(&jwk["n"])),
            BigUint::from_bytes_be(&b64(&jwk["e"])),
        )
        .expect("a valid public key");
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("b64")).expect("json");
        assert_eq!(header["kid"], jwk["kid"]);
        assert_eq!(header["alg"], "RS256");
        let sig = Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).expect("b64").as_slice())
            .expect("signature bytes");
        let message = format!("{}.{}", parts[0], parts[1]);
        VerifyingKey::<Sha256>::new(public)
            .verify(message.as_bytes(), &sig)
            .expect("the signature verifies");
        let tampered = format!("{}.{}x", parts[0], parts[1]);
        let verifying = VerifyingKey::<Sha256>::new(key().public.clone());
        assert!(verifying.verify(tampered.as_bytes(), &sig).is_err());
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims["aud"], json!(["client-1"]));
        assert_eq!(claims["realmid"], "9341453000000001");
        assert_eq!(claims["exp"], 3800);
    }
}
