//! How many sync runs one worker takes at once, and the database pool sized to them.
//!
//! A run is latency-bound: it waits on TrackTik and QuickBooks far more than it computes, so
//! one process keeps many going. Each run holds one connection for its whole length (the
//! integration's transaction-scoped lock) and needs a second one now and then (outcomes are
//! committed as they happen), so the pool is always larger than the number of runs: a run
//! never waits for a connection another run is only holding.

use super::{ConfigError, invalid, positive};

/// Sync runs one worker takes at once when `LEDGERBRIDGE_WORKER_CONCURRENCY` is not set.
pub const DEFAULT_WORKER_CONCURRENCY: usize = 64;

/// Connections beyond one per run: the runs' short queries, the cron ticks, the job queue's
/// polling and the web pages of a `serve` process.
pub fn headroom(concurrency: usize) -> usize {
    (concurrency / 4).max(8)
}

/// The least pool a given concurrency may have: one connection per run, and two more.
pub fn least_pool(concurrency: usize) -> usize {
    concurrency + 2
}

/// Reads `LEDGERBRIDGE_WORKER_CONCURRENCY` and `LEDGERBRIDGE_DB_MAX_CONNECTIONS` together:
/// neither set gives 64 runs and a pool of 80; one set derives the other; both set must leave
/// the pool at least two connections more than the runs.
pub fn read(
    concurrency: Option<(String, &'static str)>,
    pool: Option<(String, &'static str)>,
) -> Result<(usize, u32), ConfigError> {
    let concurrency: Option<usize> = concurrency.map(positive).transpose()?;
    let pool_var = pool.as_ref().map(|(_, var)| *var);
    let pool_value = pool.as_ref().map(|(value, _)| value.clone());
    let pool: Option<u32> = pool.map(positive).transpose()?;
    let (runs, connections) = match (concurrency, pool) {
        (None, None) => {
            let runs = DEFAULT_WORKER_CONCURRENCY;
            (runs, runs + headroom(runs))
        }
        (Some(runs), None) => (runs, runs + headroom(runs)),
        (None, Some(pool)) => {
            let pool = pool as usize;
            (
                DEFAULT_WORKER_CONCURRENCY
                    .min(pool.saturating_sub(2))
                    .max(1),
                pool,
            )
        }
        (Some(runs), Some(pool)) => {
            let pool = pool as usize;
            if pool < least_pool(runs) {
                return Err(invalid(
                    pool_var.unwrap_or("LEDGERBRIDGE_DB_MAX_CONNECTIONS"),
                    pool_value.as_deref().unwrap_or(""),
                    &format!(
                        "expected at least LEDGERBRIDGE_WORKER_CONCURRENCY + 2 = {} (each sync run holds a connection for its lock and needs another now and then); leave it unset to get {}",
                        least_pool(runs),
                        runs + headroom(runs)
                    ),
                ));
            }
            (runs, pool)
        }
    };
    let connections = u32::try_from(connections).map_err(|_| {
        invalid(
            "LEDGERBRIDGE_WORKER_CONCURRENCY",
            &runs.to_string(),
            "expected a smaller number",
        )
    })?;
    Ok((runs, connections))
}
