//! Keeps each company (realm) under QBO's published limits, so a 429 never happens in
//! normal operation: 500 requests per minute, 10 per second, 40 batch requests per minute.
//! A batch of n items counts as n requests towards the per-minute limit (QBO meters each item).
//!
//! The windows are sliding logs, slightly longer than a minute and a second, to absorb the
//! network latency between our clock and Intuit's (the second by 150 ms: ten requests in
//! 1.15 s are still more than 500 a minute, so the minute stays the bound of a long run). The limiter is per process: the sync runs
//! one job per company at a time, so one process talks to a realm at once.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// The limits applied per realm.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Requests per minute window.
    pub per_minute: usize,
    /// Requests per second window.
    pub per_second: usize,
    /// Batch requests per minute window.
    pub batches_per_minute: usize,
    /// Length of the "minute" window.
    pub minute: Duration,
    /// Length of the "second" window.
    pub second: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            per_minute: 500,
            per_second: 10,
            batches_per_minute: 40,
            minute: Duration::from_millis(60_250),
            second: Duration::from_millis(1_150),
        }
    }
}

#[derive(Default)]
struct Window {
    /// (time, weight) of each request in the last minute.
    minute: VecDeque<(Instant, usize)>,
    minute_total: usize,
    second: VecDeque<Instant>,
    batches: VecDeque<Instant>,
}

/// One limiter shared by every call of a client.
#[derive(Clone, Default)]
pub struct RealmLimiter {
    limits: Limits,
    realms: Arc<Mutex<HashMap<String, Arc<Mutex<Window>>>>>,
}

impl RealmLimiter {
    /// A limiter with these limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            realms: Arc::default(),
        }
    }

    /// Waits until a request of `weight` items (1 for a plain call, n for a batch of n) may be
    /// sent to `realm`, then records it.
    pub async fn acquire(&self, realm: &str, weight: usize, batch: bool) {
        let window = {
            let mut realms = self.realms.lock().expect("limiter lock");
            realms.entry(realm.to_owned()).or_default().clone()
        };
        let weight = weight.clamp(1, self.limits.per_minute);
        loop {
            let wait = {
                let mut w = window.lock().expect("limiter lock");
                let now = Instant::now();
                while w
                    .minute
                    .front()
                    .is_some_and(|(t, _)| now.duration_since(*t) >= self.limits.minute)
                {
                    let (_, n) = w.minute.pop_front().expect("checked");
                    w.minute_total -= n;
                }
                while w
                    .second
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.limits.second)
                {
                    w.second.pop_front();
                }
                while w
                    .batches
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.limits.minute)
                {
                    w.batches.pop_front();
                }
                let minute_ok = w.minute_total + weight <= self.limits.per_minute;
                let second_ok = w.second.len() < self.limits.per_second;
                let batch_ok = !batch || w.batches.len() < self.limits.batches_per_minute;
                if minute_ok && second_ok && batch_ok {
                    w.minute.push_back((now, weight));
                    w.minute_total += weight;
                    w.second.push_back(now);
                    if batch {
                        w.batches.push_back(now);
                    }
                    None
                } else {
                    let mut until = now + Duration::from_millis(5);
                    if !second_ok {
                        until = until.max(w.second[0] + self.limits.second);
                    }
                    if !batch_ok {
                        until = until.max(w.batches[0] + self.limits.minute);
                    }
                    if !minute_ok {
                        // Wait until enough of the oldest entries expire.
                        let mut freed = 0;
                        for (t, n) in &w.minute {
                            freed += n;
                            if w.minute_total - freed + weight <= self.limits.per_minute {
                                until = until.max(*t + self.limits.minute);
                                break;
                            }
                        }
                    }
                    Some(until)
                }
            };
            match wait {
                None => return,
                Some(until) => tokio::time::sleep_until(until).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tight() -> Limits {
        Limits {
            per_minute: 20,
            per_second: 5,
            batches_per_minute: 2,
            minute: Duration::from_secs(60),
            second: Duration::from_secs(1),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_per_second_limit_goes_out_in_any_second() {
        let limiter = RealmLimiter::new(tight());
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..12 {
            limiter.acquire("r1", 1, false).await;
            sent.push(Instant::now().duration_since(start));
        }
        for (i, t) in sent.iter().enumerate() {
            let in_window = sent
                .iter()
                .filter(|u| **u >= *t && **u < *t + Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 5,
                "request {i} at {t:?} has {in_window} in its second"
            );
        }
        assert!(
            sent[11] >= Duration::from_secs(2),
            "12 requests at 5/s take at least two seconds"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_per_minute_limit_counts_batch_items() {
        let limiter = RealmLimiter::new(tight());
        let start = Instant::now();
        limiter.acquire("r1", 15, true).await;
        limiter.acquire("r1", 5, false).await;
        assert!(Instant::now().duration_since(start) < Duration::from_secs(1));
        limiter.acquire("r1", 1, false).await; // the 21st item must wait for the minute
        assert!(Instant::now().duration_since(start) >= Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn batch_requests_have_their_own_limit() {
        let limiter = RealmLimiter::new(tight());
        let start = Instant::now();
        limiter.acquire("r1", 1, true).await;
        limiter.acquire("r1", 1, true).await;
        limiter.acquire("r1", 1, true).await;
        assert!(Instant::now().duration_since(start) >= Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn realms_do_not_share_a_budget() {
        let limiter = RealmLimiter::new(tight());
        let start = Instant::now();
        for _ in 0..5 {
            limiter.acquire("r1", 1, false).await;
            limiter.acquire("r2", 1, false).await;
        }
        assert!(Instant::now().duration_since(start) < Duration::from_millis(100));
    }
}
