//! No caller can stall a tenant: callers that go away give back their place in Graph's budget,
//! a tenant's queue is bounded (503 with `Retry-After` past it, and the service recovers),
//! and policy reads are cached and shared. (A change that runs to its end when its caller leaves:
//! `audited_writes.rs`.)

use std::time::{Duration, Instant};

use entra_emulator::{ThrottleConfig, seed};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sspr_e2e::World;
use sspr_service::config::Limit;

const STATUS: &str = "v1/tenants/contoso.onmicrosoft.com/registration-protection";
const POLICY: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";
const CA_PATH: &str = "/v1.0/identity/conditionalAccess/";

/// Graph's Conditional Access limit raised to 5 / s (in the service and in the emulator), so the
/// queues below are deep in requests but short in seconds.
async fn world_with_ca_limit(max_queue_per_tenant: usize) -> World {
    let world = World::start_with(|config| {
        config.graph.limits.conditional_access_per_tenant = Limit::new(5, 1_000);
        config.graph.limits.max_queue_per_tenant = max_queue_per_tenant;
    })
    .await;
    world.emulator.set_throttling(ThrottleConfig {
        conditional_access_per_tenant: 5,
        ..ThrottleConfig::default()
    });
    world
}

fn ca_calls(world: &World) -> usize {
    world
        .emulator
        .calls()
        .iter()
        .filter(|c| c.path.starts_with(CA_PATH))
        .count()
}

async fn grade(world: &World, http: &reqwest::Client, token: &str) -> reqwest::Result<StatusCode> {
    http.get(world.service.url.join(STATUS).expect("url"))
        .bearer_auth(token)
        .send()
        .await
        .map(|r| r.status())
}

#[tokio::test]
async fn callers_that_give_up_leave_no_queue_behind_and_a_normal_call_answers_within_two_seconds() {
    let world = world_with_ca_limit(10_000).await;
    let token = world.token(&["SSPR.Read"]);
    // Warm: the licence verdict and the Graph token are cached.
    assert_eq!(
        grade(&world, &world.http, &token).await.expect("answers"),
        200
    );
    let before = ca_calls(&world);

    // 200 callers, each giving up after 300 ms, again and again for 3 s. Each grade reads two
    // CA collections at 5 / s: what they ask for would queue the tenant for minutes.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let until = Instant::now() + Duration::from_secs(3);
    let callers: Vec<_> = (0..200)
        .map(|_| {
            let (world_url, impatient, token) =
                (world.service.url.clone(), impatient.clone(), token.clone());
            tokio::spawn(async move {
                let mut gave_up = 0;
                while Instant::now() < until {
                    let answered = impatient
                        .get(world_url.join(STATUS).expect("url"))
                        .bearer_auth(&token)
                        .send()
                        .await;
                    if answered.is_err() {
                        gave_up += 1;
                    }
                }
                gave_up
            })
        })
        .collect();
    let mut gave_up = 0;
    for caller in callers {
        gave_up += caller.await.expect("caller");
    }
    assert!(gave_up > 200, "the callers did give up ({gave_up})");
    // Only what was really sent reached Graph: about 5 / s, not a request per abandoned caller.
    let sent = ca_calls(&world) - before;
    assert!(sent <= 30, "{sent} CA calls for 3 s of abandoned callers");

    let started = Instant::now();
    assert_eq!(
        grade(&world, &world.http, &token).await.expect("answers"),
        200
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "a normal call after the abandoned ones took {took:?}"
    );
}

