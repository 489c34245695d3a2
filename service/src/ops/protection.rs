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
use std::sync::Arc;

use crate::directory::write_lock::WriteGuard;
use futures::StreamExt;
use serde_json::{Value, json};
use sspr_api::protection::{
    ApplyResult, ChangeAnswer, ExistingPolicy, GeneratedPolicy, GradedPolicy, PolicyChange,
    ProtectionApplied, ProtectionChangePlan, ProtectionPlan, ProtectionStatus, WriteAttempt,
    WriteStatus,
};

use crate::auth::{Caller, Verb};
use crate::capabilities::app_permissions::AppPermissions;
use crate::capabilities::audit_log::{AuditLog, Completion, Outcome};
use crate::capabilities::conditional_access::{ConditionalAccess, PolicyWrite, Written};
use crate::capabilities::licences::Licences;
use crate::capabilities::registration_report::RegistrationReport;
use crate::directory::DirectoryError;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};
use crate::domain::protection::discovery::{BreakGlass, BreakGlassDiscovery};
use crate::domain::protection::findings::{
    PlanFacts, PlanFinding, has_errors, option_findings, plan_findings,
};
use crate::domain::protection::generate::{self, Exclusions, PolicyPart, differences, generate};
use crate::domain::protection::impact::{ImpactCounter, RegistrationImpact, UserFacts};
use crate::domain::protection::lint::{self, Grade, Reason, Verdict};
use crate::domain::protection::{
    CaPolicy, GuestHandling, NamedLocation, OptionError, PolicyFacts, PolicyState,
    ProtectionOptions, ProtectionState, ValidOptions, guid,
};

use super::audited::AuditTrail;
use super::{OpsError, authorize, licence, require, require_feature, tenant_ref};
use sspr_api::tenants::Feature;

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

// ---------------------------------------------------------------------------------------------
// Use cases
// ---------------------------------------------------------------------------------------------

/// What the protection use cases work with: the tenants, the capabilities they read and write
/// through, and the audit log the writes are recorded in.
#[derive(Clone, Copy)]
pub struct Protection<'a> {
    pub tenants: &'a TenantRegistry,
    pub conditional_access: &'a dyn ConditionalAccess,
    pub registration_report: &'a dyn RegistrationReport,
    pub licences: &'a dyn Licences,
    pub permissions: &'a dyn AppPermissions,
    pub audit: &'a Arc<dyn AuditLog>,
}

/// What every write request names: the tenant, the request, plan only or not, the version.
pub struct WriteTarget<'a> {
    pub tenant_key: &'a str,
    pub request_id: Option<String>,
    /// Plan only: answer what the write would do, write nothing.
    pub dry_run: bool,
    /// The deployed policy's ETag the caller planned against (`If-Match`).
    pub if_match: Option<&'a str>,
}

/// One deploy request.
pub struct ApplyRequest<'a> {
    pub target: WriteTarget<'a>,
    pub options: &'a ProtectionOptions,
}

/// One state change request: promote to enforced, or back to report-only.
pub struct StateRequest<'a> {
    pub target: WriteTarget<'a>,
    pub state: ProtectionState,
    /// Enforce although the deployed policy's grade has failures.
    pub force: bool,
}

impl<'a> Protection<'a> {
    /// The plan for `options` in the tenant, with the impact on users who still have to register.
    pub async fn plan(
        &self,
        caller: &Caller,
        tenant_key: &str,
        options: &ProtectionOptions,
    ) -> Result<ProtectionPlan, ProtectionError> {
        let tenant = &authorize(self.tenants, caller, Verb::Read, tenant_key)?;
        let options = options
            .validate()
            .map_err(ProtectionError::InvalidOptions)?;
        licence::ensure_licensed(self.licences, tenant).await?;
        let snapshot = CaSnapshot::read(self.conditional_access, tenant).await?;
        let prepared = Prepared::new(&options, &snapshot);
        let mut request_ids = snapshot.request_ids.clone();
        let impact = self
            .impact(tenant, &options, &prepared.break_glass, &mut request_ids)
            .await?;
        Ok(ProtectionPlan {
            tenant: tenant_ref(tenant),
            state: prepared.state,
            policy: self.conditional_access.policy_json(&prepared.desired),
            blocking: prepared.refused(&options),
            findings: prepared.findings,
            break_glass: prepared.break_glass,
            existing: prepared.ours.map(|ours| ExistingPolicy {
                changes: self.changes(&prepared.desired, ours),
                id: ours.id.clone(),
                state: ours.state,
            }),
            impact,
            graph_request_ids: request_ids,
        })
    }

