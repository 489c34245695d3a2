//! The Windows sign-in screen's "Reset password" link: its status from Intune, the plan and the
//! idempotent deploy of sspr's settings-catalog policy, and the registry alternative.
//!
//! A deploy finds sspr's policy by its name ([`windows_link::POLICY_NAME`]): it creates the
//! policy when none carries it, assigns it as asked (Intune's assign replaces the whole set),
//! makes it afresh when its setting was changed to block the link, and deletes copies, so that
//! however often it runs exactly one policy remains. When a create's answer is lost, it looks
//! again before it tries once more. Writes are audited and made under the tenant's write lock.

use std::sync::Arc;

use serde_json::json;
use sspr_api::protection::{ApplyResult, PlannedCall};
use sspr_api::readiness::Evidence;
use sspr_api::tenants::Feature;
use sspr_api::windows_link::{
    RegistryAlternative, ResetLinkAssignment, ResetLinkPolicyKind, ResetLinkPolicyView,
    ResetLinkTarget, UnknownReason, WindowsResetLinkApplied, WindowsResetLinkPlan,
    WindowsResetLinkStatus,
};

use super::audited::AuditTrail;
use super::{OpsError, authorize, require_feature, tenant_ref};
use crate::auth::{Caller, Verb};
use crate::capabilities::app_permissions::AppPermissions;
use crate::capabilities::audit_log::{AuditLog, Completion, Outcome};
use crate::capabilities::device_configuration::DeviceConfiguration;
use crate::capabilities::licences::Licences;
use crate::directory::tenants::{ManagedTenant, TenantRegistry};
use crate::directory::{DirectoryError, UpstreamFailure};
use crate::domain::windows_link::{
    self, AssignmentTarget, CheckStatus, DeployAction, DeployPlan, DeployTarget, PolicyKind,
    ResetLinkInventory, ResetLinkPolicy,
};
use sspr_api::policy::Source;

/// The licence Intune's Graph API needs, in the words the caller gets.
pub const INTUNE_LICENCE: &str =
    "Microsoft Intune (service plan INTUNE_A or INTUNE_SMBIZ; Basic Mobility does not count)";

/// Why a Windows-link request failed.
#[derive(Debug, thiserror::Error)]
pub enum WindowsLinkError {
    #[error(transparent)]
    Ops(#[from] OpsError),
    /// A write failed part way; `done` lists the calls that were made before it.
    #[error("deploying the policy failed: {error}")]
    WriteFailed {
        error: DirectoryError,
        done: Vec<PlannedCall>,
    },
}

impl From<DirectoryError> for WindowsLinkError {
    fn from(error: DirectoryError) -> Self {
        WindowsLinkError::Ops(OpsError::Directory(error))
    }
}

/// What the use cases work with.
#[derive(Clone, Copy)]
pub struct WindowsLink<'a> {
    pub tenants: &'a TenantRegistry,
    pub device_configuration: &'a dyn DeviceConfiguration,
    pub licences: &'a dyn Licences,
    pub permissions: &'a dyn AppPermissions,
    pub audit: &'a Arc<dyn AuditLog>,
}

/// One deploy request.
pub struct ApplyRequest<'a> {
    pub tenant_key: &'a str,
    pub request_id: Option<String>,
    /// The plan's `etag`: deploy only if what is deployed did not change since.
    pub if_match: Option<&'a str>,
    pub target: &'a ResetLinkTarget,
}

/// Why Intune could not be read, when that is not the caller's problem but the tenant's: the
/// status is then `unknown`.
enum Unreadable {
    Licence(String),
    Permission(String),
}

