//! The e-mails of a session, to the customer and to the expert, each with the `.ics`
//! invitation: booked, moved, cancelled, and the reminders 24 hours and 1 hour before.

use chrono_tz::Tz;
use sqlx::PgPool;

use super::Session;
use super::ics::{self, Method};
use crate::notices::{Email, Mailer};

/// Why the e-mails go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Just booked.
    Booked,
    /// Moved to another time.
    Rescheduled,
    /// Cancelled.
    Cancelled,
    /// A reminder this many hours before.
    Reminder(i32),
}

impl Event {
    fn key(self) -> String {
        match self {
            Self::Booked => "booked".into(),
            Self::Rescheduled => "rescheduled".into(),
            Self::Cancelled => "cancelled".into(),
            Self::Reminder(h) => format!("reminder_{h}h"),
        }
    }
}

fn when(session: &Session, zone: Tz) -> String {
    let start = session.starts_at.with_timezone(&zone);
    let end = session.ends_at.with_timezone(&zone);
    format!(
        "{} to {} ({})",
        start.format("%A %-d %B %Y, %H:%M"),
        end.format("%H:%M %Z"),
        zone.name()
    )
}

/// The e-mail for one side. `manage_link` is the customer's reschedule-and-cancel link or the
/// expert's console page.
pub fn compose(
    session: &Session,
    event: Event,
    to_customer: bool,
    manage_link: &str,
    organizer: &str,
) -> Email {
    let zone = if to_customer {
        session.zone()
    } else {
        session.staff_zone.parse().unwrap_or(Tz::UTC)
    };
    let time = when(session, zone);
    let company = &session.company_name;
    let (subject, opening) = match (event, to_customer) {
        (Event::Booked, true) => (
            format!("Your expert session is booked: {}", when(session, zone)),
            format!(
                "Your session with a Ledgerbridge integration expert about {company} is booked."
            ),
        ),
        (Event::Booked, false) => (
            format!("New expert session: {} ({})", session.tenant_name, time),
            format!(
                "{} of {} booked a session about {company}.",
                session.booked_by_name, session.tenant_name
            ),
        ),
        (Event::Rescheduled, _) => (
            format!("Expert session moved: {time}"),
            format!("The session about {company} was moved to a new time."),
        ),
        (Event::Cancelled, _) => (
            format!("Expert session cancelled: {time}"),
            format!(
                "The session about {company} was cancelled{}.",
                session
                    .cancelled_by
                    .as_deref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default()
            ),
        ),
        (Event::Reminder(h), _) => (
            format!(
                "Reminder: expert session in {}: {time}",
                if h == 1 {
                    "1 hour".to_owned()
                } else {
                    format!("{h} hours")
                }
            ),
            format!("A reminder of the session about {company}."),
        ),
    };
    let mut text = format!(
        "{opening}\n\nWhen: {time}\nHow: {}\nAbout: {}\n",
        session.contact_label(),
        session.topic
    );
    if !to_customer {
        text.push_str(&format!(
            "Customer: {} <{}>\nTheir draft, its blockers and a preview: {manage_link}\n",
            session.booked_by_name, session.booked_by_email
        ));
    } else if event != Event::Cancelled {
        text.push_str(&format!("\nReschedule or cancel: {manage_link}\n"));
    }
    text.push_str(
        "\nThe invitation is attached (invite.ics): open it to add the session to your calendar.\n",
    );
    let method = if event == Event::Cancelled {
        Method::Cancel
    } else {
        Method::Request
    };
    let link_in_invite = if to_customer { manage_link } else { "" };
    Email {
        to: vec![if to_customer {
            session.booked_by_email.clone()
        } else {
            session.staff_email.clone()
        }],
        subject,
        text,
        attachments: vec![ics::attachment(session, method, organizer, link_in_invite)],
    }
}

/// Sends `event`'s e-mail to both sides (each once: a key names the session, the event and the
/// invitation's revision or start time).
pub async fn notify(
    db: &PgPool,
    mailer: &Mailer,
    public_url: &str,
    session: &Session,
    event: Event,
) -> anyhow::Result<()> {
    let token =
        super::db::new_manage_token(db, session.tenant_id, session.expert_session_id).await?;
    let customer_link = format!("{public_url}/sessions/manage?token={token}");
    let console_link = format!(
        "{public_url}/support/sessions/{}",
        session.expert_session_id
    );
    let organizer = mailer.from_address();
    let revision = match event {
        Event::Reminder(_) => session.starts_at.timestamp().to_string(),
        _ => session.sequence.to_string(),
    };
    for (to_customer, link, side) in [
        (true, &customer_link, "customer"),
        (false, &console_link, "expert"),
    ] {
        let email = compose(session, event, to_customer, link, &organizer);
        crate::notices::deliver(
            db,
            mailer,
            session.tenant_id,
            Some(session.integration_id),
            &format!("expert_session_{}", event.key()),
            &format!(
                "expert_session:{}:{}:{revision}:{side}",
                session.expert_session_id,
                event.key()
            ),
            &email,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_reads_the_time_in_its_own_zone_and_the_customer_gets_the_manage_link() {
        let s = super::super::ics::tests_support::session();
        let customer = compose(
            &s,
            Event::Booked,
            true,
            "https://lb.example/sessions/manage?token=t",
            "noreply@lb.example",
        );
        assert!(
            customer
                .text
                .contains("Wednesday 9 December 2026, 09:00 to 09:30 EST"),
            "{}",
            customer.text
        );
        assert!(
            customer
                .text
                .contains("Reschedule or cancel: https://lb.example/sessions/manage?token=t")
        );
        assert_eq!(customer.to, ["dana@acme.example"]);
        assert_eq!(customer.attachments[0].filename, "invite.ics");
        let expert = compose(
            &s,
            Event::Booked,
            false,
            "https://lb.example/support/sessions/x",
            "noreply@lb.example",
        );
        assert!(
            expert.text.contains("14:00 to 14:30 GMT"),
            "{}",
            expert.text
        );
        assert!(!expert.text.contains("token="));
        assert_eq!(expert.to, ["grace@ledgerbridge.test"]);
        let cancelled = compose(&s, Event::Cancelled, true, "x", "noreply@lb.example");
        assert!(String::from_utf8_lossy(&cancelled.attachments[0].body).contains("METHOD:CANCEL"));
    }
}
