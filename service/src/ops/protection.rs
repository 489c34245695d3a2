//! Registration protection: plan, inspect and deploy the Conditional Access policy that guards
//! security-info registration.
//!
//! Every Conditional Access call of one request is made after the previous one answered: Graph
//! gives CA and named locations one request per second per tenant, shared by all apps, and a
//! plan needs only two reads (policies, named locations). A deploy is idempotent through the
//! marker in the policy's name: it updates the policy that carries it, or creates one; when a
//! create's answer is lost, it lists the policies again before trying once more, so a retry
//! never makes a duplicate.

use std::collections::HashSet;
use std::pin::pin;

use futures::StreamExt;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::auth::{Caller, Verb};
use crate::directory::DirectoryError;
use crate::directory::conditional_access::{self as ca, POLICIES};
use crate::directory::graph::Graph;
use crate::directory::registrations as report;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};
use crate::domain::protection::discovery::BreakGlass;
use crate::domain::protection::findings::{
    PlanFacts, PlanFinding, has_errors, option_findings, plan_findings,
};
use crate::domain::protection::generate::{
    self, Exclusions, PolicyChange, create_body, differences, generate, update_body,
};
use crate::domain::protection::impact::{ImpactCounter, RegistrationImpact, UserFacts};
use crate::domain::protection::lint::{self, Grade, Reason, Verdict};
use crate::domain::protection::{
    CaPolicy, GuestHandling, NamedLocation, OptionError, ProtectionOptions, ProtectionState,
    ValidOptions, guid,
};
use crate::store::Store;
use crate::store::audit::{Completion, Outcome};

use super::audited::AuditTrail;
use super::{OpsError, authorize, licence, require, tenant_ref};
use sspr_api::tenants::TenantRef;

/// Why a protection request failed.
#[derive(Debug, thiserror::Error)]
pub enum ProtectionError {
    #[error(transparent)]
    Ops(#[from] OpsError),
    /// An option (or query parameter) cannot be used; `field` names it.
    #[error("{}: {}", .0.field, .0.detail)]
    InvalidOptions(OptionError),
    /// Enforcing the policy was refused: the plan has errors and `force` was not given.
    #[error("the plan has errors; enforcing it needs force")]
    Refused { findings: Vec<PlanFinding> },
    /// The deploy would change what an enforced policy enforces or whom it applies to, and
    /// `force` was not given.
    #[error("the policy is enforced; changing its control or conditions needs force")]
    EnforcedChange {
        changes: Vec<String>,
        diff: Vec<PolicyChange>,
    },
    /// Enforcing the deployed policy was refused: its grade, enforced, has failures.
    #[error("the deployed policy has failures; enforcing it needs force")]
    GradeFails { reasons: Vec<Reason> },
    /// No policy carries the marker: there is nothing to change the state of.
    #[error("no registration-protection policy is deployed")]
    NotDeployed { tenant: String },
    /// The write failed; `attempts` says what was tried.
    #[error("writing the policy failed: {error}")]
    WriteFailed {
        error: DirectoryError,
        attempts: Vec<WriteAttempt>,
    },
}

impl From<DirectoryError> for ProtectionError {
    fn from(error: DirectoryError) -> Self {
        ProtectionError::Ops(OpsError::Directory(error))
    }
}

/// A policy on the registration action, graded.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GradedPolicy {
    pub id: String,
    pub display_name: String,
    pub state: String,
    /// Carries this service's marker: the policy a PUT updates.
    pub ours: bool,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    /// The policy as read from Graph.
    pub policy: CaPolicy,
}

/// The policy a plan or a deploy would update.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExistingPolicy {
    pub id: String,
    pub state: String,
    /// The parts an update would change (Graph property names); empty: nothing to do.
    pub changes: Vec<String>,
}

/// `POST …/registration-protection/plan`: the policy, what to know about it, and whom it affects.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(sspr_api::examples::protection_plan))]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(sspr_api::examples::protection_status))]
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
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(sspr_api::examples::generated_policy))]
pub struct GeneratedPolicy {
    pub state: ProtectionState,
    #[schema(value_type = Object)]
    pub policy: Value,
    /// What the options alone say; locations and break-glass accounts are not checked against
    /// any tenant (a plan does that).
    pub findings: Vec<PlanFinding>,
}

