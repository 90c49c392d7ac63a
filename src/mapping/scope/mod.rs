//! Region scope: which TrackTik regions, clients, sites and pay runs go into one integration's
//! QuickBooks company. Pure functions over the integration's [`ScopeSettings`] and TrackTik's
//! region tree (each region's `parentRegion`); no I/O.
//!
//! The rules:
//! - **Every region** ([`RegionChoice::Every`]) takes everything: every region, regions added
//!   later, and every client, site and pay run without a region.
//! - **Chosen regions** ([`RegionChoice::Only`]) take each chosen region with all its
//!   sub-regions, at any depth.
//! - A **client or site** belongs to its own region; one without a region belongs to its
//!   client's (a site follows the client it belongs to). One with no region anywhere up its
//!   chain goes where the customer said: into this company when it (or its client) is in
//!   [`ScopeSettings::without_region`].
//! - A **pay run** belongs to its region; one without a region goes into this company when
//!   [`ScopeSettings::payruns_without_region`] is on.
//! - A region (with its sub-regions) belongs to at most one active integration of a tenant:
//!   [`overlap`] finds what two scopes share.
//!
//! The sync's reader asks [`ScopeIndex`] (built once per run from the settings and the
//! `regions` and `clients` lists it reads anyway) whether each document is in scope.

mod tree;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

pub use tree::{ClientPlaces, RegionTree};

use crate::integrations::settings::{RegionChoice, ScopeSettings};
use crate::providers::tracktik::models::{BackOfficeSettings, Client, Region};

/// Whether documents of `region` go into the company of `scope`.
pub fn region_in_scope(scope: &ScopeSettings, tree: &RegionTree, region: i64) -> bool {
    match &scope.regions {
        RegionChoice::Every => true,
        RegionChoice::Only { regions } => tree.lineage(region).iter().any(|r| regions.contains(r)),
    }
}

/// Whether documents of the client or site `client` go into the company of `scope`.
pub fn client_in_scope(
    scope: &ScopeSettings,
    tree: &RegionTree,
    clients: &ClientPlaces,
    client: i64,
) -> bool {
    match &scope.regions {
        RegionChoice::Every => true,
        RegionChoice::Only { .. } => match clients.region_of(client) {
            Some(region) => region_in_scope(scope, tree, region),
            None => clients
                .lineage(client)
                .iter()
                .any(|c| scope.without_region.contains(c)),
        },
    }
}

/// Whether a pay run of `region` (or of none) goes into the company of `scope`.
pub fn payrun_in_scope(scope: &ScopeSettings, tree: &RegionTree, region: Option<i64>) -> bool {
    match (&scope.regions, region) {
        (RegionChoice::Every, _) => true,
        (RegionChoice::Only { .. }, Some(r)) => region_in_scope(scope, tree, r),
        (RegionChoice::Only { .. }, None) => scope.payruns_without_region,
    }
}

/// An integration set up before regions could be chosen keeps every region while it is its
/// tenant's only integration; once the tenant has another, it must choose.
pub fn must_choose(scope: &ScopeSettings, tenant_has_other_integrations: bool) -> bool {
    !scope.chosen && tenant_has_other_integrations
}

/// The regions of the tree `scope` takes (each chosen region and its sub-regions; a chosen
/// region TrackTik no longer lists is kept).
pub fn regions_taken(scope: &ScopeSettings, tree: &RegionTree) -> BTreeSet<i64> {
    match &scope.regions {
        RegionChoice::Every => tree.ids().collect(),
        RegionChoice::Only { regions } => regions.iter().flat_map(|r| tree.subtree(*r)).collect(),
    }
}

/// Everything one sync run needs to ask "is this in scope?".
#[derive(Clone, Debug)]
pub struct ScopeIndex {
    scope: ScopeSettings,
    tree: RegionTree,
    clients: ClientPlaces,
}

impl ScopeIndex {
    /// From the integration's settings and TrackTik's `regions` and `clients` lists.
    pub fn new(scope: &ScopeSettings, regions: &[Region], clients: &[Client]) -> Self {
        Self {
            scope: scope.clone(),
            tree: RegionTree::from_regions(regions),
            clients: ClientPlaces::from_clients(clients),
        }
    }

    /// From parts already built.
    pub fn from_parts(scope: &ScopeSettings, tree: RegionTree, clients: ClientPlaces) -> Self {
        Self {
            scope: scope.clone(),
            tree,
            clients,
        }
    }

    /// The scope takes everything.
    pub fn is_every(&self) -> bool {
        self.scope.regions == RegionChoice::Every
    }

    /// Documents of this region go into the company.
    pub fn region(&self, region: i64) -> bool {
        region_in_scope(&self.scope, &self.tree, region)
    }

    /// Documents of this client or site go into the company (an invoice: ask about its
    /// `client`).
    pub fn client(&self, client: i64) -> bool {
        client_in_scope(&self.scope, &self.tree, &self.clients, client)
    }

    /// A pay run of this region (or of none) goes into the company.
    pub fn payrun(&self, region: Option<i64>) -> bool {
        payrun_in_scope(&self.scope, &self.tree, region)
    }

    /// Every region of the tree in scope, sub-regions included; `None` for every region.
    pub fn regions(&self) -> Option<BTreeSet<i64>> {
        (!self.is_every()).then(|| regions_taken(&self.scope, &self.tree))
    }

    /// The region tree.
    pub fn tree(&self) -> &RegionTree {
        &self.tree
    }

    /// Where clients and sites sit.
    pub fn places(&self) -> &ClientPlaces {
        &self.clients
    }
}

