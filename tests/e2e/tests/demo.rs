//! The demo a newcomer starts: emulator + service, a printed token, and exports a shell can eval.

use std::time::Duration;

use sspr_client::{Auth, ClientOptions, SsprClient};
use sspr_service::demo::{DemoOptions, start};

#[tokio::test]
async fn demo_prints_working_exports_and_stops_cleanly() {
    let demo = start(DemoOptions {
        port: 0,
        emulator_port: 0,
    })
    .await
    .expect("demo starts");
    let banner = demo.banner();

    let export = |name: &str| {
        banner
            .lines()
            .find_map(|line| line.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("no `export {name}=` line in:\n{banner}"))
            .to_owned()
    };
    let url = export("SSPR_URL");
    let token = export("SSPR_TOKEN");
    assert_eq!(url, demo.service.url.as_str());
    assert!(
        banner.contains("policy get --tenant contoso.onmicrosoft.com"),
        "{banner}"
    );
    assert!(banner.contains("curl"), "{banner}");

    let client = SsprClient::new(
        url.parse().expect("url"),
        Auth::Token(token.clone()),
        ClientOptions {
            ca_file: None,
            timeout: Duration::from_secs(30),
        },
    )
    .expect("client");
    let tenants = client.list_tenants().await.expect("tenants");
    assert_eq!(tenants.len(), 2, "the demo token reaches every demo tenant");
    for tenant in &tenants {
        let policy = client.get_policy(&tenant.domain).await.expect("policy");
        assert_eq!(policy["administrators"]["source"], "graph");
    }

    // The printed token is valid for an hour and carries SSPR.ReadWrite.
    let claims = token.split('.').nth(1).expect("claims");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims)
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(claims["roles"], serde_json::json!(["SSPR.ReadWrite"]));
    let lifetime = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
    assert!(
        (3500..=3600).contains(&lifetime),
        "token lifetime {lifetime}s"
    );

    let service_url = demo.service.url.clone();
    demo.stop().await.expect("stops");
    assert!(
        reqwest::get(service_url.join("healthz").expect("url"))
            .await
            .is_err(),
        "service still answers after stop"
    );
}
