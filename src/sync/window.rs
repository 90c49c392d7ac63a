//! Trading days and sync windows.
//!
//! A tenant's trading day D is the local calendar day in its scheduler time zone. The nightly
//! job for D may run once the cutoff has passed: `cutoff` local time on the morning of D+1
//! (03:00 by default). It takes every document approved from the start of the sync start date
//! up to the end of D that is not posted yet, so an approval that arrives late for an earlier
//! day is caught by the next run. Days are computed with the zone's rules, so a day is 23 or 25
//! hours long across daylight-saving changes, and a cutoff that falls in a skipped hour moves
//! to the first instant that exists.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The schedule of one integration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradingSchedule {
    /// The scheduler time zone.
    pub zone: Tz,
    /// The end of trading day D, local time on D+1.
    pub cutoff: NaiveTime,
    /// Nothing approved before this local date is synced.
    pub start_date: NaiveDate,
}

/// The UTC instant of a local date and time, resolving gaps forward and overlaps to the
/// earlier instant.
pub fn local_instant(zone: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut naive = NaiveDateTime::new(date, time);
    // A spring-forward gap is at most a few hours; step forward until the time exists.
    for _ in 0..(4 * 60) {
        match zone.from_local_datetime(&naive) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(earlier, _) => return earlier.with_timezone(&Utc),
            LocalResult::None => naive += Duration::minutes(1),
        }
    }
    // Unreachable for real zones; fall back to reading the time as UTC.
    Utc.from_utc_datetime(&NaiveDateTime::new(date, time))
}

/// The first instant of local day `day`.
pub fn day_start(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    local_instant(zone, day, NaiveTime::MIN)
}

impl TradingSchedule {
    /// When the job for trading day `day` may run.
    pub fn cutoff_of(&self, day: NaiveDate) -> DateTime<Utc> {
        local_instant(self.zone, day.succ_opt().unwrap_or(day), self.cutoff)
    }

    /// The latest trading day whose cutoff has passed at `now`, if it is not before the start
    /// date.
    pub fn last_due_day(&self, now: DateTime<Utc>) -> Option<NaiveDate> {
        let local_today = now.with_timezone(&self.zone).date_naive();
        // Today's own cutoff is tomorrow, so the candidates are yesterday and the day before.
        let mut day = local_today.pred_opt()?;
        if self.cutoff_of(day) > now {
            day = day.pred_opt()?;
        }
        (day >= self.start_date).then_some(day)
    }

