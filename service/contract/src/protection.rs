//! The registration-protection answers: the plan, the status, the deploy and its dry run, the
//! generated policy, and what they embed (findings, grades, break-glass accounts, the impact,
//! the policy model). The Graph JSON of a policy stays JSON (`serde_json::Value`): it is Graph's
//! document, shown and sent as it is.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::tenants::TenantRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum PlanSeverity {
    /// The policy would lock people out or leave a hole: enforcing it is refused unless forced.
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanFinding {
    pub severity: PlanSeverity,
    /// A stable identifier, e.g. `noTrustedLocation`.
    pub code: String,
    /// JSON pointer of the option concerned, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub field: Option<String>,
    pub message: String,
}

/// How an account became a break-glass account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum BreakGlassSource {
    /// Named by the caller.
    Declared,
    /// Excluded from more than half of the tenant's active CA policies.
    Discovered,
}

/// One break-glass user or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BreakGlassObject {
    pub id: String,
    pub source: BreakGlassSource,
    /// How many of the considered policies exclude it.
    pub excluded_from: usize,
}

/// The break-glass accounts a plan or a grade works with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BreakGlass {
    /// Enabled and report-only policies looked at (ours left out: it follows from the others).
    pub policies_considered: usize,
    pub users: Vec<BreakGlassObject>,
    pub groups: Vec<BreakGlassObject>,
}

/// The state the policy is deployed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ProtectionState {
    /// Report-only: evaluated and logged, never enforced.
    #[serde(rename = "enabledForReportingButNotEnforced", alias = "reportOnly")]
    ReportOnly,
    /// Enforced.
    #[serde(rename = "enabled")]
    Enabled,
}

/// The state of any CA policy: a disabled one does nothing, a report-only one only logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum PolicyState {
    #[serde(rename = "enabled")]
    Enabled,
    #[default]
    #[serde(rename = "disabled")]
    Disabled,
    #[serde(rename = "enabledForReportingButNotEnforced")]
    ReportOnly,
}

/// A Conditional Access policy, reduced to what protection cares about. Collections keep
/// Graph's strings as they are; comparisons treat them as sets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CaPolicy {
    /// Empty for a policy not created yet.
    pub id: String,
    pub display_name: String,
    #[schema(required = true)]
    pub description: Option<String>,
    /// `enabled`, `disabled` or `enabledForReportingButNotEnforced`.
    pub state: PolicyState,
    pub client_app_types: Vec<String>,
    pub applications: ApplicationCondition,
    pub users: UserCondition,
    /// Null: no location condition.
    #[schema(required = true)]
    pub locations: Option<LocationCondition>,
    /// Null: no grant controls.
    #[schema(required = true)]
    pub grant: Option<GrantControls>,
    /// Other conditions that are set and narrow when the policy applies (`platforms`,
    /// `devices`, `signInRiskLevels`, …), by Graph's property name.
    pub narrowing_conditions: Vec<String>,
    /// Session controls are set.
    pub has_session_controls: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationCondition {
    pub include_applications: Vec<String>,
    pub exclude_applications: Vec<String>,
    pub include_user_actions: Vec<String>,
    pub include_authentication_context_class_references: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserCondition {
    pub include_users: Vec<String>,
    pub exclude_users: Vec<String>,
    pub include_groups: Vec<String>,
    pub exclude_groups: Vec<String>,
    pub include_roles: Vec<String>,
    pub exclude_roles: Vec<String>,
    #[schema(required = true)]
    pub include_guests_or_external_users: Option<GuestSelection>,
    #[schema(required = true)]
    pub exclude_guests_or_external_users: Option<GuestSelection>,
}

/// `conditionalAccessGuestsOrExternalUsers`: guest types (the flags string split) and tenants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuestSelection {
    pub guest_or_external_user_types: Vec<String>,
    /// Null: every external tenant; otherwise the enumerated tenant ids.
    #[schema(required = true)]
    pub external_tenants: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocationCondition {
    pub include_locations: Vec<String>,
    pub exclude_locations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantControls {
    /// `AND` or `OR`.
    pub operator: String,
    pub built_in_controls: Vec<String>,
    /// The authentication strength's id; null when none is required.
    #[schema(required = true)]
    pub authentication_strength: Option<String>,
    pub custom_authentication_factors: Vec<String>,
    pub terms_of_use: Vec<String>,
}

/// The overall verdict: the worst of the reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GradeVerdict)]
pub enum Verdict {
    /// Protects registration as it should.
    Pass,
    /// Protects registration, with gaps to look at.
    Warn,
    /// Does not protect registration (or not for everyone).
    Fail,
}

/// What one check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GradeReasonStatus)]
pub enum ReasonStatus {
    Ok,
    Info,
    Warning,
    Failure,
}

/// The aspect of the policy a reason is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GradeCheck)]
pub enum Check {
    State,
    Users,
    Exclusions,
    BreakGlass,
    ClientAppTypes,
    Grant,
    Locations,
    Guests,
    Conditions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GradeReason)]
pub struct Reason {
    pub check: Check,
    pub status: ReasonStatus,
    pub message: String,
}

/// The impact of a plan: the users the policy applies to (members, and guests when guests are
/// included; not the break-glass users nor the members of excluded groups) who must still
/// register — enabled for SSPR and not SSPR-registered, or not MFA-registered — and so will have
/// to register from a trusted location (or with a Temporary Access Pass, or a managed device).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationImpact {
    /// Users in the registration report.
    pub users_read: u64,
    /// Users the policy would apply to.
    pub users_in_scope: u64,
    /// Users left out because the policy excludes them (break-glass users, members of
    /// excluded groups).
    pub users_excluded: u64,
    /// Guests left out because the policy excludes guests.
    pub guests_excluded: u64,
    /// Users in scope who must still register: enabled for SSPR and not SSPR-registered, or not
    /// MFA-registered.
    pub must_register: u64,
    /// Of those, enabled for SSPR and not SSPR-registered.
    pub sspr_enabled_not_registered: u64,
    /// Of those, not MFA-registered.
    pub not_mfa_registered: u64,
    /// The first user principal names of `mustRegister`, in report order (at most 20).
    pub sample: Vec<String>,
}

