//! Tenancy end to end: verifying what the app may do in a tenant from a fresh token's `roles`,
//! the verdict shown as the tenant's health, a missing Conditional Access permission refusing
//! registration protection before any Graph write, and tag-based access.

use entra_emulator::{Emulator, seed};
use serde_json::{Value, json};
use sspr_e2e::World;

const CA_WRITE: &str = "Policy.ReadWrite.ConditionalAccess";
const PROTECTION: &str = "v1/tenants/contoso.onmicrosoft.com/registration-protection";

/// `POST /v1/tenants/{tenant}/verify`.
async fn verify(world: &World, tenant: &str, token: &str) -> (u16, Value) {
    let path = format!("v1/tenants/{tenant}/verify");
    world.call(reqwest::Method::POST, &path, token, None).await
}

/// The customer withdraws one application permission from the Graph app in Contoso.
fn withdraw(emulator: &Emulator, permission: &str) {
    emulator
        .with_tenant(seed::CONTOSO_ID, |tenant| {
            for principal in &mut tenant.service_principals {
                if principal.app_id == seed::GRAPH_APP_CLIENT_ID {
                    for roles in principal.granted_app_roles.values_mut() {
                        roles.retain(|r| r != permission);
                    }
                }
            }
        })
        .expect("contoso");
}

fn feature<'a>(verdict: &'a Value, name: &str) -> &'a Value {
    verdict["features"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["feature"] == name))
        .unwrap_or_else(|| panic!("no {name} in {verdict:#}"))
}

/// Conditional Access writes the emulator received.
fn ca_writes(emulator: &Emulator) -> usize {
    emulator
        .calls()
        .iter()
        .filter(|c| c.method != "GET" && c.path.contains("identity/conditionalAccess"))
        .count()
}

#[tokio::test]
async fn verify_reads_a_fresh_token_and_its_verdict_becomes_the_tenants_health() {
    let world = World::start().await;
    let writer = world.token(&["SSPR.ReadWrite"]);
    let (status, before) = world
        .call(
            reqwest::Method::GET,
            "v1/tenants/contoso.onmicrosoft.com",
            &writer,
            None,
        )
        .await;
    assert_eq!(status, 200, "{before:#}");
    assert_eq!(before["health"]["status"], "unverified", "{before:#}");

    let (status, verdict) = verify(&world, "contoso.onmicrosoft.com", &writer).await;
    assert_eq!(status, 200, "{verdict:#}");
    assert_eq!(verdict["tokenIssued"], true);
    assert_eq!(verdict["clientId"], seed::GRAPH_APP_CLIENT_ID);
    let granted: Vec<&str> = verdict["grantedPermissions"]
        .as_array()
        .expect("granted")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut expected = seed::GRAPH_APP_PERMISSIONS.to_vec();
    expected.sort_unstable();
    assert_eq!(granted, expected, "the token's roles, sorted");
    for f in verdict["features"].as_array().expect("features") {
        assert_eq!(f["available"], true, "{f}");
    }

    // Withdrawn after a token was cached: only a fresh token shows it, and verify gets one.
    withdraw(&world.emulator, CA_WRITE);
    let (_, verdict) = verify(&world, "contoso.onmicrosoft.com", &writer).await;
    let ca = feature(&verdict, "conditionalAccess");
    assert_eq!(ca["available"], false, "{ca}");
    assert_eq!(ca["missingPermissions"], json!([CA_WRITE]));
    assert_eq!(ca["licence"], "Microsoft Entra ID P1");
    assert_eq!(feature(&verdict, "registrations")["available"], true);

    let (_, list) = world
        .call(reqwest::Method::GET, "v1/tenants", &writer, None)
        .await;
    let contoso = list["value"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["id"] == seed::CONTOSO_ID))
        .expect("contoso listed");
    assert_eq!(contoso["health"]["status"], "degraded", "{contoso:#}");
    assert!(
        contoso["health"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains(CA_WRITE)),
        "{contoso:#}"
    );
    assert_eq!(contoso["verification"], verdict);
    assert!(
        contoso["credential"]["lastSuccess"].is_string(),
        "{contoso:#}"
    );
    assert_eq!(contoso["credential"]["kind"], "clientSecret");
    assert!(contoso["credential"].get("clientSecret").is_none());
    assert_eq!(contoso["tags"], json!(["region:eu", "tier:gold"]));

    // The verdict now gates registration protection: refused before any Graph write, even
    // though the cached token still carries the permission.
    let writes = ca_writes(&world.emulator);
    let (status, problem) = world
        .call(reqwest::Method::PUT, PROTECTION, &writer, Some(json!({})))
        .await;
    assert_eq!(status, 403, "{problem:#}");
    assert_eq!(problem["code"], "permissionMissing", "{problem:#}");
    assert_eq!(problem["missingPermissions"], json!([CA_WRITE]));
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains(CA_WRITE) && d.contains("contoso.onmicrosoft.com")),
        "{problem:#}"
    );
    assert_eq!(
        ca_writes(&world.emulator),
        writes,
        "no Conditional Access write"
    );

    // Reads only need Policy.Read.All: the status still answers.
    let (status, _) = world
        .call(reqwest::Method::GET, PROTECTION, &writer, None)
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn without_a_verdict_the_current_tokens_roles_gate_the_write() {
    let world = World::start().await;
    withdraw(&world.emulator, CA_WRITE);
    let writer = world.token(&["SSPR.ReadWrite"]);
    for state in [json!({}), json!({"state": "enabled"})] {
        let (status, problem) = world
            .call(
                reqwest::Method::PUT,
                &format!("{PROTECTION}?dryRun=true"),
                &writer,
                Some(state),
            )
            .await;
        assert_eq!(status, 403, "{problem:#}");
        assert_eq!(problem["missingPermissions"], json!([CA_WRITE]));
    }
    assert_eq!(ca_writes(&world.emulator), 0);
}

