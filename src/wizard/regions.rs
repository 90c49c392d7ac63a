//! What the Regions step and the scope checks read from TrackTik: the region tree with each
//! region's billing currency and default tax class, where clients and sites sit, the tax
//! classes, and what was approved in the last 90 days (invoices with their tax classes, pay
//! runs). The rules themselves are [`crate::mapping::scope`]'s.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, Utc};

use super::catalog::{CatalogError, Sides};
use super::db::Sibling;
use super::{Draft, Step};
use crate::integrations::settings::{RegionChoice, ScopeSettings};
use crate::mapping::scope::{
    self, Books, ClientPlaces, RegionTree, ScopeIndex, currency_misfits, overlap,
};
use crate::providers::tracktik::models::{ClientType, TaxClass};
use crate::providers::tracktik::{Window, models::Relation};
use crate::state::AppState;

/// How far back the step counts documents and looks for tax classes in use.
pub const RECENT_DAYS: i64 = 90;

/// A client or site, as the step lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// TrackTik id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// A site (service location) rather than a billed client.
    pub site: bool,
}

/// An invoice approved lately: its billed client and the tax classes it used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecentInvoice {
    /// TrackTik id.
    pub id: i64,
    /// The billed client.
    pub client: Option<i64>,
    /// Tax classes on the invoice or its lines.
    pub tax_classes: BTreeSet<i64>,
}

/// Everything the scope needs from TrackTik.
#[derive(Clone, Debug, Default)]
pub struct RegionFacts {
    /// Regions and their parents.
    pub tree: RegionTree,
    /// Region id → name.
    pub names: BTreeMap<i64, String>,
    /// Region id → billing currency (its own back-office setting).
    pub currencies: BTreeMap<i64, String>,
    /// Region id → its default tax class.
    pub default_tax_class: BTreeMap<i64, i64>,
    /// Where each client and site sits.
    pub places: ClientPlaces,
    /// Clients and sites.
    pub clients: Vec<ClientInfo>,
    /// Tax classes, with their component rates.
    pub tax_classes: Vec<TaxClass>,
    /// Invoices approved in the last [`RECENT_DAYS`] days.
    pub invoices: Vec<RecentInvoice>,
    /// Pay runs approved in the last [`RECENT_DAYS`] days: (id, region).
    pub payruns: Vec<(i64, Option<i64>)>,
}

/// Reads the facts (six TrackTik lists).
pub async fn read(state: &AppState, sides: &Sides) -> Result<RegionFacts, CatalogError> {
    let tt = &state.providers.tracktik;
    let (portal, token) = (&sides.portal, &sides.tracktik);
    let regions = tt.regions(portal, token).await?;
    let settings = tt.back_office_settings(portal, token).await?;
    let clients = tt.clients(portal, token).await?;
    let tax_classes = tt.tax_classes(portal, token).await?;
    let now = Utc::now();
    let window = Window::new(now - Duration::days(RECENT_DAYS), now)?;
    let invoices = tt
        .approved_invoices_with_lines_between(portal, token, window)
        .await?;
    let payruns = tt.approved_payruns_between(portal, token, window).await?;
    Ok(RegionFacts {
        tree: RegionTree::from_regions(&regions),
        names: regions
            .iter()
            .map(|r| {
                let name = r.name.clone().unwrap_or_else(|| format!("Region {}", r.id));
                (r.id, name)
            })
            .collect(),
        currencies: scope::currencies(&settings),
        default_tax_class: settings
            .iter()
            .filter_map(|s| Some((s.region.as_ref()?.id(), s.billing_tax_class.as_ref()?.id())))
            .collect(),
        places: ClientPlaces::from_clients(&clients),
        clients: clients
            .iter()
            .map(|c| ClientInfo {
                id: c.id,
                name: c
                    .display_name()
                    .map(str::to_owned)
                    .unwrap_or_else(|| format!("Client {}", c.id)),
                site: matches!(c.kind, Some(ClientType::ServiceLocation)),
            })
            .collect(),
        tax_classes,
        invoices: invoices
            .iter()
            .map(|i| RecentInvoice {
                id: i.id,
                client: i.client.as_ref().map(Relation::id),
                tax_classes: i
                    .tax_class
                    .iter()
                    .map(Relation::id)
                    .chain(
                        i.lines
                            .iter()
                            .flatten()
                            .filter_map(|l| l.tax_class.as_ref().map(Relation::id)),
                    )
                    .collect(),
            })
            .collect(),
        payruns: payruns
            .iter()
            .map(|p| (p.id, p.region.as_ref().map(Relation::id)))
            .collect(),
    })
}

