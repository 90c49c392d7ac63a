//! The dashboard's nights and reconciliation, the documents page, and the staff's read-only
//! view.

use super::*;

#[tokio::test]
async fn the_dashboard_shows_each_nights_counts_and_reconciles_to_the_cent() {
    let s = Seeded::start().await;
    let html = s.page(&format!("/integrations/{}", s.id)).await;
    let (d2, d1) = (days_ago(2), days_ago(1));

    // The chart and its summary in words.
    assert!(
        html.contains("<svg role=\"img\""),
        "the chart is inline SVG"
    );
    let first = days_ago(29).format("%-d %b %Y");
    let summary = format!(
        "30 nights from {first} to {}: 5 posted, 2 failed, 1 skipped, 1 waiting. Busiest night: {} with 6 documents. Nights with failures: {} (2).",
        today().format("%-d %b %Y"),
        d1.format("%-d %b"),
        d1.format("%-d %b"),
    );
    assert!(html.contains(&summary), "{summary}\n{html}");

    // Two nights ago balances; last night differs by exactly what is explained.
    assert!(html.contains("1,350.50 USD"), "TrackTik total of {d2}");
    assert!(html.contains("Balanced"));
    assert!(html.contains("683.24 USD"), "TrackTik total of {d1}");
    assert!(
        html.contains("133.01 USD"),
        "what QuickBooks holds for {d1}"
    );
    assert!(html.contains("Difference 550.23 USD"));
    assert!(
        html.contains(
            "540.25 USD</span>: 2 failed documents are not in QuickBooks (INV-202, PR-8)"
        )
    );
    assert!(html.contains("9.99 USD</span>: 1 document waits to be posted (INV-203)"));
    assert!(html.contains(
        "-0.01 USD</span>: QuickBooks holds 113.01 USD for invoice INV-201, TrackTik 113.00 USD: QuickBooks computed the tax"
    ));
    assert!(html.contains("invoice INV-204 was changed in TrackTik after it was posted"));
    // The other tenant's night is not counted.
    assert!(!html.contains("7,777.77") && !html.contains("INV-901"));

    // Counts per night, the last run and the next one in the customer's zone.
    assert!(html.contains(&label(d1)) && html.contains(&label(d2)));
    assert!(
        html.contains("Some failed"),
        "last night's run partially failed"
    );
    assert!(
        html.contains("2 failed"),
        "failed documents link to the list"
    );
    assert!(html.contains(&format!("Times in {ZONE}")));
    let (next_day, _) = ledgerbridge::sync::window::TradingSchedule {
        zone: ZONE.parse().unwrap(),
        cutoff: chrono::NaiveTime::from_hms_opt(3, 0, 0).unwrap(),
        start_date: days_ago(20),
    }
    .next_run(Utc::now());
    assert!(
        html.contains(&format!("(for {})", label(next_day))),
        "{html}"
    );
    // Idle: no progress box, no refresh.
    assert!(!html.contains("data-progress-url"));
    assert!(!html.contains("http-equiv=\"refresh\""));
}

#[tokio::test]
async fn a_new_integration_explains_when_its_first_sync_runs() {
    let app = TestApp::spawn_with_sandboxes().await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    assert_eq!(
        app.connect_quickbooks(US_REALM_ID, None).await.status(),
        303
    );
    let (_, id) = integration_of(&app.db, US_REALM_ID).await;
    let draft = plain(&app.get_html(&format!("/integrations/{id}")).await);
    assert!(draft.contains("Nothing is synced until setup is finished"));
    assert!(
        draft.contains("Syncing starts once setup is finished"),
        "no controls on a draft"
    );
    assert!(!draft.contains("/sync-now"));

    activate(&app.db, id, today()).await;
    let active = plain(&app.get_html(&format!("/integrations/{id}")).await);
    assert!(
        active.contains(&format!("Your first sync runs after 03:00 {ZONE}")),
        "{active}"
    );
    assert!(active.contains(&format!("(for {})", label(today()))));
}

