//! The nightly syncs: trading-day window, ledger, runs, posting, manual controls.
//!
//! - [`window`]: trading days and approval windows.
//! - [`translate`]: TrackTik documents into QBO transactions (pure functions).
//! - [`ledger`]: one row per TrackTik document: `pending → posting → posted | failed | skipped`.
//! - [`runs`]: one row per run with counts and progress; (integration, day) enqueue keys.
//! - [`run_day`]: one run: lock, resolve `posting` rows by lookup, read TrackTik, record,
//!   post each document exactly once (in batches of up to 30).
//! - [`controls`]: sync now, retry failed, back-sync, preview, and the cron tick's enqueue.

mod build;
pub mod controls;
mod dimensions;
mod document;
mod engine;
mod explain;
pub mod ledger;
mod post;
mod recover;
pub mod runs;
mod source;
pub mod translate;
pub mod window;

pub use engine::{PreviewItem, RunReport, run_day, schedule_of, settings_of};
pub use translate::{MAX_DOC_NUMBER, fit_doc_number};

/// Why a run could not start or stopped. Per-document failures are not errors: they are
/// recorded on their ledger rows and the run goes on.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No such integration for the tenant.
    #[error("integration not found")]
    NotFound,
    /// The integration cannot sync yet (draft, paused, no start date, …).
    #[error("{0}")]
    NotReady(String),
    /// A connection needs the customer; the integration is marked `needs_reconnect`.
    #[error("{0}")]
    NeedsReconnect(String),
    /// TrackTik or QuickBooks could not be reached; the run is tried again later.
    #[error("{0}")]
    Unavailable(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
