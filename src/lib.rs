//! Ledgerbridge: posts approved TrackTik invoices and approved, locked pay runs into
//! QuickBooks Online, exactly once, at the end of each trading day.
//!
//! Layout (see `docs/architecture.md`): plumbing (`config`, `state`, `error`, `ids`, `db`,
//! `metrics`, `telemetry`), domain modules that own their SQL (`tenants`, `staff`, `audit`),
//! thin adapters (`web`, `jobs`), the command line (`cli`, `demo`, `server`), and the
//! `sandbox` stand-ins for TrackTik and QuickBooks Online.

/// The audit log.
pub mod audit;
/// The command line.
pub mod cli;
/// Configuration from the environment.
pub mod config;
/// OAuth connections: sealed tokens, refresh, health.
pub mod connections;
/// The support console's reads across tenants, and replays.
pub mod console;
/// Encryption of tokens at rest.
pub mod crypto;
/// What the dashboard shows: documents per night, reconciliation, runs, the ledger filtered.
pub mod dashboard;
/// Connecting to and migrating PostgreSQL.
pub mod db;
/// `ledgerbridge demo`.
pub mod demo;
/// The web layer's error type.
pub mod error;
/// Expert sessions: staff availability, booked slots, invitations, reminders and notes.
pub mod experts;
/// Newtype ids.
pub mod ids;
/// QuickBooks companies connected by tenants.
pub mod integrations;
/// Background jobs.
pub mod jobs;
/// Rate limits and the cap on concurrent password hashing.
pub mod limits;
/// Mappings between TrackTik and QuickBooks: Express setup defaults and advanced choices.
pub mod mapping;
/// Members invited by e-mail (accountants, bookkeepers) and their sign-in links.
pub mod members;
/// Prometheus metrics.
pub mod metrics;
/// E-mail notices.
pub mod notices;
/// Typed clients for TrackTik and QuickBooks Online.
pub mod providers;
/// Stand-ins for the TrackTik and QuickBooks Online APIs, used by `demo`, tests and benchmarks.
pub mod sandbox;
/// Starting the web server and the worker.
pub mod server;
/// Support staff accounts and sign-in.
pub mod staff;
/// Application state.
pub mod state;
/// The nightly syncs: trading days, translation, ledger and posting.
pub mod sync;
/// Logging.
pub mod telemetry;
/// Tenants (TrackTik portals).
pub mod tenants;
/// Routes, pages and middleware.
pub mod web;
/// The setup wizard: steps, answers, checks, expert requests.
pub mod wizard;