#[tokio::test]
async fn the_documents_page_filters_groups_failures_and_links_each_fix() {
    let s = Seeded::start().await;
    let base = format!("/integrations/{}/documents", s.id);
    let all = s.page(&base).await;
    assert!(all.contains("Documents 1–9 of 9"), "{all}");
    assert!(all.contains("View in QuickBooks"));
    assert!(all.contains("https://qbo.example/app/invoice?txnId=101"));
    assert!(!all.contains("INV-901"), "another tenant's document");
    // Failures grouped by reason, each with its fix and a link to the filtered list.
    assert!(all.contains("The QuickBooks books are closed for their dates"));
    assert!(all.contains("A setting is missing for these documents"));
    assert!(all.contains("state=failed&code=6210"));
    assert!(all.contains(&format!(
        "/integrations/{}/setup/payroll\">Open the Payroll step",
        s.id
    )));
    assert!(
        all.contains("settings?p=Advanced"),
        "closed books link to QuickBooks' closing date"
    );
    // Flags.
    assert!(all.contains("Changed in TrackTik"));
    assert!(all.contains("QuickBooks computed the tax: 13.01 instead of 13.00"));
    assert!(all.contains(">40.25 USD<"), "money with its currency");

    let failed = s.page(&format!("{base}?state=failed")).await;
    assert!(failed.contains("Documents 1–2 of 2"));
    assert!(failed.contains("INV-202") && failed.contains("PR-8"));
    assert!(
        failed.contains("Retry INV-202"),
        "a failed document can be retried"
    );
    let grouped = s.page(&format!("{base}?state=failed&code=6210")).await;
    assert!(grouped.contains("Documents 1–1 of 1") && grouped.contains("INV-202"));

    let payruns = s.page(&format!("{base}?kind=payrun")).await;
    assert!(payruns.contains("Documents 1–2 of 2") && payruns.contains("PR-7"));
    let night = days_ago(2).to_string();
    let by_day = s.page(&format!("{base}?from={night}&to={night}")).await;
    assert!(by_day.contains("Documents 1–3 of 3"));
    let by_number = s.page(&format!("{base}?q=INV-10")).await;
    assert!(by_number.contains("Documents 1–2 of 2") && by_number.contains("INV-102"));
    let none = s.page(&format!("{base}?q=901")).await;
    assert!(none.contains("No document matches these filters"));
    let bad = s.page(&format!("{base}?from=yesterday&state=posted")).await;
    assert!(bad.contains("id=\"from-error\">Enter a date like 2026-11-01"));
    assert!(bad.contains("value=\"yesterday\""));
    assert!(
        bad.contains("Documents 1–5 of 5"),
        "the other filters still apply"
    );

    // Fifty more on a third night: two pages.
    sqlx::query(
        "insert into ledger_entry (tenant_id, integration_id, source, source_id, revision,
            doc_number, trading_day, approved_at, amount, currency, state)
         select tenant_id, integration_id, 'invoice', 1000 + n, 'r1', 'INV-' || (1000 + n),
                $2, now(), 1, 'USD', 'pending'
         from integration, generate_series(1, 50) n where integration_id = $1",
    )
    .bind(s.id)
    .bind(days_ago(3))
    .execute(&s.app.db)
    .await
    .unwrap();
    let first = s.page(&base).await;
    assert!(first.contains("Documents 1–50 of 59") && first.contains("Page 1 of 2"));
    let second = s.page(&format!("{base}?page=2")).await;
    assert!(second.contains("Documents 51–59 of 59"));
}

#[tokio::test]
async fn staff_see_the_dashboard_and_documents_read_only_and_each_view_is_audited() {
    let app = TestApp::spawn().await;
    let (tenant, id) = other_tenant(&app.db).await;
    doc(&app.db, (tenant, id), "invoice", 1, "INV-1", days_ago(1), "12.34", "failed", None,
        "error_code = '6140', last_error = 'QuickBooks already has an invoice numbered INV-1.', fix_hint = 'Renumber it.', fix_at = 'quickbooks'").await;
    app.sign_in_staff().await;

    let r = app.get(&format!("/support/integrations/{id}")).await;
    assert_eq!(r.status(), 200);
    let html = plain(&r.text().await.unwrap());
    assert!(html.contains("topbar--staff"));
    assert!(html.contains("read-only"));
    assert!(
        html.contains("0 posted, 1 failed"),
        "the same numbers as the customer sees"
    );
    let forms: Vec<&str> = html
        .match_indices("<form")
        .map(|(i, _)| &html[i..i + 60])
        .collect();
    assert_eq!(forms.len(), 1, "only the staff sign-out form: {forms:?}");
    assert!(forms[0].contains("/staff/sign-out"));
    assert!(html.contains(&format!("/support/integrations/{id}/documents")));

    let docs = plain(
        &app.get_html(&format!("/support/integrations/{id}/documents"))
            .await,
    );
    assert!(
        docs.contains("INV-1")
            && docs.contains("QuickBooks already has an invoice numbered INV-1.")
    );
    assert_eq!(
        docs.matches("<form method=\"post\"").count(),
        1,
        "no Retry for staff"
    );

    let audited: Vec<(String, uuid::Uuid)> = sqlx::query_as(
        "select action, tenant_id from audit_event where actor_kind = 'staff' and action like 'staff.viewed_%' order by occurred_at",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        audited,
        vec![
            ("staff.viewed_dashboard".to_owned(), tenant),
            ("staff.viewed_documents".to_owned(), tenant)
        ]
    );
    assert_eq!(
        app.get(&format!("/support/integrations/{}", uuid::Uuid::new_v4()))
            .await
            .status(),
        404
    );
}
