//! QuickBooks Classes and Locations (the API's Departments) for the TrackTik regions and sites
//! the settings ask for: the one of the same name, or a new one.
//!
//! Each list is read once per run (only when a document needs it) and every answer is kept in
//! the session, so a run asks QuickBooks about a region or site at most once. A missing Class or
//! Location is created when the customer lets Ledgerbridge create QuickBooks names
//! (`billing.customer_matching` = match or create, the setting that already governs creating
//! customers); otherwise the document fails naming what to create, and where.

use std::collections::HashMap;

use crate::integrations::settings::{CustomerMatching, Dimension, QboRef, Settings};
use crate::providers::quickbooks::models::{Class, Department};
use crate::providers::quickbooks::{QboError, RequestId};

use super::SyncError;
use super::explain::qbo_failure;
use super::ledger::Failure;
use super::post::{QboSession, is_refusal, qbo_call};
use super::translate::{Area, DimensionKind, DimensionRefs};

/// The longest Class or Location name QuickBooks accepts.
const MAX_NAME: usize = 100;

/// A Class or Location a document needs and the run has not resolved yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needed {
    /// Class or Location.
    pub kind: DimensionKind,
    /// Region or site.
    pub from: Dimension,
    /// The TrackTik region or site id.
    pub id: i64,
    /// Its TrackTik name.
    pub name: String,
    /// Billing or Payroll.
    pub area: Area,
}

/// What a run knows about the company's Classes and Locations.
#[derive(Clone, Debug, Default)]
pub(crate) struct DimensionCache {
    /// Resolved so far, per region and site: what translation consults.
    pub refs: DimensionRefs,
    /// Active Classes by lower-case name (read on first need).
    classes: Option<HashMap<String, QboRef>>,
    /// Active Locations by lower-case name (read on first need).
    locations: Option<HashMap<String, QboRef>>,
}

impl DimensionCache {
    fn known(&mut self, kind: DimensionKind) -> &mut Option<HashMap<String, QboRef>> {
        match kind {
            DimensionKind::Class => &mut self.classes,
            DimensionKind::Location => &mut self.locations,
        }
    }

    fn remember(&mut self, needed: &Needed, r: QboRef) {
        let refs = &mut self.refs;
        let map = match (needed.kind, needed.from) {
            (DimensionKind::Class, Dimension::Region) => &mut refs.class_by_region,
            (DimensionKind::Class, Dimension::Site) => &mut refs.class_by_site,
            (DimensionKind::Location, Dimension::Region) => &mut refs.location_by_region,
            (DimensionKind::Location, Dimension::Site) => &mut refs.location_by_site,
        };
        map.insert(needed.id, r);
    }
}

/// Whether the settings let Ledgerbridge create a missing Class or Location.
pub(crate) fn may_create(settings: &Settings) -> bool {
    settings.billing.customer_matching == CustomerMatching::MatchOrCreate
}

/// The name QuickBooks gets for a TrackTik region or site: no `:` (QuickBooks' sub-list
/// separator) or `"`, at most 100 characters.
pub(crate) fn qbo_name(name: &str) -> String {
    name.replace(':', "-")
        .replace('"', "'")
        .trim()
        .chars()
        .take(MAX_NAME)
        .collect()
}

fn source_word(from: Dimension) -> &'static str {
    match from {
        Dimension::Region => "region",
        Dimension::Site => "site",
    }
}

fn list_word(kind: DimensionKind) -> &'static str {
    match kind {
        DimensionKind::Class => "Classes",
        DimensionKind::Location => "Locations",
    }
}

/// Reads the company's active Classes or Locations.
async fn read_list(
    session: &mut QboSession<'_>,
    kind: DimensionKind,
) -> Result<Result<HashMap<String, QboRef>, QboError>, SyncError> {
    fn by_name(
        rows: impl Iterator<Item = (Option<String>, Option<String>)>,
    ) -> HashMap<String, QboRef> {
        rows.filter_map(|(id, name)| {
            let (id, name) = (id?, name?);
            Some((name.to_lowercase(), QboRef::new(id, name)))
        })
        .collect()
    }
    Ok(match kind {
        DimensionKind::Class => {
            let r: Result<Vec<Class>, QboError> = qbo_call!(session, |co| session
                .state
                .providers
                .quickbooks
                .query(&co, "SELECT * FROM Class"));
            r.map(|rows| by_name(rows.into_iter().map(|c| (c.id, c.name))))
        }
        DimensionKind::Location => {
            let r: Result<Vec<Department>, QboError> = qbo_call!(session, |co| session
                .state
                .providers
                .quickbooks
                .query(&co, "SELECT * FROM Department"));
            r.map(|rows| by_name(rows.into_iter().map(|d| (d.id, d.name))))
        }
    })
}

