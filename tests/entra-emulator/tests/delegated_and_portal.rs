//! Token endpoint grants beyond client secrets (certificate and federated assertions, delegated
//! refresh tokens on v1 and v2) and the portal back end's SSPR blade API.

mod common;

use common::{assert_entra_error, claims, start, token_url};
use entra_emulator::{CallKind, Emulator, TokenSpec, first_party, seed};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const MEGAN: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c01";
const ALEX: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02";
const NESTOR_HELPDESK: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c06";
const CLUSTER_ISSUER: &str =
    "https://oidc.prod-aks.azure.com/2f0c6b1e-51b0-4d0c-9a3b-1c2d3e4f5a6b/";
const SERVICE_ACCOUNT: &str = "system:serviceaccount:sspr:sspr-service";

fn v1_token_url(emulator: &Emulator, tenant: &str) -> String {
    format!("{}{tenant}/oauth2/token", emulator.authority_host())
}

async fn post_form(client: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = client.post(url).form(form).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Claims after verifying the signature with the emulator's key (as a resource server would).
fn verified(emulator: &Emulator, token: &str, audience: &str) -> Value {
    let key = DecodingKey::from_rsa_pem(emulator.signing_public_key_pem().as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

// ---------------------------------------------------------------- client credentials, v1

#[tokio::test]
async fn v1_client_credentials_answer_with_string_numbers_and_the_resource() {
    let (emulator, client) = start().await;
    let secret = emulator.graph_app_secret();
    let (status, body) = post_form(
        &client,
        &v1_token_url(&emulator, seed::CONTOSO_ID),
        &[
            ("grant_type", "client_credentials"),
            ("client_id", seed::GRAPH_APP_CLIENT_ID),
            ("client_secret", &secret),
            ("resource", seed::GRAPH_RESOURCE),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], "3599");
    assert_eq!(body["ext_expires_in"], "3599");
    assert_eq!(body["resource"], seed::GRAPH_RESOURCE);
    assert!(body["expires_on"].as_str().unwrap().parse::<i64>().is_ok());
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(c["azpacr"], "1", "secret authentication");
    assert_eq!(c["idtyp"], "app");
    assert_eq!(
        emulator.token_requests(seed::CONTOSO_ID),
        1,
        "v1 calls are token calls"
    );
}

// ---------------------------------------------------------------- certificate assertions

struct ClientCertificate {
    key: EncodingKey,
    x5t: String,
}

fn new_certificate() -> (rcgen::KeyPair, rcgen::Certificate) {
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["sspr-service".into()])
        .unwrap()
        .self_signed(&pair)
        .unwrap();
    (pair, cert)
}

fn registered_certificate(emulator: &Emulator) -> ClientCertificate {
    let (pair, cert) = new_certificate();
    let credential = emulator
        .register_certificate(seed::GRAPH_APP_CLIENT_ID, cert.pem().as_bytes())
        .unwrap();
    ClientCertificate {
        key: EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes()).unwrap(),
        x5t: credential.x5t,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A §9.2 assertion; `tweak` edits the claims first.
fn certificate_assertion(
    cert: &ClientCertificate,
    audience: &str,
    tweak: impl FnOnce(&mut Value),
) -> String {
    let now = now();
    let mut claims = json!({
        "aud": audience,
        "iss": seed::GRAPH_APP_CLIENT_ID,
        "sub": seed::GRAPH_APP_CLIENT_ID,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + 600,
    });
    tweak(&mut claims);
    let mut header = Header::new(Algorithm::RS256);
    header.x5t = Some(cert.x5t.clone());
    jsonwebtoken::encode(&header, &claims, &cert.key).unwrap()
}

async fn assertion_request(
    client: &reqwest::Client,
    emulator: &Emulator,
    assertion: &str,
) -> (u16, Value) {
    common::assertion_token_request(client, emulator, seed::CONTOSO_ID, assertion).await
}

#[tokio::test]
async fn a_certificate_assertion_for_the_tenant_endpoint_gets_an_app_token() {
    let (emulator, client) = start().await;
    let cert = registered_certificate(&emulator);
    let aud = token_url(&emulator, seed::CONTOSO_ID);
    let (status, body) = assertion_request(
        &client,
        &emulator,
        &certificate_assertion(&cert, &aud, |_| {}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let c = verified(
        &emulator,
        body["access_token"].as_str().unwrap(),
        seed::GRAPH_RESOURCE,
    );
    assert_eq!(c["azpacr"], "2", "certificate authentication");
    assert_eq!(c["tid"], seed::CONTOSO_ID);
    assert!(
        c["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("Policy.Read.All"))
    );
}

#[tokio::test]
async fn a_certificate_assertion_for_a_verified_custom_domain_endpoint_works_there() {
    let (emulator, client) = start().await;
    let cert = registered_certificate(&emulator);
    // A client that addresses the tenant by its custom domain builds the assertion for that URL.
    let aud = token_url(&emulator, "contoso.com");
    let assertion = certificate_assertion(&cert, &aud, |_| {});
    let (status, body) =
        common::assertion_token_request(&client, &emulator, "contoso.com", &assertion).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["tid"],
        seed::CONTOSO_ID
    );
    // The same assertion at another tenant is still refused.
    let (status, body) =
        common::assertion_token_request(&client, &emulator, seed::FABRIKAM_ID, &assertion).await;
    assert_entra_error(status, &body, 401, "invalid_client", 700023);
}

#[tokio::test]
async fn certificate_assertions_are_checked_claim_by_claim() {
    let (emulator, client) = start().await;
    let cert = registered_certificate(&emulator);
    let aud = token_url(&emulator, seed::CONTOSO_ID);
    let cases: Vec<(String, u16, &str, u64)> = vec![
        // Built for another tenant's endpoint.
        (
            certificate_assertion(&cert, &token_url(&emulator, seed::FABRIKAM_ID), |_| {}),
            401,
            "invalid_client",
            700023,
        ),
        (
            certificate_assertion(&cert, &aud, |c| {
                c["nbf"] = json!(now() - 7200);
                c["exp"] = json!(now() - 3600);
            }),
            401,
            "invalid_client",
            700024,
        ),
        (
            certificate_assertion(&cert, &aud, |c| c["sub"] = json!("someone-else")),
            401,
            "invalid_client",
            50048,
        ),
        (
            certificate_assertion(&cert, &aud, |c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            400,
            "invalid_request",
            50027,
        ),
    ];
    for (assertion, status, error, code) in cases {
        let (got, body) = assertion_request(&client, &emulator, &assertion).await;
        assert_entra_error(got, &body, status, error, code);
    }
}

#[tokio::test]
async fn an_unregistered_certificate_or_a_forged_signature_is_700027() {
    let (emulator, client) = start().await;
    let registered = registered_certificate(&emulator);
    let aud = token_url(&emulator, seed::CONTOSO_ID);

    // A certificate nobody uploaded: its thumbprint names no key.
    let (other_pair, _) = new_certificate();
    let unknown = ClientCertificate {
        key: EncodingKey::from_rsa_pem(other_pair.serialize_pem().as_bytes()).unwrap(),
        x5t: "AAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
    };
    let (status, body) = assertion_request(
        &client,
        &emulator,
        &certificate_assertion(&unknown, &aud, |_| {}),
    )
    .await;
    assert_entra_error(status, &body, 401, "invalid_client", 700027);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("The key was not found")
    );

    // The registered thumbprint, signed by another key.
    let forged = ClientCertificate {
        key: unknown.key,
        x5t: registered.x5t.clone(),
    };
    let (status, body) = assertion_request(
        &client,
        &emulator,
        &certificate_assertion(&forged, &aud, |_| {}),
    )
    .await;
    assert_entra_error(status, &body, 401, "invalid_client", 700027);

    // The right assertion with the wrong assertion type.
    let (status, body) = post_form(
        &client,
        &aud,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", seed::GRAPH_APP_CLIENT_ID),
            ("scope", GRAPH_SCOPE),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
            ),
            (
                "client_assertion",
                &certificate_assertion(&registered, &aud, |_| {}),
            ),
        ],
    )
    .await;
    assert_entra_error(status, &body, 400, "invalid_request", 9002313);
}

// ---------------------------------------------------------------- workload identity federation

#[tokio::test]
async fn a_federated_token_file_authenticates_the_app_in_a_customer_tenant() {
    let (emulator, client) = start().await;
    emulator
        .register_federated_credential(seed::GRAPH_APP_CLIENT_ID, CLUSTER_ISSUER, SERVICE_ACCOUNT)
        .unwrap();
    // As the AKS webhook does: the projected token lands in a file the SDK re-reads.
    let dir = std::env::temp_dir().join(format!("wi-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("azure-identity-token");
    std::fs::write(
        &token_file,
        emulator.mint_federated_token(CLUSTER_ISSUER, SERVICE_ACCOUNT),
    )
    .unwrap();
    let assertion = std::fs::read_to_string(&token_file).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();

    let projected = claims(&assertion);
    assert_eq!(
        projected["aud"],
        json!([first_party::TOKEN_EXCHANGE_AUDIENCE])
    );
    assert_eq!(projected["kubernetes.io"]["namespace"], "sspr");

    let (status, body) = assertion_request(&client, &emulator, &assertion).await;
    assert_eq!(status, 200, "{body}");
    let c = verified(
        &emulator,
        body["access_token"].as_str().unwrap(),
        seed::GRAPH_RESOURCE,
    );
    assert_eq!(c["tid"], seed::CONTOSO_ID);
    assert_eq!(c["azpacr"], "2");
}

#[tokio::test]
async fn federated_assertions_must_match_a_credential_and_not_come_from_entra() {
    let (emulator, client) = start().await;
    emulator
        .register_federated_credential(seed::GRAPH_APP_CLIENT_ID, CLUSTER_ISSUER, SERVICE_ACCOUNT)
        .unwrap();

    // Subjects match case-sensitively.
    let other =
        emulator.mint_federated_token(CLUSTER_ISSUER, "system:serviceaccount:sspr:SSPR-service");
    let (status, body) = assertion_request(&client, &emulator, &other).await;
    assert_entra_error(status, &body, 400, "invalid_request", 70021);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Assertion Subject: 'system:serviceaccount:sspr:SSPR-service'")
    );

    // An Entra (emulator-issued) token as the assertion.
    let entra = emulator.mint_token(&TokenSpec {
        tenant_id: seed::CONTOSO_ID.into(),
        audience: first_party::TOKEN_EXCHANGE_AUDIENCE.into(),
        ..TokenSpec::default()
    });
    let (status, body) = assertion_request(&client, &emulator, &entra).await;
    assert_entra_error(status, &body, 400, "invalid_request", 700222);

    // The right issuer and subject, signed by a key the issuer never published.
    let (pair, _) = new_certificate();
    let now = now();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("not-a-published-kid".into());
    let forged = jsonwebtoken::encode(
        &header,
        &json!({"iss": CLUSTER_ISSUER, "sub": SERVICE_ACCOUNT, "aud": [first_party::TOKEN_EXCHANGE_AUDIENCE], "nbf": now, "exp": now + 600}),
        &EncodingKey::from_rsa_pem(pair.serialize_pem().as_bytes()).unwrap(),
    )
    .unwrap();
    let (status, body) = assertion_request(&client, &emulator, &forged).await;
    assert_entra_error(status, &body, 401, "invalid_client", 700027);
}

// ---------------------------------------------------------------- refresh tokens

async fn refresh_v1(
    client: &reqwest::Client,
    emulator: &Emulator,
    tenant: &str,
    refresh_token: &str,
    client_id: &str,
    resource: &str,
) -> (u16, Value) {
    post_form(
        client,
        &v1_token_url(emulator, tenant),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
            ("resource", resource),
        ],
    )
    .await
}

async fn refresh_v2(
    client: &reqwest::Client,
    emulator: &Emulator,
    refresh_token: &str,
    scope: &str,
) -> (u16, Value) {
    post_form(
        client,
        &token_url(emulator, seed::CONTOSO_ID),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", first_party::AZURE_POWERSHELL),
            ("refresh_token", refresh_token),
            ("scope", scope),
        ],
    )
    .await
}

#[tokio::test]
async fn v1_refresh_for_the_portal_gives_a_v1_global_admin_token_and_rotates() {
    let (emulator, client) = start().await;
    let rt = emulator.admin_refresh_token(seed::CONTOSO_ID).unwrap();
    assert_eq!(
        emulator
            .admin_refresh_token(seed::CONTOSO_DOMAIN)
            .as_deref(),
        Some(rt.as_str())
    );
    assert!(emulator.admin_refresh_token(seed::FABRIKAM_ID).is_some());
    assert!(emulator.admin_refresh_token("no-such-tenant").is_none());

    let (status, body) = refresh_v1(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        &rt,
        first_party::AZURE_POWERSHELL,
        first_party::PORTAL_RESOURCE,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], "3599", "v1 sends strings");
    assert_eq!(body["resource"], first_party::PORTAL_RESOURCE);
    assert_eq!(body["scope"], "user_impersonation");
    let rotated = body["refresh_token"].as_str().unwrap();
    assert_ne!(rotated, rt);

    let c = verified(
        &emulator,
        body["access_token"].as_str().unwrap(),
        first_party::PORTAL_RESOURCE,
    );
    assert_eq!(c["ver"], "1.0");
    assert_eq!(c["iss"], emulator.v1_issuer(seed::CONTOSO_ID));
    assert!(c["iss"].as_str().unwrap().ends_with('/'));
    assert_eq!(c["scp"], "user_impersonation");
    assert_eq!(c["appid"], first_party::AZURE_POWERSHELL);
    assert_eq!(c["appidacr"], "0", "public client");
    assert_eq!(c["oid"], MEGAN);
    assert_eq!(c["upn"], "meganb@contoso.onmicrosoft.com");
    assert_eq!(c["tid"], seed::CONTOSO_ID);
    assert!(
        c["wids"]
            .as_array()
            .unwrap()
            .contains(&json!(first_party::GLOBAL_ADMINISTRATOR_ROLE))
    );
    assert!(c.get("azp").is_none() && c.get("roles").is_none());

    // Both the rotated and the original token still redeem (Entra keeps the old one valid).
    for token in [rotated, rt.as_str()] {
        let (status, body) = refresh_v1(
            &client,
            &emulator,
            seed::CONTOSO_ID,
            token,
            first_party::AZURE_POWERSHELL,
            first_party::PORTAL_RESOURCE,
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn v2_refresh_returns_integers_and_a_new_refresh_token_only_with_offline_access() {
    let (emulator, client) = start().await;
    let rt = emulator.admin_refresh_token(seed::CONTOSO_ID).unwrap();
    let portal_default = format!("{}/.default", first_party::PORTAL_RESOURCE);

    let (status, body) = refresh_v2(
        &client,
        &emulator,
        &rt,
        &format!("{portal_default} offline_access"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 3599);
    assert!(body.get("resource").is_none());
    assert_eq!(
        body["scope"],
        format!("{}/user_impersonation", first_party::PORTAL_RESOURCE)
    );
    assert!(body["refresh_token"].as_str().unwrap().starts_with("0.A"));
    let c = claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        (c["aud"].as_str(), c["ver"].as_str()),
        (Some(first_party::PORTAL_RESOURCE), Some("1.0"))
    );

    let (status, body) = refresh_v2(&client, &emulator, &rt, &portal_default).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
}

#[tokio::test]
async fn a_delegated_graph_token_carries_scopes_and_is_accepted_by_graph() {
    let (emulator, client) = start().await;
    let rt = emulator.admin_refresh_token(seed::CONTOSO_ID).unwrap();
    let (status, body) = refresh_v2(
        &client,
        &emulator,
        &rt,
        &format!("{GRAPH_SCOPE} offline_access"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let c = verified(&emulator, token, seed::GRAPH_RESOURCE);
    assert_eq!(c["idtyp"], "user");
    assert_eq!(c["azp"], first_party::AZURE_POWERSHELL);
    let scp: Vec<&str> = c["scp"].as_str().unwrap().split(' ').collect();
    assert!(
        scp.contains(&"Policy.ReadWrite.AuthenticationMethod")
            && scp.contains(&"Organization.Read.All")
    );

    let response = common::graph_get(&client, &emulator, "organization", Some(token)).await;
    assert_eq!(response.status(), 200);

    // A named scope the client is pre-authorized for narrows `scp`.
    let (status, body) = refresh_v2(
        &client,
        &emulator,
        &rt,
        "https://graph.microsoft.com/User.Read openid",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["scope"],
        "https://graph.microsoft.com/User.Read openid"
    );
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["scp"],
        "User.Read"
    );
}

#[tokio::test]
async fn refresh_errors_use_entra_codes() {
    let (emulator, client) = start().await;
    let rt = emulator.admin_refresh_token(seed::CONTOSO_ID).unwrap();
    let portal = first_party::PORTAL_RESOURCE;
    let pwsh = first_party::AZURE_POWERSHELL;

    let (s, b) = refresh_v1(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        "0.Anot-issued",
        pwsh,
        portal,
    )
    .await;
    assert_entra_error(s, &b, 400, "invalid_grant", 70000);
    // Bound to the client and the tenant it was issued for.
    let (s, b) = refresh_v1(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        &rt,
        first_party::AZURE_PORTAL,
        portal,
    )
    .await;
    assert_entra_error(s, &b, 400, "invalid_grant", 70000);
    let (s, b) = refresh_v1(&client, &emulator, seed::FABRIKAM_ID, &rt, pwsh, portal).await;
    assert_entra_error(s, &b, 400, "invalid_grant", 70000);
    // Resources: not consented, not existing.
    let (s, b) = refresh_v1(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        &rt,
        pwsh,
        seed::GRAPH_APP_CLIENT_ID,
    )
    .await;
    assert_entra_error(s, &b, 400, "invalid_grant", 65001);
    assert_eq!(b["suberror"], "consent_required");
    let (s, b) = refresh_v1(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        &rt,
        pwsh,
        "api://nothing-here",
    )
    .await;
    assert_entra_error(s, &b, 400, "invalid_resource", 500011);
    let (s, b) = refresh_v2(
        &client,
        &emulator,
        &rt,
        "https://graph.microsoft.com/Mail.Read",
    )
    .await;
    assert_entra_error(s, &b, 400, "invalid_grant", 65001);
    // A public client must not send a secret; an unknown client is not in the directory.
    let (s, b) = post_form(
        &client,
        &v1_token_url(&emulator, seed::CONTOSO_ID),
        &[
            ("grant_type", "refresh_token"),
            ("client_id", pwsh),
            ("client_secret", "x"),
            ("refresh_token", &rt),
            ("resource", portal),
        ],
    )
    .await;
    assert_entra_error(s, &b, 401, "invalid_client", 700025);
    let (s, b) = refresh_v1(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        &rt,
        "0f0f0f0f-0000-4000-8000-000000000000",
        portal,
    )
    .await;
    assert_entra_error(s, &b, 400, "unauthorized_client", 700016);

    // A disabled user's sessions stop working.
    emulator.with_tenant(seed::CONTOSO_ID, |t| {
        t.users
            .iter_mut()
            .find(|u| u.id == MEGAN)
            .unwrap()
            .account_enabled = false;
    });
    let (s, b) = refresh_v1(&client, &emulator, seed::CONTOSO_ID, &rt, pwsh, portal).await;
    assert_entra_error(s, &b, 400, "invalid_grant", 50057);
    emulator.with_tenant(seed::CONTOSO_ID, |t| {
        t.users
            .iter_mut()
            .find(|u| u.id == MEGAN)
            .unwrap()
            .account_enabled = true;
    });

    // Expiry after inactivity.
    assert!(emulator.expire_refresh_token(&rt));
    let (s, b) = refresh_v1(&client, &emulator, seed::CONTOSO_ID, &rt, pwsh, portal).await;
    assert_entra_error(s, &b, 400, "invalid_grant", 700082);
    assert!(!emulator.expire_refresh_token("0.Anever"));
}

// ---------------------------------------------------------------- portal back end

fn portal_url(emulator: &Emulator, path_and_query: &str) -> String {
    format!("{}api/PasswordReset/{path_and_query}", emulator.base_url())
}

/// A portal token for `user` of contoso through the v1 refresh grant, as admin tools get it.
async fn portal_token(client: &reqwest::Client, emulator: &Emulator, user: &str) -> String {
    let rt = emulator
        .issue_refresh_token(seed::CONTOSO_ID, user, first_party::AZURE_POWERSHELL)
        .unwrap();
    let (status, body) = refresh_v1(
        client,
        emulator,
        seed::CONTOSO_ID,
        &rt,
        first_party::AZURE_POWERSHELL,
        first_party::PORTAL_RESOURCE,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn portal(
    client: &reqwest::Client,
    emulator: &Emulator,
    method: reqwest::Method,
    path_and_query: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = client
        .request(method, portal_url(emulator, path_and_query))
        .header(
            "x-ms-correlation-id",
            "7d1f3c2b-1111-4a2b-8c3d-000000000001",
        );
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    assert_eq!(
        response.headers()["x-ms-correlation-id"],
        "7d1f3c2b-1111-4a2b-8c3d-000000000001"
    );
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The captured sample body (graph-api.md §2.3).
fn sample_policies() -> Value {
    json!({
        "objectId": "default",
        "enablementType": 2,
        "numberOfAuthenticationMethodsRequired": 1,
        "emailOptionEnabled": true,
        "mobilePhoneOptionEnabled": true,
        "officePhoneOptionEnabled": false,
        "securityQuestionsOptionEnabled": false,
        "mobileAppNotificationEnabled": false,
        "mobileAppCodeEnabled": true,
        "numberOfQuestionsToRegister": 5,
        "numberOfQuestionsToReset": 3,
        "registrationRequiredOnSignIn": true,
        "registrationReconfirmIntevalInDays": 180,
        "skipRegistrationAllowed": true,
        "skipRegistrationMaxAllowedDays": 7,
        "customizeHelpdeskLink": false,
        "customHelpdeskEmailOrUrl": "",
        "notifyUsersOnPasswordReset": true,
        "notifyOnAdminPasswordReset": true,
        "passwordResetEnabledGroupIds": [],
        "passwordResetEnabledGroupName": "",
        "securityQuestions": [],
        "registrationConditionalAccessPolicies": [],
        "emailOptionAllowed": true,
        "mobilePhoneOptionAllowed": true,
        "officePhoneOptionAllowed": true,
        "securityQuestionsOptionAllowed": true,
        "mobileAppNotificationOptionAllowed": true,
        "mobileAppCodeOptionAllowed": true
    })
}

fn seed_portal(emulator: &Emulator) {
    emulator.with_tenant(seed::CONTOSO_ID, |t| {
        t.password_reset_policies = sample_policies();
        t.on_premises_password_reset_policies = json!({
            "objectId": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "enablementForTenant": true,
            "cloudProvisioningEnablementForTenant": false,
            "passwordWritebackSupported": false,
            "accountUnlockSupported": true,
            "accountUnlockEnabled": false
        });
    });
}

#[tokio::test]
async fn the_portal_refuses_anything_but_a_delegated_admin_portal_token() {
    let (emulator, client) = start().await;
    seed_portal(&emulator);
    let get = reqwest::Method::GET;
    let path = "PasswordResetPolicies";

    let (status, body) = portal(&client, &emulator, get.clone(), path, None, None).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["errorCode"].is_string() && body["message"].is_string());

    // App-only for the right audience and issuer: a valid token, but no user.
    let app_only = emulator.mint_token(&TokenSpec {
        tenant_id: seed::CONTOSO_ID.into(),
        audience: first_party::PORTAL_RESOURCE.into(),
        issuer: Some(emulator.v1_issuer(seed::CONTOSO_ID)),
        roles: vec!["Directory.ReadWrite.All".into()],
        app_id: seed::GRAPH_APP_CLIENT_ID.into(),
        ..TokenSpec::default()
    });
    assert_eq!(
        portal(&client, &emulator, get.clone(), path, Some(&app_only), None)
            .await
            .0,
        403
    );
    // A client-credentials token for Graph is the wrong audience.
    let graph = common::graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    assert_eq!(
        portal(&client, &emulator, get.clone(), path, Some(&graph), None)
            .await
            .0,
        401
    );
    // A delegated token for the portal but from the v2 issuer, and one without the scope.
    let delegated = |issuer: Option<String>, scp: &str| {
        emulator.mint_token(&TokenSpec {
            tenant_id: seed::CONTOSO_ID.into(),
            audience: first_party::PORTAL_RESOURCE.into(),
            issuer,
            scp: Some(scp.into()),
            oid: MEGAN.into(),
            app_id: first_party::AZURE_PORTAL.into(),
            ..TokenSpec::default()
        })
    };
    let v2 = delegated(None, "user_impersonation");
    assert_eq!(
        portal(&client, &emulator, get.clone(), path, Some(&v2), None)
            .await
            .0,
        401
    );
    let no_scope = delegated(Some(emulator.v1_issuer(seed::CONTOSO_ID)), "openid");
    assert_eq!(
        portal(&client, &emulator, get.clone(), path, Some(&no_scope), None)
            .await
            .0,
        403
    );
    // Users without an admin role who may read the blade.
    for user in [ALEX, NESTOR_HELPDESK] {
        let token = portal_token(&client, &emulator, user).await;
        assert_eq!(
            portal(&client, &emulator, get.clone(), path, Some(&token), None)
                .await
                .0,
            403
        );
    }
    // The Global Administrator gets through; every call was logged against the tenant.
    let admin = portal_token(&client, &emulator, MEGAN).await;
    let (status, body) = portal(&client, &emulator, get, path, Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, sample_policies());
    let portal_calls: Vec<_> = emulator
        .calls()
        .into_iter()
        .filter(|c| c.kind == CallKind::Portal)
        .collect();
    assert_eq!(portal_calls.len(), 8);
    assert_eq!(portal_calls[7].tenant_id.as_deref(), Some(seed::CONTOSO_ID));
}

#[tokio::test]
async fn put_replaces_the_whole_object_and_the_next_get_shows_it() {
    let (emulator, client) = start().await;
    seed_portal(&emulator);
    let admin = portal_token(&client, &emulator, MEGAN).await;
    let path = "PasswordResetPolicies";

    let mut change = sample_policies();
    change["enablementType"] = json!(1);
    change["passwordResetEnabledGroupIds"] = json!([seed::CONTOSO_GROUP_SSPR_USERS]);
    change["registrationReconfirmIntevalInDays"] = json!(90);
    // Omitted: gone after the PUT. Unknown: kept because it was sent.
    let obj = change.as_object_mut().unwrap();
    obj.remove("skipRegistrationMaxAllowedDays");
    obj.insert("futurePortalSetting".into(), json!("kept"));
    // Capabilities are the tenant's: a PUT cannot grant office phone.
    obj.insert("officePhoneOptionAllowed".into(), json!(false));

    let (status, body) = portal(
        &client,
        &emulator,
        reqwest::Method::PUT,
        path,
        Some(&admin),
        Some(&change),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let (status, got) = portal(
        &client,
        &emulator,
        reqwest::Method::GET,
        "PasswordResetPolicies?getPasswordResetEnabledGroup=true",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(got["enablementType"], 1);
    assert_eq!(got["registrationReconfirmIntevalInDays"], 90);
    assert_eq!(
        got["passwordResetEnabledGroupIds"],
        json!([seed::CONTOSO_GROUP_SSPR_USERS])
    );
    let group_name = emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.groups
                .iter()
                .find(|g| g.id == seed::CONTOSO_GROUP_SSPR_USERS)
                .unwrap()
                .display_name
                .clone()
        })
        .unwrap();
    assert_eq!(got["passwordResetEnabledGroupName"], group_name);
    assert!(got.get("skipRegistrationMaxAllowedDays").is_none(), "{got}");
    assert_eq!(got["futurePortalSetting"], "kept");
    assert_eq!(got["officePhoneOptionAllowed"], true);
    let stored = emulator
        .with_tenant(seed::CONTOSO_ID, |t| t.password_reset_policies.clone())
        .unwrap();
    assert_eq!(stored["enablementType"], 1);

    // A PUT without a required field is refused and changes nothing.
    let mut partial = sample_policies();
    partial
        .as_object_mut()
        .unwrap()
        .remove("numberOfAuthenticationMethodsRequired");
    let (status, body) = portal(
        &client,
        &emulator,
        reqwest::Method::PUT,
        path,
        Some(&admin),
        Some(&partial),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("numberOfAuthenticationMethodsRequired")
    );
    let after = emulator
        .with_tenant(seed::CONTOSO_ID, |t| t.password_reset_policies.clone())
        .unwrap();
    assert_eq!(after, stored);
}

#[tokio::test]
async fn put_validates_the_documented_ranges_and_the_method_count() {
    let (emulator, client) = start().await;
    seed_portal(&emulator);
    let admin = portal_token(&client, &emulator, MEGAN).await;
    let put = |body: Value, query: &'static str| {
        let (client, emulator, admin) = (client.clone(), emulator.clone(), admin.clone());
        async move {
            portal(
                &client,
                &emulator,
                reqwest::Method::PUT,
                &format!("PasswordResetPolicies{query}"),
                Some(&admin),
                Some(&body),
            )
            .await
        }
    };
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut b = sample_policies();
        edit(&mut b);
        b
    };
    let refused = [
        with(&|b| b["numberOfAuthenticationMethodsRequired"] = json!(3)),
        with(&|b| b["registrationReconfirmIntevalInDays"] = json!(731)),
        with(&|b| b["enablementType"] = json!(3)),
        with(&|b| b["enablementType"] = json!(1)),
        with(&|b| {
            b["enablementType"] = json!(1);
            b["passwordResetEnabledGroupIds"] = json!(["0c1d2e3f-0000-4000-8000-000000000000"]);
        }),
        with(&|b| {
            b["enablementType"] = json!(1);
            b["passwordResetEnabledGroupIds"] = json!([
                seed::CONTOSO_GROUP_SSPR_USERS,
                seed::CONTOSO_GROUP_ALL_STAFF
            ]);
        }),
        with(&|b| b["numberOfQuestionsToReset"] = json!(6)),
        with(&|b| b["emailOptionEnabled"] = json!("yes")),
        with(&|b| b["objectId"] = json!("other")),
    ];
    for body in refused {
        let (status, response) = put(body.clone(), "").await;
        assert_eq!(status, 400, "accepted {body}: {response}");
    }
    let (status, _) = put(json!([1, 2]), "").await;
    assert_eq!(status, 400);

    // Two methods required but only one enabled: refused unless the check is bypassed.
    let one_method = with(&|b| {
        b["numberOfAuthenticationMethodsRequired"] = json!(2);
        b["mobilePhoneOptionEnabled"] = json!(false);
        b["mobileAppCodeEnabled"] = json!(false);
    });
    let (status, body) = put(one_method.clone(), "").await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("InsufficientAuthenticationMethods"))
    );
    let (status, body) = put(one_method, "?byPassMethodCountCheck=true").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["numberOfAuthenticationMethodsRequired"], 2);

    // Readers may not write.
    emulator.with_tenant(seed::CONTOSO_ID, |t| {
        t.users
            .iter_mut()
            .find(|u| u.id == ALEX)
            .unwrap()
            .directory_roles = vec!["Global Reader".into()];
    });
    let reader = portal_token(&client, &emulator, ALEX).await;
    let (status, _) = portal(
        &client,
        &emulator,
        reqwest::Method::GET,
        "PasswordResetPolicies",
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = portal(
        &client,
        &emulator,
        reqwest::Method::PUT,
        "PasswordResetPolicies",
        Some(&reader),
        Some(&sample_policies()),
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn writeback_and_unlock_need_separate_puts_and_an_on_premises_integration() {
    let (emulator, client) = start().await;
    seed_portal(&emulator);
    let admin = portal_token(&client, &emulator, MEGAN).await;
    let path = "OnPremisesPasswordResetPolicies";
    let put = reqwest::Method::PUT;

    // Combined: only writeback sticks (the quirk tools work around).
    let both = json!({"passwordWriteBackSupported": true, "accountUnlockEnabled": true});
    let (status, body) = portal(
        &client,
        &emulator,
        put.clone(),
        path,
        Some(&admin),
        Some(&both),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["passwordWritebackSupported"], true,
        "response casing: lower-case b"
    );
    assert_eq!(body["accountUnlockEnabled"], false);
    // Separately, unlock sticks too.
    let unlock = json!({"accountUnlockEnabled": true});
    let (status, _) = portal(
        &client,
        &emulator,
        put.clone(),
        path,
        Some(&admin),
        Some(&unlock),
    )
    .await;
    assert_eq!(status, 200);
    let (status, got) = portal(
        &client,
        &emulator,
        reqwest::Method::GET,
        path,
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            got["passwordWritebackSupported"].as_bool(),
            got["accountUnlockEnabled"].as_bool()
        ),
        (Some(true), Some(true))
    );
    assert!(got.get("passwordWriteBackSupported").is_none());

    // A cloud-only tenant (no on-premises objectId) cannot turn writeback on.
    emulator.with_tenant(seed::CONTOSO_ID, |t| {
        t.on_premises_password_reset_policies["objectId"] = Value::Null;
    });
    let writeback = json!({"passwordWriteBackSupported": true});
    let (status, body) = portal(
        &client,
        &emulator,
        put,
        path,
        Some(&admin),
        Some(&writeback),
    )
    .await;
    assert_eq!(status, 400, "{body}");
}
