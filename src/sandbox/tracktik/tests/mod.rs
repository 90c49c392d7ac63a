//! Tests of the TrackTik sandbox over real HTTP.
