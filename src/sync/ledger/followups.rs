//! What happens to ledger rows after a run: documents gone from TrackTik are flagged, failed
//! ones are retried on request, QuickBooks totals that differ are noted.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::Source;
use crate::ids::{IntegrationId, TenantId};

/// Flags posted documents that TrackTik no longer lists as approved (deleted, or set back to
/// draft) although their approval lies in `[from, until)`. Returns how many were newly flagged.
pub async fn flag_missing(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    source: Source,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    still_there: &[i64],
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "update ledger_entry set changed_in_tracktik = true,
            change_note = 'Deleted in TrackTik, or no longer approved, after it was posted to QuickBooks; the QuickBooks copy was not changed.'
         where tenant_id = $1 and integration_id = $2 and source = $3 and state = 'posted'
           and approved_at >= $4 and approved_at < $5 and not (source_id = any($6))
           and not changed_in_tracktik",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(source)
    .bind(from)
    .bind(until)
    .bind(still_there)
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
