//! Typed HTTP clients for the two APIs we talk to, and the mail transport. They know nothing
//! about our database or tenants: callers pass credentials per call and get wire DTOs and typed
//! errors back.

mod bundle;
pub mod mail;
pub mod quickbooks;
pub mod tracktik;

pub use bundle::Providers;

/// A response body read up to a limit.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The body is longer than the limit; reading stopped there.
    TooLarge,
    /// The connection failed while reading.
    Transport(reqwest::Error),
}

/// Reads `response`'s body, giving up as soon as it passes `limit` bytes (announced by
/// `Content-Length` or counted as it arrives), so a huge or endless answer costs at most
/// `limit` bytes of memory.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `10 MB`, `64 KB`: a byte limit in words.
pub(crate) fn size_in_words(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", bytes / (1024 * 1024))
    } else {
        format!("{} KB", bytes / 1024)
    }
}
