//! Errors of the client and the RFC 9457 problem documents the service answers with.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most characters of a non-problem response body kept as a synthesized `detail`.
const MAX_DETAIL_CHARS: usize = 300;

/// The `sspr` exit codes, one per way a script reacts.
pub mod exit {
    /// Done.
    pub const OK: i32 = 0;
    /// The command line or the input is wrong (also 400, 422 and other 4xx answers): fix it.
    pub const USAGE: i32 = 2;
    /// Authentication or authorization (401, 403 other than the licence): fix the credentials.
    pub const AUTH: i32 = 3;
    /// No such tenant or resource (404).
    pub const NOT_FOUND: i32 = 4;
    /// The service, Microsoft Graph or the network failed (5xx, no connection, a listing that
    /// broke off, a tenant of a fleet summary that failed): try again later.
    pub const SERVER: i32 = 5;
    /// Something changed meanwhile or a precondition is missing (409, 412, 428): read again and
    /// retry.
    pub const CONFLICT: i32 = 6;
    /// The tenant lacks a licence (`licenseRequired`) or the connector (`sourceUnavailable`) the
    /// operation needs: nothing to retry until the tenant is changed.
    pub const LICENCE: i32 = 7;
    /// `tenants verify`: the tenant answered, but some features are unavailable there (missing
    /// permissions or licences): consent to what is missing, then verify again.
    pub const UNAVAILABLE: i32 = 8;
}

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
    /// The bearer token cannot work, found before anything was sent.
    #[error("{0}")]
    Token(crate::auth::TokenMistake),
    /// The request never got an HTTP answer (connection refused, DNS, TLS, timeout…).
    #[error("Cannot reach the server: {0}")]
    Transport(String),
    /// A success response whose body is not what the contract promises.
    #[error("Unexpected response: {0}")]
    Decode(String),
    /// Invalid configuration or arguments (base URL, tenant key, ETag…).
    #[error("Invalid configuration: {0}")]
    Config(String),
    /// A file given on the command line cannot be read or used (a merge patch, a CA file).
    #[error("{0}")]
    File(String),
    /// A streamed response began and then ended with the service's error (e.g. Graph failed
    /// half-way through a listing): what arrived before it is complete, the rest is missing.
    #[error("The service stopped part-way: {}", problem.summary())]
    Interrupted { problem: Box<Problem> },
}

impl ClientError {
    /// The `sspr` exit code for this error (see [`exit`]). A service problem is judged by its
    /// `code` (or the slug of its `type`) first, then by its status.
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::Api { status, problem } => match problem.code().as_deref() {
                Some(LICENSE_REQUIRED | SOURCE_UNAVAILABLE) => exit::LICENCE,
                _ => exit_code_for_status(*status),
            },
            ClientError::Auth(_) | ClientError::Token(_) => exit::AUTH,
            ClientError::Config(_) | ClientError::File(_) => exit::USAGE,
            ClientError::Transport(_)
            | ClientError::Decode(_)
            | ClientError::Interrupted { .. } => exit::SERVER,
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

    /// The error as one problem-shaped JSON object, for scripts: the service's problem document
    /// as received (with `code`, derived from its `type` when it has none, and the response's
    /// `requestId`), or for an error without one a problem the client makes, typed
    /// `/problems/cli/<kind>` and without `status`. Nothing in it can hold a secret: messages
    /// never carry tokens or client secrets.
    pub fn to_problem_json(&self) -> Value {
        let (slug, title) = match self {
            ClientError::Api { problem, .. } | ClientError::Interrupted { problem } => {
                return problem.to_json();
            }
            ClientError::Auth(_) => ("authentication", "Authentication failed"),
            ClientError::Token(mistake) => (mistake.slug(), "The token cannot be used"),
            ClientError::Transport(_) => ("connection", "Cannot reach the server"),
            ClientError::Decode(_) => ("unexpected-response", "Unexpected response"),
            ClientError::Config(_) => ("invalid-configuration", "Invalid configuration"),
            ClientError::File(_) => ("file", "Cannot use the file"),
        };
        let detail = match self {
            ClientError::Auth(s)
            | ClientError::Transport(s)
            | ClientError::Decode(s)
            | ClientError::Config(s)
            | ClientError::File(s) => s.clone(),
            other => other.to_string(),
        };
        cli_problem(slug, title, &detail)
    }
}

/// The problem `code` of a tenant without the licence a feature needs.
pub const LICENSE_REQUIRED: &str = "licenseRequired";
/// The problem `code` of a setting whose source (the portal connector) the tenant lacks.
pub const SOURCE_UNAVAILABLE: &str = "sourceUnavailable";

