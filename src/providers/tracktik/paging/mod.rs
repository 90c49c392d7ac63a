//! Reading whole collections: keyset paging to the end, and date-window queries that split
//! themselves when TrackTik answers 504.
//!
//! Paging: TrackTik pages with `limit` (max 1000) and `offset`, but an offset read is not
//! stable: a row deleted (or leaving the filter) between two pages shifts the next one past
//! us, unseen. So every collection is read by keyset: `sort=id`, `limit`, and from the second
//! page on `id:gt=<last id read>`. `meta.count` is then the number of rows still to come, so a
//! page holding all of them ends the read even when it is full; otherwise a short or empty page
//! does.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::http::OnGatewayTimeout;
use super::models::{Page, Record, parse_page, parse_single};
use super::{AccessToken, Portal, Query, TrackTikClient, TrackTikError};

/// A half-open time window `[from, until)`, e.g. one trading day in UTC. It is sent as the
/// inclusive `field:between=from|until-1s`, TrackTik timestamps having whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

impl Window {
    /// A window from `from` (included) to `until` (excluded). Both are truncated to whole
    /// seconds; the window must be at least one second long.
    pub fn new(from: DateTime<Utc>, until: DateTime<Utc>) -> Result<Self, TrackTikError> {
        let (from, until) = (whole_seconds(from), whole_seconds(until));
        if until <= from {
            return Err(TrackTikError::Config(format!(
                "empty window: {from} .. {until}"
            )));
        }
        Ok(Window { from, until })
    }

    /// The calendar day `day` in time zone `zone`: from its local midnight to the next
    /// (23 or 25 hours long on daylight-saving changes). A midnight that does not exist
    /// locally starts the day at the first instant that does.
    pub fn local_day(day: NaiveDate, zone: Tz) -> Result<Self, TrackTikError> {
        let next = day
            .succ_opt()
            .ok_or_else(|| TrackTikError::Config(format!("no day after {day}")))?;
        Window::new(local_midnight(day, zone)?, local_midnight(next, zone)?)
    }

    /// The first instant in the window.
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    /// The first instant after the window.
    pub fn until(&self) -> DateTime<Utc> {
        self.until
    }

    /// The window's length.
    pub fn span(&self) -> TimeDelta {
        self.until - self.from
    }

    /// The last whole second inside the window (the inclusive upper bound sent to TrackTik).
    pub fn last_second(&self) -> DateTime<Utc> {
        self.until - TimeDelta::seconds(1)
    }

    /// The two halves, split at the middle second; `None` when shorter than two seconds.
    pub fn split(&self) -> Option<(Window, Window)> {
        let half = self.span().num_seconds() / 2;
        if half < 1 {
            return None;
        }
        let middle = self.from + TimeDelta::seconds(half);
        Some((
            Window {
                from: self.from,
                until: middle,
            },
            Window {
                from: middle,
                until: self.until,
            },
        ))
    }
}

