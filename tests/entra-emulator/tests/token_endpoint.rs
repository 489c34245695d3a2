//! The Entra side over HTTPS: client-credentials tokens, discovery, JWKS and AADSTS errors.

mod common;

use common::{assert_entra_error, claims, request_token, start};
use entra_emulator::{CallKind, seed};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::{Value, json};

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

#[tokio::test]
async fn graph_token_verifies_against_the_jwks_found_through_discovery_and_carries_the_granted_roles()
 {
    let (emulator, client) = start().await;
    let (status, body) = request_token(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        seed::GRAPH_APP_CLIENT_ID,
        &emulator.graph_app_secret(),
        GRAPH_SCOPE,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);
    let token = body["access_token"].as_str().unwrap();

    // Discovery -> jwks_uri -> key by kid, as a real verifier does.
    let discovery: Value = client
        .get(emulator.discovery_url(seed::CONTOSO_ID))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], emulator.issuer(seed::CONTOSO_ID));
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(
        discovery["token_endpoint"],
        format!(
            "{}{}/oauth2/v2.0/token",
            emulator.base_url(),
            seed::CONTOSO_ID
        )
    );
    for field in [
        "authorization_endpoint",
        "response_types_supported",
        "subject_types_supported",
        "tenant_region_scope",
    ] {
        assert!(!discovery[field].is_null(), "discovery lacks {field}");
    }
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    assert_eq!(
        jwks_uri,
        format!(
            "{}{}/discovery/v2.0/keys",
            emulator.base_url(),
            seed::CONTOSO_ID
        )
    );
    let jwks: JwkSet = client
        .get(jwks_uri)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid in JWKS");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["https://graph.microsoft.com"]);
    validation.set_issuer(&[emulator.issuer(seed::CONTOSO_ID)]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "nbf"]);
    let verified =
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .expect("signature and claims verify")
            .claims;

    assert_eq!(verified["tid"], seed::CONTOSO_ID);
    assert_eq!(verified["appid"], seed::GRAPH_APP_CLIENT_ID);
    assert_eq!(verified["azp"], seed::GRAPH_APP_CLIENT_ID);
    assert_eq!(verified["idtyp"], "app");
    assert_eq!(verified["ver"], "2.0");
    assert_eq!(verified["sub"], verified["oid"]);
    assert_eq!(verified["oid"], seed::GRAPH_APP_SP_CONTOSO);
    assert!(verified["uti"].is_string());
    let iat = verified["iat"].as_i64().unwrap();
    assert_eq!(verified["exp"].as_i64().unwrap(), iat + 3599);
    assert!(verified["nbf"].as_i64().unwrap() <= iat);
    let mut roles: Vec<&str> = verified["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    roles.sort_unstable();
    let mut want = seed::GRAPH_APP_PERMISSIONS.to_vec();
    want.sort_unstable();
    assert_eq!(roles, want);

    // The same service principal's object id in another tenant differs (oid is per tenant).
    let other = common::graph_token(&client, &emulator, seed::FABRIKAM_ID).await;
    assert_eq!(claims(&other)["oid"], seed::GRAPH_APP_SP_FABRIKAM);
    assert_eq!(claims(&other)["iss"], emulator.issuer(seed::FABRIKAM_ID));
}

#[tokio::test]
async fn cli_app_gets_a_service_audience_token_in_the_operator_tenant_addressed_by_domain() {
    let (emulator, client) = start().await;
    let (status, body) = request_token(
        &client,
        &emulator,
        &seed::OPERATOR_DOMAIN.to_uppercase(),
        seed::CLI_APP_CLIENT_ID,
        &emulator.cli_app_secret(),
        "api://sspr/.default",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["aud"], seed::SERVICE_AUDIENCE);
    assert_eq!(c["tid"], seed::OPERATOR_ID);
    assert_eq!(c["iss"], emulator.issuer(seed::OPERATOR_ID));
    assert_eq!(c["roles"], json!(["SSPR.ReadWrite"]));
    assert_eq!(c["appid"], seed::CLI_APP_CLIENT_ID);
    // The domain in the path is counted under the tenant id.
    assert_eq!(emulator.token_requests(seed::OPERATOR_ID), 1);
}

