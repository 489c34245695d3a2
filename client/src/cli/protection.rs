//! How `sspr registration-protection` prints a plan, the graded policies, a change's plan and
//! what a deploy did.

use std::fmt::Write as _;

use serde_json::Value;

use crate::cli::render::{NONE, leaf_text, new_table};

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or(NONE)
}

/// The strings of a JSON array (nothing when it is not one).
fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The findings as lines: `SEVERITY code: message`.
fn findings_lines(out: &mut String, findings: &Value) {
    let findings = findings.as_array().map(Vec::as_slice).unwrap_or_default();
    if findings.is_empty() {
        return;
    }
    out.push_str("\nFindings:\n");
    for finding in findings {
        let _ = writeln!(
            out,
            "  {:<7} {}: {}",
            text(finding, "/severity").to_uppercase(),
            text(finding, "/code"),
            text(finding, "/message")
        );
    }
}

/// A plan as text: what would be deployed, findings, break-glass accounts, impact, the JSON.
pub fn plan_text(plan: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Registration protection for {}: {} as '{}'",
        text(plan, "/tenant/domain"),
        text(plan, "/state"),
        text(plan, "/policy/displayName")
    );
    match plan.get("existing").filter(|e| !e.is_null()) {
        Some(existing) => {
            let changes = strings(&existing["changes"]);
            let _ = writeln!(
                out,
                "Existing policy {} ({}): {}",
                text(existing, "/id"),
                text(existing, "/state"),
                if changes.is_empty() {
                    "already matches; a deploy writes nothing".to_owned()
                } else {
                    format!("a deploy updates {}", changes.join(", "))
                }
            );
        }
        None => out.push_str("No policy carries the marker: a deploy creates one.\n"),
    }
    if plan["blocking"] == true {
        out.push_str("Enforcing is refused until the errors are fixed (or forced).\n");
    }
    findings_lines(&mut out, &plan["findings"]);
    out.push_str("\nBreak-glass accounts excluded:\n");
    let mut any = false;
    for (kind, pointer) in [
        ("user", "/breakGlass/users"),
        ("group", "/breakGlass/groups"),
    ] {
        for object in plan
            .pointer(pointer)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            any = true;
            let _ = writeln!(
                out,
                "  {kind} {} ({}, excluded from {} of {} policies)",
                text(object, "/id"),
                text(object, "/source"),
                leaf_text(&object["excludedFrom"]),
                leaf_text(&plan["breakGlass"]["policiesConsidered"])
            );
        }
    }
    if !any {
        out.push_str("  none\n");
    }
    let impact = &plan["impact"];
    let _ = writeln!(
        out,
        "\nImpact: {} of {} users in scope must still register (SSPR enabled but not registered: {}; not MFA-registered: {}); excluded: {} break-glass, {} guests.",
        leaf_text(&impact["mustRegister"]),
        leaf_text(&impact["usersInScope"]),
        leaf_text(&impact["ssprEnabledNotRegistered"]),
        leaf_text(&impact["notMfaRegistered"]),
        leaf_text(&impact["usersExcluded"]),
        leaf_text(&impact["guestsExcluded"])
    );
    let sample = strings(&impact["sample"]);
    if !sample.is_empty() {
        let _ = writeln!(out, "  e.g. {}", sample.join(", "));
    }
    out.push_str("\nGraph JSON:\n");
    out.push_str(&serde_json::to_string_pretty(&plan["policy"]).unwrap_or_default());
    out
}

