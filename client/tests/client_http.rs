//! The library against a tiny scripted HTTP/1.1 server on std threads (no extra
//! dependencies): token caching and refresh, request encoding, problem documents and the
//! `x-request-id`, `ETag` and `audit-record-id` headers.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use serde_json::json;
use sspr_client::{Auth, ClientError, ClientOptions, SsprClient};
use url::Url;

#[derive(Debug, Clone)]
struct Request {
    method: String,
    path: String,
    authorization: Option<String>,
    if_match: Option<String>,
    body: String,
}

struct Reply {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn reply(status: u16, body: serde_json::Value) -> Reply {
    Reply {
        status,
        content_type: if status < 400 {
            "application/json"
        } else {
            "application/problem+json"
        },
        headers: vec![("x-request-id", "req-1".into())],
        body: body.to_string(),
    }
}

type Handler = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// Serves `handler` (given the request and how many came before it) until the test ends.
fn serve(
    handler: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static,
) -> (Url, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = Url::parse(&format!(
        "http://{}/",
        listener.local_addr().expect("address")
    ))
    .expect("url");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<Handler> = Arc::new(handler);
    let log = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = Arc::clone(&handler);
            let log = Arc::clone(&log);
            thread::spawn(move || handle(stream, &*handler, &log));
        }
    });
    (url, seen)
}

fn handle(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let (mut length, mut authorization, mut if_match) = (0, None, None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = Some(value.trim().to_owned()),
                "if-match" => if_match = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let request = Request {
        method,
        path,
        authorization,
        if_match,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let count = {
        let mut log = log.lock().expect("log");
        log.push(request.clone());
        log.len() - 1
    };
    let reply = handler(&request, count);
    let mut head = format!(
        "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = stream;
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(reply.body.as_bytes());
}

/// A whole policy document, as the service sends it, with a member this version does not know.
fn policy() -> serde_json::Value {
    let mut document = sspr_api::examples::policy_document();
    document["tenant"]["id"] = json!("3f2b");
    document["retrievedAt"] = json!("2026-01-01T00:00:00Z");
    document["somethingNew"] = json!({"source": "inferred", "x": [1, 2]});
    document
}

fn connect(url: &Url, auth: Auth) -> SsprClient {
    SsprClient::new(url.clone(), auth, ClientOptions::default()).expect("client")
}

#[tokio::test]
async fn token_requests_and_policy_paths() {
    let (url, seen) = serve(|request, _| match request.path.as_str() {
        "/v1/tenants" => reply(
            200,
            json!({"value": [sspr_api::examples::tenant_summary()]}),
        ),
        "/v1/tenants/contoso.com/sspr/policy" => reply(200, policy()),
        _ => reply(
            404,
            json!({"type": "urn:sspr:problem:unknown-tenant", "title": "Not found", "status": 404,
            "detail": "No managed tenant has that id or domain.", "field": "tenant"}),
        ),
    });
    let client = connect(&url, Auth::Token("jwt-1".into()));

    let tenants = client.list_tenants().await.expect("tenants");
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0].display_name, "Contoso");
    assert_eq!(
        tenants[0].domains,
        ["contoso.onmicrosoft.com", "contoso.com"]
    );

    let response = client
        .get_policy_response("contoso.com")
        .await
        .expect("policy");
    assert_eq!(response.document, policy());
    assert_eq!(response.request_id.as_deref(), Some("req-1"));

    let error = client
        .get_policy("a/b c")
        .await
        .expect_err("unknown tenant");
    assert_eq!(error.exit_code(), 4);
    let ClientError::Api { status, problem } = &error else {
        panic!("expected an API error, got {error:?}");
    };
    assert_eq!(*status, 404);
    assert_eq!(problem.problem_type, "urn:sspr:problem:unknown-tenant");
    assert_eq!(problem.extension_str("field"), Some("tenant"));
    assert_eq!(problem.request_id.as_deref(), Some("req-1"));

    let seen = seen.lock().expect("log");
    assert_eq!(seen[2].path, "/v1/tenants/a%2Fb%20c/sspr/policy");
    assert!(
        seen.iter()
            .all(|r| r.method == "GET" && r.authorization.as_deref() == Some("Bearer jwt-1"))
    );
}

#[tokio::test]
async fn client_credentials_are_cached_and_refreshed_after_a_401() {
    let (url, seen) = serve(|request, _| {
        if request.method == "POST" {
            return reply(
                200,
                json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "tok"}),
            );
        }
        reply(200, json!({"value": []}))
    });
    let auth = Auth::ClientCredentials {
        token_url: url.join("tenant-a/oauth2/v2.0/token").expect("url"),
        client_id: "app".into(),
        client_secret: "s3cret&=".into(),
        scope: "api://sspr/.default".into(),
    };
    let client = connect(&url, auth);
    client.list_tenants().await.expect("first");
    client.list_tenants().await.expect("second");
    let seen = seen.lock().expect("log").clone();
    let posts: Vec<&Request> = seen.iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1, "the token is cached: {seen:?}");
    assert_eq!(posts[0].path, "/tenant-a/oauth2/v2.0/token");
    let form: Vec<&str> = posts[0].body.split('&').collect();
    assert!(form.contains(&"grant_type=client_credentials"), "{form:?}");
    assert!(form.contains(&"client_id=app"), "{form:?}");
    assert!(form.contains(&"client_secret=s3cret%26%3D"), "{form:?}");
    assert!(
        form.contains(&"scope=api%3A%2F%2Fsspr%2F.default"),
        "{form:?}"
    );

    // A cached token the service rejects is replaced once.
    let (url, seen) = serve(|request, count| {
        if request.method == "POST" {
            return reply(
                200,
                json!({"expires_in": 3599, "access_token": format!("tok-{count}")}),
            );
        }
        if request.authorization.as_deref() == Some("Bearer tok-0") && count > 1 {
            return reply(
                401,
                json!({"title": "Authentication required", "status": 401, "detail": "expired"}),
            );
        }
        reply(200, json!({"value": []}))
    });
    let auth = Auth::ClientCredentials {
        token_url: url.join("oauth2/v2.0/token").expect("url"),
        client_id: "app".into(),
        client_secret: "s".into(),
        scope: "api://sspr/.default".into(),
    };
    let client = connect(&url, auth);
    client.list_tenants().await.expect("first, fresh token");
    client
        .list_tenants()
        .await
        .expect("second, after one refresh");
    let seen = seen.lock().expect("log").clone();
    let summary: Vec<String> = seen
        .iter()
        .map(|r| format!("{} {}", r.method, r.authorization.as_deref().unwrap_or("-")))
        .collect();
    assert_eq!(
        summary,
        [
            "POST -",
            "GET Bearer tok-0",
            "GET Bearer tok-0",
            "POST -",
            "GET Bearer tok-3"
        ],
        "{seen:?}"
    );
}