impl RegionFacts {
    /// The reader's question, for these facts.
    pub fn index(&self, scope: &ScopeSettings) -> ScopeIndex {
        ScopeIndex::from_parts(scope, self.tree.clone(), self.places.clone())
    }

    /// A region's name.
    pub fn name(&self, region: i64) -> String {
        self.names
            .get(&region)
            .cloned()
            .unwrap_or_else(|| format!("region {region}"))
    }

    /// A region's billing currency (its own, else its parent's).
    pub fn currency(&self, region: i64) -> Option<&str> {
        scope::currency_of(&self.tree, &self.currencies, region)
    }

    /// A client's or site's name.
    pub fn client_name(&self, client: i64) -> String {
        self.clients
            .iter()
            .find(|c| c.id == client)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| format!("client {client}"))
    }

    /// Invoices of the last 90 days per region (`None`: the client has no region).
    pub fn invoices_per_region(&self) -> BTreeMap<Option<i64>, usize> {
        let mut out = BTreeMap::new();
        for i in &self.invoices {
            let region = i.client.and_then(|c| self.places.region_of(c));
            *out.entry(region).or_default() += 1;
        }
        out
    }

    /// Invoices of the last 90 days per client without a region (sites counted on their
    /// client).
    pub fn invoices_without_region(&self) -> BTreeMap<i64, usize> {
        let mut out = BTreeMap::new();
        for i in &self.invoices {
            if let Some(c) = i.client.filter(|c| self.places.region_of(*c).is_none()) {
                let top = *self.places.lineage(c).last().unwrap_or(&c);
                *out.entry(top).or_default() += 1;
            }
        }
        out
    }

    /// Pay runs of the last 90 days per region.
    pub fn payruns_per_region(&self) -> BTreeMap<Option<i64>, usize> {
        let mut out = BTreeMap::new();
        for (_, region) in &self.payruns {
            *out.entry(*region).or_default() += 1;
        }
        out
    }

    /// Clients without a region anywhere up their chain, top-level ones only (their sites
    /// follow them), by name.
    pub fn clients_without_region(&self) -> Vec<&ClientInfo> {
        let mut out: Vec<&ClientInfo> = self
            .clients
            .iter()
            .filter(|c| self.places.region_of(c.id).is_none() && self.places.parent(c.id).is_none())
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        out
    }

    /// The tax classes the scope uses: those of its regions, its regions' default classes,
    /// and those on its invoices of the last 90 days. Every class for every region.
    pub fn classes_in_scope(&self, scope: &ScopeSettings) -> BTreeSet<i64> {
        if scope.regions == RegionChoice::Every {
            return self.tax_classes.iter().map(|c| c.id).collect();
        }
        let index = self.index(scope);
        let mut out: BTreeSet<i64> = self
            .tax_classes
            .iter()
            .filter(|c| c.region.as_ref().is_some_and(|r| index.region(r.id())))
            .map(|c| c.id)
            .collect();
        out.extend(
            self.default_tax_class
                .iter()
                .filter(|(r, _)| index.region(**r))
                .map(|(_, c)| *c),
        );
        for i in &self.invoices {
            if i.client.is_some_and(|c| index.client(c)) {
                out.extend(i.tax_classes.iter().copied());
            }
        }
        out
    }

    /// The regions other set-up integrations take, each with the company that takes it.
    pub fn claimed(&self, siblings: &[Sibling]) -> BTreeMap<i64, String> {
        let mut out = BTreeMap::new();
        for s in siblings.iter().filter(|s| s.is_set_up()) {
            for r in scope::regions_taken(&s.settings.scope, &self.tree) {
                out.entry(r).or_insert_with(|| s.company_name.clone());
            }
        }
        out
    }

    /// What Express proposes for this company.
    pub fn propose(&self, draft: &Draft, siblings: &[Sibling]) -> ScopeSettings {
        let claimed: BTreeSet<i64> = self.claimed(siblings).into_keys().collect();
        ScopeSettings {
            regions: scope::propose(&self.tree, &self.currencies, books(draft), &claimed),
            chosen: false,
            ..ScopeSettings::default()
        }
    }

    /// The scope the step shows and Express uses: the saved one, or the proposal for a draft
    /// whose regions were never chosen.
    pub fn effective(&self, draft: &Draft, siblings: &[Sibling]) -> ScopeSettings {
        if draft.proposes_scope() {
            self.propose(draft, siblings)
        } else {
            draft.settings.scope.clone()
        }
    }

    /// What stops activation about the scope that needs TrackTik's facts, as (field,
    /// message): currencies the books cannot hold, an overlap with another set-up
    /// integration. [`scope_problems_local`] has the rest.
    pub fn problems(&self, draft: &Draft, siblings: &[Sibling]) -> Vec<(String, String)> {
        let s = &draft.settings.scope;
        let mut out = Vec::new();
        for (region, currency) in top_misfits(self, s, draft) {
            out.push((format!("region_{region}"), format!(
                "{} bills in {currency}, but {} keeps its books in {} and multicurrency is off, so its invoices would fail. Leave {} out, or turn on multicurrency in QuickBooks and reconnect.",
                self.name(region), draft.company_name, draft.home_currency, self.name(region))));
        }
        for other in siblings.iter().filter(|o| o.is_set_up()) {
            if let Some(o) = overlap(s, &other.settings.scope, &self.tree, &self.places) {
                out.push((
                    "regions".into(),
                    overlap_message(self, &o, &other.company_name),
                ));
            }
        }
        out
    }
}

