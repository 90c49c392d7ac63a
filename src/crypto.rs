//! Encryption at rest for OAuth tokens: AES-256-GCM with a random 96-bit nonce per value.
//!
//! Keys come from `LEDGERBRIDGE_TOKEN_KEYS` as `id:base64key[,id:base64key…]`; the first key
//! encrypts, every listed key decrypts. Each ciphertext is stored with the id of the key that
//! sealed it, so keys can rotate: put the new key first, run `ledgerbridge rotate-keys`, then
//! drop the old one. Associated data binds a ciphertext to its row and column, so a value
//! copied into another row does not decrypt.

use std::collections::HashMap;
use std::sync::Arc;

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};

const NONCE_LEN: usize = 12;

/// Why a key list or a ciphertext could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key list is malformed.
    #[error("{0}")]
    BadKeys(String),
    /// The ciphertext names a key we do not have.
    #[error("no key with id {0:?} is configured in LEDGERBRIDGE_TOKEN_KEYS")]
    UnknownKey(String),
    /// Wrong key, tampered data, or the value belongs to another row.
    #[error("a stored token could not be decrypted (wrong key or altered data)")]
    Undecryptable,
}

/// A value sealed by [`TokenCipher::seal`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The id of the key that sealed it.
    pub key_id: String,
    /// `nonce || ciphertext || tag`.
    pub bytes: Vec<u8>,
}

/// The keys, cheap to clone.
#[derive(Clone)]
pub struct TokenCipher {
    current: String,
    keys: Arc<HashMap<String, Aes256Gcm>>,
}

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys themselves.
        f.debug_struct("TokenCipher")
            .field("current", &self.current)
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl TokenCipher {
    /// Parses `id:base64key[,id:base64key…]`.
    pub fn from_spec(spec: &SecretString) -> Result<Self, CryptoError> {
        let mut keys = HashMap::new();
        let mut current = None;
        for entry in spec
            .expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (id, key) = entry.split_once(':').ok_or_else(|| {
                CryptoError::BadKeys("each key must be written id:base64key".into())
            })?;
            let id = id.trim();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(CryptoError::BadKeys(format!(
                    "key id {id:?} must be letters, digits, '-' or '_'"
                )));
            }
            let raw = STANDARD
                .decode(key.trim())
                .map_err(|_| CryptoError::BadKeys(format!("key {id:?} is not valid base64")))?;
            let key = Key::<Aes256Gcm>::try_from(raw.as_slice()).map_err(|_| {
                CryptoError::BadKeys(format!(
                    "key {id:?} must be exactly 32 bytes (44 base64 characters)"
                ))
            })?;
            if keys.insert(id.to_owned(), Aes256Gcm::new(&key)).is_some() {
                return Err(CryptoError::BadKeys(format!("key id {id:?} appears twice")));
            }
            current.get_or_insert_with(|| id.to_owned());
        }
        let current = current.ok_or_else(|| CryptoError::BadKeys("no key given".into()))?;
        Ok(Self {
            current,
            keys: Arc::new(keys),
        })
    }

    /// One cipher from several: the first one's current key encrypts; every key decrypts.
    pub fn combine(ciphers: &[TokenCipher]) -> TokenCipher {
        let mut keys = HashMap::new();
        for c in ciphers.iter().rev() {
            for (id, k) in c.keys.iter() {
                keys.insert(id.clone(), k.clone());
            }
        }
        TokenCipher {
            current: ciphers
                .first()
                .map(|c| c.current.clone())
                .unwrap_or_default(),
            keys: Arc::new(keys),
        }
    }

    /// A fresh random key entry `id:base64key`, for configuration.
    pub fn generate_spec(id: &str) -> SecretString {
        let key = Key::<Aes256Gcm>::generate();
        SecretString::from(format!("{id}:{}", STANDARD.encode(key.as_slice())))
    }

    /// The id of the key that encrypts.
    pub fn current_key_id(&self) -> &str {
        &self.current
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. `connection:<id>:refresh_token`).
    pub fn seal(&self, plaintext: &SecretString, context: &str) -> Sealed {
        let cipher = &self.keys[&self.current];
        let nonce = Nonce::generate();
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.expose_secret().as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of an in-memory buffer cannot fail");
        let mut bytes = Vec::with_capacity(NONCE_LEN + ct.len());
        bytes.extend_from_slice(nonce.as_slice());
        bytes.extend_from_slice(&ct);
        Sealed {
            key_id: self.current.clone(),
            bytes,
        }
    }

    /// Decrypts a value sealed with the same `context`.
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<SecretString, CryptoError> {
        let cipher = self
            .keys
            .get(&sealed.key_id)
            .ok_or_else(|| CryptoError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.bytes.len() < NONCE_LEN + 16 {
            return Err(CryptoError::Undecryptable);
        }
        let (nonce, ct) = sealed.bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Undecryptable)?;
        let pt = cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(pt)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Undecryptable)
    }
}