#[tokio::test]
async fn fresh_token_rejected_is_not_retried_and_entra_errors_are_auth_errors() {
    let (url, seen) = serve(|request, _| {
        if request.method == "POST" {
            return reply(
                400,
                json!({"error": "invalid_scope", "error_description": "AADSTS70011: The scope is not valid.\r\nTrace ID: 1"}),
            );
        }
        reply(
            401,
            json!({"title": "Authentication required", "status": 401, "detail": "bad audience"}),
        )
    });
    let auth = Auth::ClientCredentials {
        token_url: url.join("oauth2/v2.0/token").expect("url"),
        client_id: "app".into(),
        client_secret: "s3cret".into(),
        scope: "wrong".into(),
    };
    let error = connect(&url, auth)
        .list_tenants()
        .await
        .expect_err("token refused");
    assert_eq!(error.exit_code(), 3);
    assert_eq!(
        error.to_string(),
        "Authentication failed: invalid_scope: AADSTS70011: The scope is not valid."
    );
    assert_eq!(seen.lock().expect("log").len(), 1);

    let error = connect(&url, Auth::Token("jwt".into()))
        .list_tenants()
        .await
        .expect_err("401");
    assert_eq!(error.status(), Some(401));
    assert_eq!(error.exit_code(), 3);
    assert_eq!(error.to_string(), "Authentication required: bad audience");
}

#[tokio::test]
async fn non_json_success_is_a_decode_error() {
    let (url, _) = serve(|_, _| Reply {
        status: 200,
        content_type: "text/html",
        headers: vec![],
        body: "<html>proxy login</html>".into(),
    });
    let client = connect(&url, Auth::Token("jwt".into()));
    assert!(matches!(
        client.list_tenants().await,
        Err(ClientError::Decode(_))
    ));
    let error = client
        .get_policy("contoso.com")
        .await
        .expect_err("not JSON");
    assert!(matches!(error, ClientError::Decode(_)));
    assert_eq!(error.exit_code(), 5);
}

