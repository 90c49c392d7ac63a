//! The support console's reads across tenants: every integration with its state and wizard
//! step, recent sync runs, and failed documents grouped by reason. Staff only: these are the
//! only queries that deliberately span tenants, and every row carries its tenant so the pages
//! can say whose data it is. Replays live in [`replay`].

pub mod drafts;
pub mod replay;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::PgExecutor;

use crate::ids::{IntegrationId, TenantId};
use crate::integrations::IntegrationState;
use crate::sync::ledger::Source;
use crate::sync::runs::{RunKind, RunStatus};

/// Rows per page on every console list.
pub const PAGE_SIZE: i64 = 50;

/// One page of a list, and whether another follows.
#[derive(Clone, Debug)]
pub struct Paged<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// The page number, from 1.
    pub page: u32,
    /// Whether there is a next page.
    pub has_next: bool,
}

impl<T> Paged<T> {
    /// Splits `rows` fetched with [`limit`] into the page and whether more follow.
    fn from_rows(mut rows: Vec<T>, page: u32) -> Self {
        let has_next = rows.len() as i64 > PAGE_SIZE;
        rows.truncate(PAGE_SIZE as usize);
        Self {
            rows,
            page,
            has_next,
        }
    }
}

/// `(limit, offset)` for page `page` (from 1), one row more than shown to detect a next page.
pub fn limit(page: u32) -> (i64, i64) {
    (PAGE_SIZE + 1, i64::from(page.max(1) - 1) * PAGE_SIZE)
}

/// A search term as an `ilike` pattern (wildcards in the term match themselves), or none.
pub fn like_pattern(search: &str) -> Option<String> {
    let s = search.trim();
    (!s.is_empty()).then(|| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    })
}

/// A tenant and one of its integrations (or none yet), as the console lists them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct IntegrationRow {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub tenant_name: String,
    /// Its TrackTik portal.
    pub portal_url: String,
    /// The integration, if the tenant connected QuickBooks.
    pub integration_id: Option<IntegrationId>,
    /// The QuickBooks company.
    pub company_name: Option<String>,
    /// Its realm id.
    pub realm_id: Option<String>,
    /// Where it stands.
    pub state: Option<IntegrationState>,
    /// The furthest wizard step reached (`integration.wizard_reached`).
    pub wizard_reached: Option<String>,
    /// When the last run started.
    pub last_run_at: Option<DateTime<Utc>>,
    /// How it ended.
    pub last_run_status: Option<RunStatus>,
    /// Documents failed now.
    pub failed_documents: i64,
}

impl IntegrationRow {
    /// The furthest wizard step reached, as people read it.
    pub fn wizard_label(&self) -> &'static str {
        self.wizard_reached
            .as_deref()
            .map(|k| crate::wizard::Step::from_key(k).label())
            .unwrap_or("—")
    }

    /// How the last run ended, in words.
    pub fn last_run_label(&self) -> Option<&'static str> {
        self.last_run_status.map(status_label)
    }
}

/// Every tenant with its integrations, newest tenant first. `search` matches the tenant's
/// name or portal, the company name or the realm id; `state` keeps integrations in that state.
pub async fn integrations(
    db: impl PgExecutor<'_>,
    search: &str,
    state: Option<IntegrationState>,
    page: u32,
) -> sqlx::Result<Paged<IntegrationRow>> {
    let (limit, offset) = limit(page);
    let rows = sqlx::query_as(
        "select t.tenant_id, t.name as tenant_name, t.portal_url, i.integration_id, i.company_name,
                i.realm_id, i.state, i.wizard_reached, r.started_at as last_run_at,
                r.status as last_run_status,
                coalesce(f.failed, 0) as failed_documents
         from tenant t
         left join integration i on i.tenant_id = t.tenant_id
         left join lateral (
             select started_at, status from sync_run
             where sync_run.tenant_id = i.tenant_id and sync_run.integration_id = i.integration_id
             order by started_at desc, sync_run_id desc limit 1
         ) r on true
         left join lateral (
             select count(*) as failed from ledger_entry
             where ledger_entry.tenant_id = i.tenant_id
               and ledger_entry.integration_id = i.integration_id and state = 'failed'
         ) f on true
         where ($1::text is null or t.name ilike $1 or t.portal_url ilike $1
                or i.company_name ilike $1 or i.realm_id ilike $1)
           and ($2::integration_state is null or i.state = $2)
         order by t.created_at desc, t.tenant_id, i.created_at, i.integration_id
         limit $3 offset $4",
    )
    .bind(like_pattern(search))
    .bind(state)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok(Paged::from_rows(rows, page))
}

