//! Registration protection end to end: the generated policies against Microsoft's CSDL and the
//! emulator's Conditional Access rules, plans and their impact against a brute-force count over
//! the emulator's raw state, grading, idempotent deploys (also when a create's answer is lost),
//! promotion, licences, roles and bad input.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use entra_emulator::{Emulator, Fault, FaultRule, ThrottleConfig, TokenSpec, User, seed};
use graph_schema::Schema;
use serde_json::{Value, json};
use sspr_e2e::World;
use sspr_service::directory::conditional_access::list_policies;
use sspr_service::directory::conditional_access::render::create_body;
use sspr_service::directory::graph::Graph;
use sspr_service::directory::tenants::TenantRegistry;
use sspr_service::domain::protection::generate::{Exclusions, differences, generate};
use sspr_service::domain::protection::{MARKER, ProtectionOptions, ProtectionState};
use sspr_service::store::audit::{AuditFilter, Outcome};

const CONTOSO: &str = seed::CONTOSO_DOMAIN;
const PROTECTION: &str = "v1/tenants/contoso.onmicrosoft.com/registration-protection";
const PLAN: &str = "v1/tenants/contoso.onmicrosoft.com/registration-protection/plan";
const POLICIES_PATH: &str = "/v1.0/identity/conditionalAccess/policies";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn plan(world: &World, options: Value) -> Value {
    let (status, body) = world
        .call(
            reqwest::Method::POST,
            PLAN,
            &world.token(&["SSPR.Read"]),
            Some(options),
        )
        .await;
    assert_eq!(status, 200, "{body:#}");
    body
}

async fn put(world: &World, options: Value) -> (u16, Value) {
    world
        .call(
            reqwest::Method::PUT,
            PROTECTION,
            &world.token(&["SSPR.ReadWrite"]),
            Some(options),
        )
        .await
}

async fn status(world: &World, query: &str) -> Value {
    let (code, body) = world
        .call(
            reqwest::Method::GET,
            &format!("{PROTECTION}{query}"),
            &world.token(&["SSPR.Read"]),
            None,
        )
        .await;
    assert_eq!(code, 200, "{body:#}");
    body
}

/// The policies in the emulator's raw state that carry the marker.
fn marked(emulator: &Emulator) -> Vec<Value> {
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.conditional_access_policies
                .iter()
                .filter(|p| {
                    p["displayName"]
                        .as_str()
                        .is_some_and(|n| n.contains(MARKER))
                })
                .cloned()
                .collect()
        })
        .expect("contoso")
}

/// Calls with `method` the emulator served on CA policies (the collection or one policy).
fn graph_calls(emulator: &Emulator, method: &str) -> usize {
    emulator
        .calls()
        .iter()
        .filter(|c| c.method == method && c.path.starts_with(POLICIES_PATH))
        .count()
}

/// A client with an app-only Graph token for contoso, straight to the emulator (not through the
/// service), trusting only the emulator's CA.
struct RawGraph {
    http: reqwest::Client,
    token: String,
    base: url::Url,
}

