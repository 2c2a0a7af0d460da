//! The Prometheus metrics of the running server: one registry, every metric family, and
//! the narrow handles through which the other modules record into them ([`StoreMetrics`]
//! for the store; [`Metrics`] for `web`). `web` serves the text (`GET /metrics`).
//!
//! Labels have bounded values only: a request is labelled by its route *pattern*
//! (`/r/{token}`), never by its path, its query or a token; a request that matched no route
//! is counted under [`UNMATCHED_ROUTE`]; methods outside the standard ones are `other`.
//! So no client can add series by choosing what it sends.
//!
//! Collection can be switched off ([`Metrics::off`]): every handle then records nothing,
//! so the cost of metrics can be measured.
//!
//! This module knows neither HTTP nor sled: it is handed plain values (a method's name, a
//! pattern, a status code, durations, counts).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{prometheus_text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The `Content-Type` of the text served: the Prometheus text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The route label of a request that matched no route: unknown paths never become labels.
pub const UNMATCHED_ROUTE: &str = "(unmatched)";

/// Upper bounds (seconds) of the request latency histogram: from a cached page (well under
/// a millisecond) to a PDF typeset while others wait (a second or more).
pub const REQUEST_SECONDS_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// Upper bounds (seconds) of the durable write histogram: a group flush plus `fdatasync`
/// takes about a millisecond on a fast disk, tens of milliseconds on a slow one.
pub const DURABLE_WRITE_SECONDS_BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
];

/// Upper bounds of the flush group histogram: how many writes one flush made durable.
pub const FLUSH_GROUP_WRITES_BUCKETS: [f64; 9] =
    [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The methods that get their own label; any other is counted as `other`.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The rate limits of `web::limits`, as labels (a broker's id is never one).
pub const LIMITS: [&str; 4] = ["failed_auth", "broker", "admin", "create"];

/// The caches of rendered reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportCache {
    /// Pages, downloads, SVGs and CSVs, by ETag.
    Render,
    /// PDFs, by ETag.
    Pdf,
}

impl ReportCache {
    fn label(self) -> &'static str {
        match self {
            ReportCache::Render => "render",
            ReportCache::Pdf => "pdf",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    cache: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LimitLabels {
    limit: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn request_histogram() -> Histogram {
    Histogram::new(REQUEST_SECONDS_BUCKETS)
}

/// What the store records: durable writes and what they were.
#[derive(Debug, Clone, Default)]
pub struct StoreMetrics {
    inner: Option<StoreFamilies>,
}

#[derive(Debug, Clone)]
struct StoreFamilies {
    durable_write: Histogram,
    flush_group: Histogram,
    submissions: Counter,
    invitations: Counter,
}

impl StoreMetrics {
    /// Records nothing (tools, tests, metrics switched off).
    pub const OFF: StoreMetrics = StoreMetrics { inner: None };

    /// A write waited this long to be on disk (its group's flush and `fdatasync`).
    pub fn durable_write(&self, took: Duration) {
        if let Some(m) = &self.inner {
            m.durable_write.observe(took.as_secs_f64());
        }
    }

    /// One group flush made this many writes durable.
    pub fn flush_group(&self, writes: usize) {
        if let Some(m) = &self.inner {
            m.flush_group.observe(writes as f64);
        }
    }

    /// A submission is on disk.
    pub fn submission(&self) {
        if let Some(m) = &self.inner {
            m.submissions.inc();
        }
    }

    /// An invitation is on disk.
    pub fn invitation(&self) {
        if let Some(m) = &self.inner {
            m.invitations.inc();
        }
    }
}

/// Values read at each scrape rather than counted as they happen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScrapeGauges {
    /// Whether the store takes writes (no fault, room above the reserve).
    pub storage_writable: bool,
    /// Seconds since the published peer snapshot was taken; `None` when there is none.
    pub peer_snapshot_age: Option<f64>,
}

/// The server's metrics: on ([`Metrics::on`]) or off ([`Metrics::off`]). Cheap to clone.
/// The default is off.
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Option<Arc<Families>>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_on() {
            "Metrics(on)"
        } else {
            "Metrics(off)"
        })
    }
}

