//! Paging cursors are signed and bound to the tenant, the query and the caller: a forged,
//! edited or foreign cursor is a 400 `invalidCursor` problem and the service makes no Graph call
//! for it, while the cursor as issued keeps working. Registration listings and the audit trail.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entra_emulator::{ThrottleConfig, TokenSpec, seed};
use serde_json::{Value, json};
use sspr_e2e::{GeneratedTenant, World};
use sspr_service::store::audit::{Actor, NewAuditRecord, Outcome};

/// Another operator, allowed everything through the CLI app's grant like the demo operator.
const OTHER_OID: &str = "b0000000-0000-4000-8000-00000000000b";

/// Two generated tenants with P1 and 60 users each; no throttling, so only the service's own
/// calls reach Graph.
async fn world() -> (World, Vec<GeneratedTenant>) {
    let (world, generated) = World::start_generated(2, 60, |config| {
        config.graph.limits.enabled = false;
    })
    .await;
    world.emulator.set_throttling(ThrottleConfig {
        enabled: false,
        ..ThrottleConfig::default()
    });
    for tenant in &generated {
        world
            .emulator
            .with_tenant(&tenant.id, |t| t.set_premium(true))
            .expect("tenant");
    }
    (world, generated)
}

fn token(world: &World, oid: &str, roles: &[&str]) -> String {
    world.emulator.mint_token(&TokenSpec {
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        oid: oid.to_owned(),
        ..TokenSpec::default()
    })
}

async fn get(world: &World, path: &str, token: &str) -> reqwest::Response {
    world.get(path, Some(token)).await
}

/// The cursor's signed payload as JSON, and its tag.
fn split(cursor: &str) -> (Value, String) {
    let (payload, tag) = cursor.split_once('.').expect("payload.tag");
    let payload = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    (
        serde_json::from_slice(&payload).expect("JSON payload"),
        tag.to_owned(),
    )
}

/// `payload` with the original tag: what a caller who edits a cursor sends.
fn join(payload: &Value, tag: &str) -> String {
    format!(
        "{}.{tag}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(payload).expect("JSON"))
    )
}

