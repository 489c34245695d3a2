//! `/metrics` after real calls through the service against the emulator: every series of the
//! issue is there with its labels, and each grew by what the calls did. The recorder is one per
//! process, so the test compares a scrape after the calls with one before them.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use entra_emulator::{Fault, FaultRule, seed};
use serde_json::json;
use sspr_e2e::World;

const CONTOSO_POLICY: &str = "v1/tenants/contoso.onmicrosoft.com/sspr/policy";
const POLICY_ROUTE: &str = "/v1/tenants/{tenant}/sspr/policy";

/// One series: its name and labels.
type Series = (String, BTreeMap<String, String>);

/// The scrape, parsed: every sample line must be `name{labels} value` (or `name value`).
fn parse(text: &str) -> Vec<(Series, f64)> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line:?}"));
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let inner = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line:?}"));
                (name, labels_of(inner, line))
            }
            None => (series, BTreeMap::new()),
        };
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line:?}"
        );
        samples.push(((name.to_owned(), labels), value));
    }
    samples
}

/// `a="x",b="y"` (the exporter escapes nothing our labels contain).
fn labels_of(inner: &str, line: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = inner;
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once("=\"")
            .unwrap_or_else(|| panic!("bad label: {line:?}"));
        let (value, after) = after
            .split_once('"')
            .unwrap_or_else(|| panic!("unquoted label: {line:?}"));
        labels.insert(name.to_owned(), value.to_owned());
        rest = after.strip_prefix(',').unwrap_or(after);
    }
    labels
}