/// Reads a key file written by [`init_key_file`] (or by hand: the same text as
/// `LEDGERBRIDGE_TOKEN_KEYS`). The error says what to do, and never shows the key.
pub fn read_key_file(path: &std::path::Path) -> Result<SecretString, String> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Ok(SecretString::from(text.trim().to_owned())),
        Ok(_) => Err("the key file is empty; delete it and run `ledgerbridge init-keys`".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(
            "the key file does not exist yet; create it once with `ledgerbridge init-keys` (docker compose runs it for you)"
                .into(),
        ),
        Err(e) => Err(format!("the key file cannot be read: {e}")),
    }
}

/// Writes a new key (id `id`) to `path` unless a key file is already there, and says which.
/// Safe to run from several processes at once: the file appears whole or not at all (written
/// beside it, then linked into place, which fails when another process got there first), and
/// only its owner may read it.
pub fn init_key_file(path: &std::path::Path, id: &str) -> std::io::Result<bool> {
    use std::io::Write;
    if path.exists() {
        return Ok(false);
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let tmp = dir
        .unwrap_or(std::path::Path::new("."))
        .join(format!(".token-keys-{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(TokenCipher::generate_spec(id).expose_secret().as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    drop(file);
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn a_sealed_token_opens_with_its_context_and_hides_the_plaintext() {
        let cipher = TokenCipher::from_spec(&TokenCipher::generate_spec("k1")).unwrap();
        let sealed = cipher.seal(&secret("refresh-abc-123"), "connection:1:refresh");
        assert_eq!(sealed.key_id, "k1");
        assert!(
            !sealed.bytes.windows(7).any(|w| w == b"refresh"),
            "no plaintext in the ciphertext"
        );
        assert_eq!(
            cipher
                .open(&sealed, "connection:1:refresh")
                .unwrap()
                .expose_secret(),
            "refresh-abc-123"
        );
        assert!(matches!(
            cipher.open(&sealed, "connection:2:refresh"),
            Err(CryptoError::Undecryptable)
        ));
    }

    #[test]
    fn two_seals_of_the_same_token_differ() {
        let cipher = TokenCipher::from_spec(&TokenCipher::generate_spec("k1")).unwrap();
        let a = cipher.seal(&secret("same"), "c");
        let b = cipher.seal(&secret("same"), "c");
        assert_ne!(a.bytes, b.bytes, "a fresh nonce each time");
    }

    #[test]
    fn a_tampered_ciphertext_is_refused() {
        let cipher = TokenCipher::from_spec(&TokenCipher::generate_spec("k1")).unwrap();
        let mut sealed = cipher.seal(&secret("token"), "c");
        let last = sealed.bytes.len() - 1;
        sealed.bytes[last] ^= 1;
        assert!(matches!(
            cipher.open(&sealed, "c"),
            Err(CryptoError::Undecryptable)
        ));
        sealed.bytes.truncate(5);
        assert!(matches!(
            cipher.open(&sealed, "c"),
            Err(CryptoError::Undecryptable)
        ));
    }

    #[test]
    fn an_old_key_still_decrypts_after_a_new_one_is_put_first() {
        let old_spec = TokenCipher::generate_spec("old");
        let old = TokenCipher::from_spec(&old_spec).unwrap();
        let sealed = old.seal(&secret("token"), "c");
        let new_spec = TokenCipher::generate_spec("new");
        let both = TokenCipher::from_spec(&secret(&format!(
            "{},{}",
            new_spec.expose_secret(),
            old_spec.expose_secret()
        )))
        .unwrap();
        assert_eq!(both.current_key_id(), "new");
        assert_eq!(both.open(&sealed, "c").unwrap().expose_secret(), "token");
        let only_new = TokenCipher::from_spec(&new_spec).unwrap();
        assert!(
            matches!(only_new.open(&sealed, "c"), Err(CryptoError::UnknownKey(id)) if id == "old")
        );
    }

    #[test]
    fn malformed_key_lists_say_what_is_wrong() {
        for (spec, needle) in [
            ("", "no key"),
            ("nokey", "id:base64key"),
            ("k1:!!!", "not valid base64"),
            ("k1:AAAA", "exactly 32 bytes"),
            ("bad id:AAAA", "letters, digits"),
        ] {
            let err = TokenCipher::from_spec(&secret(spec))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{spec:?}: {err}");
        }
        let dup = TokenCipher::generate_spec("k1");
        let err =
            TokenCipher::from_spec(&secret(&format!("{0},{0}", dup.expose_secret()))).unwrap_err();
        assert!(err.to_string().contains("appears twice"));
    }

    #[test]
    fn a_key_file_is_written_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("lb-kf-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token-keys");
        assert!(read_key_file(&path).unwrap_err().contains("init-keys"));
        assert!(
            init_key_file(&path, "k1").unwrap(),
            "written the first time"
        );
        let first = read_key_file(&path).unwrap();
        assert!(!init_key_file(&path, "k2").unwrap(), "kept the second time");
        assert_eq!(
            read_key_file(&path).unwrap().expose_secret(),
            first.expose_secret()
        );
        assert_eq!(
            TokenCipher::from_spec(&first).unwrap().current_key_id(),
            "k1"
        );
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_output_never_shows_keys() {
        let cipher = TokenCipher::from_spec(&TokenCipher::generate_spec("k1")).unwrap();
        let shown = format!("{cipher:?}");
        assert!(shown.contains("k1") && !shown.contains("Aes"), "{shown}");
    }
}
