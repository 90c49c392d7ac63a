//! Mappings between TrackTik and QuickBooks: express defaults and advanced choices.

pub mod express;