#[tokio::test]
async fn wrong_secret_is_401_invalid_client_and_the_secret_is_not_echoed() {
    let (emulator, client) = start().await;
    let (status, body) = request_token(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        seed::GRAPH_APP_CLIENT_ID,
        "not-the-secret-XYZ",
        GRAPH_SCOPE,
    )
    .await;
    assert_entra_error(status, &body, 401, "invalid_client", 7000215);
    assert!(!body.to_string().contains("not-the-secret-XYZ"));
    assert!(!body.to_string().contains(&emulator.graph_app_secret()));
}

#[tokio::test]
async fn unknown_client_or_client_without_service_principal_is_700016() {
    let (emulator, client) = start().await;
    let (status, body) = request_token(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        "11111111-2222-4333-8444-555555555555",
        "whatever",
        GRAPH_SCOPE,
    )
    .await;
    assert_entra_error(status, &body, 400, "unauthorized_client", 700016);

    // The CLI app exists, but only in the operator tenant.
    let (status, body) = request_token(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        seed::CLI_APP_CLIENT_ID,
        &emulator.cli_app_secret(),
        GRAPH_SCOPE,
    )
    .await;
    assert_entra_error(status, &body, 400, "unauthorized_client", 700016);
}

#[tokio::test]
async fn unknown_tenant_is_90002_and_counted_under_the_raw_segment() {
    let (emulator, client) = start().await;
    let (status, body) = request_token(
        &client,
        &emulator,
        "nowhere.onmicrosoft.com",
        seed::GRAPH_APP_CLIENT_ID,
        &emulator.graph_app_secret(),
        GRAPH_SCOPE,
    )
    .await;
    assert_entra_error(status, &body, 400, "invalid_request", 90002);
    assert_eq!(emulator.token_requests("nowhere.onmicrosoft.com"), 1);
    assert_eq!(emulator.token_requests(seed::CONTOSO_ID), 0);
}

#[tokio::test]
async fn bad_scope_unknown_resource_and_unsupported_grant_follow_entra() {
    let (emulator, client) = start().await;
    let secret = emulator.graph_app_secret();
    let (status, body) = request_token(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        seed::GRAPH_APP_CLIENT_ID,
        &secret,
        "https://graph.microsoft.com/User.Read",
    )
    .await;
    assert_entra_error(status, &body, 400, "invalid_scope", 70011);

    // Our API only exists in the operator tenant.
    let (status, body) = request_token(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        seed::GRAPH_APP_CLIENT_ID,
        &secret,
        "api://sspr/.default",
    )
    .await;
    assert_entra_error(status, &body, 400, "invalid_resource", 500011);

    let response = client
        .post(common::token_url(&emulator, seed::CONTOSO_ID))
        .form(&[
            ("grant_type", "password"),
            ("client_id", seed::GRAPH_APP_CLIENT_ID),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_entra_error(status, &body, 400, "unsupported_grant_type", 70003);

    // Three POSTs for contoso, all failed, all counted.
    assert_eq!(emulator.token_requests(seed::CONTOSO_ID), 3);
    assert!(
        emulator
            .calls()
            .iter()
            .all(|c| c.kind == CallKind::Token && c.method == "POST")
    );
}

#[tokio::test]
async fn discovery_resolves_domains_and_rejects_unknown_tenants() {
    let (emulator, client) = start().await;
    let doc: Value = client
        .get(emulator.discovery_url(seed::FABRIKAM_DOMAIN))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], emulator.issuer(seed::FABRIKAM_ID));

    let response = client
        .get(emulator.discovery_url("nowhere.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_codes"], json!([90002]));

    let kinds: Vec<CallKind> = emulator.calls().iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![CallKind::Discovery, CallKind::Discovery]);
}
