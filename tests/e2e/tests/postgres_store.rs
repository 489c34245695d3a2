//! The real service with `[store] url`: an audited write through one replica, its record read
//! back through the audit listing of that replica and of a second one on the same database.
//! Needs a PostgreSQL server (`SSPR_TEST_DATABASE_URL`; `bash .ci/postgres` starts one): skipped
//! without it, failed on CI without it.

use serde_json::{Value, json};
use sspr_e2e::World;
use sspr_service::store::testing::TestDatabase;

const CONTOSO_POLICY: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";

/// Every audit record, newest first, read over HTTP with an SSPR.Admin token.
async fn audit_records(world: &World) -> Vec<Value> {
    let response = world
        .get("/v1/audit", Some(&world.token(&["SSPR.Admin"])))
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.expect("json");
    page["value"].as_array().expect("value").clone()
}

#[tokio::test]
async fn an_audited_write_is_listed_by_every_replica_on_the_database() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let config = database.config();
    let first = World::start_with(|c| c.store = config.clone()).await;
    assert!(
        first.service.store().postgres().is_some(),
        "store.url selects PostgreSQL"
    );
    assert_eq!(first.service.store().path(), None, "no SQLite file");

    let policy = first
        .get(
            &format!("/{CONTOSO_POLICY}"),
            Some(&first.token(&["SSPR.ReadWrite"])),
        )
        .await;
    assert_eq!(policy.status(), 200);
    let etag = policy.headers()["etag"].to_str().expect("etag").to_owned();
    let answer = first
        .http
        .patch(first.service.url.join(CONTOSO_POLICY).expect("url"))
        .bearer_auth(first.token(&["SSPR.ReadWrite"]))
        .header("if-match", etag)
        .header("x-request-id", "pg-change-1")
        .header("content-type", "application/merge-patch+json")
        .body(json!({"registration": {"reconfirmDays": 45}}).to_string())
        .send()
        .await
        .expect("service answers");
    assert_eq!(answer.status(), 200);
    let id: i64 = answer.headers()["audit-record-id"]
        .to_str()
        .expect("header")
        .parse()
        .expect("a number");

    let second = World::start_with(|c| c.store = config.clone()).await;
    for world in [&first, &second] {
        let records = audit_records(world).await;
        assert_eq!(records.len(), 1, "{records:#?}");
        let record = &records[0];
        assert_eq!(record["id"], id);
        assert_eq!(record["outcome"], "succeeded");
        assert_eq!(record["requestId"], "pg-change-1");
        assert_eq!(record["operation"], "policy.patch", "{record}");
        assert_eq!(
            record["after"]["registration"]["reconfirmDays"], 45,
            "{record}"
        );
        assert!(record["completedAt"].is_string(), "{record}");
    }
}

#[tokio::test]
async fn a_tenant_onboarded_through_one_replica_is_in_the_shared_store_with_its_secret_sealed() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let config = database.config();
    let (world, customers) = World::start_generated(1, 3, |c| {
        c.tenants
            .retain(|t| !t.domains.iter().any(|d| d.starts_with("tenant")));
        c.store = config.clone();
    })
    .await;
    let customer = &customers[0];
    let secret = world.emulator.graph_app_secret();
    let response = world
        .http
        .post(world.service.url.join("v1/tenants").expect("url"))
        .bearer_auth(world.token(&["SSPR.Admin"]))
        .json(&json!({
            "tenant": customer.id,
            "tags": ["region:eu"],
            "credential": {
                "kind": "clientSecret",
                "clientId": sspr_e2e::entra_emulator::seed::GRAPH_APP_CLIENT_ID,
                "clientSecret": secret,
            },
        }))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 201);

    // Another replica's connection to the database finds it, the secret sealed.
    let other = sspr_service::store::Store::connect(&config)
        .await
        .expect("another replica");
    let kept = other
        .tenants()
        .tenant(&customer.id)
        .await
        .expect("read")
        .expect("the onboarded tenant");
    assert_eq!(kept.tags, ["region:eu"]);
    let sealed = kept.sealed_secret.expect("a sealed secret");
    assert!(
        !sealed.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the secret is kept in clear"
    );
    assert!(!kept.credential.contains(&secret), "{}", kept.credential);
}

#[tokio::test]
async fn readiness_reports_a_database_that_stops_answering() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let world = World::start_with(|c| c.store = database.config()).await;
    let ready = world.get("/readyz", None).await;
    assert_eq!(ready.status(), 200);

    // The database goes away under the running service (dropped, its sessions ended).
    database.remove().await;
    let not_ready = world.get("/readyz", None).await;
    assert_eq!(not_ready.status(), 503);
    let health: Value = not_ready.json().await.expect("json");
    let problems = health["problems"].to_string();
    assert!(problems.contains("the store does not answer"), "{problems}");
    assert!(problems.contains("127.0.0.1"), "names the host: {problems}");
    let server = std::env::var("SSPR_TEST_DATABASE_URL").expect("the test server");
    let server = url::Url::parse(&server).expect("a URL");
    if let Some(password) = server.password() {
        assert!(!problems.contains(password), "no password: {problems}");
    }
}
