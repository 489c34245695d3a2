//! `GET /v1/tenants/{tenant}/registrations` and its `/summary`, against the emulator over HTTPS
//! with real tokens: every filter, pushed down to Graph or applied in the service, gives the users
//! of a brute-force pass over the tenant's truth; summaries equal a brute-force count; streams
//! start before Graph has served the last page; a tenant without Entra ID P1 gets
//! `licenseRequired`.

#[path = "support/registrations.rs"]
mod support;

use std::time::Duration;

use entra_emulator::{Fault, FaultRule, ThrottleConfig, seed};
use serde_json::Value;
use sspr_e2e::{GeneratedTenant, World};
use sspr_service::config::Limit;
use support::{Truth, counts_of, expected_counts, truth};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const REPORT_PATH: &str = "/v1.0/reports/authenticationMethods/userRegistrationDetails";
const REPORT_ROUTE: &str = "v1.0/reports/authenticationMethods/userRegistrationDetails";
const SKUS_ROUTE: &str = "v1.0/subscribedSkus";

/// A world whose Graph never throttles (emulator and service budgets off): these tests make many
/// report reads on one tenant, and throttling has its own tests.
async fn world(
    tenants: usize,
    users: usize,
    adjust: impl FnOnce(&mut sspr_service::Config),
) -> (World, Vec<GeneratedTenant>) {
    let (world, generated) = World::start_generated(tenants, users, |config| {
        config.graph.limits.enabled = false;
        adjust(config);
    })
    .await;
    world.emulator.set_throttling(ThrottleConfig {
        enabled: false,
        ..ThrottleConfig::default()
    });
    // Every generated tenant has P1, and SSPR enabled for its "SSPR Users" group only, so that
    // each filter value finds some users and not others.
    for tenant in &generated {
        world
            .emulator
            .with_tenant(&tenant.id, |t| {
                t.set_premium(true);
                let group = t
                    .groups
                    .iter()
                    .find(|g| g.display_name == "SSPR Users")
                    .expect("the generator's SSPR group")
                    .id
                    .clone();
                t.password_reset_policies["enablementType"] = 1.into();
                t.password_reset_policies["passwordResetEnabledGroupIds"] =
                    serde_json::json!([group]);
            })
            .expect("tenant");
    }
    (world, generated)
}

fn reader(world: &World) -> String {
    world.token(&["SSPR.Read"])
}

async fn get(
    world: &World,
    path: &str,
    accept: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = world
        .http
        .get(world.service.url.join(path).expect("path"))
        .bearer_auth(reader(world))
        .header("accept", accept);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("service answers")
}

fn calls(world: &World, route: &str, tenant_id: &str) -> usize {
    world
        .emulator
        .calls()
        .iter()
        .filter(|c| c.route.as_deref() == Some(route) && c.tenant_id.as_deref() == Some(tenant_id))
        .count()
}

async fn ndjson(world: &World, path: &str) -> Vec<Value> {
    let response = get(world, path, "application/x-ndjson", &[]).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/x-ndjson",
        "{path}"
    );
    let text = response.text().await.expect("body");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// Every JSON page, following `nextCursor`.
async fn json_pages(world: &World, path: &str, limit: usize) -> (Vec<Value>, usize) {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut records = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{path}{separator}limit={limit}");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let response = get(world, &url, "application/json", &[]).await;
        assert_eq!(response.status(), 200, "{url}");
        let page: Value = response.json().await.expect("JSON");
        let value = page["value"].as_array().expect("value");
        assert!(value.len() <= limit);
        assert!(
            !value.is_empty() || pages == 0,
            "no empty page after the first"
        );
        records.extend(value.iter().cloned());
        pages += 1;
        match page["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (records, pages),
        }
    }
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect()
}

fn expected_ids(rows: &[Truth], keep: &dyn Fn(&Truth) -> bool) -> Vec<String> {
    rows.iter()
        .filter(|r| keep(r))
        .map(|r| r.id.clone())
        .collect()
}

