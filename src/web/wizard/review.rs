//! The review step's page: every answer, what Express did, the checks with links to the
//! fields that fix them, the change history, and Save + Continue (activation).

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::steps::open;
use super::{Frame, frame, today_for};
use crate::audit::{self, Actor};
use crate::error::AppResult;
use crate::integrations::IntegrationState;
use crate::mapping::scope::overlap;
use crate::state::AppState;
use crate::tenants::Right;
use crate::web::extract::CurrentUser;
use crate::web::pages::Chrome;
use crate::wizard::answers::{self, Names};
use crate::wizard::catalog::{self, CatalogError, Sides};
use crate::wizard::express::ExpressRecord;
use crate::wizard::words::{self, PayrollWords};
use crate::wizard::{Draft, Step, db};
use crate::wizard::{regions, review};

/// One group of answers on the review page.
pub struct GroupView {
    pub(crate) label: &'static str,
    pub(crate) href: String,
    pub(crate) answers: Vec<answers::Answer>,
}

/// One problem on the review page.
pub struct ProblemView {
    pub(crate) step_label: &'static str,
    pub(crate) href: String,
    pub(crate) message: String,
}

/// One recorded save.
pub struct ChangeView {
    pub(crate) when: String,
    pub(crate) who: String,
    pub(crate) step_label: &'static str,
    pub(crate) fields: String,
    pub(crate) before: String,
    pub(crate) after: String,
}

/// The review page.
#[derive(Template, WebTemplate)]
#[template(path = "wizard/review.html")]
pub struct ReviewPage {
    chrome: Chrome,
    frame: Frame,
    groups: Vec<GroupView>,
    problems: Vec<ProblemView>,
    checked: bool,
    notice: Option<String>,
    express: Option<ExpressRecord>,
    changes: Vec<ChangeView>,
    recent_invoices: usize,
    payroll_words: Option<PayrollWords>,
}

/// The history of saves, times in the reader's `zone`.
pub async fn change_views(
    state: &AppState,
    draft: &Draft,
    zone: crate::web::time::Zone,
) -> AppResult<Vec<ChangeView>> {
    change_views_named(state, draft, &Names::default(), zone).await
}