    /// Every policy on the registration action, graded. `break_glass_users`/`_groups` are
    /// declared emergency-access accounts, besides the discovered ones.
    pub async fn status(
        &self,
        caller: &Caller,
        tenant_key: &str,
        break_glass_users: &[String],
        break_glass_groups: &[String],
    ) -> Result<ProtectionStatus, ProtectionError> {
        let tenant = &authorize(self.tenants, caller, Verb::Read, tenant_key)?;
        let users = declared_ids(break_glass_users, "breakGlassUsers")?;
        let groups = declared_ids(break_glass_groups, "breakGlassGroups")?;
        licence::ensure_licensed(self.licences, tenant).await?;
        let snapshot = CaSnapshot::read(self.conditional_access, tenant).await?;
        let break_glass = BreakGlass::find(&snapshot.policies, &users, &groups, true);
        let graded = graded(&snapshot, &break_glass);
        let verdict = graded
            .iter()
            .filter(|p| p.state == PolicyState::Enabled)
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
    pub fn generate(
        &self,
        caller: &Caller,
        options: &ProtectionOptions,
    ) -> Result<GeneratedPolicy, ProtectionError> {
        require(caller, Verb::Read)?;
        let options = options
            .validate()
            .map_err(ProtectionError::InvalidOptions)?;
        let state = options.state.unwrap_or(ProtectionState::ReportOnly);
        let break_glass =
            BreakGlass::find(&[], &options.exclude_users, &options.exclude_groups, false);
        let policy = generate(&options, &break_glass.exclusions(), state);
        Ok(GeneratedPolicy {
            state,
            policy: self.conditional_access.policy_json(&policy),
            findings: option_findings(&options, state, &break_glass),
        })
    }

    /// Creates or updates the policy with the marker so that it matches `options`; audits the
    /// attempt whatever its outcome. A dry run makes every check the deploy makes and answers
    /// the plan instead of writing.
    ///
    /// An update that would change what an *enforced* policy enforces or whom it covers is
    /// refused unless `force`: the caller reviews that change before it reaches users.
    pub async fn apply(
        &self,
        caller: &Caller,
        request: ApplyRequest<'_>,
    ) -> Result<ChangeAnswer, ProtectionError> {
        let ca = self.conditional_access;
        let (tenant, audit) = self
            .writer(caller, &request.target, "registrationProtection.apply")
            .await?;
        let tenant = &*tenant;
        let options = match request.options.validate() {
            Ok(options) => options,
            Err(error) => {
                let detail = format!("{}: {}", error.field, error.detail);
                audit.refuse(None, None, json!({}), detail).await?;
                return Err(ProtectionError::InvalidOptions(error));
            }
        };
        let (_guard, snapshot) = self.read_for_write(tenant).await?;
        let prepared = Prepared::new(&options, &snapshot);
        let write = match prepared.ours {
            Some(existing) => PolicyWrite::Update {
                desired: &prepared.desired,
                existing,
            },
            None => PolicyWrite::Create(&prepared.desired),
        };
        let body = ca.policy_json(&prepared.desired);
        let before = prepared.ours.and_then(json_of);
        let refuse = |reason: &str, diff: Value| {
            audit.refuse(before.clone(), Some(body.clone()), diff, reason.to_owned())
        };
        if let Err(error) = check_if_match(request.target.if_match, prepared.ours) {
            refuse("stale If-Match", json!({})).await?;
            return Err(error);
        }
        let parts = prepared
            .ours
            .map(|ours| differences(&prepared.desired, ours))
            .unwrap_or_default();
        let changes = ca.part_names(&parts);
        let diff = ca.diff(write);
        if let Some(ours) = prepared.ours
            && ours.state == PolicyState::Enabled
            && !options.force
            && generate::changes_enforcement(&parts)
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
        let result = match prepared.ours {
            Some(_) if changes.is_empty() => ApplyResult::Unchanged,
            Some(_) => ApplyResult::Updated,
            None => ApplyResult::Created,
        };
        if request.target.dry_run {
            return Ok(ChangeAnswer::Planned(Box::new(ProtectionChangePlan {
                tenant: tenant_ref(tenant),
                dry_run: true,
                result,
                policy_id: prepared.ours.map(|p| p.id.clone()),
                state: prepared.state,
                changes,
                diff,
                calls: if result == ApplyResult::Unchanged {
                    Vec::new()
                } else {
                    vec![ca.planned_call(write)]
                },
                findings: prepared.findings,
                etag: policy_etag(prepared.ours),
            })));
        }
        let mut request_ids = snapshot.request_ids.clone();
        if let Some(ours) = prepared.ours
            && changes.is_empty()
        {
            // Already as asked: nothing is written, and the record says so.
            let audit_record_id = audit.trail.no_change(before).await?;
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
            .trail
            .attempt(
                before,
                Some(body.clone()),
                Some(json!({ "result": result, "changes": changes, "diff": diff })),
            )
            .await?;
        let written = match prepared.ours {
            Some(existing) => self.update(tenant, &prepared.desired, existing).await,
            None => self.create(tenant, &prepared.desired).await,
        };
        let write = match written {
            Ok(write) => write,
            Err(error) => return Err(failed(attempt, error).await?),
        };
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

    /// Changes only the `state` of the deployed policy (the one with the marker): its control,
    /// locations, exclusions and guests stay exactly as deployed. Enforcing is refused while the
    /// policy, graded as enforced, has failures, unless `force`.
    pub async fn set_state(
        &self,
        caller: &Caller,
        request: StateRequest<'_>,
    ) -> Result<ChangeAnswer, ProtectionError> {
        let ca = self.conditional_access;
        let (tenant, audit) = self
            .writer(caller, &request.target, "registrationProtection.state")
            .await?;
        let tenant = &*tenant;
        let (_guard, snapshot) = self.read_for_write(tenant).await?;
        let Some(ours) = snapshot.ours() else {
            return Err(ProtectionError::NotDeployed {
                tenant: tenant.primary_domain().to_owned(),
            });
        };
        let before = json_of(ours);
        let refuse =
            |reason: &str, diff: Value| audit.refuse(before.clone(), None, diff, reason.to_owned());
        if let Err(error) = check_if_match(request.target.if_match, Some(ours)) {
            refuse("stale If-Match", json!({})).await?;
            return Err(error);
        }
        let mut desired = ours.clone();
        desired.state = request.state.into();
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
        let write = PolicyWrite::State {
            policy: ours,
            state: desired.state,
        };
        let diff = ca.diff(write);
        let unchanged = ours.state == desired.state;
        let (result, changes) = if unchanged {
            (ApplyResult::Unchanged, Vec::new())
        } else {
            (ApplyResult::Updated, ca.part_names(&[PolicyPart::State]))
        };
        if request.target.dry_run {
            return Ok(ChangeAnswer::Planned(Box::new(ProtectionChangePlan {
                tenant: tenant_ref(tenant),
                dry_run: true,
                result,
                policy_id: Some(ours.id.clone()),
                state: request.state,
                calls: if unchanged {
                    Vec::new()
                } else {
                    vec![ca.planned_call(write)]
                },
                changes,
                diff,
                findings: Vec::new(),
                etag: policy_etag(Some(ours)),
            })));
        }
        let mut request_ids = snapshot.request_ids.clone();
        let applied = |attempts, request_ids, audit_record_id| {
            ChangeAnswer::Applied(Box::new(ProtectionApplied {
                tenant: tenant_ref(tenant),
                result,
                policy_id: ours.id.clone(),
                state: request.state,
                changes: changes.clone(),
                diff: diff.clone(),
                etag: policy_etag(Some(&desired)),
                policy: ca.policy_json(&desired),
                findings: Vec::new(),
                attempts,
                graph_request_ids: request_ids,
                audit_record_id,
            }))
        };
        if unchanged {
            let audit_record_id = audit.trail.no_change(before).await?;
            return Ok(applied(Vec::new(), request_ids, audit_record_id));
        }
        let attempt = audit
            .trail
            .attempt(
                before,
                json_of(&desired),
                Some(json!({ "result": result, "changes": changes, "diff": diff })),
            )
            .await?;
        let attempts = match self.write_once(tenant, write).await {
            Ok((written, attempt)) => {
                request_ids.extend(written.request_id);
                vec![attempt]
            }
            Err(failure) => return Err(failed(attempt, failure).await?),
        };
        let audit_record_id = attempt
            .complete(Completion::new(Outcome::Succeeded).diff(
                json!({ "result": result, "changes": changes, "diff": diff, "attempts": attempts }),
            ))
            .await?;
        Ok(applied(attempts, request_ids, audit_record_id))
    }

    /// The parts (Graph property names) an update of `existing` to `desired` changes.
    fn changes(&self, desired: &CaPolicy, existing: &CaPolicy) -> Vec<String> {
        let parts = differences(desired, existing);
        self.conditional_access.part_names(&parts)
    }

    /// The start of every write: the caller may write to the tenant, the tenant granted the app
    /// Conditional Access (checked before anything is read or written); the request's audit
    /// trail.
    async fn writer(
        &self,
        caller: &'a Caller,
        target: &WriteTarget<'_>,
        operation: &'static str,
    ) -> Result<(Arc<ManagedTenant>, Audit<'a>), ProtectionError> {
        let tenant = authorize(self.tenants, caller, Verb::Write, target.tenant_key)?;
        require_feature(self.permissions, &tenant, Feature::ConditionalAccess).await?;
        let request_id = target.request_id.clone();
        let trail = AuditTrail::to(self.audit.clone(), caller, &tenant, operation, request_id);
        let dry_run = target.dry_run;
        Ok((tenant, Audit { trail, dry_run }))
    }

    /// The licence gate, then the tenant's write lock and the snapshot read under it: one write
    /// at a time per tenant, so the look for the marker still holds when we write.
    async fn read_for_write<'t>(
        &self,
        tenant: &'t ManagedTenant,
    ) -> Result<(WriteGuard<'t>, CaSnapshot), ProtectionError> {
        licence::ensure_licensed(self.licences, tenant).await?;
        let guard = tenant
            .write_lock
            .lock()
            .await
            .map_err(|e| ProtectionError::Ops(OpsError::Store(e)))?;
        let snapshot = CaSnapshot::read(self.conditional_access, tenant).await?;
        Ok((guard, snapshot))
    }
}

/// The audit trail of one write request; a dry run records nothing.
struct Audit<'a> {
    trail: AuditTrail<'a>,
    dry_run: bool,
}

impl Audit<'_> {
    /// Records a refusal made before any write (none for a dry run).
    async fn refuse(
        &self,
        before: Option<Value>,
        after: Option<Value>,
        diff: Value,
        reason: String,
    ) -> Result<(), ProtectionError> {
        if !self.dry_run {
            self.trail
                .refused(before, after, Some(diff), reason)
                .await?;
        }
        Ok(())
    }
}