fn has_any(r: &Truth, methods: &[&str]) -> bool {
    r.methods
        .iter()
        .any(|m| methods.iter().any(|w| w.eq_ignore_ascii_case(m)))
}

/// A filter as the caller writes it, and what it means, written out by brute force.
type Case = (String, Box<dyn Fn(&Truth) -> bool>);

fn cases(upn_prefix: &str) -> Vec<Case> {
    let prefix = upn_prefix.to_ascii_lowercase();
    let starts = move |r: &Truth| r.upn.to_ascii_lowercase().starts_with(&prefix);
    let starts2 = starts.clone();
    let c = |q: &str, f: Box<dyn Fn(&Truth) -> bool>| (q.to_owned(), f);
    vec![
        c("sspr=registered", Box::new(|r| r.sspr_registered)),
        c("sspr=notRegistered", Box::new(|r| !r.sspr_registered)),
        c("sspr=enabled", Box::new(|r| r.sspr_enabled)),
        c("sspr=notEnabled", Box::new(|r| !r.sspr_enabled)),
        c("sspr=capable", Box::new(|r| r.sspr_capable)),
        c("sspr=notCapable", Box::new(|r| !r.sspr_capable)),
        c(
            "sspr=enabledNotRegistered",
            Box::new(|r| r.sspr_enabled && !r.sspr_registered),
        ),
        c(
            "sspr=registeredNotEnabled",
            Box::new(|r| r.sspr_registered && !r.sspr_enabled),
        ),
        c("mfa=registered", Box::new(|r| r.mfa_registered)),
        c("mfa=notRegistered", Box::new(|r| !r.mfa_registered)),
        c("mfa=capable", Box::new(|r| r.mfa_capable)),
        c("mfa=notCapable", Box::new(|r| !r.mfa_capable)),
        c("passwordless=capable", Box::new(|r| r.passwordless_capable)),
        c(
            "passwordless=notCapable",
            Box::new(|r| !r.passwordless_capable),
        ),
        c("admin=true", Box::new(|r| r.is_admin)),
        c("admin=false", Box::new(|r| !r.is_admin)),
        c("userType=member", Box::new(|r| r.user_type == "member")),
        c("userType=guest", Box::new(|r| r.user_type == "guest")),
        c("methods=email", Box::new(|r| has_any(r, &["email"]))),
        c(
            "methods=email%2CmobilePhone",
            Box::new(|r| has_any(r, &["email", "mobilePhone"])),
        ),
        c(
            "methods=fido2SecurityKey,windowsHelloForBusiness",
            Box::new(|r| has_any(r, &["fido2SecurityKey", "windowsHelloForBusiness"])),
        ),
        (
            format!("upnPrefix={}", upn_prefix.to_ascii_uppercase()),
            Box::new(starts),
        ),
        c(
            "sspr=enabledNotRegistered&userType=member&admin=false",
            Box::new(|r| {
                r.sspr_enabled && !r.sspr_registered && r.user_type == "member" && !r.is_admin
            }),
        ),
        c(
            "mfa=notCapable&admin=true",
            Box::new(|r| !r.mfa_capable && r.is_admin),
        ),
        c(
            "methods=email,mobilePhone&sspr=notCapable&mfa=registered",
            Box::new(|r| {
                has_any(r, &["email", "mobilePhone"]) && !r.sspr_capable && r.mfa_registered
            }),
        ),
        (
            format!(
                "passwordless=notCapable&methods=mobilePhone&userType=member&upnPrefix={}",
                upn_prefix
            ),
            Box::new(move |r| {
                !r.passwordless_capable
                    && has_any(r, &["mobilePhone"])
                    && r.user_type == "member"
                    && starts2(r)
            }),
        ),
    ]
}