impl RawGraph {
    fn new(emulator: &Emulator) -> RawGraph {
        let ca = reqwest::Certificate::from_pem(emulator.ca_pem().as_bytes()).expect("CA PEM");
        RawGraph {
            http: reqwest::Client::builder()
                .tls_certs_only([ca])
                .build()
                .expect("client builds"),
            token: emulator.mint_token(&TokenSpec {
                tenant_id: seed::CONTOSO_ID.into(),
                audience: seed::GRAPH_RESOURCE.into(),
                roles: seed::GRAPH_APP_PERMISSIONS
                    .iter()
                    .map(|r| (*r).to_owned())
                    .collect(),
                app_id: seed::GRAPH_APP_CLIENT_ID.into(),
                oid: seed::GRAPH_APP_SP_CONTOSO.into(),
                ..TokenSpec::default()
            }),
            base: emulator.base_url(),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let url = self.base.join(path).expect("URL");
        let mut request = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("emulator answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Every row of the registration report, in Graph's order.
    async fn report(&self) -> Vec<Value> {
        let mut rows = Vec::new();
        let mut next =
            Some("v1.0/reports/authenticationMethods/userRegistrationDetails".to_owned());
        while let Some(link) = next {
            let (status, page) = self.send(reqwest::Method::GET, &link, None).await;
            assert_eq!(status, 200, "{page}");
            rows.extend(page["value"].as_array().expect("value").iter().cloned());
            next = page["@odata.nextLink"].as_str().map(str::to_owned);
        }
        rows
    }
}

fn no_throttling(emulator: &Emulator) {
    emulator.set_throttling(ThrottleConfig {
        enabled: false,
        ..ThrottleConfig::default()
    });
}

fn options(json: Value) -> sspr_service::domain::protection::ValidOptions {
    serde_json::from_value::<ProtectionOptions>(json)
        .expect("options parse")
        .validate()
        .expect("options valid")
}

// ---------------------------------------------------------------------------------------------
// Generated JSON: the CSDL and Graph's rules
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_generated_variant_validates_against_the_csdl_and_the_emulator_creates_it() {
    let world = World::start().await;
    no_throttling(&world.emulator);
    let raw = RawGraph::new(&world.emulator);
    let config =
        sspr_service::demo::config_for(&world.emulator, SocketAddr::from(([127, 0, 0, 1], 0)));
    let http = sspr_service::app::http_client(&config.graph).expect("http client");
    let registry = TenantRegistry::from_config(&config, &http).expect("tenants");
    // This test's own calls go straight to the emulator; the adapter need not pace itself.
    let mut limits = config.graph.limits.clone();
    limits.enabled = false;
    let graph = Graph::new(http, config.graph.base_url.clone()).with_limits(&limits);
    let contoso = &registry.find(CONTOSO).expect("contoso");
    let exclusions = Exclusions::new(
        [seed::CONTOSO_BREAK_GLASS_USER.to_owned()],
        [seed::CONTOSO_GROUP_BREAK_GLASS.to_owned()],
    );

    let mut variants = 0;
    for control in ["block", "mfa", "compliantDevice", "domainJoinedDevice"] {
        for guests in ["include", "exclude"] {
            for locations in [json!(["AllTrusted"]), json!([seed::CONTOSO_LOCATION_HQ])] {
                let name = format!("{control} {guests} {locations} {MARKER}");
                let options = options(json!({"control": control, "guests": guests,
                    "trustedLocations": locations, "displayName": name}));
                let desired = generate(&options, &exclusions, ProtectionState::Enabled);
                let body = create_body(&desired);
                Schema::v1_closed()
                    .validate("conditionalAccessPolicy", &body)
                    .unwrap_or_else(|v| panic!("{name}: {v:?}\n{body:#}"));
                assert!(
                    body["conditions"]["applications"]
                        .get("includeApplications")
                        .is_none(),
                    "{name}: never includeApplications beside a user action"
                );

                let (status, created) = raw
                    .send(
                        reqwest::Method::POST,
                        "v1.0/identity/conditionalAccess/policies",
                        Some(&body),
                    )
                    .await;
                assert_eq!(status, 201, "{name}: {created:#}");
                Schema::v1_closed()
                    .validate("conditionalAccessPolicy", &created)
                    .unwrap_or_else(|v| panic!("{name} as served: {v:?}"));

                // Read back through the service's adapter, Graph's answer matches what was asked.
                let (policies, _) = list_policies(&graph, contoso).await.expect("policies list");
                let served = policies
                    .iter()
                    .find(|p| p.id == created["id"].as_str().expect("id"))
                    .expect("created policy listed");
                assert!(
                    differences(&desired, served).is_empty(),
                    "{name}: {:?}",
                    differences(&desired, served)
                );
                variants += 1;
            }
        }
    }
    assert_eq!(variants, 16);
}

#[tokio::test]
async fn graph_rejects_include_applications_beside_the_user_action_and_the_generator_never_sends_it()
 {
    let world = World::start().await;
    no_throttling(&world.emulator);
    let raw = RawGraph::new(&world.emulator);
    let body = create_body(&generate(
        &options(json!({})),
        &Exclusions::default(),
        ProtectionState::ReportOnly,
    ));
    assert!(
        body["conditions"]["applications"]
            .get("includeApplications")
            .is_none()
    );

    let mut with_apps = body.clone();
    with_apps["conditions"]["applications"]["includeApplications"] = json!(["All"]);
    let (status, refused) = raw
        .send(
            reqwest::Method::POST,
            "v1.0/identity/conditionalAccess/policies",
            Some(&with_apps),
        )
        .await;
    assert_eq!(status, 400, "{refused:#}");
    let inner = refused["error"]["innerError"]["message"]
        .as_str()
        .expect("inner message");
    assert!(inner.starts_with("1012:"), "{inner}");
    assert!(
        marked(&world.emulator).is_empty(),
        "a refused policy is not stored"
    );

    let (status, _) = raw
        .send(
            reqwest::Method::POST,
            "v1.0/identity/conditionalAccess/policies",
            Some(&body),
        )
        .await;
    assert_eq!(status, 201);
}

// ---------------------------------------------------------------------------------------------
// Plans and impact
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_plan_for_contoso_excludes_the_discovered_break_glass_and_has_no_error() {
    let world = World::start().await;
    let plan = plan(&world, json!({})).await;
    let policy = &plan["policy"];
    assert_eq!(policy["state"], "enabledForReportingButNotEnforced");
    assert_eq!(policy["conditions"]["clientAppTypes"], json!(["all"]));
    assert_eq!(
        policy["conditions"]["users"]["excludeUsers"],
        json!([seed::CONTOSO_BREAK_GLASS_USER])
    );
    assert_eq!(
        policy["conditions"]["users"]["excludeGroups"],
        json!([seed::CONTOSO_GROUP_BREAK_GLASS])
    );
    assert_eq!(policy["grantControls"]["builtInControls"], json!(["block"]));
    assert_eq!(plan["breakGlass"]["policiesConsidered"], 3);
    assert_eq!(plan["breakGlass"]["users"][0]["source"], "discovered");
    assert_eq!(plan["breakGlass"]["users"][0]["excludedFrom"], 3);
    assert_eq!(plan["existing"], Value::Null);
    assert_eq!(plan["blocking"], false);
    let codes: Vec<&str> = plan["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code"))
        .collect();
    assert!(
        !plan["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["severity"] == "error"),
        "{codes:?}"
    );
    assert!(
        codes.contains(&"newHires") && codes.contains(&"reportOnly"),
        "{codes:?}"
    );
    assert!(
        plan["graphRequestIds"]
            .as_array()
            .is_some_and(|ids| ids.len() >= 2)
    );
    // Nothing was written.
    assert!(marked(&world.emulator).is_empty());
    assert_eq!(graph_calls(&world.emulator, "POST"), 0);
}

/// Adds `n` varied users to contoso: members and guests, no methods to many, in the SSPR group
/// (so SSPR is enabled for them) or the break-glass group (so the policy excludes them).
fn add_users(emulator: &Emulator, n: usize) {
    emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            for i in 0..n {
                let id = format!("00000000-0000-4000-8000-{i:012}");
                let methods: &[&str] = match i % 5 {
                    0 => &[],
                    1 => &["email"],
                    2 => &["mobilePhone"],
                    3 => &["microsoftAuthenticatorPush", "email"],
                    _ => &["mobilePhone", "email", "microsoftAuthenticatorPush"],
                };
                t.users.push(User {
                    id: id.clone(),
                    display_name: format!("User {i}"),
                    user_principal_name: format!("user{i:03}@contoso.onmicrosoft.com"),
                    user_type: if i % 7 == 0 { "Guest" } else { "Member" }.into(),
                    account_enabled: true,
                    directory_roles: if i % 13 == 0 {
                        vec!["Helpdesk Administrator".into()]
                    } else {
                        Vec::new()
                    },
                    methods_registered: methods.iter().map(|m| (*m).to_owned()).collect(),
                    preferred_method: String::new(),
                });
                for (every, group) in [
                    (3, seed::CONTOSO_GROUP_SSPR_USERS),
                    (11, seed::CONTOSO_GROUP_BREAK_GLASS),
                ] {
                    if i % every == 0 {
                        t.groups
                            .iter_mut()
                            .find(|g| g.id == group)
                            .expect("group")
                            .members
                            .push(id.clone());
                    }
                }
            }
        })
        .expect("contoso");
}

/// The impact counted the slow way: every report row, checked against the raw users and groups.
fn brute_force(
    raw_users: &[User],
    groups: &HashMap<String, Vec<String>>,
    report: &[Value],
    excluded_users: &[&str],
    excluded_groups: &[&str],
    include_guests: bool,
) -> (u64, u64, Vec<String>) {
    let guests: HashSet<&str> = raw_users
        .iter()
        .filter(|u| u.user_type == "Guest")
        .map(|u| u.id.as_str())
        .collect();
    let mut excluded: HashSet<String> = excluded_users.iter().map(|s| (*s).to_owned()).collect();
    for group in excluded_groups {
        excluded.extend(groups[*group].iter().cloned());
    }
    let (mut in_scope, mut must, mut sample) = (0, 0, Vec::new());
    for row in report {
        let id = row["id"].as_str().expect("id");
        if (guests.contains(id) && !include_guests) || excluded.contains(id) {
            continue;
        }
        in_scope += 1;
        let flag = |name: &str| row[name].as_bool().unwrap_or(false);
        if (flag("isSsprEnabled") && !flag("isSsprRegistered")) || !flag("isMfaRegistered") {
            must += 1;
            if sample.len() < 20 {
                sample.push(row["userPrincipalName"].as_str().expect("upn").to_owned());
            }
        }
    }
    (in_scope, must, sample)
}

#[tokio::test]
async fn the_impact_equals_a_brute_force_count_over_the_emulators_raw_state() {
    let world = World::start().await;
    // The raw report reads below share the service's app: keep the emulator from counting them.
    no_throttling(&world.emulator);
    add_users(&world.emulator, 150);
    let raw_report = RawGraph::new(&world.emulator).report().await;
    let (users, groups) = world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            (
                t.users.clone(),
                t.groups
                    .iter()
                    .map(|g| (g.id.clone(), g.members.clone()))
                    .collect::<HashMap<_, _>>(),
            )
        })
        .expect("contoso");
    assert_eq!(
        raw_report.len(),
        users.len(),
        "the report has a row per user"
    );

    let alex = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02";
    let cases = [
        // Discovered break-glass user and group; guests excluded.
        (
            json!({}),
            vec![seed::CONTOSO_BREAK_GLASS_USER],
            vec![seed::CONTOSO_GROUP_BREAK_GLASS],
            false,
        ),
        // Guests covered, one more user declared, discovery off.
        (
            json!({"guests": "include", "excludeUsers": [alex], "discoverBreakGlass": false}),
            vec![alex],
            vec![],
            true,
        ),
        // A declared group only.
        (
            json!({"control": "mfa", "excludeGroups": [seed::CONTOSO_GROUP_SSPR_USERS], "discoverBreakGlass": false}),
            vec![],
            vec![seed::CONTOSO_GROUP_SSPR_USERS],
            false,
        ),
    ];
    for (options, excluded_users, excluded_groups, include_guests) in cases {
        let plan = plan(&world, options.clone()).await;
        let impact = &plan["impact"];
        let (in_scope, must, sample) = brute_force(
            &users,
            &groups,
            &raw_report,
            &excluded_users,
            &excluded_groups,
            include_guests,
        );
        assert_eq!(impact["usersRead"], raw_report.len() as u64, "{options}");
        assert_eq!(impact["usersInScope"], in_scope, "{options}: {impact:#}");
        assert_eq!(impact["mustRegister"], must, "{options}: {impact:#}");
        assert_eq!(impact["sample"], json!(sample), "{options}");
        assert!(
            must > 20 && in_scope > must,
            "the case is not trivial: {impact}"
        );
    }
}

