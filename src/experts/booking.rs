//! Booking and moving a session: the slot must still be free, the least busy free expert gets
//! it, and when two customers race for one time the database lets one of them have it.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::db::{self, Booker};
use super::{Booking, HORIZON_DAYS, MIN_NOTICE, Session, Slot, free_slots};
use crate::ids::{IntegrationId, StaffUserId, TenantId};

/// Why a booking did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// The time is not free (any more).
    #[error("that time is not free")]
    Taken,
    /// The session is not booked any more (cancelled or done).
    #[error("the session is not booked")]
    NotBooked,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Every slot customers can book now: from [`MIN_NOTICE`] ahead to [`HORIZON_DAYS`].
pub async fn open_slots(db: &PgPool, now: DateTime<Utc>) -> sqlx::Result<Vec<Slot>> {
    let (from, to) = (now + MIN_NOTICE, now + Duration::days(HORIZON_DAYS));
    slots_between(db, from, to).await
}

async fn slots_between(
    db: &PgPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<Slot>> {
    let schedules: Vec<_> = db::schedules(db, None)
        .await?
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    let busy = db::busy(db, from, to).await?;
    Ok(free_slots(&schedules, &busy, from, to))
}

/// The experts free for exactly this slot now, least busy first.
async fn free_experts(
    db: &PgPool,
    starts_at: DateTime<Utc>,
    minutes: u32,
) -> sqlx::Result<Vec<StaffUserId>> {
    let now = Utc::now();
    if starts_at < now + MIN_NOTICE || starts_at > now + Duration::days(HORIZON_DAYS) {
        return Ok(Vec::new());
    }
    let end = starts_at + Duration::minutes(i64::from(minutes));
    let mut experts = slots_between(db, starts_at, end)
        .await?
        .into_iter()
        .find(|s| s.starts_at == starts_at && s.minutes == minutes)
        .map(|s| s.experts)
        .unwrap_or_default();
    let counts = db::upcoming_counts(db).await?;
    experts.sort_by_key(|e| counts.iter().find(|(id, _)| id == e).map_or(0, |(_, n)| *n));
    Ok(experts)
}

/// Books the slot of `booking` for the integration.
pub async fn book(
    db: &PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    booking: &Booking,
    booker: &Booker<'_>,
) -> Result<Session, BookError> {
    for expert in free_experts(db, booking.starts_at, booking.minutes).await? {
        let mut tx = db.begin().await?;
        match db::insert(&mut tx, tenant_id, integration_id, expert, booking, booker).await {
            Ok(id) => {
                tx.commit().await?;
                return db::get(db, tenant_id, id).await?.ok_or(BookError::Taken);
            }
            // Someone took this expert at this time a moment ago: try the next one.
            Err(e) if db::is_double_booking(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(BookError::Taken)
}

/// Moves a booked session to another free slot.
pub async fn reschedule(
    db: &PgPool,
    tenant_id: TenantId,
    id: Uuid,
    starts_at: DateTime<Utc>,
    minutes: u32,
) -> Result<Session, BookError> {
    let current = db::get(db, tenant_id, id)
        .await?
        .ok_or(BookError::NotBooked)?;
    if current.status != "booked" {
        return Err(BookError::NotBooked);
    }
    let mut experts = free_experts(db, starts_at, minutes).await?;
    // The same expert when they are free then.
    if let Some(i) = experts.iter().position(|e| *e == current.staff_user_id) {
        experts.swap(0, i);
    }
    for expert in experts {
        let mut tx = db.begin().await?;
        match db::reschedule(&mut tx, tenant_id, id, expert, starts_at, minutes).await {
            Ok(true) => {
                tx.commit().await?;
                return db::get(db, tenant_id, id)
                    .await?
                    .ok_or(BookError::NotBooked);
            }
            Ok(false) => return Err(BookError::NotBooked),
            Err(e) if db::is_double_booking(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(BookError::Taken)
}