/// The cursor with one bit of its tag flipped.
fn flipped(cursor: &str) -> String {
    let (payload, tag) = cursor.split_once('.').expect("payload.tag");
    let mut tag = URL_SAFE_NO_PAD.decode(tag).expect("base64url tag");
    tag[10] ^= 0x01;
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// A 400 `invalidCursor` problem naming the cursor.
async fn assert_invalid_cursor(response: reqwest::Response, case: &str) {
    assert_eq!(response.status(), 400, "{case}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{case}"
    );
    let problem: Value = response.json().await.expect("problem");
    assert_eq!(
        problem["type"], "/problems/invalid-cursor",
        "{case}: {problem}"
    );
    assert_eq!(problem["code"], "invalidCursor", "{case}: {problem}");
    assert_eq!(problem["field"], "cursor", "{case}: {problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("cursor")),
        "{case}: {problem}"
    );
}

#[tokio::test]
async fn forged_edited_and_foreign_listing_cursors_are_refused_without_a_graph_call() {
    let (world, generated) = world().await;
    let reader = token(&world, seed::DEMO_OPERATOR_OID, &["SSPR.Read"]);
    let other_reader = token(&world, OTHER_OID, &["SSPR.Read"]);
    let here = format!("v1/tenants/{}/registrations", generated[0].domain);
    let there = format!("v1/tenants/{}/registrations", generated[1].domain);

    let first: Value = get(&world, &format!("{here}?limit=5&userType=member"), &reader)
        .await
        .json()
        .await
        .expect("JSON page");
    let cursor = first["nextCursor"]
        .as_str()
        .expect("several pages")
        .to_owned();
    let (payload, tag) = split(&cursor);
    assert!(
        payload["p"]["l"].is_string() && payload["p"]["i"] == 5,
        "{payload}"
    );

    let mut other_host = payload.clone();
    other_host["p"]["l"] = json!(
        "https://attacker.example/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=999"
    );
    let mut other_index = payload.clone();
    other_index["p"]["i"] = json!(0);
    let mut longer = payload.clone();
    longer["e"] = json!(payload["e"].as_i64().expect("expiry") + 86_400 * 365);
    // What the fuzzer sent to the earlier service: its unsigned cursor, pointed elsewhere.
    let unsigned = URL_SAFE_NO_PAD.encode(
        json!({
            "t": generated[0].id,
            "q": "sspr=None;mfa=None;passwordless=None;admin=None;userType=Some(Member);methods=;upnPrefix=None;pushdown=true",
            "l": "https://attacker.example/v1.0/reports/authenticationMethods/userRegistrationDetails",
            "i": 0
        })
        .to_string(),
    );
    let query = "limit=5&userType=member";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "edited to another host",
            format!("{here}?{query}&cursor={}", join(&other_host, &tag)),
            &reader,
        ),
        (
            "edited position",
            format!("{here}?{query}&cursor={}", join(&other_index, &tag)),
            &reader,
        ),
        (
            "edited expiry",
            format!("{here}?{query}&cursor={}", join(&longer, &tag)),
            &reader,
        ),
        (
            "unsigned, another host",
            format!("{here}?{query}&cursor={unsigned}"),
            &reader,
        ),
        (
            "edited query",
            format!("{here}?limit=5&userType=guest&cursor={cursor}"),
            &reader,
        ),
        (
            "query without the filter",
            format!("{here}?limit=5&cursor={cursor}"),
            &reader,
        ),
        (
            "pushdown off",
            format!("{here}?{query}&pushdown=false&cursor={cursor}"),
            &reader,
        ),
        (
            "another tenant",
            format!("{there}?{query}&cursor={cursor}"),
            &reader,
        ),
        (
            "another caller",
            format!("{here}?{query}&cursor={cursor}"),
            &other_reader,
        ),
        (
            "a flipped bit",
            format!("{here}?{query}&cursor={}", flipped(&cursor)),
            &reader,
        ),
        (
            "random text",
            format!("{here}?{query}&cursor=not-a-cursor"),
            &reader,
        ),
        (
            "random payload and tag",
            format!("{here}?{query}&cursor=eyJhIjoxfQ.c2lnbmF0dXJl"),
            &reader,
        ),
    ];
    for (case, path, token) in cases {
        let before = world.emulator.graph_requests_total();
        let response = get(&world, &path, token).await;
        assert_invalid_cursor(response, case).await;
        assert_eq!(
            world.emulator.graph_requests_total(),
            before,
            "{case}: no Graph call for a refused cursor"
        );
    }

    // The cursor as issued still works, for its caller, and continues the listing.
    let next = get(&world, &format!("{here}?{query}&cursor={cursor}"), &reader).await;
    assert_eq!(next.status(), 200);
    let next: Value = next.json().await.expect("JSON page");
    let ids = |page: &Value| -> Vec<String> {
        page["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|r| r["id"].as_str().expect("id").to_owned())
            .collect()
    };
    assert_eq!(ids(&next).len(), 5);
    assert!(
        ids(&next).iter().all(|id| !ids(&first).contains(id)),
        "the second page follows the first"
    );
    // Spelled otherwise, the same query is the same listing: the cursor holds.
    let respelled = get(
        &world,
        &format!("{here}?userType=member&cursor={cursor}&limit=7"),
        &reader,
    )
    .await;
    assert_eq!(respelled.status(), 200);
}

fn record(tenant: &str, n: usize) -> NewAuditRecord {
    NewAuditRecord {
        request_id: Some(format!("req-{n}")),
        actor: Actor {
            oid: Some(seed::DEMO_OPERATOR_OID.to_owned()),
            upn: Some("operator@northwind.onmicrosoft.com".to_owned()),
            app_id: Some(seed::CLI_APP_CLIENT_ID.to_owned()),
            roles: vec!["SSPR.ReadWrite".to_owned()],
        },
        tenant_id: tenant.to_owned(),
        operation: "policy.patch".to_owned(),
        before: None,
        after: None,
        diff: None,
        outcome: Outcome::Succeeded,
        error: None,
        compensation: None,
    }
}

