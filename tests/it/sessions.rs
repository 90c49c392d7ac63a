//! Expert sessions (issue 17, §2) and staff's view of drafts (§3): a customer books a free
//! slot; both sides get an e-mail with the `.ics`; a slot cannot be booked twice; reminders go
//! once; the expert's notes reach the customer; staff see every draft with its blockers.

use std::collections::BTreeMap;

use chrono::NaiveTime;
use ledgerbridge::experts::{Hours, Schedule};
use ledgerbridge::staff::StaffRole;

use crate::helpers::{TestApp, client, location};
use crate::members::{admin_with_company, outbox_link};

/// A staff member available every day, all day (UTC), for 30-minute sessions.
pub async fn expert_available(app: &TestApp, email: &str) {
    let staff =
        ledgerbridge::staff::add(&app.db, email, StaffRole::Support, "a long enough password")
            .await
            .unwrap();
    let all_day = vec![Hours {
        starts: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
        ends: NaiveTime::from_hms_opt(23, 30, 0).unwrap(),
    }];
    let schedule = Schedule {
        staff_user_id: staff.staff_user_id,
        zone: chrono_tz::UTC,
        session_minutes: 30,
        weekly: (1..=7)
            .map(|d| (d, all_day.clone()))
            .collect::<BTreeMap<_, _>>(),
        exceptions: BTreeMap::new(),
    };
    let mut tx = app.db.begin().await.unwrap();
    ledgerbridge::experts::db::save_availability(&mut tx, &schedule, true)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

fn first_slot(html: &str) -> String {
    let start =
        html.find("name=\"slot\" value=\"").expect("a free slot") + "name=\"slot\" value=\"".len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn a_booked_slot_mails_both_sides_an_ics_and_cannot_be_booked_twice() {
    let (app, id) = admin_with_company().await;
    expert_available(&app, "grace@ledgerbridge.test").await;
    let page = app
        .get_html(&format!(
            "/integrations/{id}/expert?from=method&zone=America/Toronto"
        ))
        .await;
    assert!(
        page.contains("Show times in") && page.contains("America/Toronto"),
        "{page}"
    );
    let slot = first_slot(&page);
    let path = format!("/integrations/{id}/expert");
    let refused = app
        .post_form(
            &path,
            &path,
            &[
                ("slot", &slot),
                ("zone", "America/Toronto"),
                ("contact", "phone"),
                ("phone", "call me"),
                ("topic", ""),
                ("email", "dana@acme.example"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains("Enter a phone number") && html.contains("what you need help with"),
        "{html}"
    );

    let fields = [
        ("slot", slot.as_str()),
        ("zone", "America/Toronto"),
        ("contact", "video"),
        ("phone", ""),
        ("topic", "Map pay codes to accounts"),
        ("email", "dana@acme.example"),
    ];
    let booked = app.post_form(&path, &path, &fields).await;
    assert_eq!(booked.status(), 303);
    let session_page = location(&booked);
    assert!(session_page.contains("/sessions/"), "{session_page}");
    let html = app.get_html(&session_page).await;
    assert!(
        html.contains("America/Toronto") && html.contains("Video call"),
        "{html}"
    );

    let outbox = app.state.mailer.outbox().unwrap().list();
    let invites: Vec<_> = outbox
        .iter()
        .filter(|m| m.email.subject.contains("session"))
        .collect();
    assert_eq!(invites.len(), 2, "one e-mail to each side");
    for m in &invites {
        let ics = &m.email.attachments[0];
        assert_eq!(ics.filename, "invite.ics");
        assert!(ics.content_type.starts_with("text/calendar"));
        let text = String::from_utf8_lossy(&ics.body).replace("\r\n ", "");
        assert!(
            text.contains("METHOD:REQUEST") && text.contains("BEGIN:VEVENT"),
            "{text}"
        );
    }
    let mut to: Vec<_> = invites.iter().map(|m| m.email.to[0].clone()).collect();
    to.sort();
    assert_eq!(to, ["dana@acme.example", "grace@ledgerbridge.test"]);

    // The only expert is taken then: the same slot again is refused.
    let again = app.post_form(&path, &path, &fields).await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("just taken"));
    let count: i64 = sqlx::query_scalar("select count(*) from expert_session")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1);

    // Reminders: due one hour before, sent once.
    sqlx::query("alter table expert_session disable trigger expert_session_updated_at")
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("update expert_session set starts_at = now() + interval '50 minutes', ends_at = now() + interval '80 minutes', updated_at = now() - interval '2 days'")
        .execute(&app.db)
        .await
        .unwrap();
    let state = &app.state;
    assert_eq!(
        ledgerbridge::experts::reminders::send_due(
            &state.db,
            &state.mailer,
            &state.config.public_url
        )
        .await
        .unwrap(),
        1
    );
    assert_eq!(
        ledgerbridge::experts::reminders::send_due(
            &state.db,
            &state.mailer,
            &state.config.public_url
        )
        .await
        .unwrap(),
        0
    );
    let reminders = app
        .state
        .mailer
        .outbox()
        .unwrap()
        .list()
        .into_iter()
        .filter(|m| m.email.subject.starts_with("Reminder"))
        .count();
    assert_eq!(reminders, 2, "both sides, once");

    // The expert's notes reach the customer, on the page the e-mail links to.
    let manage = outbox_link(&app, "dana@acme.example", "/sessions/manage?token=");
    let sid: uuid::Uuid = sqlx::query_scalar("select expert_session_id from expert_session")
        .fetch_one(&app.db)
        .await
        .unwrap();
    app.post_form("/integrations", "/sign-out", &[]).await;
    app.sign_in_staff().await;
    let console = app.get_html("/support/sessions").await;
    assert!(console.contains("Map pay codes to accounts"), "{console}");
    let detail = app.get_html(&format!("/support/sessions/{sid}")).await;
    assert!(
        detail.contains("Blockers") && detail.contains("What a sync would post now"),
        "{detail}"
    );
    let noted = app
        .post_form(
            &format!("/support/sessions/{sid}"),
            &format!("/support/sessions/{sid}/notes"),
            &[
                ("outcome", "follow_up"),
                ("notes", "Pay codes mapped; taxes next week."),
            ],
        )
        .await;
    assert_eq!(noted.status(), 303);
    let customer = client()
        .get(&manage)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        customer.contains("Pay codes mapped; taxes next week.")
            && customer.contains("Follow-up needed"),
        "{customer}"
    );
    let viewed: i64 = sqlx::query_scalar(
        "select count(*) from audit_event where action = 'staff.viewed_session'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(viewed, 2);
}

#[tokio::test]
async fn staff_see_every_draft_with_its_step_and_blockers_and_can_filter_the_stuck_ones() {
    let (app, id) = admin_with_company().await;
    app.post_form("/integrations", "/sign-out", &[]).await;
    app.sign_in_staff().await;
    let list = app.get_html("/support/drafts").await;
    assert!(
        list.contains("Acme Security Inc. (US)")
            && list.contains("Choose Express or Advanced setup."),
        "{list}"
    );
    let stuck = app.get_html("/support/drafts?stuck=3").await;
    assert!(
        !stuck.contains("Acme Security Inc. (US)"),
        "nothing idle for 3 days"
    );
    sqlx::query("update integration set created_at = now() - interval '10 days'")
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query(
        "update audit_event set occurred_at = now() - interval '10 days' where actor_kind = 'user'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let stuck = app.get_html("/support/drafts?stuck=3").await;
    assert!(stuck.contains("Acme Security Inc. (US)"), "{stuck}");
    assert_eq!(app.get("/support/drafts?stuck=soon").await.status(), 400);
    let draft = app.get_html(&format!("/support/drafts/{id}")).await;
    assert!(
        draft.contains("Nothing stops activation") || draft.contains("Blockers"),
        "{draft}"
    );
    assert!(
        !draft.contains("tax class 3") && !draft.contains("bill item 1"),
        "names, never ids"
    );
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_event where action in ('staff.viewed_drafts', 'staff.viewed_draft')").fetch_one(&app.db).await.unwrap();
    assert_eq!(audited, 4);
}