#[tokio::test]
async fn a_policy_change_reports_its_audit_record() {
    let (url, seen) = serve(|request, _| {
        let mut answer = reply(200, policy());
        if request.method == "PATCH" {
            answer.headers.push(("etag", "\"v2\"".into()));
            answer.headers.push(("audit-record-id", "42".into()));
        }
        answer
    });
    let client = connect(&url, Auth::Token("jwt".into()));
    let applied = client
        .apply_policy_change("contoso.com", &json!({"a": 1}), "\"v1\"")
        .await
        .expect("applied");
    assert_eq!(applied.audit_record_id, Some(42));
    assert_eq!(applied.etag.as_deref(), Some("\"v2\""));
    assert_eq!(
        seen.lock().expect("log")[0].if_match.as_deref(),
        Some("\"v1\"")
    );
    let read = client
        .get_policy_response("contoso.com")
        .await
        .expect("get");
    assert_eq!(read.audit_record_id, None, "a GET names no audit record");
}

/// A dry run's plan as the service answers it.
fn protection_plan(result: &str) -> serde_json::Value {
    json!({"tenant": {"id": "3f2b", "domain": "contoso.onmicrosoft.com", "displayName": "Contoso"},
        "dryRun": true, "result": result, "policyId": "p-1", "state": "enabled",
        "changes": ["state"], "diff": [{"path": "/state", "before": "enabledForReportingButNotEnforced",
        "after": "enabled"}], "calls": [{"method": "PATCH", "path": "/identity/conditionalAccess/policies/p-1",
        "body": {"state": "enabled"}}], "findings": [], "etag": "\"body-etag\""})
}

/// What a real (not dry-run) state change answers.
fn protection_applied() -> serde_json::Value {
    json!({"tenant": {"id": "3f2b", "domain": "contoso.onmicrosoft.com", "displayName": "Contoso"},
        "result": "updated", "policyId": "p-1", "state": "enabled", "changes": ["state"],
        "diff": [], "etag": "\"deployed-v2\"", "policy": {"state": "enabled"}, "findings": [],
        "attempts": [], "graphRequestIds": []})
}

#[tokio::test]
async fn protection_changes_plan_first_then_apply_with_the_plans_etag() {
    let (url, seen) = serve(|request, _| {
        if request.path.contains("dryRun=true") {
            let mut answer = reply(200, protection_plan("updated"));
            answer.headers.push(("etag", "\"deployed-v1\"".into()));
            return answer;
        }
        reply(200, protection_applied())
    });
    let client = connect(&url, Auth::Token("jwt".into()));
    let plan = client
        .protection_set_state(
            "contoso.com",
            sspr_client::protection::State::Enabled,
            true,
            true,
            None,
        )
        .await
        .expect("plan");
    assert_eq!(
        plan.result(),
        sspr_client::types::protection::ApplyResult::Updated
    );
    assert_eq!(plan.plan_etag(), Some("\"deployed-v1\""), "the header wins");
    let applied = client
        .protection_set_state(
            "contoso.com",
            sspr_client::protection::State::Enabled,
            true,
            false,
            plan.plan_etag(),
        )
        .await
        .expect("applied");
    assert_eq!(applied.body["state"], "enabled");

    let options = json!({"control": "mfa"});
    client
        .protection_apply("contoso.com", &options, true, None)
        .await
        .expect("deploy plan");
    client
        .protection_apply("contoso.com", &options, false, Some("\"deployed-v1\""))
        .await
        .expect("deploy");

    let seen = seen.lock().expect("log").clone();
    let calls: Vec<(String, String, Option<String>)> = seen
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.if_match.clone()))
        .collect();
    assert_eq!(
        calls,
        [
            (
                "PUT".into(),
                "/v1/tenants/contoso.com/registration-protection/state?dryRun=true".into(),
                None
            ),
            (
                "PUT".into(),
                "/v1/tenants/contoso.com/registration-protection/state".into(),
                Some("\"deployed-v1\"".into())
            ),
            (
                "PUT".into(),
                "/v1/tenants/contoso.com/registration-protection?dryRun=true".into(),
                None
            ),
            (
                "PUT".into(),
                "/v1/tenants/contoso.com/registration-protection".into(),
                Some("\"deployed-v1\"".into())
            ),
        ]
    );
    let body =
        |n: usize| serde_json::from_str::<serde_json::Value>(&seen[n].body).expect("JSON body");
    assert_eq!(body(0), json!({"state": "enabled", "force": true}));
    assert_eq!(body(1), body(0), "the real call sends what was planned");
    assert_eq!(body(2), options);
    assert_eq!(body(3), options);
}

