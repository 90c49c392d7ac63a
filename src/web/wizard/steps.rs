//! GET and POST of each wizard step, and `GET …/setup` (resume).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::{Frame, connected, frame, today_in};
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::ids::IntegrationId;
use crate::integrations::IntegrationState;
use crate::integrations::settings::SetupMethod;
use crate::state::AppState;
use crate::web::extract::{ClientAddr, CurrentUser, Form, PathParam};
use crate::web::pages::Chrome;
use crate::wizard::catalog::{self, CatalogError, Sides};
use crate::wizard::express;
use crate::wizard::forms::{self, Errors, FieldView, Preview, Section, Values};
use crate::wizard::{Draft, Editor, Step, db};

/// A step's form page.
#[derive(Template, WebTemplate)]
#[template(path = "wizard/step.html")]
pub struct StepPage {
    chrome: Chrome,
    frame: Frame,
    intro: String,
    notice: Option<String>,
    sections: Vec<Section>,
    preview: Option<Preview>,
    preview_button: bool,
    error_summary: Vec<(String, String)>,
    can_submit: bool,
    read_only: bool,
}

/// What a step shows besides the frame.
struct Content {
    intro: String,
    notice: Option<String>,
    sections: Vec<Section>,
    preview: Option<Preview>,
    preview_button: bool,
    can_submit: bool,
    read_only: bool,
}

impl Content {
    fn unavailable(e: &CatalogError) -> Self {
        tracing::warn!(error = %e, "the wizard could not read the lists");
        Self {
            intro: String::new(),
            notice: Some(e.advice()),
            sections: Vec::new(),
            preview: None,
            preview_button: false,
            can_submit: false,
            read_only: true,
        }
    }
}

pub(super) async fn load(
    state: &AppState,
    current: &CurrentUser,
    id: IntegrationId,
) -> AppResult<Draft> {
    db::get(&state.db, current.tenant.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

fn step_href(draft: &Draft, step: Step) -> String {
    format!(
        "/integrations/{}/setup/{}",
        draft.integration_id,
        step.slug()
    )
}

fn editor(current: &CurrentUser) -> Editor {
    Editor {
        kind: "user",
        label: current.user.display_name.clone(),
    }
}

/// `GET /integrations/{id}/setup`: resumes where the customer left off.
pub async fn resume(
    State(state): State<AppState>,
    current: CurrentUser,
    PathParam(id): PathParam<IntegrationId>,
) -> AppResult<Redirect> {
    let draft = load(&state, &current, id).await?;
    let step = if !connected(&state, current.tenant.tenant_id, &draft).await? {
        Step::Connect
    } else if draft.state != IntegrationState::Draft {
        Step::Review
    } else {
        draft.resume_step()
    };
    Ok(Redirect::to(&step_href(&draft, step)))
}

/// Where a request for `step` has to go instead, if anywhere: before both sides are
/// connected only Connect opens; steps not reached yet send the customer to where they are.
async fn guard(
    state: &AppState,
    current: &CurrentUser,
    draft: &Draft,
    step: Step,
) -> AppResult<(bool, Option<Redirect>)> {
    let is_connected = connected(state, current.tenant.tenant_id, draft).await?;
    if step != Step::Connect && !is_connected {
        return Ok((false, Some(Redirect::to(&step_href(draft, Step::Connect)))));
    }
    if step > draft.reached().max(Step::SetupMethod) {
        return Ok((
            is_connected,
            Some(Redirect::to(&step_href(draft, draft.resume_step()))),
        ));
    }
    Ok((is_connected, None))
}

/// `GET /integrations/{id}/setup/{step}`.
pub async fn step_form(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    PathParam((id, slug)): PathParam<(IntegrationId, String)>,
) -> AppResult<Response> {
    let draft = load(&state, &current, id).await?;
    let step = Step::from_slug(&slug).ok_or(AppError::NotFound)?;
    let (is_connected, redirect) = guard(&state, &current, &draft, step).await?;
    if let Some(r) = redirect {
        return Ok(r.into_response());
    }
    if step == Step::Review {
        return super::review::render_review(
            &state,
            &session,
            &current,
            &draft,
            StatusCode::OK,
            None,
        )
        .await;
    }
    let content = content(
        &state,
        &current,
        &draft,
        step,
        None,
        &Errors::new(),
        is_connected,
    )
    .await?;
    render(
        &state,
        &session,
        &current,
        &draft,
        step,
        content,
        &Errors::new(),
        StatusCode::OK,
        is_connected,
    )
    .await
}

#[expect(
    clippy::too_many_arguments,
    reason = "a page is built from all of these"
)]
async fn render(
    state: &AppState,
    session: &Session,
    current: &CurrentUser,
    draft: &Draft,
    step: Step,
    content: Content,
    errors: &Errors,
    status: StatusCode,
    is_connected: bool,
) -> AppResult<Response> {
    let labels: std::collections::BTreeMap<&str, &str> = content
        .sections
        .iter()
        .flat_map(|s| s.fields.iter())
        .map(|f| (f.name.as_str(), f.label.as_str()))
        .collect();
    let error_summary = errors
        .iter()
        .map(|(field, msg)| {
            let label = labels.get(field.as_str()).copied().unwrap_or("");
            (
                field.clone(),
                if label.is_empty() {
                    msg.clone()
                } else {
                    format!("{label}: {msg}")
                },
            )
        })
        .collect();
    let page = StepPage {
        chrome: Chrome::customer(state, session, current).await?,
        frame: frame(draft, step, is_connected),
        intro: content.intro,
        notice: content.notice,
        sections: content.sections,
        preview: content.preview,
        preview_button: content.preview_button,
        error_summary,
        can_submit: content.can_submit,
        read_only: content.read_only,
    };
    Ok((status, page).into_response())
}