#[tokio::test]
async fn every_filter_pushed_down_or_not_gives_the_users_of_a_brute_force_pass() {
    let (world, generated) = world(1, 400, |_| {}).await;
    let tenant = &generated[0];
    let rows = truth(&world, &tenant.id).await;
    // A prefix some users have: the first two letters of a UPN in the middle of the list.
    let prefix: String = rows[rows.len() / 2].upn.chars().take(2).collect();
    let base = format!("v1/tenants/{}/registrations", tenant.domain);

    let all = ndjson(&world, &base).await;
    assert_eq!(ids(&all), expected_ids(&rows, &|_| true));

    for (query, keep) in cases(&prefix) {
        let expected = expected_ids(&rows, keep.as_ref());
        assert!(
            !expected.is_empty() && expected.len() < rows.len(),
            "{query}: the tenant must tell users apart ({} of {})",
            expected.len(),
            rows.len()
        );
        for pushdown in ["true", "false"] {
            let path = format!("{base}?{query}&pushdown={pushdown}");
            assert_eq!(ids(&ndjson(&world, &path).await), expected, "{path}");
        }
    }
}

#[tokio::test]
async fn json_pages_csv_and_ndjson_list_the_same_users_in_graphs_order() {
    let (world, generated) = world(1, 400, |_| {}).await;
    let tenant = &generated[0];
    let rows = truth(&world, &tenant.id).await;
    let base = format!("v1/tenants/{}/registrations", tenant.domain);
    for (query, keep) in cases("a").into_iter().filter(|(q, _)| {
        [
            "sspr=enabledNotRegistered",
            "methods=email%2CmobilePhone",
            "admin=false",
        ]
        .contains(&q.as_str())
    }) {
        let expected = expected_ids(&rows, keep.as_ref());
        let path = format!("{base}?{query}");
        let (records, pages) = json_pages(&world, &path, 37).await;
        assert_eq!(ids(&records), expected, "{path}");
        assert_eq!(
            pages,
            expected.len().div_ceil(37),
            "{path}: no empty last page"
        );

        let response = get(&world, &format!("{path}&fields=id"), "text/csv", &[]).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        let text = response.text().await.expect("body");
        let mut csv = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(csv.headers().expect("header"), vec!["id"]);
        let csv_ids: Vec<String> = csv
            .records()
            .map(|r| r.expect("row")[0].to_owned())
            .collect();
        assert_eq!(csv_ids, expected, "{path} as CSV");
    }
}

#[tokio::test]
async fn records_and_csv_rows_carry_the_truth_in_the_chosen_fields() {
    let (world, generated) = world(1, 120, |_| {}).await;
    let tenant = &generated[0];
    let rows = truth(&world, &tenant.id).await;
    let base = format!("v1/tenants/{}/registrations", tenant.domain);

    let all = ndjson(&world, &base).await;
    let names = [
        "id",
        "userPrincipalName",
        "userDisplayName",
        "userType",
        "isAdmin",
        "isSsprRegistered",
        "isSsprEnabled",
        "isSsprCapable",
        "isMfaRegistered",
        "isMfaCapable",
        "isPasswordlessCapable",
        "methodsRegistered",
        "lastUpdatedDateTime",
    ];
    for (record, row) in all.iter().zip(&rows) {
        let keys: Vec<&str> = record
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut sorted = names.to_vec();
        sorted.sort();
        assert_eq!(keys, sorted, "every field of the contract");
        assert_eq!(record["userPrincipalName"], row.upn.as_str());
        assert_eq!(record["userType"], row.user_type.as_str());
        assert_eq!(record["isAdmin"], row.is_admin);
        assert_eq!(record["isSsprRegistered"], row.sspr_registered);
        assert_eq!(record["isSsprEnabled"], row.sspr_enabled);
        assert_eq!(record["isSsprCapable"], row.sspr_capable);
        assert_eq!(record["isMfaRegistered"], row.mfa_registered);
        assert_eq!(record["isMfaCapable"], row.mfa_capable);
        assert_eq!(record["isPasswordlessCapable"], row.passwordless_capable);
        assert_eq!(record["methodsRegistered"], serde_json::json!(row.methods));
        assert!(record["lastUpdatedDateTime"].is_string());
    }

    // CSV: the header is every field in contract order; chosen fields come in the caller's order.
    let response = get(&world, &base, "text/csv", &[]).await;
    let text = response.text().await.expect("body");
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(csv.headers().expect("header"), names.to_vec());
    assert_eq!(csv.records().count(), rows.len());

    let response = get(
        &world,
        &format!("{base}?fields=methodsRegistered,isAdmin,userPrincipalName"),
        "text/csv",
        &[],
    )
    .await;
    let text = response.text().await.expect("body");
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        csv.headers().expect("header"),
        vec!["methodsRegistered", "isAdmin", "userPrincipalName"]
    );
    let cells: Vec<Vec<String>> = csv
        .records()
        .map(|r| r.expect("row").iter().map(str::to_owned).collect())
        .collect();
    let expected: Vec<Vec<String>> = rows
        .iter()
        .map(|r| vec![r.methods.join(";"), r.is_admin.to_string(), r.upn.clone()])
        .collect();
    assert_eq!(cells, expected);
    assert!(
        cells.iter().any(|c| c[0].contains(';')),
        "some user has several methods"
    );

    // JSON with chosen fields: only those members.
    let page: Value = get(
        &world,
        &format!("{base}?fields=id,isAdmin&limit=3"),
        "application/json",
        &[],
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(page["tenant"], tenant.id.as_str());
    for record in page["value"].as_array().expect("value") {
        assert_eq!(record.as_object().expect("object").len(), 2, "{record}");
    }
}

