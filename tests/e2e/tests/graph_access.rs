//! The one Graph access layer against the emulator: requests queue within Graph's throttling
//! limits instead of failing, transient failures are retried (only when repeating is safe), a
//! bounded number of times, and a 429 never reaches the caller as a 429.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use entra_emulator::{CallKind, Emulator, Fault, FaultRule, ThrottleConfig, seed};
use serde_json::{Value, json};
use sspr_e2e::World;
use sspr_service::config::{GraphLimits, Limit};
use sspr_service::directory::DirectoryError;
use sspr_service::directory::graph::{Graph, Page};
use sspr_service::directory::tenants::{ManagedTenant, TenantRegistry};

const REPORT: &str = "reports/authenticationMethods/userRegistrationDetails";
const REPORT_PATH: &str = "/v1.0/reports/authenticationMethods/userRegistrationDetails";
const CA_POLICIES: &str = "identity/conditionalAccess/policies";
const LOCATIONS: &str = "identity/conditionalAccess/namedLocations";
const LOCATIONS_PATH: &str = "/v1.0/identity/conditionalAccess/namedLocations";
const ORGANIZATION_PATH: &str = "/v1.0/organization";

/// Limits that keep the tests quick: the emulator's reports window shrunk to 1 s (set on the
/// emulator too), short back-offs.
fn quick_limits() -> GraphLimits {
    GraphLimits {
        reports_per_tenant: Limit::new(5, 1_000),
        backoff_base_ms: 50,
        backoff_max_ms: 400,
        ..GraphLimits::default()
    }
}

fn quick_throttling() -> ThrottleConfig {
    ThrottleConfig {
        reports_window_ms: 1_000,
        ..ThrottleConfig::default()
    }
}

/// The emulator and the service's own Graph adapter and tenants, built from the demo
/// configuration as the application builds them, keeping to `limits`.
struct Direct {
    world: World,
    registry: TenantRegistry,
    graph: Graph,
}

impl Direct {
    async fn start(limits: GraphLimits, throttling: ThrottleConfig) -> Direct {
        let world = World::start_with(|config| config.graph.limits = limits.clone()).await;
        world.emulator.set_throttling(throttling);
        let config =
            sspr_service::demo::config_for(&world.emulator, SocketAddr::from(([127, 0, 0, 1], 0)));
        let http = sspr_service::app::http_client(&config.graph).expect("http client");
        let registry = TenantRegistry::from_config(&config, &http).expect("tenants build");
        let graph = Graph::new(http, config.graph.base_url.clone()).with_limits(&limits);
        Direct {
            world,
            registry,
            graph,
        }
    }

    fn emulator(&self) -> &Emulator {
        &self.world.emulator
    }

    fn tenant(&self, key: &str) -> std::sync::Arc<ManagedTenant> {
        self.registry.find(key).expect("configured tenant")
    }
}

/// Every row id of the registration report, following `@odata.nextLink` page by page.
async fn report_ids(
    graph: &Graph,
    tenant: &ManagedTenant,
    top: usize,
) -> Result<Vec<String>, DirectoryError> {
    let mut ids = Vec::new();
    let mut next = Some(format!("{REPORT}?$top={top}"));
    while let Some(link) = next.take() {
        let page: Page<Value> = graph.get_page(tenant, &link).await?;
        ids.extend(
            page.value
                .iter()
                .map(|row| row["id"].as_str().expect("row id").to_owned()),
        );
        next = page.next_link;
    }
    Ok(ids)
}

/// Statuses of the Graph calls the emulator logged for `method` on `path` (query excluded).
fn statuses(emulator: &Emulator, method: &str, path: &str) -> Vec<u16> {
    emulator
        .calls()
        .into_iter()
        .filter(|c| {
            c.kind == CallKind::Graph && c.method == method && c.path.eq_ignore_ascii_case(path)
        })
        .map(|c| c.status)
        .collect()
}

