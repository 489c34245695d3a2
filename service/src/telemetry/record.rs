//! The series `/metrics` carries and one helper per thing that happens. Instrumented code
//! calls a helper (one line), so the names, labels and units live here only.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge};

pub const HTTP_REQUESTS: &str = "sspr_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "sspr_http_request_duration_seconds";
pub const GRAPH_REQUESTS: &str = "sspr_graph_requests_total";
pub const GRAPH_REQUEST_DURATION: &str = "sspr_graph_request_duration_seconds";
pub const GRAPH_THROTTLE_WAIT: &str = "sspr_graph_throttle_wait_seconds";
pub const GRAPH_THROTTLED: &str = "sspr_graph_throttled_total";
pub const GRAPH_QUEUE_DEPTH: &str = "sspr_graph_queue_depth";
pub const GRAPH_QUEUE_FULL: &str = "sspr_graph_queue_full_total";
pub const CACHE_REQUESTS: &str = "sspr_cache_requests_total";
pub const AUDIT_WRITES: &str = "sspr_audit_writes_total";
pub const FLEET_TENANTS: &str = "sspr_fleet_tenants_total";
pub const BUILD_INFO: &str = "sspr_build_info";

/// Graph's throttling buckets (`directory::budget::Bucket::name`): their series exist from the
/// start, at zero, so a dashboard or an alert sees "none yet" rather than "no data".
const GRAPH_BUCKETS: [&str; 3] = ["reports", "conditionalAccess", "directory"];

/// The help text of every series, and the series that exist before anything happened.
pub(super) fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status"
    );
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Time from a request's arrival to its response head, by method and route template"
    );
    describe_counter!(
        GRAPH_REQUESTS,
        "Requests sent to Microsoft Graph, by bucket, method and status (`transport` when no answer came)"
    );
    describe_histogram!(
        GRAPH_REQUEST_DURATION,
        Unit::Seconds,
        "Time Graph took to answer a request, by bucket"
    );
    describe_histogram!(
        GRAPH_THROTTLE_WAIT,
        Unit::Seconds,
        "Time a Graph request waited before it was sent, by bucket and why (the throttling budget, a Retry-After, a back-off)"
    );
    describe_counter!(GRAPH_THROTTLED, "429 answers Graph gave, by bucket");
    describe_gauge!(
        GRAPH_QUEUE_DEPTH,
        "Graph requests waiting for their slot in the throttling budget, by bucket"
    );
    describe_counter!(
        GRAPH_QUEUE_FULL,
        "Graph requests refused because their tenant's queue was full"
    );
    describe_counter!(
        CACHE_REQUESTS,
        "Reads of the service's caches, by cache and result (hit or miss)"
    );
    describe_counter!(
        AUDIT_WRITES,
        "Writes to the audit trail, by phase (append or complete) and result (ok or error)"
    );
    describe_counter!(
        FLEET_TENANTS,
        "Tenants of fleet jobs, by result: counted, skipped (no licence for the report) or failed"
    );
    describe_gauge!(BUILD_INFO, "Always 1; the service's version is the label");
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for bucket in GRAPH_BUCKETS {
        counter!(GRAPH_THROTTLED, "bucket" => bucket).absolute(0);
        gauge!(GRAPH_QUEUE_DEPTH, "bucket" => bucket).set(0.0);
    }
    counter!(GRAPH_QUEUE_FULL).absolute(0);
}

