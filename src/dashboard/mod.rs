//! What the dashboard shows about one integration's syncs: documents per night, the nightly
//! reconciliation (TrackTik's total against what QuickBooks holds, to the cent, with every
//! difference explained), runs waiting in the queue, the run in progress, and the ledger
//! filtered for the documents page ([`documents`]).
//!
//! Everything here only reads. Every query takes the tenant id first and filters by it.

pub mod documents;
pub mod overview;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgExecutor;

use crate::ids::{IntegrationId, TenantId};
use crate::sync::controls::{self, RunRequest, SyncIntegration};
use crate::sync::ledger::{LedgerState, Source};
use crate::sync::runs::SyncRun;

/// One ledger row as the dashboard and the documents page read it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Document {
    /// Row id.
    pub ledger_entry_id: i64,
    /// Invoice or pay run.
    pub source: Source,
    /// TrackTik id.
    pub source_id: i64,
    /// TrackTik document number.
    pub doc_number: String,
    /// Local trading day of the approval.
    pub trading_day: NaiveDate,
    /// When TrackTik approved it.
    pub approved_at: DateTime<Utc>,
    /// TrackTik total.
    pub amount: Decimal,
    /// ISO currency, when known (otherwise the company's home currency).
    pub currency: Option<String>,
    /// Where it stands.
    pub state: LedgerState,
    /// QBO entity name.
    pub qbo_entity: Option<String>,
    /// QBO `DocNumber`.
    pub qbo_doc_number: Option<String>,
    /// "View in QuickBooks" link.
    pub qbo_link: Option<String>,
    /// What QuickBooks holds for it (posted rows).
    pub qbo_amount: Option<Decimal>,
    /// A failure that may pass by itself.
    pub retryable: bool,
    /// The reason, in plain language.
    pub last_error: Option<String>,
    /// QBO fault code or ours.
    pub error_code: Option<String>,
    /// What to do about it.
    pub fix_hint: Option<String>,
    /// Where to fix it.
    pub fix_at: Option<String>,
    /// Changed or deleted in TrackTik after posting.
    pub changed_in_tracktik: bool,
    /// What changed.
    pub change_note: Option<String>,
    /// QuickBooks' total differs from TrackTik's.
    pub discrepancy: Option<String>,
    /// When posted.
    pub posted_at: Option<DateTime<Utc>>,
    /// What its night's rollback did to it.
    pub reversal_note: Option<String>,
}

pub(crate) const DOCUMENT_COLUMNS: &str = "ledger_entry_id, source, source_id, doc_number, \
    trading_day, approved_at, amount, currency, state, qbo_entity, qbo_doc_number, qbo_link, \
    qbo_amount, retryable, last_error, error_code, fix_hint, fix_at, changed_in_tracktik, \
    change_note, discrepancy, posted_at, reversal_note";

impl Document {
    /// The currency of its amounts.
    pub fn currency_or<'a>(&'a self, home: &'a str) -> &'a str {
        self.currency.as_deref().unwrap_or(home)
    }

    /// Not in QuickBooks yet, and no person needs to act (pending or being sent).
    pub fn waiting(&self) -> bool {
        matches!(self.state, LedgerState::Pending | LedgerState::Posting)
    }
}

/// The current row of every document whose trading day is in `[from, to]`: the posted row if
/// there is one, otherwise the open row, otherwise the newest skipped revision.
pub async fn current_documents(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<Document>> {
    sqlx::query_as(&format!(
        "select distinct on (source, source_id) {DOCUMENT_COLUMNS} from ledger_entry
         where tenant_id = $1 and integration_id = $2 and trading_day between $3 and $4
         order by source, source_id, (state = 'posted') desc, (state <> 'skipped') desc,
                  ledger_entry_id desc"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await
}

/// One night's documents (by the trading day of their approval), by state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Night {
    /// The trading day.
    pub day: NaiveDate,
    /// In QuickBooks.
    pub posted: i64,
    /// Refused; a person must act.
    pub failed: i64,
    /// Nothing to post.
    pub skipped: i64,
    /// Not sent yet (pending or being sent).
    pub waiting: i64,
}

impl Night {
    /// Every document of the night.
    pub fn total(&self) -> i64 {
        self.posted + self.failed + self.skipped + self.waiting
    }
}

/// One [`Night`] per day of `days`, in that order, counted from `documents`.
pub fn nights(days: &[NaiveDate], documents: &[Document]) -> Vec<Night> {
    let mut by_day: BTreeMap<NaiveDate, Night> = days
        .iter()
        .map(|d| {
            (
                *d,
                Night {
                    day: *d,
                    ..Night::default()
                },
            )
        })
        .collect();
    for doc in documents {
        if let Some(n) = by_day.get_mut(&doc.trading_day) {
            match doc.state {
                LedgerState::Posted => n.posted += 1,
                LedgerState::Failed => n.failed += 1,
                LedgerState::Skipped => n.skipped += 1,
                LedgerState::Pending | LedgerState::Posting => n.waiting += 1,
            }
        }
    }
    days.iter().filter_map(|d| by_day.remove(d)).collect()
}

/// One part of a difference between TrackTik and QuickBooks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// How much of the difference it explains (TrackTik minus QuickBooks).
    pub amount: Decimal,
    /// Why, in words.
    pub reason: String,
}

/// A trading day's documents in one currency: TrackTik's total against what QuickBooks holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reconciliation {
    /// The trading day.
    pub day: NaiveDate,
    /// The currency of every amount.
    pub currency: String,
    /// Documents counted.
    pub documents: usize,
    /// TrackTik's total of the day's documents.
    pub tracktik: Decimal,
    /// What QuickBooks holds for them: the sum of the posted documents' QuickBooks totals.
    pub quickbooks: Decimal,
    /// Everything that makes up `tracktik - quickbooks`; their sum is the difference.
    pub differences: Vec<Difference>,
    /// What the totals cannot show: documents changed in TrackTik after they were posted.
    pub notes: Vec<String>,
}