#[tokio::test]
async fn fabrikam_without_p1_gets_the_license_required_problem() {
    let world = World::start().await;
    let (status, problem) = world
        .call(
            reqwest::Method::POST,
            "v1/tenants/fabrikam.onmicrosoft.com/registration-protection/plan",
            &world.token(&["SSPR.Read"]),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 403, "{problem:#}");
    assert_eq!(problem["code"], "licenseRequired");
    assert_eq!(problem["type"], "/problems/license-required");
    let (status, _) = world
        .call(
            reqwest::Method::PUT,
            "v1/tenants/fabrikam.onmicrosoft.com/registration-protection",
            &world.token(&["SSPR.ReadWrite"]),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 403);
    let fabrikam_policies = world
        .emulator
        .with_tenant(seed::FABRIKAM_ID, |t| t.conditional_access_policies.len())
        .expect("fabrikam");
    assert_eq!(fabrikam_policies, 0);
}

// ---------------------------------------------------------------------------------------------
// Deploying
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn deploying_creates_once_then_writes_nothing_and_promotes_only_when_asked() {
    let world = World::start().await;
    let (code, created) = put(&world, json!({})).await;
    assert_eq!(code, 201, "{created:#}");
    assert_eq!(created["result"], "created");
    assert_eq!(created["state"], "enabledForReportingButNotEnforced");
    let id = created["policyId"].as_str().expect("id").to_owned();
    let stored = marked(&world.emulator);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], id.as_str());
    assert_eq!(stored[0]["state"], "enabledForReportingButNotEnforced");

    let writes = graph_calls(&world.emulator, "POST") + graph_calls(&world.emulator, "PATCH");
    let (code, again) = put(&world, json!({})).await;
    assert_eq!(code, 200, "{again:#}");
    assert_eq!(again["result"], "unchanged");
    assert_eq!(again["policyId"], id.as_str());
    assert_eq!(
        graph_calls(&world.emulator, "POST") + graph_calls(&world.emulator, "PATCH"),
        writes,
        "no write when nothing changes"
    );

    let (code, promoted) = put(&world, json!({"state": "enabled"})).await;
    assert_eq!(code, 200, "{promoted:#}");
    assert_eq!(promoted["result"], "updated");
    assert_eq!(promoted["changes"], json!(["state"]));
    assert_eq!(marked(&world.emulator)[0]["state"], "enabled");

    // Without a state, a later deploy keeps the enforced state.
    let (_, kept) = put(&world, json!({})).await;
    assert_eq!(kept["result"], "unchanged", "{kept:#}");
    assert_eq!(marked(&world.emulator).len(), 1);

    let plan = plan(&world, json!({"control": "mfa"})).await;
    assert_eq!(plan["existing"]["id"], id.as_str());
    assert_eq!(
        plan["existing"]["changes"],
        json!(["displayName", "description", "grantControls"])
    );
    assert_eq!(plan["state"], "enabled");

    // Every CA call was paced to Graph's 1 request/s per tenant: none was throttled.
    let throttled: Vec<String> = world
        .emulator
        .calls()
        .iter()
        .filter(|c| c.status == 429)
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert!(throttled.is_empty(), "{throttled:?}");

    let records = world
        .service
        .store()
        .audit()
        .query(AuditFilter::default())
        .await
        .expect("audit")
        .records;
    let operations: Vec<(&str, Outcome)> = records
        .iter()
        .map(|r| (r.operation.as_str(), r.outcome))
        .collect();
    // Newest first: the deploy that kept the state and the one that changed nothing wrote
    // nothing (noChange); the promotion and the create did.
    assert_eq!(
        operations,
        [
            ("registrationProtection.apply", Outcome::NoChange),
            ("registrationProtection.apply", Outcome::Succeeded),
            ("registrationProtection.apply", Outcome::NoChange),
            ("registrationProtection.apply", Outcome::Succeeded),
        ]
    );
    assert_eq!(
        records[1].diff.as_ref().expect("diff")["changes"],
        json!(["state"])
    );
}

