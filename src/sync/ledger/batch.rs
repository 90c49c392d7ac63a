//! Settling many members of one send at once (the common case of a batch QuickBooks took
//! whole, in one statement instead of one per document), and the owed rows of one chunk read.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{COLUMNS, LedgerEntry, Posted, Source};
use crate::ids::{IntegrationId, TenantId};

/// Records rows posted, each only if it is still `posting` in `send_id` (the fence of
/// [`super::settle_posted`], row by row, in one statement). Returns the ids it settled; a row
/// not among them left the send, and goes through `settle_posted` to tell a replayed answer
/// from a conflict.
pub async fn settle_posted_all(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    send_id: i64,
    rows: &[(i64, Posted<'_>)],
) -> sqlx::Result<HashSet<i64>> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    let done: Vec<i64> = sqlx::query_scalar(
        "update ledger_entry l set state = 'posted', qbo_entity = u.entity, qbo_id = u.qbo_id,
            qbo_doc_number = coalesce(u.doc_number, l.qbo_doc_number), qbo_link = u.link,
            qbo_amount = u.amount, posted_at = now(), retryable = false, last_error = null,
            error_code = null, fix_hint = null, fix_at = null, send_id = null, send_item = null
         from unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::numeric[])
              as u(ledger_entry_id, entity, qbo_id, doc_number, link, amount)
         where l.tenant_id = $1 and l.ledger_entry_id = u.ledger_entry_id
           and l.state = 'posting' and l.send_id = $2
         returning l.ledger_entry_id",
    )
    .bind(tenant_id)
    .bind(send_id)
    .bind(rows.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, p)| p.entity).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, p)| p.id).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, p)| p.doc_number).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, p)| p.link).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, p)| p.amount).collect::<Vec<_>>())
    .fetch_all(db)
    .await?;
    Ok(done.into_iter().collect())
}

/// The rows among `keys` (source, TrackTik id) a run owes, as [`super::owed`] finds them:
/// pending, or failed and retryable, approved before `until`, oldest approval first.
pub async fn owed_among(
    db: impl sqlx::PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    until: DateTime<Utc>,
    keys: &[(Source, i64)],
) -> sqlx::Result<Vec<LedgerEntry>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(&format!(
        "select {COLUMNS} from ledger_entry
         where tenant_id = $1 and integration_id = $2 and approved_at < $3
           and (source, source_id) in
               (select * from unnest($4::ledger_source[], $5::bigint[]))
           and (state = 'pending' or (state = 'failed' and retryable))
         order by approved_at, source, source_id"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .bind(until)
    .bind(keys.iter().map(|(s, _)| *s).collect::<Vec<_>>())
    .bind(keys.iter().map(|(_, id)| *id).collect::<Vec<_>>())
    .fetch_all(db)
    .await
}
