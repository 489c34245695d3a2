//! Every error status the router can produce comes back as an RFC 9457 problem document with
//! `type`, `title`, `status`, `detail` and `code` (and `field` where a request member is at
//! fault), against the real service and emulator.

use std::collections::BTreeSet;

use entra_emulator::{FaultRule, seed};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use sspr_e2e::World;

/// The statuses this test provokes; it fails if one of them is not seen.
const COVERED: [u16; 14] = [
    400, 401, 403, 404, 405, 412, 413, 414, 415, 422, 428, 431, 502, 503,
];

const CONTOSO_POLICY: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";
const CONTOSO_PROTECTION: &str = "v1/tenants/contoso.onmicrosoft.com/registration-protection";
const MERGE_PATCH: &str = "application/merge-patch+json";

struct Check {
    seen: BTreeSet<u16>,
    /// The codes the OpenAPI document's `Problem.code` lists.
    documented: String,
}

impl Check {
    /// Asserts `response` is a complete problem with `status` and `code`, and returns it.
    async fn problem(&mut self, what: &str, response: Response, status: u16, code: &str) -> Value {
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{what}"
        );
        let problem: Value = response.json().await.expect("a JSON problem");
        assert_eq!(problem["status"], status, "{what}: {problem}");
        for member in ["type", "title", "detail", "code"] {
            assert!(
                problem[member].as_str().is_some_and(|v| !v.is_empty()),
                "{what}: no {member} in {problem}"
            );
        }
        assert_eq!(problem["code"], code, "{what}: {problem}");
        assert!(
            self.documented.contains(&format!("`{code}`")),
            "{what}: code {code} is not in the Problem schema's list"
        );
        self.seen.insert(status);
        problem
    }

    async fn with_field(
        &mut self,
        what: &str,
        response: Response,
        status: u16,
        code: &str,
        field: &str,
    ) -> Value {
        let problem = self.problem(what, response, status, code).await;
        assert_eq!(problem["field"], field, "{what}: {problem}");
        problem
    }
}