#[tokio::test]
async fn json_paging_crosses_graph_pages_and_the_first_ndjson_record_arrives_before_the_last_page_is_served()
 {
    let (world, generated) = world(1, 2_500, |_| {}).await;
    let tenant = &generated[0];
    let rows = truth(&world, &tenant.id).await;
    let pages = rows.len().div_ceil(999);
    assert!(pages >= 3, "{} users make {pages} report pages", rows.len());
    let base = format!("v1/tenants/{}/registrations", tenant.domain);

    // JSON pages of 1000 straddle Graph's pages of 999, with and without a residual filter.
    let (records, _) = json_pages(&world, &base, 1000).await;
    assert_eq!(ids(&records), expected_ids(&rows, &|_| true));
    let (records, _) = json_pages(&world, &format!("{base}?methods=email,mobilePhone"), 1000).await;
    assert_eq!(
        ids(&records),
        expected_ids(&rows, &|r| has_any(r, &["email", "mobilePhone"]))
    );

    // Every report page now takes 300 ms to arrive.
    world
        .emulator
        .set_faults(vec![
            FaultRule {
                fault: None,
                ..FaultRule::new("GET", REPORT_PATH, Fault::GatewayTimeout)
            }
            .latency(Duration::from_millis(300)),
        ])
        .expect("faults");
    world.emulator.clear_calls();
    let mut response = get(&world, &base, "application/x-ndjson", &[]).await;
    assert_eq!(response.status(), 200);
    let mut received = Vec::new();
    while !received.contains(&b'\n') {
        let chunk = response.chunk().await.expect("body").expect("a first line");
        received.extend_from_slice(&chunk);
    }
    let served = calls(&world, REPORT_ROUTE, &tenant.id);
    assert!(
        served < pages,
        "the first record arrived after {served} of {pages} report pages were served"
    );
    while let Some(chunk) = response.chunk().await.expect("body") {
        received.extend_from_slice(&chunk);
    }
    let lines: Vec<Value> = String::from_utf8(received)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(ids(&lines), expected_ids(&rows, &|_| true));
    assert_eq!(calls(&world, REPORT_ROUTE, &tenant.id), pages);
}

