//! Per integration and TrackTik source, how far TrackTik's changes were read (the watermark):
//! the next run asks only for documents updated since then, less an overlap margin, so its
//! cost follows what changed, not the integration's history.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sqlx::PgExecutor;

use crate::ids::{IntegrationId, TenantId};

use super::ledger::Source;

/// How far back of the watermark each read starts: TrackTik's clock and ours may differ, and
/// a change committed a little late may carry an earlier `updatedOn`.
pub const OVERLAP: TimeDelta = TimeDelta::minutes(15);

/// The watermark of one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Cursor {
    /// Changes TrackTik made before this were read (less [`OVERLAP`]).
    pub read_through: DateTime<Utc>,
    /// The earliest approval day the reads cover.
    pub covered_from: NaiveDate,
    /// The changes check (posted documents edited or deleted) got this far.
    pub changes_through: Option<DateTime<Utc>>,
}

/// The integration's watermarks, per source.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<HashMap<Source, Cursor>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        source: Source,
        #[sqlx(flatten)]
        cursor: Cursor,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select source, read_through, covered_from, changes_through from sync_cursor
         where tenant_id = $1 and integration_id = $2",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.source, r.cursor)).collect())
}

/// Records a completed read: the watermark never moves back, the covered range only grows.
/// Every source one run read, in one statement.
pub async fn advance_all(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    cursors: &[(Source, DateTime<Utc>, NaiveDate)],
) -> sqlx::Result<()> {
    if cursors.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into sync_cursor (tenant_id, integration_id, source, read_through, covered_from)
         select $1, $2, c.source, c.read_through, c.covered_from
         from unnest($3::ledger_source[], $4::timestamptz[], $5::date[])
              as c(source, read_through, covered_from)
         on conflict (tenant_id, integration_id, source) do update set
            read_through = greatest(sync_cursor.read_through, excluded.read_through),
            covered_from = least(sync_cursor.covered_from, excluded.covered_from),
            updated_at = now()
         where sync_cursor.tenant_id = excluded.tenant_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(cursors.iter().map(|c| c.0).collect::<Vec<_>>())
    .bind(cursors.iter().map(|c| c.1).collect::<Vec<_>>())
    .bind(cursors.iter().map(|c| c.2).collect::<Vec<_>>())
    .execute(db)
    .await?;
    Ok(())
}

/// Records how far the changes check got.
pub async fn changes_checked(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    source: Source,
    through: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update sync_cursor set changes_through = greatest(changes_through, $4), updated_at = now()
         where tenant_id = $1 and integration_id = $2 and source = $3",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(source)
    .bind(through)
    .execute(db)
    .await?;
    Ok(())
}
