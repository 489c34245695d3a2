//! Reading and changing a tenant's SSPR policy across its sources (Graph, the portal back end,
//! inference), with an ETag over what can be changed, rules, findings, a plan of upstream calls,
//! undo on failure, and an audit record of every attempt.

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Caller, Verb};
use crate::capabilities::audit_log::{AuditLog, Completion, Outcome};
use crate::capabilities::password_reset_portal::PasswordResetPortal;
use crate::capabilities::policy_directory::{CallView, PolicyDirectory};
use crate::config::PolicyConfig;
use crate::directory::DirectoryError;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};
use crate::domain::change::{
    ChangeError, ChangePlan, ChangedField, Intent, PolicySettings, Sources, methods_from_graph,
};
use crate::domain::findings::{Finding, findings};
use crate::domain::inference::InferenceOutcome;
use crate::domain::methods::MethodsPolicy;
use crate::domain::policy::BuildPolicyDocument;
use crate::domain::policy::{GraphFacts, PolicyDocument, PortalKnowledge, Source};
use crate::domain::rules::{TenantFacts, validate};

use super::audited::{AuditTrail, OpenAttempt, json};
use super::cache::{Aged, TenantCache};
use super::{EtagComparison, OpsError, authorize, etag_matches};
use crate::capabilities::coordination::CacheInvalidations;
use merge_patch::{FieldChange, apply_merge_patch, diff, settings_json};

pub(crate) mod merge_patch;

/// Everything known about a tenant's policy at one moment.
struct PolicySnapshot {
    document: PolicyDocument,
    settings: PolicySettings,
    sources: Sources,
    facts: GraphFacts,
    tenant_facts: TenantFacts,
    etag: String,
    request_ids: Vec<String>,
}

/// A policy read: the document (with findings), its ETag and Graph's request ids.
pub struct PolicyRead {
    pub document: PolicyDocument,
    pub etag: String,
    pub request_ids: Vec<String>,
}

/// The policy documents kept between requests: one per tenant, read from upstream at most once
/// at a time (see [`TenantCache`]), forgotten when this service changes the tenant's policy.
pub struct Policies {
    cache: TenantCache<PolicyRead>,
    max_age: Duration,
}

impl Policies {
    pub fn new(config: &PolicyConfig) -> Self {
        Policies {
            cache: TenantCache::named("policy"),
            max_age: Duration::from_secs(config.cache_max_age_secs),
        }
    }

    /// Replicas sharing a store tell each other when a tenant's document changed.
    pub fn share_invalidations(&self, shared: Arc<dyn CacheInvalidations>) {
        self.cache.share_invalidations(shared);
    }

    /// Another replica's invalidation of `cache`'s entry for `tenant_id`, applied here.
    pub fn apply_invalidation(&self, cache: &str, tenant_id: &str) {
        if cache == self.cache.name() {
            self.cache.forget(tenant_id);
        }
    }

    /// The age of a document served when the caller does not say.
    pub fn cache_max_age(&self) -> Duration {
        self.max_age
    }

    /// A change to the tenant is about to be made: the cached document is forgotten now, and
    /// again when the returned guard is dropped, so no read that overlapped the change is kept.
    fn changing<'a>(&'a self, tenant: &'a ManagedTenant) -> Changing<'a> {
        self.cache.invalidate(&tenant.id);
        Changing {
            policies: self,
            tenant,
        }
    }
}

struct Changing<'a> {
    policies: &'a Policies,
    tenant: &'a ManagedTenant,
}

impl Drop for Changing<'_> {
    fn drop(&mut self) {
        self.policies.cache.invalidate(&self.tenant.id);
    }
}

/// The tenant's SSPR policy document: the cached one when younger than `max_age` (default: the
/// configured age), else read from Graph and the portal.
#[tracing::instrument(skip_all, fields(tenant = %tenant_key))]
pub async fn read(
    policies: &Policies,
    registry: &TenantRegistry,
    upstream: Upstream<'_>,
    caller: &Caller,
    tenant_key: &str,
    max_age: Option<Duration>,
) -> Result<Aged<PolicyRead>, OpsError> {
    let tenant = &authorize(registry, caller, Verb::Read, tenant_key)?;
    policies
        .cache
        .get(&tenant.id, max_age.unwrap_or(policies.max_age), async {
            let snapshot = load(upstream, tenant).await?;
            Ok(PolicyRead {
                document: snapshot.document,
                etag: snapshot.etag,
                request_ids: snapshot.request_ids,
            })
        })
        .await
}

