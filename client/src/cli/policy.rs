//! How `sspr policy` prints: the policy document, a dry run's plan and its findings, the
//! question before a change, and what a failed apply ran and undid.

use std::fmt::Write as _;
use std::io::{self, BufRead, Write};

use comfy_table::{ColumnConstraint, Width};
use serde::Deserialize;
use serde_json::Value;
use sspr_client::policy::{Finding, PolicyDocument, PolicyPlan, UpstreamCall};
use sspr_client::{PolicyResponse, Problem};

use crate::cli::render::{NONE, leaf_text, new_table, policy_table};

/// `PATCH /v1.0/policies/authorizationPolicy — Turn SSPR for administrators on (graph)`.
pub fn call_line(call: &UpstreamCall) -> String {
    let mut line = format!("{} {}", call.method, call.path);
    if !call.description.trim().is_empty() {
        line.push_str(" — ");
        line.push_str(call.description.trim());
    }
    if let Some(target) = &call.target {
        let _ = write!(line, " ({target})");
    }
    line
}

/// `this change`, `these 2 changes`.
pub fn these_changes(n: usize) -> String {
    if n == 1 {
        "this change".to_owned()
    } else {
        format!("these {n} changes")
    }
}

/// `1 change`, `2 changes`.
pub fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The plan as text: the FIELD | BEFORE | AFTER | SOURCE table, the upstream calls in order, and
/// the findings the policy would have.
pub fn plan_text(plan: &PolicyPlan, tenant: &str, width: Option<u16>) -> String {
    if plan.changes.is_empty() {
        return format!("No changes: {tenant} already has these values.");
    }
    let mut text = format!(
        "{} to {tenant}:\n",
        capitalize(&count(plan.changes.len(), "change"))
    );
    let mut table = new_table(width);
    table.set_header(["FIELD", "BEFORE", "AFTER", "SOURCE"]);
    table.set_constraints([
        ColumnConstraint::ContentWidth,
        ColumnConstraint::LowerBoundary(Width::Fixed(12)),
        ColumnConstraint::LowerBoundary(Width::Fixed(12)),
        ColumnConstraint::ContentWidth,
    ]);
    for change in &plan.changes {
        table.add_row([
            change.pointer.clone(),
            leaf_text(&change.before),
            leaf_text(&change.after),
            change.source.clone().unwrap_or_else(|| NONE.to_owned()),
        ]);
    }
    let _ = writeln!(text, "{table}");
    if plan.steps.is_empty() {
        text.push_str("\nNo upstream calls.\n");
    } else {
        let _ = writeln!(
            text,
            "\nUpstream calls, in order (if one fails, the ones before it are undone):"
        );
        for (n, step) in plan.steps.iter().enumerate() {
            let _ = writeln!(text, "  {}. {}", n + 1, call_line(&step.call));
        }
    }
    if !plan.findings.is_empty() {
        let _ = write!(
            text,
            "\nFindings after the change:\n{}\n",
            findings_table(&plan.findings, width)
        );
    }
    text.truncate(text.trim_end().len());
    text
}

/// The findings as a table: SEVERITY | FIELD | MESSAGE.
pub fn findings_table(findings: &[Finding], width: Option<u16>) -> String {
    let mut table = new_table(width);
    table.set_header(["SEVERITY", "FIELD", "MESSAGE"]);
    table.set_constraints([
        ColumnConstraint::ContentWidth,
        ColumnConstraint::ContentWidth,
        ColumnConstraint::LowerBoundary(Width::Fixed(20)),
    ]);
    for finding in findings {
        table.add_row([finding.severity.as_str(), &finding.field, &finding.message]);
    }
    table.to_string()
}

/// The policy document as text: the table of its typed groups (only `groups`, when given) and
/// its findings. The table is built from the typed document, so it shows exactly the groups of
/// the contract (`--output json` prints the document as sent, members this version does not
/// know included).
pub fn document_text(
    read: &PolicyResponse,
    groups: Option<&[String]>,
    width: Option<u16>,
) -> String {
    let mut shown = serde_json::to_value(&read.policy).unwrap_or_default();
    if let Some(members) = shown.as_object_mut() {
        members.remove("findings");
        if let Some(groups) = groups {
            members.retain(|name, _| {
                name == "tenant" || name == "retrievedAt" || groups.iter().any(|g| g == name)
            });
        }
    }
    let mut text = policy_table(&shown, width);
    let findings = &read.policy.findings;
    if !findings.is_empty() {
        let _ = write!(text, "\nFindings:\n{}", findings_table(findings, width));
    }
    text
}