/// What a deploy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ApplyResult {
    Created,
    Updated,
    /// The policy already matched: nothing was written.
    Unchanged,
}

/// One Graph write (or the look after a lost answer) of a deploy.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WriteAttempt {
    /// `POST …`, `PATCH …` or `GET …` (the look for the marker after a lost answer).
    pub call: String,
    /// `succeeded`, `failed`, `found` (the lost create had succeeded) or `notFound`.
    #[schema(value_type = WriteStatus)]
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub graph_request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub error: Option<String>,
}

/// How one write attempt of a deploy ended (the schema of [`WriteAttempt::status`]).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used: the attempts are written as text.
pub enum WriteStatus {
    Succeeded,
    Failed,
    /// The look after a lost answer found the policy: the create had succeeded.
    Found,
    /// The look after a lost answer found no policy: nothing was created.
    NotFound,
}

/// `PUT …/registration-protection`: what the deploy did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(sspr_api::examples::protection_applied))]
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

/// One Graph call a deploy makes, exactly as it would go out.
#[derive(Debug, Clone, Serialize, ToSchema)]
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

/// `…?dryRun=true`: what the deploy or state change would do. Nothing is written.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(sspr_api::examples::protection_change_plan))]
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
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(examples(sspr_api::examples::protection_change_plan))]
pub enum ChangeAnswer {
    Planned(Box<ProtectionChangePlan>),
    Applied(Box<ProtectionApplied>),
}

// ---------------------------------------------------------------------------------------------
// Use cases
// ---------------------------------------------------------------------------------------------

/// The plan for `options` in the tenant, with the impact on users who still have to register.
pub async fn plan(
    registry: &TenantRegistry,
    graph: &Graph,
    caller: &Caller,
    tenant_key: &str,
    options: &ProtectionOptions,
) -> Result<ProtectionPlan, ProtectionError> {
    let tenant = authorize(registry, caller, Verb::Read, tenant_key)?;
    let options = options
        .validate()
        .map_err(ProtectionError::InvalidOptions)?;
    licence::ensure_licensed(graph, tenant).await?;
    let snapshot = Snapshot::read(graph, tenant).await?;
    let prepared = Prepared::new(&options, &snapshot);
    let mut request_ids = snapshot.request_ids.clone();
    let impact = impact(
        graph,
        tenant,
        &options,
        &prepared.break_glass,
        &mut request_ids,
    )
    .await?;
    Ok(ProtectionPlan {
        tenant: tenant_ref(tenant),
        state: prepared.state,
        policy: create_body(&prepared.desired),
        blocking: prepared.refused(&options),
        findings: prepared.findings,
        break_glass: prepared.break_glass,
        existing: prepared.ours.map(|ours| ExistingPolicy {
            changes: changes(&prepared.desired, ours),
            id: ours.id.clone(),
            state: ours.state.clone(),
        }),
        impact,
        graph_request_ids: request_ids,
    })
}

/// Every policy on the registration action, graded. `break_glass_users`/`_groups` are declared
/// emergency-access accounts, besides the discovered ones.
pub async fn status(
    registry: &TenantRegistry,
    graph: &Graph,
    caller: &Caller,
    tenant_key: &str,
    break_glass_users: &[String],
    break_glass_groups: &[String],
) -> Result<ProtectionStatus, ProtectionError> {
    let tenant = authorize(registry, caller, Verb::Read, tenant_key)?;
    let users = declared_ids(break_glass_users, "breakGlassUsers")?;
    let groups = declared_ids(break_glass_groups, "breakGlassGroups")?;
    licence::ensure_licensed(graph, tenant).await?;
    let snapshot = Snapshot::read(graph, tenant).await?;
    let break_glass = BreakGlass::find(&snapshot.policies, &users, &groups, true);
    let graded = graded(&snapshot, &break_glass);
    let verdict = graded
        .iter()
        .filter(|p| p.state == "enabled")
        .map(|p| p.verdict)
        .min()
        .unwrap_or(Verdict::Fail);
    Ok(ProtectionStatus {
        tenant: tenant_ref(tenant),
        verdict,
        ours: graded.iter().find(|p| p.ours).map(|p| p.id.clone()),
        break_glass,
        policies: graded,
        graph_request_ids: snapshot.request_ids,
    })
}

