//! What happens to ledger rows after a run: failed ones are retried on request, QuickBooks
//! totals that differ are noted, posted ones TrackTik changed later are flagged.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::Source;
use crate::ids::{IntegrationId, TenantId};

/// The revision each posted document among `ids` was posted with.
pub async fn posted_revisions(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    source: Source,
    ids: &[i64],
) -> sqlx::Result<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "select source_id, revision from ledger_entry
         where tenant_id = $1 and integration_id = $2 and source = $3 and source_id = any($4)
           and state = 'posted'",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(source)
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Documents posted at or after `since`.
pub async fn posted_since(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    source: Source,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "select source_id from ledger_entry
         where tenant_id = $1 and integration_id = $2 and source = $3 and state = 'posted'
           and posted_at >= $4
         order by source_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(source)
    .bind(since)
    .fetch_all(db)
    .await
}

/// Flags posted documents TrackTik changed after they were posted, with what happened.
/// Returns how many were newly flagged.
pub async fn flag_posted(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    source: Source,
    ids: &[i64],
    note: &str,
) -> sqlx::Result<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "update ledger_entry set changed_in_tracktik = true, change_note = $5
         where tenant_id = $1 and integration_id = $2 and source = $3 and source_id = any($4)
           and state = 'posted' and not changed_in_tracktik",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(source)
    .bind(ids)
    .bind(note)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Makes failed documents postable again on purpose: back to `pending` with a new generation,
/// hence a new request id (QBO replays the old answer, refusal included, for the old one).
/// `ledger_entry_id` `None` retries every failed document of the integration.
pub async fn retry_failed(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    ledger_entry_id: Option<i64>,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "update ledger_entry set state = 'pending', generation = generation + 1, retryable = false
         where tenant_id = $1 and integration_id = $2 and state = 'failed'
           and ($3::bigint is null or ledger_entry_id = $3)",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(ledger_entry_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Makes a skipped document owed again (a support replay): the next run asks TrackTik about
/// it directly. Returns whether it was skipped.
pub async fn reopen_skipped(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update ledger_entry set state = 'pending', generation = generation + 1,
            retryable = false, last_error = null, error_code = null, fix_hint = null,
            fix_at = null
         where tenant_id = $1 and ledger_entry_id = $2 and state = 'skipped'",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records that QuickBooks' total for a posted document differs from TrackTik's.
pub async fn note_discrepancy(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    ledger_entry_id: i64,
    note: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update ledger_entry set discrepancy = $3 where tenant_id = $1 and ledger_entry_id = $2",
    )
    .bind(tenant_id)
    .bind(ledger_entry_id)
    .bind(note)
    .execute(db)
    .await?;
    Ok(())
}