pub(super) async fn open(
    state: &AppState,
    current: &CurrentUser,
    draft: &Draft,
) -> Result<Sides, CatalogError> {
    catalog::open(state, current.tenant.tenant_id, draft).await
}

async fn billing_lists(
    state: &AppState,
    sides: &Sides,
) -> Result<(forms::BillingLists, Option<catalog::SampleInvoice>), CatalogError> {
    let lists = forms::BillingLists {
        items: catalog::items(state, sides).await?,
        customers: catalog::customers(state, sides).await?,
        bill_items: catalog::bill_items(state, sides).await?,
        clients: catalog::clients(state, sides).await?,
    };
    let sample = catalog::sample_invoice(state, sides).await?;
    Ok((lists, sample))
}

async fn payroll_lists(
    state: &AppState,
    sides: &Sides,
) -> Result<forms::PayrollLists, CatalogError> {
    Ok(forms::PayrollLists {
        accounts: catalog::accounts(state, sides).await?,
        vendors: catalog::vendors(state, sides).await?,
        pay_codes: catalog::pay_codes(state, sides).await?,
    })
}

async fn tax_lists(
    state: &AppState,
    sides: &Sides,
    us: bool,
) -> Result<forms::TaxLists, CatalogError> {
    Ok(forms::TaxLists {
        targets: if us {
            catalog::items(state, sides).await?
        } else {
            catalog::tax_codes(state, sides).await?
        },
        classes: catalog::tax_classes(state, sides).await?,
    })
}

fn method_section(values: &Values, errors: &Errors) -> Section {
    let mut f = FieldView {
        name: "setup_method".into(),
        label: "Setup method".into(),
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
        title: "Setup method".into(),
        intro: String::new(),
        fields: vec![f],
    }
}