#[tokio::test]
async fn a_dry_run_that_was_not_one_is_refused_loudly() {
    // A service that ignores `dryRun` answers with what it did.
    let (url, _) = serve(|_, _| {
        reply(
            200,
            json!({"result": "updated", "policyId": "p-1", "state": "enabled", "changes": ["state"]}),
        )
    });
    let client = connect(&url, Auth::Token("jwt".into()));
    let error = client
        .protection_apply("contoso.com", &json!({}), true, None)
        .await
        .expect_err("not a dry run");
    assert!(
        matches!(&error, ClientError::Decode(m) if m.contains("may have applied")),
        "{error}"
    );
    assert_eq!(error.exit_code(), 5);
}

#[tokio::test]
async fn tenancy_calls_send_their_method_path_and_body() {
    use sspr_api::examples;
    let (url, seen) = serve(|request, _| {
        let no_content = || Reply {
            status: 204,
            content_type: "application/json",
            headers: vec![],
            body: String::new(),
        };
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/v1/tenants") => reply(201, examples::tenant_summary()),
            ("PATCH", "/v1/tenants/tailspin.onmicrosoft.com") => {
                reply(200, examples::tenant_summary())
            }
            ("DELETE", "/v1/tenants/tailspin.onmicrosoft.com") => no_content(),
            ("GET", path) if path.starts_with("/v1/tenants/tailspin.onmicrosoft.com/consent") => {
                reply(200, examples::consent_link())
            }
            ("GET", "/v1/access") => reply(200, examples::access_list()),
            ("POST", "/v1/access") => reply(201, examples::access_grant()),
            ("DELETE", "/v1/access/7d3f5a2e") => no_content(),
            ("GET", "/v1/partner/customers") => reply(200, examples::partner_customers()),
            _ => reply(404, json!({"title": "Not found", "status": 404})),
        }
    });
    let client = connect(&url, Auth::Token("jwt-1".into()));
    let tailspin = "tailspin.onmicrosoft.com";

    let onboarding = serde_json::from_value(examples::tenant_onboarding()).expect("example");
    let added = client.add_tenant(&onboarding).await.expect("added");
    assert_eq!(added.value.display_name, "Contoso");
    let update = serde_json::from_value(examples::tenant_update()).expect("example");
    client
        .update_tenant(tailspin, &update)
        .await
        .expect("updated");
    client.remove_tenant(tailspin).await.expect("removed");
    let link = client
        .consent_link(tailspin, Some("https://msp.example/done?x=1"))
        .await
        .expect("link");
    assert_eq!(link.value.client_id, "6f1c2a3b-4d5e-4f60-8a1b-2c3d4e5f6a7b");
    let grants = client.list_access().await.expect("grants");
    assert_eq!(grants.value.value.len(), 2);
    let request = serde_json::from_value(examples::access_grant_request()).expect("example");
    let grant = client.grant_access(&request).await.expect("granted");
    assert_eq!(grant.value.tenants, ["tag:region:eu"]);
    client.revoke_access("7d3f5a2e").await.expect("revoked");
    let customers = client.partner_customers().await.expect("customers");
    assert_eq!(customers.value.value.len(), 2);
    assert!(matches!(
        client.revoke_access(" ").await,
        Err(ClientError::Config(_))
    ));

    let seen = seen.lock().expect("log");
    let calls: Vec<(&str, &str)> = seen
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("POST", "/v1/tenants"),
            ("PATCH", "/v1/tenants/tailspin.onmicrosoft.com"),
            ("DELETE", "/v1/tenants/tailspin.onmicrosoft.com"),
            (
                "GET",
                "/v1/tenants/tailspin.onmicrosoft.com/consent?redirectUri=https%3A%2F%2Fmsp.example%2Fdone%3Fx%3D1"
            ),
            ("GET", "/v1/access"),
            ("POST", "/v1/access"),
            ("DELETE", "/v1/access/7d3f5a2e"),
            ("GET", "/v1/partner/customers"),
        ]
    );
    let body = |i: usize| -> serde_json::Value {
        serde_json::from_str(&seen[i].body).expect("a JSON body")
    };
    assert_eq!(body(0), examples::tenant_onboarding());
    assert_eq!(body(1), examples::tenant_update());
    assert_eq!(body(5), examples::access_grant_request());
    assert!(seen[2].body.is_empty() && seen[6].body.is_empty());
}
