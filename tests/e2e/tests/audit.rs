//! `GET /v1/audit` through the real service: records appended through the service's own store,
//! read back over HTTP with real tokens and the access map.

use entra_emulator::{TokenSpec, seed};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sspr_e2e::World;
use sspr_service::config::AccessGrant;
use sspr_service::store::audit::{Actor, NewAuditRecord, Outcome};

/// An operator whose access map grants only fabrikam, and one who has `*`.
const FABRIKAM_ONLY_OID: &str = "f0000000-0000-4000-8000-00000000000f";
const EVERYWHERE_OID: &str = "a0000000-0000-4000-8000-00000000000a";
/// A client application with no grant of its own (the default CLI app has both tenants).
const OTHER_APP: &str = "e0000000-0000-4000-8000-00000000000e";
/// A tenant the service does not manage (any more).
const FORMER_TENANT: &str = "99999999-0000-4000-8000-000000000099";

async fn world() -> World {
    World::start_with(|config| {
        // The demo operator administers the fleet; here it has the two demo tenants only, so
        // that a record of a tenant the service no longer manages is not its to see.
        for grant in &mut config.auth.access {
            grant.tenants = vec![
                seed::CONTOSO_DOMAIN.to_owned(),
                seed::FABRIKAM_DOMAIN.to_owned(),
            ];
        }
        config.auth.access.extend([
            AccessGrant {
                principal: FABRIKAM_ONLY_OID.to_owned(),
                tenants: vec![seed::FABRIKAM_DOMAIN.to_owned()],
            },
            AccessGrant {
                principal: EVERYWHERE_OID.to_owned(),
                tenants: vec!["*".to_owned()],
            },
        ]);
    })
    .await
}

fn token(world: &World, oid: &str, roles: &[&str]) -> String {
    world.emulator.mint_token(&TokenSpec {
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        oid: oid.to_owned(),
        app_id: OTHER_APP.to_owned(),
        upn: Some(format!("{oid}@{}", seed::OPERATOR_DOMAIN)),
        ..TokenSpec::default()
    })
}

fn record(tenant: &str, upn: &str, outcome: Outcome) -> NewAuditRecord {
    NewAuditRecord {
        request_id: Some(format!("req-{upn}-{outcome}")),
        actor: Actor {
            oid: Some(format!("oid-{upn}")),
            upn: Some(upn.to_owned()),
            app_id: Some(seed::CLI_APP_CLIENT_ID.to_owned()),
            roles: vec!["SSPR.ReadWrite".to_owned()],
        },
        tenant_id: tenant.to_owned(),
        operation: "policy.patch".to_owned(),
        before: Some(json!({"notifications": {"notifyUsersOnReset": false}})),
        after: Some(json!({"notifications": {"notifyUsersOnReset": true}})),
        diff: Some(
            json!([{"path": "/notifications/notifyUsersOnReset", "from": false, "to": true}]),
        ),
        outcome,
        error: None,
        compensation: None,
    }
}

/// contoso: succeeded (ada), refused (bob); fabrikam: failed (ada); former tenant: succeeded.
async fn seed_records(world: &World) -> Vec<i64> {
    let audit = world.service.store().audit();
    let mut ids = Vec::new();
    for (tenant, upn, outcome) in [
        (seed::CONTOSO_ID, "ada@contoso.com", Outcome::Succeeded),
        (seed::FABRIKAM_ID, "ada@contoso.com", Outcome::Failed),
        (seed::CONTOSO_ID, "bob@contoso.com", Outcome::Refused),
        (FORMER_TENANT, "eve@former.com", Outcome::Succeeded),
    ] {
        ids.push(
            audit
                .append(record(tenant, upn, outcome))
                .await
                .expect("append"),
        );
    }
    ids
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("JSON body")
}

fn tenants_of(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .expect("value array")
        .iter()
        .map(|r| r["tenantId"].as_str().expect("tenantId").to_owned())
        .collect()
}

#[tokio::test]
async fn only_admins_may_read_the_audit_trail() {
    let world = world().await;
    seed_records(&world).await;

    let anonymous = world.get("/v1/audit", None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    for role in ["SSPR.Read", "SSPR.ReadWrite"] {
        let response = world.get("/v1/audit", Some(&world.token(&[role]))).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role}");
        let problem = json_of(response).await;
        assert_eq!(problem["type"], "/problems/forbidden");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("SSPR.Admin")),
            "{problem}"
        );
    }

    let response = world
        .get("/v1/audit", Some(&world.token(&["SSPR.Admin"])))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = json_of(response).await;
    // The demo operator has both demo tenants, not the former one; newest first.
    assert_eq!(
        tenants_of(&page),
        [seed::CONTOSO_ID, seed::FABRIKAM_ID, seed::CONTOSO_ID]
    );
    assert!(page.get("nextLink").is_none(), "{page}");
    let first = &page["value"][2];
    assert_eq!(first["operation"], "policy.patch");
    assert_eq!(first["outcome"], "succeeded");
    assert_eq!(first["actor"]["upn"], "ada@contoso.com");
    assert_eq!(first["actor"]["appId"], seed::CLI_APP_CLIENT_ID);
    assert_eq!(first["actor"]["roles"], json!(["SSPR.ReadWrite"]));
    assert_eq!(first["requestId"], "req-ada@contoso.com-succeeded");
    assert_eq!(first["after"]["notifications"]["notifyUsersOnReset"], true);
    assert!(
        first["time"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T')),
        "{first}"
    );
}