fn request(world: &World, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
    let request = world
        .http
        .request(method, world.service.url.join(path).expect("url"));
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

async fn send(request: RequestBuilder) -> Response {
    request.send().await.expect("the service answers")
}

#[tokio::test]
async fn every_error_status_the_router_produces_is_a_problem_document() {
    let world = World::start_with(|config| {
        config.server.max_body_bytes = 16 * 1024;
        config.server.timeouts.report_secs = 1;
    })
    .await;
    let document: Value = world
        .get("openapi.json", None)
        .await
        .json()
        .await
        .expect("document");
    let mut check = Check {
        seen: BTreeSet::new(),
        documented:
            document["components"]["schemas"]["Problem"]["properties"]["code"]["description"]
                .as_str()
                .expect("Problem.code is documented")
                .to_owned(),
    };
    // Fabrikam revoked the consent for policy reads (before the service signs in to it): the
    // 502 below. Its licence can still be read.
    world
        .emulator
        .with_tenant(seed::FABRIKAM_ID, |tenant| {
            for principal in &mut tenant.service_principals {
                if principal.app_id == seed::GRAPH_APP_CLIENT_ID {
                    for roles in principal.granted_app_roles.values_mut() {
                        roles.retain(|r| r == "Organization.Read.All");
                    }
                }
            }
        })
        .expect("fabrikam");
    let reader = world.token(&["SSPR.Read"]);
    let writer = world.token(&["SSPR.ReadWrite"]);
    let (w, r) = (Some(writer.as_str()), Some(reader.as_str()));
    let patch = |body: &'static str, query: &str, if_match: Option<&str>| {
        let mut request = request(
            &world,
            Method::PATCH,
            &format!("{CONTOSO_POLICY}{query}"),
            w,
        )
        .header("content-type", MERGE_PATCH)
        .body(body);
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        request
    };

    // 400: not JSON, JSON nested too deep, a bad query value, a bad path parameter.
    let malformed = send(patch(r#"{"authentication": "#, "", Some("\"x\""))).await;
    let problem = check
        .problem("malformed JSON", malformed, 400, "malformedJson")
        .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("line 1")),
        "{problem}"
    );
    let deep: &'static str =
        Box::leak(format!("{}{}", "[".repeat(300), "]".repeat(300)).into_boxed_str());
    let too_deep = send(patch(deep, "", Some("\"x\""))).await;
    let problem = check
        .problem("too deep JSON", too_deep, 400, "malformedJson")
        .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("128")),
        "{problem}"
    );
    let dry_run = send(patch("{}", "?dryRun=maybe", Some("\"x\""))).await;
    check
        .with_field("dryRun=maybe", dry_run, 400, "badRequest", "dryRun")
        .await;
    let not_utf8 = send(request(
        &world,
        Method::GET,
        "v1/tenants/%FF/sspr/policy",
        r,
    ))
    .await;
    check
        .with_field(
            "a tenant of invalid UTF-8",
            not_utf8,
            400,
            "badRequest",
            "tenant",
        )
        .await;

    // 401 and 403.
    let anonymous = send(request(&world, Method::GET, "v1/tenants", None)).await;
    assert!(anonymous.headers().contains_key("www-authenticate"));
    check
        .with_field(
            "no token",
            anonymous,
            401,
            "unauthenticated",
            "authorization",
        )
        .await;
    let roleless = world.token(&[]);
    let no_role = send(request(&world, Method::GET, "v1/tenants", Some(&roleless))).await;
    check.problem("no role", no_role, 403, "forbidden").await;
    let unlicensed = send(request(
        &world,
        Method::GET,
        "v1/tenants/fabrikam.onmicrosoft.com/registration-protection",
        r,
    ))
    .await;
    check
        .problem("no licence", unlicensed, 403, "licenseRequired")
        .await;

    // 404: no such route, no such tenant.
    let no_route = send(request(&world, Method::GET, "v1/nothing-here", r)).await;
    check
        .problem("unknown route", no_route, 404, "noRoute")
        .await;
    let unknown = send(request(
        &world,
        Method::GET,
        "v1/tenants/nowhere.example/sspr/policy",
        r,
    ))
    .await;
    check
        .problem("unknown tenant", unknown, 404, "unknownTenant")
        .await;

    // 405, with Allow.
    let delete = send(request(&world, Method::DELETE, "v1/tenants", r)).await;
    let allow = delete.headers()["allow"]
        .to_str()
        .expect("allow")
        .to_owned();
    assert!(allow.contains("GET"), "{allow}");
    check
        .problem("DELETE /v1/tenants", delete, 405, "methodNotAllowed")
        .await;

    // 412, 422, 428: the change rules, with the current ETag where one is needed.
    let current = send(request(&world, Method::GET, CONTOSO_POLICY, w)).await;
    assert_eq!(current.status(), 200);
    let etag = current.headers()["etag"].to_str().expect("etag").to_owned();
    let change = r#"{"authentication": {"methodsRequired": 2}}"#;
    let stale = send(patch(change, "", Some("\"stale\""))).await;
    check
        .with_field(
            "stale If-Match",
            stale,
            412,
            "preconditionFailed",
            "if-match",
        )
        .await;
    let invalid = send(patch(
        r#"{"authentication": {"methodsRequired": 7}}"#,
        "",
        Some(&etag),
    ))
    .await;
    check
        .with_field(
            "methodsRequired 7",
            invalid,
            422,
            "invalidPolicy",
            "/authentication/methodsRequired",
        )
        .await;
    let unconditional = send(patch(change, "", None)).await;
    check
        .with_field(
            "no If-Match",
            unconditional,
            428,
            "preconditionRequired",
            "if-match",
        )
        .await;

    // 413, 414, 415, 431: the edge's limits.
    let large = format!(r#"{{"excludeUsers": ["{}"]}}"#, "a".repeat(32 * 1024));
    let too_large = send(
        request(&world, Method::PUT, CONTOSO_PROTECTION, w)
            .header("content-type", "application/json")
            .body(large),
    )
    .await;
    let problem = check
        .problem("a 32 KiB body", too_large, 413, "bodyTooLarge")
        .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("16384")),
        "{problem}"
    );
    let long = format!("v1/tenants?padding={}", "a".repeat(9 * 1024));
    let too_long = send(request(&world, Method::GET, &long, r)).await;
    check
        .problem("a 9 KiB URI", too_long, 414, "uriTooLong")
        .await;
    let text = send(
        request(&world, Method::PUT, CONTOSO_PROTECTION, w)
            .header("content-type", "text/plain")
            .body("{}"),
    )
    .await;
    check
        .with_field(
            "text/plain options",
            text,
            415,
            "unsupportedMediaType",
            "content-type",
        )
        .await;
    let json_patch = send(
        request(&world, Method::PATCH, CONTOSO_POLICY, w)
            .header("content-type", "application/json")
            .header("if-match", &etag)
            .body(change),
    )
    .await;
    assert_eq!(json_patch.headers()["accept-patch"], MERGE_PATCH);
    let problem = check
        .with_field(
            "a PATCH as application/json",
            json_patch,
            415,
            "unsupportedMediaType",
            "content-type",
        )
        .await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains(MERGE_PATCH)),
        "{problem}"
    );
    let big_header = send(
        request(&world, Method::GET, "v1/tenants", r).header("x-padding", "b".repeat(20 * 1024)),
    )
    .await;
    check
        .with_field(
            "a 20 KiB header",
            big_header,
            431,
            "headersTooLarge",
            "x-padding",
        )
        .await;

    // 502: Graph refuses the service (Fabrikam revoked the consent for policy reads).
    let refused = send(request(
        &world,
        Method::GET,
        "v1/tenants/fabrikam.onmicrosoft.com/sspr/policy",
        r,
    ))
    .await;
    let problem = check
        .problem("Graph refuses", refused, 502, "upstream")
        .await;
    assert_eq!(problem["upstreamStatus"], 403, "{problem}");

    // 503: a report slower than the report timeout (1 s here), then the emulator down.
    world
        .emulator
        .set_faults(vec![FaultRule {
            method: None,
            path: None,
            path_prefix: Some("/v1.0/reports/".into()),
            latency_ms: 3_000,
            fault: None,
            probability: 1.0,
            times: None,
        }])
        .expect("faults");
    let slow = send(request(
        &world,
        Method::GET,
        "v1/tenants/contoso.onmicrosoft.com/registrations/summary",
        r,
    ))
    .await;
    assert_eq!(slow.headers()["retry-after"], "5");
    let problem = check.problem("a slow report", slow, 503, "timeout").await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("1 s")),
        "{problem}"
    );
    let World {
        emulator,
        service,
        http,
    } = world;
    emulator.shutdown().await;
    let down = http
        .get(service.url.join(CONTOSO_PROTECTION).expect("url"))
        .bearer_auth(&reader)
        .send()
        .await
        .expect("the service answers");
    check
        .problem("the emulator down", down, 503, "upstreamUnreachable")
        .await;

    assert_eq!(
        check.seen.into_iter().collect::<Vec<_>>(),
        COVERED,
        "the statuses provoked are the ones listed"
    );
}