#[tokio::test]
async fn enforcing_is_refused_while_the_plan_has_errors_unless_forced() {
    let world = World::start().await;
    // No trusted location left: 'block' outside AllTrusted would block everyone.
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            for location in &mut t.named_locations {
                if location.get("isTrusted").is_some() {
                    location["isTrusted"] = json!(false);
                }
            }
        })
        .expect("contoso");
    let plan = plan(&world, json!({"state": "enabled"})).await;
    assert_eq!(plan["blocking"], true);
    assert_eq!(plan["findings"][0]["code"], "noTrustedLocation");
    assert_eq!(plan["findings"][0]["severity"], "error");

    let (code, problem) = put(&world, json!({"state": "enabled"})).await;
    assert_eq!(code, 422, "{problem:#}");
    assert_eq!(problem["type"], "/problems/plan-has-errors");
    assert_eq!(problem["findings"][0]["code"], "noTrustedLocation");
    assert!(marked(&world.emulator).is_empty(), "nothing was written");

    // Report-only enforces nothing, so it goes.
    let (code, report_only) = put(&world, json!({})).await;
    assert_eq!(code, 201, "{report_only:#}");
    assert_eq!(report_only["findings"][0]["code"], "noTrustedLocation");

    let (code, forced) = put(&world, json!({"state": "enabled", "force": true})).await;
    assert_eq!(code, 200, "{forced:#}");
    assert_eq!(forced["result"], "updated");
    assert_eq!(marked(&world.emulator)[0]["state"], "enabled");

    let outcomes: Vec<Outcome> = world
        .service
        .store()
        .audit()
        .query(AuditFilter::default())
        .await
        .expect("audit")
        .records
        .iter()
        .map(|r| r.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [Outcome::Succeeded, Outcome::Succeeded, Outcome::Refused]
    );
}

/// A deploy whose create loses its answer, the service's Graph timeout 2 s.
async fn lost_create(fault: Fault) -> (World, Value) {
    let world = World::start_with(|config| config.graph.timeout_secs = 2).await;
    world
        .emulator
        .set_faults(vec![FaultRule::new("POST", POLICIES_PATH, fault).times(1)])
        .expect("fault rule");
    let (code, applied) = put(&world, json!({})).await;
    assert_eq!(code, 201, "{applied:#}");
    (world, applied)
}

