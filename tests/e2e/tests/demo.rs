//! The demo a newcomer starts: emulator + service, a printed token, and exports a shell can eval.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sspr_client::{Auth, ClientOptions, SsprClient};
use sspr_service::demo::{DemoOptions, start};

#[tokio::test]
async fn demo_prints_working_exports_and_stops_cleanly() {
    let demo = start(DemoOptions {
        port: 0,
        emulator_port: 0,
        store: None,
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
    let admin_token = export("SSPR_ADMIN_TOKEN");
    assert_eq!(url, demo.service.url.as_str());
    assert!(
        banner.contains(
            "SSPR_TOKEN=$SSPR_ADMIN_TOKEN cargo run --release -q -p sspr-client -- audit list"
        ),
        "{banner}"
    );
    assert!(
        !banner.contains("does not carry"),
        "the banner no longer says audit needs another token:\n{banner}"
    );
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
    assert_eq!(tenants.len(), 3, "the demo token reaches every demo tenant");
    // Tailspin was onboarded through the API with workload identity: its policy below is read
    // with the projected token file as the assertion.
    let tailspin = tenants
        .iter()
        .find(|t| t.domain == entra_emulator::seed::TAILSPIN_DOMAIN)
        .expect("tailspin is onboarded");
    let tailspin = serde_json::to_value(tailspin).expect("json");
    assert_eq!(tailspin["origin"], "api");
    assert_eq!(tailspin["credential"]["kind"], "workloadIdentity");
    assert_eq!(tailspin["credential"]["secretStorage"], "none");
    for tenant in &tenants {
        let policy = client.get_policy(&tenant.domain).await.expect("policy");
        let policy = serde_json::to_value(policy).expect("json");
        assert_eq!(policy["administrators"]["source"], "graph");
    }

    // The default token cannot read the audit trail; the admin one can.
    let audit = client.list_audit(&Default::default()).await;
    assert_eq!(audit.expect_err("ReadWrite").status(), Some(403));
    let admin = SsprClient::new(
        url.parse().expect("url"),
        Auth::Token(admin_token.clone()),
        ClientOptions {
            ca_file: None,
            timeout: Duration::from_secs(30),
        },
    )
    .expect("client");
    let page = admin.list_audit(&Default::default()).await.expect("audit");
    let operations: Vec<(String, String)> = page
        .records
        .iter()
        .map(|r| (r.operation.clone(), r.tenant_id.clone()))
        .collect();
    assert_eq!(
        operations,
        [(
            "tenants.add".to_owned(),
            entra_emulator::seed::TAILSPIN_ID.to_owned()
        )],
        "a fresh demo store has only the demo's onboarding of Tailspin"
    );
    assert_eq!(
        claims_of(&admin_token)["roles"],
        serde_json::json!(["SSPR.Admin"])
    );

    // The printed token is valid for an hour and carries SSPR.ReadWrite.
    let claims = claims_of(&token);
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

fn claims_of(token: &str) -> serde_json::Value {
    let claims = token.split('.').nth(1).expect("claims");
    serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims)
            .expect("b64"),
    )
    .expect("json")
}

async fn demo_with(store: Option<PathBuf>) -> sspr_service::demo::Demo {
    start(DemoOptions {
        port: 0,
        emulator_port: 0,
        store,
    })
    .await
    .expect("demo starts")
}

/// Appends one record through the running demo's store and returns its id.
async fn append(demo: &sspr_service::demo::Demo) -> i64 {
    use sspr_service::store::audit::{Actor, NewAuditRecord, Outcome};
    demo.service
        .store()
        .audit()
        .append(NewAuditRecord {
            request_id: Some("demo-test".into()),
            actor: Actor::default(),
            tenant_id: entra_emulator::seed::CONTOSO_ID.into(),
            operation: "policy.patch".into(),
            before: None,
            after: None,
            diff: None,
            outcome: Outcome::Succeeded,
            error: None,
            compensation: None,
        })
        .await
        .expect("append")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_default_store_is_private_and_removed_when_the_demo_stops() {
    let demo = demo_with(None).await;
    let store = demo
        .service
        .store()
        .path()
        .expect("the demo keeps a SQLite file")
        .to_path_buf();
    let dir = store.parent().expect("directory").to_path_buf();
    append(&demo).await;
    assert_eq!(mode(&store), 0o600, "{}", store.display());
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    let wal = PathBuf::from(format!("{}-wal", store.display()));
    assert!(wal.exists(), "a written store has its -wal file");
    assert_eq!(
        mode(&wal),
        0o600,
        "the -wal file is as private as the store"
    );
    assert!(demo.banner().contains("removed when the demo stops"));

    demo.stop().await.expect("stops");
    for gone in [&store, &wal, &dir] {
        assert!(!gone.exists(), "{} is still there", gone.display());
    }
}

#[tokio::test]
async fn a_store_given_with_store_is_kept_and_reused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kept.db");
    let demo = demo_with(Some(path.clone())).await;
    assert_eq!(demo.service.store().path(), Some(path.as_path()));
    let id = append(&demo).await;
    assert!(
        demo.banner()
            .contains(&format!("kept in {}", path.display()))
    );
    demo.stop().await.expect("stops");
    assert!(path.exists(), "the store stays after the demo");

    let again = demo_with(Some(path.clone())).await;
    let records = again
        .service
        .store()
        .audit()
        .query(Default::default())
        .await
        .expect("query")
        .records;
    assert!(
        records.iter().any(|r| r.id == id),
        "the record written before is kept"
    );
    let onboardings = records
        .iter()
        .filter(|r| r.operation == "tenants.add")
        .count();
    assert_eq!(onboardings, 1, "Tailspin was kept, not onboarded twice");
    // Its client secret-free credential points at this run's token file, which the store kept
    // beside it, with the sealing key (readable only by this user).
    assert_eq!(mode(&path.with_extension("key")), 0o600);
    again.stop().await.expect("stops");
}
