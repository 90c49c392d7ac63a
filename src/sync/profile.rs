//! What a run needs to know about its integration: the settings, the trading schedule they
//! describe, and the QuickBooks company's profile.

use chrono_tz::Tz;

use super::SyncError;
use super::window::TradingSchedule;
use crate::ids::{IntegrationId, TenantId};
use crate::integrations::settings::Settings;
use crate::integrations::{CompanyProfile, Integration};

/// The integration's settings.
pub async fn settings_of(
    db: &sqlx::PgPool,
    tenant_id: TenantId,
    integration_id: IntegrationId,
) -> sqlx::Result<Option<Settings>> {
    let row: Option<(sqlx::types::Json<Settings>,)> = sqlx::query_as(
        "select settings from integration where tenant_id = $1 and integration_id = $2",
    )
    .bind(tenant_id)
    .bind(integration_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.0.0))
}

/// The trading schedule the settings describe (UTC when no zone was chosen).
pub fn schedule_of(settings: &Settings) -> Result<TradingSchedule, SyncError> {
    let zone: Tz = match settings.schedule.time_zone.as_deref() {
        Some(z) if !z.trim().is_empty() => z.trim().parse().map_err(|_| {
            SyncError::NotReady(format!("The time zone \"{z}\" in the schedule is unknown."))
        })?,
        _ => Tz::UTC,
    };
    let start_date = settings
        .schedule
        .start_date
        .ok_or_else(|| SyncError::NotReady("No sync start date is set.".into()))?;
    Ok(TradingSchedule {
        zone,
        cutoff: settings.schedule.cutoff,
        start_date,
    })
}

pub(crate) fn company_of(i: &Integration) -> CompanyProfile {
    CompanyProfile {
        realm_id: i.realm_id.clone(),
        name: i.company_name.clone(),
        country: i.country.clone(),
        home_currency: i.home_currency.clone(),
        prefs: i.company_prefs.0.clone(),
    }
}
