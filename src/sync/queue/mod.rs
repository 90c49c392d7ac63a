//! The sync jobs on the apalis queue: their payload, the cron tick's enqueue, manual requests
//! merged into one waiting job, and a job put back when its integration is busy.
//!
//! One integration never starves the others: at most one nightly and one manual job wait per
//! integration (later days and later requests merge into them), a run takes its integration's
//! lock without waiting, and a job that finds it taken goes back on the queue a little later
//! instead of holding a worker and a database connection.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{IntegrationId, TenantId};

use super::SyncError;
use super::runs::{Requester, RunKind};

/// The job payload: ids and what was asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncIntegration {
    /// The integration.
    pub integration_id: IntegrationId,
    /// The last trading day covered: documents approved before its end are posted.
    pub day: NaiveDate,
    /// What was asked for; jobs written before this field existed are nightly runs.
    #[serde(default)]
    pub request: RunRequest,
    /// For a nightly job that catches up several days: the first of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_day: Option<NaiveDate>,
}

impl SyncIntegration {
    /// The nightly run of `day`.
    pub fn nightly(integration_id: IntegrationId, day: NaiveDate) -> Self {
        Self {
            integration_id,
            day,
            request: RunRequest::Nightly,
            first_day: None,
        }
    }
}

/// A range of trading days, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DayRange {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

/// Manual requests merged into one job: what people asked for since the job was queued.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asked {
    /// "Sync now".
    #[serde(default)]
    pub sync_now: bool,
    /// "Retry failed" for every failed document.
    #[serde(default)]
    pub retry_all: bool,
    /// "Retry" of single documents (ledger rows).
    #[serde(default)]
    pub retry: Vec<i64>,
    /// "Back-sync" ranges, joined where they overlap or touch.
    #[serde(default)]
    pub back_sync: Vec<DayRange>,
    /// Asked by the customer.
    #[serde(default)]
    pub by_customer: bool,
    /// Asked by support.
    #[serde(default)]
    pub by_support: bool,
    /// Asked from the command line.
    #[serde(default)]
    pub by_command_line: bool,
}

impl Asked {
    /// One request, by one person.
    pub fn of(request: RunRequest, day: NaiveDate, by: Requester) -> Self {
        let mut asked = match request {
            RunRequest::Nightly | RunRequest::Manual => Asked {
                sync_now: true,
                ..Asked::default()
            },
            RunRequest::Retry { ledger_entry_id } => Asked {
                retry_all: ledger_entry_id.is_none(),
                retry: ledger_entry_id.into_iter().collect(),
                ..Asked::default()
            },
            RunRequest::BackSync { from } => Asked {
                back_sync: vec![DayRange { from, to: day }],
                ..Asked::default()
            },
            RunRequest::Asked(a) => a,
            RunRequest::Rollback { .. } => Asked::default(),
        };
        match by {
            Requester::Customer => asked.by_customer = true,
            Requester::Support => asked.by_support = true,
            Requester::CommandLine => asked.by_command_line = true,
            Requester::Schedule => {}
        }
        asked
    }

    /// Adds `other`'s requests; returns whether anything new was added.
    pub fn merge(&mut self, other: &Asked) -> bool {
        let before = self.clone();
        self.sync_now |= other.sync_now;
        self.retry_all |= other.retry_all;
        for id in &other.retry {
            if !self.retry.contains(id) {
                self.retry.push(id.to_owned());
            }
        }
        self.back_sync.extend(other.back_sync.iter().copied());
        self.back_sync = join(std::mem::take(&mut self.back_sync));
        self.by_customer |= other.by_customer;
        self.by_support |= other.by_support;
        self.by_command_line |= other.by_command_line;
        *self != before
    }

    /// The run kind it makes: a retry or back-sync alone keeps its name.
    pub fn kind(&self) -> RunKind {
        let retry = self.retry_all || !self.retry.is_empty();
        match (self.sync_now, retry, self.back_sync.is_empty()) {
            (false, true, true) => RunKind::Retry,
            (false, false, false) => RunKind::BackSync,
            _ => RunKind::Manual,
        }
    }

