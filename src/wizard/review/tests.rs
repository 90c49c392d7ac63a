//! Unit tests of the review checks.

use super::*;
use crate::ids::{IntegrationId, TenantId};
use crate::integrations::settings::{Settings, SetupMethod};
use crate::integrations::{CompanyPrefs, IntegrationState};
use sqlx::types::Json;

fn draft(settings: Settings, prefs: CompanyPrefs) -> Draft {
    Draft {
        integration_id: IntegrationId(uuid::Uuid::nil()),
        tenant_id: TenantId(uuid::Uuid::nil()),
        realm_id: "1".into(),
        company_name: "Acme".into(),
        country: "US".into(),
        home_currency: "USD".into(),
        company_prefs: Json(prefs),
        state: IntegrationState::Draft,
        settings: Json(settings),
        wizard_step: "review".into(),
        wizard_reached: "review".into(),
        settings_saved_at: None,
        activated_at: None,
        express_outcome: None,
        siblings: 0,
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn missing_payroll_accounts_and_backwards_dates_are_problems_of_their_steps() {
    let mut s = Settings {
        setup_method: Some(SetupMethod::Advanced),
        ..Settings::default()
    };
    s.payroll.enabled = true;
    s.taxes.automated_tax_item = Some(QboRef::new("1", "Tax"));
    s.schedule.start_date = Some(day("2026-11-20"));
    s.schedule.back_sync_from = Some(day("2026-11-25"));
    s.schedule.time_zone = Some("America/Toronto".into());
    let problems = local_problems(&draft(s, CompanyPrefs::default()), day("2026-11-26"));
    let at: Vec<(Step, &str)> = problems
        .iter()
        .map(|p| (p.step, p.field.as_str()))
        .collect();
    assert!(at.contains(&(Step::Payroll, "wages_account")), "{at:?}");
    assert!(at.contains(&(Step::Payroll, "liability_account")), "{at:?}");
    assert!(at.contains(&(Step::Schedule, "back_sync_from")), "{at:?}");
    assert!(!at.iter().any(|(s, _)| *s == Step::Taxes), "{at:?}");
}

#[test]
fn a_start_inside_closed_books_is_a_problem_unless_posting_on_the_first_open_date() {
    let mut s = Settings {
        setup_method: Some(SetupMethod::Express),
        ..Settings::default()
    };
    s.taxes.automated_tax_item = Some(QboRef::new("1", "Tax"));
    s.schedule.start_date = Some(day("2026-10-01"));
    s.schedule.time_zone = Some("UTC".into());
    let prefs = CompanyPrefs {
        book_close_date: Some(day("2026-10-31")),
        ..CompanyPrefs::default()
    };
    let problems = local_problems(&draft(s.clone(), prefs.clone()), day("2026-11-26"));
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("closed through 2026-10-31")),
        "{problems:?}"
    );
    s.schedule.closed_books = ClosedBooks::PostOnFirstOpenDate;
    assert!(local_problems(&draft(s, prefs), day("2026-11-26")).is_empty());
}