async fn content(
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
            let (lists, sample) = match billing_lists(state, &sides).await {
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
            let values = values_or(forms::payroll_values(s));
            c.sections = forms::payroll_sections(&values, errors, &lists, prefs, express);
            c.read_only = express;
            c.intro = if express {
                "Express setup posts each approved and locked pay run as a credit-card expense: TrackTik Direct Wages against TrackTik Direct Wages Liability, one line per pay code.".into()
            } else {
                "Each approved and locked TrackTik pay run becomes one QuickBooks transaction, its total equal to the pay run's.".into()
            };
        }
        Step::Taxes => {
            let sides = match open(state, current, draft).await {
                Ok(s) => s,
                Err(e) => return Ok(Content::unavailable(&e)),
            };
            let lists = match tax_lists(state, &sides, draft.is_us()).await {
                Ok(x) => x,
                Err(e) => return Ok(Content::unavailable(&e)),
            };
            let read_only = express && draft.is_us();
            let values = values_or(forms::taxes_values(s));
            c.sections = forms::taxes_sections(&values, errors, &lists, draft.is_us(), read_only);
            c.read_only = read_only;
            if express && !draft.is_us() {
                c.intro = "Express setup chose the tax codes whose names match your tax classes. Choose a tax code for any class left unmapped.".into();
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
            let values = values_or(forms::schedule_values(s, &zone, today_in(&zone)));
            c.sections = forms::schedule_sections(&values, errors);
            c.intro = "Transactions approved today appear in QuickBooks tomorrow, after the end of the trading day.".into();
        }
        Step::Review => {}
    }
    Ok(c)
}

