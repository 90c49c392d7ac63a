//! Expert sessions: staff publish when they are available (weekly hours and exceptions in
//! their own zone, and a session length); customers book a free slot; both sides get an
//! e-mail with an `.ics` invitation, reminders 24 hours and 1 hour before, and the expert's
//! notes afterwards.
//!
//! Free slots are computed here from the published availability minus booked sessions (pure
//! functions, [`free_slots`]); the database's exclusion constraint makes sure one expert is
//! never booked twice for overlapping times, so two customers can never take one slot.

pub mod booking;
pub mod db;
pub mod ics;
pub mod mail;
pub mod reminders;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::ids::{IntegrationId, StaffUserId, TenantId};

/// How far ahead customers can book.
pub const HORIZON_DAYS: i64 = 14;
/// How soon the earliest slot may start.
pub const MIN_NOTICE: Duration = Duration::hours(2);
/// The longest "what do you need help with" accepted.
pub const MAX_TOPIC_CHARS: usize = 2_000;
/// The longest phone number accepted.
pub const MAX_PHONE_CHARS: usize = 40;
/// The longest notes an expert can record.
pub const MAX_NOTES_CHARS: usize = 8_000;

/// A range of local times in one day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hours {
    /// From.
    pub starts: NaiveTime,
    /// To (later than `starts`).
    pub ends: NaiveTime,
}

/// One expert's published availability.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// The expert.
    pub staff_user_id: StaffUserId,
    /// Their zone.
    pub zone: Tz,
    /// Minutes per session.
    pub session_minutes: u32,
    /// Weekly hours by weekday (1 = Monday … 7 = Sunday).
    pub weekly: BTreeMap<u8, Vec<Hours>>,
    /// Dates whose hours differ: an empty list means away all day.
    pub exceptions: BTreeMap<NaiveDate, Vec<Hours>>,
}

impl Schedule {
    /// The hours of a local date.
    pub fn hours_on(&self, day: NaiveDate) -> &[Hours] {
        if let Some(h) = self.exceptions.get(&day) {
            return h;
        }
        self.weekly
            .get(&(day.weekday().number_from_monday() as u8))
            .map_or(&[], Vec::as_slice)
    }
}

/// A time someone is already booked.
#[derive(Clone, Copy, Debug)]
pub struct Busy {
    /// Who.
    pub staff_user_id: StaffUserId,
    /// From.
    pub starts_at: DateTime<Utc>,
    /// To.
    pub ends_at: DateTime<Utc>,
}

/// A slot a customer can book, and the experts free for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// Length in minutes.
    pub minutes: u32,
    /// Experts free then.
    pub experts: Vec<StaffUserId>,
}

impl Slot {
    /// The end.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.starts_at + Duration::minutes(i64::from(self.minutes))
    }

    /// How the slot is named in a form: `2026-12-09T14:00:00Z/30`.
    pub fn key(&self) -> String {
        slot_key(self.starts_at, self.minutes)
    }
}

/// A slot's form value.
pub fn slot_key(starts_at: DateTime<Utc>, minutes: u32) -> String {
    format!("{}/{minutes}", starts_at.format("%Y-%m-%dT%H:%M:%SZ"))
}

/// Reads a slot's form value.
pub fn parse_slot_key(key: &str) -> Option<(DateTime<Utc>, u32)> {
    let (at, minutes) = key.trim().split_once('/')?;
    let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
    Some((at, minutes.parse().ok().filter(|m| (15..=180).contains(m))?))
}

