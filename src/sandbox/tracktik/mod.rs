//! TrackTik sandbox.
