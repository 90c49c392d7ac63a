//! The setup wizard over HTTP, through both sandboxes: Advanced and Express walk-throughs,
//! resume and Back, validation that names the field and keeps what was typed, review problems
//! with links, activation, expert requests in the support console, the change history of an
//! active integration, and tenant isolation.

use crate::helpers::{TestApp, client, location, unescape};
use ledgerbridge::sandbox::quickbooks::US_REALM_ID;

/// Signs in and connects the US company; returns the integration id.
async fn connected(app: &TestApp) -> String {
    connected_to(app, US_REALM_ID).await
}

/// Signs in and connects the company `realm`; returns the integration id.
pub(crate) async fn connected_to(app: &TestApp, realm: &str) -> String {
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let done = app.connect_quickbooks(realm, None).await;
    assert_eq!(done.status(), 303);
    location(&done)
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .to_owned()
}

/// `(value, label)` of every option of the select named `name`.
pub(crate) fn options(html: &str, name: &str) -> Vec<(String, String)> {
    let key = format!("<select id=\"{name}\" name=\"{name}\"");
    let Some(start) = html.find(&key) else {
        return Vec::new();
    };
    let end = html[start..]
        .find("</select>")
        .map_or(html.len(), |e| start + e);
    html[start..end]
        .split("<option value=\"")
        .skip(1)
        .map(|chunk| {
            let value = &chunk[..chunk.find('"').unwrap()];
            let label_start = chunk.find('>').unwrap() + 1;
            let label = &chunk[label_start
                ..chunk[label_start..]
                    .find('<')
                    .map_or(chunk.len(), |e| label_start + e)];
            (unescape(value), unescape(label))
        })
        .collect()
}

/// The first non-empty option of a select.
pub(crate) fn first_choice(html: &str, name: &str) -> String {
    options(html, name)
        .into_iter()
        .find(|(v, _)| !v.is_empty())
        .unwrap_or_else(|| panic!("{name} has choices"))
        .0
}

/// The option whose label contains `text`.
pub(crate) fn choice_labelled(html: &str, name: &str, text: &str) -> String {
    options(html, name)
        .into_iter()
        .find(|(_, l)| l.contains(text))
        .unwrap_or_else(|| panic!("{name} offers {text}"))
        .0
}

