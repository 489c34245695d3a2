//! Shared helpers for the emulator's integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use entra_emulator::{Emulator, EmulatorConfig, seed};
use serde_json::Value;

/// Start an emulator on a free port and a client that trusts only its CA (real TLS verification).
pub async fn start() -> (Emulator, reqwest::Client) {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let client = client_for(&emulator);
    (emulator, client)
}

pub fn client_for(emulator: &Emulator) -> reqwest::Client {
    client_for_pem(&std::fs::read(emulator.ca_file()).expect("CA file readable"))
}

pub fn client_for_pem(pem: &[u8]) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(pem).expect("CA PEM parses");
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .build()
        .expect("client builds")
}

pub fn token_url(emulator: &Emulator, tenant: &str) -> String {
    format!("{}{tenant}/oauth2/v2.0/token", emulator.authority_host())
}

/// POST a form to `tenant`'s v2 token endpoint; returns status and JSON body.
pub async fn post_token_form(
    client: &reqwest::Client,
    emulator: &Emulator,
    tenant: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = client
        .post(token_url(emulator, tenant))
        .form(form)
        .send()
        .await
        .expect("token request sent");
    let status = response.status().as_u16();
    (
        status,
        response.json().await.expect("token response is JSON"),
    )
}

/// POST a client-credentials request; returns status and JSON body.
pub async fn request_token(
    client: &reqwest::Client,
    emulator: &Emulator,
    tenant: &str,
    client_id: &str,
    secret: &str,
    scope: &str,
) -> (u16, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("client_secret", secret),
        ("scope", scope),
    ];
    post_token_form(client, emulator, tenant, &form).await
}

/// POST a client-credentials request for [`seed::GRAPH_APP_CLIENT_ID`]'s Graph token in `tenant`,
/// authenticated by a client assertion (certificate or federated); returns status and JSON body.
pub async fn assertion_token_request(
    client: &reqwest::Client,
    emulator: &Emulator,
    tenant: &str,
    assertion: &str,
) -> (u16, Value) {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", seed::GRAPH_APP_CLIENT_ID),
        ("scope", "https://graph.microsoft.com/.default"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
    ];
    post_token_form(client, emulator, tenant, &form).await
}

/// GET `url` and parse the JSON body, whatever the status.
pub async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> T {
    client
        .get(url)
        .send()
        .await
        .expect("request sent")
        .json()
        .await
        .expect("JSON body")
}

/// A Graph token for our service's multi-tenant app in `tenant`, through the token endpoint.
pub async fn graph_token(client: &reqwest::Client, emulator: &Emulator, tenant: &str) -> String {
    let (status, body) = request_token(
        client,
        emulator,
        tenant,
        seed::GRAPH_APP_CLIENT_ID,
        &emulator.graph_app_secret(),
        "https://graph.microsoft.com/.default",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// The token's claims, without verification (tests verify separately where it matters).
pub fn claims(token: &str) -> Value {
    jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token).expect("token decodes")
}

/// GET a Graph path (relative to `v1.0/`) with an optional bearer token.
pub async fn graph_get(
    client: &reqwest::Client,
    emulator: &Emulator,
    path: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let url = emulator.graph_base_url().join(path).expect("graph URL");
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("graph request sent")
}

/// Assert the Entra token-error shape and return the body.
pub fn assert_entra_error(status: u16, body: &Value, want_status: u16, error: &str, code: u64) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_codes"], serde_json::json!([code]), "{body}");
    let description = body["error_description"]
        .as_str()
        .expect("error_description");
    assert!(
        description.starts_with(&format!("AADSTS{code}: ")),
        "{description}"
    );
    assert!(description.contains("Trace ID: "), "{description}");
    for field in ["timestamp", "trace_id", "correlation_id"] {
        assert!(body[field].is_string(), "missing {field}: {body}");
    }
}
