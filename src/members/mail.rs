//! The e-mails members receive: an invitation, and a sign-in link they asked for.

use chrono::{DateTime, Utc};

use crate::notices::Email;

/// "Jane invited you to Acme Security's Ledgerbridge".
pub fn invitation(
    to: &str,
    member_name: &str,
    inviter: &str,
    tenant_name: &str,
    link: &str,
    expires_at: DateTime<Utc>,
) -> Email {
    Email {
        to: vec![to.to_owned()],
        subject: format!("{inviter} invited you to {tenant_name} on Ledgerbridge"),
        text: format!(
            "Hello {member_name},\n\n\
             {inviter} invited you to work on {tenant_name}'s TrackTik to QuickBooks Online \
             integration in Ledgerbridge, as their accountant or bookkeeper. You do not need a \
             TrackTik account.\n\n\
             Sign in with this link (it works once, until {}):\n{link}\n\n\
             Later, sign in again from the Ledgerbridge home page with \"Sign in with an e-mail \
             link\" and this address.\n\n\
             If you did not expect this, ignore this message: nothing happens until the link is used.\n",
            expires_at.format("%Y-%m-%d %H:%M UTC")
        ),
        attachments: Vec::new(),
    }
}

/// A sign-in link the member asked for.
pub fn sign_in_link(
    to: &str,
    member_name: &str,
    tenant_name: &str,
    link: &str,
    expires_at: DateTime<Utc>,
) -> Email {
    Email {
        to: vec![to.to_owned()],
        subject: format!("Your Ledgerbridge sign-in link for {tenant_name}"),
        text: format!(
            "Hello {member_name},\n\n\
             Here is the link you asked for to sign in to {tenant_name} on Ledgerbridge. It \
             works once, until {}:\n{link}\n\n\
             If you did not ask for it, ignore this message: nobody can use it without this mailbox.\n",
            expires_at.format("%Y-%m-%d %H:%M UTC")
        ),
        attachments: Vec::new(),
    }
}
