//! How `sspr` tells a person what went wrong: the problem, then what helps act on it (the rules
//! a change breaks, what an upstream failure undid, why a token was refused, what to run next).
//! Scripts get [`ClientError::to_problem_json`] instead.

use serde_json::Value;

use crate::cli::policy;
use crate::cli::render::leaf_text;
use sspr_client::ClientError;
use sspr_client::auth::explain_refused_token;

/// The problem `code` of a state change when no policy carries the marker.
pub const PROTECTION_NOT_DEPLOYED: &str = "protectionNotDeployed";
/// The problem `code` of a deploy that would change an enforced policy's control or conditions.
pub const ENFORCED_POLICY_CHANGE: &str = "enforcedPolicyChange";

/// The lines stderr shows for `error`. `token` is the bearer token the command was given (not
/// one fetched with client credentials), to explain a 401 when the token itself shows why;
/// `now` is seconds since the Unix epoch.
pub fn error_lines(error: &ClientError, token: Option<&str>, now: i64) -> Vec<String> {
    let mut lines = Vec::new();
    let violations = error.violations();
    let token_reason = token
        .filter(|_| error.status() == Some(401))
        .and_then(|token| explain_refused_token(token, now));
    match (error.problem(), token_reason) {
        (Some(problem), Some(reason)) => {
            lines.push(format!("error: {reason}"));
            lines.push(format!("the service said: {}", problem.summary()));
        }
        // The detail repeats the violations; one per line reads better.
        (Some(problem), None) if !violations.is_empty() => {
            lines.push(format!("error: {}", problem.title));
        }
        _ => lines.push(format!("error: {error}")),
    }
    for violation in &violations {
        lines.push(format!("{}: {}", violation.pointer, violation.message));
    }
    if error.status() == Some(412) {
        lines.push(
            "It changed since it was read, so nothing was applied: run the command again to review the new plan."
                .to_owned(),
        );
    }
    let Some(problem) = error.problem() else {
        return lines;
    };
    match problem.code().as_deref() {
        Some(PROTECTION_NOT_DEPLOYED) => lines.push(
            "No policy carries the marker: deploy one first with `sspr registration-protection apply`."
                .to_owned(),
        ),
        Some(ENFORCED_POLICY_CHANGE) => {
            for change in problem
                .extensions
                .get("diff")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                lines.push(format!(
                    "{}: {} → {}",
                    change["path"].as_str().unwrap_or_default(),
                    leaf_text(&change["before"]),
                    leaf_text(&change["after"])
                ));
            }
            lines.push(
                "The policy is enforced: review the change, then pass --force to make it anyway, or demote the policy first."
                    .to_owned(),
            );
        }
        _ => {}
    }
    lines.extend(policy::apply_failure_lines(problem));
    if let Some(field) = problem.extension_str("field") {
        lines.push(format!("field: {field}"));
    }
    if let Some(pointer) = problem.extension_str("pointer") {
        lines.push(format!("pointer: {pointer}"));
    }
    if let Some(id) = &problem.request_id {
        lines.push(format!("request id: {id}"));
    }
    if let Some(id) = problem.upstream_request_id() {
        lines.push(format!("upstream request id: {id}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspr_client::Problem;

    fn api(status: u16, body: &str) -> ClientError {
        ClientError::Api {
            status,
            problem: Box::new(Problem::from_response(status, body.as_bytes(), None)),
        }
    }

    #[test]
    fn a_refused_change_says_what_to_do() {
        let invalid = api(
            422,
            r#"{"title":"The change breaks the SSPR policy rules","detail":"/a: x; /b: y",
                "violations":[{"pointer":"/a","message":"x"},{"pointer":"/b","message":"y"}]}"#,
        );
        assert_eq!(
            error_lines(&invalid, None, 0),
            [
                "error: The change breaks the SSPR policy rules",
                "/a: x",
                "/b: y"
            ]
        );

        let stale = api(
            412,
            r#"{"title":"The policy changed","detail":"Read it again."}"#,
        );
        let lines = error_lines(&stale, None, 0);
        assert_eq!(lines[0], "error: The policy changed: Read it again.");
        assert!(lines[1].contains("run the command again"), "{lines:?}");

        let unavailable = api(
            422,
            r#"{"title":"This setting cannot be changed for this tenant","detail":"Configure the portal connector.",
                "pointer":"/notifications/notifyUsersOnReset","source":"unavailable"}"#,
        );
        assert_eq!(
            error_lines(&unavailable, None, 0),
            [
                "error: This setting cannot be changed for this tenant: Configure the portal connector.",
                "pointer: /notifications/notifyUsersOnReset"
            ]
        );

        let failed = api(
            502,
            r#"{"title":"The change failed upstream","detail":"The portal refused.","outcome":"rollbackFailed",
                "steps":[{"call":"PATCH /x — y","status":"undoFailed","error":"503"}]}"#,
        );
        let lines = error_lines(&failed, None, 0);
        assert!(
            lines[1].starts_with("outcome: rollbackFailed (undoing failed"),
            "{lines:?}"
        );
        assert_eq!(lines[2], "step 1 [undoFailed]: PATCH /x — y; error: 503");
    }

    #[test]
    fn protection_refusals_name_the_next_step() {
        let enforced = api(
            422,
            r#"{"type":"/problems/enforced-policy-change","title":"The policy is enforced","status":422,
                "detail":"The change alters its control.","code":"enforcedPolicyChange",
                "diff":[{"path":"/grantControls/builtInControls","before":["mfa"],"after":["block"]}]}"#,
        );
        let lines = error_lines(&enforced, None, 0);
        assert_eq!(lines[1], "/grantControls/builtInControls: mfa → block");
        assert!(lines[2].contains("--force"), "{lines:?}");

        let missing = api(
            404,
            r#"{"type":"/problems/protection-not-deployed","title":"Not found","status":404,"detail":"No policy."}"#,
        );
        let lines = error_lines(&missing, None, 0);
        assert!(
            lines[1].contains("sspr registration-protection apply"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_401_with_an_expired_given_token_says_when_it_expired() {
        let refused = api(
            401,
            r#"{"title":"Authentication required","status":401,"detail":"the token expired at 1970-01-01T00:16:40Z"}"#,
        );
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjEwMDB9.c2ln"; // {"exp":1000}
        let lines = error_lines(&refused, Some(token), 1000 + 5 * 60);
        assert_eq!(
            lines[0],
            "error: the token expired at 1970-01-01T00:16:40Z (5 minutes ago); get a new one"
        );
        assert_eq!(
            lines[1],
            "the service said: Authentication required: the token expired at 1970-01-01T00:16:40Z"
        );
        assert!(!lines.iter().any(|l| l.contains(token)), "{lines:?}");

        let garbage = error_lines(&refused, Some("garbage"), 0);
        assert!(
            garbage[0].starts_with("error: the token is not a JWT"),
            "{garbage:?}"
        );
        // Client credentials (no given token), or another status: the service's words only.
        assert_eq!(error_lines(&refused, None, 2000).len(), 1);
        let forbidden = api(403, r#"{"title":"Not allowed"}"#);
        assert_eq!(
            error_lines(&forbidden, Some("garbage"), 0),
            ["error: Not allowed"]
        );
    }
}
