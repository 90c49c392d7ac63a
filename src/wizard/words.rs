//! How pay runs are posted, in the seed's plain words, for the payroll step, the review and
//! the dashboard: "Each pay run becomes one bill-style expense on TrackTik Direct Wages
//! Liability (TT-9000), a credit card account", why, and the Bill option one click away.

use super::Draft;
use super::express::ExpressRecord;
use crate::integrations::settings::{PayrollPosting, QboRef, Settings};

/// What pages say about payroll posting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayrollWords {
    /// What each pay run becomes.
    pub summary: String,
    /// Why, when the choice needs explaining.
    pub why: Option<String>,
    /// The Bill option and what it needs, when pay runs are not bills yet.
    pub bill_option: Option<String>,
    /// Where the Bill option is chosen (the payroll step, with Bill picked).
    pub bill_href: Option<String>,
    /// Where reimbursements and other amounts go.
    pub amounts: String,
}

/// The wording for the pay runs of `draft`; `None` when payroll is off.
pub fn payroll_words(draft: &Draft) -> Option<PayrollWords> {
    words_for(
        &draft.settings.0,
        draft.express_outcome.as_ref().map(|r| &r.0),
        &format!("/integrations/{}/setup/payroll", draft.integration_id),
    )
}

/// "TrackTik Direct Wages Liability (TT-9000)": the name, with the number Express gave it.
fn account(r: &QboRef, record: Option<&ExpressRecord>) -> String {
    let number = record.and_then(|x| {
        x.objects
            .iter()
            .find(|o| o.qbo_id == r.id && o.kind == "account")
            .and_then(|o| o.number.clone())
    });
    match number {
        Some(n) if !r.name.contains(&n) => format!("{} ({n})", r.name),
        _ => r.name.clone(),
    }
}

/// The wording for `settings`; `payroll_href` is the payroll step's address.
pub fn words_for(
    settings: &Settings,
    record: Option<&ExpressRecord>,
    payroll_href: &str,
) -> Option<PayrollWords> {
    let p = &settings.payroll;
    if !p.enabled {
        return None;
    }
    let named = |r: &Option<QboRef>, none: &str| {
        r.as_ref()
            .map(|r| account(r, record))
            .unwrap_or_else(|| none.to_owned())
    };
    let liability = named(&p.liability_account, "the wages liability account");
    let (summary, why, bill) = match p.posting {
        PayrollPosting::CreditCardExpense => (
            format!("Each pay run becomes one bill-style expense on {liability}, a credit card account."),
            Some("Why not a QuickBooks Bill: a Bill is always owed through Accounts Payable, and the wages liability of TrackTik's account table is a credit card account, so each pay run is recorded as an expense charged to it, for the pay run's total.".to_owned()),
            true,
        ),
        PayrollPosting::JournalEntry => (
            format!("Each pay run becomes one journal entry: the wages are debited to their expense accounts and {liability} is credited with the pay run's total."),
            None,
            true,
        ),
        PayrollPosting::Bill => (
            format!(
                "Each pay run becomes one bill to {}, owed through {}.",
                named(&p.vendor, "the payroll vendor"),
                named(&p.ap_account, "Accounts Payable")
            ),
            None,
            false,
        ),
    };
    let amounts_on = match &p.amounts_account {
        Some(r) => account(r, record),
        None => named(&p.wages_account, "the wages account"),
    };
    Some(PayrollWords {
        summary,
        why,
        bill_option: bill.then(|| "Prefer real bills? A Bill needs an Accounts Payable account and a payroll vendor, both chosen on the payroll step.".to_owned()),
        bill_href: bill.then(|| format!("{payroll_href}?posting=bill#posting")),
        amounts: format!("Expense reimbursements and other pay codes that are amounts, not hours, get lines of their own on {amounts_on}; they are never counted as hours."),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wizard::express::ExpressLine;

    fn express() -> (Settings, ExpressRecord) {
        let mut s = Settings::default();
        s.payroll.enabled = true;
        s.payroll.wages_account = Some(QboRef::new("30", "TrackTik Direct Wages"));
        s.payroll.liability_account = Some(QboRef::new("90", "TrackTik Direct Wages Liability"));
        let line = |id: &str, number: &str| ExpressLine {
            purpose: String::new(),
            kind: "account".into(),
            name: String::new(),
            object_type: String::new(),
            detail_type: None,
            number: Some(number.into()),
            qbo_id: id.into(),
            action: "Created".into(),
            notes: vec![],
        };
        let record = ExpressRecord {
            ran_at: chrono::Utc::now(),
            objects: vec![line("30", "TT-3000"), line("90", "TT-9000")],
            notes: vec![],
            tax_codes: vec![],
        };
        (s, record)
    }

    #[test]
    fn express_payroll_reads_as_the_seed_says_with_the_bill_option_one_click_away() {
        let (s, record) = express();
        let w = words_for(&s, Some(&record), "/integrations/x/setup/payroll").unwrap();
        assert_eq!(
            w.summary,
            "Each pay run becomes one bill-style expense on TrackTik Direct Wages Liability (TT-9000), a credit card account."
        );
        assert!(w.why.unwrap().contains("Accounts Payable"));
        assert_eq!(
            w.bill_href.as_deref(),
            Some("/integrations/x/setup/payroll?posting=bill#posting")
        );
        assert!(w.amounts.contains("TrackTik Direct Wages (TT-3000)"));
    }

    #[test]
    fn bills_name_the_vendor_and_need_no_bill_option_and_payroll_off_says_nothing() {
        let (mut s, _) = express();
        s.payroll.posting = PayrollPosting::Bill;
        s.payroll.vendor = Some(QboRef::new("55", "ADP"));
        let w = words_for(&s, None, "/p").unwrap();
        assert_eq!(
            w.summary,
            "Each pay run becomes one bill to ADP, owed through Accounts Payable."
        );
        assert!(w.bill_href.is_none() && w.why.is_none());
        s.payroll.enabled = false;
        assert!(words_for(&s, None, "/p").is_none());
    }
}
