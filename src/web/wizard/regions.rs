//! The Regions step: "Which TrackTik regions go into this company?" TrackTik's region tree
//! with each region's billing currency and the documents of the last 90 days, the clients
//! and pay runs without a region, and the choice saved into the integration's scope.

use std::collections::BTreeSet;

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use super::steps::{editor, open, step_href};
use super::{Frame, frame};
use crate::audit::{self, Actor};
use crate::error::AppResult;
use crate::integrations::settings::{RegionChoice, ScopeSettings};
use crate::state::AppState;
use crate::web::extract::CurrentUser;
use crate::web::pages::Chrome;
use crate::wizard::forms::{Errors, Values, values_from_pairs};
use crate::wizard::regions::{self, RegionFacts};
use crate::wizard::{Draft, Step, db, express};

/// One region of the tree.
pub struct RegionRow {
    id: i64,
    name: String,
    depth: usize,
    currency: String,
    invoices: usize,
    payruns: usize,
    checked: bool,
    notes: Vec<String>,
    warnings: Vec<String>,
}

/// A client without a region.
pub struct ClientRow {
    id: i64,
    name: String,
    invoices: usize,
    checked: bool,
}

/// The Regions step page.
#[derive(Template, WebTemplate)]
#[template(path = "wizard/regions.html")]
pub struct RegionsPage {
    chrome: Chrome,
    frame: Frame,
    notice: Option<String>,
    error_summary: Vec<(String, String)>,
    every: bool,
    rows: Vec<RegionRow>,
    clients: Vec<ClientRow>,
    payruns_without_region: usize,
    payruns_checked: bool,
    proposal: Option<String>,
    days: i64,
}

/// What the form holds: from saved answers, or as posted.
struct Choice {
    every: bool,
    regions: BTreeSet<i64>,
    clients: BTreeSet<i64>,
    payruns: bool,
}

impl Choice {
    fn from_scope(s: &ScopeSettings) -> Self {
        match &s.regions {
            RegionChoice::Every => Self {
                every: true,
                regions: BTreeSet::new(),
                clients: s.without_region.clone(),
                payruns: s.payruns_without_region,
            },
            RegionChoice::Only { regions } => Self {
                every: false,
                regions: regions.clone(),
                clients: s.without_region.clone(),
                payruns: s.payruns_without_region,
            },
        }
    }

    fn from_values(v: &Values) -> Self {
        let ids = |prefix: &str| -> BTreeSet<i64> {
            v.keys()
                .filter_map(|k| k.strip_prefix(prefix)?.parse().ok())
                .collect()
        };
        Self {
            every: v.get("regions").map(String::as_str) == Some("every"),
            regions: ids("region_"),
            clients: ids("client_"),
            payruns: v.contains_key("payruns_without_region"),
        }
    }

    fn scope(&self) -> ScopeSettings {
        ScopeSettings {
            regions: if self.every {
                RegionChoice::Every
            } else {
                RegionChoice::Only {
                    regions: self.regions.clone(),
                }
            },
            chosen: true,
            without_region: if self.every {
                BTreeSet::new()
            } else {
                self.clients.clone()
            },
            payruns_without_region: !self.every && self.payruns,
        }
    }
}

