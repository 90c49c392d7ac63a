//! SQL for availability and sessions. Tenant-scoped functions take the tenant id first.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::{Booking, Busy, Hours, Schedule, Session};
use crate::ids::{IntegrationId, StaffUserId, TenantId, TenantUserId};

/// One expert's availability settings (without the hours).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AvailabilityRow {
    /// The expert.
    pub staff_user_id: StaffUserId,
    /// Their zone.
    pub time_zone: String,
    /// Minutes per session.
    pub session_minutes: i32,
    /// Whether customers can book them.
    pub published: bool,
}

/// Experts' schedules: one expert's (`only`), or every published one.
pub async fn schedules(
    db: &sqlx::PgPool,
    only: Option<StaffUserId>,
) -> sqlx::Result<Vec<(AvailabilityRow, Schedule)>> {
    let rows: Vec<AvailabilityRow> = sqlx::query_as(
        "select staff_user_id, time_zone, session_minutes, published from expert_availability
         where ($1::uuid is null and published) or staff_user_id = $1
         order by staff_user_id",
    )
    .bind(only)
    .fetch_all(db)
    .await?;
    let ids: Vec<StaffUserId> = rows.iter().map(|r| r.staff_user_id).collect();
    let weekly: Vec<(StaffUserId, i16, NaiveTime, NaiveTime)> = sqlx::query_as(
        "select staff_user_id, weekday, starts, ends from expert_weekly_hours
         where staff_user_id = any($1) order by starts",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let exceptions: Vec<(StaffUserId, NaiveDate, Option<NaiveTime>, Option<NaiveTime>)> =
        sqlx::query_as(
            "select staff_user_id, day, starts, ends from expert_exception
             where staff_user_id = any($1) order by day, starts nulls first",
        )
        .bind(&ids)
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let id = row.staff_user_id;
            let mut s = Schedule {
                staff_user_id: id,
                zone: row.time_zone.parse().unwrap_or(chrono_tz::UTC),
                session_minutes: u32::try_from(row.session_minutes).unwrap_or(30),
                weekly: BTreeMap::new(),
                exceptions: BTreeMap::new(),
            };
            for (_, day, starts, ends) in weekly.iter().filter(|w| w.0 == id) {
                s.weekly
                    .entry(u8::try_from(*day).unwrap_or(1))
                    .or_default()
                    .push(Hours {
                        starts: *starts,
                        ends: *ends,
                    });
            }
            for (_, day, starts, ends) in exceptions.iter().filter(|e| e.0 == id) {
                let hours = s.exceptions.entry(*day).or_default();
                if let (Some(starts), Some(ends)) = (starts, ends) {
                    hours.push(Hours {
                        starts: *starts,
                        ends: *ends,
                    });
                }
            }
            (row, s)
        })
        .collect())
}