/// The exit code for an HTTP error status without a more telling problem code.
pub fn exit_code_for_status(status: u16) -> i32 {
    match status {
        401 | 403 => exit::AUTH,
        404 | 410 => exit::NOT_FOUND,
        409 | 412 | 428 => exit::CONFLICT,
        // A timeout or the service shedding load: the request was fine, try again later.
        408 | 429 => exit::SERVER,
        400..=499 => exit::USAGE,
        _ => exit::SERVER,
    }
}

/// A problem the client makes for an error that came with none (usage, connection, file…):
/// `type` `/problems/cli/<slug>`, `title`, `detail` and `code`; no `status`, as there was no
/// HTTP answer.
pub fn cli_problem(slug: &str, title: &str, detail: &str) -> Value {
    serde_json::json!({
        "type": format!("/problems/cli/{slug}"),
        "title": title,
        "detail": detail,
        "code": camel_case(slug),
    })
}

/// `license-required` → `licenseRequired`; `Not Found` → `notFound`.
pub fn camel_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut upper = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if upper && !out.is_empty() {
                out.push(c.to_ascii_uppercase());
            } else if out.is_empty() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
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

    /// The stable `code`: the member when the service sent one, else the slug of a `type` such
    /// as `/problems/license-required` in camel case (`licenseRequired`); `None` for
    /// `about:blank`.
    pub fn code(&self) -> Option<String> {
        if let Some(code) = self.extension_str("code").filter(|c| !c.trim().is_empty()) {
            return Some(code.to_owned());
        }
        if self.problem_type == "about:blank" {
            return None;
        }
        self.problem_type
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .map(camel_case)
            .filter(|code| !code.is_empty())
    }

    /// The document as received, plus `code` when it had none (from its `type`, else its
    /// status: `badGateway`) and the response's `requestId` when the document has none.
    pub fn to_json(&self) -> Value {
        let mut document = serde_json::to_value(self).unwrap_or_else(|_| Value::Object(Map::new()));
        if let Value::Object(members) = &mut document {
            if !members.contains_key("code") {
                let code = self
                    .code()
                    .unwrap_or_else(|| camel_case(&status_reason(self.status)));
                members.insert("code".into(), Value::String(code));
            }
            if let Some(id) = &self.request_id
                && !members.contains_key("requestId")
            {
                members.insert("requestId".into(), Value::String(id.clone()));
            }
        }
        document
    }
}

/// The canonical reason phrase of a status, e.g. `Not Found`, or `HTTP 599`.
pub(crate) fn status_reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map_or_else(|| format!("HTTP {status}"), str::to_owned)
}

pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters of `text`, with `…` when something was cut.
pub fn truncate(text: &str, max: usize) -> String {
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

    fn api_with(status: u16, body: serde_json::Value) -> ClientError {
        ClientError::Api {
            status,
            problem: Box::new(Problem::from_json(status, body)),
        }
    }

    #[test]
    fn exit_codes_follow_the_status() {
        for (status, code) in [
            (400, exit::USAGE),
            (422, exit::USAGE),
            (405, exit::USAGE),
            (413, exit::USAGE),
            (415, exit::USAGE),
            (431, exit::USAGE),
            (401, exit::AUTH),
            (403, exit::AUTH),
            (404, exit::NOT_FOUND),
            (409, exit::CONFLICT),
            (412, exit::CONFLICT),
            (428, exit::CONFLICT),
            (408, exit::SERVER),
            (429, exit::SERVER),
            (500, exit::SERVER),
            (502, exit::SERVER),
            (503, exit::SERVER),
            (504, exit::SERVER),
        ] {
            assert_eq!(api(status).exit_code(), code, "{status}");
        }
        assert_eq!(ClientError::Auth("x".into()).exit_code(), 3);
        assert_eq!(
            ClientError::Token(crate::auth::TokenMistake::BearerPrefix).exit_code(),
            3
        );
        assert_eq!(ClientError::Config("x".into()).exit_code(), 2);
        assert_eq!(ClientError::File("x".into()).exit_code(), 2);
        assert_eq!(ClientError::Transport("x".into()).exit_code(), 5);
        assert_eq!(ClientError::Decode("x".into()).exit_code(), 5);
        let interrupted = ClientError::Interrupted {
            problem: Box::new(Problem::from_json(
                502,
                serde_json::json!({"title": "Graph failed", "status": 403, "code": "licenseRequired"}),
            )),
        };
        assert_eq!(
            interrupted.exit_code(),
            5,
            "a listing that broke off, whatever it says"
        );
        assert_eq!(interrupted.status(), None);
        assert_eq!(interrupted.problem().map(|p| p.status), Some(403));
    }

    #[test]
    fn a_missing_licence_or_connector_is_7_by_code_or_type() {
        let licence = serde_json::json!({"type": "/problems/license-required", "title": "Licence required",
            "status": 403, "code": "licenseRequired"});
        assert_eq!(api_with(403, licence).exit_code(), exit::LICENCE);
        // Without `code`, the slug of the type says the same.
        let by_type =
            serde_json::json!({"type": "/problems/license-required", "title": "Licence required"});
        assert_eq!(api_with(403, by_type).exit_code(), exit::LICENCE);
        let connector = serde_json::json!({"type": "/problems/source-unavailable", "status": 422,
            "pointer": "/notifications/notifyUsersOnReset"});
        assert_eq!(api_with(422, connector).exit_code(), exit::LICENCE);
        let coded =
            serde_json::json!({"type": "https://example.test/x", "code": "sourceUnavailable"});
        assert_eq!(api_with(422, coded).exit_code(), exit::LICENCE);
        // Any other code goes by the status.
        let forbidden = serde_json::json!({"type": "/problems/forbidden", "code": "forbidden"});
        assert_eq!(api_with(403, forbidden).exit_code(), exit::AUTH);
        let refused = serde_json::json!({"type": "/problems/plan-has-errors"});
        assert_eq!(api_with(422, refused).exit_code(), exit::USAGE);
        let stale = serde_json::json!({"type": "/problems/precondition-failed"});
        assert_eq!(api_with(412, stale).exit_code(), exit::CONFLICT);
    }

    #[test]
    fn codes_come_from_the_member_else_the_type_slug() {
        let problem = |body: serde_json::Value| Problem::from_json(400, body);
        assert_eq!(
            problem(serde_json::json!({"type": "/problems/license-required", "code": "x"})).code(),
            Some("x".into())
        );
        assert_eq!(
            problem(serde_json::json!({"type": "/problems/invalid-cursor"})).code(),
            Some("invalidCursor".into())
        );
        assert_eq!(
            problem(serde_json::json!({"type": "/problems/cli/connection"})).code(),
            Some("connection".into())
        );
        assert_eq!(problem(serde_json::json!({"title": "x"})).code(), None);
        assert_eq!(camel_case("Not Found"), "notFound");
        assert_eq!(camel_case("enforced-policy-change"), "enforcedPolicyChange");
    }

    #[test]
    fn the_json_of_a_service_problem_is_the_document_with_a_code_and_request_id() {
        let mut problem = Problem::from_response(
            403,
            br#"{"type":"/problems/license-required","title":"Licence required","status":403,
                "detail":"Needs P1.","tenant":"t-1"}"#,
            None,
        );
        problem.request_id = Some("req-1".into());
        let error = ClientError::Api {
            status: 403,
            problem: Box::new(problem),
        };
        assert_eq!(
            error.to_problem_json(),
            serde_json::json!({"type": "/problems/license-required", "title": "Licence required",
                "status": 403, "detail": "Needs P1.", "tenant": "t-1", "code": "licenseRequired",
                "requestId": "req-1"})
        );
        // A body that was no problem: the status names the code.
        let plain = api(502).to_problem_json();
        assert_eq!(plain["code"], "badGateway");
        assert_eq!(plain["status"], 502);
    }

    #[test]
    fn errors_without_a_problem_get_a_cli_problem() {
        let line =
            ClientError::Transport("GET http://127.0.0.1:9/v1/tenants: cannot connect".into())
                .to_problem_json();
        assert_eq!(
            line,
            serde_json::json!({"type": "/problems/cli/connection", "title": "Cannot reach the server",
                "detail": "GET http://127.0.0.1:9/v1/tenants: cannot connect", "code": "connection"})
        );
        assert!(line.get("status").is_none());
        let file = ClientError::File("cannot read p.json".into()).to_problem_json();
        assert_eq!(file["code"], "file");
        let token = ClientError::Token(crate::auth::TokenMistake::BearerPrefix).to_problem_json();
        assert_eq!(token["type"], "/problems/cli/token-bearer-prefix");
        assert_eq!(token["code"], "tokenBearerPrefix");
        assert!(
            token["detail"]
                .as_str()
                .is_some_and(|d| d.contains("alone")),
            "{token}"
        );
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
