//! Line detail types, from Intuit's schema (`LineDetailTypeEnum`). Which properties each entity
//! and line accepts is the schema's business (`schema::read_entity`).

use crate::sandbox::quickbooks::schema::schema;

/// Whether `detail_type` is one of QuickBooks' line detail types.
pub fn is_detail_type(detail_type: &str) -> bool {
    schema()
        .enum_values("LineDetailTypeEnum")
        .is_some_and(|v| v.iter().any(|t| t == detail_type))
}

/// The payload key for a detail type (`DescriptionOnly` → `DescriptionLineDetail`).
pub fn detail_key(detail_type: &str) -> &str {
    if detail_type == "DescriptionOnly" {
        "DescriptionLineDetail"
    } else {
        detail_type
    }
}
