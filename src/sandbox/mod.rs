//! The two sandboxes: HTTP servers that speak the real TrackTik and QuickBooks Online APIs
//! closely enough that our clients cannot tell the difference. They share no code with the
//! clients they stand in for: a sandbox that reused the client's types would agree with any bug.

pub mod quickbooks;
pub mod tracktik;
