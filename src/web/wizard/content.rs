//! What each step shows: its fields built from the saved answers (or what was typed), the
//! lists read from TrackTik and QuickBooks, and the preview.

use super::steps::open;
use super::today_in;
use crate::error::AppResult;
use crate::integrations::settings::SetupMethod;
use crate::state::AppState;
use crate::web::extract::CurrentUser;
use crate::wizard::catalog::{self, CatalogError, Sides};
use crate::wizard::forms::{self, Errors, FieldView, Preview, Section, Values};
use crate::wizard::{Draft, Step};
use crate::wizard::{regions, usage};

/// What a step shows besides the frame.
pub(super) struct Content {
    pub(super) intro: String,
    pub(super) notice: Option<String>,
    pub(super) sections: Vec<Section>,
    pub(super) preview: Option<Preview>,
    pub(super) preview_button: bool,
    pub(super) can_submit: bool,
    pub(super) read_only: bool,
    pub(super) payroll_words: Option<crate::wizard::words::PayrollWords>,
}

impl Content {
    pub(super) fn unavailable(e: &CatalogError) -> Self {
        tracing::warn!(error = %e, "the wizard could not read the lists");
        Self {
            intro: String::new(),
            notice: Some(e.advice()),
            sections: Vec::new(),
            preview: None,
            preview_button: false,
            can_submit: false,
            read_only: true,
            payroll_words: None,
        }
    }
}

pub(super) async fn billing_lists(
    state: &AppState,
    sides: &Sides,
    draft: &Draft,
) -> Result<(forms::BillingLists, Option<catalog::SampleInvoice>), CatalogError> {
    let accounts = catalog::accounts(state, sides).await?;
    let lists = forms::BillingLists {
        items: catalog::items(state, sides).await?,
        customers: catalog::customers(state, sides).await?,
        bill_items: catalog::bill_items(state, sides).await?,
        clients: regions::clients_in_scope(state, sides, &draft.settings.scope).await?,
        income_accounts: accounts
            .into_iter()
            .filter(|a| forms::INCOME_TYPES.contains(&a.kind.as_str()))
            .collect(),
    };
    let sample = catalog::sample_invoice(state, sides).await?;
    Ok((lists, sample))
}

pub(super) async fn payroll_lists(
    state: &AppState,
    sides: &Sides,
) -> Result<forms::PayrollLists, CatalogError> {
    let (pay_codes, amount_codes) = catalog::pay_codes(state, sides).await?;
    Ok(forms::PayrollLists {
        accounts: catalog::accounts(state, sides).await?,
        vendors: catalog::vendors(state, sides).await?,
        pay_codes,
        amount_codes,
    })
}

/// The tax classes the integration's regions use (and any mapped before), with what they
/// and, outside the US, the company's tax codes charge.
pub(super) async fn tax_lists(
    state: &AppState,
    sides: &Sides,
    draft: &Draft,
) -> Result<forms::TaxLists, CatalogError> {
    let us = draft.is_us();
    let facts = regions::read(state, sides).await?;
    let mut used = facts.classes_in_scope(&draft.settings.scope);
    used.extend(draft.settings.taxes.classes.keys().copied());
    let classes = catalog::tax_classes(state, sides)
        .await?
        .into_iter()
        .filter(|c| c.key.parse().is_ok_and(|id: i64| used.contains(&id)))
        .collect();
    Ok(forms::TaxLists {
        targets: if us {
            catalog::items(state, sides).await?
        } else {
            catalog::tax_codes(state, sides).await?
        },
        classes,
        class_rates: facts
            .tax_classes
            .iter()
            .map(|c| (c.id, usage::class_rates(c)))
            .collect(),
        code_rates: if us {
            Vec::new()
        } else {
            usage::tax_code_rates(state, sides).await?
        },
    })
}

fn method_section(values: &Values, errors: &Errors) -> Section {
    let mut f = FieldView {
        name: "setup_method".into(),
        label: "How do you want to set up this company?".into(),
        help: String::new(),
        kind: "radio",
        value: values.get("setup_method").cloned().unwrap_or_default(),
        choices: Vec::new(),
        error: errors.get("setup_method").cloned(),
    };
    f.choices = [
        ("express", "Express setup", "We create the default accounts and products in QuickBooks Online and use them: TrackTik Direct Wages (TT-3000), TrackTik Direct Wages Liability (TT-9000), TrackTik Service Income (TT-2000), one TrackTik account and product per tax class (TT-8101, TT-8102, …) and TrackTik Automated Calculated Tax (TT-8000). Anything that already exists is reused, never duplicated. You still choose the schedule."),
        ("advanced", "Advanced setup", "Choose your own mapping for every bill item, customer, pay code and tax class, and the advanced settings. Recommended for professional bookkeepers and accountants."),
    ]
    .into_iter()
    .map(|(v, l, h)| forms::Choice { selected: f.value == v, value: v.into(), label: l.into(), help: h.into() })
    .collect();
    Section {
        title: "Express or Advanced".into(),
        intro: String::new(),
        fields: vec![f],
    }
}

