//! `sspr policy diff | set`: the real binary against a running demo (emulator + service), with
//! the emulator's raw state as the judge of what changed.

use std::time::Duration;

use entra_emulator::{Fault, FaultRule, TokenSpec, seed};
use serde_json::{Value, json};
use sspr_client::{Auth, ClientOptions, PolicyPlan, SsprClient};
use sspr_service::demo::Demo;

mod common;
use common::{demo, sspr};

fn env(demo: &Demo, token: String) -> Vec<(&'static str, String)> {
    vec![
        ("SSPR_URL", demo.service.url.to_string()),
        ("SSPR_TOKEN", token),
    ]
}

/// Contoso's raw policy state in the emulator: both portal objects, the authorization policy
/// and the Authentication methods policy.
fn contoso_state(demo: &Demo) -> Value {
    demo.emulator
        .with_tenant(seed::CONTOSO_ID, |t| {
            json!({
                "portal": t.password_reset_policies,
                "onPremises": t.on_premises_password_reset_policies,
                "authorization": t.authorization_policy,
                "methods": t.authentication_methods_policy,
            })
        })
        .expect("contoso")
}

/// A change touching the portal (reconfirm days) and Graph (admin SSPR).
const CHANGE: [&str; 6] = [
    "--tenant",
    "contoso.onmicrosoft.com",
    "--reconfirm-days",
    "90",
    "--admin-sspr",
    "on",
];

