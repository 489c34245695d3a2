//! Server-side time limits per kind of route (`[server.timeouts]`): a request that takes
//! longer is answered with a 503 `timeout` problem and `Retry-After`, never left hanging.
//!
//! 503 rather than 504: `Retry-After` is defined for 503, so clients and gateways retry it
//! later, and the time may have gone in this service's own wait for the tenant's Graph budget,
//! which a 504 (an upstream that did not answer) would misstate. The limit covers the time to
//! the response head; a streamed listing's body may take longer.

use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::request_id::RequestId;

use super::problem::ApiError;
use crate::config::RouteTimeouts;

/// How long a route may take depends on what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// A few Graph reads, or none.
    Read,
    /// A change: several Graph calls, the portal, the undo of completed steps.
    Write,
    /// Graph's registration report, read page by page within its budget.
    Report,
}

impl RouteKind {
    /// The kind of the route `path` (as routed, e.g. `/v1/tenants/{tenant}/sspr/policy`) taken
    /// with `method`; `None` for the health probes, which answer at once and must keep their
    /// documented bodies. Anything that changes state (a method other than GET or HEAD, except
    /// the plan and generate computations) is a write, so a new sub-resource of
    /// registration protection is a write too.
    pub fn of(method: &Method, path: &str) -> Option<RouteKind> {
        if path == "/healthz" || path == "/readyz" {
            return None;
        }
        // Readiness reads the registration report too (a tenant's summary, or the fleet's).
        if path.contains("/registrations")
            || path.ends_with("/registration-protection/plan")
            || path.contains("/readiness")
        {
            return Some(RouteKind::Report);
        }
        if *method == Method::GET
            || *method == Method::HEAD
            || (*method == Method::POST && path.ends_with("/registration-protection/generate"))
        {
            return Some(RouteKind::Read);
        }
        Some(RouteKind::Write)
    }
}

/// The configured limit of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    read: Duration,
    write: Duration,
    report: Duration,
}

impl From<&RouteTimeouts> for Deadlines {
    fn from(timeouts: &RouteTimeouts) -> Self {
        Deadlines {
            read: Duration::from_secs(timeouts.read_secs),
            write: Duration::from_secs(timeouts.write_secs),
            report: Duration::from_secs(timeouts.report_secs),
        }
    }
}

impl Deadlines {
    fn of(&self, kind: RouteKind) -> Duration {
        match kind {
            RouteKind::Read => self.read,
            RouteKind::Write => self.write,
            RouteKind::Report => self.report,
        }
    }
}

/// Route middleware: runs the handler within its kind's limit. Dropping the handler on timeout
/// is what a caller's disconnect does too; writes are made safe against that below the API.
pub async fn enforce(State(deadlines): State<Deadlines>, request: Request, next: Next) -> Response {
    let kind = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|path| RouteKind::of(request.method(), path.as_str()));
    let Some(kind) = kind else {
        return next.run(request).await;
    };
    let after = deadlines.of(kind);
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .map(str::to_owned);
    match tokio::time::timeout(after, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout {
            after,
            may_have_changed: kind == RouteKind::Write,
            request_id,
        }
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_the_kind_its_work_needs() {
        let cases = [
            (Method::GET, "/healthz", None),
            (Method::GET, "/readyz", None),
            (Method::GET, "/v1/tenants", Some(RouteKind::Read)),
            (
                Method::GET,
                "/v1/tenants/{tenant}/sspr/policy",
                Some(RouteKind::Read),
            ),
            (
                Method::HEAD,
                "/v1/tenants/{tenant}/sspr/policy",
                Some(RouteKind::Read),
            ),
            (
                Method::PATCH,
                "/v1/tenants/{tenant}/sspr/policy",
                Some(RouteKind::Write),
            ),
            (Method::GET, "/v1/audit", Some(RouteKind::Read)),
            (
                Method::GET,
                "/v1/tenants/{tenant}/readiness",
                Some(RouteKind::Report),
            ),
            (Method::GET, "/v1/readiness", Some(RouteKind::Report)),
            (
                Method::GET,
                "/v1/tenants/{tenant}/readiness/user-guide",
                Some(RouteKind::Report),
            ),
            (
                Method::GET,
                "/v1/tenants/{tenant}/windows-reset-link",
                Some(RouteKind::Read),
            ),
            (
                Method::PUT,
                "/v1/tenants/{tenant}/windows-reset-link",
                Some(RouteKind::Write),
            ),
            (
                Method::GET,
                "/v1/tenants/{tenant}/registration-protection",
                Some(RouteKind::Read),
            ),
            (
                Method::PUT,
                "/v1/tenants/{tenant}/registration-protection",
                Some(RouteKind::Write),
            ),
            (
                Method::PUT,
                "/v1/tenants/{tenant}/registration-protection/state",
                Some(RouteKind::Write),
            ),
            (
                Method::POST,
                "/v1/tenants/{tenant}/registration-protection/plan",
                Some(RouteKind::Report),
            ),
            (
                Method::POST,
                "/v1/registration-protection/generate",
                Some(RouteKind::Read),
            ),
            (
                Method::GET,
                "/v1/tenants/{tenant}/registrations",
                Some(RouteKind::Report),
            ),
            (
                Method::GET,
                "/v1/tenants/{tenant}/registrations/summary",
                Some(RouteKind::Report),
            ),
            (
                Method::GET,
                "/v1/registrations/summary",
                Some(RouteKind::Report),
            ),
        ];
        for (method, path, kind) in cases {
            assert_eq!(RouteKind::of(&method, path), kind, "{method} {path}");
        }
    }

    #[test]
    fn the_defaults_are_short_for_reads_and_long_for_reports() {
        let deadlines = Deadlines::from(&RouteTimeouts::default());
        assert!(deadlines.of(RouteKind::Read) < deadlines.of(RouteKind::Write));
        assert!(deadlines.of(RouteKind::Write) < deadlines.of(RouteKind::Report));
    }
}
