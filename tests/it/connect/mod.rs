//! Sign in with TrackTik, connect QuickBooks Online, keep both connections healthy: over HTTP
//! with a cookie jar, through both sandboxes' own consent pages.

use ledgerbridge::connections::{self, ConnectionError, Health};
use ledgerbridge::ids::{IntegrationId, TenantId};
use ledgerbridge::integrations::{self, IntegrationState};
use ledgerbridge::sandbox::quickbooks::{CA_REALM_ID, US_REALM_ID};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::helpers::{Sandboxes, TestApp, client, location};

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn only_tenant(app: &TestApp) -> TenantId {
    sqlx::query_scalar("select tenant_id from tenant")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Signs in and connects the US company; returns the integration id.
async fn signed_in_and_connected(app: &TestApp, realm: &str) -> String {
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let done = app.connect_quickbooks(realm, None).await;
    assert_eq!(done.status(), 303);
    location(&done)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .to_owned()
}

mod quickbooks;
mod sign_in;
mod tokens;
