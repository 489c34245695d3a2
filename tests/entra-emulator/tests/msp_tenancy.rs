//! What an MSP needs from Entra and Graph to onboard customer tenants (msp-readiness.md §1–2):
//! admin consent and the `roles` it puts into tokens, tenants found by a verified domain, the
//! managed-identity endpoint, a Kubernetes-like service-account issuer, the MSP app's seeded
//! federated credentials, and GDAP discovery in the partner tenant.

mod common;

use std::time::Duration;

use common::{
    assert_entra_error, assertion_token_request, claims, get_json, graph_get, graph_token,
    request_token, start,
};
use entra_emulator::{CallKind, Emulator, TokenSpec, first_party, seed};
use graph_schema::Schema;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::Value;
use url::Url;

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
/// A customer that signs up during a test (not seeded).
const NEW_TENANT_ID: &str = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f";
const NEW_TENANT_DOMAIN: &str = "woodgrove-new.onmicrosoft.com";

fn sorted(values: &Value) -> Vec<String> {
    let mut out: Vec<String> = values
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn sorted_strs(values: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    out.sort();
    out
}

/// Status and body of a Graph-token request for the MSP app by its secret.
async fn msp_app_token(
    client: &reqwest::Client,
    emulator: &Emulator,
    tenant: &str,
) -> (u16, Value) {
    request_token(
        client,
        emulator,
        tenant,
        seed::GRAPH_APP_CLIENT_ID,
        &emulator.graph_app_secret(),
        GRAPH_SCOPE,
    )
    .await
}

/// Claims after verifying the signature with the emulator's key, as a resource server would.
fn verified(emulator: &Emulator, token: &str, audience: &str) -> Value {
    let key = DecodingKey::from_rsa_pem(emulator.signing_public_key_pem().as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("token verifies")
        .claims
}

// ---------------------------------------------------------------- managed identity (IMDS)

async fn imds(
    client: &reqwest::Client,
    emulator: &Emulator,
    query: &[(&str, &str)],
    metadata_header: bool,
) -> (u16, Value) {
    let mut request = client
        .get(emulator.managed_identity_endpoint())
        .query(query);
    if metadata_header {
        request = request.header("Metadata", "true");
    }
    let response = request.send().await.expect("IMDS answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("IMDS answers JSON"))
}

async fn uami_token(client: &reqwest::Client, emulator: &Emulator, resource: &str) -> Value {
    let (status, body) = imds(
        client,
        emulator,
        &[
            ("api-version", "2018-02-01"),
            ("resource", resource),
            ("client_id", seed::SERVICE_UAMI_CLIENT_ID),
        ],
        true,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn the_managed_identity_gets_tokens_for_token_exchange_and_for_the_service_api() {
    let (emulator, client) = start().await;

    let body = uami_token(&client, &emulator, first_party::TOKEN_EXCHANGE_AUDIENCE).await;
    // IMDS sends every number as a string.
    for field in ["expires_in", "expires_on", "ext_expires_in", "not_before"] {
        let text = body[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field}: {body}"));
        assert!(text.parse::<i64>().is_ok(), "{field}: {body}");
    }
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["resource"], first_party::TOKEN_EXCHANGE_AUDIENCE);
    assert_eq!(body["client_id"], seed::SERVICE_UAMI_CLIENT_ID);
    let exchange = verified(
        &emulator,
        body["access_token"].as_str().unwrap(),
        first_party::TOKEN_EXCHANGE_AUDIENCE,
    );
    assert_eq!(exchange["iss"], emulator.issuer(seed::OPERATOR_ID));
    assert_eq!(exchange["tid"], seed::OPERATOR_ID);
    assert_eq!(exchange["sub"], seed::SERVICE_UAMI_PRINCIPAL_ID);
    assert_eq!(exchange["oid"], seed::SERVICE_UAMI_PRINCIPAL_ID);
    assert_eq!(exchange["idtyp"], "app");
    assert_eq!(exchange["azp"], seed::SERVICE_UAMI_CLIENT_ID);
    assert_eq!(exchange["appid"], seed::SERVICE_UAMI_CLIENT_ID);
    assert!(exchange.get("roles").is_none(), "{exchange}");

    // The service's own API: the identity's app role there comes with it.
    let body = uami_token(&client, &emulator, seed::SERVICE_AUDIENCE).await;
    let service = verified(
        &emulator,
        body["access_token"].as_str().unwrap(),
        seed::SERVICE_AUDIENCE,
    );
    assert_eq!(service["roles"], serde_json::json!(["SSPR.Admin"]));
    assert_eq!(service["tid"], seed::OPERATOR_ID);
    assert_eq!(service["sub"], seed::SERVICE_UAMI_PRINCIPAL_ID);

    let call = emulator
        .calls()
        .into_iter()
        .rfind(|c| c.kind == CallKind::ManagedIdentity)
        .expect("logged");
    assert_eq!(call.tenant_id.as_deref(), Some(seed::OPERATOR_ID));
    assert_eq!(call.app_id.as_deref(), Some(seed::SERVICE_UAMI_CLIENT_ID));
    emulator.shutdown().await;
}

#[tokio::test]
async fn imds_refuses_like_imds_without_the_header_an_identity_or_a_resource() {
    let (emulator, client) = start().await;
    let good = [
        ("api-version", "2018-02-01"),
        ("resource", seed::SERVICE_AUDIENCE),
        ("client_id", seed::SERVICE_UAMI_CLIENT_ID),
    ];
    let (status, body) = imds(&client, &emulator, &good, false).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["error_description"],
        "Required metadata header not specified"
    );
    assert!(body.get("access_token").is_none());

    let unknown = [
        ("api-version", "2018-02-01"),
        ("resource", seed::SERVICE_AUDIENCE),
        ("client_id", seed::GRAPH_APP_CLIENT_ID),
    ];
    let (status, body) = imds(&client, &emulator, &unknown, true).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_description"], "Identity not found");

    let (status, body) = imds(&client, &emulator, &good[..1], true).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("'resource'"),
        "{body}"
    );

    let nowhere = [
        ("api-version", "2018-02-01"),
        ("resource", "api://nothing-here"),
        ("client_id", seed::SERVICE_UAMI_CLIENT_ID),
    ];
    let (status, body) = imds(&client, &emulator, &nowhere, true).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_resource");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS500011:"),
        "{body}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_managed_identity_token_is_the_msp_apps_assertion_in_a_customer_tenant() {
    let (emulator, client) = start().await;
    let body = uami_token(&client, &emulator, first_party::TOKEN_EXCHANGE_AUDIENCE).await;
    let assertion = body["access_token"].as_str().unwrap();

    let (status, body) =
        assertion_token_request(&client, &emulator, seed::CONTOSO_ID, assertion).await;
    assert_eq!(status, 200, "{body}");
    let graph = verified(
        &emulator,
        body["access_token"].as_str().unwrap(),
        seed::GRAPH_RESOURCE,
    );
    assert_eq!(graph["tid"], seed::CONTOSO_ID);
    assert_eq!(graph["appid"], seed::GRAPH_APP_CLIENT_ID);
    assert_eq!(graph["azpacr"], "2");
    assert_eq!(
        sorted(&graph["roles"]),
        sorted_strs(seed::GRAPH_APP_PERMISSIONS)
    );

    // Only a managed identity's token is exempt from "no Entra tokens": an operator-issued token
    // for some other principal, with the same issuer and audience, is still refused.
    let not_an_identity = emulator.mint_token(&TokenSpec {
        tenant_id: seed::OPERATOR_ID.into(),
        audience: first_party::TOKEN_EXCHANGE_AUDIENCE.into(),
        oid: seed::DEMO_OPERATOR_OID.into(),
        ..TokenSpec::default()
    });
    let (status, body) =
        assertion_token_request(&client, &emulator, seed::CONTOSO_ID, &not_an_identity).await;
    assert_entra_error(status, &body, 400, "invalid_request", 700222);

    // Without the federated credential that names the identity, the token proves nothing.
    emulator.with_directory(|d| {
        let app = d
            .apps
            .iter_mut()
            .find(|a| a.client_id == seed::GRAPH_APP_CLIENT_ID)
            .unwrap();
        app.federated_credentials
            .retain(|f| f.subject != seed::SERVICE_UAMI_PRINCIPAL_ID);
    });
    let (status, body) =
        assertion_token_request(&client, &emulator, seed::CONTOSO_ID, assertion).await;
    assert_entra_error(status, &body, 400, "invalid_request", 70021);
    emulator.shutdown().await;
}

// ---------------------------------------------------------------- Kubernetes service accounts

#[tokio::test]
async fn the_demo_clusters_service_account_token_works_and_an_expired_one_is_refused() {
    let (emulator, client) = start().await;
    let issuer = emulator.service_account_issuer(seed::DEMO_CLUSTER);
    assert_eq!(
        issuer,
        format!("{}_k8s/{}", emulator.base_url(), seed::DEMO_CLUSTER)
    );

    // The issuer publishes what an OIDC verifier needs, and its keys verify its tokens.
    let discovery: Value = get_json(
        &client,
        &format!("{issuer}/.well-known/openid-configuration"),
    )
    .await;
    assert_eq!(discovery["issuer"], issuer.as_str());
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    assert_eq!(jwks_uri, format!("{issuer}/openid/v1/jwks"));
    let jwks: JwkSet = get_json(&client, jwks_uri).await;

    let token = emulator.mint_service_account_token(
        seed::DEMO_CLUSTER,
        seed::DEMO_NAMESPACE,
        seed::DEMO_SERVICE_ACCOUNT,
        Duration::from_secs(3600),
    );
    let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
    let jwk = jwks.find(&kid).expect("the token's key is published");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[first_party::TOKEN_EXCHANGE_AUDIENCE]);
    validation.set_issuer(&[issuer.as_str()]);
    let projected =
        jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .expect("verifies with the cluster's JWKS")
            .claims;
    assert_eq!(projected["sub"], seed::DEMO_SERVICE_ACCOUNT_SUBJECT);
    assert_eq!(
        projected["kubernetes.io"]["namespace"],
        seed::DEMO_NAMESPACE
    );
    assert_eq!(
        projected["kubernetes.io"]["serviceaccount"]["name"],
        seed::DEMO_SERVICE_ACCOUNT
    );
    let exp = projected["exp"].as_i64().unwrap();
    let iat = projected["iat"].as_i64().unwrap();
    assert_eq!(exp - iat, 3600);

    // The seeded federated credential trusts it in any tenant the app is consented in.
    let (status, body) =
        assertion_token_request(&client, &emulator, seed::TAILSPIN_ID, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["tid"],
        seed::TAILSPIN_ID
    );

    // The file before the cluster rotated it: expired, refused as Entra does.
    let expired = emulator.mint_expired_service_account_token(
        seed::DEMO_CLUSTER,
        seed::DEMO_NAMESPACE,
        seed::DEMO_SERVICE_ACCOUNT,
    );
    let (status, body) =
        assertion_token_request(&client, &emulator, seed::TAILSPIN_ID, &expired).await;
    assert_entra_error(status, &body, 401, "invalid_client", 700024);

    // Another service account of the same cluster matches no credential.
    let other = emulator.mint_service_account_token(
        seed::DEMO_CLUSTER,
        seed::DEMO_NAMESPACE,
        "default",
        Duration::from_secs(3600),
    );
    let (status, body) =
        assertion_token_request(&client, &emulator, seed::TAILSPIN_ID, &other).await;
    assert_entra_error(status, &body, 400, "invalid_request", 70021);
    emulator.shutdown().await;
}

