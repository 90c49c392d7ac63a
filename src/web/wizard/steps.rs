//! GET and POST of each wizard step, and `GET …/setup` (resume).

use askama::Template;
use askama_web::WebTemplate;
use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::content::{Content, billing_lists, content, payroll_lists, tax_lists};
use super::{Frame, frame, today_in};
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::ids::IntegrationId;
use crate::integrations::IntegrationState;
use crate::integrations::settings::SetupMethod;
use crate::state::AppState;
use crate::web::db_conn::Db;
use crate::web::extract::{ClientAddr, CurrentUser, Form, PathParam};
use crate::web::pages::Chrome;
use crate::wizard::catalog::{self, CatalogError, Sides};
use crate::wizard::express;
use crate::wizard::forms::{self, Errors, Preview, Section};
use crate::wizard::{Draft, Editor, Step, db, regions};

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
    payroll_words: Option<crate::wizard::words::PayrollWords>,
}

/// The draft, and whether both sides are connected and working (one statement).
pub(super) async fn load(
    db: impl sqlx::PgExecutor<'_>,
    current: &CurrentUser,
    id: IntegrationId,
) -> AppResult<(Draft, bool)> {
    db::get_connected(db, current.tenant.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub(super) fn step_href(draft: &Draft, step: Step) -> String {
    format!(
        "/integrations/{}/setup/{}",
        draft.integration_id,
        step.slug()
    )
}

pub(super) fn editor(current: &CurrentUser) -> Editor {
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
    let (draft, is_connected) = load(&state.db, &current, id).await?;
    let step = if !is_connected {
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
fn guard(draft: &Draft, step: Step, is_connected: bool) -> Option<Redirect> {
    if step != Step::Connect && !is_connected {
        return Some(Redirect::to(&step_href(draft, Step::Connect)));
    }
    if step > draft.reached().max(Step::SetupMethod) {
        return Some(Redirect::to(&step_href(draft, draft.resume_step())));
    }
    None
}

/// `GET /integrations/{id}/setup/{step}`. `?posting=bill` opens the payroll step with Bill
/// chosen (also under Express): the Bill option one click away.
pub async fn step_form(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    mut db: Db,
    PathParam((id, slug)): PathParam<(IntegrationId, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> AppResult<Response> {
    let (draft, is_connected) = load(&mut *db, &current, id).await?;
    // Back to the pool before anything slow (some steps ask TrackTik or QuickBooks).
    drop(db);
    let step = Step::from_slug(&slug).ok_or(AppError::NotFound)?;
    if let Some(r) = guard(&draft, step, is_connected) {
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
    if step == Step::Scope {
        return super::regions::show(&state, &session, &current, &draft).await;
    }
    let typed = (step == Step::Payroll && query.get("posting").map(String::as_str) == Some("bill"))
        .then(|| {
            let mut v = crate::wizard::forms::payroll_values(&draft.settings);
            v.insert("posting".into(), "bill".into());
            v
        });
    let content = content(
        &state,
        &current,
        &draft,
        step,
        typed.as_ref(),
        &Errors::new(),
        is_connected,
    )
    .await?;
    render(
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
        chrome: Chrome::customer(session, current).await?,
        frame: frame(draft, step, is_connected),
        intro: content.intro,
        notice: content.notice,
        sections: content.sections,
        preview: content.preview,
        preview_button: content.preview_button,
        error_summary,
        can_submit: content.can_submit,
        read_only: content.read_only,
        payroll_words: content.payroll_words,
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
    let (draft, is_connected) = load(&state.db, &current, id).await?;
    let step = Step::from_slug(&slug).ok_or(AppError::NotFound)?;
    if let Some(r) = guard(&draft, step, is_connected) {
        return Ok(r.into_response());
    }
    let tenant_id = current.tenant.tenant_id;
    let preview_only = pairs.iter().any(|(k, v)| k == "action" && v == "preview");
    let mut values = forms::values_from_pairs(pairs);
    let next = step.next();
    let mut settings = draft.settings.0.clone();
    let express = draft.is_express();

    // A side that cannot be reached re-renders the step saying so (502), whatever the step.
    macro_rules! unavailable {
        ($e:expr) => {
            return render(
                &session,
                &current,
                &draft,
                step,
                Content::unavailable(&$e),
                &Errors::new(),
                StatusCode::BAD_GATEWAY,
                is_connected,
            )
            .await
        };
    }

    let result: Result<(), Errors> = match step {
        Step::Review => {
            return super::review::activate(&state, &session, &current, &addr, &draft).await;
        }
        Step::Scope => {
            let pairs = values.into_iter().collect();
            return super::regions::save(&state, &session, &current, &addr, &draft, pairs).await;
        }
        Step::Connect => {
            if !is_connected {
                let c =
                    content(&state, &current, &draft, step, None, &Errors::new(), false).await?;
                return render(
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
        Step::Billing if express => {
            db::set_step(&state.db, tenant_id, id, next).await?;
            return Ok(Redirect::to(&step_href(&draft, next)).into_response());
        }
        // Under Express the payroll step is read-only unless the customer opened its form
        // (the Bill option): then its answers are checked and saved like Advanced ones.
        Step::Payroll if express && !values.contains_key("posting") => {
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
                        Ok(sides) => match regions::read(&state, &sides).await {
                            Ok(facts) => {
                                let siblings = db::siblings(&state.db, tenant_id, id).await?;
                                // Express works on the regions chosen, or on its proposal
                                // (the regions whose currency the company holds).
                                let scope = facts.effective(&draft, &siblings);
                                let mut with = draft.clone();
                                with.settings.0 = settings.clone();
                                express::apply(&state, &with, &sides, &facts, &scope)
                                    .await
                                    .map_err(|e| e.advice())
                            }
                            Err(e) => Err(e.advice()),
                        },
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
                    unavailable!(e)
                }
            };
            let (lists, sample) = match billing_lists(&state, &sides, &draft).await {
                Ok(x) => x,
                Err(e) => {
                    unavailable!(e)
                }
            };
            // "Create a new product" choices become real QuickBooks products first.
            let mut lists = lists;
            let creation_errors = if preview_only {
                Errors::new()
            } else {
                crate::wizard::products::create_requested(&state, &sides, &mut lists, &mut values)
                    .await
            };
            let parsed = match forms::parse_billing(&values, &lists, sample.as_ref(), &mut settings)
            {
                Ok(()) if creation_errors.is_empty() => Ok(()),
                Ok(()) => Err(creation_errors),
                Err(mut errors) => {
                    errors.extend(creation_errors);
                    Err(errors)
                }
            };
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
                    unavailable!(e)
                }
            },
            Err(e) => {
                unavailable!(e)
            }
        },
        Step::Taxes => match open(&state, &current, &draft).await {
            Ok(sides) => match tax_lists(&state, &sides, &draft).await {
                Ok(lists) => forms::parse_taxes(&values, &lists, draft.is_us(), &mut settings),
                Err(e) => {
                    unavailable!(e)
                }
            },
            Err(e) => {
                unavailable!(e)
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
