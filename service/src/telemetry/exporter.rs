//! The Prometheus recorder and `/metrics`.
//!
//! The `metrics` macros write to one process-wide recorder, so it is installed once (the first
//! `Application` built) and shared: a process that runs several services (the tests) sees their
//! sums. The recorder renders histograms with the buckets below rather than as summaries, so
//! replicas can be aggregated.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Prometheus' text exposition format.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Seconds: from a cached answer (a millisecond) to a fleet read that waited on Graph's budget.
const BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// How often the recorder folds recorded samples into its buckets when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's recorder, installed on first use.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            // Only an embedding program that installed its own recorder gets here; its
            // recorder then has the series and /metrics shows none.
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        super::record::describe();
        handle
    })
}

/// `GET /metrics`: every series in Prometheus' text format.
pub async fn metrics() -> impl IntoResponse {
    ([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], handle().render())
}

/// The `/metrics` route alone: merged into the API's router, or served on its own listener.
/// It is not part of the REST contract (not in the OpenAPI document) and needs no token.
pub fn routes() -> Router {
    Router::new().route("/metrics", get(metrics))
}

/// Keeps the histograms' memory bounded between scrapes; runs until the task is dropped.
pub async fn upkeep() {
    let mut every = tokio::time::interval(UPKEEP_EVERY);
    loop {
        every.tick().await;
        handle().run_upkeep();
    }
}
