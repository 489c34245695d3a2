//! Throttling, fault injection and the control API over real HTTPS.

mod common;

use std::time::{Duration, Instant};

use common::{client_for, graph_get, graph_token, start};
use entra_emulator::{
    CONTROL_KEY_HEADER, Emulator, EmulatorConfig, Fault, FaultRule, ThrottleConfig, TokenSpec, seed,
};
use serde_json::{Value, json};

const AMP: &str = "policies/authenticationMethodsPolicy";
const AMP_PATH: &str = "/v1.0/policies/authenticationMethodsPolicy";

/// Directory limits so low that the fourth request within 10 s is throttled in any tenant size.
fn three_requests_per_window() -> ThrottleConfig {
    ThrottleConfig {
        small_tenant_resource_units: 3,
        medium_tenant_resource_units: 3,
        large_tenant_resource_units: 3,
        ..ThrottleConfig::default()
    }
}

fn control_url(emulator: &Emulator, path: &str) -> String {
    format!("{}_emulator/{path}", emulator.base_url())
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON body")
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> Option<&'r str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Graph's documented 429 body (graph-api.md §8.2), with correlation ids.
fn assert_throttling_body(body: &Value) {
    let error = &body["error"];
    assert_eq!(error["code"], "TooManyRequests", "{body}");
    assert_eq!(error["message"], "Please retry again later.", "{body}");
    let inner = &error["innerError"];
    assert_eq!(inner["code"], "429", "{body}");
    assert_eq!(inner["status"], "429", "{body}");
    assert_eq!(inner["message"], "Please retry after", "{body}");
    for field in ["date", "request-id", "client-request-id"] {
        assert!(inner[field].is_string(), "missing {field}: {body}");
    }
}

#[tokio::test]
async fn the_directory_budget_throttles_per_app_and_tenant_with_graphs_429() {
    let emulator = Emulator::start(EmulatorConfig {
        throttling: three_requests_per_window(),
        ..EmulatorConfig::default()
    })
    .await
    .expect("starts");
    let client = client_for(&emulator);
    let contoso = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let fabrikam = graph_token(&client, &emulator, seed::FABRIKAM_ID).await;

    for _ in 0..3 {
        let ok = graph_get(&client, &emulator, AMP, Some(&contoso)).await;
        assert_eq!(ok.status(), 200);
        assert_eq!(header(&ok, "x-ms-resource-unit"), Some("1"));
    }
    let throttled = graph_get(&client, &emulator, AMP, Some(&contoso)).await;
    assert_eq!(throttled.status(), 429);
    let retry_after: u64 = header(&throttled, "retry-after")
        .expect("Retry-After on the directory bucket")
        .parse()
        .expect("whole seconds");
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    assert_eq!(
        header(&throttled, "x-ms-throttle-scope"),
        Some(
            format!(
                "Tenant_Application/ReadWrite/{}/{}",
                seed::GRAPH_APP_CLIENT_ID,
                seed::CONTOSO_ID
            )
            .as_str()
        )
    );
    assert_eq!(
        header(&throttled, "x-ms-throttle-information"),
        Some("ResourceUnitLimitExceeded")
    );
    assert!(header(&throttled, "request-id").is_some());
    assert_throttling_body(&json_of(throttled).await);

    // The same app in another tenant has its own budget.
    let other = graph_get(&client, &emulator, AMP, Some(&fabrikam)).await;
    assert_eq!(other.status(), 200);

    // Switching throttling off at run time lets contoso through again.
    emulator.set_throttling(ThrottleConfig {
        enabled: false,
        ..three_requests_per_window()
    });
    for _ in 0..5 {
        let ok = graph_get(&client, &emulator, AMP, Some(&contoso)).await;
        assert_eq!(ok.status(), 200);
        assert!(header(&ok, "x-ms-resource-unit").is_none());
    }
}

#[tokio::test]
async fn throttling_can_be_configured_through_the_control_api() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let response = client
        .put(control_url(&emulator, "throttling"))
        .header(CONTROL_KEY_HEADER, emulator.control_key())
        .json(&json!({ "smallTenantResourceUnits": 1, "mediumTenantResourceUnits": 1, "largeTenantResourceUnits": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let config = json_of(response).await;
    assert_eq!(config["enabled"], true, "omitted fields take the defaults");
    assert_eq!(config["reportsPerAppPerTenant"], 5);
    assert_eq!(emulator.throttling().small_tenant_resource_units, 1);

    assert_eq!(
        graph_get(&client, &emulator, AMP, Some(&token))
            .await
            .status(),
        200
    );
    assert_eq!(
        graph_get(&client, &emulator, AMP, Some(&token))
            .await
            .status(),
        429
    );

    let rejected = client
        .put(control_url(&emulator, "throttling"))
        .header(CONTROL_KEY_HEADER, emulator.control_key())
        .json(&json!({ "noSuchLimit": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 400);
}

#[tokio::test]
async fn service_unavailable_and_gateway_timeout_faults_carry_graphs_envelope() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    emulator
        .set_faults(vec![
            FaultRule::new(
                "GET",
                AMP_PATH,
                Fault::ServiceUnavailable {
                    retry_after: Some(7),
                },
            )
            .times(1),
            FaultRule::new(
                "GET",
                AMP_PATH,
                Fault::ServiceUnavailable { retry_after: None },
            )
            .times(1),
            FaultRule::new("GET", AMP_PATH, Fault::GatewayTimeout).times(1),
            FaultRule::new(
                "GET",
                AMP_PATH,
                Fault::TooManyRequests { retry_after: None },
            )
            .times(1),
        ])
        .unwrap();

    let first = graph_get(&client, &emulator, AMP, Some(&token)).await;
    assert_eq!(first.status(), 503);
    assert_eq!(header(&first, "retry-after"), Some("7"));
    assert!(header(&first, "request-id").is_some());
    let body = json_of(first).await;
    assert_eq!(body["error"]["code"], "serviceNotAvailable", "{body}");
    assert!(
        body["error"]["innerError"]["request-id"].is_string(),
        "{body}"
    );

    let second = graph_get(&client, &emulator, AMP, Some(&token)).await;
    assert_eq!(second.status(), 503);
    assert_eq!(header(&second, "retry-after"), None);

    let third = graph_get(&client, &emulator, AMP, Some(&token)).await;
    assert_eq!(third.status(), 504);
    assert_eq!(json_of(third).await["error"]["code"], "GatewayTimeout");

    let fourth = graph_get(&client, &emulator, AMP, Some(&token)).await;
    assert_eq!(fourth.status(), 429);
    assert_eq!(header(&fourth, "retry-after"), None);
    assert_throttling_body(&json_of(fourth).await);

    // Every "next N calls" rule is used up: normal service again, and the rules are gone.
    assert_eq!(
        graph_get(&client, &emulator, AMP, Some(&token))
            .await
            .status(),
        200
    );
    assert!(emulator.faults().is_empty());
}

#[tokio::test]
async fn a_connection_reset_is_a_transport_error_and_the_next_call_works() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    emulator
        .set_faults(vec![
            FaultRule::new("GET", AMP_PATH, Fault::ConnectionReset).times(1),
        ])
        .unwrap();
    let url = emulator.graph_base_url().join(AMP).unwrap();
    // Depending on how far hyper got, the failure surfaces when sending or when reading the body;
    // either way the client never gets a complete response.
    let outcome = match client.get(url.clone()).bearer_auth(&token).send().await {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(
        outcome.is_err(),
        "a reset must not produce a complete response"
    );
    let after = client.get(url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(after.status(), 200);
}

#[tokio::test]
async fn truncated_json_is_a_complete_response_with_an_unparseable_body() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    emulator
        .set_faults(vec![
            FaultRule::new("GET", AMP_PATH, Fault::TruncatedJson { keep_bytes: None }).times(1),
        ])
        .unwrap();
    let response = graph_get(&client, &emulator, AMP, Some(&token)).await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.expect("the body arrives in full");
    assert!(!bytes.is_empty());
    let parsed = serde_json::from_slice::<Value>(&bytes);
    assert!(
        parsed.is_err_and(|e| e.is_eof()),
        "cut JSON must fail to parse"
    );
    let whole = graph_get(&client, &emulator, AMP, Some(&token)).await;
    assert!(whole.json::<Value>().await.is_ok());
}

#[tokio::test]
async fn slow_bodies_and_latency_take_at_least_as_long_as_configured() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let size = graph_get(&client, &emulator, AMP, Some(&token))
        .await
        .bytes()
        .await
        .unwrap()
        .len();
    let (chunk, delay_ms) = (512usize, 40u64);
    emulator
        .set_faults(vec![
            FaultRule::new(
                "GET",
                AMP_PATH,
                Fault::SlowBody {
                    chunk_bytes: chunk,
                    chunk_delay_ms: delay_ms,
                },
            )
            .times(1),
        ])
        .unwrap();
    let started = Instant::now();
    let body = graph_get(&client, &emulator, AMP, Some(&token))
        .await
        .json::<Value>()
        .await
        .expect("a slow body is still whole JSON");
    let elapsed = started.elapsed();
    assert_eq!(body["id"], "authenticationMethodsPolicy");
    let pauses = size.div_ceil(chunk) as u64 - 1;
    assert!(pauses >= 1, "the body is {size} bytes");
    assert!(
        elapsed >= Duration::from_millis(pauses * delay_ms),
        "{elapsed:?}"
    );

    // Latency only (no fault): the request still succeeds, no sooner than the latency.
    let latency_rule = FaultRule {
        fault: None,
        ..FaultRule::new("GET", AMP_PATH, Fault::GatewayTimeout).latency(Duration::from_millis(300))
    };
    emulator.set_faults(vec![latency_rule]).unwrap();
    let started = Instant::now();
    let response = graph_get(&client, &emulator, AMP, Some(&token)).await;
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn probability_one_always_fires_and_zero_never_does() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    emulator
        .set_faults(vec![
            FaultRule::new("get", "/{version}/POLICIES/*", Fault::GatewayTimeout).probability(1.0),
        ])
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            graph_get(&client, &emulator, AMP, Some(&token))
                .await
                .status(),
            504
        );
    }
    // Other routes are untouched.
    assert_eq!(
        graph_get(&client, &emulator, "organization", Some(&token))
            .await
            .status(),
        200
    );
    emulator
        .set_faults(vec![
            FaultRule::new("GET", AMP_PATH, Fault::GatewayTimeout).probability(0.0),
        ])
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            graph_get(&client, &emulator, AMP, Some(&token))
                .await
                .status(),
            200
        );
    }
    emulator.clear_faults();
    assert!(emulator.faults().is_empty());
}

