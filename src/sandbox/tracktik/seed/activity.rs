//! Generated activity: weeks of invoices and bi-weekly pay runs.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;

use super::{Refs, Rng, SeedConfig, last_saturday_before};
use crate::sandbox::tracktik::store::{
    NewInvoice, NewLine, NewLinePart, NewPayItem, NewPayrun, Portal,
};

fn at(day: NaiveDate, h: u32, m: u32, s: u32) -> chrono::DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(NaiveTime::from_hms_opt(h, m, s).unwrap_or_default()))
}

fn hours(rng: &mut Rng) -> Decimal {
    *rng.pick(&[
        Decimal::new(4, 0),
        Decimal::new(6, 0),
        Decimal::new(75, 1),
        Decimal::new(8, 0),
        Decimal::new(8, 0),
        Decimal::new(85, 1),
        Decimal::new(12, 0),
    ])
}

fn line(
    rng: &mut Rng,
    refs: &Refs,
    sites: &[i64],
    base: Decimal,
    invoice_date: NaiveDate,
) -> NewLine {
    let site = *rng.pick(sites);
    let kind = rng.below(100);
    let (item, rate) = match kind {
        0..60 => (0, base),
        60..70 => (1, base * Decimal::new(15, 1)),
        70..85 => (2, rng.money(3500, 6500, 500)),
        85..95 => (3, rng.money(8500, 12000, 500)),
        _ => (4, base * Decimal::new(5, 1)),
    };
    let parts = (0..1 + rng.below(4))
        .map(|_| {
            let day = invoice_date - Duration::days(rng.below(7) as i64);
            let (quantity, hour) = match item {
                2 => (Decimal::from(1 + rng.below(4)), 22),
                3 => (Decimal::ONE, 2 + rng.below(4) as u32),
                _ => (hours(rng), if rng.chance(70) { 7 } else { 19 }),
            };
            let start = day.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default());
            NewLinePart { start, quantity }
        })
        .collect();
    NewLine {
        bill_item: refs.bill_items[item],
        service_location: site,
        rate: rate.round_dp(2),
        parts,
    }
}

/// `days_of_invoices` days × `invoices_per_day`, approved one to three days after their date
/// (unless that is still in the future), ~8 % left in draft, ~3 % deleted and regenerated.
pub(super) fn invoices(config: &SeedConfig, rng: &mut Rng, p: &mut Portal, refs: &Refs) {
    if refs.clients.is_empty() || refs.bill_items.is_empty() {
        return;
    }
    let today_start = at(config.today, 0, 0, 0);
    let mut counter = 0usize;
    let mut regenerated = Vec::new();
    for back in (1..=config.days_of_invoices as i64).rev() {
        let day = config.today - Duration::days(back);
        for k in 0..config.invoices_per_day {
            let client = if k == 0 {
                counter % refs.clients.len()
            } else {
                rng.below(refs.clients.len())
            };
            counter += 1;
            let (client_id, sites, base) = &refs.clients[client];
            // Lines group billable items by bill item, rate and site: merge repeats.
            let mut lines: Vec<NewLine> = Vec::new();
            for _ in 0..1 + rng.below(config.max_lines_per_invoice.max(1)) {
                let l = line(rng, refs, sites, *base, day);
                match lines.iter_mut().find(|o| {
                    (o.bill_item, o.service_location, o.rate)
                        == (l.bill_item, l.service_location, l.rate)
                }) {
                    Some(same) => same.parts.extend(l.parts),
                    None => lines.push(l),
                }
            }
            let created_on = at(
                day,
                9 + rng.below(8) as u32,
                rng.below(60) as u32,
                rng.below(60) as u32,
            );
            let approved_on = at(
                day + Duration::days(1 + rng.below(3) as i64),
                13 + rng.below(11) as u32,
                rng.below(60) as u32,
                rng.below(60) as u32,
            );
            let approve = approved_on < today_start && !rng.chance(8);
            let redo = approve && rng.chance(3);
            // Now and then a long number (QBO keeps 21 characters).
            let document_number = rng.chance(2).then(|| {
                let n = p.next_document_number();
                format!("{n}-C{client_id}-CONSOLIDATED")
            });
            let new = NewInvoice {
                client: *client_id,
                invoice_date: day,
                document_number,
                lines,
                created_on,
            };
            if redo {
                // The first version was approved, then deleted: its id is gone for good and a
                // regenerated invoice with a new id carries the same document number.
                let number = match new.document_number.clone() {
                    Some(n) => n,
                    None => p.next_document_number(),
                };
                p.allocate_id("invoices");
                let redo_on = approved_on + Duration::days(1);
                regenerated.push((
                    NewInvoice {
                        document_number: Some(number),
                        ..new
                    },
                    redo_on,
                ));
                continue;
            }
            if let Ok(id) = p.create_invoice(new) {
                if approve {
                    let _ = p.approve_invoice(id, None, approved_on);
                }
            }
        }
    }
    for (new, approved_on) in regenerated {
        let created_on = approved_on - Duration::hours(2);
        if let Ok(id) = p.create_invoice(NewInvoice { created_on, ..new }) {
            if approved_on < today_start {
                let _ = p.approve_invoice(id, None, approved_on);
            }
        }
    }
}

