use super::*;

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn toronto_mornings(id: u128) -> Schedule {
    let mut weekly = BTreeMap::new();
    for d in 1..=5 {
        weekly.insert(
            d,
            vec![Hours {
                starts: t(9, 0),
                ends: t(10, 0),
            }],
        );
    }
    Schedule {
        staff_user_id: StaffUserId(Uuid::from_u128(id)),
        zone: "America/Toronto".parse().unwrap(),
        session_minutes: 30,
        weekly,
        exceptions: BTreeMap::new(),
    }
}

#[test]
fn weekly_hours_in_the_experts_zone_become_slots_and_a_booked_one_is_not_offered() {
    let s = toronto_mornings(1);
    // Monday 7 Dec 2026 to Wednesday 9 Dec, 00:00 UTC.
    let from = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap();
    let slots = free_slots(std::slice::from_ref(&s), &[], from, to);
    let starts: Vec<String> = slots
        .iter()
        .map(|s| s.starts_at.format("%d %H:%M").to_string())
        .collect();
    // 09:00 EST is 14:00 UTC.
    assert_eq!(starts, ["07 14:00", "07 14:30", "08 14:00", "08 14:30"]);
    let busy = Busy {
        staff_user_id: s.staff_user_id,
        starts_at: Utc.with_ymd_and_hms(2026, 12, 7, 14, 15, 0).unwrap(),
        ends_at: Utc.with_ymd_and_hms(2026, 12, 7, 14, 45, 0).unwrap(),
    };
    let slots = free_slots(std::slice::from_ref(&s), &[busy], from, to);
    assert_eq!(
        slots.len(),
        2,
        "an overlapping booking takes both slots it touches"
    );
}

#[test]
fn an_exception_replaces_a_days_hours_or_takes_the_day_off_and_experts_merge() {
    let mut a = toronto_mornings(1);
    let b = toronto_mornings(2);
    let monday = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let tuesday = NaiveDate::from_ymd_opt(2026, 12, 8).unwrap();
    a.exceptions.insert(monday, vec![]);
    a.exceptions.insert(
        tuesday,
        vec![Hours {
            starts: t(13, 0),
            ends: t(13, 30),
        }],
    );
    let from = Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap();
    let slots = free_slots(&[a, b], &[], from, to);
    let monday_14 = slots
        .iter()
        .find(|s| s.starts_at == Utc.with_ymd_and_hms(2026, 12, 7, 14, 0, 0).unwrap())
        .unwrap();
    assert_eq!(
        monday_14.experts,
        vec![StaffUserId(Uuid::from_u128(2))],
        "A is away on Monday"
    );
    assert!(slots.iter().any(|s| s.starts_at
        == Utc.with_ymd_and_hms(2026, 12, 8, 18, 0, 0).unwrap()
        && s.experts == vec![StaffUserId(Uuid::from_u128(1))]));
}

#[test]
fn a_time_that_does_not_exist_when_clocks_go_forward_is_skipped() {
    let mut s = toronto_mornings(1);
    s.weekly.insert(
        7,
        vec![Hours {
            starts: t(2, 0),
            ends: t(3, 0),
        }],
    );
    // Sunday 8 March 2026: 02:00–03:00 does not exist in Toronto.
    let from = Utc.with_ymd_and_hms(2026, 3, 8, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 3, 8, 12, 0, 0).unwrap();
    assert!(free_slots(&[s], &[], from, to).is_empty());
}

#[test]
fn hours_are_read_as_typed_and_mistakes_are_named() {
    let h = parse_hours(" 13:00-17:00, 09:00–12:00 ").unwrap();
    assert_eq!(format_hours(&h), "09:00-12:00, 13:00-17:00");
    assert!(parse_hours("").unwrap().is_empty());
    assert!(parse_hours("9am-5pm").unwrap_err().contains("HH:MM"));
    assert!(
        parse_hours("12:00-09:00")
            .unwrap_err()
            .contains("ends before")
    );
    assert!(
        parse_hours("09:00-12:00, 11:00-13:00")
            .unwrap_err()
            .contains("overlaps")
    );
    assert!(parse_hours("09:00").unwrap_err().contains("not a range"));
}

#[test]
fn a_slot_key_round_trips_and_a_booking_names_each_bad_field() {
    let at = Utc.with_ymd_and_hms(2026, 12, 9, 14, 0, 0).unwrap();
    assert_eq!(parse_slot_key(&slot_key(at, 30)), Some((at, 30)));
    assert_eq!(parse_slot_key("2026-12-09T14:00:00Z/5"), None);
    let tz: Tz = "America/Toronto".parse().unwrap();
    let e = check_booking("", tz, "phone", "abc", "", "x").unwrap_err();
    assert!(e.slot.is_some() && e.phone.is_some() && e.topic.is_some() && e.email.is_some());
    let long = "x".repeat(MAX_TOPIC_CHARS + 1);
    assert!(
        check_booking(&slot_key(at, 30), tz, "video", "", &long, "a@b.example")
            .unwrap_err()
            .topic
            .is_some()
    );
    let ok = check_booking(
        &slot_key(at, 30),
        tz,
        "phone",
        "+1 416 555 0100",
        " Pay codes ",
        "a@b.example",
    )
    .unwrap();
    assert_eq!(ok.phone.as_deref(), Some("+1 416 555 0100"));
    assert_eq!(ok.topic, "Pay codes");
    let video = check_booking(
        &slot_key(at, 30),
        tz,
        "video",
        "ignored",
        "Taxes",
        "a@b.example",
    )
    .unwrap();
    assert_eq!(video.phone, None);
}