fn args<'a>(command: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["policy"];
    all.extend_from_slice(command);
    all.extend_from_slice(&CHANGE);
    all.extend_from_slice(extra);
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_shows_the_fields_and_calls_and_changes_nothing() {
    let demo = demo().await;
    let env = env(&demo, demo.token.clone());
    let before = contoso_state(&demo);
    assert_eq!(
        before["portal"]["registrationReconfirmIntevalInDays"], 180,
        "seed"
    );
    assert_eq!(before["authorization"]["allowedToUseSSPR"], false, "seed");

    let table = sspr(&args(&["diff"], &[]), &env).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    let out = &table.stdout;
    assert!(
        out.starts_with("2 changes to contoso.onmicrosoft.com:"),
        "{out}"
    );
    for column in ["FIELD", "BEFORE", "AFTER", "SOURCE"] {
        assert!(out.contains(column), "{column}:\n{out}");
    }
    let row = |pointer: &str| {
        out.lines()
            .find(|l| l.contains(pointer))
            .unwrap_or_else(|| panic!("no row for {pointer}:\n{out}"))
            .to_owned()
    };
    let days = row("/registration/reconfirmDays");
    assert!(
        days.contains("180") && days.contains("90") && days.contains("portal"),
        "{days}"
    );
    let admins = row("/administrators/allowedToUseSspr");
    assert!(
        admins.contains("false") && admins.contains("true") && admins.contains("graph"),
        "{admins}"
    );
    assert!(out.contains("Upstream calls"), "{out}");
    assert!(
        out.contains("PATCH /v1.0/policies/authorizationPolicy — "),
        "{out}"
    );
    assert!(
        out.contains("PUT /api/PasswordReset/PasswordResetPolicies — "),
        "{out}"
    );
    assert_eq!(contoso_state(&demo), before, "a diff changes nothing");

    let json = sspr(&args(&["diff"], &["--output", "json"]), &env).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let plan: Value = serde_json::from_str(&json.stdout).expect("json output");
    let pointers: Vec<&str> = plan["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["pointer"].as_str())
        .collect();
    assert_eq!(
        pointers,
        [
            "/registration/reconfirmDays",
            "/administrators/allowedToUseSspr"
        ]
    );
    assert!(
        plan["steps"].as_array().is_some_and(|s| s.len() >= 2),
        "{plan}"
    );
    assert!(plan["findings"].is_array(), "{plan}");
    assert_eq!(contoso_state(&demo), before, "a diff changes nothing");
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_asks_unless_yes_and_dry_run_stops_after_the_plan() {
    let demo = demo().await;
    let env = env(&demo, demo.token.clone());
    let before = contoso_state(&demo);

    // --dry-run prints the plan and changes nothing.
    let dry = sspr(&args(&["set"], &["--dry-run"]), &env).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("/registration/reconfirmDays"),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("Applied"), "{}", dry.stdout);
    assert_eq!(contoso_state(&demo), before);

    // Standard input is not a terminal and there is no --yes: the plan, a refusal, no change.
    let refused = sspr(&args(&["set"], &[]), &env).await;
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(
        refused.stdout.contains("/administrators/allowedToUseSspr"),
        "the plan is shown first:\n{}",
        refused.stdout
    );
    assert_eq!(contoso_state(&demo), before);

    // --yes applies, and the result shows the changed groups.
    let applied = sspr(&args(&["set"], &["--yes"]), &env).await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    assert!(
        applied
            .stdout
            .contains("Applied 2 changes to contoso.onmicrosoft.com (audit record "),
        "{}",
        applied.stdout
    );
    assert!(
        applied.stdout.contains("reconfirmDays"),
        "{}",
        applied.stdout
    );
    let after = contoso_state(&demo);
    assert_eq!(after["portal"]["registrationReconfirmIntevalInDays"], 90);
    assert_eq!(after["authorization"]["allowedToUseSSPR"], true);
    // Read-modify-write: the portal fields not changed are as they were.
    assert_eq!(
        after["portal"]["notifyOnAdminPasswordReset"],
        before["portal"]["notifyOnAdminPasswordReset"]
    );
    assert_eq!(after["onPremises"], before["onPremises"]);

    // The same change again: nothing to do, nothing asked.
    let again = sspr(&args(&["set"], &[]), &env).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stdout.contains("No changes"), "{}", again.stdout);
    assert_eq!(contoso_state(&demo), after);
    let again = sspr(&args(&["set"], &["--output", "json"]), &env).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let unchanged: Value = serde_json::from_str(&again.stdout).expect("json output");
    assert_eq!(unchanged["changed"], false, "{unchanged}");
    assert_eq!(unchanged["fields"], json!([]), "{unchanged}");
    assert_eq!(unchanged["auditRecordId"], Value::Null, "{unchanged}");
    assert_eq!(
        unchanged["policy"]["registration"]["reconfirmDays"], 90,
        "{unchanged}"
    );

    // --output json: what changed, its audit record and the document as read back, and
    // nothing else, on stdout; nothing on stderr.
    let json = sspr(
        &[
            "policy",
            "set",
            "--tenant",
            "contoso.com",
            "--notify-admins",
            "off",
            "--yes",
            "--output",
            "json",
        ],
        &env,
    )
    .await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    assert!(json.stderr.is_empty(), "{}", json.stderr);
    let outcome: Value = serde_json::from_str(&json.stdout).expect("json output");
    assert_eq!(outcome["changed"], true, "{outcome}");
    assert_eq!(
        outcome["fields"],
        json!(["/notifications/notifyAdminsOnAdminReset"]),
        "{outcome}"
    );
    assert_eq!(
        outcome["policy"]["notifications"]["notifyAdminsOnAdminReset"], false,
        "{outcome}"
    );
    assert_eq!(
        contoso_state(&demo)["portal"]["notifyOnAdminPasswordReset"],
        false
    );
    // The service names the audit record in `audit-record-id` (null when it sends none): it is
    // the record of this change.
    match &outcome["auditRecordId"] {
        Value::Null => {}
        id => {
            let id = id.as_i64().expect("an integer id");
            let admin = demo.emulator.mint_token(&TokenSpec {
                roles: vec!["SSPR.Admin".to_owned()],
                lifetime: Duration::from_secs(600),
                ..TokenSpec::default()
            });
            let audit = sspr(
                &[
                    "--output",
                    "json",
                    "audit",
                    "list",
                    "--tenant",
                    "contoso.com",
                ],
                &self::env(&demo, admin),
            )
            .await;
            let records: Value = serde_json::from_str(&audit.stdout).expect("audit JSON");
            let record = records
                .as_array()
                .and_then(|r| r.iter().find(|r| r["id"] == id))
                .unwrap_or_else(|| panic!("no audit record {id}: {records}"));
            assert_eq!(record["operation"], "policy.patch", "{record}");
        }
    }
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_print_the_pointer_and_change_nothing() {
    let demo = demo().await;
    let env = env(&demo, demo.token.clone());
    let before = contoso_state(&demo);
    let dir = tempfile::tempdir().expect("temp dir");

    // A rule violation from a YAML file: exit 2 and `pointer: message` on stderr.
    let yaml = dir.path().join("patch.yaml");
    std::fs::write(&yaml, "registration:\n  reconfirmDays: 1000\n").expect("write");
    let invalid = sspr(
        &[
            "policy",
            "set",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--file",
            yaml.to_str().expect("utf-8 path"),
            "--yes",
        ],
        &env,
    )
    .await;
    assert_eq!(invalid.code, 2, "{}", invalid.stderr);
    assert!(
        invalid
            .stderr
            .lines()
            .any(|l| l.starts_with("/registration/reconfirmDays: ")),
        "{}",
        invalid.stderr
    );
    assert_eq!(contoso_state(&demo), before);

    // An unknown field in a JSON file: the pointer too.
    let json = dir.path().join("patch.json");
    std::fs::write(&json, r#"{"registration": {"reconfirmDayz": 90}}"#).expect("write");
    let unknown = sspr(
        &[
            "policy",
            "diff",
            "--tenant",
            "contoso.onmicrosoft.com",
            "--file",
            json.to_str().expect("utf-8 path"),
        ],
        &env,
    )
    .await;
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("/registration/reconfirmDayz"),
        "{}",
        unknown.stderr
    );

    // Fabrikam has no portal connector: a portal setting is refused, saying how to enable it.
    let unavailable = sspr(
        &[
            "policy",
            "set",
            "--tenant",
            "fabrikam.onmicrosoft.com",
            "--notify-users",
            "off",
            "--yes",
        ],
        &env,
    )
    .await;
    assert_eq!(
        unavailable.code, 7,
        "the connector is missing: {}",
        unavailable.stderr
    );
    assert!(
        unavailable
            .stderr
            .contains("/notifications/notifyUsersOnReset"),
        "{}",
        unavailable.stderr
    );
    assert!(
        unavailable.stderr.contains("portal connector"),
        "{}",
        unavailable.stderr
    );

    // Read-only callers may plan nothing and change nothing.
    let reader = demo.emulator.mint_token(&TokenSpec {
        roles: vec!["SSPR.Read".to_owned()],
        lifetime: Duration::from_secs(600),
        ..TokenSpec::default()
    });
    let forbidden = sspr(&args(&["set"], &["--yes"]), &self::env(&demo, reader)).await;
    assert_eq!(forbidden.code, 3, "{}", forbidden.stderr);
    assert!(
        forbidden.stderr.contains("SSPR.ReadWrite"),
        "{}",
        forbidden.stderr
    );

    // Nothing to change is a usage error before any request.
    let nothing = sspr(
        &["policy", "diff", "--tenant", "contoso.onmicrosoft.com"],
        &env,
    )
    .await;
    assert_eq!(nothing.code, 2, "{}", nothing.stderr);
    assert!(
        nothing.stderr.contains("nothing to change"),
        "{}",
        nothing.stderr
    );

    assert_eq!(contoso_state(&demo), before);
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_library_plans_applies_and_refuses_a_stale_etag() {
    let demo = demo().await;
    let client = SsprClient::new(
        demo.service.url.clone(),
        Auth::Token(demo.token.clone()),
        ClientOptions::default(),
    )
    .expect("client");
    let tenant = "contoso.onmicrosoft.com";
    let before = contoso_state(&demo);
    let (read, etag) = client.get_policy_with_etag(tenant).await.expect("get");
    let document = read.document;
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(document["findings"].is_array(), "{document}");

    let patch = json!({"notifications": {"notifyUsersOnReset": false}});
    let plan: PolicyPlan = client
        .plan_policy_change(tenant, &patch, &etag)
        .await
        .expect("dry run")
        .value;
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].pointer, "/notifications/notifyUsersOnReset");
    assert_eq!(plan.changes[0].source.as_deref(), Some("portal"));
    assert_eq!(contoso_state(&demo), before);

    let applied = client
        .apply_policy_change(tenant, &patch, &etag)
        .await
        .expect("apply");
    assert_eq!(
        applied.document["notifications"]["notifyUsersOnReset"],
        false
    );
    let new_etag = applied.etag.expect("a new ETag");
    assert_ne!(new_etag, etag);
    assert_eq!(
        contoso_state(&demo)["portal"]["notifyUsersOnPasswordReset"],
        false
    );

    // The ETag read before that change is stale now: 412, which the CLI maps to 6.
    let stale = client
        .apply_policy_change(
            tenant,
            &json!({"registration": {"reconfirmDays": 30}}),
            &etag,
        )
        .await
        .expect_err("stale");
    assert_eq!(stale.status(), Some(412), "{stale}");
    assert_eq!(stale.exit_code(), 6);

    // Rule violations come with their pointers.
    let invalid = client
        .plan_policy_change(
            tenant,
            &json!({"registration": {"reconfirmDays": 1000}}),
            &new_etag,
        )
        .await
        .expect_err("invalid");
    assert_eq!(invalid.status(), Some(422));
    let pointers: Vec<String> = invalid
        .violations()
        .into_iter()
        .map(|v| v.pointer)
        .collect();
    assert_eq!(pointers, ["/registration/reconfirmDays"]);
    demo.stop().await.expect("stops");
}

