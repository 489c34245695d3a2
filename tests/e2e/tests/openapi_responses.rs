//! The OpenAPI document tells the truth: every response the running service sends (to the real
//! emulator, with real tokens) validates against the schema that the service's own
//! `/openapi.json` declares for that operation, status and media type, formats included; and
//! every example the document shows validates against the schema it illustrates.
//!
//! Object schemas are closed for the check (`additionalProperties: false` wherever a schema lists
//! its properties; problem documents excepted, whose extension members RFC 9457 allows), so a
//! member the service sends but the document does not name fails too.

use reqwest::header::{ACCEPT, CONTENT_TYPE, ETAG, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sspr_e2e::World;
use sspr_e2e::entra_emulator::seed;

const CONTOSO: &str = seed::CONTOSO_DOMAIN;
const FABRIKAM: &str = seed::FABRIKAM_DOMAIN;

/// The served document, and the validators built from it.
struct Contract {
    doc: Value,
    /// The document with every object schema closed, the root of every validator.
    closed: Value,
    checked: usize,
}

impl Contract {
    async fn served(world: &World) -> Contract {
        let doc: Value = world
            .get("openapi.json", None)
            .await
            .json()
            .await
            .expect("the document is JSON");
        let mut closed = doc.clone();
        close_objects(&mut closed["components"]);
        close_objects(&mut closed["paths"]);
        // RFC 9457 lets a problem carry extension members of its kind (`code`, `violations`,
        // `attempts`, …), so the problem schema stays open.
        if let Some(problem) = closed["components"]["schemas"]["Problem"].as_object_mut() {
            problem.remove("additionalProperties");
        }
        Contract {
            doc,
            closed,
            checked: 0,
        }
    }

    /// Validates the response to `method template` (the document's path, e.g.
    /// `/v1/tenants/{tenant}/sspr/policy`) against the schema for its status and media type, and
    /// returns its status and body (NDJSON: an array of its lines; other text: a string).
    async fn check(
        &mut self,
        method: &Method,
        template: &str,
        response: reqwest::Response,
    ) -> (StatusCode, Value) {
        let status = response.status();
        let media = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned());
        let text = response.text().await.expect("body");
        let operation = format!("{method} {template} {status}");
        let method_key = method.as_str().to_ascii_lowercase();
        let mut declared = &self.doc["paths"][template][&method_key]["responses"][status.as_str()];
        // A shared response set (`#/components/responses/…`) stands for its component.
        let mut at = format!(
            "#/paths/{}/{method_key}/responses/{}",
            escape(template),
            status.as_str()
        );
        if let Some(reference) = declared["$ref"].as_str() {
            at = reference.to_owned();
            declared = self
                .doc
                .pointer(reference.trim_start_matches('#'))
                .unwrap_or(&Value::Null);
        }
        assert!(
            declared.is_object(),
            "{operation} is not documented: {text}"
        );
        let Some(media) = media else {
            assert!(
                declared.get("content").is_none(),
                "{operation} sent no Content-Type, the document declares {}",
                declared["content"]
            );
            assert!(text.is_empty(), "{operation} sent a body without a type");
            self.checked += 1;
            return (status, Value::Null);
        };
        assert!(
            declared["content"].get(&media).is_some(),
            "{operation} sent {media}, the document declares {}",
            declared["content"]
        );
        let pointer = format!("{at}/content/{}/schema", escape(&media));
        let validator = self.validator(&pointer);
        let body = match media.as_str() {
            "application/x-ndjson" => {
                let lines: Vec<Value> = text
                    .lines()
                    .map(|l| serde_json::from_str(l).expect("each line is JSON"))
                    .collect();
                for (n, line) in lines.iter().enumerate() {
                    assert_valid(&validator, line, &format!("{operation} line {}", n + 1));
                }
                Value::Array(lines)
            }
            m if m.ends_with("json") => {
                let body: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{operation}: {e}: {text}"));
                assert_valid(&validator, &body, &operation);
                body
            }
            _ => {
                let body = Value::String(text);
                assert_valid(&validator, &body, &operation);
                body
            }
        };
        self.checked += 1;
        (status, body)
    }

    fn validator(&self, pointer: &str) -> jsonschema::Validator {
        let mut root = self.closed.clone();
        root["$ref"] = Value::String(pointer.to_owned());
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|e| panic!("{pointer} does not compile: {e}"))
    }
}

