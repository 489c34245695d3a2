//! Fault injection (graph-api.md §10): per-route latency and failures — 429, 503, 504, a dropped
//! connection, a slow body, truncated JSON — triggered by probability (a PRNG seeded from the
//! configuration, so runs are reproducible) or for the next N matching calls.
//!
//! Applied as a middleware in front of every route except the control API, so Graph, the token
//! endpoint and the portal back end are covered alike (including routes added later).

use std::{sync::Arc, time::Duration};

use axum::{
    Json,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{
    Shared,
    graph::{self, GraphError, RequestIds},
    throttle::Throttled,
};

/// One fault-injection rule. Rules are tried in order; the first one that matches the request
/// *and fires* applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRule {
    /// HTTP method (case-insensitive); omitted: any method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Whole request path, e.g. `/v1.0/policies/authenticationMethodsPolicy`; a `{name}` or `*`
    /// segment matches any one segment. Case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Alternative to `path`: every request path starting with this (case-insensitive), e.g.
    /// `/beta/`. Neither `path` nor `pathPrefix`: every path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Delay before the request is handled (or the fault answered).
    #[serde(default)]
    pub latency_ms: u64,
    /// What goes wrong; omitted: latency only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// Chance the rule fires on a matching request, 0.0–1.0. Default 1.0.
    #[serde(default = "always")]
    pub probability: f64,
    /// Fire for the next N matching calls only, then the rule is removed. Omitted: no limit.
    /// `GET /_emulator/faults` shows how many remain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

fn always() -> f64 {
    1.0
}

impl FaultRule {
    /// A rule for every call to `method` `path` (pattern as in [`FaultRule::path`]).
    pub fn new(method: &str, path: &str, fault: Fault) -> Self {
        Self {
            method: Some(method.to_owned()),
            path: Some(path.to_owned()),
            path_prefix: None,
            latency_ms: 0,
            fault: Some(fault),
            probability: 1.0,
            times: None,
        }
    }

    /// Only the next `n` matching calls.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub fn probability(mut self, p: f64) -> Self {
        self.probability = p;
        self
    }

    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Why the rule cannot be used, if it cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.path.is_some() && self.path_prefix.is_some() {
            return Err("a rule has either `path` or `pathPrefix`, not both".into());
        }
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(format!(
                "`probability` must be between 0.0 and 1.0, got {}",
                self.probability
            ));
        }
        if let Some(method) = &self.method
            && Method::from_bytes(method.as_bytes()).is_err()
        {
            return Err(format!("`method` {method:?} is not an HTTP method"));
        }
        if let Some(Fault::SlowBody { chunk_bytes: 0, .. }) = self.fault {
            return Err("`chunkBytes` must be at least 1".into());
        }
        Ok(())
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()));
        method_ok
            && match (&self.path, &self.path_prefix) {
                (Some(pattern), _) => path_matches(pattern, path),
                (None, Some(prefix)) => prefix_matches(prefix, path),
                (None, None) => true,
            }
    }
}

/// The failure a rule injects. JSON: `{"kind": "serviceUnavailable", "retryAfter": 5}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Fault {
    /// 429 with Graph's throttling body; `Retry-After` (whole seconds) when given.
    TooManyRequests {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    /// 503 `serviceNotAvailable`; `Retry-After` when given.
    ServiceUnavailable {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    /// 504 `GatewayTimeout`.
    GatewayTimeout,
    /// The connection is dropped without a complete response (the request is not handled).
    ConnectionReset,
    /// The real response, its body sent `chunkBytes` at a time with `chunkDelayMs` between.
    SlowBody {
        chunk_bytes: usize,
        chunk_delay_ms: u64,
    },
    /// The real response cut after `keepBytes` (default: half of it), with a Content-Length that
    /// matches the cut body, so the client sees a complete HTTP response with broken JSON.
    TruncatedJson {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keep_bytes: Option<usize>,
    },
}

/// The rules in force and the PRNG that decides probabilistic ones.
#[derive(Debug)]
pub(crate) struct Faults {
    rules: Vec<FaultRule>,
    seed: u64,
    rng: SplitMix64,
}

impl Faults {
    pub(crate) fn new(rules: Vec<FaultRule>, seed: u64) -> Self {
        Self {
            rules,
            seed,
            rng: SplitMix64(seed),
        }
    }

    pub(crate) fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// Replace the rules and restart the PRNG from `seed` (the configured seed when `None`), so
    /// the same calls after the same PUT get the same faults.
    pub(crate) fn set(&mut self, rules: Vec<FaultRule>, seed: Option<u64>) {
        self.seed = seed.unwrap_or(self.seed);
        self.rng = SplitMix64(self.seed);
        self.rules = rules;
    }

    /// The rule that applies to this request, if any (consuming one of its `times`).
    fn pick(&mut self, method: &Method, path: &str) -> Option<FaultRule> {
        let mut fired = None;
        for (index, rule) in self.rules.iter().enumerate() {
            if !rule.matches(method, path) {
                continue;
            }
            // 1.0 and 0.0 never draw, so they cannot shift the sequence of other rules.
            let fires = match rule.probability {
                p if p >= 1.0 => true,
                p if p <= 0.0 => false,
                p => self.rng.next_f64() < p,
            };
            if fires {
                fired = Some(index);
                break;
            }
        }
        let index = fired?;
        let rule = self.rules[index].clone();
        if let Some(times) = &mut self.rules[index].times {
            *times = times.saturating_sub(1);
            if *times == 0 {
                self.rules.remove(index);
            }
        }
        Some(rule)
    }
}

/// Small, fast, deterministic; statistical quality is ample for fault dice.
#[derive(Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 53 bits as a fraction.
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = segments(pattern).collect();
    let path: Vec<&str> = segments(path).collect();
    pattern.len() == path.len()
        && pattern.iter().zip(&path).all(|(p, s)| {
            *p == "*" || (p.starts_with('{') && p.ends_with('}')) || p.eq_ignore_ascii_case(s)
        })
}

