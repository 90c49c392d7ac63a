//! Mappings between TrackTik and QuickBooks: express defaults and advanced choices, which
//! TrackTik regions go into which company, and TrackTik tax classes matched to QuickBooks tax
//! codes.

pub mod express;
pub mod labels;
pub mod scope;
pub mod tax_match;
