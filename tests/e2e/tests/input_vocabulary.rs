//! One input vocabulary, through the real service: the registrations filter takes the policy
//! document's method names as well as Graph's, an unknown one is a 400 listing the valid names;
//! a merge patch (or options body) that repeats a key, sends `If-Match: *`, a value of the wrong
//! type or an overlong helpdesk link is refused with the pointer, and nothing changes.

use entra_emulator::{ThrottleConfig, seed};
use serde_json::{Value, json};
use sspr_e2e::World;

const CONTOSO_POLICY: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";

async fn ndjson_ids(world: &World, path: &str, token: &str) -> Vec<String> {
    let response = world
        .http
        .get(world.service.url.join(path).expect("path"))
        .bearer_auth(token)
        .header("accept", "application/x-ndjson")
        .send()
        .await
        .expect("service answers");
    assert_eq!(response.status(), 200, "{path}");
    response
        .text()
        .await
        .expect("body")
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line).expect("a JSON line");
            record["id"].as_str().expect("id").to_owned()
        })
        .collect()
}

#[tokio::test]
async fn policy_method_names_filter_as_their_graph_values_and_unknown_ones_are_400() {
    let (world, generated) = World::start_generated(1, 80, |config| {
        config.graph.limits.enabled = false;
    })
    .await;
    world.emulator.set_throttling(ThrottleConfig {
        enabled: false,
        ..ThrottleConfig::default()
    });
    let tenant = &generated[0];
    world
        .emulator
        .with_tenant(&tenant.id, |t| t.set_premium(true))
        .expect("tenant");
    let token = world.token(&["SSPR.Read"]);
    let base = format!("v1/tenants/{}/registrations", tenant.domain);

    for (policy, graph) in [
        ("mobileAppNotification", "microsoftAuthenticatorPush"),
        ("mobileAppCode", "softwareOneTimePasscode"),
    ] {
        let by_graph = ndjson_ids(&world, &format!("{base}?methods={graph}"), &token).await;
        assert!(!by_graph.is_empty(), "some users have {graph}");
        let everyone = ndjson_ids(&world, &base, &token).await;
        assert!(by_graph.len() < everyone.len(), "{graph} is a real filter");
        for spelling in [
            policy.to_owned(),
            policy.to_uppercase(),
            graph.to_lowercase(),
        ] {
            assert_eq!(
                ndjson_ids(&world, &format!("{base}?methods={spelling}"), &token).await,
                by_graph,
                "{spelling} = {graph}"
            );
        }
    }
    // Several at once, evaluated in the service, mixing both vocabularies.
    let mixed = ndjson_ids(
        &world,
        &format!("{base}?methods=mobileAppNotification,email"),
        &token,
    )
    .await;
    assert_eq!(
        mixed,
        ndjson_ids(
            &world,
            &format!("{base}?methods=microsoftAuthenticatorPush,email"),
            &token
        )
        .await
    );

    for path in [
        format!("{base}?methods=bogus"),
        format!("{base}?methods=email,bogus"),
    ] {
        let before = world.emulator.graph_requests_total();
        let response = world.get(&path, Some(&token)).await;
        assert_eq!(response.status(), 400, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.expect("problem");
        assert_eq!(problem["field"], "methods", "{problem}");
        let detail = problem["detail"].as_str().expect("detail");
        for name in [
            "'bogus'",
            "microsoftAuthenticatorPush",
            "fido2SecurityKey",
            "mobileAppNotification (= microsoftAuthenticatorPush)",
        ] {
            assert!(detail.contains(name), "{name}: {detail}");
        }
        assert_eq!(world.emulator.graph_requests_total(), before, "{path}");
    }
}

struct Answer {
    status: u16,
    content_type: String,
    body: Value,
}

async fn patch(world: &World, if_match: Option<&str>, body: &str) -> Answer {
    let mut request = world
        .http
        .patch(world.service.url.join(CONTOSO_POLICY).expect("path"))
        .bearer_auth(world.token(&["SSPR.ReadWrite"]))
        .header("content-type", "application/merge-patch+json")
        .body(body.to_owned());
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    let response = request.send().await.expect("service answers");
    Answer {
        status: response.status().as_u16(),
        content_type: response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: response.json().await.unwrap_or(Value::Null),
    }
}

/// Contoso's portal-held settings and methods policy as the emulator holds them.
fn raw_state(world: &World) -> Value {
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            json!({
                "portal": t.password_reset_policies.clone(),
                "methods": t.authentication_methods_policy.clone(),
            })
        })
        .expect("contoso")
}

#[tokio::test]
async fn repeated_keys_wildcard_if_match_wrong_types_and_long_links_are_refused() {
    let world = World::start().await;
    let read = world
        .get(CONTOSO_POLICY, Some(&world.token(&["SSPR.Read"])))
        .await;
    let etag = read.headers()["etag"].to_str().expect("etag").to_owned();
    let before = raw_state(&world);

    // A repeated key: serde_json alone would have applied the last copy (2).
    let repeated = patch(
        &world,
        Some(&etag),
        r#"{"authentication": {"methodsRequired": 1, "methodsRequired": 2}}"#,
    )
    .await;
    assert_eq!(repeated.status, 400, "{}", repeated.body);
    assert_eq!(repeated.content_type, "application/problem+json");
    assert_eq!(repeated.body["field"], "/authentication/methodsRequired");
    assert!(
        repeated.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("more than once")),
        "{}",
        repeated.body
    );

    // `*` would match any version, so it protects nothing.
    let wildcard = patch(
        &world,
        Some("*"),
        r#"{"registration": {"reconfirmDays": 30}}"#,
    )
    .await;
    assert_eq!(wildcard.status, 428, "{}", wildcard.body);
    assert_eq!(wildcard.body["type"], "/problems/precondition-required");
    assert!(
        wildcard.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("ETag") && d.contains('*')),
        "{}",
        wildcard.body
    );

    // Serde's words become the rule, with the pointer.
    let negative = patch(
        &world,
        Some(&etag),
        r#"{"registration": {"reconfirmDays": -1}}"#,
    )
    .await;
    assert_eq!(negative.status, 422, "{}", negative.body);
    assert_eq!(negative.body["pointer"], "/registration/reconfirmDays");
    assert_eq!(
        negative.body["detail"],
        "/registration/reconfirmDays must be a whole number from 0 to 730 (0 = never), not -1"
    );

    // A helpdesk link longer than any the portal should hold.
    let long_link = format!("https://help.contoso.com/{}", "a".repeat(3000));
    let long = patch(
        &world,
        Some(&etag),
        &json!({"customization": {"helpdeskLink": long_link}}).to_string(),
    )
    .await;
    assert_eq!(long.status, 422, "{}", long.body);
    assert_eq!(
        long.body["violations"][0]["pointer"],
        "/customization/helpdeskLink"
    );
    assert!(
        long.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("at most 2048") && !d.contains("aaaaaaaaaa")),
        "{}",
        long.body
    );

    assert_eq!(raw_state(&world), before, "nothing was changed");

    // Registration-protection options refuse a repeated key too.
    let options = world
        .http
        .post(
            world
                .service
                .url
                .join("v1/registration-protection/generate")
                .expect("path"),
        )
        .bearer_auth(world.token(&["SSPR.Read"]))
        .header("content-type", "application/json")
        .body(r#"{"control": "mfa", "control": "block"}"#)
        .send()
        .await
        .expect("service answers");
    assert_eq!(options.status(), 400);
    let problem: Value = options.json().await.expect("problem");
    assert_eq!(problem["field"], "/control", "{problem}");
}