/// Replaces an expert's availability.
pub async fn save_availability(
    conn: &mut PgConnection,
    schedule: &Schedule,
    published: bool,
) -> sqlx::Result<()> {
    let id = schedule.staff_user_id;
    sqlx::query(
        "insert into expert_availability (staff_user_id, time_zone, session_minutes, published)
         values ($1, $2, $3, $4)
         on conflict (staff_user_id) do update set time_zone = excluded.time_zone,
             session_minutes = excluded.session_minutes, published = excluded.published,
             updated_at = now()",
    )
    .bind(id)
    .bind(schedule.zone.name())
    .bind(i32::try_from(schedule.session_minutes).unwrap_or(30))
    .bind(published)
    .execute(&mut *conn)
    .await?;
    sqlx::query("delete from expert_weekly_hours where staff_user_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from expert_exception where staff_user_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for (day, hours) in &schedule.weekly {
        for h in hours {
            sqlx::query(
                "insert into expert_weekly_hours (staff_user_id, weekday, starts, ends) values ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(i16::from(*day))
            .bind(h.starts)
            .bind(h.ends)
            .execute(&mut *conn)
            .await?;
        }
    }
    for (day, hours) in &schedule.exceptions {
        if hours.is_empty() {
            sqlx::query("insert into expert_exception (staff_user_id, day) values ($1, $2)")
                .bind(id)
                .bind(day)
                .execute(&mut *conn)
                .await?;
        }
        for h in hours {
            sqlx::query(
                "insert into expert_exception (staff_user_id, day, starts, ends) values ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(day)
            .bind(h.starts)
            .bind(h.ends)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Booked sessions overlapping `from..to`, across experts.
pub async fn busy(
    db: impl PgExecutor<'_>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<Busy>> {
    let rows: Vec<(StaffUserId, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
        "select staff_user_id, starts_at, ends_at from expert_session
         where status = 'booked' and starts_at < $2 and ends_at > $1",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(staff_user_id, starts_at, ends_at)| Busy {
            staff_user_id,
            starts_at,
            ends_at,
        })
        .collect())
}

/// Upcoming booked sessions per expert (to give the next booking to the least busy).
pub async fn upcoming_counts(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<(StaffUserId, i64)>> {
    sqlx::query_as(
        "select staff_user_id, count(*) from expert_session
         where status = 'booked' and starts_at > now() group by 1",
    )
    .fetch_all(db)
    .await
}

/// Whether an error is the exclusion constraint refusing an overlapping booking.
pub fn is_double_booking(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.constraint())
        .is_some_and(|c| c == "expert_session_no_double_booking")
}

/// Who booked, for [`insert`].
pub struct Booker<'a> {
    /// Their id (none once they are deleted).
    pub user: Option<TenantUserId>,
    /// Their name.
    pub name: &'a str,
}

/// Books `staff` for `booking`; the exclusion constraint refuses a time already taken.
pub async fn insert(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    staff: StaffUserId,
    booking: &Booking,
    booker: &Booker<'_>,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "insert into expert_session (tenant_id, integration_id, staff_user_id, starts_at, ends_at,
             customer_zone, contact, phone, topic, booked_by, booked_by_name, booked_by_email)
         values ($1, $2, $3, $4, $4 + make_interval(mins => $5), $6, $7, $8, $9, $10, $11, $12)
         returning expert_session_id",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .bind(staff)
    .bind(booking.starts_at)
    .bind(i32::try_from(booking.minutes).unwrap_or(30))
    .bind(booking.zone.name())
    .bind(booking.contact.key())
    .bind(&booking.phone)
    .bind(&booking.topic)
    .bind(booker.user)
    .bind(booker.name)
    .bind(&booking.email)
    .fetch_one(conn)
    .await
}

const SESSION: &str = "s.expert_session_id, s.tenant_id, s.integration_id, i.company_name,
    t.name as tenant_name, s.staff_user_id, st.email as staff_email, st.time_zone as staff_zone,
    s.starts_at, s.ends_at,
    s.status::text as status, s.customer_zone, s.contact, s.phone, s.topic, s.booked_by_name,
    s.booked_by_email, s.sequence, s.cancelled_at, s.cancelled_by, s.notes, s.outcome,
    s.notes_by, s.notes_at";
const FROM: &str = "from expert_session s
    join integration i on i.tenant_id = s.tenant_id and i.integration_id = s.integration_id
    join tenant t on t.tenant_id = s.tenant_id
    join staff_user st on st.staff_user_id = s.staff_user_id";

/// One session of this tenant.
pub async fn get(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: Uuid,
) -> sqlx::Result<Option<Session>> {
    sqlx::query_as(&format!(
        "select {SESSION} {FROM} where s.tenant_id = $1 and s.expert_session_id = $2"
    ))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// A new reschedule-and-cancel link's secret for a session (one per e-mail).
pub async fn new_manage_token(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: Uuid,
) -> sqlx::Result<String> {
    let token = crate::members::new_token();
    sqlx::query(
        "insert into expert_session_link (token_hash, tenant_id, expert_session_id) values ($1, $2, $3)",
    )
    .bind(crate::members::token_hash(&token))
    .bind(tenant_id)
    .bind(id)
    .execute(db)
    .await?;
    Ok(token)
}

/// The session a manage link (from an e-mail) leads to.
pub async fn get_by_token(db: impl PgExecutor<'_>, token: &str) -> sqlx::Result<Option<Session>> {
    sqlx::query_as(&format!(
        "select {SESSION} {FROM}
         join expert_session_link l on l.tenant_id = s.tenant_id
                                    and l.expert_session_id = s.expert_session_id
         where l.token_hash = $1"
    ))
    .bind(crate::members::token_hash(token))
    .fetch_optional(db)
    .await
}

/// One session, for staff (across tenants).
pub async fn get_for_staff(db: impl PgExecutor<'_>, id: Uuid) -> sqlx::Result<Option<Session>> {
    sqlx::query_as(&format!(
        "select {SESSION} {FROM} where s.expert_session_id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The sessions of one integration, newest first.
pub async fn list_for_integration(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Vec<Session>> {
    sqlx::query_as(&format!(
        "select {SESSION} {FROM} where s.tenant_id = $1 and s.integration_id = $2
         order by s.starts_at desc limit 20"
    ))
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_all(db)
    .await
}

/// Sessions for the console: booked ones still to come (soonest first) or, with `past`, the
/// latest ones that ended or were cancelled.
pub async fn list_for_console(
    db: impl PgExecutor<'_>,
    past: bool,
    limit: i64,
) -> sqlx::Result<Vec<Session>> {
    let (filter, order) = if past {
        (
            "not (s.status = 'booked' and s.ends_at > now())",
            "s.starts_at desc",
        )
    } else {
        ("s.status = 'booked' and s.ends_at > now()", "s.starts_at")
    };
    sqlx::query_as(&format!(
        "select {SESSION} {FROM} where {filter} order by {order} limit $1"
    ))
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Cancels a booked session of the tenant; false when it was not booked any more.
pub async fn cancel(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: Uuid,
    by: &str,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "update expert_session set status = 'cancelled', cancelled_at = now(), cancelled_by = $3,
                sequence = sequence + 1
         where tenant_id = $1 and expert_session_id = $2 and status = 'booked'",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(by)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Moves a booked session to another time (and possibly expert); the exclusion constraint
/// refuses a time already taken. The invitation's revision goes up and reminders are due again.
pub async fn reschedule(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    id: Uuid,
    staff: StaffUserId,
    starts_at: DateTime<Utc>,
    minutes: u32,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "update expert_session set staff_user_id = $3, starts_at = $4,
                ends_at = $4 + make_interval(mins => $5), sequence = sequence + 1,
                reminded_24h_for = null, reminded_1h_for = null
         where tenant_id = $1 and expert_session_id = $2 and status = 'booked'",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(staff)
    .bind(starts_at)
    .bind(i32::try_from(minutes).unwrap_or(30))
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Records the expert's notes and outcome; the session is done (unless it was cancelled).
pub async fn record_notes(
    db: impl PgExecutor<'_>,
    tenant_id: TenantId,
    id: Uuid,
    notes: &str,
    outcome: &str,
    by: &str,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "update expert_session set notes = $3, outcome = $4, notes_by = $5, notes_at = now(),
                status = case when status = 'cancelled' then status else 'done' end
         where tenant_id = $1 and expert_session_id = $2",
    )
    .bind(tenant_id)
    .bind(id)
    .bind(notes)
    .bind(outcome)
    .bind(by)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Claims the booked sessions whose reminder `hours` before is due now (each once per start
/// time, whichever worker asks first), skipping those booked too late for it.
pub async fn claim_reminders(
    db: impl PgExecutor<'_>,
    hours: i32,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Session>> {
    let column = if hours == 24 {
        "reminded_24h_for"
    } else {
        "reminded_1h_for"
    };
    sqlx::query_as(&format!(
        "with due as (
             update expert_session set {column} = starts_at
             where status = 'booked' and starts_at > $1 + make_interval(hours => $3)
               and starts_at <= $1 + make_interval(hours => $2)
               and {column} is distinct from starts_at
               and updated_at <= starts_at - make_interval(hours => $2)
             returning expert_session_id)
         select {SESSION} {FROM} join due d on d.expert_session_id = s.expert_session_id"
    ))
    .bind(now)
    .bind(hours)
    // A later reminder that is already due makes this one pointless.
    .bind(if hours == 24 { 1 } else { 0 })
    .fetch_all(db)
    .await
}
