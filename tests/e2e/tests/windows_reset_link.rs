//! The Windows sign-in screen's reset link end to end, on the real service and the emulator:
//! the plan's JSON against Microsoft's beta names, the emulator accepting it, apply twice leaving
//! one sspr policy and the status going from fail to pass; a tenant without Intune answered
//! `unknown` with the registry alternative; a missing write permission refused before any
//! Intune call; bad input naming the field; the scripts.

use entra_emulator::seed;
use graph_schema::{Allow, Schema, validate_with_allowlist};
use serde_json::{Value, json};
use sspr_e2e::World;

const FABRIKAM: &str = "v1/tenants/fabrikam.onmicrosoft.com/windows-reset-link";
const CONTOSO: &str = "v1/tenants/contoso.onmicrosoft.com/windows-reset-link";
const POLICY_NAME: &str = "sspr - Windows sign-in SSPR link";

/// The choice instance and value inherit these from their bases, which only beta declares, so
/// the names-only check cannot walk to them; each is checked against its base's list below.
const INHERITED: &[(Allow<'static>, &str, &str)] = &[
    (
        Allow {
            pointer_suffix: "/settingInstance/settingDefinitionId",
            reason: "inherited",
        },
        "deviceManagementConfigurationSettingInstance",
        "settingDefinitionId",
    ),
    (
        Allow {
            pointer_suffix: "/choiceSettingValue/settingValueTemplateReference",
            reason: "inherited",
        },
        "deviceManagementConfigurationSettingValue",
        "settingValueTemplateReference",
    ),
];

async fn get(world: &World, path: &str, roles: &[&str]) -> (u16, Value) {
    world
        .call(reqwest::Method::GET, path, &world.token(roles), None)
        .await
}

async fn plan(world: &World, path: &str, body: Value) -> (u16, Value) {
    world
        .call(
            reqwest::Method::POST,
            &format!("{path}/plan"),
            &world.token(&["SSPR.Read"]),
            Some(body),
        )
        .await
}

async fn put(world: &World, path: &str, body: Value) -> (u16, Value) {
    world
        .call(
            reqwest::Method::PUT,
            path,
            &world.token(&["SSPR.ReadWrite"]),
            Some(body),
        )
        .await
}

/// Intune calls the emulator served for `tenant`.
fn intune_calls(world: &World, tenant: &str) -> Vec<(String, String, u16)> {
    world
        .emulator
        .calls()
        .into_iter()
        .filter(|c| c.tenant_id.as_deref() == Some(tenant))
        .filter_map(|c| {
            let route = c.route?;
            route
                .contains("deviceManagement")
                .then_some((c.method, route, c.status))
        })
        .collect()
}

fn sspr_policies(world: &World) -> Vec<Value> {
    world
        .emulator
        .with_tenant(seed::FABRIKAM_ID, |t| {
            t.configuration_policies
                .iter()
                .filter(|p| p.entity["name"] == POLICY_NAME)
                .map(|p| p.entity.clone())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_is_valid_beta_and_applying_it_twice_leaves_one_policy_that_passes() {
    let world = World::start().await;
    let (status, before) = get(&world, FABRIKAM, &["SSPR.Read"]).await;
    assert_eq!(status, 200, "{before:#}");
    assert_eq!(before["status"], "fail", "{before:#}");

    let (status, planned) = plan(&world, FABRIKAM, json!({"target": "allDevices"})).await;
    assert_eq!(status, 200, "{planned:#}");
    assert_eq!(planned["result"], "created");
    // Only beta names valid for their types, and enum values the beta schema lists.
    let beta = Schema::beta();
    let allow: Vec<Allow<'static>> = INHERITED.iter().map(|(a, _, _)| *a).collect();
    for (_, base, name) in INHERITED {
        assert!(
            beta.names(base).is_some_and(|names| names.contains(*name)),
            "{base} declares {name}"
        );
    }
    validate_with_allowlist(
        beta.validate("deviceManagementConfigurationPolicy", &planned["policy"]),
        &allow,
    )
    .expect("the policy uses beta names");
    for (value, enumeration) in [
        (
            &planned["policy"]["platforms"],
            "deviceManagementConfigurationPlatforms",
        ),
        (
            &planned["policy"]["technologies"],
            "deviceManagementConfigurationTechnologies",
        ),
    ] {
        let members = beta.enum_members(enumeration).expect("enum");
        assert!(
            members.iter().any(|m| value == m),
            "{value} is a member of {enumeration}"
        );
    }
    for assignment in planned["assignment"]["assignments"]
        .as_array()
        .expect("assignments")
    {
        validate_with_allowlist(
            beta.validate("deviceManagementConfigurationPolicyAssignment", assignment),
            &[],
        )
        .expect("the assignment uses beta names");
    }
    let calls: Vec<(&str, &str)> = planned["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| (c["method"].as_str().unwrap(), c["path"].as_str().unwrap()))
        .collect();
    assert_eq!(
        calls,
        [
            ("POST", "/beta/deviceManagement/configurationPolicies"),
            (
                "POST",
                "/beta/deviceManagement/configurationPolicies/{id}/assign"
            ),
        ]
    );
    assert!(
        intune_calls(&world, seed::FABRIKAM_ID)
            .iter()
            .all(|(m, ..)| m == "GET"),
        "a plan writes nothing"
    );

    let (status, first) = put(&world, FABRIKAM, json!({"target": "allDevices"})).await;
    assert_eq!(status, 201, "{first:#}");
    assert_eq!(first["result"], "created");
    let id = first["policyId"].as_str().expect("policyId");
    assert_eq!(
        first["calls"][1]["path"],
        format!("/beta/deviceManagement/configurationPolicies/{id}/assign"),
        "the calls made name the new policy"
    );
    let (status, second) = put(&world, FABRIKAM, json!({"target": "allDevices"})).await;
    assert_eq!(status, 200, "{second:#}");
    assert_eq!(second["result"], "unchanged");
    assert_eq!(second["policyId"], first["policyId"]);

    // The emulator accepted the body; one create, one assign, exactly one sspr policy.
    let writes: Vec<(String, String, u16)> = intune_calls(&world, seed::FABRIKAM_ID)
        .into_iter()
        .filter(|(m, ..)| m != "GET")
        .collect();
    assert_eq!(
        writes,
        [
            (
                "POST".to_owned(),
                "beta/deviceManagement/configurationPolicies".to_owned(),
                201
            ),
            (
                "POST".to_owned(),
                "beta/deviceManagement/configurationPolicies/{id}/assign".to_owned(),
                200
            ),
        ]
    );
    let ours = sspr_policies(&world);
    assert_eq!(ours.len(), 1, "{ours:#?}");
    assert_eq!(ours[0]["id"], first["policyId"]);

    let (_, after) = get(&world, FABRIKAM, &["SSPR.Read"]).await;
    assert_eq!(after["status"], "pass", "{after:#}");
    assert_eq!(after["ours"], first["policyId"]);
    assert_eq!(
        after["policies"][0]["assignments"],
        json!([{"target": "allDevices"}])
    );

    // Moving it to a group re-assigns the same policy (assign replaces the set).
    let group = "0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e";
    let (status, moved) = put(
        &world,
        FABRIKAM,
        json!({"target": "group", "groupId": group}),
    )
    .await;
    assert_eq!(status, 200, "{moved:#}");
    assert_eq!(moved["result"], "updated");
    let (_, now) = get(&world, FABRIKAM, &["SSPR.Read"]).await;
    assert_eq!(now["status"], "warn", "one group only: {now:#}");
    assert_eq!(
        now["policies"][0]["assignments"],
        json!([{"target": "group", "groupId": group}])
    );
    assert_eq!(sspr_policies(&world).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_intune_is_unknown_with_the_registry_alternative() {
    let world = World::start().await;
    let (status, body) = get(&world, CONTOSO, &["SSPR.Read"]).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["status"], "unknown");
    assert_eq!(body["reason"]["code"], "intuneLicenceMissing");
    assert_eq!(
        body["registryAlternative"]["key"],
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\AzureADAccount"
    );
    assert_eq!(
        body["registryAlternative"]["valueName"],
        "AllowPasswordReset"
    );
    assert_eq!(body["registryAlternative"]["data"], 1);
    // Its SKUs said so: Intune was not asked.
    assert!(intune_calls(&world, seed::CONTOSO_ID).is_empty());
    let (status, refused) = plan(&world, CONTOSO, json!({"target": "allDevices"})).await;
    assert_eq!(status, 403, "{refused:#}");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Intune"),
        "{refused:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_write_permission_a_deploy_is_refused_before_any_intune_call() {
    let world = World::start().await;
    // Before the service's first token for Fabrikam: its consent lacks ReadWrite.All.
    world.emulator.with_tenant(seed::FABRIKAM_ID, |t| {
        for principal in &mut t.service_principals {
            if principal.app_id == seed::GRAPH_APP_CLIENT_ID {
                for roles in principal.granted_app_roles.values_mut() {
                    roles.retain(|r| r != "DeviceManagementConfiguration.ReadWrite.All");
                }
            }
        }
    });
    let (status, body) = put(&world, FABRIKAM, json!({"target": "allDevices"})).await;
    assert_eq!(status, 403, "{body:#}");
    assert!(
        body.to_string()
            .contains("DeviceManagementConfiguration.ReadWrite.All"),
        "{body:#}"
    );
    assert!(
        intune_calls(&world, seed::FABRIKAM_ID).is_empty(),
        "no Intune call"
    );
    // Reading still works with Read.All.
    let (status, read) = get(&world, FABRIKAM, &["SSPR.Read"]).await;
    assert_eq!(status, 200);
    assert_eq!(read["status"], "fail");
    assert!(sspr_policies(&world).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_the_field_and_the_scripts_download() {
    let world = World::start().await;
    let (status, body) = plan(
        &world,
        FABRIKAM,
        json!({"target": "group", "groupId": "devices"}),
    )
    .await;
    assert_eq!(status, 400, "{body:#}");
    assert_eq!(body["field"], "groupId", "{body:#}");
    let (status, body) = plan(&world, FABRIKAM, json!({"target": "everyone"})).await;
    assert_eq!(status, 400, "{body:#}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("everyone"),
        "{body:#}"
    );

    let token = world.token(&["SSPR.Read"]);
    let response = world
        .get(&format!("{FABRIKAM}/script?format=reg"), Some(&token))
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let reg = response.text().await.unwrap();
    assert!(
        reg.contains("\"AllowPasswordReset\"=dword:00000001\r\n"),
        "{reg}"
    );
    let response = world
        .get(
            &format!("{FABRIKAM}/script?format=powershell"),
            Some(&token),
        )
        .await;
    assert!(response.text().await.unwrap().contains("-DetectOnly"));
    let (status, body) = get(
        &world,
        &format!("{FABRIKAM}/script?format=bat"),
        &["SSPR.Read"],
    )
    .await;
    assert_eq!(status, 400, "{body:#}");
    assert_eq!(body["field"], "format", "{body:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_profiles_blocking_policies_and_pages_are_read_from_intune() {
    use entra_emulator::seed::intune::{self, WindowsLink};
    let world = World::start().await;
    world.emulator.with_tenant(seed::FABRIKAM_ID, |t| {
        intune::set_windows_link(t, WindowsLink::Warn)
    });
    let (status, warn) = get(&world, FABRIKAM, &["SSPR.Read"]).await;
    assert_eq!(status, 200, "{warn:#}");
    assert_eq!(warn["status"], "warn", "{warn:#}");
    let kinds: Vec<(&str, &Value)> = warn["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .map(|p| (p["kind"].as_str().unwrap(), &p["assignments"]))
        .collect();
    assert_eq!(kinds.len(), 2, "{warn:#}");
    assert_eq!(kinds[0], ("settingsCatalog", &json!([])));
    assert_eq!(kinds[1].0, "customProfile");
    assert_eq!(kinds[1].1[0]["target"], "group");

    // A blocking policy on all devices fails the check, behind 30 unrelated policies: the
    // service follows Intune's pages (25 a page) to find it.
    world.emulator.with_tenant(seed::FABRIKAM_ID, |t| {
        intune::set_windows_link(t, WindowsLink::Blocked);
        let blocking = t.configuration_policies.remove(0);
        t.configuration_policies = (0..30)
            .map(|n| {
                let mut other = intune::settings_catalog_policy(
                    &format!("00000000-0000-4000-8000-{n:012}"),
                    &format!("Other {n}"),
                    true,
                    &[],
                );
                other.settings[0]["settingInstance"]["settingDefinitionId"] =
                    json!("device_vendor_msft_policy_config_other");
                other
            })
            .collect();
        t.configuration_policies.push(blocking);
    });
    let (_, blocked) = get(&world, FABRIKAM, &["SSPR.Read"]).await;
    assert_eq!(blocked["status"], "fail", "{blocked:#}");
    assert_eq!(blocked["policies"].as_array().map(Vec::len), Some(1));
    assert_eq!(blocked["policies"][0]["allows"], false);
    let read = blocked["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "policiesRead")
        .expect("policiesRead");
    assert!(
        read["value"]
            .as_str()
            .unwrap()
            .starts_with("31 settings-catalog"),
        "{read:#}"
    );
    // Applying makes sspr's policy, but the blocking one still conflicts.
    let (status, _) = put(&world, FABRIKAM, json!({"target": "allDevices"})).await;
    assert_eq!(status, 201);
    let (_, after) = get(&world, FABRIKAM, &["SSPR.Read"]).await;
    assert_eq!(after["status"], "fail", "a conflict: {after:#}");
}