fn local_midnight(day: NaiveDate, zone: Tz) -> Result<DateTime<Utc>, TrackTikError> {
    // Walk forward a minute at a time past a skipped local midnight (e.g. a DST gap at 00:00).
    (0..=180)
        .find_map(|minutes| {
            let local = day.and_time(NaiveTime::MIN) + TimeDelta::minutes(minutes);
            zone.from_local_datetime(&local).earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| TrackTikError::Config(format!("{day} has no start in {zone}")))
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

impl TrackTikClient {
    /// Reads every record of `resource` matching `query`, page by page to the end.
    /// Records are decoded as `T` and deduplicated by id; order is TrackTik's.
    pub async fn list_all<T: Record>(
        &self,
        portal: &Portal,
        token: &AccessToken,
        resource: &str,
        query: &Query,
    ) -> Result<Vec<T>, TrackTikError> {
        self.pages(portal, token, resource, query, OnGatewayTimeout::Retry)
            .await
    }

    /// [`TrackTikClient::list_all`] on `T`'s own collection (`T::RESOURCE`).
    pub async fn list<T: Record>(
        &self,
        portal: &Portal,
        token: &AccessToken,
        query: &Query,
    ) -> Result<Vec<T>, TrackTikError> {
        self.list_all(portal, token, T::RESOURCE, query).await
    }

    /// Reads one record, `GET /rest/v1/{T::RESOURCE}/{id}` (with `query`'s `include`, …).
    pub async fn get<T: Record>(
        &self,
        portal: &Portal,
        token: &AccessToken,
        id: i64,
        query: &Query,
    ) -> Result<T, TrackTikError> {
        let path = format!("{}/{id}", T::RESOURCE);
        let body = self
            .get_json(
                portal,
                token,
                &path,
                &path,
                &query.pairs(),
                OnGatewayTimeout::Retry,
            )
            .await?;
        parse_single(&path, body)
    }

    /// Reads every record whose timestamp `field` lies in `window`, adding
    /// `field:between=…` to `query`. When TrackTik answers 504 (the query ran over its 30 s
    /// limit), the window is split in two and each half read separately, recursively, down to
    /// [`ClientConfig::min_window`](super::ClientConfig::min_window); a 504 on a window that
    /// small is returned as [`TrackTikError::Timeout`]. Results are merged, deduplicated and
    /// sorted by id, so they do not depend on how often the window was split.
    pub async fn list_window<T: Record>(
        &self,
        portal: &Portal,
        token: &AccessToken,
        resource: &str,
        query: &Query,
        field: &str,
        window: Window,
    ) -> Result<Vec<T>, TrackTikError> {
        let min_span = TimeDelta::from_std(self.config.min_window.max(Duration::from_secs(1)))
            .unwrap_or(TimeDelta::seconds(1));
        let mut todo = vec![window];
        let mut seen = HashSet::new();
        let mut records = Vec::new();
        while let Some(part) = todo.pop() {
            let bounded = query
                .clone()
                .between_instants(field, part.from(), part.last_second());
            match self
                .pages::<T>(portal, token, resource, &bounded, OnGatewayTimeout::Surface)
                .await
            {
                Ok(found) => {
                    records.extend(found.into_iter().filter(|r| seen.insert(r.id())));
                }
                Err(TrackTikError::Timeout { gateway: true, .. })
                    if part.span() >= min_span * 2 =>
                {
                    let Some((first, second)) = part.split() else {
                        unreachable!("a window of at least two seconds splits")
                    };
                    tracing::info!(
                        tracktik.resource = resource,
                        window.from = %part.from(),
                        window.until = %part.until(),
                        "TrackTik timed out (504); narrowing the window"
                    );
                    todo.push(second);
                    todo.push(first);
                }
                Err(e) => return Err(e),
            }
        }
        records.sort_by_key(Record::id);
        Ok(records)
    }

    /// Reads every page of `query` by keyset: sorted by `id`, each page asking for the ids
    /// after the last one seen (`id:gt`), never by offset. A row that leaves the list while we
    /// read cannot shift another past us, and one added meanwhile is either read or not, but
    /// never twice.
    async fn pages<T: Record>(
        &self,
        portal: &Portal,
        token: &AccessToken,
        resource: &str,
        query: &Query,
        on_504: OnGatewayTimeout,
    ) -> Result<Vec<T>, TrackTikError> {
        let limit = self.config.page_size;
        let mut after: Option<i64> = None;
        let mut records: Vec<T> = Vec::new();
        loop {
            let pairs = query.keyset_pairs(limit, after);
            let body = self
                .get_json(portal, token, resource, resource, &pairs, on_504)
                .await?;
            let page: Page<T> = parse_page(resource, body)?;
            let rows = page.records.len() as u64;
            let mut last = after;
            for record in page.records {
                let id = record.id();
                if last.is_some_and(|l| id <= l) {
                    // The server ignored `id:gt` or the sort: paging on could loop forever or
                    // skip rows.
                    return Err(TrackTikError::invalid(
                        resource,
                        Some("id".into()),
                        format!(
                            "record {id} came after {} in a read sorted by id",
                            last.unwrap_or_default()
                        ),
                    ));
                }
                last = Some(id);
                records.push(record);
            }
            if is_last_page(page.meta.count, page.meta.limit, rows, limit) {
                return Ok(records);
            }
            after = last;
        }
    }
}

/// Whether the page just read (`rows` rows) was the last one of a keyset read. `count` is the
/// number of rows matching the page's own query (ids after the previous page's last), so a
/// page holding all of them is the last even when full.
fn is_last_page(count: Option<i64>, server_limit: Option<i64>, rows: u64, limit: u32) -> bool {
    // A server may clamp `limit`; a page is short only relative to what it promised.
    let page_size = server_limit
        .and_then(|l| u64::try_from(l).ok())
        .filter(|l| *l > 0)
        .map_or(u64::from(limit), |l| l.min(u64::from(limit)));
    let all_read = count
        .and_then(|c| u64::try_from(c).ok())
        .is_some_and(|c| rows >= c);
    rows == 0 || rows < page_size || all_read
}

#[cfg(test)]
mod tests;