    /// Who the run is shown as started by: support when support asked at all.
    pub fn requester(&self) -> Requester {
        if self.by_support {
            Requester::Support
        } else if self.by_customer {
            Requester::Customer
        } else if self.by_command_line {
            Requester::CommandLine
        } else {
            Requester::Schedule
        }
    }
}

/// Ranges sorted, with overlapping and adjacent ones joined.
fn join(mut ranges: Vec<DayRange>) -> Vec<DayRange> {
    ranges.sort();
    let mut out: Vec<DayRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.from <= last.to.succ_opt().unwrap_or(last.to) => {
                last.to = last.to.max(r.to);
            }
            _ => out.push(r),
        }
    }
    out
}

/// What a queued run was asked to do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunRequest {
    /// The nightly run of a trading day (and every owed day before it), from the cron tick.
    #[default]
    Nightly,
    /// "Sync now": everything approved up to the end of the day.
    Manual,
    /// "Retry failed": one document, or every failed one when `ledger_entry_id` is none.
    Retry {
        /// The ledger row to retry.
        ledger_entry_id: Option<i64>,
    },
    /// "Back-sync a date range" from `from` to the job's day.
    BackSync {
        /// The first day of the range.
        from: NaiveDate,
    },
    /// Manual requests merged into one waiting job.
    Asked(Asked),
    /// Roll back a night (the rollback is recorded; the job works through it).
    Rollback {
        /// The rollback.
        rollback_id: i64,
    },
}

impl RunRequest {
    /// The run kind it produces.
    pub fn kind(&self) -> RunKind {
        match self {
            Self::Nightly => RunKind::Nightly,
            Self::Manual => RunKind::Manual,
            Self::Retry { .. } => RunKind::Retry,
            Self::BackSync { .. } => RunKind::BackSync,
            Self::Asked(a) => a.kind(),
            Self::Rollback { .. } => RunKind::Manual,
        }
    }
}

/// Whether a queued request was added or changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queued {
    /// Queued, or merged into the request already waiting.
    Added,
    /// The same request was already waiting; nothing changed.
    AlreadyQueued,
}

/// Tries per job before apalis gives up (later runs still catch up everything owed).
pub const JOB_MAX_ATTEMPTS: i32 = 5;

/// The apalis job type of [`SyncIntegration`] (what `PostgresStorage::<SyncIntegration>::new`
/// uses).
pub fn job_type() -> &'static str {
    std::any::type_name::<SyncIntegration>()
}

fn payload(job: &SyncIntegration) -> Result<serde_json::Value, SyncError> {
    serde_json::to_value(job).map_err(|e| SyncError::Unavailable(e.to_string()))
}

