//! Intune's side of a tenant (msp-readiness.md §3): its licence, settings-catalog
//! configuration policies and custom OMA-URI profiles that set the Windows sign-in screen's
//! "Reset password" link, with their assignments. Beta wire JSON (the endpoints are beta only).
//!
//! Seeded tenants: Contoso has no Intune licence (the link is `unknown`), Fabrikam has Intune and
//! nothing set (`fail`), Northwind an allow policy assigned to all devices (`pass`), Tailspin
//! an allow policy nobody is assigned and a custom profile for one group (`warn`).

use serde_json::{Value, json};

use super::wire::{self, Plan, Sku, Subscription};
use crate::state::{IntuneObject, Tenant};

/// Intune Plan 1 (`INTUNE_A`): in EMS, Microsoft 365 E3/E5/F1/F3 and standalone Intune.
pub(crate) const INTUNE_A: Plan = Plan {
    name: "INTUNE_A",
    id: "c1ec4a95-1f05-45b3-a911-aa3fa01094f5",
    service: "SCO",
};
/// Intune for Microsoft 365 Business Premium (`INTUNE_SMBIZ`).
pub(crate) const INTUNE_SMBIZ: Plan = Plan {
    name: "INTUNE_SMBIZ",
    id: "8e9ff0ff-aa7a-4b20-83c1-2f636b600ac2",
    service: "SCO",
};
/// "Mobile Device Management for Office 365" (`INTUNE_O365`, Basic Mobility, in Office 365 and
/// Business Standard): not Intune, no settings catalog, so it does not license these routes.
pub const INTUNE_O365_PLAN_ID: &str = "882e1d05-acd1-4ccb-8708-6ee03664b117";
/// Microsoft Intune Plan 1, the standalone SKU.
pub(crate) const SKU_INTUNE_A: Sku = Sku {
    part_number: "INTUNE_A",
    id: "061f9ace-7d42-4136-88ac-31dc755f143f",
    plans: &[INTUNE_A],
};

/// The settings catalog's definition of `Authentication/AllowAadPasswordReset`.
pub const SETTING_DEFINITION_ID: &str =
    "device_vendor_msft_policy_config_authentication_allowaadpasswordreset";
/// The Policy CSP node a custom profile sets.
pub const OMA_URI: &str = "./Device/Vendor/MSFT/Policy/Config/Authentication/AllowAadPasswordReset";

/// Seeded Intune object ids.
pub const OPERATOR_ALLOW_POLICY: &str = "5f0d7c8e-1a2b-4c3d-9e8f-0a1b2c3d4e01";
pub const TAILSPIN_UNASSIGNED_POLICY: &str = "5f0d7c8e-1a2b-4c3d-9e8f-0a1b2c3d4e02";
pub const TAILSPIN_CUSTOM_PROFILE: &str = "6a1e8d9f-2b3c-4d4e-8f9a-1b2c3d4e5f03";
/// The group Tailspin's custom profile is assigned to.
pub const TAILSPIN_DEVICE_GROUP: &str = "7b2f9e0a-3c4d-4e5f-9a0b-2c3d4e5f6a04";

const CREATED: &str = "2026-03-02T10:15:00Z";

/// Whether the tenant may use Intune's Graph API: an `Enabled` (or `Warning`) SKU carrying
/// `INTUNE_A` or `INTUNE_SMBIZ` provisioned with `Success`. `INTUNE_O365` does not count.
pub fn is_licensed(tenant: &Tenant) -> bool {
    tenant.subscribed_skus.iter().any(|sku| {
        matches!(
            sku["capabilityStatus"].as_str(),
            Some("Enabled" | "Warning")
        ) && sku["servicePlans"].as_array().is_some_and(|plans| {
            plans.iter().any(|p| {
                [INTUNE_A.id, INTUNE_SMBIZ.id].contains(&p["servicePlanId"].as_str().unwrap_or(""))
                    && p["provisioningStatus"] == "Success"
            })
        })
    })
}

