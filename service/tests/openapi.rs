//! The OpenAPI document is the contract: committed, never stale, covering every route.

use std::path::{Path, PathBuf};

use sspr_service::{Application, Config};

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json")
}

fn generated() -> String {
    let mut text = sspr_service::api::openapi()
        .to_pretty_json()
        .expect("document serializes");
    text.push('\n');
    text
}

#[test]
fn committed_openapi_json_matches_the_code() {
    let path = committed_path();
    let fresh = generated();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &fresh).expect("write openapi/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "openapi/openapi.json is stale; regenerate it with: UPDATE_OPENAPI=1 cargo test -p sspr-service --test openapi"
    );
}

#[test]
fn document_is_openapi_3_1_with_bearer_security() {
    let doc: serde_json::Value = serde_json::from_str(&generated()).expect("json");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                // A shared response is a reference to a component that carries the description.
                let response = match response["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference
                            .strip_prefix("#/components/responses/")
                            .expect("a response component");
                        &doc["components"]["responses"][name]
                    }
                    None => response,
                };
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
}

/// Whether `media` (a media type object) or the schema it names carries an example.
fn has_example(doc: &serde_json::Value, media: &serde_json::Value) -> bool {
    let carries = |v: &serde_json::Value| {
        v.get("example").is_some()
            || v["examples"].as_array().is_some_and(|e| !e.is_empty())
            || v["examples"].as_object().is_some_and(|e| !e.is_empty())
    };
    let schema = &media["schema"];
    let named = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#"))
        .and_then(|pointer| doc.pointer(pointer));
    carries(media) || carries(schema) || named.is_some_and(carries)
}

/// Generated clients and the docs page show these; a bare operation teaches nobody anything.
#[test]
fn every_operation_has_a_description_and_examples_of_its_bodies() {
    let doc: serde_json::Value = serde_json::from_str(&generated()).expect("json");
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let operation_name = format!("{} {path}", method.to_uppercase());
            if operation["description"]
                .as_str()
                .is_none_or(|d| d.trim().is_empty())
            {
                missing.push(format!("{operation_name} has no description"));
            }
            let body = &operation["requestBody"]["content"];
            for (media_type, media) in body.as_object().into_iter().flatten() {
                if !has_example(&doc, media) {
                    missing.push(format!(
                        "{operation_name} request {media_type} has no example"
                    ));
                }
            }
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if !status.starts_with('2') {
                    continue;
                }
                for (media_type, media) in response["content"].as_object().into_iter().flatten() {
                    if !has_example(&doc, media) {
                        missing.push(format!(
                            "{operation_name} {status} {media_type} has no example"
                        ));
                    }
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// A `$ref` that points nowhere leaves clients and fuzzers without the schema (utoipa does not
/// register the types that only parameters name, for instance).
#[test]
fn every_reference_resolves() {
    fn walk(value: &serde_json::Value, doc: &serde_json::Value, broken: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                    let resolves = target
                        .strip_prefix('#')
                        .and_then(|pointer| doc.pointer(pointer))
                        .is_some();
                    if !resolves {
                        broken.push(target.to_owned());
                    }
                }
                map.values().for_each(|v| walk(v, doc, broken));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, doc, broken)),
            _ => {}
        }
    }
    let doc: serde_json::Value = serde_json::from_str(&generated()).expect("json");
    let mut broken = Vec::new();
    walk(&doc, &doc, &mut broken);
    assert!(broken.is_empty(), "unresolved references: {broken:?}");
}

/// `routes!` refuses handlers without `#[utoipa::path]`, so the one way to serve an undocumented
/// route is a plain `.route(`/`.nest(` call. Only the document, its viewer and Prometheus'
/// `/metrics` (for the scraper, not part of the REST contract) may be served so.
#[test]
fn no_route_bypasses_the_openapi_document() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                for (n, line) in text.lines().enumerate() {
                    let code = line.split("//").next().unwrap_or_default();
                    let metrics = path.ends_with("telemetry/exporter.rs")
                        && code.contains(".route(\"/metrics\", get(metrics))");
                    if !metrics
                        && [".route(", ".nest(", ".route_service(", ".nest_service("]
                            .iter()
                            .any(|m| code.contains(m))
                    {
                        offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "routes outside `routes!` are missing from the OpenAPI document:\n{}",
        offenders.join("\n")
    );
}

/// Every path in the document is served by a handler (the fallback would answer `no-route`).
#[tokio::test]
async fn every_documented_operation_is_routed() {
    let mut config = Config::load(None).expect("defaults load");
    config.listen = "127.0.0.1:0".parse().expect("addr");
    let store = std::env::temp_dir().join(format!("sspr-openapi-test-{}.db", std::process::id()));
    config.store.path = store.clone();
    let service = Application::build(config).await.expect("build").spawn();
    let http = reqwest::Client::new();
    let doc: serde_json::Value = serde_json::from_str(&generated()).expect("json");
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let concrete = path.replace("{tenant}", "contoso.onmicrosoft.com");
        for method in item.as_object().expect("item").keys() {
            let url = service
                .url
                .join(concrete.trim_start_matches('/'))
                .expect("url");
            let method =
                reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let response = http
                .request(method.clone(), url)
                .send()
                .await
                .expect("served");
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            assert!(
                status != reqwest::StatusCode::METHOD_NOT_ALLOWED
                    && !body.contains("/problems/no-route"),
                "{method} {path} is documented but not routed ({status}: {body})"
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "only {checked} operations checked");
    let docs = http
        .get(service.url.join("docs/").expect("url"))
        .send()
        .await
        .expect("docs");
    assert!(
        docs.status().is_success(),
        "Swagger UI is not served at /docs/"
    );
    let served: serde_json::Value = http
        .get(service.url.join("openapi.json").expect("url"))
        .send()
        .await
        .expect("openapi.json")
        .json()
        .await
        .expect("json");
    assert_eq!(
        served, doc,
        "/openapi.json differs from the generated document"
    );
    service.stop().await.expect("stops");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", store.display()));
    }
}