struct Families {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: HistogramFamily<RequestLabels>,
    store: StoreMetrics,
    cache_hits: Family<CacheLabels, Counter>,
    cache_misses: Family<CacheLabels, Counter>,
    rate_limited: Family<LimitLabels, Counter>,
}

impl Metrics {
    /// Metrics on: every family registered, the labelled ones with each of their fixed
    /// label values at 0, so that a rate of them exists before the first event.
    pub fn on() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "shindan_http_requests",
            "HTTP requests answered, by method, route pattern and status",
            requests.clone(),
        );
        let request_seconds: HistogramFamily<RequestLabels> =
            Family::new_with_constructor(request_histogram);
        registry.register(
            "shindan_http_request_duration_seconds",
            "Time from a request's head to its response, by method, route pattern and status",
            request_seconds.clone(),
        );
        let store = StoreFamilies {
            durable_write: Histogram::new(DURABLE_WRITE_SECONDS_BUCKETS),
            flush_group: Histogram::new(FLUSH_GROUP_WRITES_BUCKETS),
            submissions: Counter::default(),
            invitations: Counter::default(),
        };
        registry.register(
            "shindan_durable_write_seconds",
            "Time a write waited to be on disk (its group's flush and fdatasync)",
            store.durable_write.clone(),
        );
        registry.register(
            "shindan_flush_group_writes",
            "Writes made durable by one group flush",
            store.flush_group.clone(),
        );
        registry.register(
            "shindan_submissions",
            "Assessments submitted (on disk)",
            store.submissions.clone(),
        );
        registry.register(
            "shindan_invitations",
            "Invitations created by brokers (on disk)",
            store.invitations.clone(),
        );
        let cache_hits = Family::<CacheLabels, Counter>::default();
        let cache_misses = Family::<CacheLabels, Counter>::default();
        for cache in [ReportCache::Render, ReportCache::Pdf] {
            let labels = CacheLabels {
                cache: cache.label(),
            };
            let _ = cache_hits.get_or_create(&labels);
            let _ = cache_misses.get_or_create(&labels);
        }
        registry.register(
            "shindan_report_cache_hits",
            "Report representations served from the cache of rendered reports",
            cache_hits.clone(),
        );
        registry.register(
            "shindan_report_cache_misses",
            "Report representations rendered (or typeset) because the cache did not hold them",
            cache_misses.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        for limit in LIMITS {
            let _ = rate_limited.get_or_create(&LimitLabels { limit });
        }
        registry.register(
            "shindan_rate_limited",
            "Requests refused with 429, by rate limit",
            rate_limited.clone(),
        );
        Metrics {
            inner: Some(Arc::new(Families {
                registry,
                requests,
                request_seconds,
                store: StoreMetrics { inner: Some(store) },
                cache_hits,
                cache_misses,
                rate_limited,
            })),
        }
    }

    /// Metrics off: nothing is recorded and nothing is served.
    pub fn off() -> Metrics {
        Metrics { inner: None }
    }

    /// Whether metrics are collected.
    pub fn is_on(&self) -> bool {
        self.inner.is_some()
    }

    /// The handle the store records through.
    pub fn store(&self) -> StoreMetrics {
        self.inner
            .as_ref()
            .map_or(StoreMetrics::OFF, |m| m.store.clone())
    }

    /// One answered request. `route` is the pattern of the route it matched (`None` or
    /// empty when it matched none); `method` is kept only when it is a standard one.
    pub fn request(&self, method: &str, route: Option<&str>, status: u16, took: Duration) {
        let Some(m) = &self.inner else {
            return;
        };
        let labels = RequestLabels {
            method: METHODS
                .iter()
                .find(|known| **known == method)
                .copied()
                .unwrap_or("other"),
            route: route
                .filter(|r| !r.is_empty())
                .unwrap_or(UNMATCHED_ROUTE)
                .to_string(),
            status,
        };
        m.requests.get_or_create(&labels).inc();
        m.request_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// A lookup in a cache of rendered reports.
    pub fn report_cache(&self, cache: ReportCache, hit: bool) {
        let Some(m) = &self.inner else {
            return;
        };
        let labels = CacheLabels {
            cache: cache.label(),
        };
        let family = if hit { &m.cache_hits } else { &m.cache_misses };
        family.get_or_create(&labels).inc();
    }

    /// A request refused by the rate limit `limit` (one of [`LIMITS`]).
    pub fn rate_limited(&self, limit: &'static str) {
        if let Some(m) = &self.inner {
            m.rate_limited.get_or_create(&LimitLabels { limit }).inc();
        }
    }

    /// Everything in the Prometheus text format, with the gauges read at this scrape;
    /// `None` when metrics are off.
    pub fn encode(&self, now: &ScrapeGauges) -> Option<Result<String, fmt::Error>> {
        let m = self.inner.as_ref()?;
        Some(encode(&m.registry, now))
    }
}

