//! Hostile and wrong tokens are refused with 401 before anything reaches Graph; valid tokens
//! without the role get 403, and a tenant without a grant is as unknown as one that does not exist (404).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_emulator::{TokenSpec, seed};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use sspr_e2e::World;

const POLICY: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";

fn b64(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("json"))
}

fn parts(token: &str) -> (serde_json::Value, serde_json::Value) {
    let mut it = token.split('.');
    let header = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(it.next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    let claims = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(it.next().expect("claims"))
            .expect("b64"),
    )
    .expect("json");
    (header, claims)
}

/// Asserts a 401 problem with the Bearer challenge, and that Graph and the token endpoint were
/// never called for a customer tenant.
async fn assert_refused(world: &World, token: Option<&str>, why: &str, detail_hint: &str) {
    let response = world.get(POLICY, token).await;
    assert_eq!(response.status(), 401, "{why}");
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""),
        "{why}: {challenge}"
    );
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{why}"
    );
    let problem: serde_json::Value = response.json().await.expect("problem");
    assert_eq!(problem["status"], 401);
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(detail_hint),
        "{why}: detail '{detail}' lacks '{detail_hint}'"
    );
    assert_eq!(world.customer_graph_calls(), 0, "{why}: Graph was called");
    assert_eq!(
        world.emulator.token_requests(seed::CONTOSO_ID),
        0,
        "{why}: a Graph token was requested"
    );
}

#[tokio::test]
async fn every_bad_token_is_a_401_and_graph_is_never_called() {
    let world = World::start().await;
    let valid = world.token(&["SSPR.Admin"]);
    let (header, claims) = parts(&valid);
    let signature = valid.rsplit('.').next().expect("signature");

    assert_refused(&world, None, "no token", "no bearer token").await;
    assert_refused(&world, Some("not-a-jwt"), "malformed", "malformed").await;

    let mut forged = claims.clone();
    forged["roles"] = json!(["SSPR.Admin", "Everything"]);
    let bad_signature = format!("{}.{}.{}", b64(&header), b64(&forged), signature);
    assert_refused(&world, Some(&bad_signature), "bad signature", "signature").await;

    let expired = world.emulator.mint_token(&TokenSpec {
        roles: vec!["SSPR.Admin".into()],
        issued_at_offset_secs: -7200,
        lifetime: Duration::from_secs(3600),
        ..Default::default()
    });
    assert_refused(&world, Some(&expired), "expired", "expired").await;

    let early = world.emulator.mint_token(&TokenSpec {
        roles: vec!["SSPR.Admin".into()],
        not_before_offset_secs: 600,
        ..Default::default()
    });
    assert_refused(&world, Some(&early), "not yet valid", "not valid yet").await;

    let graph_audience = world.emulator.mint_token(&TokenSpec {
        roles: vec!["SSPR.Admin".into()],
        audience: seed::GRAPH_RESOURCE.into(),
        ..Default::default()
    });
    assert_refused(&world, Some(&graph_audience), "wrong audience", "audience").await;

    let foreign_issuer = world.emulator.mint_token(&TokenSpec {
        roles: vec!["SSPR.Admin".into()],
        issuer: Some("https://sts.windows.net/attacker/".into()),
        ..Default::default()
    });
    assert_refused(&world, Some(&foreign_issuer), "wrong issuer", "issuer").await;

    let mut unknown_kid = header.clone();
    unknown_kid["kid"] = json!("no-such-key");
    let unknown_kid = format!("{}.{}.{}", b64(&unknown_kid), b64(&claims), signature);
    assert_refused(&world, Some(&unknown_kid), "unknown kid", "unknown key").await;

    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims)
    );
    assert_refused(&world, Some(&none), "alg none", "").await;

    // Key confusion: HS256 with the RSA public key as the HMAC secret, naming the real kid.
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = header["kid"].as_str().map(str::to_owned);
    let public_pem = world.emulator.signing_public_key_pem();
    let confused = jsonwebtoken::encode(
        &hs_header,
        &claims,
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .expect("encode");
    assert_refused(
        &world,
        Some(&confused),
        "HS256 with the public key",
        "RS256",
    )
    .await;

    // The same valid token works, so the refusals above were about the tokens.
    assert_eq!(world.get(POLICY, Some(&valid)).await.status(), 200);
}

