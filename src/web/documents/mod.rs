//! The documents page (`/integrations/{id}/documents`, read-only for staff under `/support`):
//! every ledger row with filters, its QuickBooks link, and for each failure the reason, what
//! to do and a link to where it is fixed; above the table, the failures grouped by reason.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::dashboard::{FLASH, Flash, Status, staff_tenant, zone_of};
use super::extract::{ClientAddr, CurrentStaff, CurrentUser, PathParam, QueryParams};
use super::integrations::{IntegrationView, load_view};
use super::pages::Chrome;
use crate::audit::{self, Actor};
use crate::dashboard::documents::{self, Filter, reason_label};
use crate::error::{AppError, AppResult};
use crate::ids::{IntegrationId, TenantId};
use crate::integrations::IntegrationState;
use crate::state::AppState;
use crate::sync::ledger::{LedgerState, Source};

mod lines;

use lines::{Context, DocLine, GroupLine, group_anchor};

/// Rows per page.
pub const PER_PAGE: i64 = 50;

/// The filters as they arrive in the address (kept as typed, so the form shows them again).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Query {
    /// `pending`, `posting`, `posted`, `failed`, `skipped`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub state: String,
    /// `invoice` or `payrun`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// First trading day.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// Last trading day.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub to: String,
    /// Part of a document number.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub q: String,
    /// An error code.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    /// Page, from 1.
    #[serde(default, skip_serializing)]
    pub page: Option<String>,
}

fn ledger_state(text: &str) -> Option<LedgerState> {
    Some(match text {
        "pending" => LedgerState::Pending,
        "posting" => LedgerState::Posting,
        "posted" => LedgerState::Posted,
        "failed" => LedgerState::Failed,
        "skipped" => LedgerState::Skipped,
        _ => return None,
    })
}

/// The state as a word, a colour and an icon.
pub fn state_status(state: LedgerState) -> Status {
    match state {
        LedgerState::Posted => Status {
            word: "Posted",
            css: "ok",
            icon: "✓",
        },
        LedgerState::Failed => Status {
            word: "Failed",
            css: "bad",
            icon: "✕",
        },
        LedgerState::Skipped => Status {
            word: "Skipped",
            css: "draft",
            icon: "–",
        },
        LedgerState::Pending => Status {
            word: "Pending",
            css: "warn",
            icon: "…",
        },
        LedgerState::Posting => Status {
            word: "Posting",
            css: "warn",
            icon: "⟳",
        },
    }
}

/// The filters read from the query, and an error per field that could not be read.
fn filter_of(q: &Query) -> (Filter, Vec<(&'static str, String)>) {
    let mut errors = Vec::new();
    let mut day = |text: &str, field: &'static str| -> Option<chrono::NaiveDate> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push((
                    field,
                    "Enter a date like 2026-11-01 (year-month-day); this filter was left out."
                        .to_owned(),
                ));
                None
            }
        }
    };
    let from = day(&q.from, "from");
    let to = day(&q.to, "to");
    let filter = Filter {
        state: ledger_state(&q.state),
        source: match q.kind.as_str() {
            "invoice" => Some(Source::Invoice),
            "payrun" => Some(Source::Payrun),
            _ => None,
        },
        from,
        to,
        number: Some(q.q.trim().to_owned()).filter(|s| !s.is_empty()),
        code: Some(q.code.trim().to_owned()).filter(|s| !s.is_empty()),
    };
    (filter, errors)
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard/documents.html")]
pub struct DocumentsPage {
    chrome: Chrome,
    view: IntegrationView,
    staff: bool,
    base: String,
    zone: String,
    query: Query,
    errors: Vec<(&'static str, String)>,
    groups: Vec<GroupLine>,
    rows: Vec<DocLine>,
    total: i64,
    page: i64,
    pages: i64,
    first_shown: i64,
    last_shown: i64,
    previous_href: Option<String>,
    next_href: Option<String>,
    filtered: bool,
    flash: Option<Flash>,
}

impl DocumentsPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, e)| e.as_str())
    }
}

fn href(base: &str, query: &Query, page: i64) -> String {
    let mut text = serde_urlencoded::to_string(query).unwrap_or_default();
    if page > 1 {
        if !text.is_empty() {
            text.push('&');
        }
        text.push_str(&format!("page={page}"));
    }
    if text.is_empty() {
        format!("{base}/documents")
    } else {
        format!("{base}/documents?{text}")
    }
}

