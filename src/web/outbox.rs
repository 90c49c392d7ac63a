//! The demo's outbox (`/demo/outbox`): every e-mail the demo would have sent, with its links
//! and attachments, so invitations and session bookings can be followed without an SMTP
//! server. Routed only when the mailer keeps an outbox (`demo` without SMTP); production has
//! no such page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use super::extract::PathParam;
use super::pages::Chrome;
use crate::error::{AppError, AppResult};
use crate::notices::{Outbox, OutboxMessage};
use crate::state::AppState;

/// A piece of a line of a message: text, or a link to make clickable.
pub enum Piece {
    /// Plain text.
    Text(String),
    /// An address.
    Link(String),
}

/// One message as the page shows it.
pub struct MessageView {
    id: u64,
    sent_at: String,
    to: String,
    subject: String,
    lines: Vec<Vec<Piece>>,
    attachments: Vec<(usize, String, usize)>,
}

/// Splits a line into text and `http(s)://` links.
pub fn pieces(line: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut text = String::new();
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            text.push(' ');
        }
        if word.starts_with("http://") || word.starts_with("https://") {
            if !text.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut text)));
            }
            out.push(Piece::Link(word.to_owned()));
        } else {
            text.push_str(word);
        }
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    out
}

fn view(m: OutboxMessage) -> MessageView {
    MessageView {
        id: m.id,
        sent_at: m.sent_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        to: m.email.to.join(", "),
        subject: m.email.subject,
        lines: m.email.text.lines().map(pieces).collect(),
        attachments: m
            .email
            .attachments
            .iter()
            .enumerate()
            .map(|(i, a)| (i, a.filename.clone(), a.body.len()))
            .collect(),
    }
}

fn outbox(state: &AppState) -> AppResult<&Outbox> {
    state.mailer.outbox().ok_or(AppError::NotFound)
}

/// `/demo/outbox`.
#[derive(Template, WebTemplate)]
#[template(path = "demo/outbox.html")]
pub struct OutboxPage {
    chrome: Chrome,
    messages: Vec<MessageView>,
}

/// `GET /demo/outbox`: every message, newest first, each in full.
pub async fn list(State(state): State<AppState>, session: Session) -> AppResult<OutboxPage> {
    let messages = outbox(&state)?.list().into_iter().map(view).collect();
    Ok(OutboxPage {
        chrome: Chrome::public(&session).await?,
        messages,
    })
}

/// `GET /demo/outbox/{id}/{n}`: one attachment, as it was attached.
pub async fn attachment(
    State(state): State<AppState>,
    PathParam((id, n)): PathParam<(u64, usize)>,
) -> AppResult<Response> {
    let message = outbox(&state)?.get(id).ok_or(AppError::NotFound)?;
    let a = message.email.attachments.get(n).ok_or(AppError::NotFound)?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        a.filename.replace(['"', '\\', '\r', '\n'], "")
    );
    Ok((
        [
            (header::CONTENT_TYPE, a.content_type.clone()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        a.body.clone(),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_a_line_become_pieces_of_their_own() {
        let p = pieces("Sign in: https://lb.example/sign-in/link?token=abc then go");
        assert!(matches!(&p[0], Piece::Text(t) if t == "Sign in: "));
        assert!(
            matches!(&p[1], Piece::Link(l) if l == "https://lb.example/sign-in/link?token=abc")
        );
        assert!(matches!(&p[2], Piece::Text(t) if t == " then go"));
    }
}