fn describe(facts: &RegionFacts, s: &ScopeSettings) -> String {
    match &s.regions {
        RegionChoice::Every => "every region".into(),
        RegionChoice::Only { regions } if regions.is_empty() => "no region".into(),
        RegionChoice::Only { regions } => {
            let names: Vec<String> = regions.iter().map(|r| facts.name(*r)).collect();
            regions::join(&names)
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the page is built from all of these"
)]
async fn page(
    state: &AppState,
    session: &Session,
    current: &CurrentUser,
    draft: &Draft,
    facts: &RegionFacts,
    choice: &Choice,
    errors: &Errors,
    status: StatusCode,
) -> AppResult<Response> {
    let siblings = db::siblings(&state.db, draft.tenant_id, draft.integration_id).await?;
    let claimed = facts.claimed(&siblings);
    let invoices = facts.invoices_per_region();
    let payruns = facts.payruns_per_region();
    let books = regions::books(draft);
    let rows = facts
        .tree
        .in_order()
        .into_iter()
        .map(|id| {
            let currency = facts.currency(id).map(str::to_owned);
            let mut notes = Vec::new();
            let mut warnings = Vec::new();
            if let Some(company) = claimed.get(&id) {
                warnings.push(format!("Already goes into {company}."));
            }
            if !books.takes(currency.as_deref()) {
                warnings.push(format!(
                    "{} keeps its books in {} without multicurrency: invoices in {} would fail.",
                    draft.company_name,
                    draft.home_currency,
                    currency.clone().unwrap_or_default()
                ));
            }
            if let Some(p) = facts.tree.parent(id) {
                notes.push(format!(
                    "Sub-region of {}: comes with it when it is checked",
                    facts.name(p)
                ));
            }
            RegionRow {
                id,
                name: facts.name(id),
                depth: facts.tree.depth(id),
                currency: currency.unwrap_or_else(|| "a currency TrackTik does not say".into()),
                invoices: invoices.get(&Some(id)).copied().unwrap_or(0),
                payruns: payruns.get(&Some(id)).copied().unwrap_or(0),
                checked: choice.regions.contains(&id),
                notes,
                warnings,
            }
        })
        .collect();
    let without = facts.invoices_without_region();
    let clients = facts
        .clients_without_region()
        .into_iter()
        .map(|c| ClientRow {
            id: c.id,
            name: c.name.clone(),
            invoices: without.get(&c.id).copied().unwrap_or(0),
            checked: choice.clients.contains(&c.id),
        })
        .collect();
    let proposal = draft.proposes_scope().then(|| {
        let proposed = facts.propose(draft, &siblings);
        format!(
            "Proposed: {}, the regions whose billing currency {} can hold{}. Check or uncheck regions, then choose Save + Continue.",
            describe(facts, &proposed),
            draft.company_name,
            if claimed.is_empty() { "" } else { " and no other company takes" }
        )
    });
    let page = RegionsPage {
        chrome: Chrome::customer(session, current).await?,
        frame: frame(draft, Step::Scope, true),
        notice: None,
        // Each message names its region already.
        error_summary: errors.iter().map(|(f, m)| (f.clone(), m.clone())).collect(),
        every: choice.every,
        rows,
        clients,
        payruns_without_region: payruns.get(&None).copied().unwrap_or(0),
        payruns_checked: choice.payruns,
        proposal,
        days: regions::RECENT_DAYS,
    };
    Ok((status, page).into_response())
}

async fn unavailable(
    session: &Session,
    current: &CurrentUser,
    draft: &Draft,
    advice: String,
) -> AppResult<Response> {
    let page = RegionsPage {
        chrome: Chrome::customer(session, current).await?,
        frame: frame(draft, Step::Scope, true),
        notice: Some(advice),
        error_summary: Vec::new(),
        every: false,
        rows: Vec::new(),
        clients: Vec::new(),
        payruns_without_region: 0,
        payruns_checked: false,
        proposal: None,
        days: regions::RECENT_DAYS,
    };
    Ok((StatusCode::BAD_GATEWAY, page).into_response())
}

/// `GET …/setup/regions`.
pub(super) async fn show(
    state: &AppState,
    session: &Session,
    current: &CurrentUser,
    draft: &Draft,
) -> AppResult<Response> {
    let facts = match open(state, current, draft).await {
        Ok(sides) => regions::read(state, &sides).await,
        Err(e) => Err(e),
    };
    let facts = match facts {
        Ok(f) => f,
        Err(e) => return unavailable(session, current, draft, e.advice()).await,
    };
    let siblings = db::siblings(&state.db, draft.tenant_id, draft.integration_id).await?;
    let scope = facts.effective(draft, &siblings);
    let choice = Choice::from_scope(&scope);
    page(
        state,
        session,
        current,
        draft,
        &facts,
        &choice,
        &Errors::new(),
        StatusCode::OK,
    )
    .await
}

/// Checks a posted choice: something chosen, every known region, currencies the books hold.
fn validate(facts: &RegionFacts, draft: &Draft, choice: &Choice) -> Errors {
    let mut errors = Errors::new();
    if !choice.every && choice.regions.is_empty() && choice.clients.is_empty() && !choice.payruns {
        errors.insert(
            "regions".into(),
            "Choose at least one region, or every region.".into(),
        );
    }
    for r in &choice.regions {
        if !facts.tree.contains(*r) {
            errors.insert(
                format!("region_{r}"),
                "TrackTik no longer lists this region. Reload the page and choose again.".into(),
            );
        }
    }
    let mut with = draft.clone();
    with.settings.0.scope = choice.scope();
    for (field, message) in facts.problems(&with, &[]) {
        errors.entry(field).or_insert(message);
    }
    errors
}

/// `POST …/setup/regions`: saves the scope (and, with Express, sets up what the chosen
/// regions' tax classes need), or shows what to fix with what was checked.
pub(super) async fn save(
    state: &AppState,
    session: &Session,
    current: &CurrentUser,
    addr: &str,
    draft: &Draft,
    pairs: Vec<(String, String)>,
) -> AppResult<Response> {
    let sides = match open(state, current, draft).await {
        Ok(s) => s,
        Err(e) => return unavailable(session, current, draft, e.advice()).await,
    };
    let facts = match regions::read(state, &sides).await {
        Ok(f) => f,
        Err(e) => return unavailable(session, current, draft, e.advice()).await,
    };
    let values = values_from_pairs(pairs);
    let choice = Choice::from_values(&values);
    let mut errors = validate(&facts, draft, &choice);
    let scope = choice.scope();
    let mut settings = draft.settings.0.clone();
    if errors.is_empty() && draft.is_express() {
        // Express sets up the tax classes of the chosen regions (nothing is duplicated) and
        // matches their tax codes; the payroll answers stay as they are.
        match express::apply(state, draft, &sides, &facts, &scope).await {
            Ok((filled, record)) => {
                let payroll = settings.payroll.clone();
                settings = filled;
                settings.payroll = payroll;
                let created = record.created();
                let record = record.after(draft.express_outcome.as_ref().map(|r| &r.0));
                db::set_express_outcome(
                    &state.db,
                    draft.tenant_id,
                    draft.integration_id,
                    Some(&record),
                )
                .await?;
                if created > 0 {
                    audit::record(
                    &state.db,
                    Actor::User(current.user.tenant_user_id, current.user.display_name.clone()),
                    "integration.express_setup",
                    Some(draft.tenant_id),
                    serde_json::json!({ "integration": draft.integration_id, "created": created, "step": "regions" }),
                    Some(addr),
                )
                .await?;
                }
            }
            Err(e) => {
                errors.insert(
                    "regions".into(),
                    format!(
                        "Express setup could not finish for these regions. {}",
                        e.advice()
                    ),
                );
            }
        }
    }
    if !errors.is_empty() {
        return page(
            state,
            session,
            current,
            draft,
            &facts,
            &choice,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    settings.scope = scope;
    let next = Step::Scope.next();
    db::save_step(
        &state.db,
        draft.tenant_id,
        draft.integration_id,
        Step::Scope,
        next,
        &settings,
        &editor(current),
    )
    .await?;
    Ok(Redirect::to(&step_href(draft, next)).into_response())
}