/// What two scopes both take.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overlap {
    /// Both take every region.
    pub every: bool,
    /// Regions both take (sub-regions included).
    pub regions: BTreeSet<i64>,
    /// Clients and sites without a region both take.
    pub clients: BTreeSet<i64>,
    /// Both take pay runs without a region.
    pub payruns_without_region: bool,
}

impl Overlap {
    /// The shared regions without those whose parent is shared too: what to name.
    pub fn top_regions(&self, tree: &RegionTree) -> Vec<i64> {
        self.regions
            .iter()
            .copied()
            .filter(|r| tree.parent(*r).is_none_or(|p| !self.regions.contains(&p)))
            .collect()
    }
}

/// What the scopes `a` and `b` both take, if anything: two integrations with an overlap would
/// post the same documents into two companies.
pub fn overlap(
    a: &ScopeSettings,
    b: &ScopeSettings,
    tree: &RegionTree,
    clients: &ClientPlaces,
) -> Option<Overlap> {
    let every = |s: &ScopeSettings| s.regions == RegionChoice::Every;
    let mut out = Overlap {
        every: every(a) && every(b),
        ..Overlap::default()
    };
    let (ra, rb) = (regions_taken(a, tree), regions_taken(b, tree));
    let chosen = |s: &ScopeSettings| match &s.regions {
        RegionChoice::Every => BTreeSet::new(),
        RegionChoice::Only { regions } => regions.clone(),
    };
    out.regions = ra.intersection(&rb).copied().collect();
    // Chosen regions TrackTik no longer lists still count: compare them by lineage too.
    for r in chosen(a).union(&chosen(b)) {
        if region_in_scope(a, tree, *r) && region_in_scope(b, tree, *r) {
            out.regions.insert(*r);
        }
    }
    let without: BTreeSet<i64> = clients
        .ids()
        .filter(|c| clients.region_of(*c).is_none())
        .chain(a.without_region.iter().copied())
        .chain(b.without_region.iter().copied())
        .filter(|c| clients.region_of(*c).is_none())
        .collect();
    out.clients = without
        .into_iter()
        .filter(|c| client_in_scope(a, tree, clients, *c) && client_in_scope(b, tree, clients, *c))
        .collect();
    out.payruns_without_region = payrun_in_scope(a, tree, None) && payrun_in_scope(b, tree, None);
    let empty = !out.every
        && out.regions.is_empty()
        && out.clients.is_empty()
        && !out.payruns_without_region;
    (!empty).then_some(out)
}

/// Each region's billing currency (`back-office-settings.billingBaseCurrency`), upper case.
pub fn currencies(settings: &[BackOfficeSettings]) -> BTreeMap<i64, String> {
    settings
        .iter()
        .filter_map(|s| {
            let region = s.region.as_ref()?.id();
            let code = s.billing_base_currency.as_deref()?.trim();
            (!code.is_empty()).then(|| (region, code.to_ascii_uppercase()))
        })
        .collect()
}

/// A region's billing currency: its own setting, else its nearest parent's.
pub fn currency_of<'a>(
    tree: &RegionTree,
    currencies: &'a BTreeMap<i64, String>,
    region: i64,
) -> Option<&'a str> {
    tree.lineage(region)
        .iter()
        .find_map(|r| currencies.get(r).map(String::as_str))
}

/// The company a scope is for: its home currency and whether it takes other currencies.
#[derive(Clone, Copy, Debug)]
pub struct Books<'a> {
    /// Home currency (ISO code).
    pub home_currency: &'a str,
    /// Multicurrency is on.
    pub multicurrency: bool,
}

impl Books<'_> {
    /// Whether documents billed in `currency` can be posted (an unknown currency is treated
    /// as the home currency, as the sync does).
    pub fn takes(&self, currency: Option<&str>) -> bool {
        self.multicurrency || currency.is_none_or(|c| c.eq_ignore_ascii_case(self.home_currency))
    }
}

/// The regions in `scope` whose currency the company cannot take, with that currency.
pub fn currency_misfits(
    scope: &ScopeSettings,
    tree: &RegionTree,
    currencies: &BTreeMap<i64, String>,
    books: Books<'_>,
) -> Vec<(i64, String)> {
    regions_taken(scope, tree)
        .into_iter()
        .filter_map(|r| {
            let c = currency_of(tree, currencies, r)?;
            (!books.takes(Some(c))).then(|| (r, c.to_owned()))
        })
        .collect()
}

/// What Express proposes: the regions whose billing currency is the company's home currency
/// (every region when multicurrency is on), leaving out regions another integration already
/// takes (`claimed`). A region is proposed with its sub-regions only when all of them fit;
/// otherwise the ones that fit are proposed on their own. Every region when all of them fit
/// and none is claimed.
pub fn propose(
    tree: &RegionTree,
    currencies: &BTreeMap<i64, String>,
    books: Books<'_>,
    claimed: &BTreeSet<i64>,
) -> RegionChoice {
    let fits = |r: i64| !claimed.contains(&r) && books.takes(currency_of(tree, currencies, r));
    let mut chosen = BTreeSet::new();
    let mut todo: Vec<i64> = tree.roots();
    let mut all = true;
    while let Some(r) = todo.pop() {
        if tree.subtree(r).into_iter().all(fits) {
            chosen.insert(r);
        } else {
            all = false;
            todo.extend(tree.children(r));
        }
    }
    if all && claimed.is_empty() {
        RegionChoice::Every
    } else {
        RegionChoice::Only { regions: chosen }
    }
}
