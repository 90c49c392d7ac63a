//! The dashboard's manual controls: Sync now, Retry failed (all, or one document), Back-sync a
//! date range, and Preview. Each queues a run for the workers (post/redirect/get with a
//! one-time confirmation) and is recorded in the audit log; Preview only reads.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use tower_sessions::Session;

use super::dashboard::{self, flash};
use super::extract::{ClientAddr, CurrentUser, Form, PathParam, QueryParams};
use super::pages::Chrome;
use crate::audit::{self, Actor};
use crate::dashboard::money;
use crate::error::{AppError, AppResult};
use crate::ids::IntegrationId;
use crate::state::AppState;
use crate::sync::SyncError;
use crate::sync::controls::{self, Queued, RunRequest};
use crate::sync::ledger::LedgerState;
use crate::sync::runs::Requester;

/// The longest back-sync range, in days.
pub const MAX_BACK_SYNC_DAYS: i64 = 366;

/// The back-sync form as typed, with an error next to each field that needs one.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct BackSyncForm {
    /// First day, `YYYY-MM-DD`.
    #[serde(default)]
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    #[serde(default)]
    pub to: String,
    /// What to do about `from`.
    #[serde(skip)]
    pub from_error: Option<String>,
    /// What to do about `to`.
    #[serde(skip)]
    pub to_error: Option<String>,
}

fn parse_day(text: &str, which: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("Enter the {which} day to sync, e.g. 2026-11-01."));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("Enter the {which} day as a date like 2026-11-01 (year-month-day)."))
}

impl BackSyncForm {
    /// The range, or the form with its errors. `today` is today in the integration's zone.
    pub fn validate(mut self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), Self> {
        let from = parse_day(&self.from, "first");
        let to = parse_day(&self.to, "last");
        let future = |d: NaiveDate, which: &str| {
            (d > today).then(|| {
                format!(
                    "The {which} day cannot be after today ({today}); choose {today} or earlier."
                )
            })
        };
        self.from_error = from.as_ref().err().cloned();
        self.to_error = to.as_ref().err().cloned();
        if let Ok(f) = from {
            self.from_error = future(f, "first");
        }
        if let Ok(t) = to {
            self.to_error = future(t, "last");
        }
        if let (Ok(f), Ok(t), None, None) = (from, to, &self.from_error, &self.to_error) {
            if t < f {
                self.to_error = Some(format!(
                    "The last day must be on or after the first day ({f}); choose {f} or later."
                ));
            } else if (t - f).num_days() + 1 > MAX_BACK_SYNC_DAYS {
                self.from_error = Some(format!(
                    "Choose at most {MAX_BACK_SYNC_DAYS} days at a time; for a longer period, run one back-sync per year, e.g. from {}.",
                    t - chrono::Duration::days(MAX_BACK_SYNC_DAYS - 1)
                ));
            } else {
                return Ok((f, t));
            }
        }
        Err(self)
    }
}

/// The customer's words for why nothing was queued.
fn refusal(e: SyncError) -> AppResult<String> {
    match e {
        SyncError::NotFound => Err(AppError::NotFound),
        SyncError::Database(e) => Err(e.into()),
        SyncError::NotReady(m) | SyncError::NeedsReconnect(m) => {
            Ok(format!("Nothing was queued. {m}"))
        }
        SyncError::Unavailable(m) => {
            tracing::warn!(error = %m, "a run could not be queued");
            Ok("Nothing was queued: the queue could not be reached. Try again in a minute.".into())
        }
        SyncError::Busy => {
            Ok("Nothing was queued: a run is going on. Try again when it ends.".into())
        }
    }
}

/// Queues `request`, records it, and says what happened in a flash.
async fn queue(
    state: &AppState,
    session: &Session,
    current: &CurrentUser,
    addr: &str,
    id: IntegrationId,
    request: RunRequest,
    day: Option<NaiveDate>,
) -> AppResult<()> {
    let tenant_id = current.tenant.tenant_id;
    match controls::enqueue(state, tenant_id, id, request, day, Requester::Customer).await {
        Ok((job, Queued::Added)) => {
            audit::record(
                &state.db,
                Actor::User(
                    current.user.tenant_user_id,
                    current.user.display_name.clone(),
                ),
                "sync.queued",
                Some(tenant_id),
                serde_json::json!({ "integration": id, "request": job.request, "day": job.day }),
                Some(addr),
            )
            .await?;
            flash(session, true, "Sync queued — progress shows below.").await
        }
        Ok((_, Queued::AlreadyQueued)) => {
            flash(
                session,
                true,
                "That sync is already queued — progress shows below. Nothing was added.",
            )
            .await
        }
        Err(e) => flash(session, false, refusal(e)?).await,
    }
}

