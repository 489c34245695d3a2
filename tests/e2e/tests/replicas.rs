//! Two service replicas on one PostgreSQL database, against one emulator: a write to a tenant
//! through each is serialized (one waits, both are audited in the one shared trail), and their
//! Graph report calls together keep to Graph's limits. Needs `SSPR_TEST_DATABASE_URL`.

use std::time::{Duration, Instant};

use entra_emulator::{CallKind, FaultRule, ThrottleConfig};
use serde_json::{Value, json};
use sspr_e2e::World;
use sspr_service::config::{Config, Limit};
use sspr_service::store::testing::TestDatabase;
use sspr_service::{Application, RunningService};
use url::Url;

const CONTOSO_POLICY: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";

/// The emulator and a first replica (the harness's), and a second replica with the same
/// configuration, both on the database `store_url`.
async fn two_replicas(
    database: &TestDatabase,
    tenants: usize,
    users: usize,
    adjust: impl FnOnce(&mut Config),
) -> (World, RunningService, Vec<sspr_e2e::GeneratedTenant>) {
    let mut shared = None;
    let (world, generated) = World::start_generated(tenants, users, |config| {
        config.store = database.config();
        adjust(config);
        shared = Some(config.clone());
    })
    .await;
    let second = Application::build(shared.expect("configuration"))
        .await
        .expect("the second replica builds")
        .spawn();
    (world, second, generated)
}

async fn send(
    http: &reqwest::Client,
    base: &Url,
    method: reqwest::Method,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut request = http
        .request(method, base.join(path).expect("url"))
        .bearer_auth(token)
        .header("cache-control", "no-cache");
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/merge-patch+json")
            .body(serde_json::to_vec(&body).expect("json"));
    }
    let response = request.send().await.expect("service answers");
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, etag, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_write_to_one_tenant_through_each_replica_is_serialized_and_both_are_audited() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let (world, second, _) = two_replicas(&database, 0, 0, |_| {}).await;
    let token = world.token(&["SSPR.ReadWrite"]);
    let replicas = [world.service.url.clone(), second.url.clone()];
    let (status, etag, body) = send(
        &world.http,
        &replicas[0],
        reqwest::Method::GET,
        CONTOSO_POLICY,
        &token,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let etag = etag.expect("an ETag");
    // The portal's PUT (the change's write) is slow: without one lock for both replicas, the
    // two writers would both pass the If-Match check before either writes.
    world
        .emulator
        .set_faults(vec![FaultRule {
            method: Some("PUT".into()),
            path_prefix: Some("/api/PasswordReset/PasswordResetPolicies".into()),
            path: None,
            latency_ms: 600,
            fault: None,
            probability: 1.0,
            times: None,
        }])
        .expect("faults");
    let started = Instant::now();
    let patch = |base: Url, change: Value| {
        let http = world.http.clone();
        let token = token.clone();
        let etag = etag.clone();
        async move {
            send(
                &http,
                &base,
                reqwest::Method::PATCH,
                CONTOSO_POLICY,
                &token,
                Some(&etag),
                Some(change),
            )
            .await
        }
    };
    let (a, b) = tokio::join!(
        patch(
            replicas[0].clone(),
            json!({"registration": {"reconfirmDays": 30}})
        ),
        patch(
            replicas[1].clone(),
            json!({"notifications": {"notifyUsersOnReset": false}})
        ),
    );
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "{} / {}", a.2, b.2);
    // The loser waited for the winner's slow write before it could see the ETag was stale.
    assert!(started.elapsed() >= Duration::from_millis(600));
    let portal_puts = world
        .emulator
        .calls()
        .into_iter()
        .filter(|c| c.kind == CallKind::Portal && c.method == "PUT")
        .count();
    assert_eq!(portal_puts, 1, "only the winner wrote");

    // Both are in the one trail, read through either replica.
    for base in &replicas {
        let (status, _, page) = send(
            &world.http,
            base,
            reqwest::Method::GET,
            "v1/audit?tenant=contoso.onmicrosoft.com",
            &world.token(&["SSPR.Admin"]),
            None,
            None,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let mut outcomes: Vec<&str> = page["value"]
            .as_array()
            .expect("records")
            .iter()
            .filter(|r| r["operation"] == "policy.patch")
            .filter_map(|r| r["outcome"].as_str())
            .collect();
        outcomes.sort();
        assert_eq!(outcomes, ["refused", "succeeded"], "{page:#}");
    }
    second.stop().await.expect("stops");
}