/// The policy for `options` without reading any tenant (declared exclusions only).
pub fn generate_only(
    caller: &Caller,
    options: &ProtectionOptions,
) -> Result<GeneratedPolicy, ProtectionError> {
    require(caller, Verb::Read)?;
    let options = options
        .validate()
        .map_err(ProtectionError::InvalidOptions)?;
    let state = options.state.unwrap_or(ProtectionState::ReportOnly);
    let break_glass = BreakGlass::find(&[], &options.exclude_users, &options.exclude_groups, false);
    let policy = generate(&options, &break_glass.exclusions(), state);
    Ok(GeneratedPolicy {
        state,
        policy: create_body(&policy),
        findings: option_findings(&options, state, &break_glass),
    })
}

/// One deploy request.
pub struct ApplyRequest<'a> {
    pub tenant_key: &'a str,
    pub options: &'a ProtectionOptions,
    pub request_id: Option<String>,
    /// Plan only: answer what the deploy would do, write nothing.
    pub dry_run: bool,
    /// The deployed policy's ETag the caller planned against (`If-Match`).
    pub if_match: Option<&'a str>,
}

/// Creates or updates the policy with the marker so that it matches `options`; audits the
/// attempt whatever its outcome. A dry run makes every check the deploy makes and answers the
/// plan instead of writing.
///
/// An update that would change what an *enforced* policy enforces or whom it covers is refused
/// unless `force`: the caller reviews that change before it reaches users.
pub async fn apply(
    registry: &TenantRegistry,
    graph: &Graph,
    store: &Store,
    caller: &Caller,
    request: ApplyRequest<'_>,
) -> Result<ChangeAnswer, ProtectionError> {
    let tenant = authorize(registry, caller, Verb::Write, request.tenant_key)?;
    let audit = &AuditTrail::new(
        store,
        caller,
        tenant,
        "registrationProtection.apply",
        request.request_id.clone(),
    );
    let dry_run = request.dry_run;
    let options = match request.options.validate() {
        Ok(options) => options,
        Err(error) => {
            let detail = format!("{}: {}", error.field, error.detail);
            if !request.dry_run {
                audit.refused(None, None, Some(json!({})), detail).await?;
            }
            return Err(ProtectionError::InvalidOptions(error));
        }
    };
    licence::ensure_licensed(graph, tenant).await?;
    // One deploy at a time per tenant: the look for the marker must still hold when we write.
    let _guard = tenant.write_lock.lock().await;
    let snapshot = Snapshot::read(graph, tenant).await?;
    let prepared = Prepared::new(&options, &snapshot);
    let body = create_body(&prepared.desired);
    let before = prepared.ours.and_then(|p| serde_json::to_value(p).ok());
    let refuse = |reason: &str, diff: Value| {
        let reason = reason.to_owned();
        let before = before.clone();
        let body = body.clone();
        async move {
            if !dry_run {
                audit
                    .refused(before, Some(body), Some(diff), reason)
                    .await?;
            }
            Ok::<(), ProtectionError>(())
        }
    };
    if let Err(error) = check_if_match(request.if_match, prepared.ours) {
        refuse("stale If-Match", json!({})).await?;
        return Err(error);
    }
    let changes = prepared
        .ours
        .map(|ours| changes(&prepared.desired, ours))
        .unwrap_or_default();
    let diff = generate::diff(&prepared.desired, prepared.ours);
    if let Some(ours) = prepared.ours
        && ours.state == "enabled"
        && !options.force
        && generate::changes_enforcement(&changes.iter().map(String::as_str).collect::<Vec<_>>())
    {
        refuse(
            "the policy is enforced and the change was not forced",
            json!({ "changes": changes, "diff": diff }),
        )
        .await?;
        return Err(ProtectionError::EnforcedChange { changes, diff });
    }
    if prepared.refused(&options) {
        refuse(
            "the plan has errors and enforcing it was not forced",
            json!({ "findings": prepared.findings }),
        )
        .await?;
        return Err(ProtectionError::Refused {
            findings: prepared.findings,
        });
    }
    if request.dry_run {
        let (result, calls) = match prepared.ours {
            Some(_) if changes.is_empty() => (ApplyResult::Unchanged, Vec::new()),
            Some(ours) => (
                ApplyResult::Updated,
                vec![planned_call(
                    graph,
                    "PATCH",
                    &format!("{POLICIES}/{}", ours.id),
                    update_body(&prepared.desired, ours),
                )],
            ),
            None => (
                ApplyResult::Created,
                vec![planned_call(graph, "POST", POLICIES, body.clone())],
            ),
        };
        return Ok(ChangeAnswer::Planned(Box::new(ProtectionChangePlan {
            tenant: tenant_ref(tenant),
            dry_run: true,
            result,
            policy_id: prepared.ours.map(|p| p.id.clone()),
            state: prepared.state,
            changes,
            diff,
            calls,
            findings: prepared.findings,
            etag: policy_etag(prepared.ours),
        })));
    }
    let mut request_ids = snapshot.request_ids.clone();
    if let Some(ours) = prepared.ours
        && changes.is_empty()
    {
        // Already as asked: nothing is written, and the record says so.
        let audit_record_id = audit.no_change(before).await?;
        return Ok(ChangeAnswer::Applied(Box::new(ProtectionApplied {
            tenant: tenant_ref(tenant),
            result: ApplyResult::Unchanged,
            policy_id: ours.id.clone(),
            state: prepared.state,
            changes,
            diff: Vec::new(),
            etag: policy_etag(Some(ours)),
            policy: body,
            findings: prepared.findings,
            attempts: Vec::new(),
            graph_request_ids: request_ids,
            audit_record_id,
        })));
    }
    let attempt = audit
        .attempt(
            before,
            Some(body.clone()),
            Some(json!({
                "result": if prepared.ours.is_some() { ApplyResult::Updated } else { ApplyResult::Created },
                "changes": changes,
                "diff": diff,
            })),
        )
        .await?;
    let written = match prepared.ours {
        Some(existing) => update(graph, tenant, &prepared.desired, existing).await,
        None => create(graph, tenant, &prepared.desired, &body).await,
    };
    match written {
        Ok(write) => {
            request_ids.extend(
                write
                    .attempts
                    .iter()
                    .filter_map(|a| a.graph_request_id.clone()),
            );
            let audit_record_id = attempt
                .complete(Completion::new(Outcome::Succeeded).diff(
                    json!({ "result": write.result, "changes": write.changes, "diff": diff, "attempts": write.attempts }),
                ))
                .await?;
            let mut deployed = prepared.desired.clone();
            deployed.id = write.policy_id.clone();
            Ok(ChangeAnswer::Applied(Box::new(ProtectionApplied {
                tenant: tenant_ref(tenant),
                result: write.result,
                policy_id: write.policy_id,
                state: prepared.state,
                changes: write.changes,
                diff,
                etag: policy_etag(Some(&deployed)),
                policy: body,
                findings: prepared.findings,
                attempts: write.attempts,
                graph_request_ids: request_ids,
                audit_record_id,
            })))
        }
        Err(ProtectionError::WriteFailed { error, attempts }) => {
            attempt
                .complete(
                    Completion::new(Outcome::Failed)
                        .diff(json!({ "attempts": attempts }))
                        .error(error.to_string()),
                )
                .await?;
            Err(ProtectionError::WriteFailed { error, attempts })
        }
        Err(other) => {
            attempt
                .complete(Completion::new(Outcome::Failed).error(other.to_string()))
                .await?;
            Err(other)
        }
    }
}

