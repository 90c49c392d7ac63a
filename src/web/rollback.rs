//! "Roll back this night": the confirmation page listing what will be voided or deleted in
//! QuickBooks, with totals, and the POST that records the rollback and queues it.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::Redirect;
use chrono::NaiveDate;
use tower_sessions::Session;

use super::dashboard::{day_label, flash};
use super::extract::{ClientAddr, CurrentUser, PathParam};
use super::pages::Chrome;
use crate::audit::{self, Actor};
use crate::dashboard::money;
use crate::error::{AppError, AppResult};
use crate::ids::IntegrationId;
use crate::state::AppState;
use crate::sync::{SyncError, controls, rollback};

/// One document as the confirmation lists it.
pub struct Line {
    /// TrackTik number.
    pub number: String,
    /// QuickBooks entity, in words.
    pub entity: &'static str,
    /// QuickBooks number.
    pub qbo_number: String,
    /// "Voided" or "Deleted".
    pub action: &'static str,
    /// Amount and currency.
    pub amount: String,
}

/// The confirmation page.
#[derive(Template, WebTemplate)]
#[template(path = "dashboard/rollback.html")]
pub struct RollbackPage {
    chrome: Chrome,
    id: IntegrationId,
    company: String,
    day: String,
    day_value: String,
    lines: Vec<Line>,
    /// Per action and currency: "12 invoices voided: 4,210.50 USD".
    totals: Vec<String>,
    /// Why this person may not roll back, when they may not (the button is not shown).
    refusal: Option<&'static str>,
}

fn entity_words(entity: &str) -> &'static str {
    match entity {
        "Invoice" => "Invoice",
        "CreditMemo" => "Credit memo",
        "Purchase" => "Expense",
        "Bill" => "Bill",
        _ => "Journal entry",
    }
}

fn parse_day(text: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| AppError::BadRequest("The night must be a date like 2026-11-01.".into()))
}

/// `GET /integrations/{id}/nights/{day}/rollback`.
pub async fn confirm(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    PathParam((id, day)): PathParam<(IntegrationId, String)>,
) -> AppResult<RollbackPage> {
    let tenant_id = current.tenant.tenant_id;
    let day = parse_day(&day)?;
    let integration = crate::integrations::db::get(&state.db, tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let planned = rollback::plan(&state.db, tenant_id, id, day).await?;
    let mut totals: BTreeMap<(&'static str, &'static str, String), (usize, rust_decimal::Decimal)> =
        BTreeMap::new();
    let lines = planned
        .iter()
        .map(|p| {
            let currency = p
                .currency
                .clone()
                .unwrap_or_else(|| integration.home_currency.clone());
            let action = if p.action() == "void" {
                "Voided"
            } else {
                "Deleted"
            };
            let t = totals
                .entry((entity_words(&p.qbo_entity), action, currency.clone()))
                .or_default();
            t.0 += 1;
            t.1 += p.amount;
            Line {
                number: p.doc_number.clone(),
                entity: entity_words(&p.qbo_entity),
                qbo_number: p.qbo_doc_number.clone().unwrap_or_default(),
                action,
                amount: format!("{} {currency}", money(p.amount)),
            }
        })
        .collect();
    Ok(RollbackPage {
        chrome: Chrome::customer(&session, &current).await?,
        id,
        company: integration.company_name,
        day: day_label(day),
        day_value: day.to_string(),
        lines,
        totals: totals
            .into_iter()
            .map(|((entity, action, currency), (n, sum))| {
                format!(
                    "{n} × {} {}: {} {currency}",
                    entity.to_lowercase(),
                    action.to_lowercase(),
                    money(sum)
                )
            })
            .collect(),
        refusal: (!current.user.may(crate::tenants::Right::RollBack))
            .then(|| super::extract::refusal(current.user.role, crate::tenants::Right::RollBack)),
    })
}

/// `POST /integrations/{id}/nights/{day}/rollback`: records it, queues it, audits it.
pub async fn roll_back(
    State(state): State<AppState>,
    session: Session,
    current: CurrentUser,
    ClientAddr(addr): ClientAddr,
    PathParam((id, day)): PathParam<(IntegrationId, String)>,
) -> AppResult<Redirect> {
    current.require(crate::tenants::Right::RollBack)?;
    let tenant_id = current.tenant.tenant_id;
    let day = parse_day(&day)?;
    let by = current.user.display_name.clone();
    match controls::roll_back(&state, tenant_id, id, day, &by).await {
        Ok(rollback_id) => {
            audit::record(
                &state.db,
                Actor::User(current.user.tenant_user_id, by),
                "sync.rolled_back",
                Some(tenant_id),
                serde_json::json!({ "integration": id, "day": day, "rollback": rollback_id }),
                Some(&addr),
            )
            .await?;
            flash(
                &session,
                true,
                format!(
                    "The rollback of {} is queued: its documents are voided or deleted in QuickBooks, then wait to be posted again. Fix what needs fixing, then Sync now.",
                    day_label(day)
                ),
            )
            .await?;
        }
        Err(SyncError::NotFound) => return Err(AppError::NotFound),
        Err(SyncError::NotReady(m)) => flash(&session, false, m).await?,
        Err(e) => return Err(AppError::Internal(e.into())),
    }
    Ok(Redirect::to(&format!("/integrations/{id}")))
}
