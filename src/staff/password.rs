//! argon2id password hashing, off the async executor (hashing is deliberately slow).

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hashes a password into a PHC string (`$argon2id$v=19$…`).
pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))
    })
    .await
    .context("the password hasher stopped")?
}

/// Checks `password` against `phc`. With no stored hash it still spends the same effort,
/// so response times do not reveal which email addresses have accounts.
pub async fn verify(password: String, phc: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let argon = Argon2::default();
        match phc {
            Some(phc) => {
                let parsed = PasswordHash::new(&phc)
                    .map_err(|e| anyhow::anyhow!("a stored password hash is unreadable: {e}"))?;
                Ok(argon.verify_password(password.as_bytes(), &parsed).is_ok())
            }
            None => {
                let _ = argon.hash_password(password.as_bytes());
                Ok(false)
            }
        }
    })
    .await
    .context("the password hasher stopped")?
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_hash_verifies_its_own_password_and_no_other() {
        let phc = super::hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            super::verify("correct horse battery".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(
            !super::verify("wrong horse battery".into(), Some(phc))
                .await
                .unwrap()
        );
        assert!(!super::verify("anything".into(), None).await.unwrap());
    }
}
