//! The Windows sign-in screen's "Reset password" link (`/v1/tenants/{tenant}/windows-reset-link`):
//! its status from Intune, the plan and the deploy of sspr's settings-catalog policy, and the
//! registry alternative for devices outside Intune.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::protection::{ApplyResult, PlannedCall};
use crate::readiness::{CheckStatus, Evidence};
use crate::tenants::TenantRef;

/// Whom sspr's policy is assigned to: the body of the plan and the deploy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "target", rename_all = "camelCase", deny_unknown_fields)]
#[schema(examples(crate::examples::windows_reset_link_target))]
pub enum ResetLinkTarget {
    /// Every Intune-managed device.
    AllDevices,
    /// The devices in one group.
    #[serde(rename_all = "camelCase")]
    Group {
        /// The group's object id (a GUID).
        #[schema(
            pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
            example = "7b2f9e0a-3c4d-4e5f-9a0b-2c3d4e5f6a04"
        )]
        group_id: String,
    },
}

/// How a policy sets the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ResetLinkPolicyKind {
    /// A settings-catalog configuration policy.
    SettingsCatalog,
    /// A custom OMA-URI device configuration profile.
    CustomProfile,
}

/// One assignment of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "target", rename_all = "camelCase")]
pub enum ResetLinkAssignment {
    AllDevices,
    AllLicensedUsers,
    #[serde(rename_all = "camelCase")]
    Group {
        group_id: String,
    },
    /// The group's devices do not get the policy.
    #[serde(rename_all = "camelCase")]
    ExcludedGroup {
        group_id: String,
    },
}

/// One Intune policy that sets `AllowAadPasswordReset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetLinkPolicyView {
    pub id: String,
    pub name: String,
    pub kind: ResetLinkPolicyKind,
    /// `true` when it allows the link (value 1), `false` when it blocks it.
    pub allows: bool,
    pub assignments: Vec<ResetLinkAssignment>,
    /// sspr deployed it (it carries the name `sspr - Windows sign-in SSPR link`).
    pub ours: bool,
}

/// Why the status is `unknown`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnknownReason {
    /// `intuneLicenceMissing` or `permissionMissing`.
    pub code: String,
    pub detail: String,
}

/// The registry value the Intune setting stands for, to set on devices outside Intune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistryAlternative {
    /// `HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\AzureADAccount`.
    pub key: String,
    /// `AllowPasswordReset`.
    pub value_name: String,
    /// `REG_DWORD`.
    pub value_type: String,
    /// `1`.
    pub data: u32,
    /// The Policy CSP node Intune sets, for a custom OMA-URI profile.
    pub oma_uri: String,
    /// Where to get the `.reg` file and the PowerShell remediation script (`format=reg` or
    /// `format=powershell`).
    pub scripts: Vec<String>,
}

/// `GET /v1/tenants/{tenant}/windows-reset-link`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::windows_reset_link_status))]
pub struct WindowsResetLinkStatus {
    pub tenant: TenantRef,
    /// `pass`, `warn`, `fail`, or `unknown` when Intune could not be read.
    pub status: CheckStatus,
    /// What was found, in one sentence.
    pub summary: String,
    /// Why the status is `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<UnknownReason>,
    /// The policies that set the value, either way.
    pub policies: Vec<ResetLinkPolicyView>,
    pub evidence: Vec<Evidence>,
    /// The id of sspr's policy, when deployed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ours: Option<String>,
    pub registry_alternative: RegistryAlternative,
}

/// `POST …/windows-reset-link/plan`: what the deploy would send. Changes nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::windows_reset_link_plan))]
pub struct WindowsResetLinkPlan {
    pub tenant: TenantRef,
    /// `created`, `updated` or `unchanged`: what the deploy would do.
    pub result: ApplyResult,
    pub target: ResetLinkTarget,
    /// The deployed policy kept, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_id: Option<String>,
    /// The exact settings-catalog JSON of sspr's policy (the create's body).
    #[schema(value_type = Object)]
    pub policy: Value,
    /// The exact body of the assign action.
    #[schema(value_type = Object)]
    pub assignment: Value,
    /// The Graph calls the deploy makes, in order; none when unchanged.
    pub calls: Vec<PlannedCall>,
    /// Version of what is deployed now: send it as `If-Match` to deploy only if nothing
    /// changed since.
    pub etag: String,
}

/// `PUT …/windows-reset-link`: what the deploy did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::windows_reset_link_applied))]
pub struct WindowsResetLinkApplied {
    pub tenant: TenantRef,
    pub result: ApplyResult,
    pub target: ResetLinkTarget,
    /// sspr's policy, deployed.
    pub policy_id: String,
    /// The Graph calls made, in order.
    pub calls: Vec<PlannedCall>,
    /// Version of what is deployed now.
    pub etag: String,
    pub graph_request_ids: Vec<String>,
    /// The deploy's audit record in `GET /v1/audit`.
    pub audit_record_id: i64,
}
