//! `GET /v1/registrations/summary?tenants=…`: every tenant's registration summary, streamed as
//! each completes; a tenant whose Graph is down, or that lacks P1, is named with its problem and
//! the others still answer; access is checked before any Graph call.

#[path = "support/registrations.rs"]
mod support;

use std::collections::BTreeMap;

use entra_emulator::{Fault, FaultRule, ThrottleConfig, TokenSpec, seed};
use serde_json::Value;
use sspr_e2e::{GeneratedTenant, World};
use support::{counts_of, expected_counts, truth};

/// Three generated tenants with P1 besides contoso (P1) and fabrikam (no P1); Graph never
/// throttles; a failed Graph call is not retried (the failures here are permanent).
async fn world(adjust: impl FnOnce(&mut sspr_service::Config)) -> (World, Vec<GeneratedTenant>) {
    let (world, generated) = World::start_generated(3, 40, |config| {
        config.graph.limits.enabled = false;
        config.graph.limits.max_attempts = 1;
        config.registrations.fleet_concurrency = 2;
        config.auth.access.push(sspr_service::config::AccessGrant {
            principal: "contoso-only".into(),
            tenants: vec![seed::CONTOSO_DOMAIN.into()],
        });
        adjust(config);
    })
    .await;
    world.emulator.set_throttling(ThrottleConfig {
        enabled: false,
        ..ThrottleConfig::default()
    });
    for tenant in &generated {
        world
            .emulator
            .with_tenant(&tenant.id, |t| t.set_premium(true))
            .expect("tenant");
    }
    (world, generated)
}

/// Graph is down for `tenant`: its token endpoint answers 503 to every request.
fn break_graph_of(world: &World, tenant: &GeneratedTenant) {
    world
        .emulator
        .set_faults(vec![FaultRule::new(
            "POST",
            &format!("/{}/oauth2/v2.0/token", tenant.id),
            Fault::ServiceUnavailable { retry_after: None },
        )])
        .expect("faults");
}

async fn fleet(world: &World, query: &str, accept: &str, token: &str) -> reqwest::Response {
    world
        .http
        .get(
            world
                .service
                .url
                .join(&format!("v1/registrations/summary?{query}"))
                .expect("path"),
        )
        .bearer_auth(token)
        .header("accept", accept)
        .send()
        .await
        .expect("service answers")
}

#[tokio::test]
async fn every_tenant_streams_its_summary_and_a_tenant_whose_graph_is_down_is_named() {
    let (world, generated) = world(|_| {}).await;
    // The truth is read before Graph breaks.
    let mut expected = BTreeMap::new();
    expected.insert(
        seed::CONTOSO_ID.to_owned(),
        expected_counts(&truth(&world, seed::CONTOSO_ID).await),
    );
    for tenant in &generated {
        expected.insert(
            tenant.id.clone(),
            expected_counts(&truth(&world, &tenant.id).await),
        );
    }
    let down = &generated[1];
    break_graph_of(&world, down);

    let response = fleet(
        &world,
        "tenants=all",
        "application/x-ndjson",
        &world.token(&["SSPR.Read"]),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.expect("body");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(
        lines.len(),
        5,
        "contoso, fabrikam and three generated tenants: {text}"
    );
    let mut seen = Vec::new();
    for line in &lines {
        let id = line["tenant"].as_str().expect("tenant id").to_owned();
        assert!(line["domain"].is_string(), "{line}");
        seen.push(id.clone());
        if id == down.id {
            assert_eq!(line["domain"], down.domain.as_str());
            let problem = &line["problem"];
            assert!(line.get("summary").is_none(), "{line}");
            assert!(problem["status"].as_u64() >= Some(500), "{line}");
            assert!(problem["type"].is_string() && problem["detail"].is_string());
        } else if id == seed::FABRIKAM_ID {
            assert_eq!(line["problem"]["code"], "licenseRequired", "{line}");
            assert_eq!(line["problem"]["status"], 403);
        } else {
            let summary = &line["summary"];
            assert!(line.get("problem").is_none(), "{line}");
            assert_eq!(summary["tenant"]["id"], id.as_str());
            assert_eq!(&counts_of(summary), &expected[&id], "{id}");
        }
    }
    seen.sort();
    let mut all: Vec<String> = generated.iter().map(|t| t.id.clone()).collect();
    all.extend([seed::CONTOSO_ID.to_owned(), seed::FABRIKAM_ID.to_owned()]);
    all.sort();
    assert_eq!(seen, all, "each tenant exactly once");
}

#[tokio::test]
async fn the_json_fleet_summary_counts_the_failed_tenants() {
    let (world, generated) = world(|_| {}).await;
    let down = &generated[0];
    break_graph_of(&world, down);
    let query = format!(
        "tenants={},{},{}",
        seed::CONTOSO_DOMAIN,
        down.domain,
        generated[2].id
    );
    let response = fleet(
        &world,
        &query,
        "application/json",
        &world.token(&["SSPR.Read"]),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    let tenants = body["tenants"].as_array().expect("tenants");
    assert_eq!(tenants.len(), 3);
    assert_eq!(body["failed"], 1);
    let failed: Vec<&Value> = tenants
        .iter()
        .filter(|t| t.get("problem").is_some())
        .collect();
    assert_eq!(failed[0]["tenant"], down.id.as_str());
    assert!(
        tenants
            .iter()
            .filter(|t| t["tenant"] != down.id.as_str())
            .all(|t| t["summary"]["totalUsers"].as_u64() > Some(0))
    );
}

#[tokio::test]
async fn fleet_summaries_share_the_per_tenant_cache() {
    let (world, generated) = world(|_| {}).await;
    let token = world.token(&["SSPR.Read"]);
    let tenant = &generated[0];
    let single: Value = world
        .http
        .get(
            world
                .service
                .url
                .join(&format!(
                    "v1/tenants/{}/registrations/summary",
                    tenant.domain
                ))
                .expect("path"),
        )
        .bearer_auth(&token)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    world.emulator.clear_calls();
    let body: Value = fleet(
        &world,
        &format!("tenants={}", tenant.domain),
        "application/json",
        &token,
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(
        body["tenants"][0]["summary"], single,
        "served from the cache"
    );
    assert_eq!(world.emulator.graph_requests(&tenant.id), 0);
}

#[tokio::test]
async fn unknown_or_forbidden_tenants_fail_the_request_before_any_graph_call() {
    let (world, generated) = world(|_| {}).await;
    let reader = world.token(&["SSPR.Read"]);
    let unknown = fleet(
        &world,
        &format!("tenants={},nowhere.example", seed::CONTOSO_DOMAIN),
        "application/x-ndjson",
        &reader,
    )
    .await;
    assert_eq!(unknown.status(), 404);
    let problem: Value = unknown.json().await.expect("problem");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("nowhere.example")
    );

    let contoso_only = world.emulator.mint_token(&TokenSpec {
        roles: vec!["SSPR.Read".into()],
        oid: "contoso-only".into(),
        app_id: "another-app".into(),
        ..Default::default()
    });
    // A tenant without a grant is as unknown as one that does not exist.
    let hidden = fleet(
        &world,
        &format!("tenants={},{}", seed::CONTOSO_DOMAIN, generated[0].domain),
        "application/json",
        &contoso_only,
    )
    .await;
    assert_eq!(hidden.status(), 404);
    let no_role = fleet(&world, "tenants=all", "application/json", &world.token(&[])).await;
    assert_eq!(no_role.status(), 403);
    assert_eq!(
        world.emulator.graph_requests_total(),
        0,
        "no Graph call was made"
    );

    // `all` means every tenant this caller may access.
    let mine: Value = fleet(&world, "tenants=all", "application/json", &contoso_only)
        .await
        .json()
        .await
        .expect("JSON");
    let tenants = mine["tenants"].as_array().expect("tenants");
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0]["tenant"], seed::CONTOSO_ID);
    assert_eq!(mine["failed"], 0);
}