#[tokio::test]
async fn a_graph_failure_mid_stream_ends_ndjson_with_an_error_line_and_breaks_csv() {
    let (world, generated) = world(1, 2_500, |config| config.graph.limits.max_attempts = 1).await;
    let tenant = &generated[0];
    let total = truth(&world, &tenant.id).await.len();
    let base = format!("v1/tenants/{}/registrations", tenant.domain);
    let slow = FaultRule {
        fault: None,
        ..FaultRule::new("GET", REPORT_PATH, Fault::GatewayTimeout)
    }
    .latency(Duration::from_millis(300));
    let failing = FaultRule::new(
        "GET",
        REPORT_PATH,
        Fault::ServiceUnavailable { retry_after: None },
    );

    for accept in ["application/x-ndjson", "text/csv"] {
        world
            .emulator
            .set_faults(vec![slow.clone()])
            .expect("faults");
        let mut response = get(&world, &base, accept, &[]).await;
        assert_eq!(response.status(), 200, "{accept}");
        let mut received = response
            .chunk()
            .await
            .expect("body")
            .expect("a chunk")
            .to_vec();
        // Graph fails from now on: a page after the first is refused.
        world
            .emulator
            .set_faults(vec![failing.clone()])
            .expect("faults");
        let outcome = loop {
            match response.chunk().await {
                Ok(Some(chunk)) => received.extend_from_slice(&chunk),
                Ok(None) => break Ok(()),
                Err(error) => break Err(error),
            }
        };
        let text = String::from_utf8(received).expect("utf-8");
        if accept == "text/csv" {
            assert!(outcome.is_err(), "the CSV transfer must break");
            let rows = text.lines().count() - 1;
            assert!(
                0 < rows && rows < total,
                "{rows} of {total} rows before the break"
            );
        } else {
            outcome.expect("NDJSON ends normally");
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).expect("JSON line"))
                .collect();
            let (last, records) = lines.split_last().expect("lines");
            assert!(!records.is_empty() && records.len() < total);
            assert!(records.iter().all(|r| r["id"].is_string()));
            let problem = &last["error"];
            assert_eq!(problem["status"], 502, "{last}");
            assert_eq!(problem["upstreamStatus"], 503, "{last}");
            assert!(problem["type"].is_string() && problem["detail"].is_string());
        }
    }
}

#[tokio::test]
async fn a_tenant_without_p1_gets_license_required_before_the_report_is_read() {
    let (world, _) = world(0, 0, |_| {}).await;
    let base = format!("v1/tenants/{}/registrations", seed::FABRIKAM_DOMAIN);
    for (path, accept) in [
        (base.clone(), "application/json"),
        (base.clone(), "application/x-ndjson"),
        (base.clone(), "text/csv"),
        (format!("{base}/summary"), "application/json"),
    ] {
        let response = get(&world, &path, accept, &[]).await;
        assert_eq!(response.status(), 403, "{path} {accept}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.expect("problem");
        assert_eq!(problem["type"], "/problems/license-required");
        assert_eq!(problem["code"], "licenseRequired");
        let detail = problem["detail"].as_str().expect("detail");
        assert!(
            detail.contains("fabrikam.onmicrosoft.com")
                && detail.contains(
                    "Microsoft Entra ID P1 or P2 (service plan AAD_PREMIUM or AAD_PREMIUM_P2)"
                ),
            "{detail}"
        );
    }
    assert_eq!(
        calls(&world, REPORT_ROUTE, seed::FABRIKAM_ID),
        0,
        "the licence is checked first"
    );
    assert_eq!(
        calls(&world, SKUS_ROUTE, seed::FABRIKAM_ID),
        1,
        "and its verdict cached"
    );
}

#[tokio::test]
async fn graphs_own_licence_refusal_of_the_report_is_license_required_too() {
    let (world, _) = world(0, 0, |_| {}).await;
    // The SKUs still carry P1, but the report refuses: the tenant lost its premium plan.
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.organization["assignedPlans"]
                .as_array_mut()
                .expect("plans")
                .retain(|p| p["service"] != "AADPremiumService");
        })
        .expect("contoso");
    let base = format!("v1/tenants/{}/registrations", seed::CONTOSO_DOMAIN);
    for (path, accept) in [
        (base.clone(), "application/x-ndjson"),
        (base.clone(), "application/json"),
        (format!("{base}/summary"), "application/json"),
    ] {
        let response = get(&world, &path, accept, &[]).await;
        assert_eq!(response.status(), 403, "{path} {accept}");
        let problem: Value = response.json().await.expect("problem");
        assert_eq!(problem["code"], "licenseRequired", "{problem}");
    }
    assert_eq!(
        calls(&world, REPORT_ROUTE, seed::CONTOSO_ID),
        1,
        "after Graph's refusal the verdict is remembered"
    );
}

