//! Clients and their sites, the accounts mirroring them, and billing settings per client.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Refs, Rng, SeedConfig, names};
use crate::sandbox::tracktik::store::{Portal, Row, row};

pub(super) fn clients(
    config: &SeedConfig,
    rng: &mut Rng,
    p: &mut Portal,
    refs: &mut Refs,
    created: &Value,
) {
    let class_by_region: HashMap<i64, i64> = p
        .table("back-office-settings")
        .into_iter()
        .flatten()
        .filter_map(|(_, s)| {
            Some((
                s.get("region")?.as_i64()?,
                s.get("billingTaxClass")?.as_i64()?,
            ))
        })
        .collect();
    let a = names::COMPANY_A.len();
    let b = names::COMPANY_B.len();
    for i in 0..config.clients {
        let (region, tz) = refs.regions[i % refs.regions.len()];
        let exempt = config.tax_exempt_client && i == 1.min(config.clients - 1);
        let mut company = if exempt {
            "Harbourview Public Library".to_owned()
        } else {
            format!(
                "{} {}",
                names::COMPANY_A[i % a],
                names::COMPANY_B[(i / a + i) % b]
            )
        };
        if i >= a * b {
            company = format!("{company} {}", i / (a * b) + 1);
        }
        let custom = format!("C{:04}", i + 1);
        let place = Place {
            region: Some(region),
            tz,
            created,
        };
        let client = insert_client(p, &place, &company, &custom, None);
        if exempt {
            p.exempt_client = Some(client);
        }
        let tax_class = if exempt {
            p.exempt_tax_class
        } else {
            class_by_region.get(&region).copied()
        };
        p.insert(
            "client-billing-settings",
            row([
                ("client", client.into()),
                ("taxClass", tax_class.map_or(Value::Null, Value::from)),
                ("paymentTerm", "30_DAYS".into()),
                ("taxExempt", exempt.into()),
                (
                    "taxExemptCode",
                    if exempt {
                        "EX-PUBLIC-LIBRARY".into()
                    } else {
                        Value::Null
                    },
                ),
                ("useMainAddress", true.into()),
                ("distributeByMail", false.into()),
                ("distributeByEmail", true.into()),
                (
                    "emailList",
                    json!([format!("ap@{}.example", slug(&company))]),
                ),
                ("invoiceAttentionOf", "Accounts Payable".into()),
                ("invoicePermanentMemo", Value::Null),
                ("flagForReview", false.into()),
            ]),
        );
        let mut sites = Vec::with_capacity(config.sites_per_client);
        for k in 0..config.sites_per_client {
            let name = format!("{company} - {}", names::SITES[(i + k) % names::SITES.len()]);
            let site_custom = format!("{custom}-{}", k + 1);
            sites.push(insert_client(p, &place, &name, &site_custom, Some(client)));
        }
        if sites.is_empty() {
            sites.push(client);
        }
        refs.clients
            .push((client, sites, rng.money(2600, 3400, 25)));
    }
}

pub(super) struct Place<'a> {
    /// `None`: a client or site TrackTik has no region for.
    pub region: Option<i64>,
    pub tz: &'a str,
    pub created: &'a Value,
}

fn slug(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect::<String>()
        .to_lowercase()
}

/// A client (no parent) or a site, plus the `accounts` record with the same id.
pub(super) fn insert_client(
    p: &mut Portal,
    at: &Place<'_>,
    name: &str,
    custom: &str,
    parent: Option<i64>,
) -> i64 {
    let kind = if parent.is_some() {
        "SERVICE_LOCATION"
    } else {
        "CLIENT"
    };
    let id = p.insert("clients", client_row(name, custom, parent, kind, at));
    let account = row([
        ("name", name.into()),
        ("customId", custom.into()),
        ("type", "CLIENT".into()),
        (
            "subType",
            if parent.is_some() { "SITE" } else { "CLIENT" }.into(),
        ),
        ("region", at.region.into()),
        ("timeZone", at.tz.into()),
        ("status", "ACTIVE".into()),
        ("closedDate", Value::Null),
        ("createdOn", at.created.clone()),
        ("updatedOn", at.created.clone()),
    ]);
    p.insert_with_id("accounts", id, account);
    id
}

fn client_row(name: &str, custom: &str, parent: Option<i64>, kind: &str, at: &Place<'_>) -> Row {
    row([
        ("name", name.into()),
        ("company", name.into()),
        ("customId", custom.into()),
        ("parentClient", parent.map_or(Value::Null, Value::from)),
        ("type", kind.into()),
        ("region", at.region.into()),
        ("status", "ACTIVE".into()),
        ("email", format!("ap@{}.example", slug(name)).into()),
        ("primaryPhone", Value::Null),
        ("timeZone", at.tz.into()),
        ("closedDate", Value::Null),
        ("createdOn", at.created.clone()),
        ("updatedOn", at.created.clone()),
    ])
}