/// One Graph call a deploy makes, exactly as it would go out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlannedCall {
    /// `POST` or `PATCH`.
    pub method: String,
    /// The Graph path, with its version, e.g. `/v1.0/identity/conditionalAccess/policies`.
    pub path: String,
    /// The JSON body.
    #[schema(value_type = Object)]
    pub body: Value,
}

/// One value a deploy would change, in Graph's terms: `path` is a JSON pointer into the
/// policy's Graph JSON; `before` is null for a policy not created yet, `after` null for a value
/// the deploy clears.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyChange {
    pub path: String,
    /// Any JSON value.
    pub before: Value,
    /// Any JSON value.
    pub after: Value,
}

/// A policy on the registration action, graded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GradedPolicy {
    pub id: String,
    pub display_name: String,
    pub state: PolicyState,
    /// Carries this service's marker: the policy a PUT updates.
    pub ours: bool,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    /// The policy as read from Graph.
    pub policy: CaPolicy,
}

/// The policy a plan or a deploy would update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExistingPolicy {
    pub id: String,
    pub state: PolicyState,
    /// The parts an update would change (Graph property names); empty: nothing to do.
    pub changes: Vec<String>,
}

/// `POST …/registration-protection/plan`: the policy, what to know about it, and whom it affects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::protection_plan))]
pub struct ProtectionPlan {
    pub tenant: TenantRef,
    /// The state the policy would be deployed in: as asked, else the state of the policy with
    /// the marker, else report-only.
    pub state: ProtectionState,
    /// The exact Graph JSON of `POST /identity/conditionalAccess/policies`.
    #[schema(value_type = Object)]
    pub policy: Value,
    /// Errors first. With an error, enforcing (state `enabled`) is refused unless forced.
    pub findings: Vec<PlanFinding>,
    /// A PUT with these options would be refused: the state is `enabled`, the findings hold an
    /// error and `force` is not set.
    pub blocking: bool,
    pub break_glass: BreakGlass,
    /// The policy with the marker; null when the tenant has none.
    #[schema(required = true)]
    pub existing: Option<ExistingPolicy>,
    pub impact: RegistrationImpact,
    /// Microsoft Graph request ids of the reads.
    pub graph_request_ids: Vec<String>,
}

/// `GET …/registration-protection`: every policy on the registration action, graded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::protection_status))]
pub struct ProtectionStatus {
    pub tenant: TenantRef,
    /// The best verdict among the enabled policies (report-only ones enforce nothing);
    /// `fail` when none is enabled.
    pub verdict: Verdict,
    /// The id of the policy with the marker; null when the tenant has none.
    #[schema(required = true)]
    pub ours: Option<String>,
    pub break_glass: BreakGlass,
    pub policies: Vec<GradedPolicy>,
    pub graph_request_ids: Vec<String>,
}

/// `POST /v1/registration-protection/generate`: the policy without a tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::generated_policy))]
pub struct GeneratedPolicy {
    pub state: ProtectionState,
    #[schema(value_type = Object)]
    pub policy: Value,
    /// What the options alone say; locations and break-glass accounts are not checked against
    /// any tenant (a plan does that).
    pub findings: Vec<PlanFinding>,
}

