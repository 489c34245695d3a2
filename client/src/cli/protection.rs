//! How `sspr registration-protection` prints a plan, the graded policies, a change's plan and
//! what a deploy did.

use std::fmt::Write as _;

use sspr_client::types::protection::{
    ApplyResult, ChangeAnswer, PlanFinding, ProtectionPlan, ProtectionState, ProtectionStatus,
};

use crate::cli::render::{NONE, leaf_text, new_table};

/// `text`, or `—` when the service sent none.
fn or_none(text: &str) -> &str {
    if text.is_empty() { NONE } else { text }
}

/// The findings as lines: `SEVERITY code: message`.
fn findings_lines(out: &mut String, findings: &[PlanFinding]) {
    if findings.is_empty() {
        return;
    }
    out.push_str("\nFindings:\n");
    for finding in findings {
        let _ = writeln!(
            out,
            "  {:<7} {}: {}",
            finding.severity.to_string().to_uppercase(),
            or_none(&finding.code),
            or_none(&finding.message)
        );
    }
}

/// A plan as text: what would be deployed, findings, break-glass accounts, impact, the JSON.
pub fn plan_text(plan: &ProtectionPlan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Registration protection for {}: {} as '{}'",
        or_none(&plan.tenant.domain),
        plan.state,
        // The Graph JSON is Graph's document: its name is read from it.
        plan.policy["displayName"].as_str().unwrap_or(NONE)
    );
    match &plan.existing {
        Some(existing) => {
            let _ = writeln!(
                out,
                "Existing policy {} ({}): {}",
                or_none(&existing.id),
                existing.state,
                if existing.changes.is_empty() {
                    "already matches; a deploy writes nothing".to_owned()
                } else {
                    format!("a deploy updates {}", existing.changes.join(", "))
                }
            );
        }
        None => out.push_str("No policy carries the marker: a deploy creates one.\n"),
    }
    if plan.blocking {
        out.push_str("Enforcing is refused until the errors are fixed (or forced).\n");
    }
    findings_lines(&mut out, &plan.findings);
    out.push_str("\nBreak-glass accounts excluded:\n");
    let break_glass = &plan.break_glass;
    let accounts = break_glass
        .users
        .iter()
        .map(|user| ("user", user))
        .chain(break_glass.groups.iter().map(|group| ("group", group)));
    let mut any = false;
    for (kind, object) in accounts {
        any = true;
        let _ = writeln!(
            out,
            "  {kind} {} ({}, excluded from {} of {} policies)",
            or_none(&object.id),
            object.source,
            object.excluded_from,
            break_glass.policies_considered
        );
    }
    if !any {
        out.push_str("  none\n");
    }
    let impact = &plan.impact;
    let _ = writeln!(
        out,
        "\nImpact: {} of {} users in scope must still register (SSPR enabled but not registered: {}; not MFA-registered: {}); excluded: {} break-glass, {} guests.",
        impact.must_register,
        impact.users_in_scope,
        impact.sspr_enabled_not_registered,
        impact.not_mfa_registered,
        impact.users_excluded,
        impact.guests_excluded
    );
    if !impact.sample.is_empty() {
        let _ = writeln!(out, "  e.g. {}", impact.sample.join(", "));
    }
    out.push_str("\nGraph JSON:\n");
    out.push_str(&serde_json::to_string_pretty(&plan.policy).unwrap_or_default());
    out
}

