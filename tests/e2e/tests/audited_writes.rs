//! Audited writes through the real service: the `audit-record-id` of each answer, a merge patch
//! that changes nothing (`noChange`, no upstream write), and which `x-request-id` is recorded.

use entra_emulator::seed;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sspr_e2e::World;

const CONTOSO_POLICY: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";
const PROTECTION: &str = "v1/tenants/contoso.onmicrosoft.com/registration-protection";

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn audit_record_id(&self) -> Option<i64> {
        self.header("audit-record-id")
            .map(|v| v.parse().expect("a number"))
    }
}

/// One request with a bearer token, optional `If-Match`, `x-request-id` (raw bytes) and body.
async fn send(
    world: &World,
    method: reqwest::Method,
    path: &str,
    if_match: Option<&str>,
    request_id: Option<&[u8]>,
    body: Option<Value>,
) -> Answer {
    let mut request = world
        .http
        .request(method.clone(), world.service.url.join(path).expect("url"))
        .bearer_auth(world.token(&["SSPR.ReadWrite"]));
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    if let Some(id) = request_id {
        let value = reqwest::header::HeaderValue::from_bytes(id).expect("a header value");
        request = request.header("x-request-id", value);
    }
    if let Some(body) = body {
        let content_type = if method == reqwest::Method::PATCH {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        request = request
            .header("content-type", content_type)
            .body(serde_json::to_vec(&body).expect("json"));
    }
    let response = request.send().await.expect("service answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

async fn read_policy(world: &World) -> Answer {
    let answer = send(
        world,
        reqwest::Method::GET,
        CONTOSO_POLICY,
        None,
        None,
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer
}

async fn patch(
    world: &World,
    etag: &str,
    request_id: Option<&[u8]>,
    body: Value,
    query: &str,
) -> Answer {
    send(
        world,
        reqwest::Method::PATCH,
        &format!("{CONTOSO_POLICY}{query}"),
        Some(etag),
        request_id,
        Some(body),
    )
    .await
}

/// Every audit record, newest first, read over HTTP with an SSPR.Admin token.
async fn audit_records(world: &World, query: &str) -> Vec<Value> {
    let response = world
        .get(
            &format!("/v1/audit{query}"),
            Some(&world.token(&["SSPR.Admin"])),
        )
        .await;
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.expect("json");
    page["value"].as_array().expect("value").clone()
}

fn record_with_id(records: &[Value], id: i64) -> &Value {
    records
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no audit record {id} in {records:#?}"))
}

/// Upstream writes since the call log was cleared: anything but a GET, except the token endpoint.
fn upstream_writes(world: &World) -> Vec<String> {
    world
        .emulator
        .calls()
        .iter()
        .filter(|c| c.method != "GET" && !c.path.contains("/oauth2/"))
        .map(|c| format!("{} {}", c.method, c.path))
        .collect()
}

#[tokio::test]
async fn a_merge_patch_that_changes_nothing_is_answered_and_audited_as_no_change() {
    let world = World::start().await;
    let before = read_policy(&world).await;
    let etag = before.header("etag").expect("etag").to_owned();
    let current_days = before.body["registration"]["reconfirmDays"].clone();
    assert!(current_days.is_number(), "{}", before.body);
    world.emulator.clear_calls();

    for body in [
        json!({}),
        json!({"registration": {"reconfirmDays": current_days}}),
    ] {
        let answer = patch(&world, &etag, None, body.clone(), "").await;
        assert_eq!(answer.status, 200, "{body}: {}", answer.body);
        assert_eq!(answer.header("etag"), Some(etag.as_str()), "{body}");
        for group in [
            "registration",
            "authentication",
            "notifications",
            "administrators",
        ] {
            assert_eq!(answer.body[group], before.body[group], "{body}: {group}");
        }
        let id = answer.audit_record_id().expect("audit-record-id");
        let records = audit_records(&world, "").await;
        let record = record_with_id(&records, id);
        assert_eq!(record["outcome"], "noChange", "{record}");
        assert_eq!(record["operation"], "policy.patch");
        assert_eq!(record["tenantId"], seed::CONTOSO_ID);
        assert_eq!(record["diff"], json!([]));
        assert_eq!(record["before"], record["after"]);
        assert!(record["before"].is_object(), "{record}");
        assert!(record["completedAt"].is_string(), "{record}");
    }
    assert_eq!(
        upstream_writes(&world),
        Vec::<String>::new(),
        "nothing to change: no upstream write"
    );
    let no_change = audit_records(&world, "?outcome=noChange").await;
    assert_eq!(no_change.len(), 2);

    // A dry run of it is not a write: no record, no header.
    let dry = patch(&world, &etag, None, json!({}), "?dryRun=true").await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.audit_record_id(), None);
    assert_eq!(audit_records(&world, "").await.len(), 2);
}

#[tokio::test]
async fn a_change_answers_its_audit_record_id_and_records_the_callers_safe_request_id() {
    let world = World::start().await;
    let etag = read_policy(&world)
        .await
        .header("etag")
        .expect("etag")
        .to_owned();
    let request_id = b"change-42.a_B";
    let answer = patch(
        &world,
        &etag,
        Some(request_id),
        json!({"registration": {"reconfirmDays": 45}}),
        "",
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("x-request-id"), Some("change-42.a_B"));
    let id = answer.audit_record_id().expect("audit-record-id");

    let records = audit_records(&world, "").await;
    assert_eq!(records.len(), 1);
    let record = record_with_id(&records, id);
    assert_eq!(record["outcome"], "succeeded");
    assert_eq!(record["requestId"], "change-42.a_B");
    assert_eq!(
        record["after"]["registration"]["reconfirmDays"], 45,
        "{record}"
    );
    assert_eq!(
        record["diff"][0]["pointer"], "/registration/reconfirmDays",
        "{record}"
    );
    let (attempted, completed) = (
        record["time"].as_str().expect("time"),
        record["completedAt"].as_str().expect("completedAt"),
    );
    assert!(attempted <= completed, "{attempted} {completed}");
}

#[tokio::test]
async fn unsafe_request_ids_are_replaced_by_the_services_own() {
    let world = World::start().await;
    let longest = "a".repeat(128);
    let echoed = |headers: &HeaderMap| {
        headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .expect("x-request-id echoed")
            .to_owned()
    };
    for kept in [longest.as_bytes(), b"Abc.123_x-y"] {
        let answer = send(
            &world,
            reqwest::Method::GET,
            "healthz",
            None,
            Some(kept),
            None,
        )
        .await;
        assert_eq!(echoed(&answer.headers).as_bytes(), kept);
    }
    let too_long = "a".repeat(129);
    let unsafe_ids: [&[u8]; 7] = [
        too_long.as_bytes(),
        b"with space",
        b"tab\there",
        b"quote\"d",
        b"semi;colon=1",
        "caf\u{e9}-\u{1F600}".as_bytes(),
        b"",
    ];
    for given in unsafe_ids {
        let answer = send(
            &world,
            reqwest::Method::GET,
            "healthz",
            None,
            Some(given),
            None,
        )
        .await;
        let used = echoed(&answer.headers);
        assert!(
            uuid_like(&used),
            "{:?} was replaced by {used:?}",
            String::from_utf8_lossy(given)
        );
    }

    // The id an audit record keeps is the one the service used, not the caller's.
    let answer = patch(
        &world,
        "\"stale\"",
        Some(b"evil\" id with spaces"),
        json!({"registration": {"reconfirmDays": 45}}),
        "",
    )
    .await;
    assert_eq!(answer.status, 412, "{}", answer.body);
    let used = echoed(&answer.headers);
    assert!(uuid_like(&used), "{used}");
    let records = audit_records(&world, "?outcome=refused").await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["requestId"], used.as_str());
}

/// The service's own ids are UUIDs.
fn uuid_like(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[tokio::test]
async fn a_registration_protection_deploy_answers_its_audit_record_id() {
    let world = World::start().await;
    let created = send(
        &world,
        reqwest::Method::PUT,
        PROTECTION,
        None,
        None,
        Some(json!({})),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created_id = created.audit_record_id().expect("audit-record-id");
    assert!(
        created.body.get("auditRecordId").is_none(),
        "the id is a header, not in the body"
    );
    let again = send(
        &world,
        reqwest::Method::PUT,
        PROTECTION,
        None,
        None,
        Some(json!({})),
    )
    .await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["result"], "unchanged");
    let again_id = again.audit_record_id().expect("audit-record-id");
    assert!(again_id > created_id);

    let records = audit_records(&world, "").await;
    let first = record_with_id(&records, created_id);
    assert_eq!(first["operation"], "registrationProtection.apply");
    assert_eq!(first["outcome"], "succeeded");
    assert_eq!(first["diff"]["result"], "created", "{first}");
    assert_eq!(
        first["diff"]["attempts"][0]["status"], "succeeded",
        "the completion's diff says what was done: {first}"
    );
    let second = record_with_id(&records, again_id);
    assert_eq!(second["outcome"], "noChange", "nothing to write: {second}");
}

/// A caller that goes away mid-change does not cut the change: it runs to its end (hyper drops
/// the request's future, not the change's task) and its record is completed with the outcome.
#[tokio::test]
async fn a_caller_that_goes_away_mid_change_does_not_cut_it_and_its_record_is_completed() {
    let world = World::start().await;
    let etag = read_policy(&world)
        .await
        .header("etag")
        .expect("etag")
        .to_owned();
    world
        .emulator
        .set_faults(vec![entra_emulator::FaultRule {
            method: Some("PATCH".into()),
            path: Some("/v1.0/policies/authorizationPolicy".into()),
            path_prefix: None,
            latency_ms: 2_000,
            fault: None,
            probability: 1.0,
            times: None,
        }])
        .expect("faults");
    let gave_up = world
        .http
        .patch(world.service.url.join(CONTOSO_POLICY).expect("url"))
        .bearer_auth(world.token(&["SSPR.ReadWrite"]))
        .header("if-match", &etag)
        .header("x-request-id", "gone-1")
        .header("content-type", "application/merge-patch+json")
        .body(json!({"administrators": {"allowedToUseSspr": true}}).to_string())
        .timeout(std::time::Duration::from_millis(500))
        .send()
        .await;
    assert!(gave_up.is_err(), "the caller gave up: {gave_up:?}");
    let mut record = Value::Null;
    for _ in 0..250 {
        record = audit_records(&world, "").await.remove(0);
        if record["outcome"] != "attempted" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(record["outcome"], "succeeded", "{record:#}");
    assert_eq!(record["requestId"], "gone-1");
    let kept = world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.authorization_policy["allowedToUseSSPR"].clone()
        })
        .expect("contoso");
    assert_eq!(kept, true, "the change was made whole");
}