#[tokio::test]
async fn a_refused_token_is_a_verdict_and_only_writers_may_verify() {
    let world = World::start().await;
    // The customer removed the app from Fabrikam: Entra answers AADSTS700016.
    world
        .emulator
        .with_tenant(seed::FABRIKAM_ID, |tenant| {
            tenant
                .service_principals
                .retain(|p| p.app_id != seed::GRAPH_APP_CLIENT_ID);
        })
        .expect("fabrikam");
    let (status, verdict) = verify(
        &world,
        "fabrikam.onmicrosoft.com",
        &world.token(&["SSPR.ReadWrite"]),
    )
    .await;
    assert_eq!(status, 200, "{verdict:#}");
    assert_eq!(verdict["tokenIssued"], false);
    assert!(
        verdict["tokenError"]
            .as_str()
            .is_some_and(|e| e.contains("700016")),
        "{verdict:#}"
    );
    assert!(
        verdict["features"]
            .as_array()
            .expect("features")
            .iter()
            .all(|f| f["available"] == false)
    );
    let (_, tenant) = world
        .call(
            reqwest::Method::GET,
            "v1/tenants/fabrikam.onmicrosoft.com",
            &world.token(&["SSPR.Read"]),
            None,
        )
        .await;
    assert_eq!(tenant["health"]["status"], "failing", "{tenant:#}");

    let (status, problem) = verify(
        &world,
        "contoso.onmicrosoft.com",
        &world.token(&["SSPR.Read"]),
    )
    .await;
    assert_eq!(status, 403, "{problem:#}");
}

#[tokio::test]
async fn a_principal_granted_a_tag_sees_only_the_tenants_with_it() {
    const EU_HELPDESK: &str = "7a7a7a7a-1111-4222-8333-944444444444";
    let world = World::start_with(|config| {
        for tenant in &mut config.tenants {
            tenant.tags = if tenant.id == seed::CONTOSO_ID {
                vec!["region:eu".into()]
            } else {
                vec!["region:us".into()]
            };
        }
        config.auth.access.push(sspr_service::config::AccessGrant {
            principal: EU_HELPDESK.into(),
            tenants: vec!["tag:region:eu".into()],
        });
    })
    .await;
    let token = world.emulator.mint_token(&entra_emulator::TokenSpec {
        roles: vec!["SSPR.Admin".into()],
        oid: EU_HELPDESK.into(),
        // Not the CLI app, which the demo grants every tenant.
        app_id: "7a7a7a7a-2222-4333-8444-955555555555".into(),
        ..entra_emulator::TokenSpec::default()
    });
    let (status, list) = world
        .call(reqwest::Method::GET, "v1/tenants", &token, None)
        .await;
    assert_eq!(status, 200, "{list:#}");
    let ids: Vec<&str> = list["value"]
        .as_array()
        .expect("tenants")
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert_eq!(ids, [seed::CONTOSO_ID]);
    assert_eq!(list["value"][0]["tags"], json!(["region:eu"]));

    for path in [
        "v1/tenants/fabrikam.onmicrosoft.com",
        "v1/tenants/fabrikam.onmicrosoft.com/sspr/policy",
        "v1/tenants/fabrikam.onmicrosoft.com/registrations/summary",
        "v1/registrations/summary?tenants=fabrikam.onmicrosoft.com",
        "v1/audit?tenant=fabrikam.onmicrosoft.com",
    ] {
        let (status, problem) = world.call(reqwest::Method::GET, path, &token, None).await;
        // As unknown as a tenant that does not exist: nothing says fabrikam is managed here.
        assert_eq!(status, 404, "{path}: {problem:#}");
        assert_eq!(problem["code"], "unknownTenant", "{path}: {problem:#}");
    }
    // The fleet: everything the caller may see, and a tag of the other region selects nothing.
    for query in ["all", "tag:region:us", "tag:region:eu,tag:region:us"] {
        let text = world.fleet_ndjson(query, &token).await;
        assert!(!text.contains(seed::FABRIKAM_ID), "{query}: {text}");
        assert_eq!(
            text.contains(seed::CONTOSO_ID),
            query != "tag:region:us",
            "{query}: {text}"
        );
    }
    let (status, problem) = world
        .call(
            reqwest::Method::GET,
            "v1/registrations/summary?tenants=tag:Region%20EU",
            &token,
            None,
        )
        .await;
    assert_eq!(status, 400, "{problem:#}");
    assert_eq!(problem["field"], "tenants");
}

#[tokio::test]
async fn a_bad_tag_or_grant_selector_stops_the_service_at_start_naming_it() {
    let emulator = Emulator::start(Default::default()).await.expect("emulator");
    let listen = "127.0.0.1:0".parse().expect("address");
    let mut config = sspr_service::demo::config_for(&emulator, listen);
    config.tenants[0].tags = vec!["Region EU".into()];
    let error = sspr_service::app::Application::build(config.clone())
        .await
        .err()
        .expect("refused");
    assert!(error.to_string().contains("tags"), "{error:#}");

    let mut config = sspr_service::demo::config_for(&emulator, listen);
    config.auth.access[0].tenants = vec!["tag:".into()];
    let error = sspr_service::app::Application::build(config)
        .await
        .err()
        .expect("refused");
    assert!(
        error.to_string().contains("auth.access[0].tenants"),
        "{error:#}"
    );
}
