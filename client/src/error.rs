//! Errors of the client and the RFC 9457 problem documents the service answers with.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most characters of a non-problem response body kept as a synthesized `detail`.
const MAX_DETAIL_CHARS: usize = 300;

/// Everything that can go wrong talking to the service or its token authority.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The service answered with an error status; `problem` is its problem document (or one
    /// synthesized from the status and body when it sent something else).
    #[error("{}", problem.summary())]
    Api { status: u16, problem: Box<Problem> },
    /// No usable credentials, or the token authority refused them.
    #[error("Authentication failed: {0}")]
    Auth(String),
    /// The request never got an HTTP answer (connection refused, DNS, TLS, timeout…).
    #[error("Cannot reach the server: {0}")]
    Transport(String),
    /// A success response whose body is not what the contract promises.
    #[error("Unexpected response: {0}")]
    Decode(String),
    /// Invalid configuration or arguments (base URL, CA file, tenant key…).
    #[error("Invalid configuration: {0}")]
    Config(String),
    /// A streamed response began and then ended with the service's error (e.g. Graph failed
    /// half-way through a listing): what arrived before it is complete, the rest is missing.
    #[error("The service stopped part-way: {}", problem.summary())]
    Interrupted { problem: Box<Problem> },
}

impl ClientError {
    /// The `sspr` exit code for this error: 2 usage, 3 authentication/authorization,
    /// 4 not found, 5 server, upstream, transport and anything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Api { status, .. } => match status {
                401 | 403 => 3,
                404 => 4,
                400 | 422 => 2,
                _ => 5,
            },
            ClientError::Auth(_) => 3,
            ClientError::Config(_) => 2,
            ClientError::Transport(_)
            | ClientError::Decode(_)
            | ClientError::Interrupted { .. } => 5,
        }
    }

    /// The HTTP status when the service answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The problem document when the service answered with an error.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ClientError::Api { problem, .. } | ClientError::Interrupted { problem } => {
                Some(problem)
            }
            _ => None,
        }
    }

    /// The rules a change breaks, from a 422 problem's `violations`; empty for anything else.
    pub fn violations(&self) -> Vec<Violation> {
        self.problem().map(Problem::violations).unwrap_or_default()
    }
}

/// One rule a policy change breaks: the JSON pointer of the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// JSON pointer into the merge patch, e.g. `/authentication/methodsRequired`.
    pub pointer: String,
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// `type`: a URI naming the kind of problem; `about:blank` when absent.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    /// Empty when the service sent none.
    pub detail: String,
    /// Every other member (`upstreamRequestId`, `field`, `instance`…).
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
    /// The response's `x-request-id` header, when present. Not part of the document.
    #[serde(skip)]
    pub request_id: Option<String>,
}