/// What a dry run shows: the per-field changes, the calls with their undo, and the findings the
/// policy would have afterwards.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(sspr_api::examples::dry_run))]
pub struct DryRun {
    pub changes: Vec<FieldChange>,
    pub steps: Vec<Step>,
    pub findings: Vec<Finding>,
}

/// One call and the call that undoes it (the same fields set back to their values before).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub call: CallView,
    pub compensation: CallView,
}

/// The body of a successful PATCH: the policy document read back after the change, or, with
/// `dryRun=true`, the plan (nothing changed).
#[derive(ToSchema)]
#[serde(untagged)]
#[schema(examples(sspr_api::examples::policy_document, sspr_api::examples::dry_run))]
#[allow(dead_code)] // Only its schema is used; the handler writes either body itself.
pub enum PatchAnswer {
    Applied(Box<PolicyDocument>),
    DryRun(DryRun),
}

/// The upstreams a policy read or change goes to.
#[derive(Clone, Copy)]
pub struct Upstream<'a> {
    pub directory: &'a dyn PolicyDirectory,
    pub portal: &'a dyn PasswordResetPortal,
}

/// What happened to one step of a failed change.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// `METHOD path — description` of the call.
    pub call: String,
    pub status: StepStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How one step of a failed change ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum StepStatus {
    /// This call failed.
    Failed,
    /// Not made, since an earlier step failed.
    NotRun,
    /// Made, then undone.
    Undone,
    /// Made, and its undo failed: the tenant keeps this change.
    UndoFailed,
}

pub enum PatchOutcome {
    DryRun(DryRun),
    /// Applied and read back, or nothing to change (audited `noChange`, nothing written): the
    /// policy as it is now, and the id of the change's audit record.
    Applied {
        read: Box<PolicyRead>,
        audit_record_id: i64,
    },
}

/// One change request.
pub struct PatchRequest<'a> {
    pub tenant_key: &'a str,
    pub patch: &'a Value,
    pub if_match: Option<&'a str>,
    pub dry_run: bool,
    pub request_id: Option<String>,
}