#[tokio::test]
async fn a_token_without_an_sspr_role_is_forbidden() {
    let world = World::start().await;
    let token = world.token(&["Some.Other.Role"]);
    let response = world.get(POLICY, Some(&token)).await;
    assert_eq!(response.status(), 403);
    let problem: serde_json::Value = response.json().await.expect("problem");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("SSPR.Read")),
        "{problem}"
    );
    assert_eq!(world.get("v1/tenants", Some(&token)).await.status(), 403);
    assert_eq!(world.customer_graph_calls(), 0);
}

#[tokio::test]
async fn a_tenant_the_caller_has_no_grant_for_answers_as_one_that_does_not_exist() {
    let world = World::start_with(|config| {
        config.auth.access.push(sspr_service::config::AccessGrant {
            principal: "fabrikam-only".into(),
            tenants: vec![seed::FABRIKAM_DOMAIN.into()],
        });
    })
    .await;
    let token = world.emulator.mint_token(&TokenSpec {
        roles: vec!["SSPR.Admin".into()],
        oid: "fabrikam-only".into(),
        app_id: "another-app".into(),
        ..Default::default()
    });
    let response = world.get(POLICY, Some(&token)).await;
    assert_eq!(response.status(), 404);
    let hidden: serde_json::Value = response.json().await.expect("a problem");
    let unknown: serde_json::Value = world
        .get("v1/tenants/nowhere.example/sspr/policy", Some(&token))
        .await
        .json()
        .await
        .expect("a problem");
    assert_eq!(hidden["code"], unknown["code"]);
    assert_eq!(hidden["title"], unknown["title"]);
    assert_eq!(world.customer_graph_calls(), 0);
    let fabrikam = world
        .get(
            "v1/tenants/fabrikam.onmicrosoft.com/sspr/policy",
            Some(&token),
        )
        .await;
    assert_eq!(fabrikam.status(), 200);
}

#[tokio::test]
async fn a_rolled_signing_key_is_picked_up_once_by_refreshing_the_jwks() {
    let world = World::start().await;
    let old = world.token(&["SSPR.Read"]);
    assert_eq!(world.get("v1/tenants", Some(&old)).await.status(), 200);
    let jwks_fetches = || {
        world
            .emulator
            .calls()
            .iter()
            .filter(|c| c.path.ends_with("/discovery/v2.0/keys"))
            .count()
    };
    let before = jwks_fetches();

    world.emulator.rotate_signing_key();
    let new = world.token(&["SSPR.Read"]);
    assert_eq!(world.get("v1/tenants", Some(&new)).await.status(), 200);
    assert_eq!(jwks_fetches(), before + 1, "one refresh for the new kid");
    assert_eq!(world.get("v1/tenants", Some(&new)).await.status(), 200);
    assert_eq!(world.get("v1/tenants", Some(&old)).await.status(), 200);
    assert_eq!(
        jwks_fetches(),
        before + 1,
        "keys are cached after the refresh"
    );
}

#[tokio::test]
async fn the_service_is_ready_once_the_issuer_keys_are_loaded() {
    let world = World::start().await;
    let response = world.get("readyz", None).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn without_a_reachable_issuer_the_service_is_not_ready_but_alive() {
    let world = World::start_with(|config| {
        config.auth.issuers[0].discovery_url =
            "https://127.0.0.1:9/none/v2.0/.well-known/openid-configuration"
                .parse()
                .expect("url");
    })
    .await;
    assert_eq!(world.get("healthz", None).await.status(), 200);
    let response = world.get("readyz", None).await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "notReady");
    let token = world.token(&["SSPR.Read"]);
    let refused = world.get("v1/tenants", Some(&token)).await;
    assert_eq!(
        refused.status(),
        503,
        "tokens cannot be checked without keys"
    );
}
