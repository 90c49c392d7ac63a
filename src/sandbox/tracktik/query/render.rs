//! Turning stored rows into response objects: on-demand fields and relation lists only when
//! included, relations as ids or nested objects, then `fields` selection and aliases.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::Includes;
use super::index::{FieldIndex, Indexes};
use crate::sandbox::tracktik::schema::{Kind, Resource, resource};
use crate::sandbox::tracktik::store::{Portal, Row};

/// Renders rows of one request. Child lists (`lines`, `items`, …) are looked up through the
/// portal's indexes, so including them costs what the page holds, not what the portal holds.
pub struct Renderer<'p> {
    portal: &'p Portal,
    base_url: &'p str,
    indexes: &'p Indexes,
    children: HashMap<(&'static str, &'static str), std::sync::Arc<FieldIndex>>,
}

impl<'p> Renderer<'p> {
    /// A renderer for records of `portal`; `uri` fields are made absolute with `base_url`.
    pub fn new(portal: &'p Portal, base_url: &'p str, indexes: &'p Indexes) -> Self {
        Renderer {
            portal,
            base_url,
            indexes,
            children: HashMap::new(),
        }
    }

    fn children_of(&mut self, tag: &'static str, fk: &'static str, parent: i64) -> Vec<i64> {
        let (portal, indexes) = (self.portal, self.indexes);
        let index = self
            .children
            .entry((tag, fk))
            .or_insert_with(|| indexes.by_field(portal, tag, fk));
        index.get(&parent).cloned().unwrap_or_default()
    }

    fn related(&mut self, tag: &'static str, id: &Value, inc: &Includes) -> Value {
        match (id.as_i64(), resource(tag)) {
            (Some(id), Some(res)) => match self.portal.get(tag, id) {
                Some(r) => self.render(res, r, inc),
                None => Value::from(id),
            },
            _ => id.clone(),
        }
    }

    pub fn render(&mut self, res: &'static Resource, row: &Row, inc: &Includes) -> Value {
        let mut out = Map::new();
        let id = row.get("id").and_then(Value::as_i64).unwrap_or(0);
        for f in res.fields {
            let stored = row.get(f.name).cloned().unwrap_or(Value::Null);
            let wanted = inc.get(f.name);
            let v = match (f.kind, wanted) {
                (Kind::Plain, _) => stored,
                (Kind::OnDemand, None) => continue,
                (Kind::OnDemand, Some(_)) => stored,
                (Kind::Rel(_), None) | (Kind::RelList(_), None) => stored,
                (Kind::Rel(t), Some(sub)) => {
                    if stored.is_null() {
                        stored
                    } else {
                        self.related(t, &stored, sub)
                    }
                }
                (Kind::RelList(t), Some(sub)) => match stored {
                    Value::Array(ids) => {
                        Value::Array(ids.iter().map(|i| self.related(t, i, sub)).collect())
                    }
                    other => other,
                },
                (Kind::Children(..), None) => continue,
                (Kind::Children(t, fk), Some(sub)) => {
                    let ids = self.children_of(t, fk, id);
                    let Some(child) = resource(t) else { continue };
                    let portal = self.portal;
                    Value::Array(
                        ids.iter()
                            .filter_map(|c| portal.get(t, *c))
                            .map(|r| self.render(child, r, sub))
                            .collect(),
                    )
                }
            };
            out.insert(f.name.to_owned(), v);
        }
        if inc.get("uri").is_some() {
            let uri = format!("{}/rest/v1/{}/{id}", self.base_url, res.tag);
            out.insert("uri".into(), uri.into());
        }
        if inc.get("resourceType").is_some() {
            out.insert("resourceType".into(), res.tag.into());
        }
        Value::Object(out)
    }
}

/// Keeps only the requested fields, renamed to their aliases; dotted sources are flattened.
pub fn select(value: Value, fields: &[(String, String)]) -> Value {
    let mut out = Map::new();
    for (src, alias) in fields {
        let mut cur = Some(&value);
        for seg in src.split('.') {
            cur = cur.and_then(|v| v.get(seg));
        }
        if let Some(v) = cur {
            out.insert(alias.clone(), v.clone());
        }
    }
    Value::Object(out)
}