fn prefix_matches(prefix: &str, path: &str) -> bool {
    let prefix = format!("/{}", prefix.trim_start_matches('/'));
    path.len() >= prefix.len()
        && path.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// The control API is never faulted: tests must always be able to turn faults off.
fn is_control(path: &str) -> bool {
    prefix_matches(crate::control::PREFIX, path)
}

/// Axum middleware: applies the first firing rule to the request.
pub(crate) async fn inject(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    if is_control(&path) {
        return next.run(req).await;
    }
    let rule = shared.faults().pick(req.method(), &path);
    let Some(rule) = rule else {
        return next.run(req).await;
    };
    if rule.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(rule.latency_ms)).await;
    }
    let headers = req.headers().clone();
    match rule.fault {
        None => next.run(req).await,
        Some(Fault::TooManyRequests { retry_after }) => {
            let error = Throttled {
                retry_after,
                headers: Vec::new(),
            }
            .into_error();
            error_response(&path, &headers, error)
        }
        Some(Fault::ServiceUnavailable { retry_after }) => {
            let mut error = GraphError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "serviceNotAvailable",
                "The service is temporarily unavailable. Please retry later.",
            );
            if let Some(seconds) = retry_after {
                error = error.with_header(header::RETRY_AFTER, seconds.to_string());
            }
            error_response(&path, &headers, error)
        }
        Some(Fault::GatewayTimeout) => {
            let error = GraphError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "GatewayTimeout",
                "The gateway did not receive a timely response from the upstream service.",
            );
            error_response(&path, &headers, error)
        }
        Some(Fault::ConnectionReset) => connection_reset(),
        Some(Fault::SlowBody {
            chunk_bytes,
            chunk_delay_ms,
        }) => slow_body(next.run(req).await, chunk_bytes, chunk_delay_ms).await,
        Some(Fault::TruncatedJson { keep_bytes }) => {
            truncated(next.run(req).await, keep_bytes).await
        }
    }
}

/// Graph paths get Graph's envelope and correlation headers; the token endpoint and discovery
/// get the OAuth error shape (`temporarily_unavailable`), keeping the injected status.
fn error_response(path: &str, headers: &HeaderMap, error: GraphError) -> Response {
    let lower = path.to_ascii_lowercase();
    if lower.starts_with("/v1.0/") || lower.starts_with("/beta/") {
        let ids = RequestIds::from_headers(headers);
        let mut response = error.into_response(&ids);
        graph::add_graph_headers(response.headers_mut(), &ids);
        return response;
    }
    if lower.contains("/oauth2/")
        || lower.contains("/discovery/")
        || lower.contains("/.well-known/")
    {
        let body = json!({
            "error": "temporarily_unavailable",
            "error_description": error.message,
        });
        let mut response = (error.status, Json(body)).into_response();
        for (name, value) in error.headers {
            if let Ok(value) = value.parse() {
                response.headers_mut().insert(name, value);
            }
        }
        return response;
    }
    // Anything else (e.g. the portal back end) answers with Graph's envelope too.
    error.into_response(&RequestIds::from_headers(headers))
}

/// A response whose body fails before its first byte: hyper then aborts the connection (HTTP/1.1)
/// or resets the stream (HTTP/2), so the client sees a transport error, not a status.
fn connection_reset() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "entra-emulator fault injection: connection reset",
        ))
    });
    let mut response = Response::new(Body::from_stream(failing));
    // What the call log records; the client never receives a complete response.
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}

