//! The answers of the registration-protection endpoints, mirroring the OpenAPI schemas of the
//! same names. Decoding is lenient: a member the service leaves out is empty, a member this
//! version does not know is ignored. The Graph JSON of a policy stays JSON: it is Graph's
//! document, shown and sent as it is.

use serde::Deserialize;
use serde_json::Value;

use crate::types::TenantRef;

/// Something the options or the tenant's policies deserve attention for (`PlanFinding`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PlanFinding {
    /// `error`, `warning` or `info`.
    pub severity: String,
    /// A stable identifier, e.g. `noTrustedLocation`.
    pub code: String,
    pub message: String,
    /// JSON pointer of the option concerned, when one is.
    pub field: Option<String>,
}

/// The break-glass accounts a policy excludes (`BreakGlass`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BreakGlass {
    /// Enabled and report-only policies looked at.
    pub policies_considered: u64,
    pub users: Vec<BreakGlassObject>,
    pub groups: Vec<BreakGlassObject>,
}

/// One break-glass user or group (`BreakGlassObject`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BreakGlassObject {
    pub id: String,
    /// `declared` or `discovered`.
    pub source: String,
    /// How many of the considered policies exclude it.
    pub excluded_from: u64,
}

/// The policy that carries the service's marker (`ExistingPolicy`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExistingPolicy {
    pub id: String,
    pub state: String,
    /// The parts an update would change (Graph property names); empty: nothing to do.
    pub changes: Vec<String>,
}

/// Who the policy would make register first (`RegistrationImpact`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegistrationImpact {
    pub users_read: u64,
    pub users_in_scope: u64,
    pub users_excluded: u64,
    pub guests_excluded: u64,
    pub must_register: u64,
    pub sspr_enabled_not_registered: u64,
    pub not_mfa_registered: u64,
    /// The first user principal names of `must_register`.
    pub sample: Vec<String>,
}

/// `POST /v1/tenants/{tenant}/registration-protection/plan` (`ProtectionPlan`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProtectionPlan {
    pub tenant: TenantRef,
    /// The state the policy would be deployed in (Conditional Access's name).
    pub state: String,
    /// The exact Graph JSON of the policy.
    pub policy: Value,
    pub findings: Vec<PlanFinding>,
    /// A deploy with these options would be refused (enforcing with errors, not forced).
    pub blocking: bool,
    pub break_glass: BreakGlass,
    /// The policy with the marker; `None` when the tenant has none.
    pub existing: Option<ExistingPolicy>,
    pub impact: RegistrationImpact,
    pub graph_request_ids: Vec<String>,
}

/// `GET /v1/tenants/{tenant}/registration-protection` (`ProtectionStatus`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProtectionStatus {
    pub tenant: TenantRef,
    /// `pass`, `warn` or `fail`: the best among the enabled policies.
    pub verdict: String,
    /// The id of the policy with the marker.
    pub ours: Option<String>,
    pub break_glass: BreakGlass,
    pub policies: Vec<GradedPolicy>,
    pub graph_request_ids: Vec<String>,
}

/// One policy on the registration action, graded (`GradedPolicy`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GradedPolicy {
    pub id: String,
    pub display_name: String,
    pub state: String,
    /// Carries this service's marker: the policy a deploy updates.
    pub ours: bool,
    pub verdict: String,
    pub reasons: Vec<GradeReason>,
    /// The policy as read from Graph.
    pub policy: Value,
}

/// What one check of a policy found (`GradeReason`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GradeReason {
    pub check: String,
    /// `ok`, `info`, `warning` or `failure`.
    pub status: String,
    pub message: String,
}

/// A value a deploy changes (`PolicyChange`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyChange {
    pub path: String,
    pub before: Value,
    pub after: Value,
}

/// One exact Graph call of a plan (`PlannedCall`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PlannedCall {
    pub method: String,
    pub path: String,
    /// The JSON body, as Graph receives it.
    pub body: Value,
}

