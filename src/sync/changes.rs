//! The changes check: documents TrackTik edited, un-approved or deleted after they were posted
//! are flagged `changed_in_tracktik` with what happened (the QuickBooks copy is never changed,
//! and nothing is posted again). It runs on its own schedule ([`EVERY`]), not in the nightly
//! run, and reads only documents TrackTik updated since its last pass, plus, for deletions
//! (which leave no update behind), whether documents posted in the last [`RECENT`] still exist.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};

use crate::ids::{IntegrationId, TenantId};
use crate::providers::tracktik::{AccessToken, Portal, TrackTikError};
use crate::state::AppState;

use super::SyncError;
use super::cursor::{self, OVERLAP};
use super::gather;
use super::ledger::{self, Source};
use super::reader;
use super::source;

/// How often an integration's posted documents are checked.
pub const EVERY: TimeDelta = TimeDelta::days(7);

/// How far back posted documents are checked for deletion.
pub const RECENT: TimeDelta = TimeDelta::days(90);

const CHANGED: &str =
    "Changed in TrackTik after it was posted to QuickBooks; the QuickBooks copy was not changed.";
const UNAPPROVED: &str = "No longer approved in TrackTik after it was posted to QuickBooks; the QuickBooks copy was not changed.";
const DELETED: &str =
    "Deleted in TrackTik after it was posted to QuickBooks; the QuickBooks copy was not changed.";

/// Checks one integration's posted documents; returns how many were newly flagged.
pub async fn check(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> Result<u64, SyncError> {
    let (portal, token, _) = gather::tracktik(state, tenant_id, false).await?;
    match check_with(state, tenant_id, integration_id, &portal, &token).await? {
        Ok(n) => Ok(n),
        Err(e) if e.is_unauthorized() => {
            let (portal, token, _) = gather::tracktik(state, tenant_id, true).await?;
            check_with(state, tenant_id, integration_id, &portal, &token)
                .await?
                .map_err(|e| SyncError::Unavailable(format!("TrackTik could not be read: {e}")))
        }
        Err(e) => Err(SyncError::Unavailable(format!(
            "TrackTik could not be read: {e}"
        ))),
    }
}

async fn check_with(
    state: &AppState,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    portal: &Portal,
    token: &AccessToken,
) -> Result<Result<u64, TrackTikError>, SyncError> {
    let db = &state.db;
    let tt = &state.providers.tracktik;
    let cursors = cursor::get(db, tenant_id, integration_id).await?;
    let started = Utc::now();
    let mut flagged = 0;
    macro_rules! tt {
        ($call:expr) => {
            match $call.await {
                Ok(v) => v,
                Err(e) => return Ok(Err(e)),
            }
        };
    }
    for source in [Source::Invoice, Source::Payrun, Source::CreditMemo] {
        let Some(c) = cursors.get(&source) else {
            continue;
        };
        let since = c.changes_through.unwrap_or(c.read_through - EVERY) - OVERLAP;
        // Documents updated since the last pass that are posted.
        let updated: Vec<i64> = match source {
            Source::Invoice => tt!(tt.invoices_updated_since(portal, token, since))
                .into_iter()
                .map(|i| i.id)
                .collect(),
            Source::Payrun => tt!(tt.payruns_updated_since(portal, token, since))
                .into_iter()
                .map(|p| p.id)
                .collect(),
            Source::CreditMemo => tt!(tt.credit_memos_updated_since(portal, token, since))
                .into_iter()
                .map(|c| c.0.id)
                .collect(),
        };
        let posted =
            ledger::posted_revisions(db, tenant_id, integration_id, source, &updated).await?;
        let ids: Vec<i64> = posted.keys().copied().collect();
        let mut asked = reader::Ids::default();
        match source {
            Source::Invoice => asked.invoices = ids,
            Source::Payrun => asked.payruns = ids,
            Source::CreditMemo => asked.credit_memos = ids,
        }
        let read = tt!(reader::owed(tt, portal, token, &asked));
        let mut changed = Vec::new();
        for d in &read.batch.invoices {
            let revision = source::invoice_revision(d);
            if posted.get(&d.invoice.id).is_some_and(|r| *r != revision) {
                changed.push(d.invoice.id);
            }
        }
        for d in &read.batch.credit_memos {
            let revision = source::invoice_revision(d);
            if posted.get(&d.invoice.id).is_some_and(|r| *r != revision) {
                changed.push(d.invoice.id);
            }
        }
        for d in &read.batch.payruns {
            let revision = source::payrun_revision(d);
            if posted.get(&d.payrun.id).is_some_and(|r| *r != revision) {
                changed.push(d.payrun.id);
            }
        }
        let ids_of = |v: &[(Source, i64)]| v.iter().map(|(_, id)| *id).collect::<Vec<_>>();
        flagged +=
            ledger::flag_posted(db, tenant_id, integration_id, source, &changed, CHANGED).await?;
        flagged += ledger::flag_posted(
            db,
            tenant_id,
            integration_id,
            source,
            &ids_of(&read.not_approved),
            UNAPPROVED,
        )
        .await?;
        flagged += ledger::flag_posted(
            db,
            tenant_id,
            integration_id,
            source,
            &ids_of(&read.deleted),
            DELETED,
        )
        .await?;
        // Deletions leave no update: ask whether recently posted documents still exist.
        let recent =
            ledger::posted_since(db, tenant_id, integration_id, source, started - RECENT).await?;
        let present: HashSet<i64> = match source {
            Source::Invoice => tt!(tt.invoices_by_id(portal, token, &recent))
                .into_iter()
                .map(|i| i.id)
                .collect(),
            Source::Payrun => tt!(tt.payruns_by_id(portal, token, &recent))
                .into_iter()
                .map(|p| p.id)
                .collect(),
            Source::CreditMemo => tt!(tt.credit_memos_by_id(portal, token, &recent))
                .into_iter()
                .map(|c| c.0.id)
                .collect(),
        };
        let mut gone = Vec::new();
        for id in recent.iter().filter(|id| !present.contains(id)) {
            let exists = match source {
                Source::Invoice => tt!(tt.invoice_if_exists(portal, token, *id)).is_some(),
                Source::Payrun => tt!(tt.payrun_if_exists(portal, token, *id)).is_some(),
                Source::CreditMemo => tt!(tt.credit_memo_if_exists(portal, token, *id)).is_some(),
            };
            if !exists {
                gone.push(*id);
            }
        }
        flagged +=
            ledger::flag_posted(db, tenant_id, integration_id, source, &gone, DELETED).await?;
        cursor::changes_checked(db, tenant_id, integration_id, source, started).await?;
    }
    Ok(Ok(flagged))
}

/// Integrations whose posted documents are due for a check (active, not checked for
/// [`EVERY`]), for the periodic job.
pub async fn due(
    db: &sqlx::PgPool,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(TenantId, IntegrationId)>> {
    sqlx::query_as(
        "select i.tenant_id, i.integration_id from integration i
         where i.state = 'active'
           and exists (select 1 from sync_cursor c
                       where c.tenant_id = i.tenant_id and c.integration_id = i.integration_id)
           and not exists (select 1 from sync_cursor c
                           where c.tenant_id = i.tenant_id and c.integration_id = i.integration_id
                             and c.changes_through > $1 - make_interval(secs => $2))
         order by i.integration_id",
    )
    .bind(now)
    .bind(EVERY.num_seconds() as f64)
    .fetch_all(db)
    .await
}