impl<'a> WindowsLink<'a> {
    /// The link's status in the tenant: `pass`, `warn` or `fail` from what Intune holds, or
    /// `unknown` (not an error) when the tenant has no Intune licence or has not granted the
    /// permission; always with the registry alternative.
    pub async fn status(
        &self,
        caller: &Caller,
        tenant_key: &str,
    ) -> Result<WindowsResetLinkStatus, OpsError> {
        let tenant = authorize(self.tenants, caller, Verb::Read, tenant_key)?;
        let read = match self.readable(&tenant, Feature::Intune).await? {
            Some(unreadable) => Err(unreadable),
            None => match self
                .device_configuration
                .reset_link_inventory(&tenant)
                .await
            {
                Ok(inventory) => Ok(inventory),
                Err(error) => Err(unreadable(error)?),
            },
        };
        let registry_alternative = registry_alternative(tenant.primary_domain());
        Ok(match read {
            Ok(inventory) => {
                let verdict = windows_link::verdict(&inventory);
                WindowsResetLinkStatus {
                    tenant: tenant_ref(&tenant),
                    status: verdict.status,
                    summary: verdict.summary,
                    reason: None,
                    policies: inventory.policies.iter().map(view).collect(),
                    evidence: verdict
                        .evidence
                        .into_iter()
                        .map(|(name, value)| Evidence {
                            name,
                            value,
                            source: Source::Graph,
                        })
                        .collect(),
                    ours: inventory
                        .policies
                        .iter()
                        .find(|p| p.is_ours())
                        .map(|p| p.id.clone()),
                    registry_alternative,
                }
            }
            Err(unreadable) => {
                let (code, detail) = match unreadable {
                    Unreadable::Licence(detail) => ("intuneLicenceMissing", detail),
                    Unreadable::Permission(detail) => ("permissionMissing", detail),
                };
                WindowsResetLinkStatus {
                    tenant: tenant_ref(&tenant),
                    status: CheckStatus::Unknown,
                    summary: format!(
                        "{detail} Without Intune, set {} {} = 1 (DWORD) on the devices: the .reg file or the PowerShell script does it.",
                        windows_link::REGISTRY_KEY,
                        windows_link::REGISTRY_VALUE
                    ),
                    reason: Some(UnknownReason {
                        code: code.to_owned(),
                        detail,
                    }),
                    policies: Vec::new(),
                    evidence: vec![Evidence {
                        name: "intune".into(),
                        value: code.to_owned(),
                        source: Source::Unavailable,
                    }],
                    ours: None,
                    registry_alternative,
                }
            }
        })
    }

    /// What a deploy for `target` would send and do. Changes nothing.
    pub async fn plan(
        &self,
        caller: &Caller,
        tenant_key: &str,
        target: &ResetLinkTarget,
    ) -> Result<WindowsResetLinkPlan, OpsError> {
        let tenant = authorize(self.tenants, caller, Verb::Read, tenant_key)?;
        let deploy_target = deploy_target(target)?;
        require_feature(self.permissions, &tenant, Feature::Intune).await?;
        self.ensure_licensed(&tenant).await?;
        let inventory = self.inventory(&tenant).await?;
        let plan = DeployPlan::of(&inventory, deploy_target);
        let dc = self.device_configuration;
        Ok(WindowsResetLinkPlan {
            tenant: tenant_ref(&tenant),
            result: result_of(&plan),
            target: target.clone(),
            policy_id: plan.kept_policy().map(str::to_owned),
            policy: dc.policy_json(),
            assignment: dc.assignment_json(&plan.target),
            calls: dc.planned_calls(&plan),
            etag: deployed_etag(&inventory),
        })
    }

