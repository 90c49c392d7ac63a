//! The people of a tenant as its administrators manage them: accountants and bookkeepers
//! invited by e-mail, who sign in with single-use, expiring links instead of TrackTik.
//!
//! An invited member is a `tenant_user` with the `accountant` role and no TrackTik user id, so
//! every page, right and audit entry treats them like anyone else of the tenant. Only a hash
//! of a link's secret is stored; the secret itself is in the e-mail alone.

pub mod db;
pub mod mail;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::ids::{TenantId, TenantUserId};
use crate::tenants::MemberRole;

/// How long an invitation (or a link an administrator resends) stays valid.
pub const INVITE_VALID_FOR: Duration = Duration::days(7);
/// How long a link a member asks for on the sign-in page stays valid.
pub const SIGN_IN_VALID_FOR: Duration = Duration::minutes(30);
/// The longest name accepted.
pub const MAX_NAME_CHARS: usize = 100;
/// The longest e-mail address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// What a link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Sent with an invitation (or resent by an administrator).
    Invite,
    /// Asked for by the member on the sign-in page.
    SignIn,
}

impl LinkPurpose {
    fn key(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::SignIn => "sign_in",
        }
    }

    /// How long a link of this kind is valid.
    pub fn valid_for(self) -> Duration {
        match self {
            Self::Invite => INVITE_VALID_FOR,
            Self::SignIn => SIGN_IN_VALID_FOR,
        }
    }
}

/// Someone of the tenant, as the members page lists them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Member {
    /// Their id.
    pub tenant_user_id: TenantUserId,
    /// Their name.
    pub display_name: String,
    /// Their e-mail address.
    pub email: Option<String>,
    /// Their role.
    pub role: MemberRole,
    /// Whether they sign in with TrackTik (else with e-mailed links).
    pub tracktik: bool,
    /// Who invited them.
    pub invited_by_name: Option<String>,
    /// When they were invited.
    pub invited_at: Option<DateTime<Utc>>,
    /// When they last signed in (for invited members: when they last used a link).
    pub last_signed_in_at: Option<DateTime<Utc>>,
    /// When their access was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Whether an accountant may activate.
    pub may_activate: bool,
    /// When their newest unused link expires (none when it was used or none was sent).
    pub link_expires_at: Option<DateTime<Utc>>,
}

impl Member {
    /// Whether administrators manage this person here (resend, revoke): invited members only;
    /// TrackTik users are managed in TrackTik.
    pub fn invited(&self) -> bool {
        !self.tracktik
    }
}

/// A new link's secret, for the e-mail, and the hash kept in the database.
pub struct NewLink {
    /// The secret, URL-safe.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Makes a random secret (256 bits).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The hash stored for a secret.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

/// What an invitation asks for, checked.
#[derive(Clone, Debug)]
pub struct Invitation {
    /// Their name.
    pub name: String,
    /// Their e-mail address, as typed (trimmed).
    pub email: String,
    /// Whether they may activate the integration.
    pub may_activate: bool,
}

/// What is wrong with an invitation, per field.
#[derive(Clone, Debug, Default)]
pub struct InvitationErrors {
    /// The name.
    pub name: Option<&'static str>,
    /// The e-mail address.
    pub email: Option<String>,
}

impl InvitationErrors {
    /// Whether there is nothing to fix.
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none()
    }
}

/// Checks an e-mail address: what a person would type, parsed by the mail library.
pub fn check_email(email: &str) -> Result<String, &'static str> {
    let email = email.trim();
    if email.is_empty() {
        return Err("Enter their e-mail address, for example jane@bookkeeping.example.");
    }
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err("That e-mail address is too long: use at most 254 characters.");
    }
    match email.parse::<lettre::Address>() {
        Ok(_) if !email.contains(char::is_whitespace) => Ok(email.to_owned()),
        _ => Err("That is not an e-mail address. Check it, for example jane@bookkeeping.example."),
    }
}

/// Checks an invitation's fields.
pub fn check_invitation(
    name: &str,
    email: &str,
    may_activate: bool,
) -> Result<Invitation, InvitationErrors> {
    let name = name.trim();
    let mut errors = InvitationErrors::default();
    if name.is_empty() {
        errors.name = Some("Enter their name, as it should appear to your team.");
    } else if name.chars().count() > MAX_NAME_CHARS {
        errors.name = Some("Shorten the name to 100 characters or fewer.");
    } else if name.chars().any(char::is_control) {
        errors.name = Some("The name contains a character that cannot be shown. Retype it.");
    }
    let email = match check_email(email) {
        Ok(e) => e,
        Err(msg) => {
            errors.email = Some(msg.to_owned());
            String::new()
        }
    };
    if errors.is_empty() {
        Ok(Invitation {
            name: name.to_owned(),
            email,
            may_activate,
        })
    } else {
        Err(errors)
    }
}

/// A link that signs someone in, once.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LinkInfo {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The tenant's name.
    pub tenant_name: String,
    /// The member.
    pub tenant_user_id: TenantUserId,
    /// The member's name.
    pub display_name: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// When it was used, if it was.
    pub used_at: Option<DateTime<Utc>>,
    /// When the member's access was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl LinkInfo {
    /// Why it can no longer sign anyone in, in words; none when it still can.
    pub fn refusal(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if self.revoked_at.is_some() {
            Some(
                "Your access to this company was removed by its administrators. Ask them to invite you again if you still need it.",
            )
        } else if self.used_at.is_some() {
            Some(
                "This sign-in link was already used: each link works once. Ask for a new one below.",
            )
        } else if self.expires_at <= now {
            Some("This sign-in link has expired. Ask for a new one below.")
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_needs_a_name_and_a_real_address() {
        let errors = check_invitation("  ", "not an address", false).unwrap_err();
        assert!(errors.name.is_some());
        assert!(errors.email.unwrap().contains("not an e-mail address"));
        let ok = check_invitation(" Jane Doe ", " jane@books.example ", true).unwrap();
        assert_eq!(ok.name, "Jane Doe");
        assert_eq!(ok.email, "jane@books.example");
        assert!(ok.may_activate);
        let long = format!("{}@x.example", "a".repeat(260));
        assert!(
            check_invitation("Jane", &long, false)
                .unwrap_err()
                .email
                .unwrap()
                .contains("254")
        );
    }

    #[test]
    fn a_token_is_hashed_and_never_equal_to_its_hash() {
        let token = new_token();
        assert_eq!(token.len(), 43);
        assert_eq!(token_hash(&token), token_hash(&format!(" {token} ")));
        assert_ne!(token_hash(&token), token.as_bytes());
        assert_ne!(new_token(), token);
    }

    #[test]
    fn a_used_expired_or_revoked_link_says_why_it_no_longer_works() {
        let now = Utc::now();
        let mut link = LinkInfo {
            tenant_id: TenantId(uuid::Uuid::nil()),
            tenant_name: "Acme".into(),
            tenant_user_id: TenantUserId(uuid::Uuid::nil()),
            display_name: "Jane".into(),
            expires_at: now + Duration::minutes(5),
            used_at: None,
            revoked_at: None,
        };
        assert_eq!(link.refusal(now), None);
        link.expires_at = now;
        assert!(link.refusal(now).unwrap().contains("expired"));
        link.used_at = Some(now);
        assert!(link.refusal(now).unwrap().contains("already used"));
        link.revoked_at = Some(now);
        assert!(link.refusal(now).unwrap().contains("removed"));
    }
}