/// The tenant's primary domain from a policy document, else `fallback`.
pub fn tenant_name(policy: &PolicyDocument, fallback: &str) -> String {
    let domain = policy.tenant.domain.as_str();
    if domain.is_empty() { fallback } else { domain }.to_owned()
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// Asks `question [y/N] ` on `output` and reads the answer from `input`: `y` or `yes` (any
/// case) is yes; anything else, or end of input, is no.
pub fn confirm(
    question: &str,
    input: &mut impl BufRead,
    output: &mut impl Write,
) -> io::Result<bool> {
    write!(output, "{question} [y/N] ")?;
    output.flush()?;
    let mut answer = String::new();
    input.read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// The lines of a failed apply's problem (`outcome`, `steps`): what ran and what was undone.
pub fn apply_failure_lines(problem: &Problem) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(outcome) = problem.extension_str("outcome") {
        let meaning = match outcome {
            "rolledBack" => " (the steps that ran were undone; the tenant is as it was)",
            "rollbackFailed" => " (undoing failed: the tenant may be partly changed; check it)",
            _ => "",
        };
        lines.push(format!("outcome: {outcome}{meaning}"));
    }
    if let Some(steps) = problem.extensions.get("steps").and_then(Value::as_array) {
        for (n, step) in steps.iter().enumerate() {
            lines.push(format!("step {}{}", n + 1, step_text(step)));
        }
    }
    lines
}

/// A step of a failed apply, after its number: ` [status]: call; error: …` and any other
/// member as it comes. The call is a `METHOD path — description` string or a call object.
fn step_text(step: &Value) -> String {
    let Some(members) = step.as_object() else {
        return format!(": {}", leaf_text(step));
    };
    let call_line = |value: &Value| {
        UpstreamCall::deserialize(value).map_or_else(|_| leaf_text(value), |c| call_line(&c))
    };
    let mut text = String::new();
    if let Some(status) = members.get("status") {
        let _ = write!(text, " [{}]", leaf_text(status));
    }
    text.push_str(": ");
    let mut parts = Vec::new();
    if let Some(call) = members.get("call") {
        parts.push(call_line(call));
    }
    for (key, value) in members {
        match key.as_str() {
            "call" | "status" => {}
            "compensation" | "undo" if value.is_object() => {
                parts.push(format!("{key}: {}", call_line(value)));
            }
            _ => parts.push(format!("{key}: {}", leaf_text(value))),
        }
    }
    text.push_str(&parts.join("; "));
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dry_run() -> Value {
        json!({
            "changes": [
                {"pointer": "/registration/reconfirmDays", "before": 180, "after": 90, "source": "portal"},
                {"pointer": "/customization/helpdeskLink", "before": "https://help.contoso.com", "after": null, "source": "portal"},
                {"pointer": "/administrators/allowedToUseSspr", "before": false, "after": true, "source": "graph"}
            ],
            "steps": [
                {"call": {"target": "graph", "method": "PATCH", "path": "/v1.0/policies/authorizationPolicy",
                          "description": "Turn SSPR for administrators on (authorization policy)",
                          "body": {"allowedToUseSSPR": true}},
                 "compensation": {"target": "graph", "method": "PATCH", "path": "/v1.0/policies/authorizationPolicy",
                          "description": "Turn SSPR for administrators off (authorization policy)",
                          "body": {"allowedToUseSSPR": false}}},
                {"call": {"target": "portal", "method": "PUT", "path": "/api/PasswordReset/PasswordResetPolicies",
                          "description": "Write the portal's password reset policy", "body": {}},
                 "compensation": {"target": "portal", "method": "PUT", "path": "/api/PasswordReset/PasswordResetPolicies",
                          "description": "Restore", "body": {}}}
            ],
            "findings": [
                {"severity": "high", "field": "/administrators/allowedToUseSspr", "message": "Administrators may use SSPR."}
            ],
            "futureMember": 1
        })
    }

    #[test]
    fn renders_a_dry_run() {
        let plan = PolicyPlan::from_value(&dry_run()).expect("plan");
        assert_eq!(plan.extra["futureMember"], 1);
        assert_eq!(
            plan.changed_groups(),
            ["registration", "customization", "administrators"]
        );
        let text = plan_text(&plan, "contoso.onmicrosoft.com", Some(160));
        assert!(
            text.starts_with("3 changes to contoso.onmicrosoft.com:\n"),
            "{text}"
        );
        let header = text.lines().nth(2).expect("header");
        for column in ["FIELD", "BEFORE", "AFTER", "SOURCE"] {
            assert!(header.contains(column), "{header}");
        }
        let row = text
            .lines()
            .find(|l| l.contains("/registration/reconfirmDays"))
            .expect("row");
        assert!(
            row.contains("180") && row.contains("90") && row.contains("portal"),
            "{row}"
        );
        let cleared = text
            .lines()
            .find(|l| l.contains("/customization/helpdeskLink"))
            .expect("row");
        assert!(cleared.contains(NONE), "{cleared}");
        assert!(
            text.contains(
                "  1. PATCH /v1.0/policies/authorizationPolicy — Turn SSPR for administrators on (authorization policy) (graph)"
            ),
            "{text}"
        );
        assert!(
            text.contains("  2. PUT /api/PasswordReset/PasswordResetPolicies — Write the portal's password reset policy (portal)"),
            "{text}"
        );
        assert!(!text.contains("Restore"), "{text}");
        assert!(text.contains("Findings after the change:"), "{text}");
        assert!(text.contains("Administrators may use SSPR."), "{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= 160, "too wide: {line}");
        }
    }

    #[test]
    fn counts_read_well() {
        assert_eq!(count(1, "change"), "1 change");
        assert_eq!(count(3, "change"), "3 changes");
        assert_eq!(these_changes(1), "this change");
        assert_eq!(these_changes(2), "these 2 changes");
    }

    #[test]
    fn an_empty_plan_says_so() {
        let plan = PolicyPlan::from_value(&json!({"changes": [], "steps": [], "findings": []}))
            .expect("plan");
        assert_eq!(
            plan_text(&plan, "contoso.com", Some(100)),
            "No changes: contoso.com already has these values."
        );
        assert!(PolicyPlan::from_value(&json!({"changes": 3})).is_err());
    }

    #[test]
    fn document_text_shows_the_changed_groups_and_the_findings() {
        let mut document = sspr_api::examples::policy_document();
        document["registration"]["reconfirmDays"] = json!(90);
        document["administrators"]["allowedToUseSspr"] = json!(true);
        document["findings"] = json!([
            {"severity": "medium", "field": "/registration/reconfirmDays", "message": "Short."}
        ]);
        let read = PolicyResponse {
            policy: serde_json::from_value(document.clone()).expect("a policy document"),
            document,
            request_id: None,
            etag: None,
            audit_record_id: None,
        };
        let all = document_text(&read, None, Some(120));
        assert!(
            all.contains("allowedToUseSspr") && all.contains("reconfirmDays"),
            "{all}"
        );
        assert!(all.contains("Findings:") && all.contains("Short."), "{all}");
        assert!(!all.contains("\"severity\""), "{all}");
        let some = document_text(&read, Some(&["registration".to_owned()]), Some(120));
        assert!(
            some.contains("reconfirmDays") && !some.contains("allowedToUseSspr"),
            "{some}"
        );
        assert!(some.starts_with("Tenant: Contoso"), "{some}");
        assert_eq!(tenant_name(&read.policy, "x"), "contoso.onmicrosoft.com");
        let mut nameless = read.policy.clone();
        nameless.tenant.domain.clear();
        assert_eq!(tenant_name(&nameless, "x"), "x");
    }

    #[test]
    fn confirm_takes_only_yes() {
        for (answer, expected) in [
            ("y\n", true),
            ("YES\n", true),
            (" yes \n", true),
            ("n\n", false),
            ("\n", false),
            ("", false),
            ("yep\n", false),
        ] {
            let mut output = Vec::new();
            let got = confirm("Apply?", &mut answer.as_bytes(), &mut output).expect("io");
            assert_eq!(got, expected, "{answer:?}");
            assert_eq!(String::from_utf8(output).expect("utf-8"), "Apply? [y/N] ");
        }
    }

    #[test]
    fn a_failed_apply_says_what_ran_and_what_was_undone() {
        // The service's steps: the call as `METHOD path — description`, a status, an error.
        let problem = Problem::from_response(
            502,
            r#"{"title":"The change failed upstream","detail":"The portal refused.","outcome":"rolledBack",
                "steps":[{"call":"PATCH /v1.0/policies/authorizationPolicy — Turn SSPR for administrators on","status":"undone"},
                         {"call":"PUT /api/PasswordReset/PasswordResetPolicies — Write","status":"failed","error":"503"},
                         {"call":{"target":"portal","method":"PUT","path":"/api/x","description":"Other"},
                          "status":"notRun","compensation":{"method":"PUT","path":"/api/y"}}]}"#
                .as_bytes(),
            None,
        );
        let lines = apply_failure_lines(&problem);
        assert_eq!(
            lines,
            [
                "outcome: rolledBack (the steps that ran were undone; the tenant is as it was)",
                "step 1 [undone]: PATCH /v1.0/policies/authorizationPolicy — Turn SSPR for administrators on",
                "step 2 [failed]: PUT /api/PasswordReset/PasswordResetPolicies — Write; error: 503",
                "step 3 [notRun]: PUT /api/x — Other (portal); compensation: PUT /api/y",
            ]
        );
        assert!(apply_failure_lines(&Problem::from_response(502, b"", None)).is_empty());
    }
}