/// What a deploy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ApplyResult {
    Created,
    Updated,
    /// The policy already matched: nothing was written.
    Unchanged,
}

/// One Graph write (or the look after a lost answer) of a deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WriteAttempt {
    /// `POST …`, `PATCH …` or `GET …` (the look for the marker after a lost answer).
    pub call: String,
    /// `succeeded`, `failed`, `found` (the lost create had succeeded) or `notFound`.
    pub status: WriteStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub graph_request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub error: Option<String>,
}

/// How one write attempt of a deploy ended (the schema of [`WriteAttempt::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum WriteStatus {
    Succeeded,
    Failed,
    /// The look after a lost answer found the policy: the create had succeeded.
    Found,
    /// The look after a lost answer found no policy: nothing was created.
    NotFound,
}

/// `PUT …/registration-protection`: what the deploy did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::protection_applied))]
pub struct ProtectionApplied {
    pub tenant: TenantRef,
    pub result: ApplyResult,
    pub policy_id: String,
    pub state: ProtectionState,
    /// The parts that were changed (Graph property names); empty when created or unchanged.
    pub changes: Vec<String>,
    /// Every value that was changed, before and after.
    pub diff: Vec<PolicyChange>,
    /// The version of the policy now deployed.
    pub etag: String,
    /// The Graph JSON the policy now matches.
    #[schema(value_type = Object)]
    pub policy: Value,
    pub findings: Vec<PlanFinding>,
    pub attempts: Vec<WriteAttempt>,
    /// Microsoft Graph request ids of every call made.
    pub graph_request_ids: Vec<String>,
    /// The id of the deploy's audit record: sent as the `audit-record-id` header, not in the body.
    #[serde(skip)]
    pub audit_record_id: i64,
}

/// `…?dryRun=true`: what the deploy or state change would do. Nothing is written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::protection_change_plan))]
pub struct ProtectionChangePlan {
    pub tenant: TenantRef,
    /// Always true: this is a plan.
    pub dry_run: bool,
    /// What the real call would do.
    pub result: ApplyResult,
    /// The policy with the marker; absent when it would be created.
    pub policy_id: Option<String>,
    pub state: ProtectionState,
    /// The parts the call changes (Graph property names); empty when nothing changes.
    pub changes: Vec<String>,
    /// Every value that changes, before and after, against the deployed policy.
    pub diff: Vec<PolicyChange>,
    /// The exact Graph calls, in order; empty when nothing changes.
    pub calls: Vec<PlannedCall>,
    pub findings: Vec<PlanFinding>,
    /// The version of the deployed policy (or of "none deployed") the plan was made against:
    /// send it as `If-Match` so the real call is refused if the policy changed meanwhile.
    pub etag: String,
}

/// What a deploy or a state change answers: the plan (dry run) or what was done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(examples(crate::examples::protection_change_plan))]
pub enum ChangeAnswer {
    Planned(Box<ProtectionChangePlan>),
    Applied(Box<ProtectionApplied>),
}

/// The state of the deployed policy, and nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(examples(crate::examples::state_change))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateChange {
    /// `enabled` enforces the policy; `enabledForReportingButNotEnforced` (or `reportOnly`)
    /// takes it back to report-only.
    pub state: ProtectionState,
    /// Enforce although the deployed policy, graded as enforced, has failures.
    #[serde(default)]
    pub force: bool,
}

impl PolicyState {
    /// The state's name, as the answers spell it.
    pub fn name(self) -> &'static str {
        match self {
            PolicyState::Enabled => "enabled",
            PolicyState::Disabled => "disabled",
            PolicyState::ReportOnly => "enabledForReportingButNotEnforced",
        }
    }
}

impl std::fmt::Display for PolicyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl From<ProtectionState> for PolicyState {
    fn from(state: ProtectionState) -> PolicyState {
        match state {
            ProtectionState::ReportOnly => PolicyState::ReportOnly,
            ProtectionState::Enabled => PolicyState::Enabled,
        }
    }
}

/// The members a plan and an applied change share, whichever the answer is.
impl ChangeAnswer {
    pub fn tenant(&self) -> &TenantRef {
        match self {
            ChangeAnswer::Planned(plan) => &plan.tenant,
            ChangeAnswer::Applied(applied) => &applied.tenant,
        }
    }

    /// What the call did, or would do.
    pub fn result(&self) -> ApplyResult {
        match self {
            ChangeAnswer::Planned(plan) => plan.result,
            ChangeAnswer::Applied(applied) => applied.result,
        }
    }

    /// The policy with the marker; `None` when a plan would create it.
    pub fn policy_id(&self) -> Option<&str> {
        match self {
            ChangeAnswer::Planned(plan) => plan.policy_id.as_deref(),
            ChangeAnswer::Applied(applied) => Some(&applied.policy_id),
        }
    }

