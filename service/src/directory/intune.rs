//! Intune's device configuration (beta, msp-readiness.md §3b): the settings-catalog policies
//! (`deviceManagement/configurationPolicies`) and device configuration profiles
//! (`deviceManagement/deviceConfigurations`) that set `AllowAadPasswordReset`, read into the
//! Windows link's model, and the writes of sspr's policy. The only place that knows their
//! paths and JSON.
//!
//! Graph calls of one inventory: one page of policies with their settings per 25 policies, one
//! of profiles with their assignments, and one `…/{id}/assignments` per policy that sets the
//! value (usually none or one).

use serde_json::{Value, json};
use sspr_api::protection::PlannedCall;

use super::DirectoryError;
use super::graph::Graph;
use super::tenants::ManagedTenant;
use crate::capabilities::device_configuration::{DeviceConfiguration, Written};
use crate::domain::windows_link::{
    self, AssignmentTarget, DeployAction, DeployPlan, DeployTarget, OMA_URI, PolicyKind,
    ResetLinkInventory, ResetLinkPolicy, SETTING_DEFINITION_ID,
};

/// Beta, relative to Graph's v1.0 base URL (the service reaches beta nowhere else).
const POLICIES: &str = "../beta/deviceManagement/configurationPolicies";
const PROFILES: &str = "../beta/deviceManagement/deviceConfigurations";