/// Buffer the real body (our bodies are small JSON) and replay it in delayed chunks.
async fn slow_body(response: Response, chunk_bytes: usize, delay_ms: u64) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return connection_reset();
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    let chunk = chunk_bytes.max(1);
    let delay = Duration::from_millis(delay_ms);
    let chunks = futures_util::stream::unfold((bytes, true), move |(mut rest, first)| async move {
        if rest.is_empty() {
            return None;
        }
        if !first {
            tokio::time::sleep(delay).await;
        }
        let piece = rest.split_to(chunk.min(rest.len()));
        Some((Ok::<_, std::io::Error>(piece), (rest, false)))
    });
    Response::from_parts(parts, Body::from_stream(chunks))
}

async fn truncated(response: Response, keep_bytes: Option<usize>) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return connection_reset();
    };
    let keep = keep_bytes.unwrap_or(bytes.len() / 2).min(bytes.len());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..keep)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str) -> FaultRule {
        FaultRule::new("GET", path, Fault::GatewayTimeout)
    }

    #[test]
    fn paths_match_case_insensitively_with_wildcard_segments() {
        let r = rule("/v1.0/identity/conditionalAccess/policies/{id}");
        assert!(r.matches(
            &Method::GET,
            "/V1.0/Identity/conditionalaccess/policies/abc"
        ));
        assert!(!r.matches(&Method::GET, "/v1.0/identity/conditionalAccess/policies"));
        assert!(!r.matches(
            &Method::POST,
            "/v1.0/identity/conditionalAccess/policies/abc"
        ));
        assert!(rule("*/organization").matches(&Method::GET, "/beta/organization"));
        let prefix = FaultRule {
            path: None,
            path_prefix: Some("BETA/".into()),
            method: None,
            ..rule("")
        };
        assert!(prefix.matches(&Method::PATCH, "/beta/directory/recommendations"));
        assert!(!prefix.matches(&Method::GET, "/v1.0/organization"));
    }

    #[test]
    fn next_n_calls_then_the_rule_is_gone() {
        let mut faults = Faults::new(vec![rule("/v1.0/organization").times(2)], 1);
        assert!(faults.pick(&Method::GET, "/v1.0/organization").is_some());
        assert_eq!(faults.rules()[0].times, Some(1));
        assert!(faults.pick(&Method::GET, "/v1.0/other").is_none());
        assert!(faults.pick(&Method::GET, "/v1.0/organization").is_some());
        assert!(faults.pick(&Method::GET, "/v1.0/organization").is_none());
        assert!(faults.rules().is_empty());
    }

    #[test]
    fn probabilities_are_reproducible_from_the_seed() {
        let rules = vec![rule("/v1.0/organization").probability(0.5)];
        let run = |seed| {
            let mut faults = Faults::new(rules.clone(), seed);
            (0..64)
                .map(|_| faults.pick(&Method::GET, "/v1.0/organization").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).iter().filter(|h| **h).count();
        assert!((16..=48).contains(&hits), "{hits} of 64 at p = 0.5");
        let mut never = Faults::new(vec![rule("/v1.0/organization").probability(0.0)], 1);
        assert!((0..100).all(|_| never.pick(&Method::GET, "/v1.0/organization").is_none()));
    }

    #[test]
    fn later_rules_apply_when_earlier_ones_do_not_fire() {
        let mut faults = Faults::new(
            vec![
                rule("/v1.0/organization").probability(0.0),
                FaultRule::new("GET", "/v1.0/organization", Fault::ConnectionReset),
            ],
            1,
        );
        let fired = faults
            .pick(&Method::GET, "/v1.0/organization")
            .expect("second rule");
        assert_eq!(fired.fault, Some(Fault::ConnectionReset));
    }

    #[test]
    fn rules_are_json_with_camel_case_and_validated() {
        let rule: FaultRule = serde_json::from_value(json!({
            "method": "get",
            "path": "/v1.0/organization",
            "fault": {"kind": "serviceUnavailable", "retryAfter": 5},
            "times": 1
        }))
        .expect("parses");
        assert_eq!(
            rule.fault,
            Some(Fault::ServiceUnavailable {
                retry_after: Some(5)
            })
        );
        assert_eq!(rule.probability, 1.0);
        assert!(rule.validate().is_ok());
        let bad = FaultRule {
            probability: 1.5,
            ..rule.clone()
        };
        assert!(bad.validate().is_err());
        assert!(
            serde_json::from_value::<FaultRule>(json!({"fault": {"kind": "explode"}})).is_err()
        );
    }
}
