//! The taxes step: tax classes → items (US) or tax codes (elsewhere). Outside the US a code
//! must belong to the company's country and charge what the TrackTik class charges, or
//! QuickBooks would compute other tax than TrackTik did.

use std::collections::BTreeMap;

use super::{Errors, FieldView, Section, Values, get, pick};
use super::{qbo_choices, ref_id};
use crate::integrations::settings::{QboRef, Settings, TaxTarget};
use crate::mapping::tax_match::{ClassRates, CodeRates, TaxMatch, match_class, percent};
use crate::wizard::catalog::{QboOption, Source};

/// What the taxes step offers.
pub struct TaxLists {
    /// QBO items (US) or tax codes (elsewhere).
    pub targets: Vec<QboOption>,
    /// TrackTik tax classes (those the integration's regions use, and any mapped before).
    pub classes: Vec<Source>,
    /// Outside the US: what each TrackTik class charges, by id.
    pub class_rates: BTreeMap<i64, ClassRates>,
    /// Outside the US: what each QuickBooks code charges.
    pub code_rates: Vec<CodeRates>,
}

impl TaxLists {
    fn code_rate(&self, id: &str) -> Option<rust_decimal::Decimal> {
        self.code_rates
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.rate)
    }

    fn names(&self, ids: &[String]) -> String {
        let names: Vec<String> = ids
            .iter()
            .filter_map(|id| self.code_rates.iter().find(|c| &c.id == id))
            .map(|c| format!("“{}”", c.name))
            .collect();
        crate::wizard::regions::join(&names)
    }

    /// What a non-US class's field says: its rate, and what matching found.
    fn class_help(&self, key: &str) -> String {
        let Some(class) = key
            .parse()
            .ok()
            .and_then(|id: i64| self.class_rates.get(&id))
        else {
            return "QuickBooks tax code on each line".into();
        };
        let Some(rate) = class.rate else {
            return "QuickBooks tax code on each line".into();
        };
        let charges = format!("TrackTik charges {}.", percent(rate));
        match match_class(class, &self.code_rates) {
            TaxMatch::Matched(id) => {
                format!("{charges} The code charging that is {}.", self.names(&[id]))
            }
            TaxMatch::Several(ids) => format!(
                "{charges} Several codes charge that ({}): choose one.",
                self.names(&ids)
            ),
            TaxMatch::Nothing(ids) if ids.is_empty() => format!(
                "{charges} No tax code of this company charges that: add one in QuickBooks, or leave this class's region out of this company."
            ),
            TaxMatch::Nothing(ids) => format!(
                "{charges} No tax code of this company charges that (closest by name: {}): add one in QuickBooks, or leave this class's region out of this company.",
                self.names(&ids)
            ),
        }
    }

    /// Why a non-US code cannot serve `class`, if it cannot.
    fn refuse_code(&self, class: &Source, code: &QboRef) -> Option<String> {
        if code.id.eq_ignore_ascii_case("TAX") || code.id.eq_ignore_ascii_case("NON") {
            return Some(format!(
                "“{}” is a US tax code; your company is outside the US. Choose one of its own tax codes.",
                code.name
            ));
        }
        let class_rate = class
            .key
            .parse()
            .ok()
            .and_then(|id: i64| self.class_rates.get(&id))
            .and_then(|c| c.rate)?;
        let code_rate = self.code_rate(&code.id)?;
        (class_rate != code_rate).then(|| {
            let fitting: Vec<String> = self
                .code_rates
                .iter()
                .filter(|c| c.active && c.rate == Some(class_rate))
                .map(|c| c.id.clone())
                .collect();
            let hint = if fitting.is_empty() {
                format!("No code of this company charges {}: add one in QuickBooks.", percent(class_rate))
            } else {
                format!("Choose {}.", self.names(&fitting))
            };
            format!(
                "TrackTik charges {}, but the tax code “{}” charges {}: QuickBooks would compute other tax than TrackTik. {hint}",
                percent(class_rate), code.name, percent(code_rate)
            )
        })
    }
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
        let help = if us {
            what.to_owned()
        } else {
            lists.class_help(&c.key)
        };
        fields.push(ro(FieldView::new(&name, &c.name, "select", values, errors)
            .help(help)
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

fn no_income(targets: &[QboOption], r: &QboRef) -> bool {
    targets
        .iter()
        .any(|o| o.id == r.id && o.income_account.is_none())
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
        let picked = pick(&lists.targets, get(values, &name), what).and_then(|r| match &r {
            Some(code) if !us => match lists.refuse_code(c, code) {
                Some(why) => Err(why),
                None => Ok(r),
            },
            Some(item) if us && no_income(&lists.targets, item) => Err(format!(
                "“{}” has no income account in QuickBooks, so QuickBooks refuses it on an invoice. Choose another product/service.",
                item.name
            )),
            _ => Ok(r),
        });
        match picked {
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
            Ok(Some(r)) if lists.code_rate(&r.id).is_some_and(|x| !x.is_zero()) => {
                errors.insert(
                    "exempt_tax_code".into(),
                    format!(
                        "Lines TrackTik did not tax need a code that charges nothing (exempt or zero-rated), and “{}” charges {}.",
                        r.name,
                        percent(lists.code_rate(&r.id).unwrap_or_default())
                    ),
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
