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

mod access;
mod advanced;
mod expert;
mod express;
