use std::time::Instant;

use reqwest::StatusCode;

use super::{Sb, invoice};

/// Not a benchmark: a guard that 5,000 invoices with DocNumber look-ups stay roughly linear.
/// Run with `cargo test --lib sandbox::quickbooks -- --ignored` (takes a few seconds).
#[tokio::test]
#[ignore = "slow; run explicitly"]
async fn five_thousand_invoices_with_lookups_stay_fast() {
    let sb = Sb::start().await;
    let api = sb.fresh("us").await;
    let ids = api.ids().await;
    let started = Instant::now();
    for n in 0..5000 {
        let doc = format!("P-{n}");
        let found = api
            .query(&format!("select * from Invoice where DocNumber = '{doc}'"))
            .await;
        assert_eq!(found.status, StatusCode::OK);
        let r = api
            .post(
                &format!("invoice?requestid=perf-{n}&minorversion=75"),
                invoice(&ids, &doc, "10.0"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let elapsed = started.elapsed();
    eprintln!("5000 look-ups + creates in {elapsed:?}");
    let count = api.query("select count(*) from Invoice").await.json();
    assert_eq!(count["QueryResponse"]["totalCount"], 5000);
    assert!(elapsed.as_secs() < 120, "{elapsed:?}");
}