#[tokio::test]
async fn two_replicas_reading_reports_together_keep_to_graphs_limits() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    // Graph's reports window shrunk to 1 s on both sides, so the test is quick.
    let (world, second, generated) = two_replicas(&database, 1, 4_500, |config| {
        config.graph.limits.reports_per_tenant = Limit::new(5, 1_000);
    })
    .await;
    world.emulator.set_throttling(ThrottleConfig {
        reports_window_ms: 1_000,
        ..ThrottleConfig::default()
    });
    let tenant = &generated[0];
    let token = world.token(&["SSPR.Read"]);
    let path = format!("v1/tenants/{}/registrations", tenant.domain);
    let list = |base: Url| {
        let http = world.http.clone();
        let token = token.clone();
        let path = path.clone();
        async move {
            let response = http
                .get(base.join(&path).expect("url"))
                .bearer_auth(&token)
                .header("accept", "application/x-ndjson")
                .send()
                .await
                .expect("answers");
            assert_eq!(response.status(), 200);
            response.text().await.expect("body").lines().count()
        }
    };
    // Each listing reads 5 pages; three listings per replica, 30 report requests in all, at
    // most 5 a second for the tenant.
    let started = Instant::now();
    let listings = futures::future::join_all(
        (0..3).flat_map(|_| [list(world.service.url.clone()), list(second.url.clone())]),
    )
    .await;
    let elapsed = started.elapsed();
    assert!(
        listings
            .iter()
            .all(|&rows| rows == listings[0] && rows >= 4_000),
        "{listings:?}"
    );
    let reports: Vec<u16> = world
        .emulator
        .calls()
        .into_iter()
        .filter(|c| c.kind == CallKind::Graph && c.path.contains("userRegistrationDetails"))
        .map(|c| c.status)
        .collect();
    assert_eq!(reports.len(), 30, "{reports:?}");
    assert!(
        reports.iter().all(|&status| status == 200),
        "no 429: the replicas kept to the limit together: {reports:?}"
    );
    // 30 requests at 5 per (1 s + margin) cannot be done in under 5 windows.
    assert!(elapsed >= Duration::from_secs(5), "{elapsed:?}");
    second.stop().await.expect("stops");
}

/// Polls `path` through `base` until it answers `status`, for up to 10 s.
async fn eventually(world: &World, base: &Url, path: &str, token: &str, status: u16) -> bool {
    for _ in 0..100 {
        let (answer, _, _) = send(
            &world.http,
            base,
            reqwest::Method::GET,
            path,
            token,
            None,
            None,
        )
        .await;
        if answer == status {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn a_tenant_onboarded_through_one_replica_is_served_and_offboarded_by_the_other() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let (world, second, generated) = two_replicas(&database, 1, 3, |config| {
        config
            .tenants
            .retain(|t| !t.domains.iter().any(|d| d.starts_with("tenant")));
        config.store.follow_secs = 1;
    })
    .await;
    let customer = &generated[0];
    let admin = world.token(&["SSPR.Admin"]);
    let path = format!("v1/tenants/{}", customer.id);
    let (status, _, _) = send(
        &world.http,
        &second.url,
        reqwest::Method::GET,
        &path,
        &admin,
        None,
        None,
    )
    .await;
    assert_eq!(status, 404, "not managed yet");
    let (status, body) = world
        .call(
            reqwest::Method::POST,
            "v1/tenants",
            &admin,
            Some(json!({
                "tenant": customer.domain,
                "credential": {
                    "kind": "clientSecret",
                    "clientId": entra_emulator::seed::GRAPH_APP_CLIENT_ID,
                    "clientSecret": world.emulator.graph_app_secret(),
                },
            })),
        )
        .await;
    assert_eq!(status, 201, "{body:#}");
    // The other replica reads it back from the store, its sealed secret opened, and uses it.
    assert!(
        eventually(&world, &second.url, &path, &admin, 200).await,
        "the second replica serves the tenant onboarded through the first"
    );
    let summary = format!("v1/tenants/{}/registrations/summary", customer.domain);
    let (status, _, body) = send(
        &world.http,
        &second.url,
        reqwest::Method::GET,
        &summary,
        &world.token(&["SSPR.Read"]),
        None,
        None,
    )
    .await;
    assert!(
        status == 200 || body["code"] == "licenseRequired",
        "{status} {body:#}"
    );

    let (status, body) = world
        .call(reqwest::Method::DELETE, &path, &admin, None)
        .await;
    assert!(status == 200 || status == 204, "{status} {body:#}");
    assert!(
        eventually(&world, &second.url, &path, &admin, 404).await,
        "the second replica stops serving the tenant offboarded through the first"
    );
    second.stop().await.expect("stops");
}

/// The policy document through `base` as a caller gets it by default: from the cache when young.
async fn cached_policy(world: &World, base: &Url, token: &str) -> Value {
    let response = world
        .http
        .get(base.join(CONTOSO_POLICY).expect("url"))
        .bearer_auth(token)
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_change_through_one_replica_is_not_served_stale_from_the_others_cache() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let (world, second, _) = two_replicas(&database, 0, 0, |config| {
        config.store.follow_secs = 1;
    })
    .await;
    let token = world.token(&["SSPR.ReadWrite"]);
    // The second replica caches the document (for 60 s by default).
    let before = cached_policy(&world, &second.url, &token).await;
    let days = before["registration"]["reconfirmDays"]
        .as_i64()
        .expect("days");
    let wanted = if days == 45 { 46 } else { 45 };
    let (status, etag, body) = send(
        &world.http,
        &world.service.url,
        reqwest::Method::GET,
        CONTOSO_POLICY,
        &token,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = send(
        &world.http,
        &world.service.url,
        reqwest::Method::PATCH,
        CONTOSO_POLICY,
        &token,
        etag.as_deref(),
        Some(json!({"registration": {"reconfirmDays": wanted}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The first replica told the others: the second's cached copy is dropped within a look.
    let mut seen = days;
    for _ in 0..100 {
        seen = cached_policy(&world, &second.url, &token).await["registration"]["reconfirmDays"]
            .as_i64()
            .expect("days");
        if seen == wanted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen, wanted,
        "the second replica serves the change made through the first"
    );
    second.stop().await.expect("stops");
}