fn encode(registry: &Registry, now: &ScrapeGauges) -> Result<String, fmt::Error> {
    let mut out = String::new();
    prometheus_text::encode(&mut out, registry)?;
    let mut scrape = Registry::default();
    scrape.register(
        "shindan_storage_writable",
        "1 while the store takes writes, 0 while it refuses them (disk at its reserve, or failed: see /healthz)",
        ConstGauge::new(i64::from(now.storage_writable)),
    );
    if let Some(age) = now.peer_snapshot_age.filter(|a| a.is_finite()) {
        scrape.register(
            "shindan_peer_snapshot_age_seconds",
            "Seconds since the published peer snapshot was taken (absent while there is none)",
            ConstGauge::new(age.max(0.0)),
        );
    }
    prometheus_text::encode(&mut out, &scrape)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(m: &Metrics) -> String {
        let now = ScrapeGauges {
            storage_writable: true,
            peer_snapshot_age: None,
        };
        m.encode(&now).expect("on").expect("encodes")
    }

    #[test]
    fn unmatched_requests_share_one_label_and_odd_methods_are_other() {
        let m = Metrics::on();
        m.request("GET", None, 404, Duration::from_millis(1));
        m.request("BREW", Some(""), 404, Duration::from_millis(1));
        let text = scrape(&m);
        assert!(text.contains(
            r#"shindan_http_requests_total{method="GET",route="(unmatched)",status="404"} 1"#
        ));
        assert!(text.contains(
            r#"shindan_http_requests_total{method="other",route="(unmatched)",status="404"} 1"#
        ));
        assert!(!text.contains("BREW"));
    }

    #[test]
    fn every_limit_and_cache_is_listed_before_its_first_event() {
        let text = scrape(&Metrics::on());
        for limit in LIMITS {
            assert!(
                text.contains(&format!(
                    "shindan_rate_limited_total{{limit=\"{limit}\"}} 0"
                )),
                "{limit}"
            );
        }
        assert!(text.contains(r#"shindan_report_cache_hits_total{cache="pdf"} 0"#));
        assert!(text.contains(r#"shindan_report_cache_misses_total{cache="render"} 0"#));
    }

    #[test]
    fn the_snapshot_age_is_absent_without_a_snapshot() {
        let m = Metrics::on();
        let text = scrape(&m);
        assert!(text.contains("shindan_storage_writable 1\n"));
        assert!(!text.contains("shindan_peer_snapshot_age_seconds"));
        let now = ScrapeGauges {
            storage_writable: false,
            peer_snapshot_age: Some(90.5),
        };
        let text = m.encode(&now).expect("on").expect("encodes");
        assert!(text.contains("shindan_storage_writable 0\n"));
        assert!(text.contains("shindan_peer_snapshot_age_seconds 90.5\n"));
    }

    #[test]
    fn metrics_off_record_and_serve_nothing() {
        let m = Metrics::off();
        m.request("GET", Some("/healthz"), 200, Duration::from_millis(1));
        m.store().submission();
        let now = ScrapeGauges {
            storage_writable: true,
            peer_snapshot_age: None,
        };
        assert!(m.encode(&now).is_none());
    }
}