#[tokio::test]
async fn the_summary_equals_a_brute_force_count_and_is_cached_with_its_read_time() {
    let (world, generated) = world(1, 300, |_| {}).await;
    let tenant = &generated[0];
    let rows = truth(&world, &tenant.id).await;
    let path = format!("v1/tenants/{}/registrations/summary", tenant.domain);
    world.emulator.clear_calls();

    let before = OffsetDateTime::now_utc();
    let response = get(&world, &path, "application/json", &[]).await;
    let after = OffsetDateTime::now_utc();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["cache-control"], "private, max-age=300");
    assert_eq!(headers["age"], "0");
    let etag = headers["etag"].to_str().expect("etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "a strong ETag: {etag}"
    );
    let summary: Value = response.json().await.expect("JSON");
    assert_eq!(counts_of(&summary), expected_counts(&rows));
    assert_eq!(summary["tenant"]["id"], tenant.id.as_str());
    assert_eq!(summary["tenant"]["domain"], tenant.domain.as_str());
    assert_eq!(summary["source"], "graph");
    let read_at = OffsetDateTime::parse(summary["readAt"].as_str().expect("readAt"), &Rfc3339)
        .expect("RFC 3339");
    assert!(before <= read_at && read_at <= after);
    assert!(summary["gaps"]["enabledNotRegistered"].as_u64() > Some(0));
    assert!(summary["methods"].as_object().expect("methods").len() > 3);
    assert_eq!(calls(&world, REPORT_ROUTE, &tenant.id), 1);

    // Within the configured age: the cache, the same body and ETag, no Graph read.
    let again = get(&world, &path, "application/json", &[]).await;
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert_eq!(again.json::<Value>().await.expect("JSON"), summary);
    let caller_accepts_an_hour = get(
        &world,
        &path,
        "application/json",
        &[("cache-control", "max-age=3600")],
    )
    .await;
    assert_eq!(caller_accepts_an_hour.status(), 200);
    let not_modified = get(
        &world,
        &path,
        "application/json",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()["etag"], etag.as_str());
    assert_eq!(
        not_modified.headers()["cache-control"],
        "private, max-age=300"
    );
    assert!(not_modified.headers().contains_key("age"));
    assert_eq!(calls(&world, REPORT_ROUTE, &tenant.id), 1);

    // The caller's max-age decides: 0 or no-cache reads Graph again.
    for directive in ["no-cache", "max-age=0"] {
        let fresh = get(
            &world,
            &path,
            "application/json",
            &[("cache-control", directive)],
        )
        .await;
        assert_eq!(fresh.status(), 200);
        let body: Value = fresh.json().await.expect("JSON");
        assert_eq!(counts_of(&body), expected_counts(&rows));
        assert!(body["readAt"].as_str() >= summary["readAt"].as_str());
    }
    assert_eq!(calls(&world, REPORT_ROUTE, &tenant.id), 3);
    // A user registering a method shows after a forced read, not before.
    world
        .emulator
        .with_tenant(&tenant.id, |t| {
            let user = t
                .users
                .iter_mut()
                .find(|u| u.account_enabled)
                .expect("a user");
            user.methods_registered.push("aMethodFromTheFuture".into());
        })
        .expect("tenant");
    let cached: Value = get(&world, &path, "application/json", &[])
        .await
        .json()
        .await
        .expect("JSON");
    assert!(cached["methods"].get("aMethodFromTheFuture").is_none());
    let fresh: Value = get(
        &world,
        &path,
        "application/json",
        &[("cache-control", "no-cache")],
    )
    .await
    .json()
    .await
    .expect("JSON");
    assert_eq!(fresh["methods"]["aMethodFromTheFuture"], 1);
}