/// The graded policies as a table, then each policy's reasons.
pub fn status_text(status: &Value, width: Option<u16>) -> String {
    let policies = status["policies"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = format!(
        "Registration protection for {}: {}\n",
        text(status, "/tenant/domain"),
        text(status, "/verdict")
    );
    if policies.is_empty() {
        out.push_str("No Conditional Access policy targets security-info registration.\n");
        return out;
    }
    let mut table = new_table(width);
    table.set_header(["POLICY", "STATE", "OURS", "VERDICT", "ID"]);
    for policy in policies {
        table.add_row([
            text(policy, "/displayName"),
            text(policy, "/state"),
            if policy["ours"] == true { "yes" } else { "no" },
            text(policy, "/verdict"),
            text(policy, "/id"),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    for policy in policies {
        let _ = writeln!(
            out,
            "\n{} ({}):",
            text(policy, "/displayName"),
            text(policy, "/verdict")
        );
        for reason in policy["reasons"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  {:<7} {}: {}",
                text(reason, "/status"),
                text(reason, "/check"),
                text(reason, "/message")
            );
        }
    }
    out
}

/// `report-only` or `enforced`, for the state Conditional Access names.
fn state_words(state: &str) -> &str {
    match state {
        "enabledForReportingButNotEnforced" => "report-only",
        "enabled" => "enforced",
        other => other,
    }
}

/// What a dry run's plan would do, in a few words: `create the policy, report-only`,
/// `change grantControls, state`, `nothing (it already matches)`.
pub fn change_summary(plan: &Value) -> String {
    let changes = strings(&plan["changes"]);
    match plan["result"].as_str() {
        Some("created") => format!("create the policy, {}", state_words(text(plan, "/state"))),
        Some("unchanged") => "nothing (it already matches)".to_owned(),
        _ if changes.is_empty() => format!("update policy {}", text(plan, "/policyId")),
        _ => format!(
            "change {} of policy {}",
            changes.join(", "),
            text(plan, "/policyId")
        ),
    }
}

/// A dry run's plan as text: what it would do, the diff against the deployed policy, the exact
/// Graph calls and the findings.
pub fn change_plan_text(plan: &Value, width: Option<u16>) -> String {
    let mut out = format!(
        "Plan for {}: {} (state after: {}).\n",
        text(plan, "/tenant/domain"),
        change_summary(plan),
        state_words(text(plan, "/state"))
    );
    let diff = plan["diff"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !diff.is_empty() {
        let mut table = new_table(width);
        table.set_header(["FIELD", "BEFORE", "AFTER"]);
        for change in diff {
            table.add_row([
                text(change, "/path").to_owned(),
                leaf_text(&change["before"]),
                leaf_text(&change["after"]),
            ]);
        }
        let _ = writeln!(out, "\n{table}");
    }
    let calls = plan["calls"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if calls.is_empty() {
        out.push_str("\nNo Graph call: nothing would be written.\n");
    } else {
        out.push_str("\nGraph calls, in order:\n");
        for (n, call) in calls.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {}. {} {}",
                n + 1,
                text(call, "/method"),
                text(call, "/path")
            );
            if let Some(body) = call.get("body").filter(|b| !b.is_null()) {
                let pretty = serde_json::to_string_pretty(body).unwrap_or_default();
                for line in pretty.lines() {
                    let _ = writeln!(out, "     {line}");
                }
            }
        }
    }
    findings_lines(&mut out, &plan["findings"]);
    out
}

/// What a deploy did, in one line, then the findings.
pub fn applied_text(applied: &Value) -> String {
    let changes = strings(&applied["changes"]);
    let mut out = format!(
        "{} policy {} in {} ({}){}.\n",
        match applied["result"].as_str() {
            Some("created") => "Created",
            Some("updated") => "Updated",
            Some("unchanged") => "Unchanged:",
            _ => "Deployed",
        },
        text(applied, "/policyId"),
        text(applied, "/tenant/domain"),
        text(applied, "/state"),
        if changes.is_empty() {
            String::new()
        } else {
            format!(": changed {}", changes.join(", "))
        }
    );
    findings_lines(&mut out, &applied["findings"]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn texts_say_what_matters() {
        let plan = json!({
            "tenant": {"domain": "contoso.onmicrosoft.com"}, "state": "enabledForReportingButNotEnforced",
            "policy": {"displayName": "Block [sspr:registration-protection]"}, "blocking": true,
            "findings": [{"severity": "error", "code": "noTrustedLocation", "message": "No trusted location."}],
            "breakGlass": {"policiesConsidered": 3, "users": [{"id": "bg", "source": "discovered", "excludedFrom": 3}], "groups": []},
            "existing": null,
            "impact": {"mustRegister": 2, "usersInScope": 6, "ssprEnabledNotRegistered": 1, "notMfaRegistered": 2,
                       "usersExcluded": 1, "guestsExcluded": 1, "sample": ["a@x", "b@x"]}
        });
        let text = plan_text(&plan);
        for expected in [
            "contoso.onmicrosoft.com",
            "a deploy creates one",
            "refused until the errors are fixed",
            "ERROR   noTrustedLocation: No trusted location.",
            "user bg (discovered, excluded from 3 of 3 policies)",
            "2 of 6 users in scope must still register",
            "e.g. a@x, b@x",
        ] {
            assert!(text.contains(expected), "{expected}\n{text}");
        }
        let applied = json!({"result": "updated", "policyId": "p1", "tenant": {"domain": "c"},
            "state": "enabled", "changes": ["state"], "findings": []});
        assert_eq!(
            applied_text(&applied),
            "Updated policy p1 in c (enabled): changed state.\n"
        );
    }

    fn dry_run() -> Value {
        json!({
            "tenant": {"id": "t-1", "domain": "contoso.onmicrosoft.com", "displayName": "Contoso"},
            "dryRun": true, "result": "updated", "policyId": "p-1", "state": "enabled",
            "changes": ["grantControls"],
            "diff": [{"path": "/grantControls/builtInControls", "before": ["block"], "after": ["mfa"]}],
            "calls": [{"method": "PATCH", "path": "/identity/conditionalAccess/policies/p-1",
                       "body": {"grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}}],
            "findings": [{"severity": "warning", "code": "newHires", "message": "New hires need a TAP."}],
            "etag": "\"v1\""
        })
    }

    #[test]
    fn a_change_plan_shows_the_diff_and_the_exact_graph_call() {
        let text = change_plan_text(&dry_run(), Some(120));
        assert!(
            text.starts_with(
                "Plan for contoso.onmicrosoft.com: change grantControls of policy p-1 (state after: enforced).\n"
            ),
            "{text}"
        );
        let row = text
            .lines()
            .find(|l| l.contains("/grantControls/builtInControls"))
            .expect("diff row");
        assert!(row.contains("block") && row.contains("mfa"), "{row}");
        assert!(
            text.contains("  1. PATCH /identity/conditionalAccess/policies/p-1\n     {\n"),
            "{text}"
        );
        assert!(text.contains("         \"builtInControls\": ["), "{text}");
        assert!(
            text.contains("WARNING newHires: New hires need a TAP."),
            "{text}"
        );
        for line in text.lines() {
            assert!(line.chars().count() <= 120, "too wide: {line}");
        }
    }

    #[test]
    fn a_plan_that_creates_or_changes_nothing_says_so() {
        let mut created = dry_run();
        created["result"] = json!("created");
        created["state"] = json!("enabledForReportingButNotEnforced");
        created["policyId"] = Value::Null;
        assert_eq!(change_summary(&created), "create the policy, report-only");

        let mut unchanged = dry_run();
        unchanged["result"] = json!("unchanged");
        unchanged["diff"] = json!([]);
        unchanged["calls"] = json!([]);
        let text = change_plan_text(&unchanged, Some(100));
        assert!(text.contains("nothing (it already matches)"), "{text}");
        assert!(
            text.contains("No Graph call: nothing would be written."),
            "{text}"
        );
        assert!(!text.contains("FIELD"), "{text}");

        let mut state_only = dry_run();
        state_only["changes"] = json!([]);
        assert_eq!(change_summary(&state_only), "update policy p-1");
    }
}
