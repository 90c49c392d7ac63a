use reqwest::StatusCode;
use serde_json::json;

use super::{Sb, US_REALM_ID, invoice};
use crate::sandbox::quickbooks::Options;

#[tokio::test]
async fn the_state_file_keeps_companies_entities_and_tokens_across_a_restart() {
    let dir = std::env::temp_dir().join(format!("qbo-sandbox-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("state.json");
    let options = Options {
        state_file: Some(file.clone()),
        enforce_rate_limits: false,
        ..Options::default()
    };
    let sb = Sb::start_with(options.clone()).await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    let created = api
        .create("invoice", invoice(&ids, "KEEP-1", "12.34"))
        .await;
    let token = api.token.clone();
    sb.running.shutdown();
    sb.running.wait().await.expect("stops");
    assert!(file.exists());
    assert!(
        !file.with_extension("tmp").exists(),
        "written through a temp file and renamed"
    );

    let sb = Sb::start_with(options).await;
    let id = created["Id"].as_str().expect("id");
    let r = sb
        .http
        .get(sb.url(&format!("/v3/company/{US_REALM_ID}/invoice/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("read");
    assert_eq!(r.status(), StatusCode::OK, "the token survived too");
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["Invoice"], created);
    let dup = sb
        .http
        .post(sb.url(&format!("/v3/company/{US_REALM_ID}/invoice")))
        .bearer_auth(&token)
        .json(&invoice(&ids, "KEEP-1", "1.0"))
        .send()
        .await
        .expect("post");
    assert_eq!(
        dup.status(),
        StatusCode::BAD_REQUEST,
        "indexes are rebuilt after loading"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn the_html_pages_list_companies_and_what_was_posted_with_totals() {
    let sb = Sb::start().await;
    let api = sb.api(US_REALM_ID).await;
    let ids = api.ids().await;
    api.create("invoice", invoice(&ids, "HTML-1", "100.25"))
        .await;
    api.create("invoice", invoice(&ids, "HTML-2", "50.5")).await;
    let index = sb
        .http
        .get(sb.url("/__sandbox/"))
        .send()
        .await
        .expect("index")
        .text()
        .await
        .expect("html");
    assert!(index.contains("Acme Security Ltd (CA)") && index.contains(US_REALM_ID));
    let page = sb
        .http
        .get(sb.url(&format!("/__sandbox/companies/{US_REALM_ID}")))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains("HTML-1") && page.contains("HTML-2"));
    assert!(page.contains("150.75"), "invoice total shown");
    assert!(page.contains("Accounts Payable (A/P)"));
    assert!(
        page.contains(&format!("/__sandbox/companies/{US_REALM_ID}/invoice/")),
        "rows link to their JSON"
    );
    let account = sb
        .http
        .get(sb.url(&format!(
            "/__sandbox/companies/{US_REALM_ID}/account/{}",
            ids.checking
        )))
        .send()
        .await
        .expect("json page")
        .text()
        .await
        .expect("body");
    assert!(account.contains("\"Name\": \"Checking\""), "{account}");
}

#[tokio::test]
async fn companies_can_be_created_per_flavour_and_reset_to_their_seed() {
    let sb = Sb::start().await;
    let created = sb
        .control(
            "companies",
            json!({"flavour": "ca", "name": "Test Co (CA)"}),
        )
        .await;
    let realm = created["realmId"].as_str().expect("realm").to_string();
    assert!(realm.chars().all(|c| c.is_ascii_digit()));
    let api = sb.api(&realm).await;
    let info = api.get(&format!("companyinfo/{realm}")).await.json();
    assert_eq!(info["CompanyInfo"]["CompanyName"], "Test Co (CA)");
    assert_eq!(info["CompanyInfo"]["Country"], "CA");
    api.create(
        "vendor",
        json!({"DisplayName": "Temporary", "CurrencyRef": {"value": "CAD"}}),
    )
    .await;
    sb.control(&format!("companies/{realm}/reset"), json!({}))
        .await;
    let v = api
        .query("select count(*) from Vendor where DisplayName = 'Temporary'")
        .await
        .json();
    assert_eq!(v["QueryResponse"]["totalCount"], 0);
}