    pub fn state(&self) -> ProtectionState {
        match self {
            ChangeAnswer::Planned(plan) => plan.state,
            ChangeAnswer::Applied(applied) => applied.state,
        }
    }

    /// The parts changed, or to change (Graph property names).
    pub fn changes(&self) -> &[String] {
        match self {
            ChangeAnswer::Planned(plan) => &plan.changes,
            ChangeAnswer::Applied(applied) => &applied.changes,
        }
    }

    pub fn diff(&self) -> &[PolicyChange] {
        match self {
            ChangeAnswer::Planned(plan) => &plan.diff,
            ChangeAnswer::Applied(applied) => &applied.diff,
        }
    }

    pub fn findings(&self) -> &[PlanFinding] {
        match self {
            ChangeAnswer::Planned(plan) => &plan.findings,
            ChangeAnswer::Applied(applied) => &applied.findings,
        }
    }

    /// The version the plan was made against, or the version now deployed.
    pub fn etag(&self) -> &str {
        match self {
            ChangeAnswer::Planned(plan) => &plan.etag,
            ChangeAnswer::Applied(applied) => &applied.etag,
        }
    }

    /// A plan's exact Graph calls, in order; none for an applied change.
    pub fn calls(&self) -> &[PlannedCall] {
        match self {
            ChangeAnswer::Planned(plan) => &plan.calls,
            ChangeAnswer::Applied(_) => &[],
        }
    }
}

/// Each status enum prints as the API spells it.
macro_rules! display_as_spelled {
    ($($name:ty),*) => {$(
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match serde_json::to_value(self) {
                    Ok(Value::String(name)) => f.write_str(&name),
                    _ => Err(std::fmt::Error),
                }
            }
        }
    )*};
}

display_as_spelled!(
    PlanSeverity,
    BreakGlassSource,
    ProtectionState,
    Verdict,
    ReasonStatus,
    Check,
    ApplyResult,
    WriteStatus
);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tenant() -> Value {
        json!({"id": "t-1", "domain": "contoso.onmicrosoft.com", "displayName": "Contoso"})
    }

    /// The untagged answer must tell a dry run's plan from what was applied.
    #[test]
    fn a_plan_and_an_applied_change_decode_as_their_own_kind() {
        let plan: ChangeAnswer = serde_json::from_value(json!({
            "tenant": tenant(), "dryRun": true, "result": "created", "policyId": null,
            "state": "enabledForReportingButNotEnforced", "changes": [], "diff": [],
            "calls": [{"method": "POST", "path": "/v1.0/identity/conditionalAccess/policies",
                       "body": {"displayName": "Block"}}],
            "findings": [{"severity": "warning", "code": "newHires", "message": "TAP."}],
            "etag": "\"none\"", "futureMember": 1
        }))
        .expect("a plan");
        let ChangeAnswer::Planned(planned) = &plan else {
            panic!("read as applied: {plan:?}")
        };
        assert!(planned.dry_run);
        assert_eq!(plan.policy_id(), None);
        assert_eq!(plan.calls()[0].body["displayName"], "Block");
        assert_eq!(plan.etag(), "\"none\"");
        assert_eq!(
            plan.state().to_string(),
            "enabledForReportingButNotEnforced"
        );

        let applied: ChangeAnswer = serde_json::from_value(json!({
            "tenant": tenant(), "result": "updated", "policyId": "p-1", "state": "enabled",
            "changes": ["state"], "diff": [], "etag": "\"v2\"", "policy": {}, "findings": [],
            "attempts": [{"call": "PATCH /v1.0/identity/conditionalAccess/policies/p-1",
                          "status": "succeeded"}],
            "graphRequestIds": []
        }))
        .expect("an applied change");
        let ChangeAnswer::Applied(done) = &applied else {
            panic!("read as a plan: {applied:?}")
        };
        assert_eq!(done.attempts[0].status, WriteStatus::Succeeded);
        assert_eq!(applied.policy_id(), Some("p-1"));
        assert_eq!(applied.result().to_string(), "updated");
        assert!(applied.calls().is_empty());
    }

    #[test]
    fn report_only_reads_under_both_spellings_and_prints_as_graph_names_it() {
        for spelling in ["enabledForReportingButNotEnforced", "reportOnly"] {
            let state: ProtectionState = serde_json::from_value(json!(spelling)).expect("a state");
            assert_eq!(state, ProtectionState::ReportOnly);
            assert_eq!(state.to_string(), "enabledForReportingButNotEnforced");
        }
        assert_eq!(PlanSeverity::Error.to_string(), "error");
        assert_eq!(Check::ClientAppTypes.to_string(), "clientAppTypes");
    }
}