/// One state change request: promote to enforced, or back to report-only.
pub struct StateRequest<'a> {
    pub tenant_key: &'a str,
    pub state: ProtectionState,
    /// Enforce although the deployed policy's grade has failures.
    pub force: bool,
    pub request_id: Option<String>,
    pub dry_run: bool,
    pub if_match: Option<&'a str>,
}

/// Changes only the `state` of the deployed policy (the one with the marker): its control,
/// locations, exclusions and guests stay exactly as deployed. Enforcing is refused while the
/// policy, graded as enforced, has failures, unless `force`.
pub async fn set_state(
    registry: &TenantRegistry,
    graph: &Graph,
    store: &Store,
    caller: &Caller,
    request: StateRequest<'_>,
) -> Result<ChangeAnswer, ProtectionError> {
    let tenant = authorize(registry, caller, Verb::Write, request.tenant_key)?;
    let audit = &AuditTrail::new(
        store,
        caller,
        tenant,
        "registrationProtection.state",
        request.request_id.clone(),
    );
    let dry_run = request.dry_run;
    licence::ensure_licensed(graph, tenant).await?;
    let _guard = tenant.write_lock.lock().await;
    let snapshot = Snapshot::read(graph, tenant).await?;
    let Some(ours) = snapshot.ours() else {
        return Err(ProtectionError::NotDeployed {
            tenant: tenant.primary_domain().to_owned(),
        });
    };
    let before = serde_json::to_value(ours).ok();
    let refuse = |reason: &'static str, diff: Value| {
        let before = before.clone();
        async move {
            if !dry_run {
                audit
                    .refused(before, None, Some(diff), reason.into())
                    .await?;
            }
            Ok::<(), ProtectionError>(())
        }
    };
    if let Err(error) = check_if_match(request.if_match, Some(ours)) {
        refuse("stale If-Match", json!({})).await?;
        return Err(error);
    }
    let mut desired = ours.clone();
    desired.state = request.state.as_graph().to_owned();
    let break_glass = BreakGlass::find(&snapshot.policies, &[], &[], true);
    if request.state == ProtectionState::Enabled && !request.force {
        let grade = grade(&desired, &snapshot, &break_glass);
        if grade.verdict == Verdict::Fail {
            let reasons: Vec<Reason> = grade
                .reasons
                .into_iter()
                .filter(|r| r.status == lint::ReasonStatus::Failure)
                .collect();
            refuse(
                "the deployed policy has failures and enforcing it was not forced",
                json!({ "reasons": reasons }),
            )
            .await?;
            return Err(ProtectionError::GradeFails { reasons });
        }
    }
    let diff = generate::diff(&desired, Some(ours));
    let unchanged = ours.state == desired.state;
    let body = json!({ "state": desired.state });
    let path = format!("{POLICIES}/{}", ours.id);
    if request.dry_run {
        return Ok(ChangeAnswer::Planned(Box::new(ProtectionChangePlan {
            tenant: tenant_ref(tenant),
            dry_run: true,
            result: if unchanged {
                ApplyResult::Unchanged
            } else {
                ApplyResult::Updated
            },
            policy_id: Some(ours.id.clone()),
            state: request.state,
            changes: if unchanged {
                Vec::new()
            } else {
                vec!["state".into()]
            },
            diff,
            calls: if unchanged {
                Vec::new()
            } else {
                vec![planned_call(graph, "PATCH", &path, body)]
            },
            findings: Vec::new(),
            etag: policy_etag(Some(ours)),
        })));
    }
    let mut request_ids = snapshot.request_ids.clone();
    let applied = |result, changes: Vec<String>, attempts, request_ids, audit_record_id| {
        ChangeAnswer::Applied(Box::new(ProtectionApplied {
            tenant: tenant_ref(tenant),
            result,
            policy_id: ours.id.clone(),
            state: request.state,
            changes,
            diff: diff.clone(),
            etag: policy_etag(Some(&desired)),
            policy: create_body(&desired),
            findings: Vec::new(),
            attempts,
            graph_request_ids: request_ids,
            audit_record_id,
        }))
    };
    if unchanged {
        let audit_record_id = audit.no_change(before).await?;
        return Ok(applied(
            ApplyResult::Unchanged,
            Vec::new(),
            Vec::new(),
            request_ids,
            audit_record_id,
        ));
    }
    let attempt = audit
        .attempt(
            before,
            serde_json::to_value(&desired).ok(),
            Some(json!({ "result": ApplyResult::Updated, "changes": ["state"], "diff": diff })),
        )
        .await?;
    let call = format!("PATCH {path}");
    let attempts = match ca::update_policy(graph, tenant, &ours.id, &body).await {
        Ok(request_id) => {
            request_ids.extend(request_id.clone());
            vec![attempt_of(call, "succeeded", request_id, None)]
        }
        Err(error) => {
            let attempts = vec![attempt_of(call, "failed", error.request_id(), Some(&error))];
            attempt
                .complete(
                    Completion::new(Outcome::Failed)
                        .diff(json!({ "attempts": attempts }))
                        .error(error.to_string()),
                )
                .await?;
            return Err(ProtectionError::WriteFailed { error, attempts });
        }
    };
    let audit_record_id = attempt
        .complete(Completion::new(Outcome::Succeeded).diff(
            json!({ "result": ApplyResult::Updated, "changes": ["state"], "diff": diff, "attempts": attempts }),
        ))
        .await?;
    Ok(applied(
        ApplyResult::Updated,
        vec!["state".into()],
        attempts,
        request_ids,
        audit_record_id,
    ))
}

