//! The taxes step: tax classes → items (US) or tax codes (elsewhere).

use super::{Errors, FieldView, Section, Values, get, pick};
use super::{qbo_choices, ref_id};
use crate::integrations::settings::{Settings, TaxTarget};
use crate::wizard::catalog::{QboOption, Source};

/// What the taxes step offers.
pub struct TaxLists {
    /// QBO items (US) or tax codes (elsewhere).
    pub targets: Vec<QboOption>,
    /// TrackTik tax classes.
    pub classes: Vec<Source>,
}

/// The taxes values of saved answers.
pub fn taxes_values(s: &Settings) -> Values {
    let mut v = Values::new();
    for (id, t) in &s.taxes.classes {
        let r = match t {
            TaxTarget::Item { item } => item,
            TaxTarget::TaxCode { code } => code,
        };
        v.insert(format!("tax_{id}"), r.id.clone());
    }
    v.insert(
        "automated_tax_item".into(),
        ref_id(&s.taxes.automated_tax_item),
    );
    v.insert("exempt_tax_code".into(), ref_id(&s.taxes.exempt_tax_code));
    v
}

/// The taxes step's fields.
pub fn taxes_sections(
    values: &Values,
    errors: &Errors,
    lists: &TaxLists,
    us: bool,
    read_only: bool,
) -> Vec<Section> {
    let ro = |f: FieldView| if read_only { f.read_only() } else { f };
    let (what, first) = if us {
        ("QuickBooks product/service for the tax line", "Not mapped")
    } else {
        ("QuickBooks tax code on each line", "Not mapped")
    };
    let mut fields = Vec::new();
    for c in &lists.classes {
        let name = format!("tax_{}", c.key);
        let current = get(values, &name);
        fields.push(ro(FieldView::new(&name, &c.name, "select", values, errors)
            .help(what)
            .choices(qbo_choices(&lists.targets, first, current))));
    }
    if us {
        fields.push(ro(FieldView::new(
            "automated_tax_item",
            "Automated calculated tax",
            "select",
            values,
            errors,
        )
        .help("The product/service for tax TrackTik calculated without a tax class.")
        .choices(qbo_choices(
            &lists.targets,
            "Choose a product/service",
            get(values, "automated_tax_item"),
        ))));
    } else {
        fields.push(ro(FieldView::new("exempt_tax_code", "Tax code for untaxed lines", "select", values, errors)
            .help("QuickBooks needs a tax code on every line; lines TrackTik did not tax get this one (exempt or zero-rated).")
            .choices(qbo_choices(&lists.targets, "Choose a tax code", get(values, "exempt_tax_code")))));
    }
    vec![Section {
        title: "Tax classes".into(),
        intro: if us {
            "US companies: each TrackTik tax becomes a line of its own with this product/service."
                .into()
        } else {
            "Your company is outside the US: QuickBooks computes tax from the tax code on each line.".into()
        },
        fields,
    }]
}

/// Validates the taxes form into `settings`.
pub fn parse_taxes(
    values: &Values,
    lists: &TaxLists,
    us: bool,
    settings: &mut Settings,
) -> Result<(), Errors> {
    let mut errors = Errors::new();
    let what = if us { "product or service" } else { "tax code" };
    let t = &mut settings.taxes;
    t.classes.clear();
    for c in &lists.classes {
        let name = format!("tax_{}", c.key);
        match pick(&lists.targets, get(values, &name), what) {
            Ok(Some(r)) => {
                if let Ok(id) = c.key.parse() {
                    t.classes.insert(
                        id,
                        if us {
                            TaxTarget::Item { item: r }
                        } else {
                            TaxTarget::TaxCode { code: r }
                        },
                    );
                }
            }
            Ok(None) => {}
            Err(e) => {
                errors.insert(name, format!("For “{}”: {e}", c.name));
            }
        }
    }
    let billing = settings.billing.enabled;
    if us {
        t.exempt_tax_code = None;
        match pick(&lists.targets, get(values, "automated_tax_item"), what) {
            Ok(None) if billing => {
                errors.insert(
                    "automated_tax_item".into(),
                    "Choose the product/service for automatically calculated tax.".into(),
                );
            }
            Ok(r) => t.automated_tax_item = r,
            Err(e) => {
                errors.insert("automated_tax_item".into(), e);
            }
        }
    } else {
        t.automated_tax_item = None;
        match pick(&lists.targets, get(values, "exempt_tax_code"), what) {
            Ok(None) if billing => {
                errors.insert(
                    "exempt_tax_code".into(),
                    "Choose the tax code for lines TrackTik did not tax (exempt or zero-rated)."
                        .into(),
                );
            }
            Ok(r) => t.exempt_tax_code = r,
            Err(e) => {
                errors.insert("exempt_tax_code".into(), e);
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