pub(super) async fn content(
    state: &AppState,
    current: &CurrentUser,
    draft: &Draft,
    step: Step,
    typed: Option<&Values>,
    errors: &Errors,
    is_connected: bool,
) -> AppResult<Content> {
    let s = &draft.settings.0;
    let prefs = &draft.company_prefs.0;
    let express = draft.is_express();
    let mut c = Content {
        intro: String::new(),
        notice: None,
        sections: Vec::new(),
        preview: None,
        preview_button: false,
        can_submit: true,
        read_only: false,
        payroll_words: None,
    };
    let values_or = |saved: Values| typed.cloned().unwrap_or(saved);
    match step {
        Step::Connect => {
            let tt =
                crate::connections::db::tracktik_for_tenant(&state.db, current.tenant.tenant_id)
                    .await?;
            let ro = |name: &str, label: &str, value: String| FieldView {
                name: name.into(),
                label: label.into(),
                help: String::new(),
                kind: "readonly",
                value,
                choices: Vec::new(),
                error: None,
            };
            c.sections.push(Section {
                title: "Connections".into(),
                intro: String::new(),
                fields: vec![
                    ro(
                        "tracktik",
                        "TrackTik",
                        tt.map(|c| {
                            format!(
                                "{} · {}",
                                c.external_id,
                                c.effective_health(chrono::Utc::now()).label()
                            )
                        })
                        .unwrap_or_else(|| "Not connected".into()),
                    ),
                    ro(
                        "quickbooks",
                        "QuickBooks Online",
                        format!("Connected to {} ({})", draft.company_name, draft.country),
                    ),
                ],
            });
            c.can_submit = is_connected;
            if !is_connected {
                c.notice = Some("One side is not connected. Reconnect it from the integration page; every answer is kept.".into());
            }
        }
        Step::SetupMethod => {
            let mut saved = Values::new();
            if let Some(m) = s.setup_method {
                saved.insert(
                    "setup_method".into(),
                    match m {
                        SetupMethod::Express => "express",
                        SetupMethod::Advanced => "advanced",
                    }
                    .into(),
                );
            }
            c.intro = "You can switch later: Advanced starts from whatever Express set up.".into();
            c.sections.push(method_section(&values_or(saved), errors));
        }
        Step::Billing => {
            let sides = match open(state, current, draft).await {
                Ok(s) => s,
                Err(e) => return Ok(Content::unavailable(&e)),
            };
            let (lists, sample) = match billing_lists(state, &sides, draft).await {
                Ok(x) => x,
                Err(e) => return Ok(Content::unavailable(&e)),
            };
            let values = values_or(forms::billing_values(s));
            c.sections = forms::billing_sections(&values, errors, &lists, prefs, express);
            c.preview = sample.as_ref().and_then(|smp| forms::preview(&values, smp));
            c.preview_button = !express && sample.is_some();
            c.read_only = express;
            c.intro = if express {
                "Express setup maps every bill item to TrackTik Service Income. To choose your own products, switch to Advanced setup.".into()
            } else {
                "Every approved TrackTik invoice becomes one QuickBooks invoice with the same number, dates, customer and lines.".into()
            };
            if sample.is_none() {
                c.notice = Some("No invoice was approved in TrackTik in the last 30 days, so the preview cannot be shown yet.".into());
            }
        }
        Step::Payroll => {
            let sides = match open(state, current, draft).await {
                Ok(s) => s,
                Err(e) => return Ok(Content::unavailable(&e)),
            };
            let lists = match payroll_lists(state, &sides).await {
                Ok(x) => x,
                Err(e) => return Ok(Content::unavailable(&e)),
            };
            // Under Express the answers are shown read-only, unless the customer opened the
            // form (the Bill option, or a correction after an error).
            let editing = express && typed.is_some_and(|t| t.contains_key("posting"));
            let values = values_or(forms::payroll_values(s));
            c.sections =
                forms::payroll_sections(&values, errors, &lists, prefs, express && !editing);
            c.read_only = express && !editing;
            // Under Express the answers are Express's, so they are said in words; an open form says
            // them itself.
            c.payroll_words =
                crate::wizard::words::payroll_words(draft).filter(|_| express && !editing);
            c.intro = if editing {
                "Choose how pay runs are posted. Saving here changes the payroll answers only; the rest of Express setup stays as it is.".into()
            } else if express {
                "Express setup chose these payroll answers.".into()
            } else {
                "Each approved and locked TrackTik pay run becomes one QuickBooks transaction, its total equal to the pay run's.".into()
            };
        }
        Step::Taxes => {
            let sides = match open(state, current, draft).await {
                Ok(s) => s,
                Err(e) => return Ok(Content::unavailable(&e)),
            };
            let lists = match tax_lists(state, &sides, draft).await {
                Ok(x) => x,
                Err(e) => return Ok(Content::unavailable(&e)),
            };
            let read_only = express && draft.is_us();
            let values = values_or(forms::taxes_values(s));
            c.sections = forms::taxes_sections(&values, errors, &lists, draft.is_us(), read_only);
            c.read_only = read_only;
            if read_only {
                c.intro = "Express setup created a TrackTik product for each tax class used in this company's regions. When TrackTik gets a new tax class, or you change the regions, save the Regions step again and Express sets up what is new (nothing is duplicated); or switch to Advanced setup.".into();
            }
            if express && !draft.is_us() {
                c.intro = "Express setup chose, for each tax class of this company's regions, the tax code charging the same rate. A class left unmapped matched no code, or several: choose its code below.".into();
            }
        }
        Step::Schedule => {
            let zone = match s.schedule.time_zone.clone() {
                Some(z) => z,
                None => match open(state, current, draft).await {
                    Ok(sides) => catalog::region_time_zone(state, &sides)
                        .await
                        .ok()
                        .flatten()
                        .unwrap_or_else(|| "UTC".into()),
                    Err(_) => "UTC".into(),
                },
            };
            let mut values = values_or(forms::schedule_values(s, &zone, today_in(&zone)));
            forms::off_since_values(s, &mut values);
            c.sections = forms::schedule_sections(&values, errors);
            c.intro = "Transactions approved today appear in QuickBooks tomorrow, after the end of the trading day.".into();
        }
        Step::Review | Step::Scope => {}
    }
    Ok(c)
}