/// The company's books, for currency checks.
pub fn books(draft: &Draft) -> Books<'_> {
    Books {
        home_currency: &draft.home_currency,
        multicurrency: draft.company_prefs.multicurrency,
    }
}

/// Misfit regions without those whose parent is a misfit too.
fn top_misfits(facts: &RegionFacts, s: &ScopeSettings, draft: &Draft) -> Vec<(i64, String)> {
    let all = currency_misfits(s, &facts.tree, &facts.currencies, books(draft));
    let ids: BTreeSet<i64> = all.iter().map(|(r, _)| *r).collect();
    all.into_iter()
        .filter(|(r, _)| facts.tree.parent(*r).is_none_or(|p| !ids.contains(&p)))
        .collect()
}

/// "Ontario already goes into Acme Ltd (CA): …", naming what both companies would take.
pub fn overlap_message(facts: &RegionFacts, o: &scope::Overlap, company: &str) -> String {
    if o.every {
        return format!(
            "{company} takes every region too, so every document would be posted into both companies. Choose the regions of each company: a region belongs to one company only."
        );
    }
    let mut what: Vec<String> = o
        .top_regions(&facts.tree)
        .into_iter()
        .map(|r| facts.name(r))
        .collect();
    what.extend(o.clients.iter().map(|c| facts.client_name(*c)));
    if o.payruns_without_region {
        what.push("pay runs without a region".into());
    }
    let one = what.len() == 1;
    format!(
        "{} already go{} into {company}: a region belongs to one company only, or its documents would be posted twice. Leave {} out here, or change the regions of {company} first.",
        join(&what),
        if one { "es" } else { "" },
        if one { "it" } else { "them" },
    )
}

/// Scope problems that need no TrackTik read.
pub fn scope_problems_local(draft: &Draft) -> Vec<(String, String)> {
    let s = &draft.settings.scope;
    let mut out = Vec::new();
    if scope::must_choose(s, draft.siblings > 0) {
        out.push((
            "regions".into(),
            "Choose which TrackTik regions go into this company: your TrackTik portal is connected to more than one QuickBooks company.".into(),
        ));
    } else if let RegionChoice::Only { regions } = &s.regions
        && regions.is_empty()
        && s.without_region.is_empty()
        && !s.payruns_without_region
    {
        out.push((
            "regions".into(),
            "Choose at least one region, or every region.".into(),
        ));
    }
    out
}

/// "A", "A and B", "A, B and C".
pub fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The step the scope problems belong to.
pub const STEP: Step = Step::Scope;

/// TrackTik's billed clients (not sites) the scope takes, by name: the billing step's
/// customer list.
pub async fn clients_in_scope(
    state: &AppState,
    sides: &Sides,
    scope: &ScopeSettings,
) -> Result<Vec<super::catalog::Source>, CatalogError> {
    let tt = &state.providers.tracktik;
    let regions = tt.regions(&sides.portal, &sides.tracktik).await?;
    let clients = tt.clients(&sides.portal, &sides.tracktik).await?;
    let index = ScopeIndex::new(scope, &regions, &clients);
    let mut out: Vec<super::catalog::Source> = clients
        .iter()
        .filter(|c| !matches!(c.kind, Some(ClientType::ServiceLocation)) && index.client(c.id))
        .map(|c| super::catalog::Source {
            key: c.id.to_string(),
            name: c
                .display_name()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("Client {}", c.id)),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