    /// Deploys sspr's policy assigned to `target`, idempotently; audits the attempt whatever
    /// its outcome. Needs the write permission, checked before any Graph call.
    pub async fn apply(
        &self,
        caller: &Caller,
        request: ApplyRequest<'_>,
    ) -> Result<WindowsResetLinkApplied, WindowsLinkError> {
        let tenant = authorize(self.tenants, caller, Verb::Write, request.tenant_key)?;
        require_feature(self.permissions, &tenant, Feature::IntuneWrite).await?;
        let trail = AuditTrail::to(
            self.audit.clone(),
            caller,
            &tenant,
            "windowsResetLink.apply",
            request.request_id.clone(),
        );
        let asked = serde_json::to_value(request.target).ok();
        let deploy_target = match deploy_target(request.target) {
            Ok(target) => target,
            Err(error) => {
                trail.refused(None, asked, None, error.to_string()).await?;
                return Err(error.into());
            }
        };
        self.ensure_licensed(&tenant).await?;
        let _guard = tenant
            .write_lock
            .lock()
            .await
            .map_err(|e| WindowsLinkError::Ops(OpsError::Store(e)))?;
        let inventory = self.inventory(&tenant).await?;
        let before = ours_view(&inventory).and_then(|v| serde_json::to_value(v).ok());
        let current = deployed_etag(&inventory);
        // `*` names a deployed policy, so it does not hold while none is.
        let deployed = ours_view(&inventory).is_some();
        if let Some(if_match) = request.if_match
            && !if_match
                .split(',')
                .map(str::trim)
                .any(|tag| tag == current || (tag == "*" && deployed))
        {
            trail
                .refused(before, asked, None, "stale If-Match".into())
                .await?;
            return Err(OpsError::PreconditionFailed { current }.into());
        }
        let plan = DeployPlan::of(&inventory, deploy_target);
        let applied = |policy_id: String, calls, etag, request_ids, audit_record_id| {
            WindowsResetLinkApplied {
                tenant: tenant_ref(&tenant),
                result: result_of(&plan),
                target: request.target.clone(),
                policy_id,
                calls,
                etag,
                graph_request_ids: request_ids,
                audit_record_id,
            }
        };
        if plan.is_unchanged()
            && let Some(policy_id) = plan.kept_policy()
        {
            let audit_record_id = trail.no_change(before).await?;
            return Ok(applied(
                policy_id.to_owned(),
                Vec::new(),
                current,
                Vec::new(),
                audit_record_id,
            ));
        }
        let planned = self.device_configuration.planned_calls(&plan);
        let attempt = trail
            .attempt(
                before,
                asked,
                Some(json!({ "result": result_of(&plan), "calls": planned })),
            )
            .await?;
        let mut progress = Progress::default();
        let outcome = self.deploy(&tenant, &plan, &mut progress).await;
        let done = progress.calls(planned);
        match outcome {
            Ok(policy_id) => {
                let audit_record_id = attempt
                    .complete(
                        Completion::new(Outcome::Succeeded)
                            .diff(json!({ "result": result_of(&plan), "calls": done })),
                    )
                    .await?;
                let deployed = ResetLinkPolicy {
                    id: policy_id.clone(),
                    name: windows_link::POLICY_NAME.to_owned(),
                    kind: PolicyKind::SettingsCatalog,
                    allows: true,
                    assignments: vec![plan.target.as_assignment()],
                };
                let etag = super::strong_etag(&Some(view(&deployed)));
                let request_ids = progress.request_ids;
                Ok(applied(policy_id, done, etag, request_ids, audit_record_id))
            }
            Err(error) => {
                attempt
                    .complete(
                        Completion::new(Outcome::Failed)
                            .diff(json!({ "calls": done }))
                            .error(error.to_string()),
                    )
                    .await?;
                Err(WindowsLinkError::WriteFailed { error, done })
            }
        }
    }

    /// The `.reg` file or the PowerShell remediation script, for devices outside Intune.
    pub fn script(
        &self,
        caller: &Caller,
        tenant_key: &str,
        format: ScriptFormat,
    ) -> Result<String, OpsError> {
        authorize(self.tenants, caller, Verb::Read, tenant_key)?;
        Ok(match format {
            ScriptFormat::Reg => windows_link::reg_file(),
            ScriptFormat::Powershell => windows_link::powershell_script(),
        })
    }

    /// The writes of `plan`, in the order of its planned calls; the id of sspr's policy at the
    /// end. `progress` counts the calls made and keeps the new policy's id, for the answer and
    /// the audit record.
    async fn deploy(
        &self,
        tenant: &ManagedTenant,
        plan: &DeployPlan,
        progress: &mut Progress,
    ) -> Result<String, DirectoryError> {
        let dc = self.device_configuration;
        for id in &plan.duplicates {
            progress.made(dc.delete_configuration_policy(tenant, id).await?);
        }
        let policy_id = match &plan.action {
            DeployAction::Unchanged { policy_id } => return Ok(policy_id.clone()),
            DeployAction::Assign { policy_id } => policy_id.clone(),
            DeployAction::Create => self.create(tenant, progress).await?,
            DeployAction::Recreate { policy_id } => {
                progress.made(dc.delete_configuration_policy(tenant, policy_id).await?);
                self.create(tenant, progress).await?
            }
        };
        progress.made(
            dc.assign_reset_link_policy(tenant, &policy_id, &plan.target)
                .await?,
        );
        Ok(policy_id)
    }