/// Completes `attempt` as failed with `error`; the error to answer.
async fn failed(
    attempt: super::audited::OpenAttempt,
    error: ProtectionError,
) -> Result<ProtectionError, ProtectionError> {
    let completion = match &error {
        ProtectionError::WriteFailed { error, attempts } => Completion::new(Outcome::Failed)
            .diff(json!({ "attempts": attempts }))
            .error(error.to_string()),
        other => Completion::new(Outcome::Failed).error(other.to_string()),
    };
    attempt.complete(completion).await?;
    Ok(error)
}

/// `value` as JSON for an audit record.
fn json_of(policy: &CaPolicy) -> Option<Value> {
    serde_json::to_value(policy).ok()
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

// ---------------------------------------------------------------------------------------------
// Reading and preparing
// ---------------------------------------------------------------------------------------------

/// The tenant's CA policies and named locations, read one after the other.
struct CaSnapshot {
    policies: Vec<CaPolicy>,
    named_locations: Vec<NamedLocation>,
    request_ids: Vec<String>,
}

impl CaSnapshot {
    async fn read(
        ca: &dyn ConditionalAccess,
        tenant: &ManagedTenant,
    ) -> Result<CaSnapshot, DirectoryError> {
        let policies = ca.policies(tenant).await?;
        let locations = ca.named_locations(tenant).await?;
        let mut request_ids = policies.request_ids;
        request_ids.extend(locations.request_ids);
        Ok(CaSnapshot {
            policies: policies.items,
            named_locations: locations.items,
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
    fn new(options: &ValidOptions, snapshot: &'a CaSnapshot) -> Prepared<'a> {
        let break_glass = BreakGlass::find(
            &snapshot.policies,
            &options.exclude_users,
            &options.exclude_groups,
            options.discover_break_glass,
        );
        let ours = snapshot.ours();
        let state = options.state.unwrap_or_else(|| match ours {
            Some(p) if p.state == PolicyState::Enabled => ProtectionState::Enabled,
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

fn grade(policy: &CaPolicy, snapshot: &CaSnapshot, break_glass: &BreakGlass) -> Grade {
    lint::grade(
        policy,
        &lint::Tenant {
            named_locations: &snapshot.named_locations,
            break_glass,
        },
    )
}

fn graded(snapshot: &CaSnapshot, break_glass: &BreakGlass) -> Vec<GradedPolicy> {
    snapshot
        .policies
        .iter()
        .filter(|p| p.targets_registration())
        .map(|p| {
            let grade = grade(p, snapshot, break_glass);
            GradedPolicy {
                id: p.id.clone(),
                display_name: p.display_name.clone(),
                state: p.state,
                ours: p.is_ours(),
                verdict: grade.verdict,
                reasons: grade.reasons,
                policy: p.clone(),
            }
        })
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

impl Protection<'_> {
    /// The users who must register before the policy applies to them (see
    /// [`crate::domain::protection::impact`] for the definition), in one pass over the report.
    async fn impact(
        &self,
        tenant: &ManagedTenant,
        options: &ValidOptions,
        break_glass: &BreakGlass,
        request_ids: &mut Vec<String>,
    ) -> Result<RegistrationImpact, ProtectionError> {
        let exclusions: Exclusions = break_glass.exclusions();
        let mut excluded: HashSet<String> = exclusions.users.iter().cloned().collect();
        for group in &exclusions.groups {
            match self
                .conditional_access
                .group_member_ids(tenant, group)
                .await
            {
                Ok(members) => {
                    excluded.extend(members.items);
                    request_ids.extend(members.request_ids);
                }
                // A group the caller named that the tenant does not have is the caller's
                // mistake, not Graph's; one only other policies name (deleted since) excludes
                // nobody.
                Err(DirectoryError::Upstream { status: 404, .. }) => {
                    if let Some(index) = options
                        .exclude_groups
                        .iter()
                        .position(|g| g.eq_ignore_ascii_case(group))
                    {
                        return Err(ProtectionError::InvalidOptions(OptionError {
                            field: format!("/excludeGroups/{index}"),
                            detail: format!(
                                "Tenant {} has no group {group}.",
                                tenant.primary_domain()
                            ),
                        }));
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        let mut counter = ImpactCounter::new(excluded, options.guests == GuestHandling::Include);
        let mut rows = pin!(self.registration_report.registrations(tenant));
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
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// What a deploy's writes did.
struct Deployed {
    result: ApplyResult,
    policy_id: String,
    changes: Vec<String>,
    attempts: Vec<WriteAttempt>,
}

/// Creates tried before giving up; between two, the policies are listed again.
const CREATE_ATTEMPTS: usize = 3;

impl Protection<'_> {
    async fn update(
        &self,
        tenant: &ManagedTenant,
        desired: &CaPolicy,
        existing: &CaPolicy,
    ) -> Result<Deployed, ProtectionError> {
        let changed = self.changes(desired, existing);
        if changed.is_empty() {
            return Ok(Deployed {
                result: ApplyResult::Unchanged,
                policy_id: existing.id.clone(),
                changes: changed,
                attempts: Vec::new(),
            });
        }
        let write = PolicyWrite::Update { desired, existing };
        let (written, attempt) = self.write_once(tenant, write).await?;
        Ok(Deployed {
            result: ApplyResult::Updated,
            policy_id: written.policy_id,
            changes: changed,
            attempts: vec![attempt],
        })
    }

    /// Makes `write` once; what it did and its attempt, or `WriteFailed` with that attempt.
    async fn write_once(
        &self,
        tenant: &ManagedTenant,
        write: PolicyWrite<'_>,
    ) -> Result<(Written, WriteAttempt), ProtectionError> {
        let call = self.conditional_access.write_text(write);
        match self.conditional_access.write(tenant, write).await {
            Ok(written) => {
                let request_id = written.request_id.clone();
                let attempt = attempt_of(call, WriteStatus::Succeeded, request_id, None);
                Ok((written, attempt))
            }
            Err(error) => {
                let attempt =
                    attempt_of(call, WriteStatus::Failed, error.request_id(), Some(&error));
                Err(ProtectionError::WriteFailed {
                    error,
                    attempts: vec![attempt],
                })
            }
        }
    }

    /// Creates the policy. When an answer is lost (timeout, broken or cut response, 5xx) the
    /// create may have happened: the policies are listed again, and a policy with the marker is
    /// taken as the one created (and updated if it differs). Only when none is found is the
    /// create repeated.
    async fn create(
        &self,
        tenant: &ManagedTenant,
        desired: &CaPolicy,
    ) -> Result<Deployed, ProtectionError> {
        let ca = self.conditional_access;
        let write = PolicyWrite::Create(desired);
        let call = ca.write_text(write);
        let mut attempts = Vec::new();
        let mut last_error = None;
        for _ in 0..CREATE_ATTEMPTS {
            let error = match ca.write(tenant, write).await {
                Ok(written) => {
                    attempts.push(attempt_of(
                        call,
                        WriteStatus::Succeeded,
                        written.request_id,
                        None,
                    ));
                    return Ok(Deployed {
                        result: ApplyResult::Created,
                        policy_id: written.policy_id,
                        changes: Vec::new(),
                        attempts,
                    });
                }
                Err(error) => error,
            };
            attempts.push(attempt_of(
                call.clone(),
                WriteStatus::Failed,
                error.request_id(),
                Some(&error),
            ));
            if !may_have_run(&error) {
                return Err(ProtectionError::WriteFailed { error, attempts });
            }
            tracing::warn!(tenant = %tenant.id, %error, "create of the registration-protection policy lost its answer; looking for it");
            let found = match ca.policies(tenant).await {
                Ok(listed) => {
                    let found = listed.items.into_iter().find(CaPolicy::is_ours);
                    attempts.push(attempt_of(
                        ca.listing_text(),
                        if found.is_some() {
                            WriteStatus::Found
                        } else {
                            WriteStatus::NotFound
                        },
                        listed.request_ids.last().cloned(),
                        None,
                    ));
                    found
                }
                Err(list_error) => {
                    attempts.push(attempt_of(
                        ca.listing_text(),
                        WriteStatus::Failed,
                        list_error.request_id(),
                        Some(&list_error),
                    ));
                    // Without a look, another create could make a duplicate: stop here.
                    return Err(ProtectionError::WriteFailed { error, attempts });
                }
            };
            if let Some(existing) = found {
                // Someone may have changed it since; make it match what was asked.
                match self.update(tenant, desired, &existing).await {
                    Ok(mut deployed) => attempts.append(&mut deployed.attempts),
                    Err(ProtectionError::WriteFailed {
                        error,
                        attempts: mut more,
                    }) => {
                        attempts.append(&mut more);
                        return Err(ProtectionError::WriteFailed { error, attempts });
                    }
                    Err(other) => return Err(other),
                }
                return Ok(Deployed {
                    result: ApplyResult::Created,
                    policy_id: existing.id,
                    changes: Vec::new(),
                    attempts,
                });
            }
            last_error = Some(error);
        }
        let error =
            last_error.unwrap_or_else(|| DirectoryError::Internal("no create attempt".into()));
        Err(ProtectionError::WriteFailed { error, attempts })
    }
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
    status: WriteStatus,
    graph_request_id: Option<String>,
    error: Option<&DirectoryError>,
) -> WriteAttempt {
    WriteAttempt {
        call,
        status,
        graph_request_id,
        error: error.map(ToString::to_string),
    }
}

#[cfg(test)]
mod tests;