/// A local date and time in `zone` as a moment (the earlier one when clocks go back; none when
/// the time does not exist because clocks go forward).
fn moment(zone: Tz, day: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    zone.from_local_datetime(&day.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Every free slot between `from` and `to`, earliest first, merged across experts.
pub fn free_slots(
    schedules: &[Schedule],
    busy: &[Busy],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Slot> {
    let mut slots: BTreeMap<(DateTime<Utc>, u32), Vec<StaffUserId>> = BTreeMap::new();
    for s in schedules {
        let step = Duration::minutes(i64::from(s.session_minutes));
        let first = from.with_timezone(&s.zone).date_naive() - Duration::days(1);
        let last = to.with_timezone(&s.zone).date_naive();
        for day in first.iter_days().take_while(|d| *d <= last) {
            for h in s.hours_on(day) {
                let (Some(mut at), Some(end)) =
                    (moment(s.zone, day, h.starts), moment(s.zone, day, h.ends))
                else {
                    continue;
                };
                while at + step <= end {
                    let taken = busy.iter().any(|b| {
                        b.staff_user_id == s.staff_user_id
                            && b.starts_at < at + step
                            && at < b.ends_at
                    });
                    if at >= from && at + step <= to && !taken {
                        slots
                            .entry((at, s.session_minutes))
                            .or_default()
                            .push(s.staff_user_id);
                    }
                    at += step;
                }
            }
        }
    }
    slots
        .into_iter()
        .map(|((starts_at, minutes), experts)| Slot {
            starts_at,
            minutes,
            experts,
        })
        .collect()
}

/// Reads a day's hours as typed: `09:00-12:00, 13:00-17:00`, or empty for none.
pub fn parse_hours(text: &str) -> Result<Vec<Hours>, String> {
    let mut out: Vec<Hours> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part
            .split_once(['-', '–'])
            .ok_or_else(|| format!("“{part}” is not a range: write it as 09:00-12:00."))?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
        let (Some(starts), Some(ends)) = (time(a), time(b)) else {
            return Err(format!(
                "“{part}”: write times as HH:MM on the 24-hour clock, e.g. 13:30."
            ));
        };
        if ends <= starts {
            return Err(format!("“{part}” ends before it starts."));
        }
        if out.iter().any(|h| h.starts < ends && starts < h.ends) {
            return Err(format!("“{part}” overlaps another range of the same day."));
        }
        out.push(Hours { starts, ends });
    }
    out.sort_by_key(|h| h.starts);
    Ok(out)
}

/// Writes a day's hours back as they are typed.
pub fn format_hours(hours: &[Hours]) -> String {
    hours
        .iter()
        .map(|h| format!("{}-{}", h.starts.format("%H:%M"), h.ends.format("%H:%M")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How the customer wants to meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact {
    /// The expert phones them.
    Phone,
    /// A video call (the expert sends the link).
    Video,
}

impl Contact {
    /// From the stored word.
    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "phone" => Some(Self::Phone),
            "video" => Some(Self::Video),
            _ => None,
        }
    }

    /// The stored word.
    pub fn key(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Video => "video",
        }
    }
}

/// What the expert records after a session.
pub const OUTCOMES: [(&str, &str); 3] = [
    ("resolved", "Resolved: the setup can go on"),
    ("follow_up", "Follow-up needed"),
    ("no_show", "The customer did not attend"),
];

/// An outcome in words.
pub fn outcome_label(key: &str) -> &'static str {
    OUTCOMES
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("Recorded", |(_, l)| l)
}

/// A booked (or cancelled, or done) session.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Session {
    /// Its id.
    pub expert_session_id: Uuid,
    /// The customer.
    pub tenant_id: TenantId,
    /// Their company.
    pub integration_id: IntegrationId,
    /// The company's name.
    pub company_name: String,
    /// The customer's name (their portal's).
    pub tenant_name: String,
    /// The expert.
    pub staff_user_id: StaffUserId,
    /// The expert's address.
    pub staff_email: String,
    /// The expert's zone (their console's).
    pub staff_zone: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// `booked`, `cancelled` or `done`.
    pub status: String,
    /// The zone the customer booked in.
    pub customer_zone: String,
    /// `phone` or `video`.
    pub contact: String,
    /// The number to call, for phone.
    pub phone: Option<String>,
    /// What they need help with.
    pub topic: String,
    /// Who booked it.
    pub booked_by_name: String,
    /// Their address.
    pub booked_by_email: String,
    /// The invitation's revision (iCalendar SEQUENCE).
    pub sequence: i32,
    /// When it was cancelled, and by whom.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Who cancelled it.
    pub cancelled_by: Option<String>,
    /// The expert's notes afterwards.
    pub notes: Option<String>,
    /// The outcome (`resolved`, `follow_up`, `no_show`).
    pub outcome: Option<String>,
    /// Who wrote the notes.
    pub notes_by: Option<String>,
    /// When.
    pub notes_at: Option<DateTime<Utc>>,
}