#[tokio::test]
async fn filters_by_tenant_actor_outcome_and_since() {
    let world = world().await;
    let ids = seed_records(&world).await;
    let admin = world.token(&["SSPR.Admin"]);
    let get = |path: String| {
        let world = &world;
        let admin = admin.clone();
        async move {
            let response = world.get(&path, Some(&admin)).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            json_of(response).await
        }
    };

    // By domain or by id: both name contoso.
    for key in [seed::CONTOSO_DOMAIN, seed::CONTOSO_ID, "contoso.com"] {
        let page = get(format!("/v1/audit?tenant={key}")).await;
        assert_eq!(
            tenants_of(&page),
            [seed::CONTOSO_ID, seed::CONTOSO_ID],
            "{key}"
        );
    }
    let page = get("/v1/audit?actor=ADA%40contoso.com".into()).await;
    assert_eq!(tenants_of(&page), [seed::FABRIKAM_ID, seed::CONTOSO_ID]);
    let page = get("/v1/audit?outcome=refused".into()).await;
    assert_eq!(page["value"][0]["actor"]["upn"], "bob@contoso.com");
    assert_eq!(page["value"].as_array().map(Vec::len), Some(1));

    let future = get("/v1/audit?since=2999-01-01T00%3A00%3A00%2B01%3A00".into()).await;
    assert_eq!(future["value"], json!([]));
    let past = get("/v1/audit?since=2020-01-01T00:00:00Z".into()).await;
    assert_eq!(past["value"].as_array().map(Vec::len), Some(3));

    // Paging: one record a page, following nextLink, never repeating, newest first.
    let mut seen = Vec::new();
    let mut path = "/v1/audit?limit=1".to_owned();
    loop {
        let page = get(path.clone()).await;
        assert_eq!(page["value"].as_array().map(Vec::len), Some(1), "{page}");
        seen.push(page["value"][0]["id"].as_i64().expect("id"));
        match page["nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with("/v1/audit?limit=1&cursor="), "{next}");
                path = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(seen, [ids[2], ids[1], ids[0]]);
}

#[tokio::test]
async fn the_access_map_limits_what_an_admin_sees() {
    let world = world().await;
    seed_records(&world).await;
    let fabrikam_admin = token(&world, FABRIKAM_ONLY_OID, &["SSPR.Admin"]);

    let page = json_of(world.get("/v1/audit", Some(&fabrikam_admin)).await).await;
    assert_eq!(tenants_of(&page), [seed::FABRIKAM_ID]);
    let page = json_of(
        world
            .get("/v1/audit?actor=ada@contoso.com", Some(&fabrikam_admin))
            .await,
    )
    .await;
    assert_eq!(tenants_of(&page), [seed::FABRIKAM_ID]);

    // Asking for contoso explicitly answers as for a tenant that does not exist, naming the
    // name asked for.
    let response = world
        .get(
            &format!("/v1/audit?tenant={}", seed::CONTOSO_DOMAIN),
            Some(&fabrikam_admin),
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let problem = json_of(response).await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains(seed::CONTOSO_DOMAIN)),
        "{problem}"
    );

    // `*` sees every record, also those of a tenant the service no longer manages.
    let everywhere = token(&world, EVERYWHERE_OID, &["SSPR.Admin"]);
    let page = json_of(world.get("/v1/audit", Some(&everywhere)).await).await;
    assert_eq!(
        tenants_of(&page),
        [
            FORMER_TENANT,
            seed::CONTOSO_ID,
            seed::FABRIKAM_ID,
            seed::CONTOSO_ID
        ]
    );
    let unknown = world
        .get("/v1/audit?tenant=nowhere.example", Some(&everywhere))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_parameters_are_400_problems_naming_the_parameter() {
    let world = world().await;
    let admin = world.token(&["SSPR.Admin"]);
    for (query, field) in [
        ("since=yesterday", "since"),
        // An unencoded '+' is a space in a query: still refused, with a hint.
        ("since=2026-01-01T00:00:00+01:00", "since"),
        ("outcome=done", "outcome"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=not-ours", "cursor"),
        ("tenants=contoso.com", "tenants"),
        ("actor=a&actor=b", "actor"),
    ] {
        let response = world.get(&format!("/v1/audit?{query}"), Some(&admin)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "{query}"
        );
        let problem = json_of(response).await;
        assert_eq!(problem["status"], 400, "{query}");
        assert_eq!(problem["field"], field, "{query}: {problem}");
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{problem}"
        );
    }
    let response = world
        .get("/v1/audit?since=2026-01-01T00:00:00+01:00", Some(&admin))
        .await;
    let problem = json_of(response).await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("%2B")),
        "{problem}"
    );
}

#[tokio::test]
async fn the_client_library_pages_through_the_trail() {
    let world = world().await;
    let ids = seed_records(&world).await;
    let client = world.client(world.token(&["SSPR.Admin"]));
    let filter = sspr_e2e::sspr_client::AuditFilter {
        limit: Some(2),
        ..Default::default()
    };
    let page = client.list_audit(&filter).await.expect("page");
    assert_eq!(page.records.len(), 2);
    assert!(page.next_cursor().is_some());
    let all = client.list_audit_all(&filter).await.expect("all pages");
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[2], ids[1], ids[0]]
    );
    let error = client
        .list_audit(&sspr_e2e::sspr_client::AuditFilter {
            since: Some("yesterday".into()),
            ..Default::default()
        })
        .await
        .expect_err("bad since");
    assert_eq!(error.status(), Some(400));
    assert_eq!(
        error.problem().and_then(|p| p.extension_str("field")),
        Some("since")
    );
}