fn throttled_graph_calls(emulator: &Emulator) -> usize {
    emulator
        .calls()
        .iter()
        .filter(|c| c.kind == CallKind::Graph && c.status == 429)
        .count()
}

/// Reads the whole report while the first two tries of a page fail with `fault`: the caller
/// gets every row and no error, and the log shows the two failures (as `status`) then success.
async fn a_report_read_survives(fault: Fault, status: u16) {
    let direct = Direct::start(quick_limits(), quick_throttling()).await;
    let contoso = &direct.tenant(seed::CONTOSO_DOMAIN);
    let expected = report_ids(&direct.graph, contoso, 5).await.expect("read");
    assert!(expected.len() > 5, "the report spans pages");
    direct.emulator().clear_calls();
    direct
        .emulator()
        .set_faults(vec![
            FaultRule::new("GET", REPORT_PATH, fault.clone()).times(2),
        ])
        .expect("faults");

    let ids = report_ids(&direct.graph, contoso, 5)
        .await
        .unwrap_or_else(|e| panic!("{fault:?}: {e}"));

    assert_eq!(ids, expected, "{fault:?}: complete and in order");
    let log = statuses(direct.emulator(), "GET", REPORT_PATH);
    let pages = expected.len().div_ceil(5);
    assert_eq!(log.len(), pages + 2, "{fault:?}: {log:?}");
    assert_eq!(&log[..2], [status, status], "{fault:?}: {log:?}");
    assert!(log[2..].iter().all(|s| *s == 200), "{fault:?}: {log:?}");
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_the_report_arrives_complete() {
    a_report_read_survives(
        Fault::TooManyRequests {
            retry_after: Some(1),
        },
        429,
    )
    .await;
}

#[tokio::test]
async fn a_429_without_retry_after_is_backed_off_and_the_report_arrives_complete() {
    a_report_read_survives(Fault::TooManyRequests { retry_after: None }, 429).await;
}

#[tokio::test]
async fn a_503_with_retry_after_is_waited_out_and_the_report_arrives_complete() {
    a_report_read_survives(
        Fault::ServiceUnavailable {
            retry_after: Some(1),
        },
        503,
    )
    .await;
}

#[tokio::test]
async fn a_503_without_retry_after_is_backed_off_and_the_report_arrives_complete() {
    a_report_read_survives(Fault::ServiceUnavailable { retry_after: None }, 503).await;
}

#[tokio::test]
async fn a_504_is_retried_and_the_report_arrives_complete() {
    a_report_read_survives(Fault::GatewayTimeout, 504).await;
}

#[tokio::test]
async fn a_reset_connection_is_retried_and_the_report_arrives_complete() {
    // The emulator logs the reset as 502; the client never receives a response.
    a_report_read_survives(Fault::ConnectionReset, 502).await;
}

fn named_location(name: &str) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.ipNamedLocation",
        "displayName": name,
        "isTrusted": false,
        "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"}]
    })
}

