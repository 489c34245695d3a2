//! Reading the SSPR policy through the service, as the client library does, against the emulator.

use entra_emulator::seed;
use serde_json::{Value, json};
use sspr_client::ClientError;
use sspr_e2e::World;

#[tokio::test]
async fn contoso_policy_comes_from_graph_with_a_source_on_every_group() {
    let world = World::start().await;
    let policy = world
        .operator()
        .get_policy(seed::CONTOSO_DOMAIN)
        .await
        .expect("policy");
    let policy = serde_json::to_value(policy).expect("json");

    assert_eq!(policy["tenant"]["id"], seed::CONTOSO_ID);
    assert_eq!(policy["tenant"]["domain"], seed::CONTOSO_DOMAIN);
    for (name, group) in policy.as_object().expect("object") {
        if name != "tenant" && name != "retrievedAt" && name != "findings" {
            assert!(group["source"].is_string(), "group {name} has no source");
        }
    }
    // Synced from on-premises, migration in progress, admin SSPR off: all from Graph.
    assert_eq!(policy["directorySync"]["source"], "graph");
    assert_eq!(policy["directorySync"]["syncs"], true);
    assert_eq!(
        policy["administrators"],
        json!({"source": "graph", "allowedToUseSspr": false})
    );
    assert_eq!(
        policy["methodsPolicy"]["migrationState"],
        "migrationInProgress"
    );
    assert_eq!(policy["methods"]["source"], "graph");
    assert_eq!(policy["methods"]["authoritative"], false);
    assert_eq!(policy["methods"]["mobileAppNotification"]["usable"], true);
    // Contoso has the portal connector: the portal groups equal the emulator's raw objects.
    let (raw, on_premises) = world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            (
                t.password_reset_policies.clone(),
                t.on_premises_password_reset_policies.clone(),
            )
        })
        .expect("contoso");
    assert_eq!(policy["enablement"]["source"], "portal");
    assert_eq!(policy["enablement"]["scope"], "selected");
    assert_eq!(
        policy["enablement"]["groupId"],
        raw["passwordResetEnabledGroupIds"][0]
    );
    assert_eq!(policy["authentication"]["source"], "portal");
    assert_eq!(
        policy["authentication"]["methodsRequired"],
        raw["numberOfAuthenticationMethodsRequired"]
    );
    assert_eq!(
        policy["registration"]["reconfirmDays"],
        raw["registrationReconfirmIntevalInDays"]
    );
    assert_eq!(
        policy["registration"]["requireRegistrationOnSignIn"],
        raw["registrationRequiredOnSignIn"]
    );
    assert_eq!(
        policy["notifications"]["notifyUsersOnReset"],
        raw["notifyUsersOnPasswordReset"]
    );
    assert_eq!(
        policy["notifications"]["notifyAdminsOnAdminReset"],
        raw["notifyOnAdminPasswordReset"]
    );
    assert_eq!(policy["customization"]["source"], "portal");
    assert_eq!(policy["onPremises"]["integrated"], true);
    assert_eq!(
        policy["onPremises"]["passwordWriteback"],
        on_premises["passwordWritebackSupported"]
    );
    assert_eq!(
        policy["onPremises"]["unlockWithoutReset"],
        on_premises["accountUnlockEnabled"]
    );
}