fn attempt_statuses(applied: &Value) -> Vec<(String, String)> {
    applied["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| {
            (
                a["call"]
                    .as_str()
                    .expect("call")
                    .split(' ')
                    .next()
                    .expect("method")
                    .to_owned(),
                a["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_create_that_times_out_after_the_policy_was_made_is_found_not_repeated() {
    let (world, applied) = lost_create(Fault::SlowBody {
        chunk_bytes: 16,
        chunk_delay_ms: 1000,
    })
    .await;
    assert_eq!(applied["result"], "created");
    assert_eq!(
        attempt_statuses(&applied),
        [
            ("POST".to_owned(), "failed".to_owned()),
            ("GET".to_owned(), "found".to_owned())
        ]
    );
    assert!(
        applied["attempts"][0]["error"]
            .as_str()
            .expect("error")
            .contains("timed out"),
        "{applied:#}"
    );
    let stored = marked(&world.emulator);
    assert_eq!(stored.len(), 1);
    assert_eq!(applied["policyId"], stored[0]["id"]);
    assert_eq!(graph_calls(&world.emulator, "POST"), 1);

    // The caller retries the whole deploy: still one policy, nothing written.
    let (code, retried) = put(&world, json!({})).await;
    assert_eq!(code, 200);
    assert_eq!(retried["result"], "unchanged");
    assert_eq!(marked(&world.emulator).len(), 1);
}

#[tokio::test]
async fn a_create_whose_answer_is_cut_is_found_not_repeated() {
    let (world, applied) = lost_create(Fault::TruncatedJson {
        keep_bytes: Some(40),
    })
    .await;
    assert_eq!(
        attempt_statuses(&applied),
        [
            ("POST".to_owned(), "failed".to_owned()),
            ("GET".to_owned(), "found".to_owned())
        ]
    );
    assert_eq!(marked(&world.emulator).len(), 1);
    assert_eq!(graph_calls(&world.emulator, "POST"), 1);
}

#[tokio::test]
async fn a_create_refused_before_it_ran_is_looked_for_then_repeated_once() {
    let (world, applied) = lost_create(Fault::GatewayTimeout).await;
    let statuses = attempt_statuses(&applied);
    assert_eq!(
        statuses.last(),
        Some(&("POST".to_owned(), "succeeded".to_owned())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("GET".to_owned(), "notFound".to_owned())),
        "{statuses:?}"
    );
    assert_eq!(marked(&world.emulator).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Grading
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn status_grades_every_policy_on_the_action_and_a_deploy_touches_only_ours() {
    let world = World::start().await;
    let empty = status(&world, "").await;
    assert_eq!(empty["verdict"], "fail");
    assert!(empty["policies"].as_array().expect("policies").is_empty());

    // Someone else's policy: browser only (maester#2105) and an untrusted exemption (#2188).
    let foreign_id = "5e5e5e5e-0000-4000-8000-000000000001";
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            let mut foreign = t.conditional_access_policies[0].clone();
            foreign["id"] = json!(foreign_id);
            foreign["displayName"] = json!("Registration from the office");
            foreign["conditions"]["clientAppTypes"] = json!(["browser"]);
            foreign["conditions"]["applications"] = json!({"includeApplications": [], "excludeApplications": [],
                "includeUserActions": ["urn:user:registersecurityinfo"], "includeAuthenticationContextClassReferences": [], "applicationFilter": null});
            foreign["conditions"]["users"]["includeUsers"] = json!(["All"]);
            foreign["conditions"]["users"]["includeRoles"] = json!([]);
            foreign["conditions"]["locations"] = json!({"includeLocations": ["All"], "excludeLocations": [seed::CONTOSO_LOCATION_GUEST_WIFI]});
            foreign["grantControls"]["builtInControls"] = json!(["block"]);
            t.conditional_access_policies.push(foreign);
        })
        .expect("contoso");
    let before = world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.conditional_access_policies.last().cloned()
        })
        .flatten()
        .expect("foreign");

    let (code, _) = put(&world, json!({"state": "enabled"})).await;
    assert_eq!(code, 201);
    let graded = status(&world, "").await;
    let policies = graded["policies"].as_array().expect("policies");
    assert_eq!(policies.len(), 2, "{graded:#}");
    let foreign = policies
        .iter()
        .find(|p| p["id"] == foreign_id)
        .expect("foreign graded");
    assert_eq!(foreign["ours"], false);
    assert_eq!(foreign["verdict"], "fail");
    let failures: Vec<(&str, &str)> = foreign["reasons"]
        .as_array()
        .expect("reasons")
        .iter()
        .filter(|r| r["status"] == "failure")
        .map(|r| {
            (
                r["check"].as_str().expect("check"),
                r["message"].as_str().expect("message"),
            )
        })
        .collect();
    assert!(
        failures
            .iter()
            .any(|(c, m)| *c == "clientAppTypes" && m.contains("browser")),
        "{failures:?}"
    );
    assert!(
        failures
            .iter()
            .any(|(c, m)| *c == "locations"
                && m.contains("'Guest Wi-Fi', which is not marked trusted")),
        "{failures:?}"
    );
    let ours = policies
        .iter()
        .find(|p| p["ours"] == true)
        .expect("ours graded");
    assert_eq!(ours["verdict"], "pass", "{ours:#}");
    assert_eq!(graded["ours"], ours["id"]);
    assert_eq!(graded["verdict"], "pass");

    // The deploy left the foreign policy exactly as it was.
    let after = world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            t.conditional_access_policies
                .iter()
                .find(|p| p["id"] == foreign_id)
                .cloned()
        })
        .flatten()
        .expect("foreign");
    assert_eq!(after, before);
}

