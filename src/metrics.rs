//! Prometheus metrics, exposed at `/metrics` in the text exposition format.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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
    /// Creates and registers every metric.
    pub fn new() -> Self {
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
        Self {
            registry,
            http_requests,
            http_duration,
            staff_sign_ins,
            token_refreshes,
        }
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

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