impl Session {
    /// The customer's zone.
    pub fn zone(&self) -> Tz {
        self.customer_zone.parse().unwrap_or(Tz::UTC)
    }

    /// Minutes long.
    pub fn minutes(&self) -> i64 {
        (self.ends_at - self.starts_at).num_minutes()
    }

    /// Still to come and booked.
    pub fn upcoming(&self, now: DateTime<Utc>) -> bool {
        self.status == "booked" && self.ends_at > now
    }

    /// How they meet, in words.
    pub fn contact_label(&self) -> String {
        match (self.contact.as_str(), &self.phone) {
            ("phone", Some(p)) => format!("Phone call to {p}"),
            ("phone", None) => "Phone call".to_owned(),
            _ => "Video call (the expert e-mails the link)".to_owned(),
        }
    }

    /// Its state in words.
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "booked" => "Booked",
            "cancelled" => "Cancelled",
            _ => "Done",
        }
    }

    /// The outcome in words.
    pub fn outcome_label(&self) -> Option<&'static str> {
        self.outcome.as_deref().map(outcome_label)
    }
}

/// A booking as the customer asked for it, checked.
#[derive(Clone, Debug)]
pub struct Booking {
    /// The slot's start.
    pub starts_at: DateTime<Utc>,
    /// Its length.
    pub minutes: u32,
    /// The zone they read times in.
    pub zone: Tz,
    /// Phone or video.
    pub contact: Contact,
    /// The number, for phone.
    pub phone: Option<String>,
    /// What they need help with.
    pub topic: String,
    /// Where the invitation goes.
    pub email: String,
}

/// What is wrong with a booking, per field.
#[derive(Clone, Debug, Default)]
pub struct BookingErrors {
    /// The slot.
    pub slot: Option<&'static str>,
    /// Phone or video.
    pub contact: Option<&'static str>,
    /// The phone number.
    pub phone: Option<&'static str>,
    /// The topic.
    pub topic: Option<&'static str>,
    /// The e-mail address.
    pub email: Option<&'static str>,
}

/// Checks the booking form's fields.
pub fn check_booking(
    slot: &str,
    zone: Tz,
    contact: &str,
    phone: &str,
    topic: &str,
    email: &str,
) -> Result<Booking, BookingErrors> {
    let mut e = BookingErrors::default();
    let parsed = parse_slot_key(slot);
    if parsed.is_none() {
        e.slot = Some("Choose a time for the session.");
    }
    let contact = Contact::from_key(contact);
    if contact.is_none() {
        e.contact = Some("Choose a phone call or a video call.");
    }
    let phone = phone.trim();
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let phone_ok = phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().x".contains(c));
    if contact == Some(Contact::Phone) {
        if phone.is_empty() {
            e.phone = Some("Enter the number the expert should call.");
        } else if phone.chars().count() > MAX_PHONE_CHARS
            || !phone_ok
            || !(7..=20).contains(&digits)
        {
            e.phone =
                Some("Enter a phone number with 7 to 20 digits, for example +1 416 555 0100.");
        }
    }
    let topic = topic.trim();
    if topic.is_empty() {
        e.topic = Some("Tell the expert what you need help with, so they can prepare.");
    } else if topic.chars().count() > MAX_TOPIC_CHARS {
        e.topic = Some("Shorten this to 2,000 characters or fewer.");
    }
    let email = match crate::members::check_email(email) {
        Ok(a) => a,
        Err(msg) => {
            e.email = Some(msg);
            String::new()
        }
    };
    match (parsed, contact) {
        (Some((starts_at, minutes)), Some(contact))
            if e.phone.is_none() && e.topic.is_none() && e.email.is_none() =>
        {
            Ok(Booking {
                starts_at,
                minutes,
                zone,
                contact,
                phone: (contact == Contact::Phone).then(|| phone.to_owned()),
                topic: topic.to_owned(),
                email,
            })
        }
        _ => Err(e),
    }
}

#[cfg(test)]
mod tests;