#[tokio::test]
async fn the_token_endpoint_can_be_faulted_too() {
    let (emulator, client) = start().await;
    let rule = FaultRule {
        method: None,
        path: None,
        path_prefix: Some(format!("/{}/oauth2/", seed::CONTOSO_ID)),
        ..FaultRule::new(
            "POST",
            "",
            Fault::ServiceUnavailable {
                retry_after: Some(1),
            },
        )
    }
    .times(1);
    emulator.set_faults(vec![rule]).unwrap();
    let (status, body) = common::request_token(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        seed::GRAPH_APP_CLIENT_ID,
        &emulator.graph_app_secret(),
        "https://graph.microsoft.com/.default",
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    // The next attempt gets a token.
    graph_token(&client, &emulator, seed::CONTOSO_ID).await;
}

#[tokio::test]
async fn the_control_api_refuses_a_missing_or_wrong_key() {
    let (emulator, client) = start().await;
    let url = control_url(&emulator, "state");
    let missing = client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    assert_eq!(json_of(missing).await["error"]["code"], "MissingControlKey");
    let wrong = client
        .get(&url)
        .header(CONTROL_KEY_HEADER, "not-the-key")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(json_of(wrong).await["error"]["code"], "InvalidControlKey");
    for method in [reqwest::Method::POST, reqwest::Method::DELETE] {
        let path = if method == reqwest::Method::POST {
            "reset"
        } else {
            "faults"
        };
        let refused = client
            .request(method, control_url(&emulator, path))
            .bearer_auth("not-the-key")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
    }
    let ok = client
        .get(&url)
        .bearer_auth(emulator.control_key())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // Keys are random per start.
    let (other, _) = start().await;
    assert_ne!(other.control_key(), emulator.control_key());
}

#[tokio::test]
async fn state_is_readable_and_reset_restores_the_seed() {
    let (emulator, client) = start().await;
    let key = emulator.control_key();
    let summary = json_of(
        client
            .get(control_url(&emulator, "state"))
            .header(CONTROL_KEY_HEADER, &key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let tenants = summary["tenants"].as_array().expect("tenants");
    let contoso = tenants
        .iter()
        .find(|t| t["id"] == seed::CONTOSO_ID)
        .expect("contoso listed");
    assert_eq!(contoso["domain"], seed::CONTOSO_DOMAIN);
    assert!(contoso["users"].as_u64().is_some_and(|n| n > 1));

    let tenant_state = |top: u64| {
        let client = client.clone();
        let url = format!(
            "{}?tenant={}&skip=1&top={top}",
            control_url(&emulator, "state"),
            seed::CONTOSO_DOMAIN
        );
        let key = key.clone();
        async move {
            json_of(
                client
                    .get(url)
                    .header(CONTROL_KEY_HEADER, key)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let detail = tenant_state(1).await;
    let seeded = detail["authorizationPolicy"]["allowedToUseSSPR"]
        .as_bool()
        .expect("allowedToUseSSPR is a boolean");
    assert_eq!(detail["users"]["skip"], 1);
    assert_eq!(detail["users"]["value"].as_array().map(Vec::len), Some(1));

    emulator.with_tenant(seed::CONTOSO_ID, |t| {
        t.authorization_policy["allowedToUseSSPR"] = json!(!seeded);
        t.users.clear();
    });
    assert_eq!(
        tenant_state(1).await["authorizationPolicy"]["allowedToUseSSPR"],
        !seeded
    );

    let reset = client
        .post(control_url(&emulator, "reset"))
        .header(CONTROL_KEY_HEADER, &key)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    let restored = tenant_state(1).await;
    assert_eq!(restored["authorizationPolicy"]["allowedToUseSSPR"], seeded);
    assert_eq!(restored["users"]["total"], detail["users"]["total"]);

    let unknown = client
        .get(format!("{}?tenant=nope", control_url(&emulator, "state")))
        .header(CONTROL_KEY_HEADER, &key)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn calls_are_counted_per_route_and_per_client() {
    let (emulator, client) = start().await;
    let key = emulator.control_key();
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let cleared = client
        .delete(control_url(&emulator, "calls"))
        .header(CONTROL_KEY_HEADER, &key)
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 204);

    for _ in 0..2 {
        graph_get(&client, &emulator, AMP, Some(&token)).await;
    }
    graph_get(&client, &emulator, "Organization", Some(&token)).await;
    graph_get(&client, &emulator, "organization", None).await;

    let calls = json_of(
        client
            .get(control_url(&emulator, "calls"))
            .header(CONTROL_KEY_HEADER, &key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(calls["total"], 4, "control calls are not logged: {calls}");
    assert_eq!(
        calls["perRoute"]["GET v1.0/policies/authenticationMethodsPolicy"], 2,
        "{calls}"
    );
    // Casing differs, the route is the same; the unauthenticated call has no matched route.
    assert_eq!(calls["perRoute"]["GET v1.0/organization"], 1, "{calls}");
    assert_eq!(calls["perRoute"]["GET /v1.0/organization"], 1, "{calls}");
    assert_eq!(calls["perClient"][seed::GRAPH_APP_CLIENT_ID], 3, "{calls}");
    assert_eq!(calls["perClient"]["unknown"], 1, "{calls}");
    assert_eq!(calls["calls"][0]["appId"], seed::GRAPH_APP_CLIENT_ID);
    assert_eq!(calls["calls"][0]["tenantId"], seed::CONTOSO_ID);

    let since = json_of(
        client
            .get(format!("{}?since=3", control_url(&emulator, "calls")))
            .header(CONTROL_KEY_HEADER, &key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let tail = since["calls"].as_array().expect("calls");
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0]["status"], 401);
    assert_eq!(since["next"], 4);

    // The Rust API sees the same records.
    let records = emulator.calls();
    assert_eq!(
        records[0].route.as_deref(),
        Some("v1.0/policies/authenticationMethodsPolicy")
    );
    assert_eq!(
        records[0].app_id.as_deref(),
        Some(seed::GRAPH_APP_CLIENT_ID)
    );
}

#[tokio::test]
async fn faults_are_managed_through_the_control_api() {
    let (emulator, client) = start().await;
    let key = emulator.control_key();
    let token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let put = client
        .put(control_url(&emulator, "faults"))
        .header(CONTROL_KEY_HEADER, &key)
        .json(&json!({
            "seed": 42,
            "rules": [{
                "method": "GET",
                "path": AMP_PATH,
                "fault": { "kind": "serviceUnavailable", "retryAfter": 3 },
                "times": 2
            }]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(
        graph_get(&client, &emulator, AMP, Some(&token))
            .await
            .status(),
        503
    );

    let listed = json_of(
        client
            .get(control_url(&emulator, "faults"))
            .header(CONTROL_KEY_HEADER, &key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(listed["seed"], 42);
    assert_eq!(listed["rules"][0]["times"], 1, "one call left: {listed}");

    let deleted = client
        .delete(control_url(&emulator, "faults"))
        .header(CONTROL_KEY_HEADER, &key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        graph_get(&client, &emulator, AMP, Some(&token))
            .await
            .status(),
        200
    );

    let invalid = client
        .put(control_url(&emulator, "faults"))
        .header(CONTROL_KEY_HEADER, &key)
        .json(&json!({ "rules": [{ "path": AMP_PATH, "probability": 2.0 }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);
    assert_eq!(json_of(invalid).await["error"]["code"], "InvalidFaultRule");
}

/// Our Graph app in the operator's tenant, with the permissions the report and CA routes need
/// (the seed grants it fewer there).
fn northwind_token(emulator: &Emulator) -> String {
    emulator.mint_token(&TokenSpec {
        tenant_id: seed::OPERATOR_ID.into(),
        audience: seed::GRAPH_RESOURCE.into(),
        roles: vec!["AuditLog.Read.All".into(), "Policy.Read.All".into()],
        app_id: seed::GRAPH_APP_CLIENT_ID.into(),
        oid: seed::GRAPH_APP_SP_OPERATOR.into(),
        ..TokenSpec::default()
    })
}

const REPORT: &str = "reports/authenticationMethods/userRegistrationDetails";
const CA_POLICIES: &str = "identity/conditionalAccess/policies";

#[tokio::test]
async fn the_reports_bucket_throttles_the_sixth_request_per_app_and_tenant() {
    let (emulator, client) = start().await;
    let contoso = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let northwind = northwind_token(&emulator);
    for _ in 0..5 {
        let ok = graph_get(&client, &emulator, REPORT, Some(&contoso)).await;
        assert_eq!(ok.status(), 200);
    }
    let throttled = graph_get(&client, &emulator, REPORT, Some(&contoso)).await;
    assert_eq!(throttled.status(), 429);
    let retry_after: u64 = header(&throttled, "retry-after")
        .expect("the reports bucket sends Retry-After")
        .parse()
        .expect("whole seconds");
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    assert_throttling_body(&json_of(throttled).await);
    // Another tenant, same app: its own per-tenant window (and far below 122 per app).
    let other = graph_get(&client, &emulator, REPORT, Some(&northwind)).await;
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn the_conditional_access_bucket_throttles_per_tenant_without_retry_after() {
    let (emulator, client) = start().await;
    let contoso = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    let northwind = northwind_token(&emulator);
    assert_eq!(
        graph_get(&client, &emulator, CA_POLICIES, Some(&contoso))
            .await
            .status(),
        200
    );
    let throttled = graph_get(&client, &emulator, CA_POLICIES, Some(&contoso)).await;
    assert_eq!(throttled.status(), 429);
    assert_eq!(
        header(&throttled, "retry-after"),
        None,
        "the CA bucket never sends Retry-After"
    );
    assert_throttling_body(&json_of(throttled).await);
    assert_eq!(
        graph_get(&client, &emulator, CA_POLICIES, Some(&northwind))
            .await
            .status(),
        200
    );
    // The window is one second; the rejected request counted too, so wait out two.
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(
        graph_get(&client, &emulator, CA_POLICIES, Some(&contoso))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn seeding_generates_tenants_and_reset_returns_to_them() {
    let (emulator, client) = start().await;
    let key = emulator.control_key();
    let state = || {
        let (client, key) = (client.clone(), key.clone());
        let url = control_url(&emulator, "state");
        async move {
            json_of(
                client
                    .get(url)
                    .header(CONTROL_KEY_HEADER, key)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let seeded = client
        .post(control_url(&emulator, "seed"))
        .header(CONTROL_KEY_HEADER, &key)
        .json(&json!({ "tenants": 2, "users": 20, "seed": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), 200);
    let tenants = state().await["tenants"].as_array().cloned().unwrap();
    let generated: Vec<&Value> = tenants
        .iter()
        .filter(|t| {
            t["domain"]
                .as_str()
                .is_some_and(|d| d.starts_with("tenant000"))
        })
        .collect();
    assert_eq!(generated.len(), 2, "{tenants:?}");
    assert!(generated.iter().all(|t| t["users"] == 20));
    let first_id = generated[0]["id"].clone();

    emulator.with_directory(|d| d.tenants.truncate(1));
    let reset = client
        .post(control_url(&emulator, "reset"))
        .header(CONTROL_KEY_HEADER, &key)
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    let after = state().await["tenants"].as_array().cloned().unwrap();
    assert_eq!(after.len(), tenants.len());
    assert!(
        after.iter().any(|t| t["id"] == first_id),
        "same seed, same ids"
    );

    let too_big = client
        .post(control_url(&emulator, "seed"))
        .header(CONTROL_KEY_HEADER, &key)
        .json(&json!({ "tenants": 100_000, "users": 1_000_000, "seed": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 400);
}