/// One Graph write of a deploy (`WriteAttempt`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WriteAttempt {
    /// `POST …`, `PATCH …` or `GET …`.
    pub call: String,
    pub status: String,
    pub error: Option<String>,
    pub graph_request_id: Option<String>,
}

/// The answer of `PUT …/registration-protection[/state]` (`ChangeAnswer`): a dry run's plan
/// (`ProtectionChangePlan`: `dry_run`, `calls`) or what the real call did
/// (`ProtectionApplied`: `policy`, `attempts`). One type holds both, since they share most
/// members; the members of the other kind are empty.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChangeAnswer {
    pub tenant: TenantRef,
    /// True for a plan.
    pub dry_run: bool,
    /// `created`, `updated` or `unchanged`: what the call did, or would do.
    pub result: String,
    /// The policy with the marker; `None` when a plan would create it.
    pub policy_id: Option<String>,
    pub state: String,
    /// The parts changed (Graph property names).
    pub changes: Vec<String>,
    pub diff: Vec<PolicyChange>,
    /// A plan's exact Graph calls, in order.
    pub calls: Vec<PlannedCall>,
    pub findings: Vec<PlanFinding>,
    /// The version the plan was made against, or the version now deployed.
    pub etag: Option<String>,
    /// What the real call did: the Graph JSON the policy now matches.
    pub policy: Option<Value>,
    pub attempts: Vec<WriteAttempt>,
    pub graph_request_ids: Vec<String>,
}

/// `POST /v1/registration-protection/generate` (`GeneratedPolicy`).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GeneratedPolicy {
    pub state: String,
    /// The Graph JSON.
    pub policy: Value,
    pub findings: Vec<PlanFinding>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_plan_and_an_applied_answer_read_as_one_change_answer() {
        let plan: ChangeAnswer = serde_json::from_value(json!({
            "tenant": {"id": "t-1", "domain": "contoso.onmicrosoft.com", "displayName": "Contoso"},
            "dryRun": true, "result": "created", "policyId": null,
            "state": "enabledForReportingButNotEnforced", "changes": [], "diff": [],
            "calls": [{"method": "POST", "path": "/v1.0/identity/conditionalAccess/policies",
                       "body": {"displayName": "Block"}}],
            "findings": [{"severity": "warning", "code": "newHires", "message": "TAP."}],
            "etag": "\"none\"", "futureMember": 1
        }))
        .expect("a plan");
        assert!(plan.dry_run);
        assert_eq!(plan.policy_id, None);
        assert_eq!(plan.calls[0].body["displayName"], "Block");
        assert_eq!(plan.findings[0].code, "newHires");
        assert_eq!(plan.etag.as_deref(), Some("\"none\""));

        let applied: ChangeAnswer = serde_json::from_value(json!({
            "result": "updated", "policyId": "p-1", "state": "enabled", "changes": ["state"],
            "attempts": [{"call": "PATCH /v1.0/identity/conditionalAccess/policies/p-1", "status": "succeeded"}]
        }))
        .expect("an applied answer with members left out");
        assert!(!applied.dry_run);
        assert_eq!(applied.policy_id.as_deref(), Some("p-1"));
        assert_eq!(applied.attempts[0].status, "succeeded");
        assert!(applied.tenant.domain.is_empty() && applied.policy.is_none());
    }

    #[test]
    fn a_plan_without_a_marked_policy_has_no_existing_one() {
        let plan: ProtectionPlan = serde_json::from_value(json!({
            "state": "enabled", "existing": null, "blocking": true,
            "breakGlass": {"policiesConsidered": 2, "users": [{"id": "u", "source": "declared", "excludedFrom": 2}]},
            "impact": {"mustRegister": 3, "sample": ["a@x"]}
        }))
        .expect("a plan");
        assert_eq!(plan.existing, None);
        assert!(plan.blocking);
        assert_eq!(plan.break_glass.users[0].excluded_from, 2);
        assert!(plan.break_glass.groups.is_empty());
        assert_eq!(plan.impact.must_register, 3);
    }
}
