use std::time::Instant;

use crate::sandbox::tracktik::{SeedConfig, generate};

#[test]
fn the_same_config_generates_identical_data() {
    let c = SeedConfig::small();
    let a = serde_json::to_string(&generate(&c)).unwrap();
    let b = serde_json::to_string(&generate(&c.clone())).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_different_seed_generates_different_data() {
    let c = SeedConfig::small();
    let other = SeedConfig {
        seed: c.seed + 1,
        ..c.clone()
    };
    assert_ne!(generate(&c), generate(&other));
}

#[test]
fn the_default_portal_has_regions_in_three_time_zones_and_about_a_hundred_clients() {
    let p = generate(&SeedConfig::default());
    let zones: std::collections::BTreeSet<&str> = p.tables["regions"]
        .values()
        .filter_map(|r| r["timeZone"].as_str())
        .collect();
    assert_eq!(zones.len(), 3, "{zones:?}");
    assert!((100..=150).contains(&p.count("clients")));
    assert!(p.count("invoices") >= 400);
    assert!(p.exempt_client.is_some());
    let gst_pst = p.tables["tax-class-items"]
        .values()
        .filter(|i| i["taxClass"] == 5)
        .count();
    assert_eq!(gst_pst, 2, "BC has GST + PST");
}

#[test]
fn nothing_is_dated_or_approved_on_or_after_today() {
    let c = SeedConfig::small();
    let p = generate(&c);
    let today = c.today.format("%Y-%m-%d").to_string();
    for inv in p.tables["invoices"].values() {
        assert!(inv["invoiceDate"].as_str().unwrap() < today.as_str());
        if let Some(on) = inv["approvedOn"].as_str() {
            assert!(on < today.as_str());
            assert!(
                on[..10] > *inv["invoiceDate"].as_str().unwrap(),
                "approved on a later day"
            );
        }
    }
}

#[test]
fn some_invoices_are_regenerated_with_a_new_id_and_the_same_number() {
    let c = SeedConfig {
        days_of_invoices: 30,
        invoices_per_day: 20,
        ..SeedConfig::small()
    };
    let p = generate(&c);
    let invoices = &p.tables["invoices"];
    let max = *invoices.keys().max().unwrap();
    let gaps = (9001..=max).filter(|id| !invoices.contains_key(id)).count();
    assert!(gaps > 0, "deleted invoices leave gaps");
    assert_eq!(invoices.len() + gaps, (max - 9001 + 1) as usize);
    // Each gap has a regenerated twin: a later id carrying an earlier (reused) number.
    let number = |r: &serde_json::Map<String, serde_json::Value>| {
        r["documentNumber"].as_str().unwrap()[4..10]
            .parse::<u32>()
            .unwrap()
    };
    let mut highest = 0;
    let mut reused = 0;
    for r in invoices.values() {
        let n = number(r);
        if n < highest {
            reused += 1;
        }
        highest = highest.max(n);
    }
    assert_eq!(reused, gaps);
}

#[test]
fn generation_is_linear_enough_for_big_portals() {
    let started = Instant::now();
    let c = SeedConfig {
        clients: 500,
        days_of_invoices: 60,
        invoices_per_day: 100,
        employees: 300,
        ..SeedConfig::small()
    };
    let p = generate(&c);
    assert_eq!(p.count("invoices"), 6000);
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_few_invoices_have_document_numbers_longer_than_qbo_allows() {
    let p = generate(&SeedConfig::default());
    let numbers: Vec<&str> = p.tables["invoices"]
        .values()
        .filter_map(|i| i["documentNumber"].as_str())
        .collect();
    let long = numbers.iter().filter(|n| n.len() > 21).count();
    assert!(
        long > 0 && long * 10 < numbers.len(),
        "{long} long of {}",
        numbers.len()
    );
}
