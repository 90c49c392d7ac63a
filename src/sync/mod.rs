//! The nightly syncs: trading-day window, ledger, runs, posting, manual controls.
//!
//! Layered: reader (TrackTik) → ledger (what is owed) → sends (QuickBooks, exactly once) →
//! engine (one run in order); jobs and pages sit on top.
//!
//! - [`window`]: trading days and cutoffs.
//! - [`translate`]: TrackTik documents into QBO transactions (pure functions).
//! - `reader`, `gather`, [`cursor`]: what TrackTik changed since the watermark, back-sync
//!   ranges, and the owed documents read in full by id.
//! - [`ledger`]: one row per TrackTik document: `pending → posting → posted | failed | skipped`.
//! - `send`: durable sends (recorded before they are sent, settled fenced, resolved by look-up
//!   and the same send again).
//! - [`run`]: one run: try-lock, settle open sends, read, record, post.
//! - [`runs`]: one row per run with counts and progress; [`queue`]: the jobs, the cron tick's
//!   set-based enqueue, merged manual requests.
//! - [`controls`]: sync now, retry failed, back-sync, preview; [`changes`]: the periodic check
//!   of posted documents edited or deleted in TrackTik.

mod build;
pub mod changes;
pub mod controls;
pub mod cursor;
mod customers;
mod dimensions;
mod document;
mod engine;
mod explain;
mod gather;
pub mod ledger;
mod notify;
mod pipeline;
mod post;
mod posting;
mod preview;
mod profile;
pub mod queue;
mod reader;
pub mod rollback;
pub mod runs;
mod send;
mod source;
pub mod translate;
pub mod window;

pub use engine::{PreviewItem, RunPlan, RunReport, run, run_day, schedule_of, settings_of};
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
    /// Another run of the integration holds its lock; the job is queued again a little later.
    #[error("another run of this integration is going on")]
    Busy,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}