/// One sync run with whose it is.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RunRow {
    /// Run id.
    pub sync_run_id: i64,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub tenant_name: String,
    /// Integration.
    pub integration_id: IntegrationId,
    /// Its QuickBooks company.
    pub company_name: String,
    /// The trading day.
    pub trading_day: NaiveDate,
    /// Why it ran.
    pub kind: RunKind,
    /// How it ended (or `running`).
    pub status: RunStatus,
    /// Documents to post.
    pub total: i32,
    /// Posted.
    pub posted: i32,
    /// Failed.
    pub failed: i32,
    /// Skipped.
    pub skipped: i32,
    /// Why it stopped.
    pub error: Option<String>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: Option<DateTime<Utc>>,
}

impl RunRow {
    /// Why it ran, as people read it.
    pub fn kind_label(&self) -> &'static str {
        kind_label(self.kind)
    }

    /// Its status word.
    pub fn status_label(&self) -> &'static str {
        status_label(self.status)
    }

    /// Its status colour.
    pub fn status_css(&self) -> &'static str {
        status_css(self.status)
    }

    /// Its status icon.
    pub fn status_icon(&self) -> &'static str {
        status_icon(self.status)
    }

    /// How long it took (`1 min 5 s`), or `running`.
    pub fn duration(&self) -> String {
        match self.finished_at {
            None => "running".into(),
            Some(end) => {
                let secs = (end - self.started_at).num_seconds().max(0);
                if secs < 60 {
                    format!("{secs} s")
                } else {
                    format!("{} min {} s", secs / 60, secs % 60)
                }
            }
        }
    }
}

/// Why a run was started, as people read it.
pub fn kind_label(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Nightly => "Nightly",
        RunKind::Manual => "Sync now",
        RunKind::BackSync => "Back-sync",
        RunKind::Retry => "Retry",
        RunKind::Preview => "Preview",
    }
}

/// A run status as a word.
pub fn status_label(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "Running",
        RunStatus::Succeeded => "Succeeded",
        RunStatus::Partial => "Some failed",
        RunStatus::Failed => "Failed",
    }
}

/// A run status as a colour.
pub fn status_css(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "draft",
        RunStatus::Succeeded => "ok",
        RunStatus::Partial => "warn",
        RunStatus::Failed => "bad",
    }
}

/// A run status as an icon.
pub fn status_icon(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Running => "…",
        RunStatus::Succeeded => "✓",
        RunStatus::Partial => "!",
        RunStatus::Failed => "✕",
    }
}

/// The run statuses a filter can ask for, as written in the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatusFilter {
    /// Still going.
    Running,
    /// Everything posted.
    Succeeded,
    /// Some documents failed.
    Partial,
    /// The run stopped.
    Failed,
}

impl RunStatusFilter {
    /// The run status it keeps.
    pub fn status(self) -> RunStatus {
        match self {
            Self::Running => RunStatus::Running,
            Self::Succeeded => RunStatus::Succeeded,
            Self::Partial => RunStatus::Partial,
            Self::Failed => RunStatus::Failed,
        }
    }
}

/// Recent runs across tenants, newest first; optionally one status and one integration.
pub async fn runs(
    db: impl PgExecutor<'_>,
    status: Option<RunStatus>,
    integration_id: Option<IntegrationId>,
    page: u32,
) -> sqlx::Result<Paged<RunRow>> {
    let (limit, offset) = limit(page);
    let rows = sqlx::query_as(
        "select r.sync_run_id, r.tenant_id, t.name as tenant_name, r.integration_id,
                i.company_name, r.trading_day, r.kind, r.status, r.total, r.posted, r.failed,
                r.skipped, r.error, r.started_at, r.finished_at
         from sync_run r
         join integration i on i.integration_id = r.integration_id and i.tenant_id = r.tenant_id
         join tenant t on t.tenant_id = r.tenant_id
         where ($1::sync_run_status is null or r.status = $1)
           and ($2::uuid is null or r.integration_id = $2)
         order by r.started_at desc, r.sync_run_id desc
         limit $3 offset $4",
    )
    .bind(status)
    .bind(integration_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok(Paged::from_rows(rows, page))
}

/// Failed documents sharing one error code.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FailureGroup {
    /// The code (QBO fault code or ours); `unknown` when none was recorded.
    pub code: String,
    /// Failed documents with it.
    pub documents: i64,
    /// Tenants affected.
    pub tenants: i64,
    /// One of the reasons given, as an example.
    pub example: Option<String>,
    /// One of the fixes given.
    pub fix: Option<String>,
}

