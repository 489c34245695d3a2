//! `sspr registrations list | summary`: the real binary against the emulator and the service,
//! wired as the demo and the end-to-end world are; the service's own JSON is the judge of what
//! every format must print.

use std::net::SocketAddr;
use std::time::Duration;

use entra_emulator::{Emulator, EmulatorConfig, Fault, FaultRule, TokenSpec, User, seed};
use serde_json::Value;
use sspr_service::{Application, Config, RunningService};

mod common;
use common::{Run, sspr};

const REPORT_PATH: &str = "/v1.0/reports/authenticationMethods/userRegistrationDetails";

struct World {
    emulator: Emulator,
    service: RunningService,
}

impl World {
    /// Emulator and service with the demo configuration, changed by `adjust`.
    async fn start(adjust: impl FnOnce(&mut Config)) -> World {
        let emulator = Emulator::start(EmulatorConfig::default())
            .await
            .expect("emulator starts");
        let mut config =
            sspr_service::demo::config_for(&emulator, SocketAddr::from(([127, 0, 0, 1], 0)));
        adjust(&mut config);
        let service = Application::build(config)
            .await
            .expect("service builds")
            .spawn();
        World { emulator, service }
    }

    /// `SSPR_URL` and a token with the SSPR.Read role for both demo tenants.
    fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SSPR_URL", self.service.url.to_string()),
            ("SSPR_TOKEN", self.token()),
        ]
    }

    fn token(&self) -> String {
        self.emulator.mint_token(&TokenSpec {
            roles: vec!["SSPR.Read".to_owned()],
            lifetime: Duration::from_secs(600),
            ..TokenSpec::default()
        })
    }

    /// `GET path` on the service as JSON, asserting success.
    async fn json(&self, path: &str) -> Value {
        let response = reqwest::Client::new()
            .get(self.service.url.join(path).expect("path"))
            .bearer_auth(self.token())
            .send()
            .await
            .expect("service answers");
        assert!(response.status().is_success(), "{path}: {response:?}");
        response.json().await.expect("JSON")
    }

    /// Every record the service lists for `query` (one JSON page of up to 1,000).
    async fn records(&self, tenant: &str, query: &str) -> Vec<Value> {
        let page = self
            .json(&format!(
                "v1/tenants/{tenant}/registrations?limit=1000{query}"
            ))
            .await;
        assert_eq!(page["nextCursor"], Value::Null, "one page expected");
        timeless(page["value"].as_array().expect("value").clone())
    }

    /// Contoso's users that Graph's report lists: the enabled ones.
    fn contoso_enabled_users(&self) -> usize {
        self.emulator
            .with_tenant(seed::CONTOSO_ID, |t| {
                t.users.iter().filter(|u| u.account_enabled).count()
            })
            .expect("contoso")
    }

    /// Reads of Graph's registration report so far.
    fn report_reads(&self) -> usize {
        self.emulator
            .calls()
            .iter()
            .filter(|c| c.path.eq_ignore_ascii_case(REPORT_PATH))
            .count()
    }

    /// `n` more (enabled) users in Contoso, so its report takes two of Graph's pages (999 each).
    fn grow_contoso(&self, n: usize) {
        self.emulator
            .with_tenant(seed::CONTOSO_ID, |t| {
                let template: User = t.users[0].clone();
                for i in 0..n {
                    t.users.push(User {
                        id: format!("0b0b0b0b-0000-4000-8000-{i:012}"),
                        display_name: format!("Bulk User {i}"),
                        user_principal_name: format!("bulk{i:05}@{}", seed::CONTOSO_DOMAIN),
                        directory_roles: Vec::new(),
                        account_enabled: true,
                        ..template.clone()
                    });
                }
            })
            .expect("contoso");
    }

    async fn stop(self) {
        self.service.stop().await.expect("stops");
        self.emulator.shutdown().await;
    }
}

async fn run(world: &World, args: &[&str]) -> Run {
    sspr(args, &world.env()).await
}

fn list<'a>(tenant: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["registrations", "list", "--tenant", tenant];
    args.extend_from_slice(extra);
    args
}

