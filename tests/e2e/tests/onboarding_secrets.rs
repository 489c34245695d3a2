//! A secret posted through the API never appears in an answer, a log line or the store file in
//! clear, and opens again after a restart with the same sealing key. (Its own test binary: it
//! installs the process-wide log subscriber that captures every line the service logs.)

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use entra_emulator::{Emulator, EmulatorConfig, seed};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use sspr_service::app::Application;

/// Every log line of this process, as text.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

fn bytes_of(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn call(
    http: &reqwest::Client,
    url: &url::Url,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, String) {
    let mut request = http
        .request(method, url.join(path).expect("url"))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("answers");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

#[tokio::test]
async fn a_posted_secret_is_sealed_never_logged_and_opens_after_a_restart() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .init();

    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator");
    emulator
        .create_tenant(
            "c0ffee00-1111-4222-8333-944444444401",
            "sealed.onmicrosoft.com",
            "Sealed Ltd",
        )
        .expect("a customer tenant");
    emulator
        .grant_consent(
            "c0ffee00-1111-4222-8333-944444444401",
            seed::GRAPH_APP_CLIENT_ID,
            seed::GRAPH_APP_PERMISSIONS,
        )
        .expect("consent");
    let dir = tempfile::tempdir().expect("temp dir");
    let key_file = dir.path().join("tenancy.key");
    std::fs::File::create(&key_file)
        .and_then(|mut f| f.write_all(b"q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq80=\n"))
        .expect("key");
    let config = || {
        let mut config =
            sspr_service::demo::config_for(&emulator, SocketAddr::from(([127, 0, 0, 1], 0)));
        config.store.path = dir.path().join("sspr.db");
        config.tenancy.secret_key = None::<SecretString>;
        config.tenancy.secret_key_file = Some(key_file.clone());
        config
    };
    let token = emulator.mint_token(&entra_emulator::TokenSpec {
        roles: vec!["SSPR.Admin".into()],
        ..Default::default()
    });
    let secret = emulator.graph_app_secret();
    let certificate = entra_assertion::testing::self_signed("sealed");
    let key_body: String = certificate
        .key_pem
        .lines()
        .nth(1)
        .expect("a key line")
        .to_owned();
    let http = reqwest::Client::new();

    let service = Application::build(config()).await.expect("builds").spawn();
    let (status, answer) = call(
        &http,
        &service.url,
        Method::POST,
        "v1/tenants",
        &token,
        Some(json!({"tenant": "sealed.onmicrosoft.com", "credential": {
            "kind": "clientSecret", "clientId": seed::GRAPH_APP_CLIENT_ID, "clientSecret": secret}})),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    // A second credential with a private key, by update.
    let (status, updated) = call(
        &http,
        &service.url,
        Method::PATCH,
        "v1/tenants/sealed.onmicrosoft.com",
        &token,
        Some(
            json!({"credential": {"kind": "certificate", "clientId": seed::GRAPH_APP_CLIENT_ID,
            "certificatePem": certificate.certificate_pem, "privateKeyPem": certificate.key_pem}}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    emulator
        .register_certificate(seed::GRAPH_APP_CLIENT_ID, &certificate.der)
        .expect("registered");
    let (_, list) = call(&http, &service.url, Method::GET, "v1/tenants", &token, None).await;
    let (_, audit) = call(&http, &service.url, Method::GET, "v1/audit", &token, None).await;
    service.stop().await.expect("stops");

    for (what, text) in [
        ("the answer", &answer),
        ("the update", &updated),
        ("the list", &list),
        ("the audit trail", &audit),
    ] {
        assert!(!text.contains(&secret), "{what}: {text}");
        assert!(!text.contains(&key_body), "{what}: {text}");
    }
    let logged = logs.0.lock().expect("logs").clone();
    assert!(!logged.is_empty(), "the service logged");
    assert!(!contains(&logged, &secret), "a log line holds the secret");
    assert!(
        !contains(&logged, &key_body),
        "a log line holds the private key"
    );
    let mut stored = bytes_of(&dir.path().join("sspr.db"));
    stored.extend(bytes_of(&dir.path().join("sspr.db-wal")));
    assert!(
        contains(&stored, "sealed.onmicrosoft.com"),
        "the tenant is in the store"
    );
    assert!(
        !contains(&stored, &secret),
        "the store holds the secret in clear"
    );
    assert!(
        !contains(&stored, &key_body),
        "the store holds the private key in clear"
    );

    // The same key opens it again: the tenant signs in with its certificate after a restart.
    let service = Application::build(config())
        .await
        .expect("restarts")
        .spawn();
    let (status, verdict) = call(
        &http,
        &service.url,
        Method::POST,
        "v1/tenants/sealed.onmicrosoft.com/verify",
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{verdict}");
    let verdict: Value = serde_json::from_str(&verdict).expect("json");
    assert_eq!(verdict["tokenIssued"], true, "{verdict:#}");
    service.stop().await.expect("stops");

    // Another key does not: the service refuses to start rather than forget the tenant.
    std::fs::write(&key_file, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").expect("key");
    let refused = Application::build(config()).await.err().expect("refused");
    assert!(
        format!("{refused:#}").contains("does not open with this service's key"),
        "{refused:#}"
    );
}
