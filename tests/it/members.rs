//! Members (issue 17, §1): an administrator invites an accountant by e-mail; the accountant
//! signs in with the single-use link, without TrackTik, works on the draft as themselves, and
//! cannot do what only administrators do; revoking ends their session at once.

use ledgerbridge::sandbox::quickbooks::US_REALM_ID;

use crate::helpers::{TestApp, TestSettings, client, csrf_token, location};

/// The app with its e-mail kept in the outbox, an administrator signed in and a company
/// connected; returns the app and the integration's id.
pub async fn admin_with_company() -> (TestApp, String) {
    let app = TestApp::spawn_with_sandboxes_and(TestSettings {
        outbox: true,
        ..Default::default()
    })
    .await;
    assert_eq!(app.sign_in_with_tracktik().await.status(), 303);
    let done = app.connect_quickbooks(US_REALM_ID, None).await;
    assert_eq!(done.status(), 303);
    let next = location(&done);
    assert!(
        next.ends_with("/setup"),
        "a new company goes straight into the wizard: {next}"
    );
    let id = next
        .trim_start_matches("/integrations/")
        .trim_end_matches("/setup")
        .to_owned();
    (app, id)
}

/// The link in the newest outbox message to `to`.
pub fn outbox_link(app: &TestApp, to: &str, path: &str) -> String {
    let outbox = app.state.mailer.outbox().expect("the outbox is on");
    let message = outbox
        .list()
        .into_iter()
        .find(|m| m.email.to.iter().any(|t| t == to))
        .unwrap_or_else(|| panic!("a message to {to}"));
    let text = message.email.text;
    let start = text
        .find(path)
        .unwrap_or_else(|| panic!("a link to {path} in {text}"));
    let begin = text[..start].rfind("http").unwrap();
    let end = text[start..]
        .find(char::is_whitespace)
        .map_or(text.len(), |e| start + e);
    text[begin..end].to_owned()
}

