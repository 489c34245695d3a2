//! `sspr registration-protection plan | status | apply | promote | demote | generate`: the real
//! binary against a running demo, with the emulator's raw state as the judge of what was written.
//!
//! `apply`, `promote` and `demote` plan first (`PUT …?dryRun=true`), print the plan, ask, then
//! make the real call with the plan's ETag.

use entra_emulator::seed;
use serde_json::{Value, json};
use sspr_service::demo::Demo;

mod common;
use common::{Run, demo, env_with_roles, sspr};

const MARKER: &str = "[sspr:registration-protection]";
const TENANT: [&str; 2] = ["--tenant", "contoso.onmicrosoft.com"];

fn args<'a>(command: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["registration-protection"];
    all.extend_from_slice(command);
    all.extend_from_slice(&TENANT);
    all.extend_from_slice(extra);
    all
}

/// Contoso's policies that carry the marker, as the emulator holds them.
fn ours(demo: &Demo) -> Vec<Value> {
    demo.emulator
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

/// The one policy with the marker: its state and grant controls.
fn deployed(demo: &Demo) -> (String, Value) {
    let stored = ours(demo);
    assert_eq!(stored.len(), 1, "one policy with the marker: {stored:?}");
    (
        stored[0]["state"].as_str().unwrap_or_default().to_owned(),
        stored[0]["grantControls"]["builtInControls"].clone(),
    )
}

fn refused_without_a_terminal(run: &Run) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a terminal") && run.stderr.contains("--yes"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nothing was applied"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_status_read_and_write_nothing() {
    let demo = demo().await;
    let writer = env_with_roles(&demo, &["SSPR.ReadWrite"]);

    let plan = sspr(&args(&["plan"], &[]), &writer).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    for expected in [
        "Registration protection for contoso.onmicrosoft.com: enabledForReportingButNotEnforced",
        "No policy carries the marker: a deploy creates one.",
        "WARNING newHires",
        &format!("user {} (discovered", seed::CONTOSO_BREAK_GLASS_USER),
        "users in scope must still register",
        "\"urn:user:registersecurityinfo\"",
    ] {
        assert!(
            plan.stdout.contains(expected),
            "{expected}\n{}",
            plan.stdout
        );
    }

    let status = sspr(
        &args(&["status"], &[]),
        &env_with_roles(&demo, &["SSPR.Read"]),
    )
    .await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status
            .stdout
            .starts_with("Registration protection for contoso.onmicrosoft.com: "),
        "{}",
        status.stdout
    );
    assert!(ours(&demo).is_empty(), "a plan and a status write nothing");
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_asks_first_and_deploys_the_plan_it_showed() {
    let demo = demo().await;
    let writer = env_with_roles(&demo, &["SSPR.ReadWrite"]);
    let mfa = ["--control", "mfa"];

    // No terminal and no --yes: the plan, a refusal, nothing written.
    let refused = sspr(&args(&["apply"], &mfa), &writer).await;
    refused_without_a_terminal(&refused);
    assert!(
        refused.stdout.starts_with(
            "Plan for contoso.onmicrosoft.com: create the policy, report-only (state after: report-only)."
        ),
        "{}",
        refused.stdout
    );
    assert!(
        refused
            .stdout
            .contains("1. POST /v1.0/identity/conditionalAccess/policies"),
        "the exact Graph call: {}",
        refused.stdout
    );
    assert!(ours(&demo).is_empty(), "refused: nothing written");

    // --dry-run stops after the plan, asking nothing; as JSON on stdout with --output json.
    let dry = sspr(
        &args(&["apply"], &["--control", "mfa", "--dry-run"]),
        &writer,
    )
    .await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stdout.starts_with("Plan for "), "{}", dry.stdout);
    let json = sspr(
        &args(
            &["apply"],
            &["--control", "mfa", "--dry-run", "--output", "json"],
        ),
        &writer,
    )
    .await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let plan: Value = serde_json::from_str(&json.stdout).expect("the plan as JSON");
    assert_eq!(plan["dryRun"], true, "{plan}");
    assert_eq!(plan["result"], "created", "{plan}");
    assert_eq!(plan["calls"][0]["method"], "POST", "{plan}");
    assert!(ours(&demo).is_empty(), "a dry run writes nothing");

    // --yes applies: created report-only, with MFA.
    let applied = sspr(&args(&["apply"], &["--control", "mfa", "--yes"]), &writer).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let (state, grant) = deployed(&demo);
    assert_eq!(state, "enabledForReportingButNotEnforced");
    assert_eq!(grant, json!(["mfa"]));
    let id = ours(&demo)[0]["id"].as_str().expect("id").to_owned();
    assert!(
        applied.stdout.contains(&format!(
            "Created policy {id} in contoso.onmicrosoft.com (enabledForReportingButNotEnforced)."
        )),
        "{}",
        applied.stdout
    );

    // The same again: nothing to apply, so nothing to ask.
    let again = sspr(&args(&["apply"], &mfa), &writer).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("nothing (it already matches)"),
        "{}",
        again.stdout
    );
    assert_eq!(ours(&demo).len(), 1, "never a duplicate");
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_and_demote_change_only_the_state_of_the_reviewed_policy() {
    let demo = demo().await;
    let writer = env_with_roles(&demo, &["SSPR.ReadWrite"]);
    let applied = sspr(&args(&["apply"], &["--control", "mfa", "--yes"]), &writer).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);

    // Refused without a terminal; a dry run shows the state change and the PATCH.
    let refused = sspr(&args(&["promote"], &[]), &writer).await;
    refused_without_a_terminal(&refused);
    let dry = sspr(&args(&["promote"], &["--dry-run"]), &writer).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let row = dry
        .stdout
        .lines()
        .find(|l| l.contains("/state"))
        .unwrap_or_else(|| panic!("no /state row: {}", dry.stdout));
    assert!(
        row.contains("enabledForReportingButNotEnforced") && row.contains("enabled"),
        "{row}"
    );
    assert!(
        dry.stdout
            .contains("PATCH /v1.0/identity/conditionalAccess/policies/"),
        "{}",
        dry.stdout
    );
    assert_eq!(
        deployed(&demo).0,
        "enabledForReportingButNotEnforced",
        "refused and dry runs write nothing"
    );

    // A plain promote after `apply --control mfa` enforces the MFA policy as reviewed.
    let promoted = sspr(&args(&["promote"], &["--yes"]), &writer).await;
    assert_eq!(promoted.code, 0, "{}", promoted.stderr);
    assert_eq!(deployed(&demo), ("enabled".to_owned(), json!(["mfa"])));

    // Changing the control of an enforced policy needs --force: refused with the diff.
    let block = sspr(&args(&["apply"], &["--control", "block", "--yes"]), &writer).await;
    assert_eq!(block.code, 2, "{}", block.stderr);
    assert!(
        block.stderr.contains("/grantControls/builtInControls") && block.stderr.contains("--force"),
        "{}",
        block.stderr
    );
    assert_eq!(deployed(&demo), ("enabled".to_owned(), json!(["mfa"])));

    // Demote: report-only again, the control untouched; with --output json the result alone on
    // stdout and nothing on stderr.
    let demoted = sspr(&args(&["demote"], &["--yes", "--output", "json"]), &writer).await;
    assert_eq!(demoted.code, 0, "{}", demoted.stderr);
    assert!(demoted.stderr.is_empty(), "{}", demoted.stderr);
    let result: Value = serde_json::from_str(&demoted.stdout).expect("the result as JSON");
    assert_eq!(
        result["state"], "enabledForReportingButNotEnforced",
        "{result}"
    );
    assert_eq!(
        deployed(&demo),
        (
            "enabledForReportingButNotEnforced".to_owned(),
            json!(["mfa"])
        )
    );
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_is_refused_while_the_grade_fails_unless_forced_and_needs_a_deployed_policy() {
    let demo = demo().await;
    let writer = env_with_roles(&demo, &["SSPR.ReadWrite"]);

    // Nothing deployed: promote has nothing to promote.
    let nothing = sspr(&args(&["promote"], &["--yes"]), &writer).await;
    assert_eq!(nothing.code, 4, "{}", nothing.stderr);
    assert!(
        nothing
            .stderr
            .contains("sspr registration-protection apply"),
        "{}",
        nothing.stderr
    );

    demo.emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            for location in &mut t.named_locations {
                if location.get("isTrusted").is_some() {
                    location["isTrusted"] = json!(false);
                }
            }
        })
        .expect("contoso");
    let applied = sspr(&args(&["apply"], &["--yes"]), &writer).await;
    assert_eq!(
        applied.code, 0,
        "report-only is allowed: {}",
        applied.stderr
    );

    let refused = sspr(&args(&["promote"], &["--yes"]), &writer).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("refused"), "{}", refused.stderr);
    assert_eq!(deployed(&demo).0, "enabledForReportingButNotEnforced");

    let forced = sspr(&args(&["promote"], &["--yes", "--force"]), &writer).await;
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_eq!(deployed(&demo).0, "enabled");
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generate_prints_the_graph_json_and_bad_options_name_the_field() {
    let demo = demo().await;
    let reader = env_with_roles(&demo, &["SSPR.Read"]);
    let generated = sspr(
        &[
            "registration-protection",
            "generate",
            "--control",
            "compliant-device",
            "--trusted-locations",
            "none",
            "--exclude-users",
            seed::CONTOSO_BREAK_GLASS_USER,
            "--guests",
            "include",
        ],
        &reader,
    )
    .await;
    assert_eq!(generated.code, 0, "{}", generated.stderr);
    let policy: Value = serde_json::from_str(&generated.stdout).expect("Graph JSON on stdout");
    assert_eq!(
        policy["grantControls"]["builtInControls"],
        json!(["compliantDevice"])
    );
    assert!(policy["conditions"].get("locations").is_none());
    assert!(
        policy["conditions"]["users"]
            .get("excludeGuestsOrExternalUsers")
            .is_none()
    );
    assert_eq!(
        policy["conditions"]["users"]["excludeUsers"],
        json!([seed::CONTOSO_BREAK_GLASS_USER])
    );
    assert!(
        generated.stderr.contains("managed device"),
        "{}",
        generated.stderr
    );

    let bad = sspr(
        &args(&["plan"], &["--trusted-locations", "head office"]),
        &reader,
    )
    .await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("field: /trustedLocations/0"),
        "{}",
        bad.stderr
    );

    // A reader may not even plan a deploy (its dry run is refused): exit 3, nothing written.
    let denied = sspr(&args(&["apply"], &["--yes"]), &reader).await;
    assert_eq!(denied.code, 3, "{}", denied.stderr);
    assert!(ours(&demo).is_empty());
    demo.stop().await.expect("stops");
}
