//! E-mail notices over SMTP, to a local sink: sent once per event, with a link back.

use ledgerbridge::connections::{self, ConnectionError};
use ledgerbridge::ids::{IntegrationId, TenantId};
use ledgerbridge::sandbox::quickbooks::US_REALM_ID;
use serde_json::json;

use crate::helpers::{Sandboxes, SmtpSink, TestApp, TestSettings, location};

#[tokio::test]
async fn a_lost_connection_mails_once_and_its_restoration_mails_once() {
    let sink = SmtpSink::start().await;
    let mut settings = TestSettings::default();
    settings
        .env
        .insert("LEDGERBRIDGE_SMTP_URL", sink.url.clone());
    let app = TestApp::spawn_with_sandboxes_and(settings).await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let done = app.connect_quickbooks(US_REALM_ID, None).await;
    let id: IntegrationId = location(&done)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .parse()
        .unwrap();
    let tenant: TenantId = sqlx::query_scalar("select tenant_id from tenant")
        .fetch_one(&app.db)
        .await
        .unwrap();
    sqlx::query("update integration set settings = $1")
        .bind(json!({"schedule": {"notify_emails": ["books@acme.example", "owner@acme.example"]}}))
        .execute(&app.db)
        .await
        .unwrap();

    let qbo = app.sandboxes().quickbooks.base_url().to_owned();
    Sandboxes::control(
        &qbo,
        "/__sandbox/tokens/revoke",
        json!({"realm_id": US_REALM_ID}),
    )
    .await;
    let conn = connections::db::quickbooks_for_integration(&app.db, tenant, id)
        .await
        .unwrap()
        .unwrap();
    for _ in 0..3 {
        let err = connections::force_refresh(&app.state, tenant, conn.connection_id)
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectionError::NeedsReconnect { .. }));
    }
    assert_eq!(sink.count(), 1, "one loss, one mail");
    {
        let messages = sink.messages.lock().unwrap();
        let (to, raw) = &messages[0];
        // Undo header folding and quoted-printable soft breaks.
        let data = raw.replace("=\n", "").replace("\n ", " ");
        assert_eq!(
            to,
            &vec![
                "books@acme.example".to_owned(),
                "owner@acme.example".to_owned()
            ]
        );
        assert!(
            data.contains(
                "Subject: Action needed: reconnect QuickBooks Online for Acme Security Inc. (US)"
            ),
            "{data}"
        );
        assert!(
            data.contains(&format!("{}/integrations/{id}", app.base_url)),
            "a link back: {data}"
        );
    }

    assert_eq!(
        app.connect_quickbooks(US_REALM_ID, Some(&id.to_string()))
            .await
            .status(),
        303
    );
    assert_eq!(sink.count(), 2);
    assert!(
        sink.messages.lock().unwrap()[1]
            .1
            .contains("QuickBooks Online reconnected")
    );
    // A plain reconnect of a healthy connection mails nothing.
    app.connect_quickbooks(US_REALM_ID, Some(&id.to_string()))
        .await;
    assert_eq!(sink.count(), 2);
}

#[tokio::test]
async fn without_addresses_a_notice_is_recorded_as_not_delivered_with_the_reason() {
    let app = TestApp::spawn_with_sandboxes().await;
    app.sign_in_with_tracktik().await;
    let done = app.connect_quickbooks(US_REALM_ID, None).await;
    let id: IntegrationId = location(&done)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .parse()
        .unwrap();
    let tenant: TenantId = sqlx::query_scalar("select tenant_id from tenant")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let qbo = app.sandboxes().quickbooks.base_url().to_owned();
    Sandboxes::control(
        &qbo,
        "/__sandbox/tokens/revoke",
        json!({"realm_id": US_REALM_ID}),
    )
    .await;
    let conn = connections::db::quickbooks_for_integration(&app.db, tenant, id)
        .await
        .unwrap()
        .unwrap();
    connections::force_refresh(&app.state, tenant, conn.connection_id)
        .await
        .unwrap_err();
    let (kind, delivered, error): (String, bool, Option<String>) =
        sqlx::query_as("select kind, delivered, error from notice")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(kind, "connection_lost");
    assert!(!delivered);
    assert!(error.unwrap().contains("no notification address"));
}