/// A record member as the contract writes it in CSV.
fn csv_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|m| m.as_str().expect("method name").to_owned())
            .collect::<Vec<_>>()
            .join(";"),
        other => other.to_string(),
    }
}

/// Graph stamps `lastUpdatedDateTime` when it answers, so two reads differ there: replaced by
/// a placeholder before records are compared.
const TIME: &str = "<time>";

/// `records` with [`TIME`] as every `lastUpdatedDateTime`.
fn timeless(mut records: Vec<Value>) -> Vec<Value> {
    for record in &mut records {
        if let Some(time) = record.get_mut("lastUpdatedDateTime") {
            assert!(time.is_string() || time.is_null(), "{time}");
            *time = Value::String(TIME.to_owned());
        }
    }
    records
}

fn json_lines(text: &str) -> Vec<Value> {
    timeless(
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a JSON record per line"))
            .collect(),
    )
}

/// The CSV output as (header, rows), parsed by the csv crate, with [`TIME`] for times.
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header row")
        .iter()
        .map(str::to_owned)
        .collect();
    let time = header.iter().position(|h| h == "lastUpdatedDateTime");
    let rows = reader
        .records()
        .map(|row| {
            let mut cells: Vec<String> = row.expect("CSV row").iter().map(str::to_owned).collect();
            if let Some(at) = time {
                cells[at] = TIME.to_owned();
            }
            cells
        })
        .collect();
    (header, rows)
}

/// What CSV rows must be for `records`, in the order of `header`.
fn expected_rows(header: &[String], records: &[Value]) -> Vec<Vec<String>> {
    records
        .iter()
        .map(|record| {
            header
                .iter()
                .map(|field| csv_text(record.get(field).unwrap_or(&Value::Null)))
                .collect()
        })
        .collect()
}