#[tokio::test]
async fn declared_break_glass_turns_an_undeclared_exclusion_into_a_pass() {
    let world = World::start().await;
    let alex = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c02";
    let (code, _) = put(&world, json!({"state": "enabled", "excludeUsers": [alex]})).await;
    assert_eq!(code, 201);
    // alex is excluded but excluded from no other policy: a near miss (ScubaGear#2326).
    let near_miss = status(&world, "").await;
    let ours = &near_miss["policies"][0];
    assert_eq!(ours["verdict"], "warn", "{ours:#}");
    // Declared on the GET, the same policy passes (ScubaGear#1706).
    let declared = status(&world, &format!("?breakGlassUsers={alex}")).await;
    assert_eq!(declared["policies"][0]["verdict"], "pass", "{declared:#}");

    let (code, problem) = world
        .call(
            reqwest::Method::GET,
            &format!("{PROTECTION}?breakGlassUsers=alex@contoso.com"),
            &world.token(&["SSPR.Read"]),
            None,
        )
        .await;
    assert_eq!(code, 400);
    assert_eq!(problem["field"], "breakGlassUsers[0]");
}

// ---------------------------------------------------------------------------------------------
// Roles and bad input
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn readers_may_plan_and_generate_but_not_deploy() {
    let world = World::start().await;
    let reader = world.token(&["SSPR.Read"]);
    let (code, problem) = world
        .call(reqwest::Method::PUT, PROTECTION, &reader, Some(json!({})))
        .await;
    assert_eq!(code, 403, "{problem:#}");
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("SSPR.ReadWrite")
    );
    assert!(marked(&world.emulator).is_empty());

    let (code, generated) = world
        .call(
            reqwest::Method::POST,
            "v1/registration-protection/generate",
            &reader,
            Some(json!({"control": "mfa", "excludeUsers": [seed::CONTOSO_BREAK_GLASS_USER]})),
        )
        .await;
    assert_eq!(code, 200, "{generated:#}");
    assert_eq!(
        generated["policy"]["grantControls"]["builtInControls"],
        json!(["mfa"])
    );
    assert_eq!(
        generated["policy"]["conditions"]["users"]["excludeUsers"],
        json!([seed::CONTOSO_BREAK_GLASS_USER])
    );
    Schema::v1_closed()
        .validate("conditionalAccessPolicy", &generated["policy"])
        .expect("CSDL");
    assert_eq!(world.customer_graph_calls(), 0, "generate reads no tenant");

    let (code, _) = world
        .call(
            reqwest::Method::POST,
            "v1/registration-protection/generate",
            &world.token(&[]),
            Some(json!({})),
        )
        .await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn bad_options_are_a_400_naming_the_field() {
    let world = World::start().await;
    let token = world.token(&["SSPR.ReadWrite"]);
    for (body, field) in [
        (json!({"grant": "block"}), "/grant"),
        (json!({"control": "deny"}), "/control"),
        (
            json!({"trustedLocations": ["head office"]}),
            "/trustedLocations/0",
        ),
        (json!({"trustedLocations": []}), "/trustedLocations"),
        (
            json!({"excludeUsers": ["breakglass@contoso.com"]}),
            "/excludeUsers/0",
        ),
        (json!({"state": "disabled"}), "/state"),
    ] {
        for (method, path) in [
            (reqwest::Method::POST, PLAN),
            (reqwest::Method::PUT, PROTECTION),
        ] {
            let (code, problem) = world
                .call(method.clone(), path, &token, Some(body.clone()))
                .await;
            assert_eq!(code, 400, "{method} {body}: {problem:#}");
            assert_eq!(problem["field"], field, "{method} {body}: {problem:#}");
        }
    }
    assert!(marked(&world.emulator).is_empty());
    let refused = world
        .service
        .store()
        .audit()
        .query(AuditFilter::default())
        .await
        .expect("audit")
        .records;
    assert!(
        refused.iter().all(|r| r.outcome == Outcome::Refused),
        "invalid deploys are audited as refused"
    );
}

// ---------------------------------------------------------------------------------------------
// Changes to a deployed policy do only what was asked
// ---------------------------------------------------------------------------------------------

const STATE: &str = "v1/tenants/contoso.onmicrosoft.com/registration-protection/state";

/// A PUT with `?dryRun=…` and an optional `If-Match`; the answer and its `ETag`.
async fn change(
    world: &World,
    path: &str,
    body: Value,
    dry_run: bool,
    if_match: Option<&str>,
) -> (u16, Value, Option<String>) {
    let mut url = world.service.url.join(path).expect("path joins");
    if dry_run {
        url.set_query(Some("dryRun=true"));
    }
    let mut request = world
        .http
        .put(url)
        .bearer_auth(world.token(&["SSPR.ReadWrite"]))
        .json(&body);
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    let response = request.send().await.expect("service answers");
    let status = response.status().as_u16();
    let etag = response
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, response.json().await.unwrap_or(Value::Null), etag)
}

/// The policy as the emulator holds it, without what Graph changes on every write.
fn without_write_stamps(mut policy: Value) -> Value {
    if let Some(object) = policy.as_object_mut() {
        object.remove("modifiedDateTime");
        object.remove("state");
    }
    policy
}

/// Every member of `sent` is in `stored` with the same value (objects compared member by member).
fn holds(stored: &Value, sent: &Value) -> bool {
    match (stored, sent) {
        (Value::Object(stored), Value::Object(sent)) => sent
            .iter()
            .all(|(key, value)| stored.get(key).is_some_and(|kept| holds(kept, value))),
        _ => stored == sent,
    }
}

fn writes(emulator: &Emulator) -> usize {
    graph_calls(emulator, "POST") + graph_calls(emulator, "PATCH")
}