#[tokio::test]
async fn past_the_queue_bound_callers_get_503_with_retry_after_and_the_service_recovers() {
    let world = world_with_ca_limit(4).await;
    let token = world.token(&["SSPR.Read"]);
    assert_eq!(
        grade(&world, &world.http, &token).await.expect("answers"),
        200
    );

    let answers = futures::future::join_all((0..60).map(|_| async {
        let response = world
            .http
            .get(world.service.url.join(STATUS).expect("url"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("answers");
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (status, retry_after, content_type, body)
    }))
    .await;
    let busy: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    let ok = answers.iter().filter(|a| a.0 == 200).count();
    assert_eq!(busy.len() + ok, answers.len(), "only 200s and 503s");
    assert!(busy.len() >= 40, "{} of 60 were turned away", busy.len());
    assert!(ok >= 4, "the queued ones were answered ({ok})");
    for (_, retry_after, content_type, body) in busy {
        assert!(
            retry_after.is_some_and(|s| s >= 1),
            "Retry-After: {retry_after:?}"
        );
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(body["type"], "/problems/tenant-busy", "{body:#}");
        assert_eq!(body["status"], 503);
    }
    // Nothing was left queued: the next caller is answered at once.
    let started = Instant::now();
    assert_eq!(
        grade(&world, &world.http, &token).await.expect("answers"),
        200
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

async fn get_policy(world: &World, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = world
        .http
        .get(world.service.url.join(POLICY).expect("url"))
        .bearer_auth(world.token(&["SSPR.Read"]));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("service answers")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn policy_reads_are_cached_shared_revalidated_and_forgotten_on_our_own_writes() {
    let world = World::start().await;
    let graph = || world.emulator.graph_requests(seed::CONTOSO_ID);

    let first = get_policy(&world, &[]).await;
    assert_eq!(first.status(), 200);
    let etag = header(&first, "etag").expect("ETag");
    assert_eq!(
        header(&first, "cache-control").as_deref(),
        Some("private, max-age=60")
    );
    let reads = graph();
    assert!(reads > 0);

    // From cache: no Graph call, the same ETag, an Age.
    let second = get_policy(&world, &[]).await;
    assert_eq!(header(&second, "etag").as_deref(), Some(etag.as_str()));
    assert!(header(&second, "age").is_some());
    assert_eq!(graph(), reads, "served from cache");

    // The caller's copy is current: 304 without a body.
    let unchanged = get_policy(&world, &[("if-none-match", &etag)]).await;
    assert_eq!(unchanged.status(), 304);
    assert_eq!(header(&unchanged, "etag").as_deref(), Some(etag.as_str()));
    assert!(unchanged.bytes().await.expect("body").is_empty());

    // Twenty concurrent callers that accept nothing cached share one read.
    let fresh = futures::future::join_all(
        (0..20).map(|_| get_policy(&world, &[("cache-control", "no-cache")])),
    )
    .await;
    assert!(fresh.iter().all(|r| r.status() == 200));
    let per_read = reads;
    assert_eq!(
        graph(),
        reads + per_read,
        "one read for twenty no-cache callers"
    );

    // A change made in the portal is not seen within the cache's age...
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.password_reset_policies["notifyUsersOnPasswordReset"] = json!(false)
        })
        .expect("contoso");
    let stale: Value = get_policy(&world, &[]).await.json().await.expect("json");
    assert_eq!(stale["notifications"]["notifyUsersOnReset"], true);
    // A change based on the stale copy is refused (412)...
    let refused = world
        .http
        .patch(world.service.url.join(POLICY).expect("url"))
        .bearer_auth(world.token(&["SSPR.ReadWrite"]))
        .header("if-match", &etag)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"registration": {"reconfirmDays": 90}}"#)
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), 412);
    // ...and the caller's next plain read shows the tenant as it is, so "read again and retry"
    // works without knowing about the cache.
    let seen = get_policy(&world, &[]).await;
    let new_etag = header(&seen, "etag").expect("ETag");
    assert_ne!(new_etag, etag, "a changed policy has a new ETag");
    let seen: Value = seen.json().await.expect("json");
    assert_eq!(seen["notifications"]["notifyUsersOnReset"], false);

    // ...and a change made through this service is seen at once, without asking.
    let patched = world
        .http
        .patch(world.service.url.join(POLICY).expect("url"))
        .bearer_auth(world.token(&["SSPR.ReadWrite"]))
        .header("if-match", &new_etag)
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"notifications": {"notifyUsersOnReset": true}}"#)
        .send()
        .await
        .expect("answers");
    assert_eq!(patched.status(), 200);
    let after: Value = get_policy(&world, &[]).await.json().await.expect("json");
    assert_eq!(after["notifications"]["notifyUsersOnReset"], true);
}