/// The version of the deployed policy (or of "none deployed") that `If-Match` names.
fn policy_etag(ours: Option<&CaPolicy>) -> String {
    super::strong_etag(&ours)
}

/// `If-Match`, when given, must name the deployed policy's current version (or be `*` while a
/// policy is deployed).
fn check_if_match(if_match: Option<&str>, ours: Option<&CaPolicy>) -> Result<(), ProtectionError> {
    let Some(if_match) = if_match else {
        return Ok(());
    };
    let current = policy_etag(ours);
    let matches = if_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == current || (tag == "*" && ours.is_some()));
    if matches {
        Ok(())
    } else {
        Err(OpsError::PreconditionFailed { current }.into())
    }
}

fn planned_call(graph: &Graph, method: &str, path: &str, body: Value) -> PlannedCall {
    PlannedCall {
        method: method.to_owned(),
        path: graph.path_of(path),
        body,
    }
}

// ---------------------------------------------------------------------------------------------
// Reading and preparing
// ---------------------------------------------------------------------------------------------

/// The tenant's CA policies and named locations, read one after the other.
struct Snapshot {
    policies: Vec<CaPolicy>,
    named_locations: Vec<NamedLocation>,
    request_ids: Vec<String>,
}

impl Snapshot {
    async fn read(graph: &Graph, tenant: &ManagedTenant) -> Result<Snapshot, DirectoryError> {
        let (policies, mut request_ids) = ca::list_policies(graph, tenant).await?;
        let (named_locations, more) = ca::list_named_locations(graph, tenant).await?;
        request_ids.extend(more);
        Ok(Snapshot {
            policies,
            named_locations,
            request_ids,
        })
    }

