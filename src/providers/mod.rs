//! Typed HTTP clients for the two APIs we talk to. They know nothing about our database or
//! tenants: callers pass credentials per call and get wire DTOs and typed errors back.

mod bundle;
pub mod quickbooks;
pub mod tracktik;

pub use bundle::Providers;