/// Writes jobs as `PostgresStorage::push` does, in one statement, to run at `run_at`.
async fn insert_jobs(
    db: impl sqlx::PgExecutor<'_>,
    jobs: &[SyncIntegration],
    run_at: DateTime<Utc>,
) -> Result<(), SyncError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let payloads = jobs.iter().map(payload).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<String> = jobs
        .iter()
        .map(|_| apalis::prelude::TaskId::new().to_string())
        .collect();
    sqlx::query(
        "insert into apalis.jobs (job, id, job_type, status, attempts, max_attempts, run_at,
            priority)
         select j, i, $3, 'Pending', 0, $4, $5, 0 from unnest($1::jsonb[], $2::text[]) as u(j, i)",
    )
    .bind(&payloads)
    .bind(&ids)
    .bind(job_type())
    .bind(JOB_MAX_ATTEMPTS)
    .bind(run_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The cron tick: claims, for every active integration at once, the latest trading day whose
/// cutoff has passed (in the integration's own zone) and that was not claimed before, then
/// queues one nightly job per integration for it, or moves the integration's waiting nightly
/// job to that day. A handful of statements, whatever the number of integrations; concurrent
/// ticks claim a day once (`sync_day`'s key). Returns the jobs queued or moved.
pub async fn enqueue_due(
    db: &sqlx::PgPool,
    now: DateTime<Utc>,
) -> Result<Vec<SyncIntegration>, SyncError> {
    let mut tx = db.begin().await?;
    let claimed: Vec<(IntegrationId, NaiveDate, Option<NaiveDate>)> = sqlx::query_as(
        "with zones as (select name from pg_timezone_names),
         active as (
            select i.tenant_id, i.integration_id,
                   coalesce(nullif(trim(i.settings -> 'schedule' ->> 'time_zone'), ''), 'UTC')
                       as tz,
                   coalesce((i.settings -> 'schedule' ->> 'cutoff')::time, time '03:00') as cutoff,
                   (i.settings -> 'schedule' ->> 'start_date')::date as start_date
            from integration i
            where i.state = 'active'
              and nullif(i.settings -> 'schedule' ->> 'start_date', '') is not null
         ),
         due as (
            select a.tenant_id, a.integration_id, a.start_date,
                   case when ($1 at time zone a.tz)::time >= a.cutoff
                        then ($1 at time zone a.tz)::date - 1
                        else ($1 at time zone a.tz)::date - 2 end as day
            from active a join zones z on z.name = a.tz
         ),
         owed as (
            select d.*, (select max(s.trading_day) from sync_day s
                         where s.tenant_id = d.tenant_id
                           and s.integration_id = d.integration_id) as last
            from due d
            where d.day >= d.start_date
         ),
         claimed as (
            insert into sync_day (tenant_id, integration_id, trading_day)
            select tenant_id, integration_id, day from owed
            where last is null or day > last
            on conflict do nothing
            returning integration_id, trading_day
         )
         select c.integration_id, c.trading_day,
                coalesce(o.last + 1, o.start_date) as first_day
         from claimed c join owed o on o.integration_id = c.integration_id",
    )
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    if claimed.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    // Integrations whose nightly job still waits: it now runs to the later day.
    let ids: Vec<IntegrationId> = claimed.iter().map(|c| c.0).collect();
    let days: Vec<NaiveDate> = claimed.iter().map(|c| c.1).collect();
    let moved: Vec<IntegrationId> = sqlx::query_scalar(
        "update apalis.jobs j
         set job = jsonb_set(j.job, '{day}', to_jsonb(u.day::text))
         from unnest($1::uuid[], $2::date[]) as u(integration_id, day)
         where j.job_type = $3 and j.status = 'Pending'
           and j.job ->> 'integration_id' = u.integration_id::text
           and coalesce(j.job -> 'request' ->> 'kind', 'nightly') = 'nightly'
         returning u.integration_id",
    )
    .bind(&ids)
    .bind(&days)
    .bind(job_type())
    .fetch_all(&mut *tx)
    .await?;
    let jobs: Vec<SyncIntegration> = claimed
        .into_iter()
        .map(|(integration_id, day, first_day)| SyncIntegration {
            integration_id,
            day,
            request: RunRequest::Nightly,
            first_day: first_day.filter(|f| *f < day),
        })
        .collect();
    let new: Vec<SyncIntegration> = jobs
        .iter()
        .filter(|j| !moved.contains(&j.integration_id))
        .cloned()
        .collect();
    insert_jobs(&mut *tx, &new, now).await?;
    tx.commit().await?;
    Ok(jobs)
}

/// Queues a manual request (sync now, retry, back-sync) for the workers, merged into the
/// integration's waiting manual job if there is one: one waiting manual job per integration,
/// back-sync ranges joined. `day` is the last day it covers.
pub async fn enqueue(
    db: &sqlx::PgPool,
    integration_id: IntegrationId,
    request: RunRequest,
    day: NaiveDate,
    by: Requester,
) -> Result<(SyncIntegration, Queued), SyncError> {
    let asked = Asked::of(request, day, by);
    let mut tx = db.begin().await?;
    // One enqueue at a time per integration, so two clicks cannot both insert a job. The lock
    // is held for two short statements.
    sqlx::query("select pg_advisory_xact_lock(hashtext('enqueue:' || $1::text))")
        .bind(integration_id)
        .execute(&mut *tx)
        .await?;
    let waiting: Option<(String, sqlx::types::Json<SyncIntegration>)> = sqlx::query_as(
        "select id, job from apalis.jobs
         where job_type = $1 and status = 'Pending' and job ->> 'integration_id' = $2::text
           and job -> 'request' ->> 'kind' in ('asked', 'manual', 'retry', 'back_sync')
         order by run_at, id limit 1 for update",
    )
    .bind(job_type())
    .bind(integration_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (job, queued) = match waiting {
        Some((id, old)) => {
            let mut old = old.0;
            let mut merged = Asked::of(old.request.clone(), old.day, Requester::Schedule);
            let changed = merged.merge(&asked) | (day > old.day);
            old.day = old.day.max(day);
            old.request = RunRequest::Asked(merged);
            if changed {
                sqlx::query("update apalis.jobs set job = $2 where id = $1")
                    .bind(&id)
                    .bind(payload(&old)?)
                    .execute(&mut *tx)
                    .await?;
            }
            (
                old,
                if changed {
                    Queued::Added
                } else {
                    Queued::AlreadyQueued
                },
            )
        }
        None => {
            let job = SyncIntegration {
                integration_id,
                day,
                request: RunRequest::Asked(asked),
                first_day: None,
            };
            insert_jobs(&mut *tx, std::slice::from_ref(&job), Utc::now()).await?;
            (job, Queued::Added)
        }
    };
    tx.commit().await?;
    Ok((job, queued))
}

/// Queues a recorded rollback of `day` (never merged with other requests).
pub async fn enqueue_rollback(
    db: &sqlx::PgPool,
    integration_id: IntegrationId,
    rollback_id: i64,
    day: NaiveDate,
) -> Result<SyncIntegration, SyncError> {
    let job = SyncIntegration {
        integration_id,
        day,
        request: RunRequest::Rollback { rollback_id },
        first_day: None,
    };
    insert_jobs(db, std::slice::from_ref(&job), Utc::now()).await?;
    Ok(job)
}

/// Puts a job back on the queue to run after `delay` (its integration was busy), merged into
/// a waiting job of the same kind if there is one.
pub async fn requeue(
    db: &sqlx::PgPool,
    job: &SyncIntegration,
    delay: std::time::Duration,
) -> Result<(), SyncError> {
    let run_at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
    match &job.request {
        RunRequest::Rollback { .. } => {
            insert_jobs(db, std::slice::from_ref(job), run_at).await?;
        }
        RunRequest::Nightly => {
            let mut tx = db.begin().await?;
            let moved = sqlx::query(
                "update apalis.jobs set job = jsonb_set(job, '{day}',
                        to_jsonb(greatest((job ->> 'day')::date, $3::date)::text))
                 where job_type = $1 and status = 'Pending' and job ->> 'integration_id' = $2::text
                   and coalesce(job -> 'request' ->> 'kind', 'nightly') = 'nightly'",
            )
            .bind(job_type())
            .bind(job.integration_id)
            .bind(job.day)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() == 0 {
                insert_jobs(&mut *tx, std::slice::from_ref(job), run_at).await?;
            }
            tx.commit().await?;
        }
        request => {
            let (merged, queued) = enqueue(
                db,
                job.integration_id,
                request.clone(),
                job.day,
                Requester::Schedule,
            )
            .await?;
            if queued == Queued::Added {
                // A new job or a merge: either way it should not run before the delay.
                sqlx::query(
                    "update apalis.jobs set run_at = greatest(run_at, $3)
                     where job_type = $1 and status = 'Pending' and job ->> 'integration_id' = $2::text
                       and job -> 'request' ->> 'kind' = 'asked'",
                )
                .bind(job_type())
                .bind(merged.integration_id)
                .bind(run_at)
                .execute(db)
                .await?;
            }
        }
    }
    Ok(())
}

/// The tenant of an integration, for the job (whose payload carries the integration only).
pub async fn tenant_of(
    db: &sqlx::PgPool,
    integration_id: IntegrationId,
) -> sqlx::Result<Option<TenantId>> {
    sqlx::query_scalar("select tenant_id from integration where integration_id = $1")
        .bind(integration_id)
        .fetch_optional(db)
        .await
}

#[cfg(test)]
mod tests;