/// A pay run every two weeks per region (periods end on Saturdays); all but the latest per
/// region are approved and locked two days after the period ends.
pub(super) fn payruns(config: &SeedConfig, rng: &mut Rng, p: &mut Portal, refs: &Refs) {
    let periods = (config.payrun_weeks / 2).max(1) as i64;
    let last_end = last_saturday_before(config.today);
    let today_start = at(config.today, 0, 0, 0);
    let mut site_by_region: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    for (i, (_, sites, _)) in refs.clients.iter().enumerate() {
        let region = refs.regions[i % refs.regions.len()].0;
        site_by_region
            .entry(region)
            .or_default()
            .extend(sites.iter().copied());
    }
    let mut staff_by_region: std::collections::HashMap<i64, Vec<&(i64, i64, Decimal)>> =
        Default::default();
    for e in &refs.employees {
        staff_by_region.entry(e.1).or_default().push(e);
    }
    for k in (0..periods).rev() {
        let end = last_end - Duration::days(14 * k);
        let start = end - Duration::days(13);
        for (region, _) in &refs.regions {
            let staff = staff_by_region.get(region).cloned().unwrap_or_default();
            let sites: &[i64] = site_by_region.get(region).map_or(&[], Vec::as_slice);
            let mut items = Vec::new();
            for (employee, _, base) in &staff {
                let account = (!sites.is_empty()).then(|| *rng.pick(sites));
                let first_day = rng.below(4) as i64;
                let shifts = 6 + rng.below(4) as i64;
                for d in 0..shifts {
                    let day = start + Duration::days(first_day + d * 10 / shifts.max(1));
                    let s = day.and_time(NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default());
                    items.push(NewPayItem {
                        employee: *employee,
                        code: "REG".into(),
                        quantity: Decimal::new(8, 0),
                        rate: *base,
                        base_rate: *base,
                        account,
                        shift: Some((s, s + Duration::hours(8))),
                        expense_date: None,
                        label: "Guard - Regular".into(),
                    });
                }
                if rng.chance(35) {
                    let day = start + Duration::days(7 + rng.below(6) as i64);
                    let h = 2 + rng.below(5) as i64;
                    let s = day.and_time(NaiveTime::from_hms_opt(15, 0, 0).unwrap_or_default());
                    items.push(NewPayItem {
                        employee: *employee,
                        code: "OT".into(),
                        quantity: Decimal::from(h),
                        rate: (*base * Decimal::new(15, 1)).round_dp(2),
                        base_rate: *base,
                        account,
                        shift: Some((s, s + Duration::hours(h))),
                        expense_date: None,
                        label: "Guard - Overtime".into(),
                    });
                }
                if rng.chance(25) {
                    let day = start + Duration::days(rng.below(14) as i64);
                    let s = day.and_time(NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default());
                    items.push(NewPayItem {
                        employee: *employee,
                        code: "HOL".into(),
                        quantity: Decimal::new(8, 0),
                        rate: (*base * Decimal::new(15, 1)).round_dp(2),
                        base_rate: *base,
                        account,
                        shift: Some((s, s + Duration::hours(8))),
                        expense_date: None,
                        label: "Guard - Statutory Holiday".into(),
                    });
                }
            }
            if let Some((employee, _, base)) = staff.first() {
                items.push(NewPayItem {
                    employee: *employee,
                    code: "TRAIN".into(),
                    quantity: Decimal::new(4, 0),
                    rate: *base,
                    base_rate: *base,
                    account: None,
                    shift: None,
                    expense_date: None,
                    label: "First-aid refresher".into(),
                });
            }
            if let Some((employee, _, base)) = staff.last() {
                items.push(NewPayItem {
                    employee: *employee,
                    code: "EXP".into(),
                    quantity: Decimal::ONE,
                    rate: rng.money(2500, 15000, 25),
                    base_rate: *base,
                    account: None,
                    shift: None,
                    expense_date: Some(start + Duration::days(rng.below(14) as i64)),
                    label: "Mileage reimbursement".into(),
                });
            }
            let run = NewPayrun {
                region: *region,
                occurrence_date: end,
                items,
                created_on: at(end + Duration::days(2), 10, 0, 0),
            };
            let Ok((id, item_ids)) = p.create_payrun_with_items(run) else {
                continue;
            };
            let approved_on = at(end + Duration::days(3), 14, 2, 11);
            if k > 0 && approved_on < today_start {
                let _ = p.approve_payrun_items(id, &item_ids, None, approved_on);
            }
        }
    }
}
