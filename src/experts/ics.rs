//! The `.ics` invitation of a session (RFC 5545, built with the `icalendar` crate): a REQUEST
//! with the session's stable UID and its revision as SEQUENCE, so calendars update the same
//! event when it is moved, and a CANCEL when it is cancelled.

use icalendar::{Calendar, Component, EventLike, EventStatus, Property};

use super::Session;
use crate::notices::Attachment;

/// Whether the invitation books or cancels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A new or moved session.
    Request,
    /// A cancelled one.
    Cancel,
}

/// The calendar text for `session`; `organizer` is the address invitations come from, and
/// `manage_link` (reschedule or cancel) goes into the description.
pub fn invitation(session: &Session, method: Method, organizer: &str, manage_link: &str) -> String {
    let summary = format!("Ledgerbridge expert session: {}", session.company_name);
    let description = format!(
        "{}\n\nWhat you need help with: {}\n\nReschedule or cancel: {manage_link}",
        session.contact_label(),
        session.topic
    );
    let mut event = icalendar::Event::new();
    event
        .uid(&format!("{}@ledgerbridge", session.expert_session_id))
        .sequence(u32::try_from(session.sequence).unwrap_or(0))
        .timestamp(chrono::Utc::now())
        .starts(session.starts_at)
        .ends(session.ends_at)
        .summary(&summary)
        .description(&description)
        .status(match method {
            Method::Request => EventStatus::Confirmed,
            Method::Cancel => EventStatus::Cancelled,
        })
        .append_property(
            Property::new("ORGANIZER", format!("mailto:{organizer}"))
                .add_parameter("CN", "Ledgerbridge")
                .done(),
        );
    for (name, email) in [
        (
            session.booked_by_name.as_str(),
            session.booked_by_email.as_str(),
        ),
        ("Ledgerbridge expert", session.staff_email.as_str()),
    ] {
        event.append_multi_property(
            Property::new("ATTENDEE", format!("mailto:{email}"))
                .add_parameter("CN", name)
                .add_parameter("ROLE", "REQ-PARTICIPANT")
                .done(),
        );
    }
    let mut calendar = Calendar::new();
    calendar
        .append_property((
            "METHOD",
            match method {
                Method::Request => "REQUEST",
                Method::Cancel => "CANCEL",
            },
        ))
        .push(event.done());
    calendar.done().to_string()
}

/// The invitation as an e-mail attachment.
pub fn attachment(
    session: &Session,
    method: Method,
    organizer: &str,
    manage_link: &str,
) -> Attachment {
    let m = match method {
        Method::Request => "REQUEST",
        Method::Cancel => "CANCEL",
    };
    Attachment {
        filename: "invite.ics".to_owned(),
        content_type: format!("text/calendar; charset=UTF-8; method={m}"),
        body: invitation(session, method, organizer, manage_link).into_bytes(),
    }
}

/// A session for tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::Session;
    use chrono::{TimeZone, Utc};

    pub(crate) fn session() -> Session {
        Session {
            expert_session_id: uuid::Uuid::from_u128(7),
            tenant_id: crate::ids::TenantId(uuid::Uuid::nil()),
            integration_id: crate::ids::IntegrationId(uuid::Uuid::nil()),
            company_name: "Acme Security, Inc.".into(),
            tenant_name: "Acme".into(),
            staff_user_id: crate::ids::StaffUserId(uuid::Uuid::nil()),
            staff_email: "grace@ledgerbridge.test".into(),
            staff_zone: "Europe/London".into(),
            starts_at: Utc.with_ymd_and_hms(2026, 12, 9, 14, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2026, 12, 9, 14, 30, 0).unwrap(),
            status: "booked".into(),
            customer_zone: "America/Toronto".into(),
            contact: "phone".into(),
            phone: Some("+1 416 555 0100".into()),
            topic: "Map pay codes; taxes".into(),
            booked_by_name: "Dana Owner".into(),
            booked_by_email: "dana@acme.example".into(),
            sequence: 2,
            cancelled_at: None,
            cancelled_by: None,
            notes: None,
            outcome: None,
            notes_by: None,
            notes_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::session;
    use super::*;

    #[test]
    fn the_invitation_is_a_calendar_request_with_a_stable_uid_both_attendees_and_the_times_in_utc()
    {
        let folded = invitation(
            &session(),
            Method::Request,
            "noreply@lb.example",
            "https://lb.example/m?token=x",
        );
        // Long lines are folded (RFC 5545 §3.1); unfold to read them.
        let text = folded.replace("\r\n ", "");
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
        assert!(text.contains("METHOD:REQUEST"));
        assert!(text.contains("UID:00000000-0000-0000-0000-000000000007@ledgerbridge"));
        assert!(text.contains("SEQUENCE:2"));
        assert!(
            text.contains("DTSTART:20261209T140000Z") && text.contains("DTEND:20261209T143000Z"),
            "{text}"
        );
        assert!(
            text.contains("mailto:dana@acme.example")
                && text.contains("mailto:grace@ledgerbridge.test")
        );
        assert!(
            text.contains("Acme Security\\, Inc."),
            "text values are escaped: {text}"
        );
        let cancel = invitation(&session(), Method::Cancel, "noreply@lb.example", "x");
        assert!(cancel.contains("METHOD:CANCEL") && cancel.contains("STATUS:CANCELLED"));
    }
}