/// The names of every select whose name starts with `prefix`.
fn selects(html: &str, prefix: &str) -> Vec<String> {
    let key = format!("<select id=\"{prefix}");
    html.match_indices(&key)
        .map(|(i, _)| {
            let rest = &html[i + "<select id=\"".len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

pub(crate) async fn post_step(
    app: &TestApp,
    id: &str,
    step: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let path = format!("/integrations/{id}/setup/{step}");
    app.post_form(&path, &path, fields).await
}

/// The names of the checked checkboxes of a page (the regions and clients proposed or saved).
pub(crate) fn checked_boxes(html: &str) -> Vec<String> {
    html.split("<input type=\"checkbox\"")
        .skip(1)
        .filter_map(|chunk| {
            let tag = &chunk[..chunk.find('>')?];
            if !tag.contains(" checked") {
                return None;
            }
            let start = tag.find("name=\"")? + "name=\"".len();
            Some(tag[start..start + tag[start..].find('"')?].to_owned())
        })
        .collect()
}

/// Saves the Regions step as proposed (or as saved before); returns the response.
pub(crate) async fn regions_as_proposed(app: &TestApp, id: &str) -> reqwest::Response {
    let page = app
        .get_html(&format!("/integrations/{id}/setup/regions"))
        .await;
    let mode = if page.contains("value=\"every\" checked") {
        "every"
    } else {
        "only"
    };
    let boxes = checked_boxes(&page);
    let mut fields: Vec<(&str, &str)> = vec![("regions", mode)];
    fields.extend(boxes.iter().map(|b| (b.as_str(), "on")));
    post_step(app, id, "regions", &fields).await
}

pub(crate) async fn wizard_step(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("select wizard_step from integration where integration_id = $1::uuid")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

pub(crate) async fn state_of(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("select state::text from integration where integration_id = $1::uuid")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_event where action = $1")
        .bind(action)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

pub(crate) const SCHEDULE_OK: [(&str, &str); 6] = [
    ("time_zone", "America/Toronto"),
    ("cutoff", "03:00"),
    ("billing_enabled", "on"),
    ("payroll_enabled", "on"),
    ("notify_emails", "books@acme.test"),
    ("closed_books", "fail"),
];

pub(crate) fn today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Toronto)
        .date_naive()
        .to_string()
}

/// Walks Express setup to the review step and activates it.
pub(crate) async fn express_and_activate(app: &TestApp, id: &str) {
    let r = post_step(app, id, "method", &[("setup_method", "express")]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(location(&r), format!("/integrations/{id}/setup/regions"));
    let r = regions_as_proposed(app, id).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(location(&r), format!("/integrations/{id}/setup/billing"));
    for (step, next) in [
        ("billing", "payroll"),
        ("payroll", "taxes"),
        ("taxes", "schedule"),
    ] {
        let r = post_step(app, id, step, &[]).await;
        assert_eq!(r.status(), 303, "{step}");
        assert_eq!(location(&r), format!("/integrations/{id}/setup/{next}"));
    }
    let start = today();
    let mut fields = SCHEDULE_OK.to_vec();
    fields.push(("start_date", &start));
    let r = post_step(app, id, "schedule", &fields).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = post_step(app, id, "review", &[]).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert_eq!(location(&r), format!("/integrations/{id}"));
    assert_eq!(state_of(app, id).await, "active");
    // The dashboard confirms it once: what happens tonight and where to watch.
    let dashboard = app.get_html(&format!("/integrations/{id}")).await;
    assert!(
        dashboard.contains("is active. The first sync runs at")
            && dashboard.contains("press Sync now"),
        "{dashboard}"
    );
    let again = app.get_html(&format!("/integrations/{id}")).await;
    assert!(!again.contains("is active. The first sync runs at"));
}

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
async fn express_setup_creates_the_defaults_in_quickbooks_and_the_review_lists_them() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected(&app).await;
    let r = post_step(&app, &id, "method", &[("setup_method", "express")]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(regions_as_proposed(&app, &id).await.status(), 303);
    let billing = app
        .get_html(&format!("/integrations/{id}/setup/billing"))
        .await;
    assert!(billing.contains("TrackTik Service Income"), "{billing}");
    assert!(
        !billing.contains("<select id=\"default_item\""),
        "Express shows the defaults read-only"
    );
    assert_eq!(post_step(&app, &id, "billing", &[]).await.status(), 303);
    let payroll = app
        .get_html(&format!("/integrations/{id}/setup/payroll"))
        .await;
    assert!(
        payroll.contains("TrackTik Direct Wages Liability"),
        "{payroll}"
    );
    let names: Vec<String> = sqlx::query_scalar(
        "select o->>'name' from integration, jsonb_array_elements(express_outcome->'objects') o where integration_id = $1::uuid",
    )
    .bind(&id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(
        names.iter().any(|n| n == "TrackTik Direct Wages"),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n == "TrackTik Automated Calculated Tax"),
        "{names:?}"
    );

    for step in ["payroll", "taxes"] {
        assert_eq!(post_step(&app, &id, step, &[]).await.status(), 303);
    }
    let start = today();
    let mut fields = SCHEDULE_OK.to_vec();
    fields.push(("start_date", &start));
    assert_eq!(
        post_step(&app, &id, "schedule", &fields).await.status(),
        303
    );
    let review = app
        .get_html(&format!("/integrations/{id}/setup/review"))
        .await;
    assert!(
        review.contains("What Express setup did in QuickBooks"),
        "{review}"
    );
    assert!(
        review.contains("TT-3000") || review.contains("account numbers"),
        "{review}"
    );
    assert!(review.contains("Created"), "{review}");
    assert!(review.contains("Ready to activate"), "{review}");
    let r = post_step(&app, &id, "review", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(state_of(&app, &id).await, "active");
    assert_eq!(audited(&app, "integration.express_setup").await, 1);

    // Running Express again reuses everything and creates nothing.
    let r = post_step(&app, &id, "method", &[("setup_method", "express")]).await;
    assert_eq!(r.status(), 303);
    let created: i64 = sqlx::query_scalar(
        "select count(*) from integration, jsonb_array_elements(express_outcome->'objects') o
         where integration_id = $1::uuid and o->>'action' like 'Created%'",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(created, 0);
}

#[tokio::test]
async fn an_expert_request_reaches_the_staff_queue_with_a_read_only_audited_draft_notes_and_done() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected(&app).await;
    assert_eq!(
        post_step(&app, &id, "method", &[("setup_method", "advanced")])
            .await
            .status(),
        303
    );
    assert_eq!(regions_as_proposed(&app, &id).await.status(), 303);
    let billing = app
        .get_html(&format!("/integrations/{id}/setup/billing"))
        .await;
    assert!(billing.contains(&format!("/integrations/{id}/expert?from=billing")));

    // Requests are no longer made from the web (sessions are booked in slots); one made
    // before stays readable for the customer and in the staff queue.
    let (tenant, integration): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select tenant_id, integration_id from integration where integration_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let request = ledgerbridge::wizard::db::insert_request(
        &app.db,
        ledgerbridge::ids::TenantId(tenant),
        ledgerbridge::ids::IntegrationId(integration),
        ledgerbridge::wizard::Step::Billing,
        "Tuesday 9-11 Eastern",
        "Help with taxes",
        "Dana",
    )
    .await
    .unwrap();
    let sent = format!("/integrations/{id}/expert/{request}");
    let page = app.get_html(&sent).await;
    assert!(
        page.contains("Request sent") && page.contains("Tuesday 9-11 Eastern"),
        "{page}"
    );
    let request_id = sent.rsplit('/').next().unwrap().to_owned();

    app.sign_in_staff().await;
    let queue = app.get_html("/support/requests").await;
    assert!(
        queue.contains("Tuesday 9-11 Eastern") && queue.contains("Open"),
        "{queue}"
    );
    assert!(queue.contains(&format!("/support/requests/{request_id}")));
    let view = app
        .get_html(&format!("/support/requests/{request_id}"))
        .await;
    assert!(
        view.contains("read-only") && view.contains("Help with taxes"),
        "{view}"
    );
    assert!(
        view.contains("Setup method") && view.contains("Advanced"),
        "every answer of the draft: {view}"
    );
    assert!(!view.contains("<select"), "nothing editable");
    assert_eq!(audited(&app, "staff.viewed_draft").await, 1);

    let page = format!("/support/requests/{request_id}");
    let r = app
        .post_form(&page, &format!("{page}/notes"), &[("body", "")])
        .await;
    assert_eq!(r.status(), 422);
    let r = app
        .post_form(
            &page,
            &format!("{page}/notes"),
            &[("body", "Called; booked Tuesday 10:00")],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(
        app.get_html(&page)
            .await
            .contains("Called; booked Tuesday 10:00")
    );
    assert_eq!(audited(&app, "staff.noted_request").await, 1);
    let r = app.post_form(&page, &format!("{page}/done"), &[]).await;
    assert_eq!(r.status(), 303);
    let status: String = sqlx::query_scalar(
        "select status::text from support_request where support_request_id = $1::uuid",
    )
    .bind(&request_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(status, "done");
    assert_eq!(audited(&app, "staff.closed_request").await, 1);
    assert!(app.get_html("/support/requests").await.contains("Done"));
}

#[tokio::test]
async fn changing_a_setting_of_an_active_integration_is_recorded_with_before_and_after() {
    let app = TestApp::spawn_with_sandboxes().await;
    let id = connected(&app).await;
    express_and_activate(&app, &id).await;
    let before: i64 =
        sqlx::query_scalar("select count(*) from settings_change where integration_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();

    let schedule = app
        .get_html(&format!("/integrations/{id}/setup/schedule"))
        .await;
    assert!(
        schedule.contains("This integration is active"),
        "{schedule}"
    );
    let start = today();
    let mut fields: Vec<(&str, &str)> = SCHEDULE_OK
        .iter()
        .copied()
        .filter(|(k, _)| *k != "cutoff")
        .collect();
    fields.push(("cutoff", "04:30"));
    fields.push(("start_date", &start));
    assert_eq!(
        post_step(&app, &id, "schedule", &fields).await.status(),
        303
    );

    let (step, old, new, who): (String, String, String, String) = sqlx::query_as(
        "select step, before->'schedule'->>'cutoff', after->'schedule'->>'cutoff', actor_label from settings_change
         where integration_id = $1::uuid order by settings_change_id desc limit 1",
    )
    .bind(&id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(step, "schedule");
    assert_eq!(old, "03:00:00");
    assert_eq!(new, "04:30:00");
    assert!(!who.is_empty());
    let after: i64 =
        sqlx::query_scalar("select count(*) from settings_change where integration_id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(after, before + 1);
    assert_eq!(state_of(&app, &id).await, "active", "still active");
    let review = app
        .get_html(&format!("/integrations/{id}/setup/review"))
        .await;
    assert!(
        review.contains("History of changes")
            && review.contains("Schedule: End of trading day")
            && review.contains("04:30 the next morning"),
        "{review}"
    );
    assert!(
        !review.contains("schedule.cutoff") && !review.contains("PayrollWageExpenses"),
        "never field paths or API names: {review}"
    );
}

#[tokio::test]
async fn another_tenants_integration_is_not_found_on_every_wizard_route() {
    let app = TestApp::spawn_with_sandboxes().await;
    let _mine = connected(&app).await;
    let other_tenant: uuid::Uuid = sqlx::query_scalar("insert into tenant (portal_url, name) values ('https://other.tracktik.test', 'Other') returning tenant_id")
        .fetch_one(&app.db).await.unwrap();
    let other: uuid::Uuid = sqlx::query_scalar("insert into integration (tenant_id, realm_id, company_name, country, home_currency) values ($1, '42', 'Other Co', 'US', 'USD') returning integration_id")
        .bind(other_tenant).fetch_one(&app.db).await.unwrap();
    let request: uuid::Uuid = sqlx::query_scalar("insert into support_request (tenant_id, integration_id, step, preferred_times, requested_by) values ($1, $2, 'billing', 'any', 'x') returning support_request_id")
        .bind(other_tenant).bind(other).fetch_one(&app.db).await.unwrap();

    let mut gets = vec![
        format!("/integrations/{other}/setup"),
        format!("/integrations/{other}/expert"),
        format!("/integrations/{other}/expert/{request}"),
    ];
    for step in [
        "connect", "method", "regions", "billing", "payroll", "taxes", "schedule", "review",
    ] {
        gets.push(format!("/integrations/{other}/setup/{step}"));
    }
    for path in &gets {
        assert_eq!(app.get(path).await.status(), 404, "GET {path}");
    }
    let mut posts = vec![format!("/integrations/{other}/expert")];
    for step in [
        "connect", "method", "regions", "billing", "payroll", "taxes", "schedule", "review",
    ] {
        posts.push(format!("/integrations/{other}/setup/{step}"));
    }
    for path in &posts {
        let r = app
            .post_form(
                "/integrations",
                path,
                &[("setup_method", "advanced"), ("preferred_times", "x")],
            )
            .await;
        assert_eq!(r.status(), 404, "POST {path}");
    }
    let untouched: (String, i64) = sqlx::query_as("select wizard_step, (select count(*) from support_request where tenant_id = $1) from integration where integration_id = $2")
        .bind(other_tenant).bind(other).fetch_one(&app.db).await.unwrap();
    assert_eq!(untouched, ("setup_method".to_owned(), 1));
}

#[tokio::test]
async fn wizard_pages_are_for_customers_the_queue_is_for_staff_and_every_post_needs_the_form_token()
{
    let app = TestApp::spawn().await;
    let tenant: uuid::Uuid = sqlx::query_scalar("insert into tenant (portal_url, name) values ('https://sweep.tracktik.test', 'Sweep') returning tenant_id")
        .fetch_one(&app.db).await.unwrap();
    let integration: uuid::Uuid = sqlx::query_scalar("insert into integration (tenant_id, realm_id, company_name, country, home_currency) values ($1, '42', 'Sweep Books', 'US', 'USD') returning integration_id")
        .bind(tenant).fetch_one(&app.db).await.unwrap();
    let request: uuid::Uuid = sqlx::query_scalar("insert into support_request (tenant_id, integration_id, step, preferred_times, requested_by) values ($1, $2, 'billing', 'Monday', 'Sam') returning support_request_id")
        .bind(tenant).bind(integration).fetch_one(&app.db).await.unwrap();
    let mut customer_get = vec![
        format!("/integrations/{integration}/setup"),
        format!("/integrations/{integration}/expert"),
        format!("/integrations/{integration}/expert/{request}"),
    ];
    let mut posts = vec![
        format!("/integrations/{integration}/expert"),
        format!("/support/requests/{request}/notes"),
        format!("/support/requests/{request}/done"),
    ];
    for step in [
        "connect", "method", "regions", "billing", "payroll", "taxes", "schedule", "review",
    ] {
        customer_get.push(format!("/integrations/{integration}/setup/{step}"));
        posts.push(format!("/integrations/{integration}/setup/{step}"));
    }
    let staff_get = [
        "/support/requests".to_owned(),
        format!("/support/requests/{request}"),
    ];

    let anonymous = client();
    for path in &customer_get {
        let r = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/".to_owned()),
            "GET {path}"
        );
    }
    for path in &staff_get {
        let r = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/staff/sign-in".to_owned()),
            "GET {path}"
        );
    }
    app.get("/").await; // a session with a token the posts below do not send
    for path in &posts {
        let r = app
            .client
            .post(app.url(path))
            .form(&[("setup_method", "advanced")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "POST {path} without a token");
    }
    app.sign_in_staff().await;
    for path in &customer_get {
        let r = app.get(path).await;
        assert_eq!(
            (r.status().as_u16(), location(&r)),
            (303, "/".to_owned()),
            "staff on GET {path}"
        );
    }
    for path in &staff_get {
        assert_eq!(app.get(path).await.status(), 200, "staff on GET {path}");
    }
    assert_eq!(
        app.get(&format!("/support/requests/{}", uuid::Uuid::new_v4()))
            .await
            .status(),
        404
    );
    assert_eq!(app.get("/support/requests/not-an-id").await.status(), 404);
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