fn assert_valid(validator: &jsonschema::Validator, body: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("  at '{}': {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} violates the served schema:\n{}\nbody: {body:#}",
        errors.join("\n")
    );
}

/// A JSON pointer token (RFC 6901) as it appears inside a `$ref` fragment, where path
/// templates' braces must be percent-encoded.
fn escape(token: &str) -> String {
    token
        .replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

/// Every schema that lists `properties` and says nothing about others refuses others.
fn close_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("properties").is_some_and(Value::is_object)
                && !map.contains_key("additionalProperties")
            {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for (key, child) in map.iter_mut() {
                // Examples are data, not schemas.
                if key != "example" && key != "examples" {
                    close_objects(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

async fn send(
    world: &World,
    method: Method,
    path: &str,
    token: Option<&str>,
    build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> reqwest::Response {
    let mut request = world
        .http
        .request(method, world.service.url.join(path).expect("path joins"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    build(request).send().await.expect("service answers")
}

#[tokio::test]
async fn every_kind_of_response_validates_against_the_served_schema() {
    let world = World::start().await;
    let mut contract = Contract::served(&world).await;
    let token = world.token(&["SSPR.ReadWrite", "SSPR.Admin"]);
    let token = Some(token.as_str());
    let get = Method::GET;
    let no_change = |r| r;

    for path in ["/healthz", "/readyz"] {
        let response = send(&world, get.clone(), path, None, no_change).await;
        let (status, _) = contract.check(&get, path, response).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let response = send(&world, get.clone(), "v1/tenants", token, no_change).await;
    let (status, tenants) = contract.check(&get, "/v1/tenants", response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(tenants["value"].as_array().map(Vec::len), Some(2));

    // The policy document: contoso (portal connector, synced) and fabrikam (inferred, unavailable).
    let policy = "/v1/tenants/{tenant}/sspr/policy";
    let mut contoso_etag = String::new();
    for tenant in [CONTOSO, FABRIKAM] {
        let path = format!("v1/tenants/{tenant}/sspr/policy");
        let response = send(&world, get.clone(), &path, token, no_change).await;
        if tenant == CONTOSO {
            contoso_etag = response.headers()[ETAG].to_str().expect("etag").to_owned();
        }
        let (status, document) = contract.check(&get, policy, response).await;
        assert_eq!(status, StatusCode::OK, "{tenant}: {document:#}");
        if tenant == FABRIKAM {
            assert_eq!(document["authentication"]["source"], "unavailable");
        }
    }

    // A dry run answers the plan, a real change the document read back.
    let patch = Method::PATCH;
    let contoso_policy = format!("v1/tenants/{CONTOSO}/sspr/policy");
    for dry_run in [true, false] {
        let etag = contoso_etag.clone();
        let response = send(
            &world,
            patch.clone(),
            &format!("{contoso_policy}?dryRun={dry_run}"),
            token,
            |r| {
                r.header(IF_MATCH, etag)
                    .header(CONTENT_TYPE, "application/merge-patch+json")
                    .body(r#"{"registration":{"reconfirmDays":90}}"#)
            },
        )
        .await;
        let (status, body) = contract.check(&patch, policy, response).await;
        assert_eq!(status, StatusCode::OK, "dryRun={dry_run}: {body:#}");
        if dry_run {
            assert!(body["steps"].as_array().is_some_and(|s| !s.is_empty()));
        } else {
            assert_eq!(body["registration"]["reconfirmDays"], 90);
        }
    }
    // Problems: a stale ETag, an unknown tenant, no token, a bad query value.
    let response = send(&world, patch.clone(), &contoso_policy, token, |r| {
        r.header(IF_MATCH, "\"stale\"")
            .header(CONTENT_TYPE, "application/merge-patch+json")
            .body("{}")
    })
    .await;
    let (status, _) = contract.check(&patch, policy, response).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let response = send(
        &world,
        get.clone(),
        "v1/tenants/nowhere.example/sspr/policy",
        token,
        no_change,
    )
    .await;
    let (status, _) = contract.check(&get, policy, response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = send(&world, get.clone(), &contoso_policy, None, no_change).await;
    let (status, _) = contract.check(&get, policy, response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Registrations: a JSON page and the next, NDJSON lines, CSV.
    let listing = "/v1/tenants/{tenant}/registrations";
    let path = format!("v1/tenants/{CONTOSO}/registrations?limit=2");
    let response = send(&world, get.clone(), &path, token, no_change).await;
    let (status, page) = contract.check(&get, listing, response).await;
    assert_eq!(status, StatusCode::OK, "{page:#}");
    let cursor = page["nextCursor"].as_str().expect("a next page").to_owned();
    let next = format!("v1/tenants/{CONTOSO}/registrations?limit=500&fields=id,userPrincipalName");
    let response = send(&world, get.clone(), &next, token, |r| {
        r.query(&[("cursor", &cursor)])
    })
    .await;
    let (status, last) = contract.check(&get, listing, response).await;
    assert_eq!(status, StatusCode::OK, "{last:#}");
    assert!(last["nextCursor"].is_null());
    for accept in ["application/x-ndjson", "text/csv"] {
        let path = format!("v1/tenants/{CONTOSO}/registrations");
        let response = send(&world, get.clone(), &path, token, |r| {
            r.header(ACCEPT, accept)
        })
        .await;
        let (status, _) = contract.check(&get, listing, response).await;
        assert_eq!(status, StatusCode::OK, "{accept}");
    }
    let path = format!("v1/tenants/{CONTOSO}/registrations?sspr=sometimes");
    let response = send(&world, get.clone(), &path, token, no_change).await;
    let (status, problem) = contract.check(&get, listing, response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["field"], "sspr");

    // Summaries: contoso's, fabrikam's licence problem, the fleet as JSON and as NDJSON.
    let summary = "/v1/tenants/{tenant}/registrations/summary";
    for (tenant, expected) in [(CONTOSO, StatusCode::OK), (FABRIKAM, StatusCode::FORBIDDEN)] {
        let path = format!("v1/tenants/{tenant}/registrations/summary");
        let response = send(&world, get.clone(), &path, token, no_change).await;
        let (status, body) = contract.check(&get, summary, response).await;
        assert_eq!(status, expected, "{tenant}: {body:#}");
    }
    let fleet = "/v1/registrations/summary";
    for accept in ["application/json", "application/x-ndjson"] {
        let response = send(
            &world,
            get.clone(),
            "v1/registrations/summary?tenants=all",
            token,
            |r| r.header(ACCEPT, accept),
        )
        .await;
        let (status, body) = contract.check(&get, fleet, response).await;
        assert_eq!(status, StatusCode::OK, "{accept}: {body:#}");
    }

    // Registration protection: plan, generate, deploy (created, then unchanged), grade.
    let post = Method::POST;
    let put = Method::PUT;
    let plan = "/v1/tenants/{tenant}/registration-protection/plan";
    for options in [json!({}), json!({"control": "mfa", "guests": "include"})] {
        let path = format!("v1/tenants/{CONTOSO}/registration-protection/plan");
        let response = send(&world, post.clone(), &path, token, |r| r.json(&options)).await;
        let (status, body) = contract.check(&post, plan, response).await;
        assert_eq!(status, StatusCode::OK, "{options}: {body:#}");
    }
    let generate = "/v1/registration-protection/generate";
    let response = send(
        &world,
        post.clone(),
        "v1/registration-protection/generate",
        token,
        |r| r.json(&json!({"control": "compliantDevice", "excludeUsers": [seed::CONTOSO_ID]})),
    )
    .await;
    let (status, body) = contract.check(&post, generate, response).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let response = send(
        &world,
        post.clone(),
        "v1/registration-protection/generate",
        token,
        |r| r.json(&json!({"grant": "block"})),
    )
    .await;
    let (status, _) = contract.check(&post, generate, response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let protection = "/v1/tenants/{tenant}/registration-protection";
    let path = format!("v1/tenants/{CONTOSO}/registration-protection");
    for expected in [StatusCode::CREATED, StatusCode::OK] {
        let response = send(&world, put.clone(), &path, token, |r| r.json(&json!({}))).await;
        let (status, body) = contract.check(&put, protection, response).await;
        assert_eq!(status, expected, "{body:#}");
    }
    let response = send(&world, get.clone(), &path, token, no_change).await;
    let (status, body) = contract.check(&get, protection, response).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert!(body["ours"].is_string(), "{body:#}");
    // The dry run of a control change, and of a promotion; then a real promotion.
    let dry = format!("{path}?dryRun=true");
    let response = send(&world, put.clone(), &dry, token, |r| {
        r.json(&json!({"control": "mfa"}))
    })
    .await;
    let (status, body) = contract.check(&put, protection, response).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["dryRun"], true, "{body:#}");
    let state = "/v1/tenants/{tenant}/registration-protection/state";
    for query in ["?dryRun=true", ""] {
        let response = send(
            &world,
            put.clone(),
            &format!("{path}/state{query}"),
            token,
            |r| r.json(&json!({"state": "enabled", "force": true})),
        )
        .await;
        let (status, body) = contract.check(&put, state, response).await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
    }

    // The audit trail holds the writes above: one page, then the rest.
    let audit = "/v1/audit";
    let response = send(&world, get.clone(), "v1/audit?limit=1", token, no_change).await;
    let (status, page) = contract.check(&get, audit, response).await;
    assert_eq!(status, StatusCode::OK, "{page:#}");
    let next = page["nextLink"].as_str().expect("more records").to_owned();
    let response = send(
        &world,
        get.clone(),
        next.trim_start_matches('/'),
        token,
        no_change,
    )
    .await;
    let (status, rest) = contract.check(&get, audit, response).await;
    assert_eq!(status, StatusCode::OK, "{rest:#}");
    assert!(!rest["value"].as_array().expect("records").is_empty());

    assert!(
        contract.checked >= 28,
        "only {} responses checked",
        contract.checked
    );
}

/// Every `example` and `examples` entry, on a schema or a media type, is valid for its schema:
/// an example that lies teaches clients the wrong thing.
#[tokio::test]
async fn every_example_in_the_document_validates_against_its_schema() {
    let world = World::start().await;
    let contract = Contract::served(&world).await;
    let mut found = Vec::new();
    collect_examples(&contract.doc, "#", &mut found);
    assert!(found.len() >= 10, "only {} examples found", found.len());
    for (pointer, example) in found {
        let validator = contract.validator(&pointer);
        assert_valid(&validator, &example, &format!("the example of {pointer}"));
    }
}

/// (pointer of the schema, example) for every example of a schema or of a media type's schema.
fn collect_examples(value: &Value, pointer: &str, found: &mut Vec<(String, Value)>) {
    let Value::Object(map) = value else {
        if let Value::Array(items) = value {
            for (i, item) in items.iter().enumerate() {
                collect_examples(item, &format!("{pointer}/{i}"), found);
            }
        }
        return;
    };
    let is_media_type = map.contains_key("schema");
    let schema_pointer = if is_media_type {
        format!("{pointer}/schema")
    } else {
        pointer.to_owned()
    };
    if let Some(example) = map.get("example") {
        found.push((schema_pointer.clone(), example.clone()));
    }
    match map.get("examples") {
        // A schema's `examples` is a list of values; a media type's a map of Example objects.
        Some(Value::Array(list)) => {
            found.extend(list.iter().map(|e| (schema_pointer.clone(), e.clone())));
        }
        Some(Value::Object(named)) if is_media_type => {
            found.extend(
                named
                    .values()
                    .filter_map(|e| e.get("value"))
                    .map(|e| (schema_pointer.clone(), e.clone())),
            );
        }
        _ => {}
    }
    for (key, child) in map {
        if key != "example" && key != "examples" {
            collect_examples(child, &format!("{pointer}/{}", escape(key)), found);
        }
    }
}