    /// Creates sspr's policy. When the answer is lost (anything but Graph refusing the body),
    /// the policy may exist: look for it before trying once more, so no copy is made.
    async fn create(
        &self,
        tenant: &ManagedTenant,
        progress: &mut Progress,
    ) -> Result<String, DirectoryError> {
        let dc = self.device_configuration;
        let written = match dc.create_reset_link_policy(tenant).await {
            Ok(written) => written,
            Err(error) if error.kind() == UpstreamFailure::Refused => return Err(error),
            Err(error) => {
                tracing::warn!(tenant = %tenant.id, %error, "create of the Windows-link policy failed; looking whether it happened");
                let inventory = dc.reset_link_inventory(tenant).await?;
                match inventory.policies.iter().find(|p| p.is_ours()) {
                    Some(ours) => {
                        progress.made(None);
                        progress.created = Some(ours.id.clone());
                        return Ok(ours.id.clone());
                    }
                    None => dc.create_reset_link_policy(tenant).await?,
                }
            }
        };
        progress.made(written.request_id);
        progress.created = Some(written.policy_id.clone());
        Ok(written.policy_id)
    }

    /// `Some` when the tenant has not granted `feature` or has no Intune licence (by its SKUs,
    /// when they can be read).
    async fn readable(
        &self,
        tenant: &ManagedTenant,
        feature: Feature,
    ) -> Result<Option<Unreadable>, OpsError> {
        match require_feature(self.permissions, tenant, feature).await {
            Ok(()) => {}
            Err(OpsError::PermissionMissing { missing, .. }) => {
                return Ok(Some(Unreadable::Permission(format!(
                    "The tenant has not granted {}, which reading Intune needs.",
                    missing.join(", ")
                ))));
            }
            Err(other) => return Err(other),
        }
        // Unreadable SKUs (no licence-reading permission) leave the answer to Intune itself.
        if let Ok(skus) = self.licences.subscribed_skus(tenant).await
            && windows_link::intune_licence(&skus).is_none()
        {
            return Ok(Some(Unreadable::Licence(format!(
                "The tenant has no {INTUNE_LICENCE}."
            ))));
        }
        Ok(None)
    }

    async fn ensure_licensed(&self, tenant: &ManagedTenant) -> Result<(), OpsError> {
        if let Ok(skus) = self.licences.subscribed_skus(tenant).await
            && windows_link::intune_licence(&skus).is_none()
        {
            return Err(licence_required(tenant));
        }
        Ok(())
    }

    /// The inventory, with Intune's answer for an unlicensed tenant as the licence error.
    async fn inventory(&self, tenant: &ManagedTenant) -> Result<ResetLinkInventory, OpsError> {
        self.device_configuration
            .reset_link_inventory(tenant)
            .await
            .map_err(|error| match unreadable(error) {
                Ok(Unreadable::Licence(_)) => licence_required(tenant),
                Ok(Unreadable::Permission(_)) => OpsError::PermissionMissing {
                    tenant: tenant.primary_domain().to_owned(),
                    feature: Feature::Intune,
                    missing: vec!["DeviceManagementConfiguration.Read.All".to_owned()],
                },
                Err(error) => OpsError::Directory(error),
            })
    }
}

/// How far a deploy got: the calls made (in the order of the plan's calls), Graph's request
/// ids, and the id a create gave.
#[derive(Default)]
struct Progress {
    made: usize,
    request_ids: Vec<String>,
    created: Option<String>,
}

impl Progress {
    fn made(&mut self, request_id: Option<String>) {
        self.made += 1;
        self.request_ids.extend(request_id);
    }