/// `POST /integrations/{id}/sync-now`: everything approved up to the end of today.
pub async fn sync_now(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<IntegrationId>,
) -> AppResult<Redirect> {
    queue(
        &state,
        &session,
        &current,
        &addr,
        id,
        RunRequest::Manual,
        None,
    )
    .await?;
    Ok(Redirect::to(&format!("/integrations/{id}")))
}

/// Retry one document (`entry`) or every failed one.
#[derive(Deserialize)]
pub struct RetryForm {
    #[serde(default)]
    entry: Option<String>,
}

/// `POST /integrations/{id}/retry`: a new attempt for every failed document, or for `entry`.
pub async fn retry(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<IntegrationId>,
    Form(form): Form<RetryForm>,
) -> AppResult<Redirect> {
    let tenant_id = current.tenant.tenant_id;
    let entry = match form
        .entry
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        None => None,
        Some(text) => {
            let entry_id: i64 = text.parse().map_err(|_| {
                AppError::BadRequest("The document to retry is not a number.".into())
            })?;
            // Another integration's (or tenant's) row is not found.
            let doc = crate::dashboard::documents::get(&state.db, tenant_id, id, entry_id)
                .await?
                .ok_or(AppError::NotFound)?;
            if doc.state != LedgerState::Failed {
                flash(
                    &session,
                    false,
                    format!(
                        "{} {} has not failed, so there is nothing to retry.",
                        doc.source.label(),
                        doc.doc_number
                    ),
                )
                .await?;
                return Ok(Redirect::to(&format!("/integrations/{id}/documents")));
            }
            Some(entry_id)
        }
    };
    queue(
        &state,
        &session,
        &current,
        &addr,
        id,
        RunRequest::Retry {
            ledger_entry_id: entry,
        },
        None,
    )
    .await?;
    Ok(Redirect::to(&match entry {
        Some(_) => format!("/integrations/{id}/documents"),
        None => format!("/integrations/{id}"),
    }))
}