impl Problem {
    /// Reads an error response body: a problem document when the body is a JSON object that
    /// looks like one, else a problem synthesized from the status reason and the body text.
    ///
    /// `www_authenticate` is used as the detail of a synthesized problem without a body.
    pub fn from_response(status: u16, body: &[u8], www_authenticate: Option<&str>) -> Problem {
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body)
            && ["type", "title", "detail"]
                .iter()
                .any(|k| map.contains_key(*k))
        {
            return Problem::from_map(status, map);
        }
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let detail = if !text.is_empty() {
            truncate(&collapse_whitespace(text), MAX_DETAIL_CHARS)
        } else if let Some(challenge) = www_authenticate.filter(|c| !c.trim().is_empty()) {
            format!("WWW-Authenticate: {}", challenge.trim())
        } else {
            "The response had no body.".to_owned()
        };
        Problem {
            problem_type: "about:blank".to_owned(),
            title: status_reason(status),
            status,
            detail,
            extensions: Map::new(),
            request_id: None,
        }
    }

    /// A problem document already parsed as JSON (e.g. one line of a stream), with `status`
    /// for when it names none; anything but an object becomes its detail.
    pub fn from_json(status: u16, value: Value) -> Problem {
        match value {
            Value::Object(map) => Problem::from_map(status, map),
            other => Problem::from_response(status, other.to_string().as_bytes(), None),
        }
    }

    fn from_map(status: u16, mut map: Map<String, Value>) -> Problem {
        let mut take_string = |key: &str| match map.remove(key) {
            Some(Value::String(s)) => Some(s),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        };
        let problem_type = take_string("type").unwrap_or_else(|| "about:blank".to_owned());
        let title = take_string("title")
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| status_reason(status));
        let detail = take_string("detail").unwrap_or_default();
        let status = match map.remove("status") {
            Some(Value::Number(n)) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .unwrap_or(status),
            _ => status,
        };
        Problem {
            problem_type,
            title,
            status,
            detail,
            extensions: map,
            request_id: None,
        }
    }

    /// `title: detail`, or just the title when there is no detail.
    pub fn summary(&self) -> String {
        if self.detail.trim().is_empty() {
            self.title.clone()
        } else {
            format!("{}: {}", self.title, self.detail)
        }
    }

    /// A string extension member, e.g. `upstreamRequestId` or `field`.
    pub fn extension_str(&self, name: &str) -> Option<&str> {
        self.extensions.get(name).and_then(Value::as_str)
    }

    /// The `violations` extension (`[{pointer, message}]`), skipping malformed entries.
    pub fn violations(&self) -> Vec<Violation> {
        self.extensions
            .get("violations")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| {
                        let text = |key: &str| item.get(key).and_then(Value::as_str);
                        let pointer = text("pointer")?;
                        Some(Violation {
                            pointer: pointer.to_owned(),
                            message: text("message").unwrap_or_default().to_owned(),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Microsoft Graph's `request-id` when Graph caused the problem.
    pub fn upstream_request_id(&self) -> Option<&str> {
        self.extension_str("upstreamRequestId")
    }
}

/// The canonical reason phrase of a status, e.g. `Not Found`, or `HTTP 599`.
pub(crate) fn status_reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map_or_else(|| format!("HTTP {status}"), str::to_owned)
}

pub(crate) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters of `text`, with `…` when something was cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> ClientError {
        ClientError::Api {
            status,
            problem: Box::new(Problem::from_response(status, b"", None)),
        }
    }

    #[test]
    fn parses_a_problem_document_with_extensions() {
        let body =
            br#"{"type":"urn:sspr:problem:upstream","title":"Microsoft Graph failed","status":502,
            "detail":"Graph answered 503.","upstreamRequestId":"abc-123","upstreamStatus":503}"#;
        let problem = Problem::from_response(502, body, None);
        assert_eq!(problem.problem_type, "urn:sspr:problem:upstream");
        assert_eq!(problem.title, "Microsoft Graph failed");
        assert_eq!(problem.status, 502);
        assert_eq!(problem.detail, "Graph answered 503.");
        assert_eq!(problem.upstream_request_id(), Some("abc-123"));
        assert_eq!(problem.extensions["upstreamStatus"], 503);
        assert!(!problem.extensions.contains_key("title"));
        assert_eq!(
            problem.summary(),
            "Microsoft Graph failed: Graph answered 503."
        );
    }

    #[test]
    fn fills_in_missing_members_of_a_problem_document() {
        let problem = Problem::from_response(
            404,
            br#"{"detail":"No such tenant.","field":"tenant"}"#,
            None,
        );
        assert_eq!(problem.problem_type, "about:blank");
        assert_eq!(problem.title, "Not Found");
        assert_eq!(problem.status, 404);
        assert_eq!(problem.extension_str("field"), Some("tenant"));
    }

    #[test]
    fn tolerates_oddly_typed_members() {
        let problem =
            Problem::from_response(400, br#"{"title":"Bad","status":"400","detail":7}"#, None);
        assert_eq!(problem.title, "Bad");
        assert_eq!(problem.status, 400);
        assert_eq!(problem.detail, "7");
        assert!(!problem.extensions.contains_key("status"));
    }

    #[test]
    fn synthesizes_a_problem_from_a_plain_body() {
        let problem =
            Problem::from_response(502, b"<html>\n  <body>Bad gateway</body>\n</html>", None);
        assert_eq!(problem.title, "Bad Gateway");
        assert_eq!(problem.status, 502);
        assert_eq!(problem.detail, "<html> <body>Bad gateway</body> </html>");
        assert!(problem.extensions.is_empty());
    }

    #[test]
    fn synthesizes_from_json_that_is_not_a_problem() {
        let problem = Problem::from_response(500, br#"{"error":"boom"}"#, None);
        assert_eq!(problem.title, "Internal Server Error");
        assert_eq!(problem.detail, r#"{"error":"boom"}"#);
    }

    #[test]
    fn truncates_long_bodies_on_a_character_boundary() {
        let body = "é".repeat(1000);
        let problem = Problem::from_response(503, body.as_bytes(), None);
        assert_eq!(problem.detail.chars().count(), MAX_DETAIL_CHARS + 1);
        assert!(problem.detail.ends_with('…'));
    }

    #[test]
    fn empty_body_uses_the_challenge_or_says_so() {
        let problem = Problem::from_response(401, b"", Some(r#"Bearer error="invalid_token""#));
        assert_eq!(problem.title, "Unauthorized");
        assert_eq!(
            problem.detail,
            r#"WWW-Authenticate: Bearer error="invalid_token""#
        );
        assert_eq!(Problem::from_response(599, b"  ", None).title, "HTTP 599");
        assert_eq!(
            Problem::from_response(599, b"", None).detail,
            "The response had no body."
        );
    }

    #[test]
    fn display_is_title_and_detail() {
        let error = ClientError::Api {
            status: 404,
            problem: Box::new(Problem::from_response(
                404,
                br#"{"title":"Not found","detail":"No tenant 'x'."}"#,
                None,
            )),
        };
        assert_eq!(error.to_string(), "Not found: No tenant 'x'.");
        let bare = Problem::from_response(403, br#"{"title":"Not allowed"}"#, None);
        assert_eq!(bare.summary(), "Not allowed");
    }

    #[test]
    fn violations_come_from_the_extension() {
        let body = br#"{"title":"The change breaks policy rules","status":422,"violations":[
            {"pointer":"/registration/reconfirmDays","message":"0 to 730 days"},
            {"message":"no pointer"}, 7,
            {"pointer":"/methods"}]}"#;
        let error = ClientError::Api {
            status: 422,
            problem: Box::new(Problem::from_response(422, body, None)),
        };
        assert_eq!(
            error.violations(),
            vec![
                Violation {
                    pointer: "/registration/reconfirmDays".into(),
                    message: "0 to 730 days".into()
                },
                Violation {
                    pointer: "/methods".into(),
                    message: String::new()
                },
            ]
        );
        assert!(api(422).violations().is_empty());
        assert!(ClientError::Config("x".into()).violations().is_empty());
    }

    #[test]
    fn exit_codes() {
        assert_eq!(api(401).exit_code(), 3);
        assert_eq!(api(403).exit_code(), 3);
        assert_eq!(api(404).exit_code(), 4);
        assert_eq!(api(400).exit_code(), 2);
        assert_eq!(api(422).exit_code(), 2);
        assert_eq!(api(500).exit_code(), 5);
        assert_eq!(api(502).exit_code(), 5);
        assert_eq!(api(503).exit_code(), 5);
        assert_eq!(api(409).exit_code(), 5);
        assert_eq!(api(412).exit_code(), 5);
        assert_eq!(api(429).exit_code(), 5);
        assert_eq!(ClientError::Auth("x".into()).exit_code(), 3);
        assert_eq!(ClientError::Config("x".into()).exit_code(), 2);
        assert_eq!(ClientError::Transport("x".into()).exit_code(), 5);
        assert_eq!(ClientError::Decode("x".into()).exit_code(), 5);
        let interrupted = ClientError::Interrupted {
            problem: Box::new(Problem::from_json(
                502,
                serde_json::json!({"title": "Graph failed", "status": 403}),
            )),
        };
        assert_eq!(interrupted.exit_code(), 5, "even when the problem says 403");
        assert_eq!(interrupted.status(), None);
        assert_eq!(interrupted.problem().map(|p| p.status), Some(403));
    }

    #[test]
    fn a_parsed_problem_keeps_its_members_and_anything_else_becomes_the_detail() {
        let problem = Problem::from_json(
            502,
            serde_json::json!({"title": "Graph failed", "detail": "503", "code": "upstream"}),
        );
        assert_eq!(problem.status, 502);
        assert_eq!(problem.summary(), "Graph failed: 503");
        assert_eq!(problem.extension_str("code"), Some("upstream"));
        let odd = Problem::from_json(500, serde_json::json!("boom"));
        assert_eq!(odd.title, "Internal Server Error");
        assert_eq!(odd.detail, r#""boom""#);
    }
}