    /// The planned calls that were made, with the new policy's id in place of `{id}`.
    fn calls(&self, planned: Vec<PlannedCall>) -> Vec<PlannedCall> {
        planned
            .into_iter()
            .take(self.made)
            .map(|mut call| {
                if let Some(id) = &self.created {
                    call.path = call.path.replace("{id}", id);
                }
                call
            })
            .collect()
    }
}

fn licence_required(tenant: &ManagedTenant) -> OpsError {
    OpsError::LicenseRequired {
        tenant: tenant.primary_domain().to_owned(),
        detail: INTUNE_LICENCE.to_owned(),
    }
}

/// Graph's answers that mean the tenant cannot be read (rather than a failure): Intune's 400
/// for a tenant without its licence, and 403 for a permission not granted.
fn unreadable(error: DirectoryError) -> Result<Unreadable, DirectoryError> {
    match &error {
        DirectoryError::Upstream {
            status: 400,
            message,
            ..
        } if message.contains("not applicable to target tenant") => Ok(Unreadable::Licence(
            format!("Intune refused the tenant: it has no {INTUNE_LICENCE}."),
        )),
        DirectoryError::Upstream { status: 403, .. } => Ok(Unreadable::Permission(
            "Intune refused the app (403): grant DeviceManagementConfiguration.Read.All.".into(),
        )),
        _ => Err(error),
    }
}

/// Which script `GET …/script` answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptFormat {
    Reg,
    Powershell,
}

fn deploy_target(target: &ResetLinkTarget) -> Result<DeployTarget, OpsError> {
    match target {
        ResetLinkTarget::AllDevices => Ok(DeployTarget::AllDevices),
        ResetLinkTarget::Group { group_id } => {
            DeployTarget::group(group_id).map_err(|detail| OpsError::BadInput {
                field: "groupId".into(),
                detail,
            })
        }
    }
}

fn result_of(plan: &DeployPlan) -> ApplyResult {
    match plan.action {
        DeployAction::Create => ApplyResult::Created,
        DeployAction::Assign { .. } | DeployAction::Recreate { .. } => ApplyResult::Updated,
        DeployAction::Unchanged { .. } if plan.duplicates.is_empty() => ApplyResult::Unchanged,
        DeployAction::Unchanged { .. } => ApplyResult::Updated,
    }
}

fn view(policy: &ResetLinkPolicy) -> ResetLinkPolicyView {
    ResetLinkPolicyView {
        id: policy.id.clone(),
        name: policy.name.clone(),
        kind: match policy.kind {
            PolicyKind::SettingsCatalog => ResetLinkPolicyKind::SettingsCatalog,
            PolicyKind::CustomProfile => ResetLinkPolicyKind::CustomProfile,
        },
        allows: policy.allows,
        assignments: policy
            .assignments
            .iter()
            .map(|a| match a {
                AssignmentTarget::AllDevices => ResetLinkAssignment::AllDevices,
                AssignmentTarget::AllLicensedUsers => ResetLinkAssignment::AllLicensedUsers,
                AssignmentTarget::Group(id) => ResetLinkAssignment::Group {
                    group_id: id.clone(),
                },
                AssignmentTarget::ExcludedGroup(id) => ResetLinkAssignment::ExcludedGroup {
                    group_id: id.clone(),
                },
            })
            .collect(),
        ours: policy.is_ours(),
    }
}

fn ours_view(inventory: &ResetLinkInventory) -> Option<ResetLinkPolicyView> {
    inventory.policies.iter().find(|p| p.is_ours()).map(view)
}

/// The version of what is deployed (sspr's policy, or none) that `If-Match` names.
fn deployed_etag(inventory: &ResetLinkInventory) -> String {
    super::strong_etag(&ours_view(inventory))
}

fn registry_alternative(domain: &str) -> RegistryAlternative {
    RegistryAlternative {
        key: windows_link::REGISTRY_KEY.to_owned(),
        value_name: windows_link::REGISTRY_VALUE.to_owned(),
        value_type: "REG_DWORD".to_owned(),
        data: 1,
        oma_uri: windows_link::OMA_URI.to_owned(),
        scripts: ["reg", "powershell"]
            .map(|f| format!("/v1/tenants/{domain}/windows-reset-link/script?format={f}"))
            .to_vec(),
    }
}

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;