#[tokio::test]
async fn a_plain_promote_after_an_mfa_deploy_enforces_that_mfa_policy_and_changes_nothing_else() {
    let world = World::start().await;
    let (code, created) = put(&world, json!({"control": "mfa"})).await;
    assert_eq!(code, 201, "{created:#}");
    let deployed = marked(&world.emulator)[0].clone();
    assert_eq!(deployed["grantControls"]["builtInControls"], json!(["mfa"]));

    // What `sspr registration-protection promote` sends: the state, nothing else.
    let (code, promoted, _) = change(&world, STATE, json!({"state": "enabled"}), false, None).await;
    assert_eq!(code, 200, "{promoted:#}");
    assert_eq!(promoted["result"], "updated");
    assert_eq!(promoted["changes"], json!(["state"]));
    assert_eq!(
        promoted["diff"],
        json!([{"path": "/state", "before": "enabledForReportingButNotEnforced", "after": "enabled"}])
    );
    let enforced = marked(&world.emulator);
    assert_eq!(enforced.len(), 1);
    assert_eq!(enforced[0]["state"], "enabled");
    assert_eq!(
        enforced[0]["grantControls"]["builtInControls"],
        json!(["mfa"]),
        "the reviewed MFA control stays: promote must not re-plan with the default block"
    );
    assert_eq!(
        without_write_stamps(enforced[0].clone()),
        without_write_stamps(deployed),
        "only the state changed"
    );

    // Promoting again writes nothing; report-only goes back the same way.
    let before = writes(&world.emulator);
    let (code, again, _) = change(&world, STATE, json!({"state": "enabled"}), false, None).await;
    assert_eq!((code, again["result"].as_str()), (200, Some("unchanged")));
    assert_eq!(writes(&world.emulator), before);
    let (code, demoted, _) =
        change(&world, STATE, json!({"state": "reportOnly"}), false, None).await;
    assert_eq!(code, 200, "{demoted:#}");
    assert_eq!(
        marked(&world.emulator)[0]["state"],
        "enabledForReportingButNotEnforced"
    );
    assert_eq!(
        marked(&world.emulator)[0]["grantControls"]["builtInControls"],
        json!(["mfa"])
    );
    let operations: Vec<String> = world
        .service
        .store()
        .audit()
        .query(AuditFilter::default())
        .await
        .expect("audit")
        .records
        .iter()
        .map(|r| r.operation.clone())
        .collect();
    assert_eq!(
        operations,
        [
            "registrationProtection.state",
            "registrationProtection.state",
            "registrationProtection.state",
            "registrationProtection.apply"
        ]
    );
}

#[tokio::test]
async fn changing_the_control_of_an_enforced_policy_is_refused_with_the_diff_unless_forced() {
    let world = World::start().await;
    let (code, _) = put(&world, json!({"control": "mfa", "state": "enabled"})).await;
    assert_eq!(code, 201);
    let enforced = marked(&world.emulator)[0].clone();
    let before = writes(&world.emulator);

    // A deploy with other options (here the default control, block) would change what users
    // are asked for: refused, with the diff, and nothing written.
    let (code, problem) = put(&world, json!({})).await;
    assert_eq!(code, 422, "{problem:#}");
    assert_eq!(problem["type"], "/problems/enforced-policy-change");
    assert!(
        problem["changes"]
            .as_array()
            .expect("changes")
            .contains(&json!("grantControls")),
        "{problem:#}"
    );
    let grant = problem["diff"]
        .as_array()
        .expect("diff")
        .iter()
        .find(|c| c["path"] == "/grantControls/builtInControls")
        .expect("the control's change is in the diff");
    assert_eq!(
        (&grant["before"], &grant["after"]),
        (&json!(["mfa"]), &json!(["block"]))
    );
    assert_eq!(writes(&world.emulator), before, "nothing written");
    assert_eq!(marked(&world.emulator)[0], enforced);

    // The dry run says the same, before anything is tried.
    let (code, dry, _) = change(&world, PROTECTION, json!({}), true, None).await;
    assert_eq!(
        (code, dry["type"].as_str()),
        (422, Some("/problems/enforced-policy-change"))
    );

    // Renaming an enforced policy changes nothing it enforces: it goes.
    let (code, renamed) = put(
        &world,
        json!({"control": "mfa", "displayName": "Registration only from the office"}),
    )
    .await;
    assert_eq!(code, 200, "{renamed:#}");
    assert_eq!(
        marked(&world.emulator)[0]["grantControls"]["builtInControls"],
        json!(["mfa"])
    );

    // With force, the change is made, and the policy stays enforced.
    let (code, forced) = put(&world, json!({"force": true})).await;
    assert_eq!(code, 200, "{forced:#}");
    let now = marked(&world.emulator);
    assert_eq!(now[0]["grantControls"]["builtInControls"], json!(["block"]));
    assert_eq!(now[0]["state"], "enabled");
    let refused = world
        .service
        .store()
        .audit()
        .query(AuditFilter {
            outcome: Some(Outcome::Refused),
            ..AuditFilter::default()
        })
        .await
        .expect("audit")
        .records;
    assert_eq!(
        refused.len(),
        1,
        "the dry run is not audited, the refusal is"
    );
    assert!(refused[0].diff.as_ref().expect("diff")["diff"].is_array());
}

