//! Key rotation, CA file handling and shutdown.

mod common;

use common::{graph_get, start};
use entra_emulator::{Emulator, EmulatorConfig, TokenSpec, seed};
use serde_json::Value;

fn graph_spec() -> TokenSpec {
    TokenSpec {
        tenant_id: seed::CONTOSO_ID.into(),
        audience: seed::GRAPH_RESOURCE.into(),
        roles: vec!["Organization.Read.All".into()],
        app_id: seed::GRAPH_APP_CLIENT_ID.into(),
        ..TokenSpec::default()
    }
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn rotating_the_signing_key_keeps_old_tokens_valid_and_publishes_both_kids() {
    let (emulator, client) = start().await;
    let old_token = emulator.mint_token(&graph_spec());
    let old_pem = emulator.signing_public_key_pem();

    emulator.rotate_signing_key();
    let new_token = emulator.mint_token(&graph_spec());
    assert_ne!(kid(&old_token), kid(&new_token));
    assert_ne!(old_pem, emulator.signing_public_key_pem());
    assert_eq!(kid(&new_token), emulator.current_kid());

    for token in [&old_token, &new_token] {
        let response = graph_get(&client, &emulator, "organization", Some(token)).await;
        assert_eq!(response.status(), 200);
    }

    let jwks_url = emulator
        .base_url()
        .join(&format!("{}/discovery/v2.0/keys", seed::OPERATOR_ID))
        .unwrap();
    let jwks: Value = client
        .get(jwks_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&kid(&old_token).as_str()));
    assert!(kids.contains(&kid(&new_token).as_str()));
    for key in jwks["keys"].as_array().unwrap() {
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["use"], "sig");
        assert!(key["n"].is_string() && key["e"].is_string());
    }

    // A verifier built from the JWKS accepts the minted operator token for our API.
    let operator = emulator.mint_token(&TokenSpec {
        roles: vec!["SSPR.Admin".into()],
        ..TokenSpec::default()
    });
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(set.find(&kid(&operator)).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[seed::SERVICE_AUDIENCE]);
    validation.set_issuer(&[emulator.issuer(seed::OPERATOR_ID)]);
    let claims = jsonwebtoken::decode::<Value>(&operator, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["oid"], seed::DEMO_OPERATOR_OID);
    assert_eq!(claims["azp"], seed::CLI_APP_CLIENT_ID);
    assert_eq!(claims["roles"], serde_json::json!(["SSPR.Admin"]));
}

#[tokio::test]
async fn expired_tokens_have_exp_relative_to_iat() {
    let (emulator, _client) = start().await;
    let token = emulator.mint_token(&TokenSpec {
        lifetime: std::time::Duration::ZERO,
        issued_at_offset_secs: -7200,
        ..TokenSpec::default()
    });
    let claims = common::claims(&token);
    assert_eq!(claims["exp"], claims["iat"]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(claims["exp"].as_i64().unwrap() <= now - 7100);
}

#[tokio::test]
async fn the_ca_file_goes_where_configured_and_matches_ca_pem() {
    let dir = std::env::temp_dir().join(format!("entra-emulator-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ca.pem");
    let emulator = Emulator::start(EmulatorConfig {
        ca_file: Some(path.clone()),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    assert_eq!(emulator.ca_file(), path);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), emulator.ca_pem());
    assert!(emulator.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    let base = emulator.base_url();
    assert_eq!(base.scheme(), "https");
    assert_eq!(base.host_str(), Some("127.0.0.1"));
    assert_eq!(base.path(), "/");
    assert_eq!(emulator.graph_base_url().as_str(), format!("{base}v1.0/"));
    assert_eq!(emulator.authority_host(), base);
    assert_eq!(
        emulator.discovery_url(seed::CONTOSO_ID).as_str(),
        format!(
            "{base}{}/v2.0/.well-known/openid-configuration",
            seed::CONTOSO_ID
        )
    );
    emulator.shutdown().await;
    // A configured CA file belongs to the caller and stays.
    assert!(path.exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn localhost_name_verifies_too() {
    let (emulator, client) = start().await;
    let mut url = emulator.discovery_url(seed::CONTOSO_ID);
    url.set_host(Some("localhost")).unwrap();
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_untrusting_client_fails_tls_verification() {
    let (emulator, _client) = start().await;
    let stranger = reqwest::Client::builder().build().unwrap();
    assert!(
        stranger
            .get(emulator.discovery_url(seed::CONTOSO_ID))
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn after_shutdown_connections_are_refused() {
    let (emulator, client) = start().await;
    let url = emulator.discovery_url(seed::CONTOSO_ID);
    let addr = format!(
        "{}:{}",
        emulator.base_url().host_str().unwrap(),
        emulator.base_url().port().unwrap()
    );
    assert_eq!(client.get(url.clone()).send().await.unwrap().status(), 200);
    let ca_file = emulator.ca_file().to_path_buf();
    let ca_pem = emulator.ca_pem();

    emulator.shutdown().await;

    // A new client (no pooled connection) and the old one both fail now.
    let fresh = common::client_for_pem(ca_pem.as_bytes());
    assert!(fresh.get(url.clone()).send().await.is_err());
    assert!(client.get(url).send().await.is_err());
    let refused = tokio::net::TcpStream::connect(&addr).await;
    assert!(refused.is_err(), "port still accepts connections");
    // The auto-generated CA file is removed with the emulator.
    assert!(!ca_file.exists());
}