#[allow(clippy::too_many_arguments)]
async fn build(
    state: &AppState,
    chrome: Chrome,
    tenant_id: TenantId,
    id: IntegrationId,
    portal: &str,
    staff: bool,
    query: Query,
    flash: Option<Flash>,
) -> AppResult<DocumentsPage> {
    let view = load_view(state, tenant_id, id).await?;
    let settings = crate::sync::settings_of(&state.db, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let zone = zone_of(&settings);
    let base = if staff {
        format!("/support/integrations/{id}")
    } else {
        format!("/integrations/{id}")
    };
    let (filter, errors) = filter_of(&query);
    let page: i64 = query
        .page
        .as_deref()
        .and_then(|p| p.trim().parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let (rows, total) = documents::page(&state.db, tenant_id, id, &filter, page, PER_PAGE).await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let qbo_app = state.providers.quickbooks.endpoints().app_base.to_string();
    let home = view.integration.home_currency.clone();
    let found = documents::error_groups(&state.db, tenant_id, id).await?;
    let ctx = Context {
        id,
        staff,
        may_retry: !staff && chrome.may().sync,
        active: view.integration.state == IntegrationState::Active,
        zone,
        home: &home,
        qbo_app: &qbo_app,
        portal,
        groups: found
            .iter()
            .map(|g| (g.code.clone(), (g.count, g.example.clone())))
            .collect(),
    };
    let groups = found
        .into_iter()
        .map(|g| GroupLine {
            label: reason_label(&g.code, g.fix_at.as_deref()),
            count: g.count,
            fix_link: ctx.link(
                g.fix_at.as_deref(),
                Some(&g.code),
                g.fix_hint.as_deref(),
                g.source,
            ),
            fix: g.fix_hint,
            example: g.example,
            anchor: group_anchor(&g.code),
            documents: documents::numbers_in_words(&g.numbers, g.count),
            href: href(
                &base,
                &Query {
                    state: "failed".into(),
                    code: g.code,
                    ..Query::default()
                },
                1,
            ),
        })
        .collect();
    let rows: Vec<DocLine> = rows.into_iter().map(|d| ctx.line(d)).collect();
    let first_shown = if rows.is_empty() {
        0
    } else {
        (page - 1) * PER_PAGE + 1
    };
    Ok(DocumentsPage {
        chrome,
        staff,
        zone: zone.name().to_owned(),
        errors,
        groups,
        last_shown: first_shown + rows.len() as i64 - i64::from(!rows.is_empty()),
        first_shown,
        rows,
        total,
        page,
        pages,
        previous_href: (page > 1).then(|| href(&base, &query, page - 1)),
        next_href: (page < pages).then(|| href(&base, &query, page + 1)),
        filtered: filter != Filter::default(),
        base,
        view,
        query,
        flash,
    })
}

/// `GET /integrations/{id}/documents`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    PathParam(id): PathParam<IntegrationId>,
    QueryParams(query): QueryParams<Query>,
) -> AppResult<DocumentsPage> {
    let flash = session.remove::<Flash>(FLASH).await?;
    let chrome = Chrome::customer(&session, &current).await?;
    build(
        &state,
        chrome,
        current.tenant.tenant_id,
        id,
        &current.tenant.portal_url,
        false,
        query,
        flash,
    )
    .await
}

/// `GET /support/integrations/{id}/documents`: the same list, read-only, for staff. Audited.
pub async fn support_list(
    State(state): State<AppState>,
    session: Session,
    CurrentStaff(staff): CurrentStaff,
    ClientAddr(addr): ClientAddr,
    PathParam(id): PathParam<IntegrationId>,
    QueryParams(query): QueryParams<Query>,
) -> AppResult<DocumentsPage> {
    let tenant_id = staff_tenant(&state, id).await?;
    audit::record(
        &state.db,
        Actor::Staff(staff.staff_user_id, staff.email.clone()),
        "staff.viewed_documents",
        Some(tenant_id),
        serde_json::json!({ "integration": id, "page": "documents" }),
        Some(&addr),
    )
    .await?;
    let chrome = Chrome::staff(&session, &staff).await?;
    build(&state, chrome, tenant_id, id, "", true, query, None).await
}

#[cfg(test)]
mod tests;
