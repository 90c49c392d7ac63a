//! Sending one e-mail: over SMTP when `LEDGERBRIDGE_SMTP_URL` is set; into the demo's outbox
//! when `demo` runs without one; otherwise nowhere (the caller records it as not delivered).
//! What is sent, to whom and when is decided by `notices` (and the members' and experts' mail).

use std::sync::{Arc, Mutex};

use anyhow::Context;
use chrono::{DateTime, Utc};
use lettre::message::header::ContentType;
use lettre::message::{Attachment as MimeAttachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// The most messages the demo's outbox keeps (the oldest go first).
const OUTBOX_CAPACITY: usize = 500;

/// One e-mail: plain text, optionally with attachments (an `.ics` invitation).
#[derive(Clone, Debug)]
pub struct Email {
    /// Recipients.
    pub to: Vec<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// Files attached.
    pub attachments: Vec<Attachment>,
}

/// A file attached to an [`Email`].
#[derive(Clone, Debug)]
pub struct Attachment {
    /// Its file name, e.g. `invite.ics`.
    pub filename: String,
    /// Its MIME type, e.g. `text/calendar; charset=UTF-8; method=REQUEST`.
    pub content_type: String,
    /// Its bytes.
    pub body: Vec<u8>,
}

/// A message kept by the demo's outbox.
#[derive(Clone, Debug)]
pub struct OutboxMessage {
    /// Its number in the outbox (1, 2, …).
    pub id: u64,
    /// When it was "sent".
    pub sent_at: DateTime<Utc>,
    /// The message.
    pub email: Email,
}

/// The demo's outbox: what would have been mailed, kept in memory for the outbox page.
#[derive(Clone, Debug, Default)]
pub struct Outbox {
    messages: Arc<Mutex<(u64, Vec<OutboxMessage>)>>,
}

impl Outbox {
    fn push(&self, email: &Email) {
        let mut guard = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        guard.0 += 1;
        let id = guard.0;
        guard.1.push(OutboxMessage {
            id,
            sent_at: Utc::now(),
            email: email.clone(),
        });
        if guard.1.len() > OUTBOX_CAPACITY {
            guard.1.remove(0);
        }
    }

    /// Every message kept, newest first.
    pub fn list(&self) -> Vec<OutboxMessage> {
        let guard = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        guard.1.iter().rev().cloned().collect()
    }

    /// One message by its number.
    pub fn get(&self, id: u64) -> Option<OutboxMessage> {
        let guard = self.messages.lock().unwrap_or_else(|e| e.into_inner());
        guard.1.iter().find(|m| m.id == id).cloned()
    }
}

/// Sends mail over SMTP, into the demo's outbox, or nowhere.
#[derive(Clone)]
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    outbox: Option<Outbox>,
    from: Mailbox,
}

impl Mailer {
    /// From `LEDGERBRIDGE_SMTP_URL` (e.g. `smtps://user:pass@smtp.example.com` or
    /// `smtp://127.0.0.1:1025`) and `LEDGERBRIDGE_MAIL_FROM`.
    pub fn new(smtp_url: Option<&str>, from: &str) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .with_context(|| format!("LEDGERBRIDGE_MAIL_FROM: {from:?} is not an address"))?;
        let transport = match smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("LEDGERBRIDGE_SMTP_URL is not a valid smtp:// or smtps:// URL")?
                    .build(),
            ),
            None => None,
        };
        Ok(Self {
            transport,
            outbox: None,
            from,
        })
    }

    /// For `demo` (and tests): without an SMTP server, mail goes into an outbox kept in memory
    /// and shown at `/demo/outbox`. With one configured, nothing changes.
    pub fn with_outbox(mut self) -> Self {
        if self.transport.is_none() && self.outbox.is_none() {
            self.outbox = Some(Outbox::default());
        }
        self
    }

    /// The demo's outbox, when mail goes there.
    pub fn outbox(&self) -> Option<&Outbox> {
        self.outbox.as_ref()
    }

    /// Whether mail actually leaves.
    pub fn is_configured(&self) -> bool {
        self.transport.is_some()
    }

    /// The address mail is sent from.
    pub fn from_address(&self) -> String {
        self.from.email.to_string()
    }

    /// Sends `email` (or keeps it in the outbox).
    pub async fn send_email(&self, email: &Email) -> anyhow::Result<()> {
        if let Some(outbox) = &self.outbox {
            outbox.push(email);
            return Ok(());
        }
        let Some(transport) = &self.transport else {
            anyhow::bail!("no SMTP server is configured (LEDGERBRIDGE_SMTP_URL)");
        };
        transport
            .send(self.build(email)?)
            .await
            .context("the SMTP server refused the message")?;
        Ok(())
    }

    fn build(&self, email: &Email) -> anyhow::Result<Message> {
        let mut message = Message::builder()
            .from(self.from.clone())
            .subject(email.subject.clone());
        for address in &email.to {
            message = message.to(address
                .parse()
                .with_context(|| format!("{address:?} is not an e-mail address"))?);
        }
        let message = if email.attachments.is_empty() {
            message.body(email.text.clone())
        } else {
            let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(email.text.clone()));
            for a in &email.attachments {
                let kind = ContentType::parse(&a.content_type)
                    .with_context(|| format!("{:?} is not a MIME type", a.content_type))?;
                parts = parts
                    .singlepart(MimeAttachment::new(a.filename.clone()).body(a.body.clone(), kind));
            }
            message.multipart(parts)
        };
        message.context("building the message")
    }
}