impl Reconciliation {
    /// TrackTik minus QuickBooks.
    pub fn difference(&self) -> Decimal {
        self.tracktik - self.quickbooks
    }

    /// Both sides agree to the cent.
    pub fn balanced(&self) -> bool {
        self.difference().is_zero()
    }
}

fn numbers(docs: &[&Document]) -> String {
    const SHOWN: usize = 5;
    let mut out: Vec<&str> = docs
        .iter()
        .take(SHOWN)
        .map(|d| d.doc_number.as_str())
        .collect();
    let more = docs.len().saturating_sub(SHOWN);
    let more_text = format!("and {more} more");
    if more > 0 {
        out.push(&more_text);
    }
    out.join(", ")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Reconciles one trading day's documents, one line per currency (the company's home
/// currency for documents without one). Every cent of a difference is explained: documents
/// that failed, wait to be posted or were skipped are not in QuickBooks; a posted document whose
/// QuickBooks total differs counts for that difference, with the reason recorded when it was
/// posted; a posted document whose QuickBooks total was never recorded counts in full.
pub fn reconcile(day: NaiveDate, documents: &[Document], home: &str) -> Vec<Reconciliation> {
    let mut by_currency: BTreeMap<String, Vec<&Document>> = BTreeMap::new();
    for doc in documents.iter().filter(|d| d.trading_day == day) {
        by_currency
            .entry(doc.currency_or(home).to_owned())
            .or_default()
            .push(doc);
    }
    by_currency
        .into_iter()
        .map(|(currency, docs)| reconcile_currency(day, currency, &docs))
        .collect()
}

/// What QuickBooks holds for a posted document. QuickBooks answers journal entries without a
/// `TotalAmt` (recorded traffic) and computes nothing on them (no tax, no rounding), so a posted
/// journal entry without a recorded total holds what was sent: its TrackTik amount.
fn held(d: &Document) -> Option<Decimal> {
    d.qbo_amount
        .or_else(|| (d.qbo_entity.as_deref() == Some("JournalEntry")).then_some(d.amount))
}

fn reconcile_currency(day: NaiveDate, currency: String, docs: &[&Document]) -> Reconciliation {
    let tracktik: Decimal = docs.iter().map(|d| d.amount).sum();
    let quickbooks: Decimal = docs
        .iter()
        .filter(|d| d.state == LedgerState::Posted)
        .filter_map(|d| held(d))
        .sum();
    let mut differences = Vec::new();
    let mut group = |pick: &dyn Fn(&Document) -> bool, one: &str, many: &str, tail: &str| {
        let picked: Vec<&Document> = docs.iter().copied().filter(|d| pick(d)).collect();
        let amount: Decimal = picked.iter().map(|d| d.amount).sum();
        if !picked.is_empty() && !amount.is_zero() {
            differences.push(Difference {
                amount,
                reason: format!(
                    "{} {tail} ({})",
                    plural(picked.len(), one, many),
                    numbers(&picked)
                ),
            });
        }
    };
    group(
        &|d| d.state == LedgerState::Failed,
        "failed document is",
        "failed documents are",
        "not in QuickBooks",
    );
    group(
        &Document::waiting,
        "document waits",
        "documents wait",
        "to be posted",
    );
    group(
        &|d| d.state == LedgerState::Skipped,
        "skipped document was",
        "skipped documents were",
        "not posted: TrackTik, asked directly, said so, or there was nothing to post",
    );
    group(
        &|d| d.state == LedgerState::Posted && held(d).is_none(),
        "posted document has",
        "posted documents have",
        "no QuickBooks total recorded (posted before totals were kept)",
    );
    for d in docs {
        if let (LedgerState::Posted, Some(held)) = (d.state, held(d))
            && held != d.amount
        {
            let why = d
                .discrepancy
                .as_deref()
                .map(|t| format!(": {t}"))
                .unwrap_or_default();
            differences.push(Difference {
                amount: d.amount - held,
                reason: format!(
                    "QuickBooks holds {} {currency} for {} {}, TrackTik {} {currency}{why}",
                    money(held),
                    d.source.label(),
                    d.doc_number,
                    money(d.amount)
                ),
            });
        }
    }
    let notes = docs
        .iter()
        .filter(|d| d.changed_in_tracktik)
        .map(|d| {
            format!(
                "{} {} was changed in TrackTik after it was posted{}",
                d.source.label(),
                d.doc_number,
                d.change_note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_else(|| ".".into())
            )
        })
        .collect();
    Reconciliation {
        day,
        currency,
        documents: docs.len(),
        tracktik,
        quickbooks,
        differences,
        notes,
    }
}

/// An amount as people read it: two decimals, thousands separated, a leading minus.
pub fn money(amount: Decimal) -> String {
    let rounded =
        amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.2}", rounded.abs());
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}{grouped}.{cents}")
}

