//! TrackTik client.
