//! Times as people read them, in the zone of whoever reads the page: the customer's on their
//! pages (their integration's trading-day zone), the staff member's on the console.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

/// The zone a page's times are shown in.
#[derive(Clone, Copy, Debug)]
pub struct Zone(pub Tz);

impl Default for Zone {
    fn default() -> Self {
        Self(Tz::UTC)
    }
}

impl Zone {
    /// From an IANA name; UTC when it is missing or unknown.
    pub fn named(name: Option<&str>) -> Self {
        Self(name.and_then(|n| n.trim().parse().ok()).unwrap_or(Tz::UTC))
    }

    /// Its IANA name, e.g. `America/Toronto`.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// A moment with the day, e.g. `Tue 8 Dec 2026, 14:05 EST`.
    pub fn at(&self, t: &DateTime<Utc>) -> String {
        t.with_timezone(&self.0)
            .format("%a %-d %b %Y, %H:%M %Z")
            .to_string()
    }

    /// A moment for a table cell, e.g. `2026-12-08 14:05 EST`.
    pub fn short(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.0)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// The same, for a template holding a reference.
    pub fn cell(&self, t: &DateTime<Utc>) -> String {
        self.short(*t)
    }

    /// The local date of a moment.
    pub fn date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.0).date_naive()
    }
}

/// Every IANA zone name, for a time-zone select.
pub fn zone_names() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_moment_reads_in_the_readers_zone_with_the_zone_named() {
        let t = Utc.with_ymd_and_hms(2026, 12, 8, 19, 5, 0).unwrap();
        let toronto = Zone::named(Some("America/Toronto"));
        assert_eq!(toronto.at(&t), "Tue 8 Dec 2026, 14:05 EST");
        assert_eq!(toronto.short(t), "2026-12-08 14:05 EST");
        assert_eq!(Zone::named(Some("Mars/Olympus")).name(), "UTC");
        assert_eq!(Zone::named(None).short(t), "2026-12-08 19:05 UTC");
    }
}
