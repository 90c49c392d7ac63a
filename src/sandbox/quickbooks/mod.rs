//! QuickBooks Online sandbox.
