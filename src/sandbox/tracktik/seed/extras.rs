//! The scope extras: what a portal with more than one QuickBooks company has to decide. A
//! sub-region ("Toronto" under the first region) with a client and its site, and a client
//! with a site that TrackTik has no region for, each with a weekly invoice approved the next
//! afternoon. Added after everything else and without the generator's random stream, so every
//! other record keeps its id and values.

use chrono::{Duration, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

use super::clients::{Place, insert_client};
use super::{Refs, SeedConfig};
use crate::sandbox::tracktik::store::{NewInvoice, NewLine, NewLinePart, Portal, row};

pub(super) fn add(config: &SeedConfig, p: &mut Portal, refs: &Refs, created: &Value) {
    let (Some(&(parent, tz)), Some(&bill_item)) = (refs.regions.first(), refs.bill_items.first())
    else {
        return;
    };
    let parent_settings = p
        .table("back-office-settings")
        .and_then(|t| {
            t.values()
                .find(|s| s.get("region").and_then(Value::as_i64) == Some(parent))
        })
        .cloned()
        .unwrap_or_default();
    let sub = p.insert(
        "regions",
        row([
            ("customId", "TOR".into()),
            ("name", "Toronto".into()),
            ("company", config.portal_name.clone().into()),
            ("email", "toronto@acme-security.example".into()),
            ("parentRegion", parent.into()),
            ("timeZone", tz.into()),
            ("prefix", "TOR".into()),
        ]),
    );
    let setting = |field: &str| parent_settings.get(field).cloned().unwrap_or(Value::Null);
    p.insert(
        "back-office-settings",
        row([
            ("region", sub.into()),
            ("payrollHourlyRate", setting("payrollHourlyRate")),
            ("payrollSchedule", setting("payrollSchedule")),
            ("payrollOvertimeDayOfWeek", "SUNDAY".into()),
            ("payrollSeparatePremium", false.into()),
            ("billingTaxEngine", "DEFAULT".into()),
            ("billingTaxClass", setting("billingTaxClass")),
            ("billingBaseCurrency", setting("billingBaseCurrency")),
            ("billingSeparatePremium", false.into()),
        ]),
    );
    let in_toronto = Place {
        region: Some(sub),
        tz,
        created,
    };
    let nowhere = Place {
        region: None,
        tz,
        created,
    };
    let mut billed = Vec::new();
    for (place, name, custom, site_name) in [
        (
            &in_toronto,
            "Lakeshore Towers Condominium",
            "C9001",
            "Lakeshore Towers - Lobby",
        ),
        (
            &nowhere,
            "Northgate Logistics",
            "C9002",
            "Northgate Logistics - Warehouse",
        ),
    ] {
        let client = insert_client(p, place, name, custom, None);
        let site = insert_client(p, place, site_name, &format!("{custom}-1"), Some(client));
        p.insert(
            "client-billing-settings",
            row([
                ("client", client.into()),
                ("taxClass", setting("billingTaxClass")),
                ("paymentTerm", "30_DAYS".into()),
                ("taxExempt", false.into()),
                ("taxExemptCode", Value::Null),
                ("useMainAddress", true.into()),
                ("distributeByMail", false.into()),
                ("distributeByEmail", true.into()),
                ("emailList", Value::Array(vec![])),
                ("invoiceAttentionOf", "Accounts Payable".into()),
                ("invoicePermanentMemo", Value::Null),
                ("flagForReview", false.into()),
            ]),
        );
        billed.push((client, site));
    }
    let today_start = Utc.from_utc_datetime(&config.today.and_time(NaiveTime::MIN));
    // Only inside the invoice window: a portal of two days gets no extra invoice.
    let weeks = i64::from(config.days_of_invoices / 7);
    for k in (1..=weeks).rev() {
        let day = config.today - Duration::days(7 * k);
        for (client, site) in &billed {
            let start = day.and_time(NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default());
            let new = NewInvoice {
                client: *client,
                invoice_date: day,
                document_number: None,
                lines: vec![NewLine {
                    bill_item,
                    service_location: *site,
                    rate: Decimal::new(3000, 2),
                    parts: vec![NewLinePart {
                        start,
                        quantity: Decimal::new(8, 0),
                    }],
                }],
                created_on: Utc.from_utc_datetime(
                    &day.and_time(NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default()),
                ),
            };
            let approved = Utc.from_utc_datetime(
                &(day + Duration::days(1))
                    .and_time(NaiveTime::from_hms_opt(15, 0, 0).unwrap_or_default()),
            );
            if let Ok(id) = p.create_invoice(new)
                && approved < today_start
            {
                let _ = p.approve_invoice(id, None, approved);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{SeedConfig, generate};

    #[test]
    fn the_scope_extras_add_a_sub_region_and_a_client_without_a_region_and_change_nothing_else() {
        let plain = generate(&SeedConfig {
            scope_extras: false,
            ..SeedConfig::default()
        });
        let full = generate(&SeedConfig::default());
        for (table, rows) in &plain.tables {
            for (id, row) in rows {
                assert_eq!(full.tables[table].get(id), Some(row), "{table} {id} kept");
            }
        }
        let toronto = full.tables["regions"]
            .values()
            .find(|r| r["name"] == "Toronto")
            .expect("a sub-region");
        assert_eq!(toronto["parentRegion"], 1);
        let nowhere = full.tables["clients"]
            .values()
            .find(|c| c["name"] == "Northgate Logistics")
            .expect("a client without a region");
        assert!(nowhere["region"].is_null());
        let id = nowhere["id"].as_i64().unwrap();
        assert!(
            full.tables["invoices"]
                .values()
                .any(|i| i["client"] == id && i["status"] == "APPROVED"),
            "its invoices are approved"
        );
        assert!(!SeedConfig::small().scope_extras, "tests keep their portal");
    }
}