/// Applies a JSON merge patch to the tenant's policy: checks `If-Match`, the rules and the
/// sources, plans the upstream calls, makes them in order, undoes the completed ones when a
/// later one fails, reads everything back, and audits the attempt whatever its outcome.
#[tracing::instrument(skip_all, fields(tenant = %request.tenant_key, request_id = request.request_id.as_deref().unwrap_or("")))]
pub async fn patch(
    policies: &Policies,
    registry: &TenantRegistry,
    upstream: Upstream<'_>,
    audit_log: &Arc<dyn AuditLog>,
    caller: &Caller,
    request: PatchRequest<'_>,
) -> Result<PatchOutcome, OpsError> {
    let tenant = &authorize(registry, caller, Verb::Write, request.tenant_key)?;
    let if_match = if_match_precondition(request.if_match)?;
    // One change at a time per tenant: the ETag check below must still hold when we write.
    let _guard = tenant.write_lock.lock().await.map_err(OpsError::Store)?;
    let before = load(upstream, tenant).await?;
    let audit = Audit {
        trail: AuditTrail::to(
            audit_log.clone(),
            caller,
            tenant,
            "policy.patch",
            request.request_id.clone(),
        ),
        dry_run: request.dry_run,
    };

    // `*` was refused above, so only the ETags the caller read can match.
    if !etag_matches(if_match, &before.etag, EtagComparison::Strong) {
        // The caller's copy, perhaps served from the cache, is stale: so is the cache. Forget
        // it, so that the read the caller makes next shows what the tenant holds.
        policies.cache.invalidate(&tenant.id);
        audit
            .refused(&before.settings, "stale If-Match".into())
            .await?;
        return Err(OpsError::PreconditionFailed {
            current: before.etag,
        });
    }

    let planned = apply_merge_patch(&before.settings, request.patch, &before.sources)
        .map_err(OpsError::Change)
        .and_then(|after| match validate(&after, &before.tenant_facts) {
            Ok(()) => Ok(after),
            Err(violations) => Err(OpsError::Invalid(violations)),
        })
        .and_then(|after| {
            plan_change(
                &before.settings,
                &after,
                &before.sources,
                &before.facts.methods_policy,
            )
            .map(|(changes, plan)| (after, changes, plan))
            .map_err(OpsError::Change)
        });
    let (after, changes, plan) = match planned {
        Ok(planned) => planned,
        Err(error) => {
            audit.refused(&before.settings, error.to_string()).await?;
            return Err(error);
        }
    };
    let diff = serde_json::to_value(&changes).ok();

    if request.dry_run {
        return Ok(PatchOutcome::DryRun(DryRun {
            findings: findings(&after, &before.tenant_facts),
            changes,
            steps: plan
                .steps
                .iter()
                .map(|step| Step {
                    call: upstream.directory.describe(&step.call),
                    compensation: upstream.directory.describe(&step.compensation),
                })
                .collect(),
        }));
    }

    if changes.is_empty() && plan.is_empty() {
        let audit_record_id = audit.trail.no_change(json(&before.settings)).await?;
        return Ok(PatchOutcome::Applied {
            read: Box::new(PolicyRead {
                document: before.document,
                etag: before.etag,
                request_ids: before.request_ids,
            }),
            audit_record_id,
        });
    }

    let _changing = policies.changing(tenant);
    let attempt = audit
        .trail
        .attempt(json(&before.settings), json(&after), diff)
        .await?;
    if let Err((error, reports)) = run(upstream, tenant, &plan).await {
        return Err(failed(attempt, error, reports).await);
    }

    // Read everything back: what the tenant holds now is the answer, not what we sent.
    let now = match load(upstream, tenant).await {
        Ok(now) => now,
        Err(error) => {
            let unread = format!("The change was made, but reading it back failed: {error}");
            attempt.complete(Completion::unknown(unread)).await?;
            return Err(error);
        }
    };
    let unkept: Vec<&FieldChange> = changes
        .iter()
        .filter(|c| pointer(&now.settings, &c.pointer) != Some(c.after.clone()))
        .collect();
    if !unkept.is_empty() {
        let fields = unkept
            .iter()
            .map(|c| c.pointer.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let error =
            DirectoryError::Internal(format!("the tenant did not keep {fields} after the write"));
        let reports = undo(upstream, tenant, &plan, plan.steps.len()).await;
        return Err(failed(attempt, error, reports).await);
    }
    let audit_record_id = attempt
        .complete(Completion::new(Outcome::Succeeded).after(json(&now.settings)))
        .await?;
    Ok(PatchOutcome::Applied {
        read: Box::new(PolicyRead {
            document: now.document,
            etag: now.etag,
            request_ids: now.request_ids,
        }),
        audit_record_id,
    })
}

/// The per-field diff from `before` to `after` and the plan of upstream changes that makes it.
fn plan_change(
    before: &PolicySettings,
    after: &PolicySettings,
    sources: &Sources,
    methods_policy: &MethodsPolicy,
) -> Result<(Vec<FieldChange>, ChangePlan), ChangeError> {
    let changes = diff(before, after, sources);
    let changed: Vec<ChangedField> = changes
        .iter()
        .map(|c| ChangedField {
            pointer: &c.pointer,
            source: c.source,
        })
        .collect();
    let plan = ChangePlan::new(before, after, &changed, methods_policy)?;
    Ok((changes, plan))
}

/// Makes the plan's calls in order; on the first failure undoes the completed ones, last first.
async fn run(
    upstream: Upstream<'_>,
    tenant: &ManagedTenant,
    plan: &ChangePlan,
) -> Result<(), (DirectoryError, Vec<StepReport>)> {
    for (index, step) in plan.steps.iter().enumerate() {
        if let Err(error) = execute(upstream, tenant, &step.call).await {
            tracing::warn!(tenant = %tenant.id, %error, step = index, "policy change step failed; undoing");
            let mut reports = undo(upstream, tenant, plan, index).await;
            reports.push(StepReport {
                call: describe(upstream, &step.call),
                status: StepStatus::Failed,
                error: Some(error.to_string()),
            });
            reports.extend(plan.steps[index + 1..].iter().map(|s| StepReport {
                call: describe(upstream, &s.call),
                status: StepStatus::NotRun,
                error: None,
            }));
            return Err((error, reports));
        }
    }
    Ok(())
}

/// Undoes the first `completed` steps, last first, and reports each.
async fn undo(
    upstream: Upstream<'_>,
    tenant: &ManagedTenant,
    plan: &ChangePlan,
    completed: usize,
) -> Vec<StepReport> {
    let mut reports = Vec::new();
    for step in plan.steps[..completed].iter().rev() {
        let result = execute(upstream, tenant, &step.compensation).await;
        reports.push(StepReport {
            call: describe(upstream, &step.call),
            status: if result.is_ok() {
                StepStatus::Undone
            } else {
                StepStatus::UndoFailed
            },
            error: result.err().map(|e| e.to_string()),
        });
    }
    reports.reverse();
    reports
}

/// Makes one planned call through the capability its target names.
pub async fn execute(
    upstream: Upstream<'_>,
    tenant: &ManagedTenant,
    change: &Intent,
) -> Result<(), DirectoryError> {
    match change {
        Intent::PutPortalPasswordReset(update) => {
            upstream
                .portal
                .write_password_reset_policies(tenant, update)
                .await
        }
        Intent::SetWriteback(enabled) => {
            upstream
                .portal
                .set_password_writeback(tenant, *enabled)
                .await
        }
        Intent::SetUnlock(enabled) => {
            upstream
                .portal
                .set_unlock_without_reset(tenant, *enabled)
                .await
        }
        Intent::SetMethodsPolicy(_)
        | Intent::SetMethodConfiguration(_)
        | Intent::SetAdminSspr(_) => upstream.directory.apply(tenant, change).await,
    }
}

/// `METHOD path — description` of a call, for the step reports.
fn describe(upstream: Upstream<'_>, change: &Intent) -> String {
    let call = upstream.directory.describe(change);
    format!("{} {} — {}", call.method, call.path, call.description)
}

fn pointer(settings: &PolicySettings, pointer: &str) -> Option<Value> {
    settings_json(settings).pointer(pointer).cloned()
}

/// The `If-Match` a change must carry: present and naming ETags. `*` (RFC 9110 §13.1.1: "any
/// current version") always holds for a policy, so it would not protect a change made
/// meanwhile; it is refused like a missing header (428, "send the ETag you read"), which also
/// tells clients the same remedy: read, then send that ETag.
fn if_match_precondition(if_match: Option<&str>) -> Result<&str, OpsError> {
    match if_match {
        Some(value) if !value.split(',').any(|tag| tag.trim() == "*") => Ok(value),
        _ => Err(OpsError::PreconditionRequired),
    }
}

/// Reads Graph and the portal (or the evidence) concurrently and derives everything else.
async fn load(upstream: Upstream<'_>, tenant: &ManagedTenant) -> Result<PolicySnapshot, OpsError> {
    let ((facts, request_ids), portal) =
        tokio::try_join!(upstream.directory.policy_facts(tenant), async {
            Ok(portal_knowledge(upstream, tenant).await)
        })?;
    let (portal_settings, portal_source) = match &portal {
        PortalKnowledge::Portal(settings) => (Some(settings), Source::Portal),
        _ => (None, Source::Unavailable),
    };
    let mut sources = Sources::new(
        portal_source,
        methods_from_graph(&facts.methods_policy.migration_state),
    );
    if let PortalKnowledge::Inferred(_) = portal {
        sources.enablement = Source::Inferred;
    }
    let settings = PolicySettings::from_parts(
        portal_settings,
        &facts.methods_policy,
        facts.admin_sspr_allowed,
    );
    let tenant_facts = TenantFacts {
        tenant_syncs: facts.on_premises_sync_enabled == Some(true),
        has_writeback_licence: facts.entra_premium,
        methods_from_graph: methods_from_graph(&facts.methods_policy.migration_state),
    };
    let retrieved_at = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let document = PolicyDocument::build(
        super::tenant_ref(tenant),
        retrieved_at,
        facts.clone(),
        portal,
    )
    .with_findings(findings(&settings, &tenant_facts));
    let etag = document_etag(&document);
    Ok(PolicySnapshot {
        document,
        settings,
        sources,
        facts,
        tenant_facts,
        etag,
        request_ids,
    })
}

/// The times in the document that say when something was read or synchronized, not what the
/// policy is.
const READ_TIMES: [&str; 4] = [
    "/retrievedAt",
    "/enablement/evidence/readAt",
    "/enablement/evidence/oldestData",
    "/directorySync/lastSyncDateTime",
];

/// A strong ETag over the document without its read times: it changes when any value of the
/// policy, its sources or its findings changes upstream, so it serves both `If-Match` (a change
/// is based on what the caller saw) and `If-None-Match` (the caller's copy is still current),
/// while re-reading the same policy, or a directory sync, does not change it.
fn document_etag(document: &PolicyDocument) -> String {
    let mut value = serde_json::to_value(document).unwrap_or_default();
    for pointer in READ_TIMES {
        let (parent, member) = pointer.rsplit_once('/').unwrap_or_default();
        if let Some(Value::Object(object)) = value.pointer_mut(parent) {
            object.remove(member);
        }
    }
    super::strong_etag(&value)
}

/// How long an inferred enablement is reused. The report itself lags policy changes by hours, so
/// a few minutes add little staleness and save a full report read per request.
const INFERENCE_REUSE: std::time::Duration = std::time::Duration::from_secs(300);

/// The portal settings when the tenant has a portal connector; otherwise enablement inferred from
/// the registration report. A failure here degrades the portal groups to `unavailable` with the
/// reason, so the Graph groups are still shown.
async fn portal_knowledge(upstream: Upstream<'_>, tenant: &ManagedTenant) -> PortalKnowledge {
    const CONNECT: &str =
        "Configure the portal connector (a delegated admin refresh token) for this tenant.";
    match upstream.portal.settings(tenant).await {
        Ok(Some(settings)) => return PortalKnowledge::Portal(settings),
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(tenant = %tenant.id, %error, "portal connector failed");
            return PortalKnowledge::nothing(
                format!("The portal connector could not read the SSPR policy: {error}"),
                "Check the tenant's portal connector; a new delegated admin refresh token may be needed.",
            );
        }
    }
    // Holding the lock while reading makes concurrent readers wait for one report read.
    let mut cached = tenant.inferred.lock().await;
    if let Some((at, inferred)) = cached.as_ref()
        && at.elapsed() < INFERENCE_REUSE
    {
        // The evidence keeps its own `readAt`, so the document shows how old it is.
        return PortalKnowledge::Inferred(inferred.clone());
    }
    match upstream.directory.inferred_enablement(tenant).await {
        Ok(InferenceOutcome::Inferred(inferred)) => {
            *cached = Some((std::time::Instant::now(), inferred.clone()));
            PortalKnowledge::Inferred(inferred)
        }
        Ok(InferenceOutcome::NeedsPremium { .. }) => PortalKnowledge::nothing(
            "No portal connector, and the registration report that enablement could be inferred from needs Entra ID P1 or P2, which this tenant does not have.",
            CONNECT,
        ),
        Err(error) => {
            tracing::warn!(tenant = %tenant.id, %error, "enablement inference failed");
            PortalKnowledge::nothing(
                format!(
                    "No portal connector, and the registration report could not be read to infer enablement: {error}"
                ),
                CONNECT,
            )
        }
    }
}

/// The audit of one policy change. Dry runs are not writes and are not audited.
struct Audit<'a> {
    trail: AuditTrail<'a>,
    dry_run: bool,
}

impl Audit<'_> {
    /// Records a refusal made before any upstream call (none for a dry run).
    async fn refused(&self, before: &PolicySettings, error: String) -> Result<(), OpsError> {
        if !self.dry_run {
            self.trail.refused(json(before), None, None, error).await?;
        }
        Ok(())
    }
}

/// Completes the attempt of a change that failed upstream and returns the error to answer with.
async fn failed(attempt: OpenAttempt, error: DirectoryError, steps: Vec<StepReport>) -> OpsError {
    let rolled_back = steps.iter().all(|r| r.status != StepStatus::UndoFailed);
    let outcome = if rolled_back {
        Outcome::RolledBack
    } else {
        Outcome::Failed
    };
    let completion = Completion::new(outcome)
        .error(error.to_string())
        .compensation(json(&steps));
    match attempt.complete(completion).await {
        Ok(_) => OpsError::ApplyFailed {
            error,
            rolled_back,
            steps,
        },
        Err(store_error) => store_error,
    }
}

#[cfg(test)]
mod document_tests;
#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod tests;
