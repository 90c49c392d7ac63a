//! Prometheus metrics, exposed at `/metrics` in the text exposition format.
//!
//! Two kinds: counters kept by the process that does the work (HTTP requests, staff sign-ins,
//! token refreshes, QuickBooks calls), and figures read from the database when scraped
//! ([`Metrics::refresh_from_db`]: sync runs, documents by state, the job queue), which are the
//! same whichever process answers and however many workers run.

use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of one HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// GET, POST, …
    pub method: String,
    /// The route template (`/support`, `/integrations/{id}`), never the raw path.
    pub route: String,
    /// The response status code.
    pub status: u16,
}

/// Labels of a duration: the route template.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route template.
    pub route: String,
}

/// Labels of an outcome counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `success`, `failure`, `locked_out`, …
    pub outcome: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

/// Every metric the service records, registered once.
pub struct Metrics {
    registry: Registry,
    /// Requests served.
    pub http_requests: Family<HttpLabels, Counter>,
    /// Request latency.
    pub http_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    /// Staff sign-in attempts by outcome.
    pub staff_sign_ins: Family<OutcomeLabels, Counter>,
    /// OAuth token refreshes by provider and outcome.
    pub token_refreshes: Family<ProviderOutcomeLabels, Counter>,
    /// Calls to the QuickBooks Accounting API by entity and outcome (retries included).
    pub quickbooks_calls: Family<QuickBooksCallLabels, Counter>,
    /// 429 answers from QuickBooks.
    pub quickbooks_throttled: Counter,
    /// Finished sync runs by kind and status (from the database).
    pub sync_runs: Family<RunLabels, Counter>,
    /// Ledger documents by state, across tenants (from the database).
    pub documents: Family<StateLabels, Gauge>,
    /// Jobs waiting in the queue by job type (from the database).
    pub queue_depth: Family<JobLabels, Gauge>,
    /// Jobs being run by a worker, by job type (from the database).
    pub jobs_running: Family<JobLabels, Gauge>,
    /// One database refresh at a time, so two scrapes cannot interleave their updates.
    refresh: Mutex<()>,
    /// The sync job's type as labelled (its last path segment), always reported.
    sync_job_type: String,
}

/// Labels of a QuickBooks call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QuickBooksCallLabels {
    /// The first part of the API path: `invoice`, `purchase`, `query`, `batch`, …
    pub entity: String,
    /// `ok`, `throttled`, `unauthorized`, `forbidden`, `rejected`, `server_error`,
    /// `transport_error`.
    pub outcome: String,
}

/// Labels of a sync run count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunLabels {
    /// `nightly`, `manual`, `back_sync`, `retry`.
    pub kind: String,
    /// `succeeded`, `partial`, `failed`.
    pub status: String,
}

/// Labels of a document count.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    /// `pending`, `posting`, `posted`, `failed`, `skipped`.
    pub state: String,
}

/// Labels of a queue figure.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// The job's type, last part of its Rust name (`SyncIntegration`).
    pub job_type: String,
}

/// Labels of a per-provider outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProviderOutcomeLabels {
    /// `TrackTik` or `QuickBooks Online`.
    pub provider: String,
    /// `ok`, `refused`, `failed`.
    pub outcome: String,
}