const PORTAL_POLICY: &str = "/api/PasswordReset/PasswordResetPolicies";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_meanwhile_stops_set_with_exit_6_and_applies_nothing() {
    let demo = demo().await;
    let env = env(&demo, demo.token.clone());
    // Every read of the portal policy takes a while, so another change can land between the
    // CLI's read (whose ETag it sends) and its PATCH.
    demo.emulator
        .set_faults(vec![FaultRule {
            latency_ms: 1500,
            fault: None,
            ..FaultRule::new("GET", PORTAL_POLICY, Fault::GatewayTimeout)
        }])
        .expect("faults");
    let reads = || {
        demo.emulator
            .calls()
            .iter()
            .filter(|c| c.method == "GET" && c.path.eq_ignore_ascii_case(PORTAL_POLICY))
            .count()
    };
    let before = reads();
    let set_args = args(&["set"], &["--yes"]);
    let set = sspr(&set_args, &env);
    let meddle = async {
        // Once the CLI's read has been answered, somebody changes the policy in the portal.
        while reads() == before {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        demo.emulator
            .with_tenant(seed::CONTOSO_ID, |t| {
                t.password_reset_policies["registrationReconfirmIntevalInDays"] = json!(30);
            })
            .expect("contoso");
    };
    let (stale, ()) = tokio::join!(set, meddle);
    demo.emulator.clear_faults();
    assert_eq!(stale.code, 6, "{}", stale.stderr);
    assert!(
        stale
            .stderr
            .contains("nothing was applied: run the command again"),
        "{}",
        stale.stderr
    );
    let after = contoso_state(&demo);
    assert_eq!(
        after["portal"]["registrationReconfirmIntevalInDays"], 30,
        "the other change stays"
    );
    assert_eq!(
        after["authorization"]["allowedToUseSSPR"], false,
        "nothing of this change was applied"
    );
    demo.stop().await.expect("stops");
}
