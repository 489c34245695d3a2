//! The HTTP layer of telemetry: each request's count and duration by route template, and the
//! tenant its path names on the request's log span.

use std::time::Instant;

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{MatchedPath, RawPathParams, Request};
use axum::middleware::Next;
use axum::response::Response;

/// The route label of a request no route matched: its path is the caller's, not a template.
pub const UNMATCHED: &str = "unmatched";

/// A request's route template (`/v1/tenants/{tenant}/sspr/policy`), or [`UNMATCHED`]. Layers
/// added with `Router::layer` run after routing, so the matched path is known there.
pub fn route_of<B>(request: &axum::http::Request<B>) -> &str {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
}

/// Records the request in `sspr_http_requests_total` and `sspr_http_request_duration_seconds`
/// (to its response head: a streamed body may go on), and the `{tenant}` of its path on the
/// request span (runs inside it).
pub async fn observe(
    params: Result<RawPathParams, RawPathParamsRejection>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(tenant) = params
        .as_ref()
        .ok()
        .and_then(|params| params.iter().find(|(name, _)| *name == "tenant"))
        .map(|(_, tenant)| tenant)
    {
        tracing::Span::current().record("tenant", tenant);
    }
    let method = request.method().clone();
    let route = route_of(&request).to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    super::record::http_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