    /// The policy with the marker: the oldest when there are several (Graph lists in creation
    /// order).
    fn ours(&self) -> Option<&CaPolicy> {
        self.policies.iter().find(|p| p.is_ours())
    }
}

/// Everything a plan and a deploy derive from the options and the snapshot.
struct Prepared<'a> {
    break_glass: BreakGlass,
    ours: Option<&'a CaPolicy>,
    state: ProtectionState,
    desired: CaPolicy,
    findings: Vec<PlanFinding>,
}

impl<'a> Prepared<'a> {
    fn new(options: &ValidOptions, snapshot: &'a Snapshot) -> Prepared<'a> {
        let break_glass = BreakGlass::find(
            &snapshot.policies,
            &options.exclude_users,
            &options.exclude_groups,
            options.discover_break_glass,
        );
        let ours = snapshot.ours();
        let state = options.state.unwrap_or_else(|| match ours {
            Some(p) if p.state == "enabled" => ProtectionState::Enabled,
            _ => ProtectionState::ReportOnly,
        });
        let desired = generate(options, &break_glass.exclusions(), state);
        let existing: Vec<(CaPolicy, Grade)> = snapshot
            .policies
            .iter()
            .filter(|p| p.targets_registration())
            .map(|p| (p.clone(), grade(p, snapshot, &break_glass)))
            .collect();
        let findings = plan_findings(&PlanFacts {
            options,
            state,
            named_locations: &snapshot.named_locations,
            break_glass: &break_glass,
            existing: &existing,
        });
        Prepared {
            break_glass,
            ours,
            state,
            desired,
            findings,
        }
    }

    /// Enforcing with errors needs `force`; report-only enforces nothing and always goes.
    fn refused(&self, options: &ValidOptions) -> bool {
        self.state == ProtectionState::Enabled && has_errors(&self.findings) && !options.force
    }
}

fn grade(policy: &CaPolicy, snapshot: &Snapshot, break_glass: &BreakGlass) -> Grade {
    lint::grade(
        policy,
        &lint::Tenant {
            named_locations: &snapshot.named_locations,
            break_glass,
        },
    )
}

fn graded(snapshot: &Snapshot, break_glass: &BreakGlass) -> Vec<GradedPolicy> {
    snapshot
        .policies
        .iter()
        .filter(|p| p.targets_registration())
        .map(|p| {
            let grade = grade(p, snapshot, break_glass);
            GradedPolicy {
                id: p.id.clone(),
                display_name: p.display_name.clone(),
                state: p.state.clone(),
                ours: p.is_ours(),
                verdict: grade.verdict,
                reasons: grade.reasons,
                policy: p.clone(),
            }
        })
        .collect()
}

fn changes(desired: &CaPolicy, existing: &CaPolicy) -> Vec<String> {
    differences(desired, existing)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

fn declared_ids(given: &[String], field: &str) -> Result<Vec<String>, ProtectionError> {
    given
        .iter()
        .enumerate()
        .map(|(index, id)| {
            guid(id.trim()).ok_or_else(|| {
                ProtectionError::InvalidOptions(OptionError {
                    field: format!("{field}[{index}]"),
                    detail: format!("'{}' is not an object id (a GUID).", id.trim()),
                })
            })
        })
        .collect()
}

/// The users who must register before the policy applies to them (see
/// [`crate::domain::protection::impact`] for the definition), in one pass over the report.
async fn impact(
    graph: &Graph,
    tenant: &ManagedTenant,
    options: &ValidOptions,
    break_glass: &BreakGlass,
    request_ids: &mut Vec<String>,
) -> Result<RegistrationImpact, ProtectionError> {
    let exclusions: Exclusions = break_glass.exclusions();
    let mut excluded: HashSet<String> = exclusions.users.iter().cloned().collect();
    for group in &exclusions.groups {
        match ca::group_member_ids(graph, tenant, group).await {
            Ok((members, ids)) => {
                excluded.extend(members);
                request_ids.extend(ids);
            }
            // A group the caller named that the tenant does not have is the caller's mistake,
            // not Graph's; one only other policies name (deleted since) excludes nobody.
            Err(DirectoryError::Upstream { status: 404, .. }) => {
                if let Some(index) = options
                    .exclude_groups
                    .iter()
                    .position(|g| g.eq_ignore_ascii_case(group))
                {
                    return Err(ProtectionError::InvalidOptions(OptionError {
                        field: format!("/excludeGroups/{index}"),
                        detail: format!("Tenant {} has no group {group}.", tenant.primary_domain()),
                    }));
                }
            }
            Err(error) => return Err(error.into()),
        }
    }
    let mut counter = ImpactCounter::new(excluded, options.guests == GuestHandling::Include);
    let mut rows = pin!(report::registrations(graph, tenant, None));
    while let Some(row) = rows.next().await {
        let row = row.map_err(|error| licence::from_report_error(tenant, error))?;
        counter.add(UserFacts {
            id: &row.id,
            user_principal_name: &row.user_principal_name,
            is_guest: row.user_type.eq_ignore_ascii_case("guest"),
            is_sspr_enabled: row.is_sspr_enabled,
            is_sspr_registered: row.is_sspr_registered,
            is_mfa_registered: row.is_mfa_registered,
        });
    }
    Ok(counter.finish())
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// What a write did.
struct Written {
    result: ApplyResult,
    policy_id: String,
    changes: Vec<String>,
    attempts: Vec<WriteAttempt>,
}

/// Creates tried before giving up; between two, the policies are listed again.
const CREATE_ATTEMPTS: usize = 3;

async fn update(
    graph: &Graph,
    tenant: &ManagedTenant,
    desired: &CaPolicy,
    existing: &CaPolicy,
) -> Result<Written, ProtectionError> {
    let changed = changes(desired, existing);
    if changed.is_empty() {
        return Ok(Written {
            result: ApplyResult::Unchanged,
            policy_id: existing.id.clone(),
            changes: changed,
            attempts: Vec::new(),
        });
    }
    let call = format!("PATCH {POLICIES}/{}", existing.id);
    match ca::update_policy(graph, tenant, &existing.id, &update_body(desired, existing)).await {
        Ok(request_id) => Ok(Written {
            result: ApplyResult::Updated,
            policy_id: existing.id.clone(),
            changes: changed,
            attempts: vec![attempt_of(call, "succeeded", request_id, None)],
        }),
        Err(error) => {
            let attempts = vec![attempt_of(call, "failed", error.request_id(), Some(&error))];
            Err(ProtectionError::WriteFailed { error, attempts })
        }
    }
}

/// POSTs the policy. When an answer is lost (timeout, broken or cut response, 5xx) the create
/// may have happened: the policies are listed again, and a policy with the marker is taken as
/// the one created (and updated if it differs). Only when none is found is the POST repeated.
async fn create(
    graph: &Graph,
    tenant: &ManagedTenant,
    desired: &CaPolicy,
    body: &Value,
) -> Result<Written, ProtectionError> {
    let call = format!("POST {POLICIES}");
    let mut attempts = Vec::new();
    let mut last_error = None;
    for _ in 0..CREATE_ATTEMPTS {
        let error = match ca::create_policy(graph, tenant, body).await {
            Ok((id, request_id)) => {
                attempts.push(attempt_of(call, "succeeded", request_id, None));
                return Ok(Written {
                    result: ApplyResult::Created,
                    policy_id: id,
                    changes: Vec::new(),
                    attempts,
                });
            }
            Err(error) => error,
        };
        attempts.push(attempt_of(
            call.clone(),
            "failed",
            error.request_id(),
            Some(&error),
        ));
        if !may_have_run(&error) {
            return Err(ProtectionError::WriteFailed { error, attempts });
        }
        tracing::warn!(tenant = %tenant.id, %error, "create of the registration-protection policy lost its answer; looking for it");
        let found = match ca::list_policies(graph, tenant).await {
            Ok((policies, ids)) => {
                let found = policies.into_iter().find(CaPolicy::is_ours);
                attempts.push(attempt_of(
                    format!("GET {POLICIES}"),
                    if found.is_some() { "found" } else { "notFound" },
                    ids.last().cloned(),
                    None,
                ));
                found
            }
            Err(list_error) => {
                attempts.push(attempt_of(
                    format!("GET {POLICIES}"),
                    "failed",
                    list_error.request_id(),
                    Some(&list_error),
                ));
                // Without a look, another POST could make a duplicate: stop here.
                return Err(ProtectionError::WriteFailed { error, attempts });
            }
        };
        if let Some(existing) = found {
            // Someone may have changed it since; make it match what was asked.
            match update(graph, tenant, desired, &existing).await {
                Ok(mut written) => attempts.append(&mut written.attempts),
                Err(ProtectionError::WriteFailed {
                    error,
                    attempts: mut more,
                }) => {
                    attempts.append(&mut more);
                    return Err(ProtectionError::WriteFailed { error, attempts });
                }
                Err(other) => return Err(other),
            }
            return Ok(Written {
                result: ApplyResult::Created,
                policy_id: existing.id,
                changes: Vec::new(),
                attempts,
            });
        }
        last_error = Some(error);
    }
    let error = last_error.unwrap_or_else(|| DirectoryError::Internal("no create attempt".into()));
    Err(ProtectionError::WriteFailed { error, attempts })
}

/// A failure after which the request may have been carried out.
fn may_have_run(error: &DirectoryError) -> bool {
    match error {
        DirectoryError::Unreachable { .. } => true,
        DirectoryError::Upstream { status, code, .. } => {
            *status >= 500 || code == "unreadableResponse"
        }
        _ => false,
    }
}

fn attempt_of(
    call: String,
    status: &str,
    graph_request_id: Option<String>,
    error: Option<&DirectoryError>,
) -> WriteAttempt {
    WriteAttempt {
        call,
        status: status.to_owned(),
        graph_request_id,
        error: error.map(ToString::to_string),
    }
}
