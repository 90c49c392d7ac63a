//! Ledgerbridge: posts approved TrackTik invoices and approved, locked pay runs into
//! QuickBooks Online, exactly once, at the end of each trading day.

/// Stand-ins for the TrackTik and QuickBooks Online APIs, used by `demo`, tests and benchmarks.
pub mod sandbox;