async fn location_names(direct: &Direct, tenant: &ManagedTenant) -> Vec<String> {
    let page: Page<Value> = direct
        .graph
        .get_page(tenant, LOCATIONS)
        .await
        .expect("locations");
    page.value
        .iter()
        .filter_map(|l| l["displayName"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_post_that_may_have_executed_is_never_repeated() {
    let direct = Direct::start(quick_limits(), quick_throttling()).await;
    let contoso = &direct.tenant(seed::CONTOSO_DOMAIN);
    for fault in [
        Fault::ServiceUnavailable {
            retry_after: Some(1),
        },
        Fault::GatewayTimeout,
        Fault::ConnectionReset,
    ] {
        direct.emulator().clear_calls();
        direct
            .emulator()
            .set_faults(vec![
                FaultRule::new("POST", LOCATIONS_PATH, fault.clone()).times(1),
            ])
            .expect("faults");

        let error = direct
            .graph
            .post(contoso, LOCATIONS, &named_location("Branch office"))
            .await
            .expect_err("the failure reaches the caller");

        assert!(
            matches!(
                error,
                DirectoryError::Upstream { status: 503, .. }
                    | DirectoryError::Upstream { status: 504, .. }
                    | DirectoryError::Unreachable { .. }
            ),
            "{fault:?}: {error:?}"
        );
        assert_eq!(
            statuses(direct.emulator(), "POST", LOCATIONS_PATH).len(),
            1,
            "{fault:?}: exactly one POST"
        );
    }
    assert!(
        !location_names(&direct, contoso)
            .await
            .contains(&"Branch office".to_owned())
    );
}

#[tokio::test]
async fn a_throttled_post_is_repeated_and_creates_exactly_one_object_which_a_retried_delete_removes()
 {
    let direct = Direct::start(quick_limits(), quick_throttling()).await;
    let contoso = &direct.tenant(seed::CONTOSO_DOMAIN);
    direct
        .emulator()
        .set_faults(vec![
            FaultRule::new(
                "POST",
                LOCATIONS_PATH,
                Fault::TooManyRequests {
                    retry_after: Some(1),
                },
            )
            .times(1),
            FaultRule::new(
                "DELETE",
                &format!("{LOCATIONS_PATH}/{{id}}"),
                Fault::GatewayTimeout,
            )
            .times(1),
        ])
        .expect("faults");

    let (created, request_id) = direct
        .graph
        .post(contoso, LOCATIONS, &named_location("Branch office"))
        .await
        .expect("created after the 429");

    assert_eq!(created["displayName"], "Branch office");
    assert!(request_id.is_some_and(|id| id.len() == 36));
    assert_eq!(
        statuses(direct.emulator(), "POST", LOCATIONS_PATH),
        [429, 201]
    );
    let names = location_names(&direct, contoso).await;
    assert_eq!(
        names.iter().filter(|n| *n == "Branch office").count(),
        1,
        "{names:?}"
    );

    let id = created["id"].as_str().expect("id");
    direct
        .graph
        .delete(contoso, &format!("{LOCATIONS}/{id}"))
        .await
        .expect("deleted after the 504");
    assert_eq!(
        statuses(
            direct.emulator(),
            "DELETE",
            &format!("{LOCATIONS_PATH}/{id}")
        ),
        [504, 204]
    );
    assert!(
        !location_names(&direct, contoso)
            .await
            .contains(&"Branch office".to_owned())
    );
}

#[tokio::test]
async fn concurrent_report_reads_across_tenants_queue_within_the_budgets_and_graph_never_throttles()
{
    // Graph's reports limits shrunk alike on both sides: 2 per tenant and 3 for the app across
    // tenants, per second.
    let limits = GraphLimits {
        reports_per_tenant: Limit::new(2, 1_000),
        reports_per_app: Limit::new(3, 1_000),
        ..quick_limits()
    };
    let throttling = ThrottleConfig {
        reports_per_app_per_tenant: 2,
        reports_per_app: 3,
        reports_window_ms: 1_000,
        ..ThrottleConfig::default()
    };
    let direct = Direct::start(limits, throttling).await;
    // Reports need Entra ID P1: give Fabrikam the licence Contoso has.
    direct
        .emulator()
        .with_tenant(seed::FABRIKAM_ID, |t| t.set_premium(true))
        .expect("fabrikam");
    let contoso = &direct.tenant(seed::CONTOSO_DOMAIN);
    let fabrikam = &direct.tenant(seed::FABRIKAM_DOMAIN);

    // Two paged reads per tenant at once, more requests than a window admits.
    let (a, b, c, d) = tokio::join!(
        report_ids(&direct.graph, contoso, 3),
        report_ids(&direct.graph, contoso, 3),
        report_ids(&direct.graph, fabrikam, 3),
        report_ids(&direct.graph, fabrikam, 3),
    );
    let (a, b, c, d) = (
        a.expect("contoso"),
        b.expect("contoso"),
        c.expect("fabrikam"),
        d.expect("fabrikam"),
    );

    assert_eq!(throttled_graph_calls(direct.emulator()), 0);
    let requests = statuses(direct.emulator(), "GET", REPORT_PATH);
    assert!(
        requests.len() > 6,
        "{requests:?}: more than two windows' worth"
    );
    assert!(requests.iter().all(|s| *s == 200), "{requests:?}");
    // Complete: the same rows for both reads of a tenant, and every enabled user once.
    assert_eq!(a, b);
    assert_eq!(c, d);
    for (tenant, ids) in [(seed::CONTOSO_ID, &a), (seed::FABRIKAM_ID, &c)] {
        let enabled: BTreeSet<String> = direct
            .emulator()
            .with_tenant(tenant, |t| {
                t.users
                    .iter()
                    .filter(|u| u.account_enabled)
                    .map(|u| u.id.clone())
                    .collect()
            })
            .expect("tenant");
        assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), enabled);
        assert_eq!(ids.len(), enabled.len(), "no row twice");
    }
}

#[tokio::test]
async fn concurrent_conditional_access_reads_go_one_per_second_and_graph_never_throttles() {
    // Graph's own CA limit (1 / s per tenant, 429 without Retry-After), on both sides.
    let direct = Direct::start(quick_limits(), ThrottleConfig::default()).await;
    let contoso = &direct.tenant(seed::CONTOSO_DOMAIN);
    let read = || direct.graph.get_page::<Value>(contoso, CA_POLICIES);

    let pages = tokio::join!(read(), read(), read(), read(), read());

    for page in [pages.0, pages.1, pages.2, pages.3, pages.4] {
        assert!(!page.expect("policies").value.is_empty());
    }
    let log = statuses(
        direct.emulator(),
        "GET",
        "/v1.0/identity/conditionalAccess/policies",
    );
    assert_eq!(log, [200; 5]);
    assert_eq!(throttled_graph_calls(direct.emulator()), 0);
}

#[tokio::test]
async fn retries_are_bounded_and_a_permanent_503_reaches_the_caller() {
    let limits = GraphLimits {
        max_attempts: 3,
        ..quick_limits()
    };
    let direct = Direct::start(limits, quick_throttling()).await;
    let contoso = &direct.tenant(seed::CONTOSO_DOMAIN);
    direct
        .emulator()
        .set_faults(vec![FaultRule::new(
            "GET",
            ORGANIZATION_PATH,
            Fault::ServiceUnavailable { retry_after: None },
        )])
        .expect("faults");

    let error = direct
        .graph
        .get_page::<Value>(contoso, "organization")
        .await
        .err()
        .expect("still unavailable");

    assert!(
        matches!(error, DirectoryError::Upstream { status: 503, .. }),
        "{error:?}"
    );
    assert_eq!(
        statuses(direct.emulator(), "GET", ORGANIZATION_PATH),
        [503; 3]
    );
}

#[tokio::test]
async fn a_tenant_graph_keeps_throttling_is_an_error_saying_when_to_retry_never_a_429() {
    let limits = GraphLimits {
        max_attempts: 2,
        max_retry_after_secs: 5,
        ..quick_limits()
    };
    let direct = Direct::start(limits, quick_throttling()).await;
    let contoso = &direct.tenant(seed::CONTOSO_DOMAIN);

    // Throttled on every attempt: waited out once, then given up.
    direct
        .emulator()
        .set_faults(vec![FaultRule::new(
            "GET",
            ORGANIZATION_PATH,
            Fault::TooManyRequests {
                retry_after: Some(1),
            },
        )])
        .expect("faults");
    let error = direct
        .graph
        .get_page::<Value>(contoso, "organization")
        .await
        .err()
        .expect("throttled");
    match &error {
        DirectoryError::Throttled {
            tenant_id,
            retry_after,
            ..
        } => {
            assert_eq!(tenant_id, seed::CONTOSO_ID);
            assert_eq!(*retry_after, Duration::from_secs(1));
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    assert!(error.to_string().contains("retry after 1 s"), "{error}");
    assert_eq!(
        statuses(direct.emulator(), "GET", ORGANIZATION_PATH),
        [429; 2]
    );

    // A Retry-After over the cap is not waited out at all.
    direct.emulator().clear_calls();
    direct
        .emulator()
        .set_faults(vec![FaultRule::new(
            "GET",
            ORGANIZATION_PATH,
            Fault::TooManyRequests {
                retry_after: Some(300),
            },
        )])
        .expect("faults");
    let error = direct
        .graph
        .get_page::<Value>(contoso, "organization")
        .await
        .err()
        .expect("throttled");
    assert!(
        matches!(error, DirectoryError::Throttled { retry_after, .. } if retry_after == Duration::from_secs(300)),
        "{error:?}"
    );
    assert_eq!(statuses(direct.emulator(), "GET", ORGANIZATION_PATH), [429]);
}

#[tokio::test]
async fn the_policy_endpoint_answers_in_full_through_throttling_and_a_reset_connection() {
    let world = World::start_with(|config| config.graph.limits = quick_limits()).await;
    world.emulator.set_throttling(quick_throttling());
    // Fabrikam has no portal connector: with Entra ID P1 its policy pages the report.
    world
        .emulator
        .with_tenant(seed::FABRIKAM_ID, |t| t.set_premium(true))
        .expect("fabrikam");
    let token = world.token(&["SSPR.Read"]);
    world
        .emulator
        .set_faults(vec![
            FaultRule::new(
                "GET",
                REPORT_PATH,
                Fault::TooManyRequests {
                    retry_after: Some(1),
                },
            )
            .times(1),
            FaultRule::new(
                "GET",
                "/v1.0/policies/authorizationPolicy",
                Fault::ConnectionReset,
            )
            .times(1),
        ])
        .expect("faults");

    let response = world
        .get(
            "v1/tenants/fabrikam.onmicrosoft.com/sspr/policy",
            Some(&token),
        )
        .await;

    assert_eq!(response.status(), 200);
    let calls = world.emulator.calls();
    let failed: Vec<(String, u16)> = calls
        .iter()
        .filter(|c| c.kind == CallKind::Graph && c.status != 200)
        .map(|c| (c.path.clone(), c.status))
        .collect();
    assert_eq!(
        failed.len(),
        2,
        "exactly the two injected failures: {failed:?}"
    );
    for path in [REPORT_PATH, "/v1.0/policies/authorizationPolicy"] {
        assert!(
            statuses(&world.emulator, "GET", path).ends_with(&[200]),
            "{path} retried to success"
        );
    }
}

#[tokio::test]
async fn a_tenant_graph_keeps_throttling_is_a_503_problem_with_retry_after() {
    let world = World::start_with(|config| {
        config.graph.limits = GraphLimits {
            max_attempts: 2,
            ..quick_limits()
        }
    })
    .await;
    let token = world.token(&["SSPR.Read"]);
    world
        .emulator
        .set_faults(vec![FaultRule::new(
            "GET",
            "/v1.0/policies/authorizationPolicy",
            Fault::TooManyRequests {
                retry_after: Some(1),
            },
        )])
        .expect("faults");

    let response = world
        .get(
            "v1/tenants/contoso.onmicrosoft.com/sspr/policy",
            Some(&token),
        )
        .await;

    assert_eq!(response.status(), 503);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let problem: Value = response.json().await.expect("problem json");
    assert_eq!(problem["type"], "/problems/upstream-throttled");
    assert_eq!(problem["upstreamStatus"], 429);
    let detail = problem["detail"].as_str().expect("detail");
    assert!(
        detail.contains(seed::CONTOSO_ID) && detail.contains("retry after 1 s"),
        "{detail}"
    );
}