/// The tenant ids of an NDJSON fleet response, in the order their lines arrived, and how many
/// report reads the slow tenant had had when the first line arrived.
async fn arrival_order(
    world: &World,
    generated: &[GeneratedTenant],
    slow: &str,
) -> (Vec<String>, usize) {
    // Signing in to the slow tenant takes 1.5 s; the others answer at once.
    world
        .emulator
        .set_faults(vec![
            FaultRule {
                fault: None,
                ..FaultRule::new(
                    "POST",
                    &format!("/{slow}/oauth2/v2.0/token"),
                    Fault::GatewayTimeout,
                )
            }
            .latency(std::time::Duration::from_millis(1_500)),
        ])
        .expect("faults");
    let mut names = vec![seed::CONTOSO_DOMAIN.to_owned()];
    names.extend(generated.iter().map(|t| t.domain.clone()));
    let query = format!("tenants={}", names.join(","));
    let mut response = fleet(
        world,
        &query,
        "application/x-ndjson",
        &world.token(&["SSPR.Read"]),
    )
    .await;
    let mut received = Vec::new();
    let mut slow_reads_at_first_line = None;
    while let Some(chunk) = response.chunk().await.expect("body") {
        received.extend_from_slice(&chunk);
        if slow_reads_at_first_line.is_none() && received.contains(&b'\n') {
            slow_reads_at_first_line = Some(
                world
                    .emulator
                    .calls()
                    .iter()
                    .filter(|c| {
                        c.tenant_id.as_deref() == Some(slow)
                            && c.route.as_deref().is_some_and(|r| r.contains("reports/"))
                    })
                    .count(),
            );
        }
    }
    let order = String::from_utf8(received)
        .expect("utf-8")
        .lines()
        .map(|l| {
            let line: Value = serde_json::from_str(l).expect("JSON line");
            line["tenant"].as_str().expect("tenant").to_owned()
        })
        .collect();
    (order, slow_reads_at_first_line.expect("a line"))
}

#[tokio::test]
async fn tenants_stream_as_they_complete_at_most_the_configured_number_at_once() {
    // Two at a time: the fast tenants finish and stream while contoso is still signing in.
    let (two_at_once, generated) = world(|_| {}).await;
    let (order, slow_reads) = arrival_order(&two_at_once, &generated, seed::CONTOSO_ID).await;
    assert_eq!(order.len(), 4);
    assert_ne!(order[0], seed::CONTOSO_ID);
    assert_eq!(order.last().map(String::as_str), Some(seed::CONTOSO_ID));
    assert_eq!(
        slow_reads, 0,
        "the first line came before contoso's report was read"
    );

    // One at a time: the tenants complete in the order they were named, slow or not.
    let (one_at_once, generated) = world(|config| config.registrations.fleet_concurrency = 1).await;
    let (order, _) = arrival_order(&one_at_once, &generated, seed::CONTOSO_ID).await;
    let mut named = vec![seed::CONTOSO_ID.to_owned()];
    named.extend(generated.iter().map(|t| t.id.clone()));
    assert_eq!(order, named);
}