/// The history of saves in the review page's words, TrackTik records named from `names`,
/// times in the reader's `zone`.
pub async fn change_views_named(
    state: &AppState,
    draft: &Draft,
    names: &Names,
    zone: crate::web::time::Zone,
) -> AppResult<Vec<ChangeView>> {
    Ok(
        db::list_changes(&state.db, draft.tenant_id, draft.integration_id, 30)
            .await?
            .into_iter()
            .map(|c| {
                let changed =
                    answers::changed_answers(&c.before.0, &c.after.0, names, draft.is_us());
                let lines = |pick: fn(&answers::ChangedAnswer) -> &String| {
                    changed
                        .iter()
                        .map(|a| format!("{}: {}", a.label, pick(a)))
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                ChangeView {
                    when: zone.short(c.changed_at),
                    who: c.actor_label.clone(),
                    step_label: Step::from_key(&c.step).label(),
                    fields: if changed.is_empty() {
                        "Saved again; no answer changed".to_owned()
                    } else {
                        changed
                            .iter()
                            .map(|a| a.label.clone())
                            .collect::<Vec<_>>()
                            .join("; ")
                    },
                    before: lines(|a| &a.before),
                    after: lines(|a| &a.after),
                }
            })
            .collect(),
    )
}

/// The answers grouped by step, with links to each step.
pub fn group_views(draft: &Draft, names: &Names, link_base: Option<&str>) -> Vec<GroupView> {
    answers::answers(&draft.settings.0, names, draft.is_us())
        .into_iter()
        .map(|g| GroupView {
            label: g.step.label(),
            href: link_base
                .map(|b| format!("{b}/{}", g.step.slug()))
                .unwrap_or_default(),
            answers: g.answers,
        })
        .collect()
}

/// TrackTik's names for the ids in the answers.
pub async fn names(state: &AppState, sides: &Sides) -> Names {
    let map = |v: Result<Vec<catalog::Source>, CatalogError>| {
        v.map(|v| v.into_iter().map(|s| (s.key, s.name)).collect())
            .unwrap_or_default()
    };
    let regions = state
        .providers
        .tracktik
        .regions(&sides.portal, &sides.tracktik)
        .await
        .map(|v| {
            v.into_iter()
                .map(|r| {
                    let name = r.name.unwrap_or_else(|| format!("Region {}", r.id));
                    (r.id.to_string(), name)
                })
                .collect()
        })
        .unwrap_or_default();
    Names {
        bill_items: map(catalog::bill_items(state, sides).await),
        tax_classes: map(catalog::tax_classes(state, sides).await),
        clients: map(catalog::clients(state, sides).await),
        regions,
    }
}

pub(super) async fn render_review(
    state: &AppState,
    session: &Session,
    current: &CurrentUser,
    draft: &Draft,
    status: StatusCode,
    notice: Option<String>,
) -> AppResult<Response> {
    let today = today_for(draft);
    let base = format!("/integrations/{}/setup", draft.integration_id);
    let (checked, names, notice) = match open(state, current, draft).await {
        Ok(sides) => match review::check(state, draft, &sides, today).await {
            Ok(c) => (Some(c), names(state, &sides).await, notice),
            Err(e) => (None, Names::default(), Some(e.advice())),
        },
        Err(e) => (None, Names::default(), Some(e.advice())),
    };
    let (mut problems, recent_invoices, was_checked) = match checked {
        Some(c) => (c.problems, c.recent_invoices, true),
        None => (review::local_problems(draft, today), 0, false),
    };
    if was_checked {
        problems.extend(super::trial::problems(state, draft).await);
        let blockers: Vec<crate::console::drafts::Blocker> = problems
            .iter()
            .map(|p| crate::console::drafts::Blocker {
                step: p.step.label().to_owned(),
                message: p.message.clone(),
            })
            .collect();
        crate::console::drafts::save_check(
            &state.db,
            draft.tenant_id,
            draft.integration_id,
            &blockers,
        )
        .await?;
    }
    let chrome = Chrome::customer(session, current).await?;
    let zone = chrome.zone;
    let page = ReviewPage {
        chrome,
        frame: frame(draft, Step::Review, true),
        groups: group_views(draft, &names, Some(&base)),
        problems: problems
            .into_iter()
            .map(|p| ProblemView {
                step_label: p.step.label(),
                href: format!("{base}/{}#{}", p.step.slug(), p.field),
                message: p.message,
            })
            .collect(),
        checked: was_checked,
        notice,
        express: if draft.is_express() {
            draft.express_outcome.as_ref().map(|r| r.0.clone())
        } else {
            None
        },
        changes: change_views_named(state, draft, &names, zone).await?,
        recent_invoices,
        payroll_words: words::payroll_words(draft),
    };
    Ok((status, page).into_response())
}

/// Save + Continue on the review step: activates when every check passes.
pub(super) async fn activate(
    state: &AppState,
    session: &Session,
    current: &CurrentUser,
    addr: &str,
    draft: &Draft,
) -> AppResult<Response> {
    let tenant_id = current.tenant.tenant_id;
    if !current.user.may(Right::Activate) {
        let why = crate::web::extract::refusal(current.user.role, Right::Activate);
        return render_review(
            state,
            session,
            current,
            draft,
            StatusCode::FORBIDDEN,
            Some(why.to_owned()),
        )
        .await;
    }
    let today = today_for(draft);
    let sides = match open(state, current, draft).await {
        Ok(s) => s,
        Err(e) => {
            return render_review(
                state,
                session,
                current,
                draft,
                StatusCode::BAD_GATEWAY,
                Some(e.advice()),
            )
            .await;
        }
    };
    let checked = match review::check(state, draft, &sides, today).await {
        Ok(c) => c,
        Err(e) => {
            return render_review(
                state,
                session,
                current,
                draft,
                StatusCode::BAD_GATEWAY,
                Some(e.advice()),
            )
            .await;
        }
    };
    if !checked.problems.is_empty() || !super::trial::problems(state, draft).await.is_empty() {
        return render_review(state, session, current, draft, StatusCode::UNPROCESSABLE_ENTITY,
            Some("Fix the problems below, then choose Save + Continue again. Everything you entered is saved.".into())).await;
    }
    let was = draft.state;
    let facts = &checked.facts;
    let scope = &draft.settings.scope;
    let refused = db::activate_checked(&state.db, tenant_id, draft.integration_id, |others| {
        others.iter().filter(|o| o.is_set_up()).find_map(|o| {
            overlap(scope, &o.settings.scope, &facts.tree, &facts.places)
                .map(|ov| regions::overlap_message(facts, &ov, &o.company_name))
        })
    })
    .await?;
    if let Err(why) = refused {
        return render_review(
            state,
            session,
            current,
            draft,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(why),
        )
        .await;
    }
    audit::record(
        &state.db,
        Actor::User(
            current.user.tenant_user_id,
            current.user.display_name.clone(),
        ),
        if was == IntegrationState::Draft {
            "integration.activated"
        } else {
            "integration.settings_confirmed"
        },
        Some(tenant_id),
        serde_json::json!({ "integration": draft.integration_id, "company": draft.company_name }),
        Some(addr),
    )
    .await?;
    let words = confirmation(draft, was == IntegrationState::Draft, chrono::Utc::now());
    crate::web::dashboard::flash(session, true, words).await?;
    Ok(Redirect::to(&format!("/integrations/{}", draft.integration_id)).into_response())
}

/// What the dashboard says right after Save + Continue: what happens tonight, when the first
/// documents appear, and where to watch.
fn confirmation(draft: &Draft, activated: bool, now: chrono::DateTime<chrono::Utc>) -> String {
    let Ok(schedule) = crate::sync::schedule_of(&draft.settings) else {
        return format!("{} is saved.", draft.company_name);
    };
    let (day, at) = schedule.next_run(now);
    let at = at.with_timezone(&schedule.zone);
    let when = format!(
        "{} {} on {}",
        at.format("%H:%M"),
        schedule.zone.name(),
        at.format("%A %-d %B")
    );
    if !activated {
        return format!(
            "Your changes to {} are saved. They apply from the next sync, at {when}.",
            draft.company_name
        );
    }
    let first = draft
        .settings
        .schedule
        .back_sync_from
        .unwrap_or(schedule.start_date)
        .min(schedule.start_date);
    format!(
        "{company} is active. The first sync runs at {when}, once TrackTik's {day} is over: it \
         posts every invoice approved and every pay run approved and locked from {first} on. \
         They appear in QuickBooks within minutes, and on this page night by night, with any \
         document QuickBooks refused and what to do about it. To post what is approved so far \
         right away, press Sync now.",
        company = draft.company_name,
        day = day.format("%a %-d %b"),
        first = first.format("%a %-d %b %Y"),
    )
}
