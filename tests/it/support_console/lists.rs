//! The console's cross-tenant lists, and that customers and visitors cannot reach them.

use super::*;

#[tokio::test]
async fn the_integrations_list_shows_every_tenant_with_state_and_wizard_step_and_searches() {
    let app = TestApp::spawn().await;
    seed(&app.db).await;
    app.sign_in_staff().await;

    let all = app.get_html("/support/integrations").await;
    let rows = body_rows(&all);
    for text in [
        "Acme Guards",
        "Acme Books",
        "Company ID 1111",
        "Acme Draft Books",
        "Borealis Security",
        "Borealis Ledger",
        "Needs reconnect",
        "Draft",
        "Active",
    ] {
        assert!(rows.contains(text), "{text} missing");
    }
    // The wizard step reached: Review for the active one, Billing for the draft.
    assert!(rows.contains("<td>Billing</td>"), "{rows}");
    assert!(rows.contains("<td>Review</td>"));

    let by_name = app.get_html("/support/integrations?q=borea").await;
    assert!(body_rows(&by_name).contains("Borealis Ledger"));
    assert!(!body_rows(&by_name).contains("Acme"));

    let by_realm = app.get_html("/support/integrations?q=2222").await;
    assert!(body_rows(&by_realm).contains("Acme Draft Books"));
    assert!(!body_rows(&by_realm).contains("Acme Books<"));
    assert!(!body_rows(&by_realm).contains("Borealis"));

    let by_portal = app.get_html("/support/integrations?q=acme.tracktik").await;
    assert!(body_rows(&by_portal).contains("Acme Books"));
    assert!(!body_rows(&by_portal).contains("Borealis"));

    let reconnect = app
        .get_html("/support/integrations?state=needs_reconnect")
        .await;
    assert!(body_rows(&reconnect).contains("Borealis Ledger"));
    assert!(!body_rows(&reconnect).contains("Acme"));

    let nothing = app.get_html("/support/integrations?q=zzz-nobody").await;
    assert!(nothing.contains("Nothing matches these filters"));

    assert_eq!(
        app.get("/support/integrations?state=sleeping")
            .await
            .status(),
        400,
        "an unknown state is refused in words"
    );
}

#[tokio::test]
async fn runs_and_failures_across_tenants_are_listed_filtered_and_grouped_by_reason() {
    let app = TestApp::spawn().await;
    let h = seed(&app.db).await;
    app.sign_in_staff().await;

    let runs = app.get_html("/support/runs").await;
    let rows = body_rows(&runs);
    assert_eq!(rows.matches("<tr>").count(), 3, "{rows}");
    assert!(rows.contains("Acme Guards") && rows.contains("Borealis Security"));
    assert!(rows.contains("Some failed") && rows.contains("Succeeded"));
    assert!(rows.contains(&days_ago(2).to_string()));
    assert!(rows.contains("1 min 0 s"), "the duration is shown: {rows}");

    let failed = app.get_html("/support/runs?status=failed").await;
    assert_eq!(body_rows(&failed).matches("<tr>").count(), 1);
    assert!(body_rows(&failed).contains("Borealis Ledger"));

    let acme = app
        .get_html(&format!("/support/runs?integration={}", h.acme_books))
        .await;
    assert_eq!(body_rows(&acme).matches("<tr>").count(), 2);
    assert!(!body_rows(&acme).contains("Borealis"));

    let failures = app.get_html("/support/failures").await;
    // Groups first: 6000 (two documents, one tenant), then mapping (one).
    let groups = body_rows(&failures);
    let six = groups.find("<code>6000</code>").expect("the 6000 group");
    let mapping = groups
        .find("<code>mapping</code>")
        .expect("the mapping group");
    assert!(six < mapping, "the largest group comes first");
    assert!(groups[six..mapping].contains("<td class=\"num\">2</td>"));
    // Then the documents, with tenant, company, number, reason and fix.
    let docs = &failures[failures.find("The documents").unwrap()..];
    for text in [
        "INV-1001",
        "INV-1002",
        "INV-2001",
        "Borealis Security",
        "Refused for mapping",
        "Fix mapping",
        "1,234.50 USD",
    ] {
        assert!(docs.contains(text), "{text} missing");
    }
    assert!(
        !docs.contains("INV-1003"),
        "a posted document is not a failure"
    );

    let mapping_only = app.get_html("/support/failures?code=mapping").await;
    let docs = &mapping_only[mapping_only.find("Documents failed with").unwrap()..];
    assert!(docs.contains("INV-2001") && !docs.contains("INV-1001"));
}

#[tokio::test]
async fn a_customer_and_a_visitor_reach_none_of_the_console() {
    let app = TestApp::spawn_with_sandboxes().await;
    let h = seed(&app.db).await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let day = days_ago(1);
    let paths = [
        "/support/integrations".to_owned(),
        "/support/runs".to_owned(),
        "/support/failures".to_owned(),
        "/support/audit".to_owned(),
        format!("/support/documents/{}/replay", h.failed_doc),
        format!("/support/replay-day?integration={}&day={day}", h.acme_books),
    ];
    let visitor = client();
    for path in &paths {
        let r = app.get(path).await;
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/staff/sign-in".to_owned()),
            "a customer on GET {path}"
        );
        let r = visitor.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 303, "a visitor on GET {path}");
    }
    // The customer's own form token does not open the staff replays either.
    let token = csrf_token(&app.get_html("/integrations").await).unwrap();
    let r = app
        .client
        .post(app.url(&format!("/support/documents/{}/replay", h.failed_doc)))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/staff/sign-in");
    let r = app
        .client
        .post(app.url("/support/replay-day"))
        .form(&[
            ("csrf_token", token.as_str()),
            ("integration", &h.acme_books.to_string()),
            ("day", &day.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/staff/sign-in");
    assert!(jobs(&app.db).await.is_empty());
    assert!(
        audit_actions(&app.db, "staff.replayed_day")
            .await
            .is_empty()
    );
}