/// Creates a Class or Location named `name`.
async fn create(
    session: &mut QboSession<'_>,
    kind: DimensionKind,
    name: &str,
) -> Result<Result<QboRef, QboError>, SyncError> {
    let rid = RequestId::derive(&[
        &session.integration_id.to_string(),
        list_word(kind),
        &name.to_lowercase(),
    ]);
    Ok(match kind {
        DimensionKind::Class => {
            let new = Class {
                name: Some(name.to_owned()),
                ..Default::default()
            };
            let r: Result<Class, QboError> = qbo_call!(session, |co| session
                .state
                .providers
                .quickbooks
                .create(&co, &new, &rid));
            r.map(|c| QboRef::new(c.id.unwrap_or_default(), name))
        }
        DimensionKind::Location => {
            let new = Department {
                name: Some(name.to_owned()),
                ..Default::default()
            };
            let r: Result<Department, QboError> = qbo_call!(session, |co| session
                .state
                .providers
                .quickbooks
                .create(&co, &new, &rid));
            r.map(|d| QboRef::new(d.id.unwrap_or_default(), name))
        }
    })
}

/// Resolves one Class or Location into the session's cache, or says why the document cannot
/// have it. `dry_run` (previews) never creates: a name that would be created resolves to a
/// placeholder.
pub(crate) async fn resolve(
    session: &mut QboSession<'_>,
    settings: &Settings,
    needed: &Needed,
    dry_run: bool,
) -> Result<Result<(), Failure>, SyncError> {
    let kind = needed.kind;
    let source = source_word(needed.from);
    let name = qbo_name(&needed.name);
    if name.is_empty() || needed.name.starts_with('#') {
        return Ok(Err(Failure {
            message: format!(
                "The TrackTik {source} {} has no name, so its QuickBooks {kind} cannot be found.",
                needed.name
            ),
            code: "dimension".into(),
            fix: format!("Name the {source} in TrackTik, then retry."),
            fix_at: Some("tracktik".into()),
            retryable: false,
        }));
    }
    if session.dimensions.known(kind).is_none() {
        match read_list(session, kind).await? {
            Ok(list) => *session.dimensions.known(kind) = Some(list),
            Err(e) if is_refusal(&e) => return Err(session.refused(&e).await),
            Err(e) => {
                return Ok(Err(qbo_failure(
                    &format!("listing its {}", list_word(kind)),
                    &e,
                )));
            }
        }
    }
    let key = name.to_lowercase();
    if let Some(found) = session
        .dimensions
        .known(kind)
        .as_ref()
        .and_then(|l| l.get(&key))
        .cloned()
    {
        session.dimensions.remember(needed, found);
        return Ok(Ok(()));
    }
    if !may_create(settings) {
        return Ok(Err(Failure {
            message: format!(
                "QuickBooks has no {kind} named \"{name}\" for the TrackTik {source} \"{}\".",
                needed.name
            ),
            code: "dimension".into(),
            fix: format!(
                "Create the {kind} \"{name}\" in QuickBooks (Settings → All lists → {}), then retry.",
                list_word(kind)
            ),
            fix_at: Some("quickbooks".into()),
            retryable: false,
        }));
    }
    if dry_run {
        session.dimensions.remember(needed, QboRef::new("", name));
        return Ok(Ok(()));
    }
    match create(session, kind, &name).await? {
        Ok(made) => {
            if let Some(list) = session.dimensions.known(kind).as_mut() {
                list.insert(key, made.clone());
            }
            session.dimensions.remember(needed, made);
            Ok(Ok(()))
        }
        // The name is taken by an inactive one (active ones were in the list).
        Err(e) if e.fault().is_some_and(|f| f.has_code("6240")) => Ok(Err(Failure {
            message: format!(
                "QuickBooks has an inactive {kind} named \"{name}\" (for the TrackTik {source} \"{}\").",
                needed.name
            ),
            code: "6240".into(),
            fix: format!(
                "Make the {kind} \"{name}\" active again in QuickBooks (Settings → All lists → {}), then retry.",
                list_word(kind)
            ),
            fix_at: Some("quickbooks".into()),
            retryable: false,
        })),
        Err(e) if is_refusal(&e) => Err(session.refused(&e).await),
        Err(e) => Ok(Err(qbo_failure(
            &format!("creating the {kind} \"{name}\""),
            &e,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_quickbooks_would_refuse_are_made_acceptable() {
        assert_eq!(qbo_name("  Toronto: East \"A\" "), "Toronto- East 'A'");
        assert_eq!(qbo_name(&"x".repeat(150)).chars().count(), 100);
    }

    #[test]
    fn only_match_or_create_lets_the_sync_create_names() {
        let mut s = Settings::default();
        assert!(may_create(&s));
        s.billing.customer_matching = CustomerMatching::PickedOnly;
        assert!(!may_create(&s));
    }
}