/// Failed documents across tenants, grouped by error code, the largest group first.
pub async fn failure_groups(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<FailureGroup>> {
    sqlx::query_as(
        "select coalesce(error_code, 'unknown') as code, count(*) as documents,
                count(distinct tenant_id) as tenants, min(last_error) as example,
                min(fix_hint) as fix
         from ledger_entry where state = 'failed'
         group by 1 order by 2 desc, 1",
    )
    .fetch_all(db)
    .await
}

/// One failed document with whose it is.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FailureRow {
    /// Ledger row.
    pub ledger_entry_id: i64,
    /// Tenant.
    pub tenant_id: TenantId,
    /// Its name.
    pub tenant_name: String,
    /// Integration.
    pub integration_id: IntegrationId,
    /// Its QuickBooks company.
    pub company_name: String,
    /// Invoice or pay run.
    pub source: Source,
    /// TrackTik document number.
    pub doc_number: String,
    /// Its trading day.
    pub trading_day: NaiveDate,
    /// TrackTik total.
    pub amount: Decimal,
    /// Its currency.
    pub currency: Option<String>,
    /// The reason.
    pub last_error: Option<String>,
    /// The code.
    pub error_code: Option<String>,
    /// The fix.
    pub fix_hint: Option<String>,
    /// Where to fix it.
    pub fix_at: Option<String>,
    /// Passes by itself: the next run tries again.
    pub retryable: bool,
    /// Create attempts so far.
    pub attempts: i32,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl FailureRow {
    /// The amount with two decimals and the currency.
    pub fn amount_label(&self) -> String {
        money(self.amount, self.currency.as_deref())
    }

    /// Where the customer fixes it, in words.
    pub fn fix_where(&self) -> Option<&'static str> {
        match self.fix_at.as_deref()? {
            "settings" => Some("Fixed in Ledgerbridge settings"),
            "quickbooks" => Some("Fixed in QuickBooks"),
            "tracktik" => Some("Fixed in TrackTik"),
            "support" => Some("Needs support"),
            _ => None,
        }
    }
}

/// `1,234.50 USD`-style money for tables (two decimals, currency code after).
pub fn money(amount: Decimal, currency: Option<&str>) -> String {
    let rounded =
        amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{rounded:.2}");
    let (sign, digits) = text
        .strip_prefix('-')
        .map(|d| ("-", d))
        .unwrap_or(("", &text));
    let (whole, cents) = digits.split_once('.').unwrap_or((digits, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match currency {
        Some(c) => format!("{sign}{grouped}.{cents} {c}"),
        None => format!("{sign}{grouped}.{cents}"),
    }
}

/// Failed documents across tenants, most recently changed first; optionally one error code
/// (`unknown` for none) and one integration.
pub async fn failures(
    db: impl PgExecutor<'_>,
    code: Option<&str>,
    integration_id: Option<IntegrationId>,
    page: u32,
) -> sqlx::Result<Paged<FailureRow>> {
    let (limit, offset) = limit(page);
    let rows = sqlx::query_as(
        "select l.ledger_entry_id, l.tenant_id, t.name as tenant_name, l.integration_id,
                i.company_name, l.source, l.doc_number, l.trading_day, l.amount, l.currency,
                l.last_error, l.error_code, l.fix_hint, l.fix_at, l.retryable, l.attempts,
                l.updated_at
         from ledger_entry l
         join integration i on i.integration_id = l.integration_id and i.tenant_id = l.tenant_id
         join tenant t on t.tenant_id = l.tenant_id
         where l.state = 'failed'
           and ($1::text is null or coalesce(l.error_code, 'unknown') = $1)
           and ($2::uuid is null or l.integration_id = $2)
         order by l.updated_at desc, l.ledger_entry_id desc
         limit $3 offset $4",
    )
    .bind(code)
    .bind(integration_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?;
    Ok(Paged::from_rows(rows, page))
}

/// The tenant and company names of an integration, for page headings; none when it does not
/// exist.
pub async fn integration_names(
    db: impl PgExecutor<'_>,
    integration_id: IntegrationId,
) -> sqlx::Result<Option<(TenantId, String, String)>> {
    sqlx::query_as(
        "select t.tenant_id, t.name, i.company_name from integration i
         join tenant t on t.tenant_id = i.tenant_id where i.integration_id = $1",
    )
    .bind(integration_id)
    .fetch_optional(db)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn money_has_two_decimals_thousands_separators_and_the_currency() {
        let m = |s: &str, c| money(Decimal::from_str(s).unwrap(), c);
        assert_eq!(m("1234567.5", Some("USD")), "1,234,567.50 USD");
        assert_eq!(m("-1000", Some("CAD")), "-1,000.00 CAD");
        assert_eq!(m("0.005", None), "0.01");
        assert_eq!(m("999.994", None), "999.99");
    }

    #[test]
    fn a_page_asks_for_one_row_more_than_it_shows() {
        assert_eq!(limit(1), (PAGE_SIZE + 1, 0));
        assert_eq!(limit(3), (PAGE_SIZE + 1, 2 * PAGE_SIZE));
        assert_eq!(limit(0), (PAGE_SIZE + 1, 0));
        let page = Paged::from_rows((0..=PAGE_SIZE).collect::<Vec<_>>(), 1);
        assert!(page.has_next);
        assert_eq!(page.rows.len() as i64, PAGE_SIZE);
    }

    #[test]
    fn search_wildcards_match_themselves() {
        assert_eq!(like_pattern("  "), None);
        assert_eq!(like_pattern("50%_a").as_deref(), Some("%50\\%\\_a%"));
    }
}