impl Metrics {
    /// Creates and registers every metric; `sync_job_type` is the sync job's type in the job
    /// queue, reported at zero when none waits or runs.
    pub fn new(sync_job_type: &str) -> Self {
        let mut registry = Registry::with_prefix("ledgerbridge");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests served",
            http_requests.clone(),
        );
        let http_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            http_duration.clone(),
        );
        let staff_sign_ins = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "staff_sign_ins",
            "Staff sign-in attempts",
            staff_sign_ins.clone(),
        );
        let token_refreshes = Family::<ProviderOutcomeLabels, Counter>::default();
        registry.register(
            "token_refreshes",
            "OAuth token refreshes",
            token_refreshes.clone(),
        );
        let quickbooks_calls = Family::<QuickBooksCallLabels, Counter>::default();
        registry.register(
            "quickbooks_calls",
            "Calls to the QuickBooks Accounting API, retries included",
            quickbooks_calls.clone(),
        );
        let quickbooks_throttled = Counter::default();
        registry.register(
            "quickbooks_throttled",
            "QuickBooks answers 429 Too Many Requests",
            quickbooks_throttled.clone(),
        );
        let sync_runs = Family::<RunLabels, Counter>::default();
        registry.register(
            "sync_runs",
            "Finished sync runs recorded in the database",
            sync_runs.clone(),
        );
        let documents = Family::<StateLabels, Gauge>::default();
        registry.register(
            "documents",
            "TrackTik documents in the ledger, across tenants",
            documents.clone(),
        );
        let queue_depth = Family::<JobLabels, Gauge>::default();
        registry.register(
            "queue_depth",
            "Jobs waiting for a worker",
            queue_depth.clone(),
        );
        let jobs_running = Family::<JobLabels, Gauge>::default();
        registry.register(
            "jobs_running",
            "Jobs being run by a worker",
            jobs_running.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            staff_sign_ins,
            token_refreshes,
            quickbooks_calls,
            quickbooks_throttled,
            sync_runs,
            documents,
            queue_depth,
            jobs_running,
            refresh: Mutex::new(()),
            sync_job_type: short_job_type(sync_job_type),
        }
    }

    /// Counts one QuickBooks call (see `QuickBooksClient::with_observer`).
    pub fn record_quickbooks_call(&self, entity: &str, outcome: &str) {
        self.quickbooks_calls
            .get_or_create(&QuickBooksCallLabels {
                entity: entity.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
        if outcome == "throttled" {
            self.quickbooks_throttled.inc();
        }
    }

    /// Reads the figures kept in the database: finished runs (a counter that follows the
    /// table: it only ever rises, so a restarted process picks up where the table is),
    /// documents by state, and the job queue.
    pub async fn refresh_from_db(&self, db: &sqlx::PgPool) -> sqlx::Result<()> {
        let runs: Vec<(String, String, i64)> = sqlx::query_as(
            "select kind::text, status::text, count(*) from sync_run
             where status <> 'running' group by 1, 2",
        )
        .fetch_all(db)
        .await?;
        let documents: Vec<(String, i64)> =
            sqlx::query_as("select state::text, count(*) from ledger_entry group by 1")
                .fetch_all(db)
                .await?;
        let jobs: Vec<(String, String, i64)> = sqlx::query_as(
            "select job_type, status, count(*) from apalis.jobs
             where status in ('Pending', 'Running') group by 1, 2",
        )
        .fetch_all(db)
        .await?;
        let _one_at_a_time = self
            .refresh
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for (kind, status, count) in runs {
            let counter = self.sync_runs.get_or_create(&RunLabels { kind, status });
            let seen = counter.get();
            let count = u64::try_from(count).unwrap_or(0);
            if count > seen {
                counter.inc_by(count - seen);
            }
        }
        self.documents.clear();
        for state in ["pending", "posting", "posted", "failed", "skipped"] {
            let count = documents
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, c)| *c);
            self.documents
                .get_or_create(&StateLabels {
                    state: state.to_owned(),
                })
                .set(count);
        }
        self.queue_depth.clear();
        self.jobs_running.clear();
        // The sync job is always reported, at zero when none waits or runs.
        let sync_job = JobLabels {
            job_type: self.sync_job_type.clone(),
        };
        self.queue_depth.get_or_create(&sync_job).set(0);
        self.jobs_running.get_or_create(&sync_job).set(0);
        for (job_type, status, count) in jobs {
            let labels = JobLabels {
                job_type: short_job_type(&job_type),
            };
            let family = if status == "Running" {
                &self.jobs_running
            } else {
                &self.queue_depth
            };
            family.get_or_create(&labels).inc_by(count);
        }
        Ok(())
    }

    /// Counts one token refresh.
    pub fn record_token_refresh(&self, provider: &str, outcome: &str) {
        self.token_refreshes
            .get_or_create(&ProviderOutcomeLabels {
                provider: provider.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// The registry in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// `ledgerbridge::sync::controls::SyncIntegration` → `SyncIntegration`.
fn short_job_type(job_type: &str) -> String {
    job_type.rsplit("::").next().unwrap_or_default().to_owned()
}