mod wire {
    use serde::Deserialize;
    use serde_json::Value;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ConfigurationPolicy {
        pub id: String,
        #[serde(default)]
        pub name: String,
        #[serde(default)]
        pub settings: Vec<Setting>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Setting {
        pub setting_instance: Value,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Assignment {
        pub target: Value,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct DeviceConfiguration {
        pub id: String,
        #[serde(rename = "@odata.type", default)]
        pub odata_type: String,
        #[serde(default)]
        pub display_name: String,
        #[serde(default)]
        pub oma_settings: Vec<Value>,
        #[serde(default)]
        pub assignments: Vec<Assignment>,
    }

    #[derive(Deserialize)]
    pub struct Created {
        pub id: String,
    }
}

/// What a setting instance says about the link: `Some(true)` allows, `Some(false)` blocks,
/// `None` when it is another setting.
fn instance_allows(instance: &Value) -> Option<bool> {
    if instance["settingDefinitionId"].as_str()? != SETTING_DEFINITION_ID {
        return None;
    }
    let option = instance["choiceSettingValue"]["value"].as_str()?;
    Some(option.eq_ignore_ascii_case(&windows_link::allowed_option()))
}

/// What a custom profile's OMA settings say about the link (an integer, or a string "1").
fn profile_allows(oma_settings: &[Value]) -> Option<bool> {
    oma_settings
        .iter()
        .find(|s| {
            s["omaUri"]
                .as_str()
                .is_some_and(|u| u.eq_ignore_ascii_case(OMA_URI))
        })
        .map(|s| match &s["value"] {
            Value::Number(n) => n.as_i64() == Some(1),
            Value::String(text) => text.trim() == "1",
            _ => false,
        })
}

fn target_of(target: &Value) -> Option<AssignmentTarget> {
    let group = || target["groupId"].as_str().map(str::to_owned);
    match target["@odata.type"].as_str()?.trim_start_matches('#') {
        "microsoft.graph.allDevicesAssignmentTarget" => Some(AssignmentTarget::AllDevices),
        "microsoft.graph.allLicensedUsersAssignmentTarget" => {
            Some(AssignmentTarget::AllLicensedUsers)
        }
        "microsoft.graph.groupAssignmentTarget" => group().map(AssignmentTarget::Group),
        "microsoft.graph.exclusionGroupAssignmentTarget" => {
            group().map(AssignmentTarget::ExcludedGroup)
        }
        // Other targets (Configuration Manager collections) do not reach Intune-managed devices.
        _ => None,
    }
}

fn targets(assignments: &[wire::Assignment]) -> Vec<AssignmentTarget> {
    assignments
        .iter()
        .filter_map(|a| target_of(&a.target))
        .collect()
}

/// The inventory from Graph.
pub async fn inventory(
    graph: &Graph,
    tenant: &ManagedTenant,
) -> Result<ResetLinkInventory, DirectoryError> {
    let policies_path = format!("{POLICIES}?$expand=settings");
    let profiles_path = format!("{PROFILES}?$expand=assignments");
    let ((policies, _), (profiles, _)) = tokio::try_join!(
        graph.get_all::<wire::ConfigurationPolicy>(tenant, &policies_path),
        graph.get_all::<wire::DeviceConfiguration>(tenant, &profiles_path),
    )?;
    let mut inventory = ResetLinkInventory {
        configuration_policies_read: policies.len(),
        custom_profiles_read: profiles.len(),
        policies: Vec::new(),
    };
    for policy in policies {
        let Some(allows) = policy
            .settings
            .iter()
            .find_map(|s| instance_allows(&s.setting_instance))
        else {
            continue;
        };
        let (assignments, _) = graph
            .get_all::<wire::Assignment>(tenant, &format!("{POLICIES}/{}/assignments", policy.id))
            .await?;
        inventory.policies.push(ResetLinkPolicy {
            id: policy.id,
            name: policy.name,
            kind: PolicyKind::SettingsCatalog,
            allows,
            assignments: targets(&assignments),
        });
    }
    for profile in profiles {
        if profile.odata_type.trim_start_matches('#')
            != "microsoft.graph.windows10CustomConfiguration"
        {
            continue;
        }
        if let Some(allows) = profile_allows(&profile.oma_settings) {
            inventory.policies.push(ResetLinkPolicy {
                id: profile.id,
                name: profile.display_name,
                kind: PolicyKind::CustomProfile,
                allows,
                assignments: targets(&profile.assignments),
            });
        }
    }
    Ok(inventory)
}

/// sspr's settings-catalog policy, as created (msp-readiness.md §3b; the template references
/// are left out on create).
pub fn policy_body() -> Value {
    json!({
        "name": windows_link::POLICY_NAME,
        "description": windows_link::POLICY_DESCRIPTION,
        "platforms": "windows10",
        "technologies": "mdm",
        "roleScopeTagIds": ["0"],
        "settings": [{
            "@odata.type": "#microsoft.graph.deviceManagementConfigurationSetting",
            "settingInstance": {
                "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
                "settingDefinitionId": SETTING_DEFINITION_ID,
                "choiceSettingValue": {
                    "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingValue",
                    "value": windows_link::allowed_option(),
                    "children": []
                }
            }
        }]
    })
}

/// The assign action's body for `target`.
pub fn assignment_body(target: &DeployTarget) -> Value {
    let target = match target {
        DeployTarget::AllDevices => {
            json!({ "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" })
        }
        DeployTarget::Group(id) => {
            json!({ "@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": id })
        }
    };
    json!({ "assignments": [{ "target": target }] })
}

#[async_trait::async_trait]
impl DeviceConfiguration for Graph {
    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn reset_link_inventory(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<ResetLinkInventory, DirectoryError> {
        inventory(self, tenant).await
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.id))]
    async fn create_reset_link_policy(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<Written, DirectoryError> {
        let (created, request_id) = self.post(tenant, POLICIES, &policy_body()).await?;
        let created: wire::Created =
            serde_json::from_value(created).map_err(|e| DirectoryError::Upstream {
                status: 201,
                code: "unreadableResponse".into(),
                message: format!("POST {POLICIES}: {e}"),
                request_id: request_id.clone(),
            })?;
        Ok(Written {
            policy_id: created.id,
            request_id,
        })
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.id, policy = policy_id))]
    async fn assign_reset_link_policy(
        &self,
        tenant: &ManagedTenant,
        policy_id: &str,
        target: &DeployTarget,
    ) -> Result<Option<String>, DirectoryError> {
        let path = format!("{POLICIES}/{policy_id}/assign");
        let (_, request_id) = self.post(tenant, &path, &assignment_body(target)).await?;
        Ok(request_id)
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.id, policy = policy_id))]
    async fn delete_configuration_policy(
        &self,
        tenant: &ManagedTenant,
        policy_id: &str,
    ) -> Result<Option<String>, DirectoryError> {
        self.delete(tenant, &format!("{POLICIES}/{policy_id}"))
            .await
    }

    fn policy_json(&self) -> Value {
        policy_body()
    }

    fn assignment_json(&self, target: &DeployTarget) -> Value {
        assignment_body(target)
    }

    fn planned_calls(&self, plan: &DeployPlan) -> Vec<PlannedCall> {
        let call = |method: &str, path: String, body: Value| PlannedCall {
            method: method.to_owned(),
            path: self.path_of(&path),
            body,
        };
        let mut calls: Vec<PlannedCall> = plan
            .duplicates
            .iter()
            .map(|id| call("DELETE", format!("{POLICIES}/{id}"), Value::Null))
            .collect();
        // The id a create has yet to give stays `{id}`, not percent-encoded as a URL would.
        let assign = |id: &str| PlannedCall {
            method: "POST".to_owned(),
            path: format!("{}/{id}/assign", self.path_of(POLICIES)),
            body: assignment_body(&plan.target),
        };
        match &plan.action {
            DeployAction::Unchanged { .. } => {}
            DeployAction::Assign { policy_id } => calls.push(assign(policy_id)),
            DeployAction::Create => {
                calls.push(call("POST", POLICIES.to_owned(), policy_body()));
                calls.push(assign("{id}"));
            }
            DeployAction::Recreate { policy_id } => {
                calls.push(call(
                    "DELETE",
                    format!("{POLICIES}/{policy_id}"),
                    Value::Null,
                ));
                calls.push(call("POST", POLICIES.to_owned(), policy_body()));
                calls.push(assign("{id}"));
            }
        }
        calls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_profiles_read_into_the_model() {
        let allow = json!({
            "@odata.type": "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance",
            "settingDefinitionId": SETTING_DEFINITION_ID,
            "choiceSettingValue": {"value": format!("{SETTING_DEFINITION_ID}_1"), "children": []}
        });
        assert_eq!(instance_allows(&allow), Some(true));
        let mut block = allow.clone();
        block["choiceSettingValue"]["value"] = json!(format!("{SETTING_DEFINITION_ID}_0"));
        assert_eq!(instance_allows(&block), Some(false));
        let mut other = allow;
        other["settingDefinitionId"] = json!("device_vendor_msft_policy_config_other");
        assert_eq!(instance_allows(&other), None);
        let oma = |value: Value| vec![json!({"omaUri": OMA_URI.to_lowercase(), "value": value})];
        assert_eq!(profile_allows(&oma(json!(1))), Some(true));
        assert_eq!(profile_allows(&oma(json!("1"))), Some(true));
        assert_eq!(profile_allows(&oma(json!(0))), Some(false));
        assert_eq!(
            profile_allows(&[json!({"omaUri": "./Device/Other", "value": 1})]),
            None
        );
        assert_eq!(
            target_of(
                &json!({"@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": "g"})
            ),
            Some(AssignmentTarget::ExcludedGroup("g".into()))
        );
        assert_eq!(
            target_of(
                &json!({"@odata.type": "#microsoft.graph.configurationManagerCollectionAssignmentTarget"})
            ),
            None
        );
    }

    #[test]
    fn the_openapi_example_is_the_body() {
        let example = sspr_api::examples::windows_reset_link_plan();
        assert_eq!(example["policy"], policy_body());
        assert_eq!(
            example["assignment"],
            assignment_body(&DeployTarget::Group(
                "0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e".into()
            ))
        );
    }

    #[test]
    fn the_bodies_are_the_reference_ones() {
        let body = policy_body();
        assert_eq!(body["name"], windows_link::POLICY_NAME);
        assert_eq!(
            body["settings"][0]["settingInstance"]["choiceSettingValue"]["value"],
            "device_vendor_msft_policy_config_authentication_allowaadpasswordreset_1"
        );
        assert_eq!(
            assignment_body(&DeployTarget::Group("g1".into())),
            json!({"assignments": [{"target": {"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": "g1"}}]})
        );
    }
}
