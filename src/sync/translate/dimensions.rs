//! QBO Class and Location (Department) for a document, from its TrackTik region or sites.

use std::collections::BTreeMap;

use crate::integrations::CompanyProfile;
use crate::integrations::settings::{Dimension, QboRef};
use crate::providers::quickbooks::models::Ref;

use super::{Area, DimensionKind, TranslateError, qbo_ref};

/// The QBO Class/Location already resolved (or created) by the caller for each TrackTik region
/// and site the document touches. Only consulted when the settings ask for them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DimensionRefs {
    /// TrackTik region id → QBO Class.
    pub class_by_region: BTreeMap<i64, QboRef>,
    /// TrackTik site id → QBO Class.
    pub class_by_site: BTreeMap<i64, QboRef>,
    /// TrackTik region id → QBO Location.
    pub location_by_region: BTreeMap<i64, QboRef>,
    /// TrackTik site id → QBO Location.
    pub location_by_site: BTreeMap<i64, QboRef>,
}

impl DimensionRefs {
    fn map(&self, kind: DimensionKind, from: Dimension) -> &BTreeMap<i64, QboRef> {
        match (kind, from) {
            (DimensionKind::Class, Dimension::Region) => &self.class_by_region,
            (DimensionKind::Class, Dimension::Site) => &self.class_by_site,
            (DimensionKind::Location, Dimension::Region) => &self.location_by_region,
            (DimensionKind::Location, Dimension::Site) => &self.location_by_site,
        }
    }
}

/// One dimension the settings ask for, checked against the company's preferences.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Wanted {
    pub(crate) kind: DimensionKind,
    pub(crate) from: Dimension,
    pub(crate) area: Area,
}

impl Wanted {
    /// `None` when the settings do not ask for it; an error when QBO does not track it.
    pub(crate) fn new(
        company: &CompanyProfile,
        kind: DimensionKind,
        from: Option<Dimension>,
        area: Area,
    ) -> Result<Option<Self>, TranslateError> {
        let Some(from) = from else { return Ok(None) };
        let on = match kind {
            DimensionKind::Class => company.prefs.class_tracking,
            DimensionKind::Location => company.prefs.department_tracking,
        };
        if !on {
            return Err(TranslateError::TrackingOff {
                dimension: kind,
                area,
            });
        }
        Ok(Some(Self { kind, from, area }))
    }

    /// The QBO reference for the region, or for one record's site.
    pub(crate) fn resolve(
        &self,
        refs: &DimensionRefs,
        region: Option<(i64, String)>,
        site: Option<(i64, String)>,
        record_id: i64,
    ) -> Result<Ref, TranslateError> {
        let (id, name) = match self.from {
            Dimension::Region => region.ok_or(TranslateError::MissingRegion {
                dimension: self.kind,
                area: self.area,
            })?,
            Dimension::Site => site.ok_or(TranslateError::MissingSite {
                record_id,
                dimension: self.kind,
                area: self.area,
            })?,
        };
        refs.map(self.kind, self.from).get(&id).map(qbo_ref).ok_or(
            TranslateError::MissingDimension {
                dimension: self.kind,
                from: self.from,
                id,
                name,
                area: self.area,
            },
        )
    }
}

/// The single Location of a transaction whose lines carry `per_line` (QBO has Location on the
/// transaction only, except on journal-entry lines): all equal, or an error naming the sites.
pub(crate) fn single_location(
    area: Area,
    per_line: Vec<(Option<i64>, Ref)>,
) -> Result<Option<Ref>, TranslateError> {
    let mut first: Option<Ref> = None;
    let mut sites: Vec<i64> = Vec::new();
    let mut differ = false;
    for (site, r) in per_line {
        if let Some(site) = site
            && !sites.contains(&site)
        {
            sites.push(site);
        }
        match &first {
            None => first = Some(r),
            Some(f) if f.value != r.value => differ = true,
            Some(_) => {}
        }
    }
    if differ {
        sites.sort_unstable();
        return Err(TranslateError::AmbiguousLocation { area, sites });
    }
    Ok(first)
}