/// The graded policies as a table, then each policy's reasons.
pub fn status_text(status: &ProtectionStatus, width: Option<u16>) -> String {
    let mut out = format!(
        "Registration protection for {}: {}\n",
        or_none(&status.tenant.domain),
        status.verdict
    );
    if status.policies.is_empty() {
        out.push_str("No Conditional Access policy targets security-info registration.\n");
        return out;
    }
    let mut table = new_table(width);
    table.set_header(["POLICY", "STATE", "OURS", "VERDICT", "ID"]);
    for policy in &status.policies {
        table.add_row([
            or_none(&policy.display_name).to_owned(),
            policy.state.to_string(),
            if policy.ours { "yes" } else { "no" }.to_owned(),
            policy.verdict.to_string(),
            or_none(&policy.id).to_owned(),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    for policy in &status.policies {
        let _ = writeln!(
            out,
            "\n{} ({}):",
            or_none(&policy.display_name),
            policy.verdict
        );
        for reason in &policy.reasons {
            let _ = writeln!(
                out,
                "  {:<7} {}: {}",
                reason.status.to_string(),
                reason.check,
                or_none(&reason.message)
            );
        }
    }
    out
}

/// `report-only` or `enforced`.
fn state_words(state: ProtectionState) -> &'static str {
    match state {
        ProtectionState::ReportOnly => "report-only",
        ProtectionState::Enabled => "enforced",
    }
}

/// The policy a change is about, `—` when a plan would create it.
fn policy_id(change: &ChangeAnswer) -> &str {
    change.policy_id().map_or(NONE, or_none)
}

/// What a dry run's plan would do, in a few words: `create the policy, report-only`,
/// `change grantControls, state`, `nothing (it already matches)`.
pub fn change_summary(plan: &ChangeAnswer) -> String {
    match plan.result() {
        ApplyResult::Created => format!("create the policy, {}", state_words(plan.state())),
        ApplyResult::Unchanged => "nothing (it already matches)".to_owned(),
        ApplyResult::Updated if plan.changes().is_empty() => {
            format!("update policy {}", policy_id(plan))
        }
        ApplyResult::Updated => format!(
            "change {} of policy {}",
            plan.changes().join(", "),
            policy_id(plan)
        ),
    }
}

/// A dry run's plan as text: what it would do, the diff against the deployed policy, the exact
/// Graph calls and the findings.
pub fn change_plan_text(plan: &ChangeAnswer, width: Option<u16>) -> String {
    let mut out = format!(
        "Plan for {}: {} (state after: {}).\n",
        or_none(&plan.tenant().domain),
        change_summary(plan),
        state_words(plan.state())
    );
    if !plan.diff().is_empty() {
        let mut table = new_table(width);
        table.set_header(["FIELD", "BEFORE", "AFTER"]);
        for change in plan.diff() {
            table.add_row([
                or_none(&change.path).to_owned(),
                leaf_text(&change.before),
                leaf_text(&change.after),
            ]);
        }
        let _ = writeln!(out, "\n{table}");
    }
    if plan.calls().is_empty() {
        out.push_str("\nNo Graph call: nothing would be written.\n");
    } else {
        out.push_str("\nGraph calls, in order:\n");
        for (n, call) in plan.calls().iter().enumerate() {
            let _ = writeln!(
                out,
                "  {}. {} {}",
                n + 1,
                or_none(&call.method),
                or_none(&call.path)
            );
            if !call.body.is_null() {
                let pretty = serde_json::to_string_pretty(&call.body).unwrap_or_default();
                for line in pretty.lines() {
                    let _ = writeln!(out, "     {line}");
                }
            }
        }
    }
    findings_lines(&mut out, plan.findings());
    out
}

/// What a deploy did, in one line, then the findings.
pub fn applied_text(applied: &ChangeAnswer) -> String {
    let mut out = format!(
        "{} policy {} in {} ({}){}.\n",
        match applied.result() {
            ApplyResult::Created => "Created",
            ApplyResult::Updated => "Updated",
            ApplyResult::Unchanged => "Unchanged:",
        },
        policy_id(applied),
        or_none(&applied.tenant().domain),
        applied.state(),
        if applied.changes().is_empty() {
            String::new()
        } else {
            format!(": changed {}", applied.changes().join(", "))
        }
    );
    findings_lines(&mut out, applied.findings());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    /// An answer as the library reads it.
    fn decode<T: DeserializeOwned>(json: Value) -> T {
        serde_json::from_value(json).expect("a typed answer")
    }

    fn tenant(domain: &str) -> Value {
        json!({"id": "t-1", "domain": domain, "displayName": "Contoso"})
    }

    /// A policy on the registration action, as the service reads it from Graph.
    fn ca_policy() -> Value {
        json!({"id": "p-1", "displayName": "Block registration", "description": null,
            "state": "enabled", "clientAppTypes": ["all"],
            "applications": {"includeApplications": [], "excludeApplications": [],
                "includeUserActions": ["urn:user:registersecurityinfo"],
                "includeAuthenticationContextClassReferences": []},
            "users": {"includeUsers": ["All"], "excludeUsers": [], "includeGroups": [],
                "excludeGroups": [], "includeRoles": [], "excludeRoles": [],
                "includeGuestsOrExternalUsers": null, "excludeGuestsOrExternalUsers": null},
            "locations": null, "grant": null, "narrowingConditions": [], "hasSessionControls": false})
    }

    #[test]
    fn status_lists_each_policy_and_its_reasons() {
        let status = json!({
            "tenant": {"id": "t-1", "domain": "contoso.onmicrosoft.com", "displayName": "Contoso"},
            "verdict": "warn", "ours": "p-1", "graphRequestIds": [],
            "breakGlass": {"policiesConsidered": 1, "users": [], "groups": []},
            "policies": [{"id": "p-1", "displayName": "Block registration", "state": "enabled",
                "ours": true, "verdict": "warn", "policy": ca_policy(),
                "reasons": [{"check": "locations", "status": "warning", "message": "No trusted location."}]}]
        });
        let text = status_text(&decode(status), Some(120));
        assert!(
            text.starts_with("Registration protection for contoso.onmicrosoft.com: warn\n"),
            "{text}"
        );
        let row = text
            .lines()
            .find(|l| l.contains("Block registration") && l.contains("p-1"))
            .expect("the policy's row");
        assert!(row.contains("enabled") && row.contains("yes"), "{row}");
        assert!(text.contains("\nBlock registration (warn):\n"), "{text}");
        assert!(
            text.contains("  warning locations: No trusted location."),
            "{text}"
        );
        let none = json!({"tenant": tenant("c"), "verdict": "fail", "ours": null, "policies": [],
            "breakGlass": {"policiesConsidered": 0, "users": [], "groups": []}, "graphRequestIds": []});
        assert!(
            status_text(&decode(none), None)
                .ends_with("No Conditional Access policy targets security-info registration.\n")
        );
    }

    #[test]
    fn texts_say_what_matters() {
        let plan = json!({
            "tenant": tenant("contoso.onmicrosoft.com"), "state": "enabledForReportingButNotEnforced",
            "policy": {"displayName": "Block [sspr:registration-protection]"}, "blocking": true,
            "findings": [{"severity": "error", "code": "noTrustedLocation", "message": "No trusted location."}],
            "breakGlass": {"policiesConsidered": 3, "users": [{"id": "bg", "source": "discovered", "excludedFrom": 3}], "groups": []},
            "existing": null, "graphRequestIds": [],
            "impact": {"usersRead": 7, "mustRegister": 2, "usersInScope": 6, "ssprEnabledNotRegistered": 1, "notMfaRegistered": 2,
                       "usersExcluded": 1, "guestsExcluded": 1, "sample": ["a@x", "b@x"]}
        });
        let text = plan_text(&decode(plan));
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
        let applied = json!({"result": "updated", "policyId": "p1", "tenant": tenant("c"),
            "state": "enabled", "changes": ["state"], "findings": [], "diff": [], "etag": "\"v2\"",
            "policy": {}, "attempts": [], "graphRequestIds": []});
        assert_eq!(
            applied_text(&decode(applied)),
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
        let text = change_plan_text(&decode(dry_run()), Some(120));
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
        assert_eq!(
            change_summary(&decode(created)),
            "create the policy, report-only"
        );

        let mut unchanged = dry_run();
        unchanged["result"] = json!("unchanged");
        unchanged["diff"] = json!([]);
        unchanged["calls"] = json!([]);
        let text = change_plan_text(&decode(unchanged), Some(100));
        assert!(text.contains("nothing (it already matches)"), "{text}");
        assert!(
            text.contains("No Graph call: nothing would be written."),
            "{text}"
        );
        assert!(!text.contains("FIELD"), "{text}");

        let mut state_only = dry_run();
        state_only["changes"] = json!([]);
        assert_eq!(change_summary(&decode(state_only)), "update policy p-1");
    }
}