/// `POST /_emulator/service-account-token` as a demo script calls it.
async fn control_service_account_token(
    client: &reqwest::Client,
    emulator: &Emulator,
    key: Option<&str>,
    body: Value,
) -> (u16, Value) {
    let mut request = client
        .post(format!(
            "{}_emulator/service-account-token",
            emulator.base_url()
        ))
        .json(&body);
    if let Some(key) = key {
        request = request.header(entra_emulator::CONTROL_KEY_HEADER, key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_control_api_mints_token_files_for_a_process_outside_the_test() {
    let (emulator, client) = start().await;
    let key = emulator.control_key();
    let (status, body) =
        control_service_account_token(&client, &emulator, Some(&key), serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["subject"], seed::DEMO_SERVICE_ACCOUNT_SUBJECT);
    assert_eq!(
        body["issuer"],
        emulator.service_account_issuer(seed::DEMO_CLUSTER)
    );
    let (status, answer) = assertion_token_request(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        body["token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{answer}");

    let (status, body) = control_service_account_token(
        &client,
        &emulator,
        Some(&key),
        serde_json::json!({ "expired": true }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, answer) = assertion_token_request(
        &client,
        &emulator,
        seed::CONTOSO_ID,
        body["token"].as_str().unwrap(),
    )
    .await;
    assert_entra_error(status, &answer, 401, "invalid_client", 700024);

    let (status, _) =
        control_service_account_token(&client, &emulator, None, serde_json::json!({})).await;
    assert_eq!(status, 401);
    let (status, body) = control_service_account_token(
        &client,
        &emulator,
        Some(&key),
        serde_json::json!({ "cluster": "Not/A Cluster" }),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("cluster:"),
        "{body}"
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_msp_app_is_seeded_with_both_federated_credentials_and_keeps_its_secret() {
    let (emulator, client) = start().await;
    let credentials = emulator.with_directory(|d| {
        d.app(seed::GRAPH_APP_CLIENT_ID)
            .unwrap()
            .federated_credentials
            .iter()
            .map(|f| (f.issuer.clone(), f.subject.clone(), f.audiences.clone()))
            .collect::<Vec<_>>()
    });
    let exchange = vec![first_party::TOKEN_EXCHANGE_AUDIENCE.to_string()];
    assert!(credentials.contains(&(
        emulator.service_account_issuer(seed::DEMO_CLUSTER),
        seed::DEMO_SERVICE_ACCOUNT_SUBJECT.to_string(),
        exchange.clone()
    )));
    assert!(credentials.contains(&(
        emulator.issuer(seed::OPERATOR_ID),
        seed::SERVICE_UAMI_PRINCIPAL_ID.to_string(),
        exchange
    )));
    // A reset rebuilds them (their issuers name this emulator's URL).
    emulator.reset();
    let after = emulator.with_directory(|d| {
        d.app(seed::GRAPH_APP_CLIENT_ID)
            .unwrap()
            .federated_credentials
            .len()
    });
    assert_eq!(after, credentials.len());
    let (status, body) = msp_app_token(&client, &emulator, seed::CONTOSO_ID).await;
    assert_eq!(status, 200, "{body}");
    emulator.shutdown().await;
}

// ---------------------------------------------------------------- consent

#[tokio::test]
async fn granted_consent_becomes_the_roles_claim_and_revoking_it_is_700016() {
    let (emulator, client) = start().await;
    emulator
        .create_tenant(NEW_TENANT_ID, NEW_TENANT_DOMAIN, "Woodgrove New")
        .unwrap();
    // Signed up, nothing consented: the app is not installed there.
    let (status, body) = msp_app_token(&client, &emulator, NEW_TENANT_ID).await;
    assert_entra_error(status, &body, 400, "unauthorized_client", 700016);

    emulator
        .grant_consent(
            NEW_TENANT_DOMAIN,
            seed::GRAPH_APP_CLIENT_ID,
            &["Policy.Read.All", "Organization.Read.All"],
        )
        .unwrap();
    let (status, body) = msp_app_token(&client, &emulator, NEW_TENANT_ID).await;
    assert_eq!(status, 200, "{body}");
    let token = claims(body["access_token"].as_str().unwrap());
    assert_eq!(
        sorted(&token["roles"]),
        sorted_strs(&["Policy.Read.All", "Organization.Read.All"])
    );
    let first_oid = token["oid"].clone();

    // A second grant replaces the permissions on the same principal.
    emulator
        .grant_consent(
            NEW_TENANT_ID,
            seed::GRAPH_APP_CLIENT_ID,
            &["AuditLog.Read.All"],
        )
        .unwrap();
    let (_, body) = msp_app_token(&client, &emulator, NEW_TENANT_ID).await;
    let token = claims(body["access_token"].as_str().unwrap());
    assert_eq!(token["roles"], serde_json::json!(["AuditLog.Read.All"]));
    assert_eq!(token["oid"], first_oid);

    emulator
        .revoke_consent(NEW_TENANT_ID, seed::GRAPH_APP_CLIENT_ID)
        .unwrap();
    let (status, body) = msp_app_token(&client, &emulator, NEW_TENANT_ID).await;
    assert_entra_error(status, &body, 400, "unauthorized_client", 700016);
    assert!(
        emulator
            .revoke_consent(NEW_TENANT_ID, seed::GRAPH_APP_CLIENT_ID)
            .is_err(),
        "nothing left to revoke"
    );

    // Bad input is refused with what was wrong.
    let e = emulator
        .create_tenant("not-a-guid", "x.onmicrosoft.com", "X")
        .unwrap_err();
    assert!(e.to_string().contains("not a GUID"), "{e}");
    let e = emulator
        .create_tenant(
            "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
            seed::CONTOSO_DOMAIN,
            "Copy",
        )
        .unwrap_err();
    assert!(e.to_string().contains(seed::CONTOSO_DOMAIN), "{e}");
    let e = emulator
        .grant_consent("nowhere.example", seed::GRAPH_APP_CLIENT_ID, &[])
        .unwrap_err();
    assert!(e.to_string().contains("nowhere.example"), "{e}");
    emulator.shutdown().await;
}

fn no_redirect_client(emulator: &Emulator) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(emulator.ca_pem().as_bytes()).unwrap()])
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn admin_consent(
    client: &reqwest::Client,
    emulator: &Emulator,
    tenant: &str,
    query: &[(&str, &str)],
) -> reqwest::Response {
    client
        .get(format!("{}{tenant}/v2.0/adminconsent", emulator.base_url()))
        .query(query)
        .send()
        .await
        .expect("adminconsent answers")
}

fn location(response: &reqwest::Response) -> Url {
    let value = response
        .headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .unwrap();
    Url::parse(value).unwrap()
}

fn query_value(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn admin_consent_grants_the_apps_permissions_and_redirects_back_with_the_tenant() {
    let (emulator, client) = start().await;
    let browser = no_redirect_client(&emulator);
    emulator
        .create_tenant(NEW_TENANT_ID, NEW_TENANT_DOMAIN, "Woodgrove New")
        .unwrap();

    let response = admin_consent(
        &browser,
        &emulator,
        NEW_TENANT_DOMAIN,
        &[
            ("client_id", seed::GRAPH_APP_CLIENT_ID),
            ("scope", GRAPH_SCOPE),
            ("redirect_uri", seed::CONSENT_REDIRECT_URI),
            ("state", "opaque-42"),
        ],
    )
    .await;
    assert_eq!(response.status().as_u16(), 302);
    let back = location(&response);
    assert!(
        back.as_str().starts_with(seed::CONSENT_REDIRECT_URI),
        "{back}"
    );
    assert_eq!(query_value(&back, "admin_consent").as_deref(), Some("True"));
    // The tenant comes back as its id, even when the link named a domain.
    assert_eq!(query_value(&back, "tenant").as_deref(), Some(NEW_TENANT_ID));
    assert_eq!(query_value(&back, "state").as_deref(), Some("opaque-42"));
    let scope = query_value(&back, "scope").unwrap();
    let mut granted: Vec<&str> = scope
        .split(' ')
        .map(|s| s.strip_prefix("https://graph.microsoft.com/").unwrap())
        .collect();
    granted.sort();
    assert_eq!(granted, sorted_strs(seed::GRAPH_APP_PERMISSIONS));

    let (status, body) = msp_app_token(&client, &emulator, NEW_TENANT_ID).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        sorted(&claims(body["access_token"].as_str().unwrap())["roles"]),
        sorted_strs(seed::GRAPH_APP_PERMISSIONS)
    );
    let call = emulator
        .calls()
        .into_iter()
        .find(|c| c.kind == CallKind::AdminConsent)
        .expect("logged");
    assert_eq!(call.tenant_id.as_deref(), Some(NEW_TENANT_ID));
    assert_eq!(call.status, 302);
    emulator.shutdown().await;
}

#[tokio::test]
async fn admin_consent_refuses_common_unknown_apps_foreign_redirects_and_other_scopes() {
    let (emulator, client) = start().await;
    let browser = no_redirect_client(&emulator);
    emulator
        .create_tenant(NEW_TENANT_ID, NEW_TENANT_DOMAIN, "Woodgrove New")
        .unwrap();
    let good = |tenant_scope: &'static str| {
        vec![
            ("client_id", seed::GRAPH_APP_CLIENT_ID),
            ("scope", tenant_scope),
            ("redirect_uri", seed::CONSENT_REDIRECT_URI),
            ("state", "s1"),
        ]
    };

    let page = |response: reqwest::Response| async move {
        assert_eq!(response.status().as_u16(), 400);
        assert!(response.headers().get("location").is_none());
        response.text().await.unwrap()
    };
    let text = page(admin_consent(&browser, &emulator, "common", &good(GRAPH_SCOPE)).await).await;
    assert!(text.contains("AADSTS90130"), "{text}");

    let mut unknown_app = good(GRAPH_SCOPE);
    unknown_app[0].1 = "00000000-1111-2222-3333-444444444444";
    let text = page(admin_consent(&browser, &emulator, NEW_TENANT_ID, &unknown_app).await).await;
    assert!(text.contains("AADSTS700016"), "{text}");

    // Never redirect to a URI the app did not register, however close.
    let mut foreign = good(GRAPH_SCOPE);
    foreign[2].1 = "https://sspr.example/consent/callback/../evil";
    let text = page(admin_consent(&browser, &emulator, NEW_TENANT_ID, &foreign).await).await;
    assert!(text.contains("AADSTS50011"), "{text}");

    // A wrong scope goes back to the app as an error.
    let response = admin_consent(
        &browser,
        &emulator,
        NEW_TENANT_ID,
        &good("https://graph.microsoft.com/Policy.Read.All"),
    )
    .await;
    assert_eq!(response.status().as_u16(), 302);
    let back = location(&response);
    assert_eq!(
        query_value(&back, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_value(&back, "state").as_deref(), Some("s1"));
    assert!(query_value(&back, "admin_consent").is_none());

    // None of that granted anything.
    let (status, body) = msp_app_token(&client, &emulator, NEW_TENANT_ID).await;
    assert_entra_error(status, &body, 400, "unauthorized_client", 700016);
    emulator.shutdown().await;
}

// ---------------------------------------------------------------- tenants and their domains

#[tokio::test]
async fn discovery_and_the_token_endpoint_resolve_a_verified_custom_domain() {
    let (emulator, client) = start().await;
    let discovery: Value = get_json(&client, emulator.discovery_url("contoso.com").as_str()).await;
    assert_eq!(discovery["issuer"], emulator.issuer(seed::CONTOSO_ID));
    assert!(
        discovery["token_endpoint"]
            .as_str()
            .unwrap()
            .contains(seed::CONTOSO_ID),
        "{discovery}"
    );
    let token = graph_token(&client, &emulator, "fabrikam.com").await;
    assert_eq!(claims(&token)["tid"], seed::FABRIKAM_ID);

    let response = client
        .get(emulator.discovery_url("not-a-tenant.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    emulator.shutdown().await;
}

#[tokio::test]
async fn tailspins_token_lacks_the_conditional_access_write_permission_and_graph_refuses_it() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::TAILSPIN_DOMAIN).await;
    let roles = sorted(&claims(&token)["roles"]);
    assert_eq!(roles, sorted_strs(&seed::tailspin_permissions()));
    assert!(roles.contains(&"Policy.Read.All".to_string()));
    assert!(!roles.contains(&"Policy.ReadWrite.ConditionalAccess".to_string()));

    let url = emulator
        .graph_base_url()
        .join("identity/conditionalAccess/policies")
        .unwrap();
    let write = client
        .post(url)
        .bearer_auth(&token)
        .json(&serde_json::json!({"displayName": "x", "state": "disabled"}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status().as_u16(), 403);
    let body: Value = write.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
    emulator.shutdown().await;
}

// ---------------------------------------------------------------- GDAP

/// Every item of a paged collection, following `@odata.nextLink`; also the number of pages.
async fn all_pages(client: &reqwest::Client, first: Url, token: &str) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut pages = 0;
    let mut next = Some(first.to_string());
    while let Some(url) = next {
        let response = client.get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{url}");
        let body: Value = response.json().await.unwrap();
        Schema::v1_closed()
            .validate_collection(
                if url.contains("contracts") {
                    "contract"
                } else {
                    "delegatedAdminRelationship"
                },
                &body,
            )
            .unwrap_or_else(|v| panic!("{url}: {v:?}"));
        items.extend(body["value"].as_array().unwrap().iter().cloned());
        next = body["@odata.nextLink"].as_str().map(str::to_string);
        pages += 1;
    }
    (items, pages)
}

#[tokio::test]
async fn the_partner_tenant_lists_its_gdap_relationships_customers_and_contracts() {
    let (emulator, client) = start().await;
    let token = graph_token(&client, &emulator, seed::OPERATOR_ID).await;
    let graph = emulator.graph_base_url();

    let first = graph
        .join("tenantRelationships/delegatedAdminRelationships?$top=2")
        .unwrap();
    let (relationships, pages) = all_pages(&client, first, &token).await;
    assert_eq!(pages, 3, "5 relationships, 2 per page");
    assert_eq!(relationships.len(), 5);
    let active: Vec<&str> = relationships
        .iter()
        .filter(|r| r["status"] == "active")
        .map(|r| r["customer"]["tenantId"].as_str().unwrap())
        .collect();
    for customer in [
        seed::CONTOSO_ID,
        seed::FABRIKAM_ID,
        seed::TAILSPIN_ID,
        seed::ADATUM_ID,
    ] {
        assert!(active.contains(&customer), "{customer} active: {active:?}");
    }
    let terminated: Vec<&Value> = relationships
        .iter()
        .filter(|r| r["status"] == "terminated")
        .collect();
    assert_eq!(terminated.len(), 1);
    assert_eq!(terminated[0]["customer"]["tenantId"], seed::FABRIKAM_ID);

    let response = graph_get(
        &client,
        &emulator,
        "tenantRelationships/delegatedAdminRelationships?$top=301",
        Some(&token),
    )
    .await;
    assert_eq!(response.status().as_u16(), 400);

    let response = graph_get(
        &client,
        &emulator,
        "tenantRelationships/delegatedAdminCustomers",
        Some(&token),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    Schema::v1_closed()
        .validate_collection("delegatedAdminCustomer", &body)
        .unwrap_or_else(|v| panic!("{v:?}"));
    let customers: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tenantId"].as_str().unwrap())
        .collect();
    assert_eq!(customers.len(), 4, "one per customer: {customers:?}");
    let adatum = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["tenantId"] == seed::ADATUM_ID)
        .unwrap();
    assert_eq!(adatum["displayName"], seed::ADATUM_DISPLAY_NAME);

    let (contracts, _) = all_pages(&client, graph.join("contracts").unwrap(), &token).await;
    let mut contracted: Vec<&str> = contracts
        .iter()
        .map(|c| c["customerId"].as_str().unwrap())
        .collect();
    contracted.sort();
    let mut expected = vec![
        seed::CONTOSO_ID,
        seed::FABRIKAM_ID,
        seed::TAILSPIN_ID,
        seed::ADATUM_ID,
    ];
    expected.sort();
    assert_eq!(contracted, expected);
    emulator.shutdown().await;
}

#[tokio::test]
async fn gdap_and_contracts_need_their_permissions() {
    let (emulator, client) = start().await;
    // The app's Graph grants in a customer tenant do not include the partner permissions.
    let customer_token = graph_token(&client, &emulator, seed::CONTOSO_ID).await;
    for path in [
        "tenantRelationships/delegatedAdminRelationships",
        "tenantRelationships/delegatedAdminCustomers",
    ] {
        let response = graph_get(&client, &emulator, path, Some(&customer_token)).await;
        assert_eq!(response.status().as_u16(), 403, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
    }

    let only_gdap = emulator.mint_token(&TokenSpec {
        tenant_id: seed::OPERATOR_ID.into(),
        audience: seed::GRAPH_RESOURCE.into(),
        app_id: seed::GRAPH_APP_CLIENT_ID.into(),
        roles: vec!["DelegatedAdminRelationship.Read.All".into()],
        ..TokenSpec::default()
    });
    let response = graph_get(&client, &emulator, "contracts", Some(&only_gdap)).await;
    assert_eq!(response.status().as_u16(), 403);
    let response = graph_get(
        &client,
        &emulator,
        "tenantRelationships/delegatedAdminRelationships",
        Some(&only_gdap),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    emulator.shutdown().await;
}
