//! The documents page (`/integrations/{id}/documents`, read-only for staff under `/support`):
//! every ledger row with filters, its QuickBooks link, and for each failure the reason, what
//! to do and a link to where it is fixed; above the table, the failures grouped by reason.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::dashboard::{FLASH, Flash, Status, day_label, local, staff_tenant, zone_of};
use super::extract::{ClientAddr, CurrentStaff, CurrentUser, PathParam, QueryParams};
use super::integrations::{IntegrationView, load_view};
use super::pages::Chrome;
use crate::audit::{self, Actor};
use crate::dashboard::documents::{self, Filter, reason_label};
use crate::dashboard::{Document, money};
use crate::error::{AppError, AppResult};
use crate::ids::{IntegrationId, TenantId};
use crate::integrations::IntegrationState;
use crate::state::AppState;
use crate::sync::ledger::{LedgerState, Source};

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

/// Where a failure is fixed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixLink {
    /// The link's words.
    pub label: String,
    /// Where it goes.
    pub href: String,
    /// Outside Ledgerbridge (QuickBooks, TrackTik): opens in a new tab.
    pub external: bool,
}

/// Where the fix of a failure is made: the wizard step that holds the setting, the QuickBooks
/// screen, or the TrackTik portal.
pub fn fix_link(
    fix_at: Option<&str>,
    code: Option<&str>,
    fix_hint: Option<&str>,
    source: Option<Source>,
    integration: IntegrationId,
    qbo_app: &str,
    portal: &str,
) -> Option<FixLink> {
    let step = |slug: &str, name: &str| FixLink {
        label: format!("Open the {name} step"),
        href: format!("/integrations/{integration}/setup/{slug}"),
        external: false,
    };
    let qbo = |path: &str, label: &str| FixLink {
        label: label.to_owned(),
        href: format!("{qbo_app}{path}"),
        external: true,
    };
    Some(match fix_at? {
        "settings/billing" => step("billing", "Billing"),
        "settings/payroll" => step("payroll", "Payroll"),
        "settings/taxes" => step("taxes", "Taxes"),
        "settings" if fix_hint.is_some_and(|h| h.contains("tax settings")) => {
            step("taxes", "Taxes")
        }
        "settings" => match source {
            Some(Source::Payrun) => step("payroll", "Payroll"),
            Some(Source::Invoice | Source::CreditMemo) => step("billing", "Billing"),
            None => step("review", "Review"),
        },
        "quickbooks" => match code {
            Some("6210") => qbo(
                "settings?p=Advanced",
                "Open QuickBooks: Account and settings › Advanced (closing date)",
            ),
            _ => qbo("", "Open QuickBooks"),
        },
        "tracktik" => FixLink {
            label: "Open TrackTik".into(),
            href: portal.to_owned(),
            external: true,
        },
        "support" => FixLink {
            label: "Talk to an expert".into(),
            href: format!("/integrations/{integration}/expert"),
            external: false,
        },
        _ => return None,
    })
}

/// One row of the table.
pub struct DocLine {
    /// Row id (for Retry).
    pub id: i64,
    /// Invoice or pay run.
    pub kind: &'static str,
    /// TrackTik number.
    pub number: String,
    /// QuickBooks number, when it differs.
    pub qbo_number: Option<String>,
    /// Trading day.
    pub day: String,
    /// Approved at, local.
    pub approved: String,
    /// Amount.
    pub amount: String,
    /// Currency.
    pub currency: String,
    /// State.
    pub status: Status,
    /// "View in QuickBooks".
    pub qbo_link: Option<String>,
    /// Why it failed (or was skipped), in plain language.
    pub reason: Option<String>,
    /// What to do.
    pub fix: Option<String>,
    /// Where.
    pub fix_link: Option<FixLink>,
    /// Passes by itself.
    pub retryable: bool,
    /// Changed or deleted in TrackTik after posting.
    pub changed: Option<String>,
    /// QuickBooks' total differs.
    pub discrepancy: Option<String>,
    /// What a rollback did to it.
    pub reversal: Option<String>,
    /// Offer Retry.
    pub can_retry: bool,
}

/// One group of failures.
pub struct GroupLine {
    /// Heading.
    pub label: &'static str,
    /// Documents.
    pub count: i64,
    /// The newest reason.
    pub example: String,
    /// What to do.
    pub fix: Option<String>,
    /// Where.
    pub fix_link: Option<FixLink>,
    /// The filtered list.
    pub href: String,
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

struct Context<'a> {
    id: IntegrationId,
    staff: bool,
    active: bool,
    zone: Tz,
    home: &'a str,
    qbo_app: &'a str,
    portal: &'a str,
}

impl Context<'_> {
    fn link(
        &self,
        fix_at: Option<&str>,
        code: Option<&str>,
        hint: Option<&str>,
        source: Option<Source>,
    ) -> Option<FixLink> {
        // Staff cannot open the customer's settings, QuickBooks or TrackTik: words only.
        if self.staff {
            return None;
        }
        fix_link(
            fix_at,
            code,
            hint,
            source,
            self.id,
            self.qbo_app,
            self.portal,
        )
    }

    fn line(&self, d: Document) -> DocLine {
        let failed = d.state == LedgerState::Failed;
        let shows_reason = matches!(
            d.state,
            LedgerState::Failed | LedgerState::Skipped | LedgerState::Pending
        );
        DocLine {
            id: d.ledger_entry_id,
            kind: d.source.label(),
            qbo_number: d.qbo_doc_number.clone().filter(|n| *n != d.doc_number),
            day: day_label(d.trading_day),
            approved: local(d.approved_at, self.zone),
            amount: money(d.amount),
            currency: d.currency_or(self.home).to_owned(),
            status: state_status(d.state),
            qbo_link: d
                .qbo_link
                .clone()
                .filter(|_| d.state == LedgerState::Posted),
            reason: d.last_error.clone().filter(|_| shows_reason),
            fix: d.fix_hint.clone().filter(|_| failed),
            fix_link: if failed {
                self.link(
                    d.fix_at.as_deref(),
                    d.error_code.as_deref(),
                    d.fix_hint.as_deref(),
                    Some(d.source),
                )
            } else {
                None
            },
            retryable: d.retryable,
            changed: d
                .change_note
                .clone()
                .or_else(|| {
                    d.changed_in_tracktik
                        .then(|| "Changed in TrackTik after it was posted.".to_owned())
                })
                .filter(|_| d.changed_in_tracktik),
            discrepancy: d.discrepancy.clone(),
            reversal: d.reversal_note.clone(),
            can_retry: failed && self.active && !self.staff,
            number: d.doc_number,
        }
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
    let ctx = Context {
        id,
        staff,
        active: view.integration.state == IntegrationState::Active,
        zone,
        home: &home,
        qbo_app: &qbo_app,
        portal,
    };
    let groups = documents::error_groups(&state.db, tenant_id, id)
        .await?
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
    let chrome = Chrome::customer(&state, &session, &current).await?;
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