    /// Every trading day from `after` (exclusive; `None` means from the start date) up to the
    /// last due day, oldest first: the days a scheduler still owes a run.
    pub fn due_days(&self, after: Option<NaiveDate>, now: DateTime<Utc>) -> Vec<NaiveDate> {
        let Some(last) = self.last_due_day(now) else {
            return Vec::new();
        };
        let mut day = match after {
            Some(d) => match d.succ_opt() {
                Some(next) => next.max(self.start_date),
                None => return Vec::new(),
            },
            None => self.start_date,
        };
        let mut days = Vec::new();
        while day <= last {
            days.push(day);
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        days
    }

    /// The next nightly run after `now`: the trading day it covers and the instant its cutoff
    /// passes (the cron tick enqueues it within minutes of that). Never a day before the start
    /// date, so a new integration's first run is the one for its start date.
    pub fn next_run(&self, now: DateTime<Utc>) -> (NaiveDate, DateTime<Utc>) {
        let local_today = now.with_timezone(&self.zone).date_naive();
        // Yesterday's cutoff is this morning; once it has passed, today's (tomorrow morning)
        // is next.
        let mut day = local_today.pred_opt().unwrap_or(local_today);
        if self.cutoff_of(day) <= now {
            day = local_today;
        }
        let day = day.max(self.start_date);
        (day, self.cutoff_of(day))
    }

    /// The approval window of the run for `day`: `[start of the start date, end of day)`, or
    /// `None` when `day` is before the start date.
    pub fn window(&self, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if day < self.start_date {
            return None;
        }
        let end = day_start(self.zone, day.succ_opt()?);
        Some((day_start(self.zone, self.start_date), end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::{Toronto, Vancouver};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn toronto(start: NaiveDate) -> TradingSchedule {
        TradingSchedule {
            zone: Toronto,
            cutoff: NaiveTime::from_hms_opt(3, 0, 0).unwrap(),
            start_date: start,
        }
    }

    #[test]
    fn a_day_is_due_only_after_the_next_mornings_cutoff() {
        let s = toronto(d(2026, 11, 1));
        // 02:59 Toronto on the 26th (EST, UTC-5): the 25th is not due yet, the 24th is.
        assert_eq!(
            s.last_due_day(at("2026-11-26T07:59:00Z")),
            Some(d(2026, 11, 24))
        );
        assert_eq!(
            s.last_due_day(at("2026-11-26T08:00:00Z")),
            Some(d(2026, 11, 25))
        );
    }

    #[test]
    fn a_start_date_of_today_posts_nothing_until_tomorrows_run() {
        let s = toronto(d(2026, 11, 26));
        assert_eq!(s.last_due_day(at("2026-11-26T20:00:00Z")), None);
        assert!(s.due_days(None, at("2026-11-26T20:00:00Z")).is_empty());
        assert_eq!(
            s.last_due_day(at("2026-11-27T08:00:00Z")),
            Some(d(2026, 11, 26))
        );
    }

    #[test]
    fn the_window_runs_from_the_start_date_to_the_end_of_the_day_in_local_time() {
        let s = toronto(d(2026, 11, 20));
        let (from, until) = s.window(d(2026, 11, 25)).unwrap();
        assert_eq!(from, at("2026-11-20T05:00:00Z"));
        assert_eq!(until, at("2026-11-26T05:00:00Z"));
        assert_eq!(s.window(d(2026, 11, 19)), None);
    }

    #[test]
    fn days_around_daylight_saving_changes_are_23_and_25_hours_long() {
        let s = toronto(d(2026, 1, 1));
        // Spring forward: 8 March 2026 in Toronto has 23 hours.
        let spring = day_start(Toronto, d(2026, 3, 9)) - day_start(Toronto, d(2026, 3, 8));
        assert_eq!(spring, Duration::hours(23));
        // Fall back: 1 November 2026 has 25 hours.
        let fall = day_start(Toronto, d(2026, 11, 2)) - day_start(Toronto, d(2026, 11, 1));
        assert_eq!(fall, Duration::hours(25));
        // The cutoff for 31 October is 03:00 EST on 1 November, after the change at 02:00.
        assert_eq!(s.cutoff_of(d(2026, 10, 31)), at("2026-11-01T08:00:00Z"));
        // The cutoff for 7 March is 03:00 on 8 March, the first instant after the skipped hour.
        assert_eq!(s.cutoff_of(d(2026, 3, 7)), at("2026-03-08T07:00:00Z"));
    }

    #[test]
    fn a_cutoff_inside_a_skipped_hour_moves_to_the_first_instant_that_exists() {
        let s = TradingSchedule {
            zone: Vancouver,
            cutoff: NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            start_date: d(2026, 1, 1),
        };
        // 02:30 does not exist in Vancouver on 8 March 2026; 03:00 PDT is 10:00 UTC.
        assert_eq!(s.cutoff_of(d(2026, 3, 7)), at("2026-03-08T10:00:00Z"));
        // 01:30 happens twice on 1 November (the clocks fall back at 02:00); the earlier one,
        // 01:30 PDT, is used.
        let early = TradingSchedule {
            cutoff: NaiveTime::from_hms_opt(1, 30, 0).unwrap(),
            ..s
        };
        assert_eq!(early.cutoff_of(d(2026, 10, 31)), at("2026-11-01T08:30:00Z"));
    }

    #[test]
    fn the_next_run_is_this_mornings_cutoff_until_it_passes_then_tomorrows() {
        let s = toronto(d(2026, 11, 1));
        // 02:59 Toronto on the 26th: the run for the 25th is a minute away.
        assert_eq!(
            s.next_run(at("2026-11-26T07:59:00Z")),
            (d(2026, 11, 25), at("2026-11-26T08:00:00Z"))
        );
        // From 03:00 on, the next is the run for the 26th, at 03:00 on the 27th.
        assert_eq!(
            s.next_run(at("2026-11-26T08:00:00Z")),
            (d(2026, 11, 26), at("2026-11-27T08:00:00Z"))
        );
    }

    #[test]
    fn the_next_run_of_a_new_integration_is_the_one_for_its_start_date() {
        let s = toronto(d(2026, 12, 1));
        assert_eq!(
            s.next_run(at("2026-11-26T12:00:00Z")),
            (d(2026, 12, 1), at("2026-12-02T08:00:00Z"))
        );
    }

    #[test]
    fn the_next_run_across_the_fall_back_change_is_at_03_00_standard_time() {
        let s = toronto(d(2026, 1, 1));
        // 20:00 EDT on 31 October: the run for the 31st is at 03:00 EST on 1 November.
        assert_eq!(
            s.next_run(at("2026-11-01T00:00:00Z")),
            (d(2026, 10, 31), at("2026-11-01T08:00:00Z"))
        );
    }

    #[test]
    fn owed_days_are_listed_oldest_first_from_the_last_run() {
        let s = toronto(d(2026, 11, 20));
        let now = at("2026-11-26T09:00:00Z");
        assert_eq!(
            s.due_days(Some(d(2026, 11, 22)), now),
            vec![d(2026, 11, 23), d(2026, 11, 24), d(2026, 11, 25)]
        );
        assert_eq!(s.due_days(None, now).first(), Some(&d(2026, 11, 20)));
        assert!(s.due_days(Some(d(2026, 11, 25)), now).is_empty());
    }
}