/// The sum of the samples named `name` whose labels include `labels`; `None` when there is none.
fn sum(samples: &[(Series, f64)], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<f64> = samples
        .iter()
        .filter(|((n, l), _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(_, value)| *value)
        .collect();
    (!matching.is_empty()).then(|| matching.iter().sum())
}

async fn scrape(world: &World) -> (String, Vec<(Series, f64)>) {
    let response = world
        .http
        .get(world.service.metrics_url.clone())
        .send()
        .await
        .expect("scraped");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.expect("text");
    let samples = parse(&text);
    (text, samples)
}

/// The growth of a series between two scrapes (absent before counts as 0).
fn grew(
    before: &[(Series, f64)],
    after: &[(Series, f64)],
    name: &str,
    labels: &[(&str, &str)],
) -> f64 {
    let after = sum(after, name, labels)
        .unwrap_or_else(|| panic!("no {name} {labels:?} in the scrape after the calls"));
    after - sum(before, name, labels).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_carries_every_series_and_they_grow_with_the_calls() {
    let world = World::start().await;
    let reader = world.token(&["SSPR.ReadWrite"]);
    let (_, before) = scrape(&world).await;

    // A policy read (a miss), the same again (a hit), then a change (audited in two phases).
    let first = world.get(CONTOSO_POLICY, Some(&reader)).await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
    let policy: serde_json::Value = first.json().await.expect("json");
    let days = policy["registration"]["reconfirmDays"]
        .as_u64()
        .expect("reconfirmDays");
    let changed_days = if days == 90 { 120 } else { 90 };
    assert_eq!(world.get(CONTOSO_POLICY, Some(&reader)).await.status(), 200);
    let write = world
        .http
        .patch(world.service.url.join(CONTOSO_POLICY).expect("url"))
        .bearer_auth(&reader)
        .header("if-match", &etag)
        .header("content-type", "application/merge-patch+json")
        .body(json!({"registration": {"reconfirmDays": changed_days}}).to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(write.status(), 200);
    // A registrations listing, and the fleet summary of every tenant.
    let listing = world
        .get(
            "v1/tenants/contoso.onmicrosoft.com/registrations",
            Some(&reader),
        )
        .await;
    assert_eq!(listing.status(), 200);
    let fleet = world.fleet_ndjson("all", &reader).await;
    let fleet_tenants = fleet.lines().count() as f64;
    assert!(fleet_tenants >= 2.0, "{fleet}");
    // Graph throttles the next policy read once; the service waits its Retry-After and retries.
    world
        .emulator
        .set_faults(vec![
            FaultRule {
                path: None,
                path_prefix: Some("/v1.0/policies/".into()),
                ..FaultRule::new(
                    "GET",
                    "/",
                    Fault::TooManyRequests {
                        retry_after: Some(1),
                    },
                )
            }
            .times(1),
        ])
        .expect("faults");
    let throttled = world
        .http
        .get(world.service.url.join(CONTOSO_POLICY).expect("url"))
        .bearer_auth(&reader)
        .header("cache-control", "no-cache")
        .send()
        .await
        .expect("answers");
    assert_eq!(throttled.status(), 200);
    // A path no route serves.
    assert_eq!(world.get("v1/nowhere", None).await.status(), 404);

    let (text, after) = scrape(&world).await;
    let grew = |name: &str, labels: &[(&str, &str)]| grew(&before, &after, name, labels);

    let policy_ok = [
        ("method", "GET"),
        ("route", POLICY_ROUTE),
        ("status", "200"),
    ];
    assert_eq!(grew("sspr_http_requests_total", &policy_ok), 3.0);
    assert_eq!(
        grew(
            "sspr_http_requests_total",
            &[
                ("method", "PATCH"),
                ("route", POLICY_ROUTE),
                ("status", "200")
            ]
        ),
        1.0
    );
    // At least: the other test of this process asks the API for /metrics meanwhile.
    assert!(
        grew(
            "sspr_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ) >= 1.0
    );
    assert!(
        grew(
            "sspr_http_requests_total",
            &[("route", "/v1/tenants/{tenant}/registrations")]
        ) >= 1.0
    );
    assert!(
        grew(
            "sspr_http_requests_total",
            &[("route", "/v1/registrations/summary")]
        ) >= 1.0
    );
    assert_eq!(
        grew(
            "sspr_http_request_duration_seconds_count",
            &[("method", "GET"), ("route", POLICY_ROUTE)]
        ),
        3.0
    );
    assert!(
        sum(
            &after,
            "sspr_http_request_duration_seconds_bucket",
            &[("route", POLICY_ROUTE), ("le", "+Inf")]
        )
        .is_some(),
        "the duration is a histogram with buckets:\n{text}"
    );

    // Graph: the reads by bucket and status, the 429 and the wait it caused.
    assert!(
        grew(
            "sspr_graph_requests_total",
            &[
                ("bucket", "directory"),
                ("method", "GET"),
                ("status", "200")
            ]
        ) >= 2.0
    );
    assert!(
        grew(
            "sspr_graph_requests_total",
            &[("bucket", "reports"), ("method", "GET"), ("status", "200")]
        ) >= 1.0
    );
    assert_eq!(
        grew(
            "sspr_graph_requests_total",
            &[("bucket", "directory"), ("status", "429")]
        ),
        1.0
    );
    assert_eq!(
        grew("sspr_graph_throttled_total", &[("bucket", "directory")]),
        1.0
    );
    assert_eq!(
        grew(
            "sspr_graph_throttle_wait_seconds_count",
            &[("bucket", "directory"), ("why", "429 Retry-After")]
        ),
        1.0
    );
    assert!(
        grew(
            "sspr_graph_throttle_wait_seconds_sum",
            &[("bucket", "directory"), ("why", "429 Retry-After")]
        ) >= 0.9,
        "the wait is Graph's Retry-After (1 s)"
    );
    assert!(
        grew(
            "sspr_graph_request_duration_seconds_count",
            &[("bucket", "directory")]
        ) >= 3.0
    );
    for bucket in ["reports", "conditionalAccess", "directory"] {
        let depth = sum(&after, "sspr_graph_queue_depth", &[("bucket", bucket)])
            .unwrap_or_else(|| panic!("no queue depth for {bucket}:\n{text}"));
        assert_eq!(depth, 0.0, "nothing waits once the calls are answered");
    }
    assert!(sum(&after, "sspr_graph_queue_full_total", &[]).is_some());

    // Caches, the audit trail, the fleet job, the build.
    assert_eq!(
        grew(
            "sspr_cache_requests_total",
            &[("cache", "policy"), ("result", "hit")]
        ),
        1.0
    );
    assert!(
        grew(
            "sspr_cache_requests_total",
            &[("cache", "policy"), ("result", "miss")]
        ) >= 2.0,
        "the first read and the no-cache one"
    );
    assert!(
        grew(
            "sspr_cache_requests_total",
            &[("cache", "registrationSummary"), ("result", "miss")]
        ) >= 1.0
    );
    for phase in ["append", "complete"] {
        assert_eq!(
            grew(
                "sspr_audit_writes_total",
                &[("phase", phase), ("result", "ok")]
            ),
            1.0,
            "{phase}"
        );
    }
    let fleet_grew: f64 = ["counted", "skipped", "failed"]
        .iter()
        .map(|result| {
            sum(&after, "sspr_fleet_tenants_total", &[("result", result)]).unwrap_or(0.0)
                - sum(&before, "sspr_fleet_tenants_total", &[("result", result)]).unwrap_or(0.0)
        })
        .sum();
    assert_eq!(fleet_grew, fleet_tenants, "one per line of the summary");
    assert!(grew("sspr_fleet_tenants_total", &[("result", "counted")]) >= 1.0);
    assert_eq!(
        sum(
            &after,
            "sspr_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );

    // Labels name routes and buckets, never a tenant.
    for tenant in [seed::CONTOSO_ID, seed::FABRIKAM_ID, "contoso", "fabrikam"] {
        assert!(!text.contains(tenant), "{tenant} in the scrape:\n{text}");
    }
    // Every series has its help text.
    for name in [
        "sspr_http_requests_total",
        "sspr_http_request_duration_seconds",
        "sspr_graph_requests_total",
        "sspr_graph_queue_depth",
        "sspr_audit_writes_total",
    ] {
        assert!(text.contains(&format!("# HELP {name} ")), "{name}:\n{text}");
    }
}

#[tokio::test]
async fn with_metrics_listen_set_the_scrape_is_served_there_only() {
    let world = World::start_with(|config| {
        config.metrics.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    })
    .await;
    assert_ne!(
        world.service.metrics_url.port(),
        world.service.url.port(),
        "a port of its own"
    );
    let (_, samples) = scrape(&world).await;
    assert!(sum(&samples, "sspr_build_info", &[]).is_some());
    let on_the_api = world.get("metrics", None).await;
    assert_eq!(on_the_api.status(), 404, "not on the API's listener");
    let only_metrics = world
        .http
        .get(world.service.metrics_url.join("/healthz").expect("url"))
        .send()
        .await
        .expect("answers");
    assert_eq!(
        only_metrics.status(),
        404,
        "the API is not on the metrics listener"
    );
}
