//! TrackTik's region tree (each region's parent) and where each client or site sits.

use std::collections::{BTreeMap, BTreeSet};

use crate::providers::tracktik::models::{Client, Region};

/// TrackTik's regions as a forest: each region's parent, if any. A parent link that would
/// make a loop (a region its own ancestor) is dropped, so every walk up ends at a root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionTree {
    parent: BTreeMap<i64, Option<i64>>,
}

impl RegionTree {
    /// From `(region, parent)` links. A parent TrackTik did not list still counts as the
    /// parent (the walk up stops there).
    pub fn new(links: impl IntoIterator<Item = (i64, Option<i64>)>) -> Self {
        let mut parent: BTreeMap<i64, Option<i64>> = links
            .into_iter()
            .map(|(id, p)| (id, p.filter(|p| *p != id)))
            .collect();
        // Break loops: walking up from each region, a region seen twice closes a loop; the
        // link into the smallest id of the loop is dropped.
        let ids: Vec<i64> = parent.keys().copied().collect();
        for start in ids {
            let mut path = vec![start];
            let mut at = start;
            while let Some(Some(p)) = parent.get(&at).copied() {
                if let Some(pos) = path.iter().position(|r| *r == p) {
                    let cycle = &path[pos..];
                    if let Some(min) = cycle.iter().min().copied() {
                        parent.insert(min, None);
                    }
                    break;
                }
                path.push(p);
                at = p;
            }
        }
        Self { parent }
    }

    /// From TrackTik's `regions` list.
    pub fn from_regions(regions: &[Region]) -> Self {
        Self::new(
            regions
                .iter()
                .map(|r| (r.id, r.parent_region.as_ref().map(|p| p.id()))),
        )
    }

    /// Every region listed.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.parent.keys().copied()
    }

    /// Whether TrackTik listed the region.
    pub fn contains(&self, region: i64) -> bool {
        self.parent.contains_key(&region)
    }

    /// The region's parent.
    pub fn parent(&self, region: i64) -> Option<i64> {
        self.parent.get(&region).copied().flatten()
    }

    /// The region, its parent, its parent's parent… up to a root.
    pub fn lineage(&self, region: i64) -> Vec<i64> {
        let mut out = vec![region];
        let mut at = region;
        while let Some(p) = self.parent(at) {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            at = p;
        }
        out
    }

    /// How many parents the region has.
    pub fn depth(&self, region: i64) -> usize {
        self.lineage(region).len() - 1
    }

    /// The region's direct sub-regions, by id.
    pub fn children(&self, region: i64) -> Vec<i64> {
        self.parent
            .iter()
            .filter(|(_, p)| **p == Some(region))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Regions without a listed parent, by id.
    pub fn roots(&self) -> Vec<i64> {
        self.parent
            .iter()
            .filter(|(_, p)| p.is_none_or(|p| !self.parent.contains_key(&p)))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The region and every sub-region below it.
    pub fn subtree(&self, region: i64) -> BTreeSet<i64> {
        let mut out = BTreeSet::from([region]);
        let mut todo = vec![region];
        while let Some(r) = todo.pop() {
            for c in self.children(r) {
                if out.insert(c) {
                    todo.push(c);
                }
            }
        }
        out
    }

    /// Every region in tree order (each parent before its sub-regions, siblings by id).
    pub fn in_order(&self) -> Vec<i64> {
        let mut out = Vec::with_capacity(self.parent.len());
        let mut todo: Vec<i64> = self.roots().into_iter().rev().collect();
        while let Some(r) = todo.pop() {
            if out.contains(&r) {
                continue;
            }
            out.push(r);
            todo.extend(self.children(r).into_iter().rev());
        }
        out
    }
}

/// Where one client or site sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Place {
    region: Option<i64>,
    parent: Option<i64>,
}

/// Each client's and site's region and parent client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientPlaces {
    places: BTreeMap<i64, Place>,
}

impl ClientPlaces {
    /// From `(client or site, its region, its parent client)`.
    pub fn new(places: impl IntoIterator<Item = (i64, Option<i64>, Option<i64>)>) -> Self {
        Self {
            places: places
                .into_iter()
                .map(|(id, region, parent)| {
                    (
                        id,
                        Place {
                            region,
                            parent: parent.filter(|p| *p != id),
                        },
                    )
                })
                .collect(),
        }
    }

    /// From TrackTik's `clients` list (clients and sites).
    pub fn from_clients(clients: &[Client]) -> Self {
        Self::new(clients.iter().map(|c| {
            (
                c.id,
                c.region.as_ref().map(|r| r.id()),
                c.parent_client.as_ref().map(|p| p.id()),
            )
        }))
    }

    /// Every client and site listed.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.places.keys().copied()
    }

    /// The client or site, the client it belongs to, and so on.
    pub fn lineage(&self, client: i64) -> Vec<i64> {
        let mut out = vec![client];
        let mut at = client;
        while let Some(p) = self.places.get(&at).and_then(|p| p.parent) {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            at = p;
        }
        out
    }

    /// The region its documents belong to: its own, else the nearest up its chain.
    pub fn region_of(&self, client: i64) -> Option<i64> {
        self.lineage(client)
            .iter()
            .find_map(|c| self.places.get(c).and_then(|p| p.region))
    }

    /// Its parent client, for a site.
    pub fn parent(&self, client: i64) -> Option<i64> {
        self.places.get(&client).and_then(|p| p.parent)
    }
}
