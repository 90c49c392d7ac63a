//! The set of provider clients the application uses, built once at start.

use crate::providers::quickbooks::QuickBooksClient;
use crate::providers::quickbooks::oauth::QuickBooksOAuth;
use crate::providers::tracktik::{OAuthApp, TrackTikClient};

/// Both clients and our app registrations with both providers.
#[derive(Clone)]
pub struct Providers {
    /// The TrackTik API client.
    pub tracktik: TrackTikClient,
    /// Our OAuth app on TrackTik portals.
    pub tracktik_app: OAuthApp,
    /// The QuickBooks API client.
    pub quickbooks: QuickBooksClient,
    /// Intuit OAuth.
    pub quickbooks_oauth: QuickBooksOAuth,
}