/// Signs a fresh browser in with `link`; returns the browser.
pub async fn sign_in_with_link(app: &TestApp, link: &str) -> reqwest::Client {
    let browser = client();
    let page = browser.get(link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign in as"), "{html}");
    let token = link.split("token=").nth(1).unwrap();
    let done = browser
        .post(app.url("/sign-in/link"))
        .form(&[
            ("token", token),
            ("csrf_token", &csrf_token(&html).unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
    assert_eq!(location(&done), "/integrations");
    browser
}

async fn post(
    app: &TestApp,
    browser: &reqwest::Client,
    page: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let html = browser
        .get(app.url(page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_token(&html).expect("a form token");
    let mut body = fields.to_vec();
    body.push(("csrf_token", &token));
    browser
        .post(app.url(action))
        .form(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_invited_accountant_signs_in_with_the_link_and_edits_the_draft_as_themselves() {
    let (app, id) = admin_with_company().await;
    let refused = app
        .post_form(
            "/members",
            "/members",
            &[("name", "Jane Ledger"), ("email", "not an address")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("That is not an e-mail address") && html.contains("Jane Ledger"),
        "{html}"
    );

    let invited = app
        .post_form(
            "/members",
            "/members",
            &[("name", "Jane Ledger"), ("email", "jane@books.example")],
        )
        .await;
    assert_eq!(invited.status(), 303);
    let members = app.get_html("/members").await;
    assert!(
        members.contains("Invitation sent to jane@books.example"),
        "{members}"
    );
    assert!(members.contains("Jane Ledger") && members.contains("Accountant"));
    let again = app
        .post_form(
            "/members",
            "/members",
            &[("name", "Jane"), ("email", "JANE@books.example")],
        )
        .await;
    assert_eq!(again.status(), 422, "one member per address");

    let link = outbox_link(&app, "jane@books.example", "/sign-in/link?token=");
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select token_hash from member_link")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let token = link.split("token=").nth(1).unwrap();
    assert!(
        stored.iter().all(|h| h.as_slice() != token.as_bytes()),
        "only a hash of the secret is stored"
    );
    let jane = sign_in_with_link(&app, &link).await;

    // The link works once.
    let html = client().get(&link).send().await.unwrap();
    assert_eq!(html.status(), 410);
    assert!(html.text().await.unwrap().contains("already used"));

    let list = jane
        .get(app.url("/integrations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Acme Security Inc. (US)") && list.contains("Accountant"),
        "{list}"
    );
    let saved = post(
        &app,
        &jane,
        &format!("/integrations/{id}/setup/method"),
        &format!("/integrations/{id}/setup/method"),
        &[("setup_method", "advanced")],
    )
    .await;
    assert_eq!(saved.status(), 303, "the accountant edits the draft");
    let who: String = sqlx::query_scalar(
        "select actor_label from settings_change order by changed_at desc limit 1",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(who, "Jane Ledger", "the change is recorded as her");
    let actions: Vec<(String, String)> = sqlx::query_as(
        "select actor_label, action from audit_event where actor_kind = 'user' order by audit_event_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(
        actions.contains(&("Jane Ledger".to_owned(), "user.sign_in".to_owned())),
        "{actions:?}"
    );
    assert!(actions.iter().any(|(_, a)| a == "member.invited"));

    // What only administrators may do.
    for (page, action) in [
        (
            "/integrations".to_owned(),
            "/integrations/connect".to_owned(),
        ),
        (
            format!("/integrations/{id}"),
            format!("/integrations/{id}/disconnect"),
        ),
        (
            format!("/integrations/{id}"),
            format!("/integrations/{id}/back-sync"),
        ),
        ("/integrations".to_owned(), "/members".to_owned()),
    ] {
        let r = post(
            &app,
            &jane,
            &page,
            &action,
            &[("name", "X"), ("email", "x@y.example")],
        )
        .await;
        assert_eq!(r.status(), 403, "{action}");
    }
    assert_eq!(
        jane.get(app.url("/members")).send().await.unwrap().status(),
        403
    );
    sqlx::query("update integration set wizard_reached = 'review', wizard_step = 'review'")
        .execute(&app.db)
        .await
        .unwrap();
    let review = post(
        &app,
        &jane,
        &format!("/integrations/{id}"),
        &format!("/integrations/{id}/setup/review"),
        &[],
    )
    .await;
    assert_eq!(review.status(), 403);
    assert!(
        review
            .text()
            .await
            .unwrap()
            .contains("have not allowed you to activate")
    );
}

#[tokio::test]
async fn revoking_a_member_ends_their_session_and_their_links_and_resending_replaces_the_link() {
    let (app, _id) = admin_with_company().await;
    app.post_form(
        "/members",
        "/members",
        &[("name", "Sam Books"), ("email", "sam@books.example")],
    )
    .await;
    let first = outbox_link(&app, "sam@books.example", "/sign-in/link?token=");
    let member: uuid::Uuid = sqlx::query_scalar(
        "select tenant_user_id from tenant_user where email = 'sam@books.example'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let resent = app
        .post_form("/members", &format!("/members/{member}/resend"), &[])
        .await;
    assert_eq!(resent.status(), 303);
    let second = outbox_link(&app, "sam@books.example", "/sign-in/link?token=");
    assert_ne!(first, second);
    assert_eq!(
        client().get(&first).send().await.unwrap().status(),
        404,
        "the old link stops working"
    );
    let sam = sign_in_with_link(&app, &second).await;
    assert_eq!(
        sam.get(app.url("/integrations"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let revoked = app
        .post_form("/members", &format!("/members/{member}/revoke"), &[])
        .await;
    assert_eq!(revoked.status(), 303);
    let after = sam.get(app.url("/integrations")).send().await.unwrap();
    assert_eq!(after.status(), 303, "the revoked member's session ends");
    assert_eq!(location(&after), "/");
    let audit: i64 =
        sqlx::query_scalar("select count(*) from audit_event where action = 'member.revoked'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(audit, 1);

    // Asking for a link by e-mail: same answer for anyone, a link only for members with access.
    let asked = app
        .post_form(
            "/sign-in/email",
            "/sign-in/email",
            &[("email", "sam@books.example")],
        )
        .await;
    assert_eq!(asked.status(), 200);
    assert!(asked.text().await.unwrap().contains("a link is on its way"));
    let outbox = app.state.mailer.outbox().unwrap().list();
    assert_eq!(
        outbox
            .iter()
            .filter(|m| m.email.to == ["sam@books.example"])
            .count(),
        2,
        "no link for a revoked member"
    );
}

#[tokio::test]
async fn another_tenants_member_is_not_found_and_a_link_can_be_asked_for_by_email() {
    let (app, _id) = admin_with_company().await;
    let other: uuid::Uuid = sqlx::query_scalar(
        "insert into tenant (portal_url, name) values ('https://other.tracktik.com', 'Other') returning tenant_id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let stranger: uuid::Uuid = sqlx::query_scalar(
        "insert into tenant_user (tenant_id, display_name, email, role) values ($1, 'Kim', 'kim@else.example', 'accountant') returning tenant_user_id",
    )
    .bind(other)
    .fetch_one(&app.db)
    .await
    .unwrap();
    for action in ["resend", "revoke", "activation"] {
        let r = app
            .post_form(
                "/members",
                &format!("/members/{stranger}/{action}"),
                &[("allow", "yes")],
            )
            .await;
        assert_eq!(r.status(), 404, "{action}");
    }
    let asked = app
        .post_form(
            "/sign-in/email",
            "/sign-in/email",
            &[("email", "kim@else.example")],
        )
        .await;
    assert_eq!(asked.status(), 200);
    let link = outbox_link(&app, "kim@else.example", "/sign-in/link?token=");
    let kim = sign_in_with_link(&app, &link).await;
    let list = kim
        .get(app.url("/integrations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Other") && !list.contains("Acme Security Inc. (US)"),
        "{list}"
    );
}
