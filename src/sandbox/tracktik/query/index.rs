//! Indexes the sandbox keeps as a database would: the rows of a table by the value of an
//! integer field (`invoice-lines` by `invoice`, …). Built on first use and kept until the portal
//! next changes, so reading one invoice's lines does not scan every line of the portal's history.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::sandbox::tracktik::store::Portal;

/// Row ids by the value of one field.
pub type FieldIndex = HashMap<i64, Vec<i64>>;

/// Every index built: by (table, field), with the generation it was built at.
type Built = HashMap<(String, String), (u64, Arc<FieldIndex>)>;

/// The indexes of one portal. Whoever changes the portal calls [`Indexes::invalidate`] while
/// holding its write lock; an index is rebuilt from the portal on its next use.
#[derive(Default)]
pub struct Indexes {
    generation: AtomicU64,
    built: Mutex<Built>,
}

impl Indexes {
    /// Forgets every index (the portal changed).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The rows of `tag` by the integer value of `field` (each id of an id list counts).
    pub fn by_field(&self, portal: &Portal, tag: &str, field: &str) -> Arc<FieldIndex> {
        let generation = self.generation.load(Ordering::SeqCst);
        let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
        let key = (tag.to_owned(), field.to_owned());
        if let Some((g, index)) = built.get(&key) {
            if *g == generation {
                return Arc::clone(index);
            }
        }
        let mut index = FieldIndex::new();
        for (id, row) in portal.table(tag).into_iter().flatten() {
            match row.get(field) {
                Some(Value::Array(values)) => {
                    for v in values.iter().filter_map(Value::as_i64) {
                        index.entry(v).or_default().push(*id);
                    }
                }
                Some(v) => {
                    if let Some(v) = v.as_i64() {
                        index.entry(v).or_default().push(*id);
                    }
                }
                None => {}
            }
        }
        let index = Arc::new(index);
        built.insert(key, (generation, Arc::clone(&index)));
        index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::tracktik::store::row;

    #[test]
    fn an_index_is_kept_until_the_portal_changes_then_built_again() {
        let mut portal = Portal::new("Acme");
        let a = portal.insert("invoice-lines", row([("invoice", Value::from(7))]));
        let b = portal.insert("invoice-lines", row([("invoice", Value::from(8))]));
        let indexes = Indexes::default();
        let first = indexes.by_field(&portal, "invoice-lines", "invoice");
        assert_eq!(
            (first.get(&7), first.get(&8)),
            (Some(&vec![a]), Some(&vec![b]))
        );
        assert!(Arc::ptr_eq(
            &first,
            &indexes.by_field(&portal, "invoice-lines", "invoice")
        ));

        let c = portal.insert("invoice-lines", row([("invoice", Value::from(7))]));
        indexes.invalidate();
        let again = indexes.by_field(&portal, "invoice-lines", "invoice");
        assert_eq!(again.get(&7), Some(&vec![a, c]));
    }
}