/// Gives the tenant an Intune licence (the standalone Intune Plan 1 SKU, with its plan in
/// `organization.assignedPlans`), unless it has one.
pub fn license(tenant: &mut Tenant) {
    if is_licensed(tenant) {
        return;
    }
    let members = tenant
        .users
        .iter()
        .filter(|u| u.user_type == "Member")
        .count();
    let seats = i32::try_from(members).unwrap_or(i32::MAX).max(1);
    let subscription = Subscription {
        sku: SKU_INTUNE_A,
        prepaid: seats,
        consumed: seats,
        subscription_id: format!("{}-intune", &tenant.id[..8.min(tenant.id.len())]),
    };
    let account_id = tenant
        .subscribed_skus
        .first()
        .and_then(|s| s["accountId"].as_str())
        .unwrap_or(&tenant.id)
        .to_owned();
    let sku = wire::subscribed_sku(
        &tenant.id,
        (&account_id, &tenant.display_name),
        &subscription,
    );
    tenant.subscribed_skus.push(sku);
    if let Some(plans) = tenant.organization["assignedPlans"].as_array_mut() {
        plans.extend(wire::assigned_plans(&[subscription], CREATED));
    }
}

/// `#microsoft.graph.allDevicesAssignmentTarget`.
pub fn all_devices() -> Value {
    json!({ "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" })
}

