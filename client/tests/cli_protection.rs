//! `sspr registration-protection plan | status | apply | promote` and `sspr generate`: the real
//! binary against a running demo, with the emulator's raw state as the judge of what was written.

use entra_emulator::seed;
use serde_json::{Value, json};
use sspr_service::demo::Demo;

mod common;
use common::{demo, env_with_roles, sspr};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_apply_status_and_promote_deploy_one_policy_in_steps() {
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
    assert!(ours(&demo).is_empty(), "a plan writes nothing");

    let applied = sspr(&args(&["apply"], &[]), &writer).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let stored = ours(&demo);
    assert_eq!(stored.len(), 1);
    let id = stored[0]["id"].as_str().expect("id").to_owned();
    assert!(
        applied.stdout.starts_with(&format!(
            "Created policy {id} in contoso.onmicrosoft.com (enabledForReportingButNotEnforced)."
        )),
        "{}",
        applied.stdout
    );

    let again = sspr(&args(&["apply"], &[]), &writer).await;
    assert!(
        again.stdout.starts_with(&format!("Unchanged: policy {id}")),
        "{}",
        again.stdout
    );

    let status = sspr(
        &args(&["status"], &[]),
        &env_with_roles(&demo, &["SSPR.Read"]),
    )
    .await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(status.stdout.contains("POLICY") && status.stdout.contains("VERDICT"));
    assert!(
        status.stdout.contains("warning state: Report-only"),
        "{}",
        status.stdout
    );

    let promoted = sspr(&args(&["promote"], &[]), &writer).await;
    assert_eq!(promoted.code, 0, "{}", promoted.stderr);
    assert!(
        promoted.stdout.starts_with(&format!(
            "Updated policy {id} in contoso.onmicrosoft.com (enabled): changed state."
        )),
        "{}",
        promoted.stdout
    );
    assert_eq!(ours(&demo)[0]["state"], "enabled");

    let json = sspr(
        &[
            "--output",
            "json",
            "registration-protection",
            "status",
            "--tenant",
            "contoso.onmicrosoft.com",
        ],
        &writer,
    )
    .await;
    let status: Value = serde_json::from_str(&json.stdout).expect("JSON status");
    assert_eq!(status["verdict"], "pass", "{status:#}");
    assert_eq!(status["ours"], id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promotion_with_plan_errors_is_refused_with_the_reason_unless_forced() {
    let demo = demo().await;
    demo.emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            for location in &mut t.named_locations {
                if location.get("isTrusted").is_some() {
                    location["isTrusted"] = json!(false);
                }
            }
        })
        .expect("contoso");
    let writer = env_with_roles(&demo, &["SSPR.ReadWrite"]);
    let refused = sspr(&args(&["promote"], &[]), &writer).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("Enforcing the policy was refused: the plan has errors"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("no trusted named location"),
        "{}",
        refused.stderr
    );
    assert!(ours(&demo).is_empty());

    let forced = sspr(&args(&["promote"], &["--force"]), &writer).await;
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(
        forced.stdout.contains("ERROR   noTrustedLocation"),
        "{}",
        forced.stdout
    );
    assert_eq!(ours(&demo)[0]["state"], "enabled");
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

    let denied = sspr(&args(&["apply"], &[]), &reader).await;
    assert_eq!(denied.code, 3, "{}", denied.stderr);
    assert!(ours(&demo).is_empty());
}
