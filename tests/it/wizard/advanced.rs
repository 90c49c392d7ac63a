//! Advanced setup: each step saved, resumed and validated, then activated; a new product made once.

use super::*;

#[tokio::test]
async fn advanced_setup_saves_each_step_resumes_keeps_answers_and_activates_only_without_problems()
{
    let mut app = TestApp::spawn_with_sandboxes().await;
    let id = connected(&app).await;

    // The integration page offers the wizard; /setup resumes at the setup method.
    assert!(
        app.get_html(&format!("/integrations/{id}"))
            .await
            .contains(&format!("/integrations/{id}/setup"))
    );
    let r = app.get(&format!("/integrations/{id}/setup")).await;
    assert_eq!(location(&r), format!("/integrations/{id}/setup/method"));
    let page = app
        .get_html(&format!("/integrations/{id}/setup/method"))
        .await;
    assert!(
        page.contains("Express setup") && page.contains("Advanced setup"),
        "{page}"
    );
    assert!(page.contains("Talk to an expert"));

    // Connect is done: both sides are shown, and Continue goes on to the setup method.
    let connect = app
        .get_html(&format!("/integrations/{id}/setup/connect"))
        .await;
    assert!(connect.contains("Connected to"), "{connect}");
    let r = post_step(&app, &id, "connect", &[]).await;
    assert_eq!(location(&r), format!("/integrations/{id}/setup/method"));

    // A step not reached yet sends the customer back to where they are.
    let r = app.get(&format!("/integrations/{id}/setup/schedule")).await;
    assert_eq!(r.status(), 303);

    let r = post_step(&app, &id, "method", &[]).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Choose Express or Advanced setup.")
    );
    let r = post_step(&app, &id, "method", &[("setup_method", "advanced")]).await;
    assert_eq!(location(&r), format!("/integrations/{id}/setup/regions"));
    assert_eq!(wizard_step(&app, &id).await, "scope");

    // Regions: the US company (USD, multicurrency off) is offered New York, the region
    // billing in USD; a region billing in CAD is refused with the reason.
    let page = app
        .get_html(&format!("/integrations/{id}/setup/regions"))
        .await;
    assert!(
        page.contains("Which TrackTik regions go into this company?"),
        "{page}"
    );
    assert!(
        page.contains("Ontario") && page.contains("CAD") && page.contains("USD"),
        "{page}"
    );
    assert_eq!(
        checked_boxes(&page),
        vec!["region_3".to_owned()],
        "New York is proposed"
    );
    let r = post_step(
        &app,
        &id,
        "regions",
        &[("regions", "only"), ("region_1", "on"), ("region_3", "on")],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Ontario bills in CAD"), "{html}");
    assert!(html.contains("multicurrency is off"), "{html}");
    let r = regions_as_proposed(&app, &id).await;
    assert_eq!(location(&r), format!("/integrations/{id}/setup/billing"));
    assert_eq!(wizard_step(&app, &id).await, "billing");

    // Billing: the preview is built from a real TrackTik invoice; errors name the field and keep input.
    let billing = app
        .get_html(&format!("/integrations/{id}/setup/billing"))
        .await;
    assert!(billing.contains("Saved as draft"), "{billing}");
    assert!(
        billing.contains("Built from TrackTik invoice"),
        "preview shown: {billing}"
    );
    let item = first_choice(&billing, "default_item");
    let r = post_step(
        &app,
        &id,
        "billing",
        &[
            ("default_item", &item),
            ("customer_matching", "match_or_create"),
            ("doc_number_template", "INV"),
            ("memo_template", "TT {nope}"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Include {number}"), "{html}");
    assert!(
        html.contains("{nope} is not something we can fill in"),
        "{html}"
    );
    assert!(html.contains(r#"value="INV""#), "what was typed is kept");
    assert!(
        html.contains(&format!(r#"<option value="{item}" selected>"#)),
        "the chosen product is kept"
    );
    let r = post_step(
        &app,
        &id,
        "billing",
        &[
            ("default_item", &item),
            ("customer_matching", "match_or_create"),
            ("doc_number_template", "TT{number}"),
            ("memo_template", "{client} {period_start}"),
            ("action", "preview"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200, "Preview does not save");
    assert!(r.text().await.unwrap().contains("<code>TT"));
    assert_eq!(wizard_step(&app, &id).await, "billing");
    let r = post_step(
        &app,
        &id,
        "billing",
        &[
            ("default_item", &item),
            ("customer_matching", "match_or_create"),
            ("doc_number_template", "{number}"),
            ("memo_template", "TrackTik {number} for {client}"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("/integrations/{id}/setup/payroll"));
    assert_eq!(wizard_step(&app, &id).await, "payroll");

    // A new browser session resumes at the same step.
    app.client = client();
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let r = app.get(&format!("/integrations/{id}/setup")).await;
    assert_eq!(location(&r), format!("/integrations/{id}/setup/payroll"));

    // Back (a link) keeps the answers.
    let payroll = app
        .get_html(&format!("/integrations/{id}/setup/payroll"))
        .await;
    assert!(
        payroll.contains(&format!(r#"href="/integrations/{id}/setup/billing">Back"#)),
        "Back is a link"
    );
    let billing = app
        .get_html(&format!("/integrations/{id}/setup/billing"))
        .await;
    assert!(
        billing.contains(&format!(r#"<option value="{item}" selected>"#)),
        "saved answer shown"
    );
    assert!(billing.contains("TrackTik {number} for {client}"));

    // Payroll: a credit-card expense needs a credit-card account; the error says so.
    let wages = first_choice(&payroll, "wages_account");
    let not_card = choice_labelled(&payroll, "liability_account", "Payroll Liabilities");
    let card = choice_labelled(&payroll, "liability_account", "Visa Business Card");
    let r = post_step(
        &app,
        &id,
        "payroll",
        &[
            ("posting", "credit_card_expense"),
            ("grouping", "per_pay_code"),
            ("liability_account", &not_card),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Choose the expense account for wages."),
        "{html}"
    );
    assert!(
        html.contains("A bill-style expense is charged to a Credit Card account, and “2200 · Payroll Liabilities” is an Other Current Liability account"),
        "{html}"
    );
    let r = post_step(
        &app,
        &id,
        "payroll",
        &[
            ("posting", "credit_card_expense"),
            ("grouping", "per_employee"),
            ("wages_account", &wages),
            ("liability_account", &card),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);

    // Taxes: leave the tax classes unmapped for now.
    let taxes = app
        .get_html(&format!("/integrations/{id}/setup/taxes"))
        .await;
    let classes = selects(&taxes, "tax_");
    assert!(!classes.is_empty(), "{taxes}");
    let auto_item = first_choice(&taxes, "automated_tax_item");
    let r = post_step(&app, &id, "taxes", &[("automated_tax_item", &auto_item)]).await;
    assert_eq!(r.status(), 303);

    // Schedule: e-mails and dates are validated.
    let schedule = app
        .get_html(&format!("/integrations/{id}/setup/schedule"))
        .await;
    assert!(schedule.contains("appear in QuickBooks tomorrow"));
    assert!(
        schedule.contains(&format!(r#"value="{}""#, chrono::Utc::now().date_naive()))
            || schedule.contains(&format!(r#"value="{}""#, today())),
        "start date defaults to today"
    );
    let start = today();
    let future = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let mut bad = SCHEDULE_OK.to_vec();
    bad.retain(|(k, _)| *k != "notify_emails");
    bad.push(("notify_emails", "books@acme.test, not-an-address"));
    bad.push(("start_date", &start));
    bad.push(("back_sync_from", &future));
    let r = post_step(&app, &id, "schedule", &bad).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("“not-an-address” is not an e-mail address"),
        "{html}"
    );
    assert!(
        html.contains("The back-sync date is in the future"),
        "{html}"
    );
    assert!(html.contains("not-an-address"), "typed text kept");
    let mut ok = SCHEDULE_OK.to_vec();
    ok.push(("start_date", &start));
    let r = post_step(&app, &id, "schedule", &ok).await;
    assert_eq!(r.status(), 303);
    assert_eq!(location(&r), format!("/integrations/{id}/setup/review"));

    // Review: the unmapped tax classes used lately are problems, each linked to its field.
    let review = app
        .get_html(&format!("/integrations/{id}/setup/review"))
        .await;
    assert!(review.contains("Map the tax class"), "{review}");
    assert!(
        review.contains(&format!("/integrations/{id}/setup/taxes#tax_")),
        "{review}"
    );
    assert!(review.contains("books@acme.test"), "every answer is listed");
    let r = post_step(&app, &id, "review", &[]).await;
    assert_eq!(r.status(), 422);
    assert_eq!(state_of(&app, &id).await, "draft");

    // Map every tax class; now Save + Continue activates.
    let mut fields: Vec<(String, String)> = classes
        .iter()
        .map(|c| (c.clone(), first_choice(&taxes, c)))
        .collect();
    fields.push(("automated_tax_item".into(), auto_item.clone()));
    let borrowed: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let r = post_step(&app, &id, "taxes", &borrowed).await;
    assert_eq!(r.status(), 303);
    let review = app
        .get_html(&format!("/integrations/{id}/setup/review"))
        .await;
    assert!(review.contains("Ready to activate"), "{review}");
    let r = post_step(&app, &id, "review", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(state_of(&app, &id).await, "active");
    let activated: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select activated_at from integration where integration_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(activated.is_some());
    assert_eq!(audited(&app, "integration.activated").await, 1);
}

#[tokio::test]
async fn advanced_billing_can_create_a_new_quickbooks_product_for_a_bill_item_once() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected(&app).await;
    let r = post_step(&app, &id, "method", &[("setup_method", "advanced")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(regions_as_proposed(&app, &id).await.status(), 303);
    let billing = app
        .get_html(&format!("/integrations/{id}/setup/billing"))
        .await;
    let start = billing.find("name=\"item_").expect("a bill item select") + "name=\"".len();
    let field = billing[start..start + billing[start..].find('"').unwrap()].to_owned();
    let bill_item_name = options(&billing, &field)
        .into_iter()
        .find(|(v, _)| v == "new")
        .map(|(_, label)| label)
        .expect("a “Create a new product” choice");
    assert!(
        bill_item_name.starts_with("Create a new product"),
        "{bill_item_name}"
    );
    let product = bill_item_name
        .trim_start_matches("Create a new product “")
        .trim_end_matches('”')
        .to_owned();
    let default = first_choice(&billing, "default_item");
    let income = choice_labelled(&billing, "new_product_income", "Services");
    let fields = [
        ("default_item", default.as_str()),
        ("new_product_income", income.as_str()),
        (field.as_str(), "new"),
        ("customer_matching", "match_or_create"),
        ("doc_number_template", "{number}"),
        ("memo_template", "TrackTik {number}"),
    ];
    for _ in 0..2 {
        let r = post_step(&app, &id, "billing", &fields).await;
        assert_eq!(r.status(), 303, "saved");
    }
    let qbo = app.sandboxes().quickbooks.base_url().to_owned();
    let log: Vec<serde_json::Value> = reqwest::get(format!("{qbo}/__sandbox/requests"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let creates = log
        .iter()
        .filter(|r| {
            r["method"] == "POST" && r["path"].as_str().is_some_and(|p| p.ends_with("/item"))
        })
        .count();
    assert_eq!(
        creates, 1,
        "one product created, even though the form was saved twice"
    );
    let settings: serde_json::Value =
        sqlx::query_scalar("select settings from integration where integration_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let mapped: Vec<String> = settings["billing"]["items"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        mapped.contains(&product),
        "{mapped:?} maps to the new {product}"
    );
}