#[tokio::test]
async fn a_dry_run_deploy_returns_the_diff_and_the_exact_graph_call_and_writes_nothing() {
    let world = World::start().await;
    // No policy yet: the plan is the create.
    let (code, plan, etag) =
        change(&world, PROTECTION, json!({"control": "mfa"}), true, None).await;
    assert_eq!(code, 200, "{plan:#}");
    assert_eq!(plan["dryRun"], true);
    assert_eq!(plan["result"], "created");
    assert_eq!(plan["policyId"], Value::Null);
    assert_eq!(plan["calls"][0]["method"], "POST");
    assert_eq!(plan["calls"][0]["path"], POLICIES_PATH);
    assert_eq!(
        plan["calls"][0]["body"]["grantControls"]["builtInControls"],
        json!(["mfa"])
    );
    assert_eq!(etag.as_deref(), plan["etag"].as_str());
    assert_eq!(writes(&world.emulator), 0, "a dry run writes nothing");
    assert!(marked(&world.emulator).is_empty());

    // The real call with the plan's ETag makes exactly the planned policy.
    let (code, created, _) = change(
        &world,
        PROTECTION,
        json!({"control": "mfa"}),
        false,
        etag.as_deref(),
    )
    .await;
    assert_eq!(code, 201, "{created:#}");
    let stored = marked(&world.emulator)[0].clone();
    // Graph fills in the members a body leaves out; everything that was planned is kept.
    assert!(
        holds(&stored, &plan["calls"][0]["body"]),
        "stored {stored:#}\nplanned {:#}",
        plan["calls"][0]["body"]
    );

    // Against the deployed policy: the update's PATCH, with what changes.
    let (code, update, etag) = change(
        &world,
        PROTECTION,
        json!({"control": "compliantDevice"}),
        true,
        None,
    )
    .await;
    assert_eq!(code, 200, "{update:#}");
    assert_eq!(update["result"], "updated");
    assert_eq!(update["policyId"], created["policyId"]);
    assert_eq!(update["calls"][0]["method"], "PATCH");
    assert_eq!(
        update["calls"][0]["path"],
        format!(
            "{POLICIES_PATH}/{}",
            created["policyId"].as_str().expect("id")
        )
    );
    assert!(
        update["changes"]
            .as_array()
            .expect("changes")
            .contains(&json!("grantControls"))
    );
    assert!(
        update["diff"]
            .as_array()
            .expect("diff")
            .iter()
            .any(|c| c["path"] == "/grantControls/builtInControls"
                && c["after"] == json!(["compliantDevice"]))
    );
    assert_eq!(marked(&world.emulator)[0], stored, "still nothing written");

    // The deployed policy changes meanwhile (someone edits it in the portal): the real call
    // with the old plan's ETag is refused.
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            for policy in &mut t.conditional_access_policies {
                if policy["displayName"]
                    .as_str()
                    .is_some_and(|n| n.contains(MARKER))
                {
                    policy["conditions"]["clientAppTypes"] = json!(["browser"]);
                }
            }
        })
        .expect("contoso");
    let (code, stale, current) = change(
        &world,
        PROTECTION,
        json!({"control": "compliantDevice"}),
        false,
        etag.as_deref(),
    )
    .await;
    assert_eq!(code, 412, "{stale:#}");
    assert_ne!(current, etag, "the answer names the current version");
    assert_eq!(
        marked(&world.emulator)[0]["grantControls"]["builtInControls"],
        json!(["mfa"])
    );
}

#[tokio::test]
async fn the_state_of_no_policy_is_not_found_and_enforcing_a_failing_policy_needs_force() {
    let world = World::start().await;
    let (code, problem, _) = change(&world, STATE, json!({"state": "enabled"}), false, None).await;
    assert_eq!(code, 404, "{problem:#}");
    assert_eq!(problem["type"], "/problems/protection-not-deployed");

    // A report-only policy that covers nobody outside the (now untrusted) locations: enforced,
    // its grade fails.
    world
        .emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            for location in &mut t.named_locations {
                if location.get("isTrusted").is_some() {
                    location["isTrusted"] = json!(false);
                }
            }
        })
        .expect("contoso");
    let (code, _) = put(&world, json!({})).await;
    assert_eq!(code, 201);
    let (code, plan, _) = change(&world, STATE, json!({"state": "enabled"}), true, None).await;
    assert_eq!(code, 422, "{plan:#}");
    let (code, refused, _) = change(&world, STATE, json!({"state": "enabled"}), false, None).await;
    assert_eq!(code, 422, "{refused:#}");
    assert_eq!(refused["type"], "/problems/plan-has-errors");
    assert!(!refused["reasons"].as_array().expect("reasons").is_empty());
    assert_eq!(
        marked(&world.emulator)[0]["state"],
        "enabledForReportingButNotEnforced"
    );

    let (code, forced, _) = change(
        &world,
        STATE,
        json!({"state": "enabled", "force": true}),
        false,
        None,
    )
    .await;
    assert_eq!(code, 200, "{forced:#}");
    assert_eq!(marked(&world.emulator)[0]["state"], "enabled");

    let (code, bad, _) = change(&world, STATE, json!({"state": "on"}), false, None).await;
    assert_eq!(code, 400, "{bad:#}");
    assert_eq!(bad["field"], "/state");
}

#[tokio::test]
async fn a_declared_group_the_tenant_does_not_have_is_a_400_naming_it_not_a_graph_failure() {
    let world = World::start().await;
    let (code, problem) = world.call(reqwest::Method::POST,
        PLAN,
        &world.token(&["SSPR.Read"]),
        Some(json!({"control": "mfa", "excludeGroups": ["e3e70682-c209-4cac-a29f-6fbed82c07cd"]})),
    )
    .await;
    assert_eq!(code, 400, "{problem:#}");
    assert_eq!(problem["field"], "/excludeGroups/0", "{problem:#}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("e3e70682-c209-4cac-a29f-6fbed82c07cd")),
        "{problem:#}"
    );
}