/// `POST /integrations/{id}/back-sync`: documents approved from `from` to the end of `to`,
/// even before the sync start date. A form with errors is shown again with what was typed.
pub async fn back_sync(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<IntegrationId>,
    Form(form): Form<BackSyncForm>,
) -> AppResult<Response> {
    let tenant_id = current.tenant.tenant_id;
    let settings = crate::sync::settings_of(&state.db, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = Utc::now()
        .with_timezone(&dashboard::zone_of(&settings))
        .date_naive();
    match form.validate(today) {
        Ok((from, to)) => {
            queue(
                &state,
                &session,
                &current,
                &addr,
                id,
                RunRequest::BackSync { from },
                Some(to),
            )
            .await?;
            Ok(Redirect::to(&format!("/integrations/{id}")).into_response())
        }
        Err(form) => {
            let chrome = Chrome::customer(&session, &current).await?;
            let page = dashboard::build(
                super::db_conn::Db(state.db.acquire().await?),
                chrome,
                tenant_id,
                id,
                false,
                None,
                form,
            )
            .await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// One document a run would handle.
pub struct PreviewLine {
    /// Invoice or pay run.
    pub kind: &'static str,
    /// Its number.
    pub number: String,
    /// TrackTik id.
    pub source_id: i64,
    /// TrackTik total.
    pub amount: String,
    /// What it would become in QuickBooks.
    pub qbo_entity: String,
    /// Why it would fail.
    pub problem: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/preview.html")]
pub struct PreviewPage {
    chrome: Chrome,
    /// The dashboard: the customer's, or the console's read-only copy.
    base: String,
    staff: bool,
    company: String,
    day: String,
    items: Vec<PreviewLine>,
    problems: usize,
    /// Why nothing could be previewed.
    refused: Option<String>,
}

/// `?day=` of the preview.
#[derive(Deserialize, Default)]
pub struct PreviewQuery {
    #[serde(default)]
    day: String,
}

/// `GET /integrations/{id}/preview`: what a sync now would post, with the problems it would
/// meet. Reads TrackTik and QuickBooks; writes nothing.
pub async fn preview(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    PathParam(id): PathParam<IntegrationId>,
    QueryParams(query): QueryParams<PreviewQuery>,
) -> AppResult<PreviewPage> {
    let chrome = Chrome::customer(&session, &current).await?;
    preview_page(&state, chrome, current.tenant.tenant_id, id, &query, false).await
}

/// `GET /support/integrations/{id}/preview`: the same preview for staff (before an expert
/// session, say), read-only and audited.
pub async fn support_preview(
    State(state): State<AppState>,
    session: Session,
    crate::web::extract::CurrentStaff(staff): crate::web::extract::CurrentStaff,
    crate::web::extract::ClientAddr(addr): crate::web::extract::ClientAddr,
    PathParam(id): PathParam<IntegrationId>,
    QueryParams(query): QueryParams<PreviewQuery>,
) -> AppResult<PreviewPage> {
    let tenant_id = super::dashboard::staff_tenant(&state, id).await?;
    super::support::staff_viewed(
        &state,
        &staff,
        &addr,
        "staff.viewed_preview",
        Some(tenant_id),
        serde_json::json!({ "integration": id, "day": query.day.trim() }),
    )
    .await?;
    let chrome = Chrome::staff(&session, &staff).await?;
    preview_page(&state, chrome, tenant_id, id, &query, true).await
}

async fn preview_page(
    state: &AppState,
    chrome: Chrome,
    tenant_id: crate::ids::TenantId,
    id: IntegrationId,
    query: &PreviewQuery,
    staff: bool,
) -> AppResult<PreviewPage> {
    let integration = crate::integrations::db::get(&state.db, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let day = match query.day.trim() {
        "" => None,
        text => Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
            AppError::BadRequest("The day to preview must be a date like 2026-11-01.".into())
        })?),
    };
    let (items, refused) = match controls::preview(state, tenant_id, id, day).await {
        Ok(items) => (items, None),
        Err(e) => (
            Vec::new(),
            Some(refusal(e)?.replace("Nothing was queued. ", "")),
        ),
    };
    let home = integration.home_currency.clone();
    let items: Vec<PreviewLine> = items
        .into_iter()
        .map(|i| PreviewLine {
            kind: i.source.label(),
            number: i.doc_number,
            source_id: i.source_id,
            amount: format!(
                "{} {}",
                money(i.amount),
                i.currency.as_deref().unwrap_or(&home)
            ),
            qbo_entity: i.qbo_entity.unwrap_or_default(),
            problem: i.problem,
        })
        .collect();
    Ok(PreviewPage {
        chrome,
        base: if staff {
            format!("/support/integrations/{id}")
        } else {
            format!("/integrations/{id}")
        },
        staff,
        company: integration.company_name,
        day: day
            .map(dashboard::day_label)
            .unwrap_or_else(|| "today".into()),
        problems: items.iter().filter(|i| i.problem.is_some()).count(),
        items,
        refused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn form(from: &str, to: &str) -> BackSyncForm {
        BackSyncForm {
            from: from.into(),
            to: to.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_range_is_accepted() {
        assert_eq!(
            form("2026-11-01", "2026-11-20")
                .validate(d("2026-11-26"))
                .unwrap(),
            (d("2026-11-01"), d("2026-11-20"))
        );
    }

    #[test]
    fn each_field_gets_its_own_error_and_keeps_what_was_typed() {
        let e = form("", "yesterday").validate(d("2026-11-26")).unwrap_err();
        assert!(e.from_error.unwrap().contains("Enter the first day"));
        assert!(e.to_error.unwrap().contains("like 2026-11-01"));
        assert_eq!(e.to, "yesterday");
    }

    #[test]
    fn an_end_before_the_start_a_future_day_and_a_long_range_are_refused() {
        let e = form("2026-11-10", "2026-11-01")
            .validate(d("2026-11-26"))
            .unwrap_err();
        assert!(
            e.to_error
                .unwrap()
                .contains("on or after the first day (2026-11-10)")
        );
        let e = form("2026-11-10", "2026-11-27")
            .validate(d("2026-11-26"))
            .unwrap_err();
        assert!(
            e.to_error
                .unwrap()
                .contains("cannot be after today (2026-11-26)")
        );
        let e = form("2025-01-01", "2026-11-01")
            .validate(d("2026-11-26"))
            .unwrap_err();
        assert!(e.from_error.unwrap().contains("at most 366 days"));
    }
}
