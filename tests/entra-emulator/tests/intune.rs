//! Intune device configuration (beta): the settings-catalog policies, their settings and
//! assignments, create / assign / delete, custom profiles, permissions, the Intune licence, the
//! call log and the Intune throttling bucket.

mod common;

use entra_emulator::seed::intune::{self, WindowsLink};
use entra_emulator::{Emulator, EmulatorConfig, ThrottleConfig, TokenSpec, seed};
use serde_json::{Value, json};

const POLICIES: &str = "beta/deviceManagement/configurationPolicies";

fn token(emulator: &Emulator, tenant: &str, roles: &[&str]) -> String {
    emulator.mint_token(&TokenSpec {
        tenant_id: tenant.into(),
        audience: seed::GRAPH_RESOURCE.into(),
        app_id: seed::GRAPH_APP_CLIENT_ID.into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        ..TokenSpec::default()
    })
}

const READ: &[&str] = &["DeviceManagementConfiguration.Read.All"];
const WRITE: &[&str] = &["DeviceManagementConfiguration.ReadWrite.All"];

async fn call(
    client: &reqwest::Client,
    emulator: &Emulator,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", emulator.base_url());
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("emulator answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The settings-catalog body of msp-readiness.md §3b, with the settings the seeds store.
fn allow_body(name: &str) -> Value {
    let stored = intune::settings_catalog_policy("unused", name, true, &[]);
    json!({
        "name": name,
        "description": "Managed by sspr",
        "platforms": "windows10",
        "technologies": "mdm",
        "roleScopeTagIds": ["0"],
        "settings": stored.settings,
    })
}

#[tokio::test]
async fn seeded_policies_list_with_settings_and_assignments() {
    let (emulator, client) = common::start().await;
    let operator = token(&emulator, seed::OPERATOR_ID, READ);
    let (status, body) = call(
        &client,
        &emulator,
        reqwest::Method::GET,
        &format!("{POLICIES}?$expand=settings,assignments"),
        &operator,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let policy = &body["value"][0];
    assert_eq!(policy["id"], intune::OPERATOR_ALLOW_POLICY);
    assert_eq!(policy["isAssigned"], true);
    assert_eq!(
        policy["settings"][0]["settingInstance"]["choiceSettingValue"]["value"],
        format!("{}_1", intune::SETTING_DEFINITION_ID)
    );
    assert_eq!(
        policy["assignments"][0]["target"]["@odata.type"],
        "#microsoft.graph.allDevicesAssignmentTarget"
    );
    // The custom profile of Tailspin, with its assignment expanded.
    let tailspin = token(&emulator, seed::TAILSPIN_ID, READ);
    let (status, body) = call(
        &client,
        &emulator,
        reqwest::Method::GET,
        "beta/deviceManagement/deviceConfigurations?$expand=assignments",
        &tailspin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let profile = &body["value"][0];
    assert_eq!(
        profile["@odata.type"],
        "#microsoft.graph.windows10CustomConfiguration"
    );
    assert_eq!(profile["omaSettings"][0]["omaUri"], intune::OMA_URI);
    assert_eq!(profile["omaSettings"][0]["value"], 1);
    assert_eq!(
        profile["assignments"][0]["target"]["groupId"],
        intune::TAILSPIN_DEVICE_GROUP
    );
    // Beta only.
    let (status, _) = call(
        &client,
        &emulator,
        reqwest::Method::GET,
        "v1.0/deviceManagement/configurationPolicies",
        &operator,
        None,
    )
    .await;
    assert_eq!(status, 400);
    emulator.shutdown().await;
}

#[tokio::test]
async fn create_assign_replace_and_delete() {
    let (emulator, client) = common::start().await;
    let writer = token(&emulator, seed::FABRIKAM_ID, WRITE);
    let (status, created) = call(
        &client,
        &emulator,
        reqwest::Method::POST,
        POLICIES,
        &writer,
        Some(allow_body("sspr - Windows sign-in SSPR link")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["settingCount"], 1);
    assert_eq!(created["isAssigned"], false);
    let group = "0b6c5d4e-3f2a-4b1c-9d8e-7f6a5b4c3d2e";
    let assign = |targets: Value| {
        let client = client.clone();
        let emulator = emulator.clone();
        let writer = writer.clone();
        let id = id.clone();
        async move {
            call(
                &client,
                &emulator,
                reqwest::Method::POST,
                &format!("{POLICIES}/{id}/assign"),
                &writer,
                Some(json!({ "assignments": targets })),
            )
            .await
        }
    };
    let (status, body) = assign(json!([
        { "target": { "@odata.type": "#microsoft.graph.allDevicesAssignmentTarget" } },
        { "target": { "@odata.type": "#microsoft.graph.exclusionGroupAssignmentTarget", "groupId": group } }
    ]))
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().map(Vec::len), Some(2));
    // A second assign replaces the set.
    let (status, body) = assign(json!([
        { "target": { "@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group } }
    ]))
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, assignments) = call(
        &client,
        &emulator,
        reqwest::Method::GET,
        &format!("{POLICIES}/{id}/assignments"),
        &writer,
        None,
    )
    .await;
    let targets: Vec<&Value> = assignments["value"]
        .as_array()
        .expect("value")
        .iter()
        .map(|a| &a["target"])
        .collect();
    assert_eq!(
        targets,
        [&json!({"@odata.type": "#microsoft.graph.groupAssignmentTarget", "groupId": group})]
    );
    // A bad target is Graph's 400, and changes nothing.
    let (status, body) =
        assign(json!([{ "target": { "@odata.type": "#microsoft.graph.everyone" } }])).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("assignments[0].target")
    );
    let (_, settings) = call(
        &client,
        &emulator,
        reqwest::Method::GET,
        &format!("{POLICIES}/{id}/settings"),
        &writer,
        None,
    )
    .await;
    assert_eq!(
        settings["value"][0]["settingInstance"]["settingDefinitionId"],
        intune::SETTING_DEFINITION_ID
    );
    let (status, _) = call(
        &client,
        &emulator,
        reqwest::Method::DELETE,
        &format!("{POLICIES}/{id}"),
        &writer,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = call(
        &client,
        &emulator,
        reqwest::Method::GET,
        &format!("{POLICIES}/{id}"),
        &writer,
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    // The call log names the routes.
    let routes: Vec<String> = emulator
        .calls()
        .into_iter()
        .filter_map(|c| c.route)
        .collect();
    assert!(routes.contains(&"beta/deviceManagement/configurationPolicies/{id}/assign".to_owned()));
    assert!(routes.contains(&"beta/deviceManagement/configurationPolicies".to_owned()));
    emulator.shutdown().await;
}

#[tokio::test]
async fn bad_create_bodies_are_graphs_400() {
    let (emulator, client) = common::start().await;
    let writer = token(&emulator, seed::FABRIKAM_ID, WRITE);
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut b = allow_body("x");
                b["nmae"] = json!("typo");
                b
            },
            "'nmae'",
        ),
        (
            {
                let mut b = allow_body("x");
                b["platforms"] = json!("windows11");
                b
            },
            "windows11",
        ),
        (
            {
                let mut b = allow_body("x");
                b["name"] = json!("");
                b
            },
            "'name'",
        ),
        (
            {
                let mut b = allow_body("x");
                b["settings"][0]["settingInstance"]["@odata.type"] =
                    json!("#microsoft.graph.deviceManagementConfigurationSimpleSettingInstance");
                b
            },
            "ChoiceSettingInstance",
        ),
        (
            {
                let mut b = allow_body("x");
                b["settings"][0]["settingInstance"]["choiceSettingValue"]["value"] = json!(
                    "device_vendor_msft_policy_config_authentication_allowaadpasswordreset_2"
                );
                b
            },
            "not an option",
        ),
        (
            {
                let mut b = allow_body("x");
                b["settings"][0]["settingInstance"]["settingDefinitionId"] =
                    json!("device_vendor_msft_policy_config_nothing");
                b
            },
            "not found in the settings catalog",
        ),
    ];
    for (body, needle) in cases {
        let (status, answer) = call(
            &client,
            &emulator,
            reqwest::Method::POST,
            POLICIES,
            &writer,
            Some(body),
        )
        .await;
        assert_eq!(status, 400, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{needle}: {message}");
    }
    let stored = emulator
        .with_tenant(seed::FABRIKAM_ID, |t| t.configuration_policies.len())
        .unwrap();
    assert_eq!(stored, 0, "nothing was created");
    emulator.shutdown().await;
}

#[tokio::test]
async fn permissions_and_the_intune_licence_are_enforced() {
    let (emulator, client) = common::start().await;
    let get = |tenant: &str, roles: &[&str]| {
        let t = token(&emulator, tenant, roles);
        let client = client.clone();
        let emulator = emulator.clone();
        async move { call(&client, &emulator, reqwest::Method::GET, POLICIES, &t, None).await }
    };
    // Read.All and ReadWrite.All read; nothing else does.
    assert_eq!(get(seed::FABRIKAM_ID, READ).await.0, 200);
    assert_eq!(get(seed::FABRIKAM_ID, WRITE).await.0, 200);
    let (status, body) = get(seed::FABRIKAM_ID, &["Policy.Read.All"]).await;
    assert_eq!(status, 403, "{body}");
    // Read.All does not write.
    let reader = token(&emulator, seed::FABRIKAM_ID, READ);
    let (status, _) = call(
        &client,
        &emulator,
        reqwest::Method::POST,
        POLICIES,
        &reader,
        Some(allow_body("x")),
    )
    .await;
    assert_eq!(status, 403);
    // Contoso has no Intune licence.
    let (status, body) = get(seed::CONTOSO_ID, READ).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "Request not applicable to target tenant."
    );
    // Basic Mobility (INTUNE_O365) is not Intune; an Intune Plan 1 SKU is.
    emulator.with_tenant(seed::CONTOSO_ID, |t| {
        t.subscribed_skus[0]["servicePlans"]
            .as_array_mut()
            .unwrap()
            .push(json!({"servicePlanId": intune::INTUNE_O365_PLAN_ID, "servicePlanName": "INTUNE_O365", "provisioningStatus": "Success", "appliesTo": "User"}));
    });
    assert_eq!(get(seed::CONTOSO_ID, READ).await.0, 400);
    emulator.with_tenant(seed::CONTOSO_ID, intune::license);
    assert_eq!(get(seed::CONTOSO_ID, READ).await.0, 200);
    // A suspended Intune SKU no longer licenses.
    emulator.with_tenant(seed::CONTOSO_ID, |t| {
        t.subscribed_skus.last_mut().unwrap()["capabilityStatus"] = json!("Suspended");
    });
    assert_eq!(get(seed::CONTOSO_ID, READ).await.0, 400);
    emulator.shutdown().await;
}

#[tokio::test]
async fn lists_page_as_graph_does() {
    let (emulator, client) = common::start().await;
    emulator.with_tenant(seed::FABRIKAM_ID, |t| {
        t.configuration_policies = (0..30)
            .map(|n| {
                intune::settings_catalog_policy(
                    &format!("00000000-0000-4000-8000-{n:012}"),
                    &format!("policy {n}"),
                    n % 2 == 0,
                    &[],
                )
            })
            .collect();
    });
    let reader = token(&emulator, seed::FABRIKAM_ID, READ);
    let mut path = format!("{POLICIES}?$expand=settings");
    let mut seen = 0;
    let mut pages = 0;
    loop {
        let (status, body) = call(
            &client,
            &emulator,
            reqwest::Method::GET,
            &path,
            &reader,
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        for policy in body["value"].as_array().unwrap() {
            assert!(policy["settings"].is_array(), "$expand kept on every page");
            seen += 1;
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => {
                path = next
                    .trim_start_matches(emulator.base_url().as_str())
                    .to_owned()
            }
            None => break,
        }
    }
    assert_eq!((seen, pages), (30, 2), "25 per page without $top");
    let (status, _) = call(
        &client,
        &emulator,
        reqwest::Method::GET,
        &format!("{POLICIES}?$top=0"),
        &reader,
        None,
    )
    .await;
    assert_eq!(status, 400);
    emulator.shutdown().await;
}

#[tokio::test]
async fn intune_has_its_own_throttling_bucket() {
    let emulator = Emulator::start(EmulatorConfig {
        throttling: ThrottleConfig {
            intune_per_app_per_tenant: 2,
            ..ThrottleConfig::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator");
    let client = common::client_for(&emulator);
    let reader = token(&emulator, seed::FABRIKAM_ID, READ);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(
            call(
                &client,
                &emulator,
                reqwest::Method::GET,
                POLICIES,
                &reader,
                None,
            )
            .await
            .0,
        );
    }
    assert_eq!(statuses, [200, 200, 429]);
    // Another tenant's budget is its own.
    let operator = token(&emulator, seed::OPERATOR_ID, READ);
    assert_eq!(
        call(
            &client,
            &emulator,
            reqwest::Method::GET,
            POLICIES,
            &operator,
            None
        )
        .await
        .0,
        200
    );
    emulator.shutdown().await;
}

#[test]
fn generated_tenants_spread_over_every_outcome() {
    let tenants = entra_emulator::generator::generate(&entra_emulator::GeneratorSpec {
        tenants: 5,
        users_per_tenant: 20,
        seed: 3,
    });
    let outcomes: Vec<(bool, usize, usize)> = tenants
        .iter()
        .map(|t| {
            (
                intune::is_licensed(t),
                t.configuration_policies.len(),
                t.device_configurations.len(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (true, 1, 0),
            (true, 1, 1),
            (true, 0, 0),
            (false, 0, 0),
            (true, 1, 0)
        ]
    );
    assert_eq!(intune::generated_link(3), WindowsLink::Unlicensed);
    assert_eq!(intune::generated_link(4), WindowsLink::Blocked);
}