#[tokio::test]
async fn fabrikam_is_cloud_only_and_its_pre_migration_methods_are_unavailable() {
    let world = World::start().await;
    let policy = world
        .operator()
        .get_policy(seed::FABRIKAM_DOMAIN)
        .await
        .expect("policy");
    let policy = serde_json::to_value(policy).expect("json");
    assert_eq!(policy["directorySync"]["syncs"], false);
    assert!(policy["directorySync"]["onPremisesSyncEnabled"].is_null());
    assert_eq!(policy["methodsPolicy"]["migrationState"], "preMigration");
    assert_eq!(policy["methods"]["source"], "unavailable");
    assert!(
        policy["methods"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("preMigration"))
    );
    assert_eq!(policy["administrators"]["allowedToUseSspr"], true);
    // No portal connector and no P1 for the registration report: nothing to infer from.
    assert_eq!(policy["enablement"]["source"], "unavailable");
    assert!(
        policy["enablement"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("P1")),
        "{}",
        policy["enablement"]
    );
    for group in [
        "authentication",
        "registration",
        "notifications",
        "customization",
        "onPremises",
    ] {
        assert_eq!(policy[group]["source"], "unavailable", "{group}");
        assert!(
            policy[group]["reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{group} has no reason"
        );
        assert!(
            policy[group]["remedy"]
                .as_str()
                .is_some_and(|r| r.contains("portal connector")),
            "{group} has no remedy"
        );
    }
}

#[tokio::test]
async fn a_tenant_can_be_named_by_id_or_any_domain_in_any_case() {
    let world = World::start().await;
    let client = world.operator();
    for name in [seed::CONTOSO_ID, "CONTOSO.onmicrosoft.com", "contoso.com"] {
        let policy = client
            .get_policy(name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let policy = serde_json::to_value(policy).expect("json");
        assert_eq!(policy["tenant"]["id"], seed::CONTOSO_ID, "{name}");
    }
}

#[tokio::test]
async fn a_change_in_the_tenant_shows_through_the_service() {
    let world = World::start().await;
    let client = world.operator();
    let before = client
        .get_policy(seed::CONTOSO_DOMAIN)
        .await
        .expect("policy");
    let before = serde_json::to_value(before).expect("json");
    assert_eq!(before["administrators"]["allowedToUseSspr"], false);
    assert_eq!(before["methods"]["email"]["usable"], true);

    world
        .emulator
        .with_tenant(seed::CONTOSO_DOMAIN, |tenant| {
            tenant.authorization_policy["allowedToUseSSPR"] = json!(true);
            let policy = &mut tenant.authentication_methods_policy;
            policy["policyMigrationState"] = json!("migrationComplete");
            for configuration in policy["authenticationMethodConfigurations"]
                .as_array_mut()
                .expect("configurations")
            {
                if configuration["id"] == "Email" {
                    configuration["state"] = json!("disabled");
                }
            }
        })
        .expect("contoso exists");

    // Within the cache's age the service answers from cache; `no-cache` reads the tenant now.
    let cached = client
        .get_policy(seed::CONTOSO_DOMAIN)
        .await
        .expect("policy");
    let cached = serde_json::to_value(cached).expect("json");
    assert_eq!(cached["administrators"]["allowedToUseSspr"], false);
    let after: Value = world
        .http
        .get(
            world
                .service
                .url
                .join("v1/tenants/contoso.onmicrosoft.com/sspr/policy")
                .expect("url"),
        )
        .bearer_auth(world.token(&["SSPR.Read"]))
        .header("cache-control", "no-cache")
        .send()
        .await
        .expect("service answers")
        .json()
        .await
        .expect("json");
    assert_eq!(after["administrators"]["allowedToUseSspr"], true);
    assert_eq!(
        after["methodsPolicy"]["migrationState"],
        "migrationComplete"
    );
    assert_eq!(after["methods"]["authoritative"], true);
    assert_eq!(after["methods"]["email"]["usable"], false);
}

#[tokio::test]
async fn the_graph_token_is_fetched_once_per_tenant_while_valid() {
    let world = World::start().await;
    let client = world.operator();
    for _ in 0..3 {
        client
            .get_policy(seed::CONTOSO_DOMAIN)
            .await
            .expect("contoso");
    }
    client
        .get_policy(seed::FABRIKAM_DOMAIN)
        .await
        .expect("fabrikam");
    // Graph tokens come from the v2 client-credentials endpoint; contoso's portal connector
    // redeems its refresh token at the v1 endpoint. Each is fetched once while valid.
    let token_calls = |tenant: &str, path_end: &str| {
        world
            .emulator
            .calls()
            .iter()
            .filter(|c| c.tenant_id.as_deref() == Some(tenant) && c.path.ends_with(path_end))
            .count()
    };
    assert_eq!(token_calls(seed::CONTOSO_ID, "/oauth2/v2.0/token"), 1);
    assert_eq!(token_calls(seed::FABRIKAM_ID, "/oauth2/v2.0/token"), 1);
    assert_eq!(
        token_calls(seed::CONTOSO_ID, "/oauth2/token"),
        1,
        "portal token reused"
    );
    assert_eq!(world.emulator.token_requests(seed::CONTOSO_ID), 2);
    // Three Graph reads per policy document, and the three requests for contoso within the
    // cache's age cost one document read.
    assert_eq!(world.emulator.graph_requests(seed::CONTOSO_ID), 3);
}

#[tokio::test]
async fn graph_request_ids_are_returned_to_the_caller() {
    let world = World::start().await;
    let token = world.token(&["SSPR.Read"]);
    let response = world
        .get(
            "v1/tenants/contoso.onmicrosoft.com/sspr/policy",
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), 200);
    let ids = response.headers()["graph-request-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(ids.split(", ").count(), 3, "{ids}");
    assert!(response.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn tenants_list_shows_the_callers_tenants_only() {
    let world = World::start_with(|config| {
        config.auth.access.push(sspr_service::config::AccessGrant {
            principal: "contoso-only-operator".into(),
            tenants: vec![seed::CONTOSO_ID.into()],
        });
    })
    .await;
    let all = world.operator().list_tenants().await.expect("tenants");
    let domains: Vec<&str> = all.iter().map(|t| t.domain.as_str()).collect();
    assert_eq!(domains, [seed::CONTOSO_DOMAIN, seed::FABRIKAM_DOMAIN]);

    let token = world.emulator.mint_token(&entra_emulator::TokenSpec {
        roles: vec!["SSPR.Read".into()],
        oid: "contoso-only-operator".into(),
        app_id: "some-other-app".into(),
        ..Default::default()
    });
    let mine = world.client(token).list_tenants().await.expect("tenants");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].id, seed::CONTOSO_ID);
}

#[tokio::test]
async fn an_unknown_tenant_is_a_404_problem() {
    let world = World::start().await;
    let error = world
        .operator()
        .get_policy("nowhere.onmicrosoft.com")
        .await
        .expect_err("unknown");
    match &error {
        ClientError::Api { status, problem } => {
            assert_eq!(*status, 404);
            assert!(problem.detail.contains("nowhere.onmicrosoft.com"));
        }
        other => panic!("expected a 404 problem, got {other:?}"),
    }
    assert_eq!(error.exit_code(), 4);
    assert_eq!(world.customer_graph_calls(), 0);
}

#[tokio::test]
async fn emulator_down_is_a_503_problem_and_the_service_stays_up() {
    let world = World::start().await;
    let World {
        emulator,
        service,
        http,
    } = world;
    let token = emulator.mint_token(&entra_emulator::TokenSpec {
        roles: vec!["SSPR.Read".into()],
        ..Default::default()
    });
    emulator.shutdown().await;

    let url = service
        .url
        .join("v1/tenants/contoso.onmicrosoft.com/sspr/policy")
        .expect("url");
    let response = http
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("service answers");
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: serde_json::Value = response.json().await.expect("problem");
    let detail = problem["detail"].as_str().expect("detail");
    assert!(detail.contains("unreachable"), "{detail}");

    let health = http
        .get(service.url.join("healthz").expect("url"))
        .send()
        .await
        .expect("alive");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn a_refused_graph_credential_is_a_502_problem_without_the_secret() {
    let world = World::start_with(|config| {
        for tenant in &mut config.tenants {
            if tenant.id == seed::FABRIKAM_ID {
                tenant.credential = sspr_service::config::CredentialConfig::ClientSecret {
                    client_id: seed::GRAPH_APP_CLIENT_ID.into(),
                    client_secret: "wrong-secret-value-123".to_owned().into(),
                };
            }
        }
    })
    .await;
    let token = world.token(&["SSPR.Read"]);
    let response = world
        .get(
            "v1/tenants/fabrikam.onmicrosoft.com/sspr/policy",
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), 502);
    let body = response.text().await.expect("body");
    assert!(
        body.contains("7000215"),
        "the Entra error code should reach the caller: {body}"
    );
    assert!(
        !body.contains("wrong-secret-value-123"),
        "secret leaked: {body}"
    );
    assert_eq!(world.emulator.graph_requests(seed::FABRIKAM_ID), 0);
    // The other tenant is unaffected.
    world
        .operator()
        .get_policy(seed::CONTOSO_DOMAIN)
        .await
        .expect("contoso still works");
}

#[tokio::test]
async fn a_graph_refusal_is_a_502_problem_naming_graphs_code_and_request_id() {
    let world = World::start().await;
    // The customer revoked the consent for policy reads: only Organization.Read.All remains.
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |tenant| {
            for principal in &mut tenant.service_principals {
                if principal.app_id == seed::GRAPH_APP_CLIENT_ID {
                    for roles in principal.granted_app_roles.values_mut() {
                        roles.retain(|r| r == "Organization.Read.All");
                    }
                }
            }
        })
        .expect("contoso");
    let token = world.token(&["SSPR.Read"]);
    let response = world
        .get(
            "v1/tenants/contoso.onmicrosoft.com/sspr/policy",
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), 502);
    let problem: serde_json::Value = response.json().await.expect("problem");
    assert_eq!(problem["upstreamStatus"], 403);
    assert_eq!(problem["upstreamCode"], "Authorization_RequestDenied");
    assert!(
        problem["upstreamRequestId"]
            .as_str()
            .is_some_and(|id| id.len() == 36),
        "{problem}"
    );
    assert!(
        problem["title"]
            .as_str()
            .is_some_and(|t| t.contains("refused")),
        "{problem}"
    );
}