/// `#microsoft.graph.groupAssignmentTarget` for `group_id`.
pub fn group(group_id: &str) -> Value {
    json!({ "@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group_id })
}

/// A settings-catalog policy setting the link to allowed (`allow`) or not, assigned to
/// `targets`.
pub fn settings_catalog_policy(
    id: &str,
    name: &str,
    allow: bool,
    targets: &[Value],
) -> IntuneObject {
    let value = format!("{SETTING_DEFINITION_ID}_{}", u8::from(allow));
    let setting = json!({
        "@odata.type": "#microsoft.graph.deviceManagementConfigurationSetting",
        "id": "0",
        "settingInstance": {
            "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
            "settingDefinitionId": SETTING_DEFINITION_ID,
            "settingInstanceTemplateReference": null,
            "choiceSettingValue": {
                "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingValue",
                "settingValueTemplateReference": null,
                "value": value,
                "children": [],
            },
        },
    });
    IntuneObject {
        entity: policy_entity(id, name, "", 1),
        settings: vec![setting],
        assignments: policy_assignments(id, targets),
    }
}

/// A configuration policy's entity as Graph lists it (`settingCount` and `isAssigned` are
/// kept up to date by the routes).
pub(crate) fn policy_entity(id: &str, name: &str, description: &str, settings: usize) -> Value {
    json!({
        "id": id,
        "name": name,
        "description": description,
        "platforms": "windows10",
        "technologies": "mdm",
        "createdDateTime": CREATED,
        "lastModifiedDateTime": CREATED,
        "settingCount": settings,
        "creationSource": null,
        "roleScopeTagIds": ["0"],
        "isAssigned": false,
        "priorityMetaData": null,
        "templateReference": {
            "templateId": "",
            "templateFamily": "none",
            "templateDisplayName": null,
            "templateDisplayVersion": null,
        },
    })
}

/// `deviceManagementConfigurationPolicyAssignment`s of policy `id` for `targets`; Graph names
/// each `{policyId}_{groupId}` (or `_adadadad-…` for all devices).
pub(crate) fn policy_assignments(policy_id: &str, targets: &[Value]) -> Vec<Value> {
    targets
        .iter()
        .map(|target| {
            let suffix = target["groupId"]
                .as_str()
                .unwrap_or("adadadad-808e-44e2-905a-0b7873a8a531");
            json!({
                "id": format!("{policy_id}_{suffix}"),
                "source": "direct",
                "sourceId": policy_id,
                "target": target,
            })
        })
        .collect()
}

/// A Windows 10 custom profile setting the OMA-URI to `value` (1 allows), assigned to `targets`.
pub fn custom_profile(id: &str, name: &str, value: i64, targets: &[Value]) -> IntuneObject {
    IntuneObject {
        entity: json!({
            "@odata.type": "#microsoft.graph.windows10CustomConfiguration",
            "id": id,
            "displayName": name,
            "description": "",
            "createdDateTime": CREATED,
            "lastModifiedDateTime": CREATED,
            "roleScopeTagIds": ["0"],
            "supportsScopeTags": true,
            "deviceManagementApplicabilityRuleOsEdition": null,
            "deviceManagementApplicabilityRuleOsVersion": null,
            "deviceManagementApplicabilityRuleDeviceMode": null,
            "version": 1,
            "omaSettings": [{
                "@odata.type": "#microsoft.graph.omaSettingInteger",
                "displayName": "Allow Azure AD password reset",
                "description": null,
                "omaUri": OMA_URI,
                "secretReferenceValueId": null,
                "isEncrypted": false,
                "value": value,
                "isReadOnly": false,
            }],
        }),
        settings: Vec::new(),
        assignments: targets
            .iter()
            .enumerate()
            .map(|(n, target)| {
                json!({
                    "@odata.type": "#microsoft.graph.deviceConfigurationAssignment",
                    "id": format!("{id}_{n}"),
                    "source": "direct",
                    "sourceId": id,
                    "intent": "apply",
                    "target": target,
                })
            })
            .collect(),
    }
}

/// How a tenant's Windows sign-in link comes out, for seeds and generated tenants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowsLink {
    /// Intune, an allow policy assigned to all devices.
    Pass,
    /// Intune, an allow policy nobody is assigned and a custom profile for one group.
    Warn,
    /// Intune, nothing sets the value.
    Fail,
    /// Intune, a policy that blocks the link, assigned to all devices.
    Blocked,
    /// No Intune licence.
    Unlicensed,
}

/// Gives `tenant` the Intune state `link` describes; ids derive from the tenant id.
pub fn set_windows_link(tenant: &mut Tenant, link: WindowsLink) {
    let id = |n: u8| {
        format!(
            "{}-{n:04x}-4000-8000-00000000{n:04x}",
            &tenant.id[..8.min(tenant.id.len())]
        )
    };
    let (policies, profiles) = match link {
        WindowsLink::Unlicensed => (Vec::new(), Vec::new()),
        WindowsLink::Fail => (Vec::new(), Vec::new()),
        WindowsLink::Pass => (
            vec![settings_catalog_policy(
                &id(1),
                "Windows - SSPR link",
                true,
                &[all_devices()],
            )],
            Vec::new(),
        ),
        WindowsLink::Blocked => (
            vec![settings_catalog_policy(
                &id(1),
                "Windows - lock screen",
                false,
                &[all_devices()],
            )],
            Vec::new(),
        ),
        WindowsLink::Warn => (
            vec![settings_catalog_policy(
                &id(1),
                "Windows - SSPR link (draft)",
                true,
                &[],
            )],
            vec![custom_profile(
                &id(2),
                "Windows - custom SSPR",
                1,
                &[group(&id(3))],
            )],
        ),
    };
    if link != WindowsLink::Unlicensed {
        license(tenant);
    }
    tenant.configuration_policies = policies;
    tenant.device_configurations = profiles;
}

/// The seeded tenants' Intune state (see the module comment).
pub(crate) fn seed(tenants: &mut [Tenant]) {
    for tenant in tenants.iter_mut() {
        match tenant.id.as_str() {
            super::FABRIKAM_ID => license(tenant),
            super::OPERATOR_ID => {
                license(tenant);
                tenant.configuration_policies = vec![settings_catalog_policy(
                    OPERATOR_ALLOW_POLICY,
                    "Windows - SSPR link",
                    true,
                    &[all_devices()],
                )];
            }
            super::TAILSPIN_ID => {
                license(tenant);
                tenant.configuration_policies = vec![settings_catalog_policy(
                    TAILSPIN_UNASSIGNED_POLICY,
                    "Windows - SSPR link (draft)",
                    true,
                    &[],
                )];
                tenant.device_configurations = vec![custom_profile(
                    TAILSPIN_CUSTOM_PROFILE,
                    "Windows - custom SSPR",
                    1,
                    &[group(TAILSPIN_DEVICE_GROUP)],
                )];
            }
            _ => {}
        }
    }
}

/// The spread of generated tenants over the link's outcomes: in every run of five, one each.
pub fn generated_link(index: usize) -> WindowsLink {
    [
        WindowsLink::Pass,
        WindowsLink::Warn,
        WindowsLink::Fail,
        WindowsLink::Unlicensed,
        WindowsLink::Blocked,
    ][index % 5]
}