/// The `cursor` of a `nextLink`.
fn cursor_of(next_link: &str) -> String {
    url::Url::parse("https://sspr.invalid")
        .expect("base")
        .join(next_link)
        .expect("link")
        .query_pairs()
        .find(|(name, _)| name == "cursor")
        .map(|(_, value)| value.into_owned())
        .expect("a cursor in the link")
}

#[tokio::test]
async fn forged_edited_and_foreign_audit_cursors_are_refused() {
    let world = World::start().await;
    let audit = world.service.store().audit();
    let mut ids = Vec::new();
    for (n, tenant) in [
        seed::CONTOSO_ID,
        seed::FABRIKAM_ID,
        seed::CONTOSO_ID,
        seed::CONTOSO_ID,
    ]
    .into_iter()
    .enumerate()
    {
        ids.push(audit.append(record(tenant, n)).await.expect("append"));
    }
    let admin = token(&world, seed::DEMO_OPERATOR_OID, &["SSPR.Admin"]);
    let other_admin = token(&world, OTHER_OID, &["SSPR.Admin"]);
    let tenant = seed::CONTOSO_DOMAIN;

    let first: Value = get(
        &world,
        &format!("/v1/audit?tenant={tenant}&limit=1"),
        &admin,
    )
    .await
    .json()
    .await
    .expect("JSON page");
    assert_eq!(first["value"][0]["id"], ids[3]);
    let cursor = cursor_of(first["nextLink"].as_str().expect("more pages"));
    let (payload, tag) = split(&cursor);
    let mut lower = payload.clone();
    lower["p"]["below"] = json!(ids[0] + 1);
    let unsigned = URL_SAFE_NO_PAD.encode(format!("audit.v1.{}", ids[3]));

    let cases: Vec<(&str, String, &str)> = vec![
        (
            "edited position",
            format!(
                "/v1/audit?tenant={tenant}&limit=1&cursor={}",
                join(&lower, &tag)
            ),
            &admin,
        ),
        (
            "unsigned (the earlier format)",
            format!("/v1/audit?tenant={tenant}&limit=1&cursor={unsigned}"),
            &admin,
        ),
        (
            "another filter",
            format!("/v1/audit?tenant={tenant}&outcome=succeeded&limit=1&cursor={cursor}"),
            &admin,
        ),
        (
            "another tenant",
            format!(
                "/v1/audit?tenant={}&limit=1&cursor={cursor}",
                seed::FABRIKAM_DOMAIN
            ),
            &admin,
        ),
        (
            "every tenant",
            format!("/v1/audit?limit=1&cursor={cursor}"),
            &admin,
        ),
        (
            "another caller",
            format!("/v1/audit?tenant={tenant}&limit=1&cursor={cursor}"),
            &other_admin,
        ),
        (
            "a flipped bit",
            format!(
                "/v1/audit?tenant={tenant}&limit=1&cursor={}",
                flipped(&cursor)
            ),
            &admin,
        ),
        (
            "random text",
            format!("/v1/audit?tenant={tenant}&limit=1&cursor=not-ours"),
            &admin,
        ),
    ];
    for (case, path, token) in cases {
        let before = world.emulator.graph_requests_total();
        assert_invalid_cursor(get(&world, &path, token).await, case).await;
        assert_eq!(world.emulator.graph_requests_total(), before, "{case}");
    }

    // The nextLink as issued goes on where the first page ended, the tenant given by id too.
    let next: Value = get(&world, first["nextLink"].as_str().expect("link"), &admin)
        .await
        .json()
        .await
        .expect("JSON page");
    assert_eq!(next["value"][0]["id"], ids[2], "{next}");
    let by_id = get(
        &world,
        &format!(
            "/v1/audit?tenant={}&limit=1&cursor={cursor}",
            seed::CONTOSO_ID
        ),
        &admin,
    )
    .await;
    assert_eq!(by_id.status(), 200);
}