#[tokio::test]
async fn concurrent_summaries_of_one_tenant_share_one_graph_read() {
    let (world, _) = world(0, 0, |_| {}).await;
    // Slow report pages keep the first read going while the others arrive.
    world
        .emulator
        .set_faults(vec![
            FaultRule {
                fault: None,
                ..FaultRule::new("GET", REPORT_PATH, Fault::GatewayTimeout)
            }
            .latency(Duration::from_millis(400)),
        ])
        .expect("faults");
    let path = format!("v1/tenants/{}/registrations/summary", seed::CONTOSO_DOMAIN);
    let requests = (0..6).map(|_| {
        get(
            &world,
            &path,
            "application/json",
            &[("cache-control", "no-cache")],
        )
    });
    let responses = futures::future::join_all(requests).await;
    let mut etags = Vec::new();
    for response in responses {
        assert_eq!(response.status(), 200);
        etags.push(
            response.headers()["etag"]
                .to_str()
                .expect("etag")
                .to_owned(),
        );
    }
    etags.dedup();
    assert_eq!(etags.len(), 1, "one summary for all");
    assert_eq!(calls(&world, REPORT_ROUTE, seed::CONTOSO_ID), 1);
}

#[tokio::test]
async fn bad_queries_and_foreign_cursors_are_400_problems_naming_the_parameter() {
    let (world, generated) = world(1, 60, |_| {}).await;
    let generated = format!("v1/tenants/{}/registrations", generated[0].domain);
    let contoso = format!("v1/tenants/{}/registrations", seed::CONTOSO_DOMAIN);
    let page: Value = get(
        &world,
        &format!("{contoso}?limit=2&sspr=notCapable"),
        "application/json",
        &[],
    )
    .await
    .json()
    .await
    .expect("JSON");
    let cursor = page["nextCursor"].as_str().expect("a next page").to_owned();

    let cases = [
        (
            format!("{contoso}?ssp=registered"),
            "application/json",
            "ssp",
        ),
        (
            format!("{contoso}?sspr=Registered"),
            "application/json",
            "sspr",
        ),
        (
            format!("{contoso}?mfa=enabled"),
            "application/x-ndjson",
            "mfa",
        ),
        (
            format!("{contoso}?passwordless=yes"),
            "text/csv",
            "passwordless",
        ),
        (format!("{contoso}?admin=yes"), "application/json", "admin"),
        (
            format!("{contoso}?userType=robot"),
            "application/json",
            "userType",
        ),
        (
            format!("{contoso}?methods=e-mail"),
            "application/json",
            "methods",
        ),
        (
            format!("{contoso}?upnPrefix="),
            "application/json",
            "upnPrefix",
        ),
        (
            format!("{contoso}?fields=id,password"),
            "application/json",
            "fields",
        ),
        (
            format!("{contoso}?pushdown=maybe"),
            "application/json",
            "pushdown",
        ),
        (format!("{contoso}?limit=0"), "application/json", "limit"),
        (
            format!("{contoso}?limit=10"),
            "application/x-ndjson",
            "limit",
        ),
        (format!("{contoso}?cursor={cursor}"), "text/csv", "cursor"),
        (
            format!("{contoso}?sspr=registered&sspr=enabled"),
            "application/json",
            "sspr",
        ),
        (
            format!("{contoso}?cursor=not-a-cursor"),
            "application/json",
            "cursor",
        ),
        // The cursor of another query, and of another tenant.
        (
            format!("{contoso}?sspr=capable&cursor={cursor}"),
            "application/json",
            "cursor",
        ),
        (
            format!("{generated}?sspr=notCapable&cursor={cursor}"),
            "application/json",
            "cursor",
        ),
        (
            "v1/registrations/summary".to_owned(),
            "application/json",
            "tenants",
        ),
        (
            "v1/registrations/summary?tenants=a,,b".to_owned(),
            "application/json",
            "tenants",
        ),
    ];
    for (path, accept, field) in cases {
        let response = get(&world, &path, accept, &[]).await;
        assert_eq!(response.status(), 400, "{path}");
        let problem: Value = response.json().await.expect("problem");
        assert_eq!(problem["field"], field, "{path}: {problem}");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    // The cursor works where it belongs.
    let next = get(
        &world,
        &format!("{contoso}?sspr=notCapable&limit=2&cursor={cursor}"),
        "application/json",
        &[],
    )
    .await;
    assert_eq!(next.status(), 200);
}

#[tokio::test]
async fn access_is_checked_before_graph_is_called() {
    let (world, _) = world(0, 0, |_| {}).await;
    let no_role = world.token(&[]);
    let response = world
        .get(
            &format!("v1/tenants/{}/registrations", seed::CONTOSO_DOMAIN),
            Some(&no_role),
        )
        .await;
    assert_eq!(response.status(), 403);
    let response = world
        .get(
            &format!("v1/tenants/{}/registrations/summary", seed::CONTOSO_DOMAIN),
            Some(&no_role),
        )
        .await;
    assert_eq!(response.status(), 403);
    let unknown = get(
        &world,
        "v1/tenants/nowhere.example/registrations",
        "application/x-ndjson",
        &[],
    )
    .await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(world.customer_graph_calls(), 0);
}

#[tokio::test]
async fn injected_429s_and_503s_on_the_report_cost_time_not_data() {
    // Graph's budgets on in the service (fast windows so the test is quick), Graph's faults on
    // every kind of transient failure, interleaved with good pages.
    let (world, generated) = world(1, 2_500, |config| {
        let limits = &mut config.graph.limits;
        limits.enabled = true;
        limits.reports_per_tenant = Limit::new(5, 200);
        limits.reports_per_app = Limit::new(122, 200);
        limits.backoff_base_ms = 50;
        limits.backoff_max_ms = 200;
        // Enough attempts that a coin flip failing every one of them never happens in practice.
        limits.max_attempts = 20;
    })
    .await;
    let tenant = &generated[0];
    let expected = truth(&world, &tenant.id).await;
    let faults = [
        Fault::TooManyRequests {
            retry_after: Some(1),
        },
        Fault::TooManyRequests { retry_after: None },
        Fault::ServiceUnavailable { retry_after: None },
        Fault::ServiceUnavailable {
            retry_after: Some(1),
        },
        Fault::GatewayTimeout,
    ];
    for fault in faults {
        world.emulator.clear_calls();
        // About every other report call fails: pages are retried throughout the stream.
        world
            .emulator
            .set_faults(vec![
                FaultRule::new("GET", REPORT_PATH, fault.clone()).probability(0.5),
            ])
            .expect("faults");
        let base = format!("v1/tenants/{}/registrations", tenant.domain);
        let listed = ndjson(&world, &base).await;
        assert!(
            listed.iter().all(|r| r.get("error").is_none()),
            "{fault:?}: no error line"
        );
        assert_eq!(
            ids(&listed),
            expected_ids(&expected, &|_| true),
            "{fault:?}: every user, in Graph's order"
        );
        let summary = get(
            &world,
            &format!("{base}/summary"),
            "application/json",
            &[("cache-control", "no-cache")],
        )
        .await;
        assert_eq!(summary.status(), 200, "{fault:?}");
        let summary: Value = summary.json().await.expect("JSON");
        assert_eq!(
            summary["totalUsers"].as_u64(),
            Some(expected.len() as u64),
            "{fault:?}"
        );
        let failed = world
            .emulator
            .calls()
            .iter()
            .filter(|c| c.path.ends_with("userRegistrationDetails") && c.status >= 429)
            .count();
        assert!(failed > 0, "{fault:?}: the fault fired");
    }
}