/// What the integration is doing right now.
#[derive(Clone, Debug)]
pub enum Activity {
    /// Nothing queued, nothing running.
    Idle,
    /// Runs wait for a worker (oldest first).
    Queued(Vec<RunRequest>),
    /// A run is going.
    Running(SyncRun),
}

/// The runs waiting for a worker (or picked up and not started yet), oldest first.
pub async fn queued(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Vec<SyncIntegration>> {
    let jobs: Vec<(sqlx::types::Json<SyncIntegration>,)> = sqlx::query_as(
        "select j.job from apalis.jobs j
         where j.job_type = $3 and j.status in ('Pending', 'Running')
           and j.job ->> 'integration_id' = $2::text
           and exists (select 1 from integration i where i.tenant_id = $1 and i.integration_id = $2)
         order by j.run_at, j.id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(controls::job_type())
    .fetch_all(db)
    .await?;
    Ok(jobs.into_iter().map(|j| j.0.0).collect())
}

/// [`live_run`]'s statement (`$1` the tenant, `$2` the integration), also part of
/// [`overview`]'s.
pub(crate) const LIVE_RUN: &str =
    "select sync_run_id, tenant_id, integration_id, trading_day, kind, status, total, done,
                posted, failed, skipped, error, requested_by, first_day, started_at, finished_at
         from sync_run
         where tenant_id = $1 and integration_id = $2 and status = 'running'
           and exists (
             select 1 from pg_locks l
             where l.locktype = 'advisory' and l.granted
               and l.database = (select oid from pg_database where datname = current_database())
               and ((l.classid::bigint << 32) | l.objid::bigint)
                   = hashtextextended('sync:' || $2::text, 20261126))
         order by started_at desc, sync_run_id desc limit 1";

/// The run going on now: a `running` row whose worker still holds the integration's run lock
/// (the engine's transaction-scoped advisory lock on `sync:<integration>`). A row left
/// `running` by a worker that died is not live: its lock went with its connection.
pub async fn live_run(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Option<SyncRun>> {
    sqlx::query_as(LIVE_RUN)
        .bind(tenant_id)
        .bind(integration_id)
        .fetch_optional(db)
        .await
}

/// Whether the integration has a run going or waiting.
pub async fn activity(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Activity> {
    if let Some(run) = live_run(db, tenant_id, integration_id).await? {
        return Ok(Activity::Running(run));
    }
    let waiting = queued(db, tenant_id, integration_id).await?;
    Ok(if waiting.is_empty() {
        Activity::Idle
    } else {
        Activity::Queued(waiting.into_iter().map(|j| j.request).collect())
    })
}

/// The latest finished run (previews write none).
pub async fn last_finished_run(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Option<SyncRun>> {
    sqlx::query_as(
        "select sync_run_id, tenant_id, integration_id, trading_day, kind, status, total, done,
                posted, failed, skipped, error, requested_by, first_day, started_at, finished_at
         from sync_run
         where tenant_id = $1 and integration_id = $2 and finished_at is not null
         order by finished_at desc, sync_run_id desc limit 1",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_optional(db)
    .await
}

#[cfg(test)]
mod tests;
