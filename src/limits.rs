//! Limits on what one caller can make the server do: per-key rate limits (sign-ins per client
//! address, manual runs per tenant) and a cap on concurrent password hashing.
//!
//! The counters live in this process. With several `web` processes each applies its own
//! limits, so the effective limit is the configured one times the number of processes.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::config::Config;
use crate::ids::TenantId;

/// Buckets beyond this many are swept of the full (idle) ones.
const SWEEP_ABOVE: usize = 10_000;

/// A token bucket per key: `capacity` actions at once, refilled at `capacity` per `per`.
#[derive(Debug)]
pub struct KeyedLimiter<K> {
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// `capacity` actions per `per`, in a burst or spread out.
    pub fn new(capacity: u32, per: Duration) -> Self {
        let capacity = f64::from(capacity.max(1));
        Self {
            capacity,
            per_second: capacity / per.as_secs_f64().max(0.001),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one action for `key`; when its bucket is empty, says how long until the next is
    /// allowed (nothing is counted then).
    pub fn try_take(&self, key: &K) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > SWEEP_ABOVE {
            let (capacity, rate) = (self.capacity, self.per_second);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < capacity
            });
        }
        let (tokens, at) = buckets.entry(key.clone()).or_insert((self.capacity, now));
        *tokens =
            (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / self.per_second))
        }
    }
}

/// Every limit the web layer applies, built from the configuration.
#[derive(Clone, Debug)]
pub struct Limits {
    /// TrackTik sign-ins started, per client address.
    pub sign_in: Arc<KeyedLimiter<String>>,
    /// Manual runs queued, per tenant.
    pub manual_runs: Arc<KeyedLimiter<TenantId>>,
    /// Staff password checks running at once.
    pub staff_hashing: Arc<Semaphore>,
}

impl Limits {
    /// The limits `config` sets.
    pub fn new(config: &Config) -> Self {
        Self {
            sign_in: Arc::new(KeyedLimiter::new(
                config.sign_in_per_minute,
                Duration::from_secs(60),
            )),
            manual_runs: Arc::new(KeyedLimiter::new(
                config.manual_runs_per_hour,
                Duration::from_secs(3600),
            )),
            staff_hashing: Arc::new(Semaphore::new(config.staff_hash_concurrency)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits_while_other_keys_are_untouched() {
        let limiter = KeyedLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.try_take(&"a").is_ok());
        }
        let wait = limiter.try_take(&"a").unwrap_err();
        assert!(
            wait > Duration::from_secs(15) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(
            limiter.try_take(&"b").is_ok(),
            "another key has its own bucket"
        );
    }

    #[test]
    fn a_bucket_refills_over_time() {
        let limiter = KeyedLimiter::new(2, Duration::from_millis(100));
        assert!(limiter.try_take(&1).is_ok());
        assert!(limiter.try_take(&1).is_ok());
        assert!(limiter.try_take(&1).is_err());
        std::thread::sleep(Duration::from_millis(80));
        assert!(
            limiter.try_take(&1).is_ok(),
            "one came back after half the period"
        );
    }
}
