//! A widely used third-party QuickBooks client, python-quickbooks with Intuit's intuit-oauth,
//! unmodified and with its own defaults, drives the QuickBooks sandbox end to end (the script is
//! `tests/fixtures/quickbooks/third_party/python_quickbooks_drive.py`). `.ci/run` installs the
//! libraries; where they are absent the test says so and skips.

use ledgerbridge::sandbox::quickbooks::{
    DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Options, US_REALM_ID, start,
};
use serde_json::{Value, json};

async fn libraries_present() -> bool {
    tokio::process::Command::new("python3")
        .args(["-c", "import quickbooks, intuitlib, jwt, cryptography"])
        .output()
        .await
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn python_quickbooks_connects_refreshes_posts_queries_sees_faults_and_revokes() {
    if !libraries_present().await {
        eprintln!(
            "skipped: python-quickbooks and intuit-oauth are not installed (pip install python-quickbooks intuit-oauth; .ci/run does)"
        );
        return;
    }
    let running = start(Options::default()).await.expect("sandbox starts");
    let base = running.base_url().to_string();
    reqwest::Client::new()
        .post(format!("{base}/__sandbox/rate-limits"))
        .json(&json!({"enforce": false}))
        .send()
        .await
        .expect("rate limits off");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/quickbooks/third_party/python_quickbooks_drive.py"
    );
    // The sandbox speaks plain http on loopback; oauthlib's documented switch for that.
    let out = tokio::process::Command::new("python3")
        .env("OAUTHLIB_INSECURE_TRANSPORT", "1")
        .args([
            script,
            &base,
            DEMO_CLIENT_ID,
            DEMO_CLIENT_SECRET,
            "http://127.0.0.1:9/callback",
            US_REALM_ID,
        ])
        .output()
        .await
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).expect("the script prints JSON");
    assert_eq!(
        seen["discovered_token_endpoint"],
        format!("{base}/oauth2/v1/tokens/bearer")
    );
    assert_eq!(seen["state_round_trip"], true);
    assert_eq!(seen["access_token"], true);
    assert_eq!(
        seen["id_token_validated"], true,
        "intuit-oauth verified the RS256 id_token against the JWKS"
    );
    assert_eq!(seen["refresh_rotated"], true);
    for k in ["vendor", "customer", "item", "bill", "invoice"] {
        assert!(
            seen["created"][k].as_str().is_some_and(|id| !id.is_empty()),
            "{k} created: {seen}"
        );
    }
    assert_eq!(seen["vendor_by_name"], json!([seen["created"]["vendor"]]));
    assert_eq!(seen["invoice_total"], json!(350.0));
    assert_eq!(seen["bill_line_status"], "NotBillable");
    assert_eq!(seen["item_count"], 1);
    assert_eq!(seen["customer_query"], json!(["Harbor Point Storage"]));
    assert_eq!(seen["duplicate_name_code"], 6240);
    assert_eq!(seen["missing_customer_code"], 2020);
    assert_eq!(seen["revoked"], true);
    assert_eq!(seen["after_revoke"], 401, "{seen}");
    running.shutdown();
}
