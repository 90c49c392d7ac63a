//! The nightly syncs: trading-day window, ledger, translation, posting.

pub mod translate;
pub mod window;