/// One HTTP request answered. `route` is the route template, or `unmatched`.
pub fn http_request(method: &Method, route: &str, status: u16, elapsed: Duration) {
    let method = method_label(method);
    counter!(HTTP_REQUESTS, "method" => method, "route" => route.to_owned(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(HTTP_REQUEST_DURATION, "method" => method, "route" => route.to_owned())
        .record(elapsed.as_secs_f64());
}

/// A method as a label: the standard ones by name, anything else as `other`, so a caller
/// cannot make up new series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// One try of a Graph request, from the moment it is sent.
#[must_use = "a Graph call is recorded when its answer (or its failure) is known"]
pub struct GraphCall {
    bucket: &'static str,
    method: &'static str,
    started: std::time::Instant,
}

impl GraphCall {
    pub fn start(bucket: &'static str, method: &Method) -> GraphCall {
        GraphCall {
            bucket,
            method: method_label(method),
            started: std::time::Instant::now(),
        }
    }

    /// Graph answered with this status, or (`Err`) no answer came: the connection failed or
    /// timed out.
    pub fn sent<E>(self, answer: Result<StatusCode, E>) {
        let status = match answer {
            Ok(status) => {
                if status == StatusCode::TOO_MANY_REQUESTS {
                    counter!(GRAPH_THROTTLED, "bucket" => self.bucket).increment(1);
                }
                status.as_u16().to_string()
            }
            Err(_) => "transport".to_owned(),
        };
        counter!(GRAPH_REQUESTS, "bucket" => self.bucket, "method" => self.method, "status" => status)
            .increment(1);
        metrics::histogram!(GRAPH_REQUEST_DURATION, "bucket" => self.bucket)
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// A Graph request waits `wait` before it is sent; `why` is one of a fixed set of reasons
/// (`throttling budget`, `429 Retry-After`, …).
pub fn graph_wait(bucket: &'static str, why: &'static str, wait: Duration) {
    metrics::histogram!(GRAPH_THROTTLE_WAIT, "bucket" => bucket, "why" => why)
        .record(wait.as_secs_f64());
}

/// A Graph request waits in its tenant's queue for as long as this lives.
#[must_use = "the request counts as queued until this is dropped"]
pub struct Queued(&'static str);

pub fn graph_queued(bucket: &'static str) -> Queued {
    gauge!(GRAPH_QUEUE_DEPTH, "bucket" => bucket).increment(1.0);
    Queued(bucket)
}

impl Drop for Queued {
    fn drop(&mut self) {
        gauge!(GRAPH_QUEUE_DEPTH, "bucket" => self.0).decrement(1.0);
    }
}

/// A Graph request was refused because its tenant's queue was full.
pub fn graph_queue_full() {
    counter!(GRAPH_QUEUE_FULL).increment(1);
}

/// A read of the cache `cache` (`policy`, `registrationSummary`) was served from it (`hit`)
/// or went upstream.
pub fn cache_lookup(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    counter!(CACHE_REQUESTS, "cache" => cache, "result" => result).increment(1);
}

/// The two writes of an audited change: the attempt, then its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditPhase {
    Append,
    Complete,
}

pub fn audit_write(phase: AuditPhase, ok: bool) {
    let phase = match phase {
        AuditPhase::Append => "append",
        AuditPhase::Complete => "complete",
    };
    let result = if ok { "ok" } else { "error" };
    counter!(AUDIT_WRITES, "phase" => phase, "result" => result).increment(1);
}

/// What became of one tenant of a fleet job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetOutcome {
    /// Its numbers are in the result.
    Counted,
    /// It cannot take part (its licence does not include the report).
    Skipped,
    /// Its read failed.
    Failed,
}

pub fn fleet_tenant(outcome: FleetOutcome) {
    let result = match outcome {
        FleetOutcome::Counted => "counted",
        FleetOutcome::Skipped => "skipped",
        FleetOutcome::Failed => "failed",
    };
    counter!(FLEET_TENANTS, "result" => result).increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `f` run with a recorder of its own; what it recorded, rendered.
    fn rendered(f: impl FnOnce()) -> String {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, f);
        handle.render()
    }

    #[test]
    fn a_request_counts_in_the_queue_depth_while_it_waits_and_not_after() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let depth = |text: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix("sspr_graph_queue_depth{bucket=\"reports\"} "))
                .map(str::to_owned)
        };
        metrics::with_local_recorder(&recorder, || {
            let first = graph_queued("reports");
            let second = graph_queued("reports");
            assert_eq!(depth(&handle.render()).as_deref(), Some("2"));
            drop(first);
            assert_eq!(depth(&handle.render()).as_deref(), Some("1"));
            drop(second);
            assert_eq!(depth(&handle.render()).as_deref(), Some("0"));
        });
    }

    #[test]
    fn a_429_counts_as_throttled_and_a_failed_connection_as_transport() {
        let text = rendered(|| {
            GraphCall::start("reports", &Method::GET).sent::<()>(Ok(StatusCode::TOO_MANY_REQUESTS));
            GraphCall::start("reports", &Method::GET).sent::<()>(Ok(StatusCode::OK));
            GraphCall::start("directory", &Method::PATCH).sent(Err(()));
        });
        for line in [
            "sspr_graph_throttled_total{bucket=\"reports\"} 1\n",
            "sspr_graph_requests_total{bucket=\"reports\",method=\"GET\",status=\"429\"} 1\n",
            "sspr_graph_requests_total{bucket=\"reports\",method=\"GET\",status=\"200\"} 1\n",
            "sspr_graph_requests_total{bucket=\"directory\",method=\"PATCH\",status=\"transport\"} 1\n",
        ] {
            assert!(text.contains(line), "{line}in:\n{text}");
        }
        assert!(
            !text.contains("sspr_graph_throttled_total{bucket=\"directory\"}"),
            "{text}"
        );
    }

    #[test]
    fn only_standard_methods_become_labels() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let made_up = Method::from_bytes(b"BREW").expect("method");
        assert_eq!(method_label(&made_up), "other");
    }
}
