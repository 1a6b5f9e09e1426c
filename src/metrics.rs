//! Prometheus metrics: one registry per running app (no globals, so tests run side by side).

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::store::WriterMetrics;

/// Every metric Atrium exports at `/metrics`.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_seconds: HistogramVec,
    pub writer: WriterMetrics,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Build the registry; registration only fails on duplicate names, which a test would catch.
pub fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new_custom(Some("atrium".into()), None)?;
    let http_requests = IntCounterVec::new(
        Opts::new(
            "http_requests_total",
            "HTTP requests by method, route and status",
        ),
        &["method", "route", "status"],
    )?;
    let http_seconds = HistogramVec::new(
        HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(vec![
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
        ]),
        &["method", "route"],
    )?;
    let batch_size = Histogram::with_opts(
        HistogramOpts::new("store_writer_batch_size", "Write jobs per group commit").buckets(vec![
            1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
        ]),
    )?;
    let queue_depth = IntGauge::new(
        "store_writer_queue_depth",
        "Write jobs waiting for the writer",
    )?;
    let commit_seconds = Histogram::with_opts(
        HistogramOpts::new(
            "store_writer_commit_seconds",
            "Time to run and commit one batch",
        )
        .buckets(vec![
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
        ]),
    )?;
    registry.register(Box::new(http_requests.clone()))?;
    registry.register(Box::new(http_seconds.clone()))?;
    registry.register(Box::new(batch_size.clone()))?;
    registry.register(Box::new(queue_depth.clone()))?;
    registry.register(Box::new(commit_seconds.clone()))?;
    Ok(Metrics {
        registry,
        http_requests,
        http_seconds,
        writer: WriterMetrics {
            batch_size,
            queue_depth,
            commit_seconds,
        },
    })
}

impl Metrics {
    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::warn!(error = %e, "encoding metrics failed");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}