/// `POST /integrations/{id}/setup/{step}`: validates, saves, and goes on (or shows what to fix,
/// with what was typed).
pub async fn save_step(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam((id, slug)): PathParam<(IntegrationId, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let draft = load(&state, &current, id).await?;
    let step = Step::from_slug(&slug).ok_or(AppError::NotFound)?;
    let (is_connected, redirect) = guard(&state, &current, &draft, step).await?;
    if let Some(r) = redirect {
        return Ok(r.into_response());
    }
    let tenant_id = current.tenant.tenant_id;
    let preview_only = pairs.iter().any(|(k, v)| k == "action" && v == "preview");
    let values = forms::values_from_pairs(pairs);
    let next = step.next();
    let mut settings = draft.settings.0.clone();
    let express = draft.is_express();

    let result: Result<(), Errors> = match step {
        Step::Review => {
            return super::review::activate(&state, &session, &current, &addr, &draft).await;
        }
        Step::Connect => {
            if !is_connected {
                let c =
                    content(&state, &current, &draft, step, None, &Errors::new(), false).await?;
                return render(
                    &state,
                    &session,
                    &current,
                    &draft,
                    step,
                    c,
                    &Errors::new(),
                    StatusCode::UNPROCESSABLE_ENTITY,
                    false,
                )
                .await;
            }
            db::set_step(&state.db, tenant_id, id, next).await?;
            return Ok(Redirect::to(&step_href(&draft, next)).into_response());
        }
        Step::Billing | Step::Payroll if express => {
            db::set_step(&state.db, tenant_id, id, next).await?;
            return Ok(Redirect::to(&step_href(&draft, next)).into_response());
        }
        Step::Taxes if express && draft.is_us() => {
            db::set_step(&state.db, tenant_id, id, next).await?;
            return Ok(Redirect::to(&step_href(&draft, next)).into_response());
        }
        Step::SetupMethod => {
            let first_time = settings.setup_method.is_none();
            if first_time {
                // Both syncs start on; the schedule step can turn either off.
                settings.payroll.enabled = true;
                settings.billing.enabled = true;
            }
            match values.get("setup_method").map(String::as_str) {
                Some("advanced") => {
                    settings.setup_method = Some(SetupMethod::Advanced);
                    Ok(())
                }
                Some("express") => {
                    let ran = match open(&state, &current, &draft).await {
                        Ok(sides) => {
                            let mut with = draft.clone();
                            with.settings.0 = settings.clone();
                            express::apply(&state, &with, &sides)
                                .await
                                .map_err(|e| e.advice())
                        }
                        Err(e) => Err(e.advice()),
                    };
                    match ran {
                        Ok((filled, record)) => {
                            settings = filled;
                            db::set_express_outcome(&state.db, tenant_id, id, Some(&record))
                                .await?;
                            audit::record(&state.db, Actor::User(current.user.tenant_user_id, current.user.display_name.clone()),
                                "integration.express_setup", Some(tenant_id),
                                serde_json::json!({ "integration": id, "created": record.created(), "reused": record.reused() }), Some(&addr)).await?;
                            Ok(())
                        }
                        Err(msg) => Err(Errors::from([(
                            "setup_method".to_owned(),
                            format!("Express setup could not finish. {msg}"),
                        )])),
                    }
                }
                _ => Err(Errors::from([(
                    "setup_method".to_owned(),
                    "Choose Express or Advanced setup.".to_owned(),
                )])),
            }
        }
        Step::Billing => {
            let sides = match open(&state, &current, &draft).await {
                Ok(s) => s,
                Err(e) => {
                    return render(
                        &state,
                        &session,
                        &current,
                        &draft,
                        step,
                        Content::unavailable(&e),
                        &Errors::new(),
                        StatusCode::BAD_GATEWAY,
                        is_connected,
                    )
                    .await;
                }
            };
            let (lists, sample) = match billing_lists(&state, &sides).await {
                Ok(x) => x,
                Err(e) => {
                    return render(
                        &state,
                        &session,
                        &current,
                        &draft,
                        step,
                        Content::unavailable(&e),
                        &Errors::new(),
                        StatusCode::BAD_GATEWAY,
                        is_connected,
                    )
                    .await;
                }
            };
            let parsed = forms::parse_billing(&values, &lists, sample.as_ref(), &mut settings);
            if preview_only {
                // "Preview" shows the typed templates without saving them.
                let errors = parsed.err().unwrap_or_default();
                let c = content(
                    &state,
                    &current,
                    &draft,
                    step,
                    Some(&values),
                    &errors,
                    is_connected,
                )
                .await?;
                return render(
                    &state,
                    &session,
                    &current,
                    &draft,
                    step,
                    c,
                    &errors,
                    StatusCode::OK,
                    is_connected,
                )
                .await;
            }
            parsed
        }
        Step::Payroll => match open(&state, &current, &draft).await {
            Ok(sides) => match payroll_lists(&state, &sides).await {
                Ok(lists) => forms::parse_payroll(&values, &lists, &mut settings),
                Err(e) => {
                    return render(
                        &state,
                        &session,
                        &current,
                        &draft,
                        step,
                        Content::unavailable(&e),
                        &Errors::new(),
                        StatusCode::BAD_GATEWAY,
                        is_connected,
                    )
                    .await;
                }
            },
            Err(e) => {
                return render(
                    &state,
                    &session,
                    &current,
                    &draft,
                    step,
                    Content::unavailable(&e),
                    &Errors::new(),
                    StatusCode::BAD_GATEWAY,
                    is_connected,
                )
                .await;
            }
        },
        Step::Taxes => match open(&state, &current, &draft).await {
            Ok(sides) => match tax_lists(&state, &sides, draft.is_us()).await {
                Ok(lists) => forms::parse_taxes(&values, &lists, draft.is_us(), &mut settings),
                Err(e) => {
                    return render(
                        &state,
                        &session,
                        &current,
                        &draft,
                        step,
                        Content::unavailable(&e),
                        &Errors::new(),
                        StatusCode::BAD_GATEWAY,
                        is_connected,
                    )
                    .await;
                }
            },
            Err(e) => {
                return render(
                    &state,
                    &session,
                    &current,
                    &draft,
                    step,
                    Content::unavailable(&e),
                    &Errors::new(),
                    StatusCode::BAD_GATEWAY,
                    is_connected,
                )
                .await;
            }
        },
        Step::Schedule => forms::parse_schedule(&values, today_in, &mut settings),
    };
    match result {
        Ok(()) => {
            db::save_step(
                &state.db,
                tenant_id,
                id,
                step,
                next,
                &settings,
                &editor(&current),
            )
            .await?;
            Ok(Redirect::to(&step_href(&draft, next)).into_response())
        }
        Err(errors) => {
            let c = content(
                &state,
                &current,
                &draft,
                step,
                Some(&values),
                &errors,
                is_connected,
            )
            .await?;
            render(
                &state,
                &session,
                &current,
                &draft,
                step,
                c,
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                is_connected,
            )
            .await
        }
    }
}