fn upns(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["userPrincipalName"].as_str().expect("upn").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_format_prints_what_the_service_lists() {
    let world = World::start(|_| {}).await;
    let tenant = seed::CONTOSO_DOMAIN;
    let all = world.records(tenant, "").await;
    assert_eq!(
        all.len(),
        world.contoso_enabled_users(),
        "every enabled user"
    );

    // JSON: one array equal to the service's records.
    let json = run(&world, &list(tenant, &["--format", "json"])).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let printed: Vec<Value> = serde_json::from_str(&json.stdout).expect("one JSON array");
    assert_eq!(timeless(printed), all);
    // The global --output json means the same when --format is not given.
    let global = run(&world, &list(tenant, &["--output", "json"])).await;
    let printed: Vec<Value> = serde_json::from_str(&global.stdout).expect("one JSON array");
    assert_eq!(timeless(printed), all);

    // NDJSON: one record per line, the same records.
    let ndjson = run(&world, &list(tenant, &["--format", "ndjson"])).await;
    assert_eq!(ndjson.code, 0, "{}", ndjson.stderr);
    let lines = json_lines(&ndjson.stdout);
    assert_eq!(lines, all);

    // CSV: the contract's field order, one row per record, methods joined with `;`.
    let csv = run(&world, &list(tenant, &["--format", "csv"])).await;
    assert_eq!(csv.code, 0, "{}", csv.stderr);
    let (header, rows) = parse_csv(&csv.stdout);
    assert_eq!(
        header,
        [
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
            "lastUpdatedDateTime"
        ]
    );
    assert_eq!(rows, expected_rows(&header, &all));

    // Table: a header, then one row per user in the service's order, with the chosen columns.
    let table = run(&world, &list(tenant, &[])).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let mut lines = table.stdout.lines();
    let head = lines.next().expect("header");
    for column in [
        "UPN", "TYPE", "ADMIN", "SSPR-REG", "SSPR-ON", "SSPR-CAP", "MFA-REG", "MFA-CAP", "METHODS",
    ] {
        assert!(head.contains(column), "{column} missing: {head}");
    }
    let rows: Vec<&str> = lines.collect();
    let first_cells: Vec<String> = rows
        .iter()
        .map(|r| r.split_whitespace().next().expect("a cell").to_owned())
        .collect();
    // The UPN column is 40 characters wide; longer names end in `…`.
    let fitted: Vec<String> = upns(&all)
        .into_iter()
        .map(|upn| match upn.char_indices().nth(40) {
            Some(_) => format!("{}…", upn.chars().take(39).collect::<String>()),
            None => upn,
        })
        .collect();
    assert_eq!(first_cells, fitted);
    for (row, record) in rows.iter().zip(&all) {
        let yes_no = |field: &str| {
            if record[field] == Value::Bool(true) {
                "yes"
            } else {
                "no"
            }
        };
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells[2], yes_no("isAdmin"), "{row}");
        assert_eq!(cells[3], yes_no("isSsprRegistered"), "{row}");
        assert_eq!(cells[6], yes_no("isMfaRegistered"), "{row}");
    }
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_fields_reach_the_service_and_csv_matches_its_json() {
    let world = World::start(|_| {}).await;
    let tenant = seed::CONTOSO_DOMAIN;
    for (flags, query) in [
        (
            &["--sspr", "enabledNotRegistered"][..],
            "&sspr=enabledNotRegistered",
        ),
        (
            &["--admin", "true", "--no-pushdown"][..],
            "&admin=true&pushdown=false",
        ),
        (
            &["--methods", "email,mobilePhone", "--user-type", "member"][..],
            "&methods=email,mobilePhone&userType=member",
        ),
        (&["--mfa", "notRegistered"][..], "&mfa=notRegistered"),
    ] {
        let fields = "userPrincipalName,isAdmin,isSsprEnabled,isSsprRegistered,methodsRegistered";
        let expected = world
            .records(tenant, &format!("{query}&fields={fields}"))
            .await;
        let mut args = list(tenant, flags);
        args.extend(["--fields", fields, "--format", "csv"]);
        let csv = run(&world, &args).await;
        assert_eq!(csv.code, 0, "{flags:?}: {}", csv.stderr);
        let (header, rows) = parse_csv(&csv.stdout);
        assert_eq!(header.join(","), fields, "{flags:?}");
        assert_eq!(rows, expected_rows(&header, &expected), "{flags:?}");
        // The filter really filtered: fewer users than Contoso's report has.
        assert!(
            rows.len() < world.contoso_enabled_users(),
            "{flags:?} kept all {} users",
            rows.len()
        );
    }

    // An invalid value the service refuses is a usage error naming the parameter.
    let bad = run(&world, &list(tenant, &["--fields", "password"])).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("fields"), "{}", bad.stderr);
    assert!(bad.stdout.is_empty(), "{}", bad.stdout);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_goes_to_stderr_and_quiet_silences_it() {
    let world = World::start(|_| {}).await;
    world.grow_contoso(1100);
    let total = world.contoso_enabled_users();
    let tenant = seed::CONTOSO_DOMAIN;
    for format in ["table", "csv", "ndjson", "json"] {
        let listed = run(&world, &list(tenant, &["--format", format])).await;
        assert_eq!(listed.code, 0, "{format}: {}", listed.stderr);
        // A line at a thousand (CSV: at the piece of the body that passes it), then the total.
        let mut progress: Vec<&str> = listed.stderr.lines().collect();
        assert_eq!(
            progress.pop().map(str::to_owned),
            Some(format!("fetched 1,{:03} users", total - 1000)),
            "{format}"
        );
        assert_eq!(progress.len(), 1, "{format}: {}", listed.stderr);
        assert!(
            progress[0].starts_with("fetched 1,") && progress[0].ends_with(" users…"),
            "{format}: {}",
            listed.stderr
        );
        if format != "csv" {
            assert_eq!(progress, ["fetched 1,000 users…"], "{format}");
        }
        assert!(!listed.stdout.contains("fetched"), "{format}");
        let records = match format {
            "table" | "ndjson" => listed.stdout.lines().count() - usize::from(format == "table"),
            "csv" => parse_csv(&listed.stdout).1.len(),
            _ => serde_json::from_str::<Vec<Value>>(&listed.stdout)
                .expect("array")
                .len(),
        };
        assert_eq!(records, total, "{format}");
    }
    let quiet = run(&world, &list(tenant, &["--format", "ndjson", "--quiet"])).await;
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert_eq!(quiet.stderr, "");
    assert_eq!(quiet.stdout.lines().count(), total);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_breaks_off_keeps_what_arrived_and_exits_5() {
    // One attempt per Graph request: the failure reaches the listing at once.
    let world = World::start(|config| config.graph.limits.max_attempts = 1).await;
    world.grow_contoso(1100);
    let tenant = seed::CONTOSO_DOMAIN;
    let whole_csv = run(&world, &list(tenant, &["--format", "csv", "--quiet"])).await;
    let whole_ndjson = run(&world, &list(tenant, &["--format", "ndjson", "--quiet"])).await;
    let (header, whole_rows) = parse_csv(&whole_csv.stdout);
    let whole_lines = json_lines(&whole_ndjson.stdout);
    assert_eq!(whole_rows.len(), world.contoso_enabled_users());

    for format in ["ndjson", "csv", "table"] {
        world
            .emulator
            .set_faults(vec![
                // The first read of the report passes (a rule without a fault only delays)…
                FaultRule {
                    fault: None,
                    ..FaultRule::new("GET", REPORT_PATH, Fault::GatewayTimeout)
                }
                .times(1),
                // …and every later one fails.
                FaultRule::new("GET", REPORT_PATH, Fault::GatewayTimeout),
            ])
            .expect("faults");
        let broken = run(&world, &list(tenant, &["--format", format])).await;
        assert_eq!(broken.code, 5, "{format}: {}", broken.stderr);
        assert!(
            broken
                .stderr
                .contains("\nerror: The service stopped part-way: "),
            "{format}: {}",
            broken.stderr
        );
        // What arrived before the failure is on stdout, whole records only, in order.
        let printed = match format {
            "ndjson" => {
                let lines = json_lines(&broken.stdout);
                // NDJSON carries the failure in band: Graph's whole first page arrived.
                assert_eq!(lines[..], whole_lines[..999], "{format}");
                lines.len()
            }
            "csv" => {
                let (printed_header, rows) = parse_csv(&broken.stdout);
                assert_eq!(printed_header, header);
                assert_eq!(rows[..], whole_rows[..rows.len()], "{format}");
                rows.len()
            }
            _ => broken.stdout.lines().count() - 1,
        };
        assert!(
            printed > 0 && printed < whole_rows.len(),
            "{format}: {printed} rows"
        );
        assert!(
            broken.stderr.contains(&format!("fetched {printed} users")),
            "{format}: {}",
            broken.stderr
        );
    }
    world.emulator.clear_faults();
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_p1_is_refused_naming_the_licence_with_exit_7() {
    let world = World::start(|_| {}).await;
    for args in [
        list(seed::FABRIKAM_DOMAIN, &["--format", "csv"]),
        vec![
            "registrations",
            "summary",
            "--tenant",
            seed::FABRIKAM_DOMAIN,
        ],
    ] {
        let refused = run(&world, &args).await;
        assert_eq!(refused.code, 7, "{args:?}: {}", refused.stderr);
        assert!(refused.stdout.is_empty(), "{}", refused.stdout);
        assert!(
            refused.stderr.starts_with("error: ") && refused.stderr.contains("P1"),
            "{}",
            refused.stderr
        );
    }

    // For scripts: the service's problem as one JSON line on stderr.
    let json = run(
        &world,
        &[
            "--output",
            "json",
            "registrations",
            "summary",
            "--tenant",
            seed::FABRIKAM_DOMAIN,
        ],
    )
    .await;
    assert_eq!(json.code, 7, "{}", json.stderr);
    assert!(json.stdout.is_empty(), "{}", json.stdout);
    assert_eq!(json.stderr.lines().count(), 1, "{}", json.stderr);
    let problem: Value = serde_json::from_str(&json.stderr).expect("one JSON line");
    assert_eq!(problem["status"], 403, "{problem}");
    assert_eq!(problem["code"], "licenseRequired", "{problem}");
    assert_eq!(problem["type"], "/problems/license-required", "{problem}");
    assert_eq!(world.report_reads(), 0, "the licence is checked first");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_prints_the_services_counts_and_max_age_reaches_it() {
    let world = World::start(|_| {}).await;
    let tenant = seed::CONTOSO_DOMAIN;
    let expected = world
        .json(&format!("v1/tenants/{tenant}/registrations/summary"))
        .await;
    let users = world.contoso_enabled_users();
    assert_eq!(expected["totalUsers"], users);
    let reads = world.report_reads();

    let json = run(
        &world,
        &[
            "registrations",
            "summary",
            "--tenant",
            tenant,
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let printed: Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(
        printed, expected,
        "the cached summary, as the service sent it"
    );
    assert_eq!(
        world.report_reads(),
        reads,
        "served from the service's cache"
    );

    let ndjson = run(
        &world,
        &[
            "registrations",
            "summary",
            "--tenant",
            tenant,
            "--format",
            "ndjson",
        ],
    )
    .await;
    assert_eq!(ndjson.stdout.lines().count(), 1);
    assert_eq!(
        serde_json::from_str::<Value>(&ndjson.stdout).expect("JSON"),
        expected
    );

    let table = run(&world, &["registrations", "summary", "--tenant", tenant]).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let text = &table.stdout;
    assert!(
        text.starts_with(&format!(
            "Tenant: {tenant} ({}), {users} users",
            seed::CONTOSO_ID
        )),
        "{text}"
    );
    let row = |label: &str| {
        text.lines()
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("{label} missing:\n{text}"))
            .to_owned()
    };
    let count = |value: &Value| value.as_u64().expect("count").to_string();
    assert!(row("SSPR registered").contains(&format!(
        " {} ",
        count(&expected["features"]["ssprRegistered"])
    )));
    assert!(row("Administrators without MFA").contains(&format!(
        " {} ",
        count(&expected["gaps"]["adminsWithoutMfa"])
    )));
    for method in expected["methods"].as_object().expect("methods").keys() {
        assert!(text.contains(method.as_str()), "{method} missing:\n{text}");
    }

    // --max-age 0 asks for a fresh read of Graph.
    let fresh = run(
        &world,
        &[
            "registrations",
            "summary",
            "--tenant",
            tenant,
            "--max-age",
            "0",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(fresh.code, 0, "{}", fresh.stderr);
    assert!(world.report_reads() > reads, "--max-age 0 read Graph again");
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_summary_skips_tenants_without_the_licence_unless_strict() {
    let world = World::start(|_| {}).await;
    let summary = |extra: &[&'static str]| {
        let mut args = vec!["registrations", "summary"];
        args.extend_from_slice(extra);
        args
    };

    let ndjson = run(&world, &summary(&["--all-tenants", "--format", "ndjson"])).await;
    assert_eq!(ndjson.code, 0, "{}", ndjson.stderr);
    let mut lines: Vec<Value> = ndjson
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line per tenant"))
        .collect();
    lines.sort_by_key(|l| l["domain"].as_str().map(str::to_owned));
    assert_eq!(lines.len(), 2, "{}", ndjson.stdout);
    assert_eq!(lines[0]["tenant"], seed::CONTOSO_ID);
    let users = world.contoso_enabled_users();
    assert_eq!(lines[0]["summary"]["totalUsers"], users);
    assert!(lines[0].get("skipped").is_none(), "{}", lines[0]);
    assert_eq!(lines[1]["tenant"], seed::FABRIKAM_ID);
    assert_eq!(lines[1]["skipped"], true, "{}", lines[1]);
    assert!(
        lines[1]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("P1")),
        "{}",
        lines[1]
    );
    assert_eq!(lines[1]["problem"]["code"], "licenseRequired");
    assert_eq!(
        ndjson.stderr.trim(),
        format!(
            "Skipped 1 tenant without the licence the report needs: {} (--strict counts it as failed).",
            seed::FABRIKAM_DOMAIN
        )
    );

    let table = run(&world, &summary(&["--all-tenants"])).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let rows: Vec<&str> = table.stdout.lines().collect();
    assert_eq!(rows.len(), 3, "{}", table.stdout);
    assert!(rows[0].starts_with("TENANT") && rows[0].ends_with("NOTE"));
    let contoso = rows
        .iter()
        .find(|r| r.starts_with(seed::CONTOSO_DOMAIN))
        .expect("contoso row");
    assert_eq!(
        contoso.split_whitespace().nth(1),
        Some(users.to_string().as_str()),
        "{contoso}"
    );
    let fabrikam = rows
        .iter()
        .find(|r| r.starts_with(seed::FABRIKAM_DOMAIN))
        .expect("fabrikam row");
    assert!(
        fabrikam.contains("skipped: licenseRequired: "),
        "{fabrikam}"
    );

    let json = run(&world, &summary(&["--all-tenants", "--format", "json"])).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let array: Vec<Value> = serde_json::from_str(&json.stdout).expect("one JSON array");
    assert_eq!(array.len(), 2);
    assert_eq!(
        array.iter().filter(|t| t["skipped"] == true).count(),
        1,
        "{array:?}"
    );

    // --strict: the missing licence is a failure, and the only one: 7.
    let strict = run(
        &world,
        &summary(&["--all-tenants", "--strict", "--format", "ndjson"]),
    )
    .await;
    assert_eq!(strict.code, 7, "{}", strict.stderr);
    assert_eq!(strict.stdout.lines().count(), 2, "{}", strict.stdout);
    assert!(!strict.stdout.contains("\"skipped\""), "{}", strict.stdout);
    assert_eq!(
        strict.stderr.trim(),
        format!(
            "error: 1 of 2 tenants failed: {} (licenseRequired)",
            seed::FABRIKAM_DOMAIN
        )
    );
    let strict_json = run(
        &world,
        &summary(&["--output", "json", "--all-tenants", "--strict"]),
    )
    .await;
    assert_eq!(strict_json.code, 7, "{}", strict_json.stderr);
    assert_eq!(
        strict_json.stderr.lines().count(),
        1,
        "{}",
        strict_json.stderr
    );
    let problem: Value = serde_json::from_str(&strict_json.stderr).expect("one JSON line");
    assert_eq!(problem["code"], "tenantsFailed", "{problem}");
    assert_eq!(
        problem["tenants"][0]["code"], "licenseRequired",
        "{problem}"
    );

    // Only tenants that succeed: exit 0, one line.
    let one = run(
        &world,
        &summary(&["--tenants", seed::CONTOSO_DOMAIN, "--format", "ndjson"]),
    )
    .await;
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(one.stdout.lines().count(), 1);

    // An unknown tenant is refused before any work.
    let unknown = run(
        &world,
        &summary(&["--tenants", "contoso.onmicrosoft.com,nosuch.example"]),
    )
    .await;
    assert_eq!(unknown.code, 4, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("nosuch.example"),
        "{}",
        unknown.stderr
    );
    assert!(unknown.stdout.is_empty(), "{}", unknown.stdout);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_tenant_that_failed_upstream_is_exit_5_whether_strict_or_not() {
    // One attempt per Graph request: contoso's report read fails at once.
    let world = World::start(|config| config.graph.limits.max_attempts = 1).await;
    world
        .emulator
        .set_faults(vec![FaultRule::new(
            "GET",
            REPORT_PATH,
            Fault::GatewayTimeout,
        )])
        .expect("faults");
    for strict in [false, true] {
        let mut args = vec![
            "registrations",
            "summary",
            "--all-tenants",
            "--max-age",
            "0",
        ];
        if strict {
            args.push("--strict");
        }
        let failed = run(&world, &args).await;
        assert_eq!(failed.code, 5, "strict {strict}: {}", failed.stderr);
        let last = failed.stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains(seed::CONTOSO_DOMAIN),
            "strict {strict}: {}",
            failed.stderr
        );
        assert_eq!(
            last.contains(seed::FABRIKAM_DOMAIN),
            strict,
            "fabrikam is a failure only with --strict: {}",
            failed.stderr
        );
    }
    world.emulator.clear_faults();
    world.stop().await;
}
