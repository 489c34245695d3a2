//! The tenancy commands of the `sspr` binary against a running demo (emulator + service): a
//! tenant onboarded at run time with the default app and with a client secret from standard
//! input, listed, verified, given a consent link, retagged and offboarded; access grants made,
//! listed and revoked; the partner's GDAP customers. The operator's tenant (Northwind) is the
//! one onboarded: the emulator knows it and the demo's configuration does not manage it.

use entra_emulator::seed;
use serde_json::Value;
use sspr_client::error::exit;
use sspr_service::demo::Demo;

mod common;
use common::{Run, demo, sspr, sspr_with_stdin};

/// The tag the test's tenant carries, and that the demo operator is granted first, so the
/// tenant is the operator's to see whatever the service grants by default.
const TEST_TAG: &str = "cli-test";

fn admin_env(demo: &Demo) -> Vec<(&'static str, String)> {
    vec![
        ("SSPR_URL", demo.service.url.to_string()),
        ("SSPR_TOKEN", demo.admin_token.clone()),
    ]
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: stdout {} stderr {}", run.stdout, run.stderr))
}

/// Runs `sspr --output json …` and expects success.
async fn json_of(args: &[&str], env: &[(&str, String)]) -> Value {
    let mut all = vec!["--output", "json"];
    all.extend_from_slice(args);
    let run = sspr(&all, env).await;
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    json(&run)
}

/// Grants the demo operator SSPR.Admin on the tenants tagged [`TEST_TAG`].
async fn grant_the_test_tag(env: &[(&str, String)]) -> String {
    let tag = format!("tag:{TEST_TAG}");
    let grant = json_of(
        &[
            "access",
            "grant",
            "--principal",
            seed::DEMO_OPERATOR_OID,
            "--tenants",
            &tag,
            "--role",
            "SSPR.Admin",
        ],
        env,
    )
    .await;
    assert_eq!(grant["tenants"], serde_json::json!([tag]), "{grant:#}");
    grant["id"].as_str().expect("a grant id").to_owned()
}

/// Verifies the tenant: the verdict as JSON, with the exit code the CLI documents (0 when every
/// feature is available, 8 naming the unavailable ones otherwise).
async fn verify(tenant: &str, env: &[(&str, String)]) -> Value {
    let run = sspr(
        &["--output", "json", "tenants", "verify", "--tenant", tenant],
        env,
    )
    .await;
    let verdict = json(&run);
    assert_eq!(verdict["tokenIssued"], true, "{verdict:#}");
    let unavailable: Vec<&str> = verdict["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter(|f| f["available"] == false)
        .map(|f| f["feature"].as_str().expect("a feature name"))
        .collect();
    if unavailable.is_empty() {
        assert_eq!(run.code, 0, "{}", run.stderr);
    } else {
        assert_eq!(run.code, exit::UNAVAILABLE, "{}", run.stderr);
        let line: Value = serde_json::from_str(run.stderr.trim()).expect("one JSON line");
        assert_eq!(line["features"], serde_json::json!(unavailable), "{line:#}");
    }
    verdict
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_is_onboarded_verified_retagged_and_offboarded_without_a_restart() {
    let demo = demo().await;
    let env = admin_env(&demo);
    grant_the_test_tag(&env).await;
    let tenant = seed::OPERATOR_DOMAIN;

    // Onboarded on the service-wide app, usable at once.
    let added = sspr(
        &[
            "tenants",
            "add",
            "--tenant",
            tenant,
            "--display-name",
            "Northwind (CLI test)",
            "--tag",
            TEST_TAG,
            "--credential",
            "default",
        ],
        &env,
    )
    .await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    assert!(
        added.stdout.contains(seed::OPERATOR_ID)
            && added.stdout.contains("Origin: api")
            && added.stdout.contains("Credential: default")
            && added.stdout.contains("sspr tenants consent-url --tenant"),
        "{}",
        added.stdout
    );
    let again = sspr(
        &[
            "tenants",
            "add",
            "--tenant",
            tenant,
            "--credential",
            "default",
        ],
        &env,
    )
    .await;
    assert_eq!(again.code, exit::CONFLICT, "{}", again.stderr);

    // Listed, and selected by its tag.
    let tagged = sspr(&["tenants", "list", "--tag", TEST_TAG], &env).await;
    assert_eq!(tagged.code, 0, "{}", tagged.stderr);
    assert!(
        tagged.stdout.contains(seed::OPERATOR_ID)
            && tagged.stdout.contains(TEST_TAG)
            && !tagged.stdout.contains(seed::CONTOSO_ID),
        "{}",
        tagged.stdout
    );
    let shown = json_of(&["tenants", "show", "--tenant", tenant], &env).await;
    assert_eq!(shown["id"], seed::OPERATOR_ID);
    assert_eq!(shown["origin"], "api");
    assert_eq!(shown["credential"]["kind"], "default");

    // Verified: the verdict is kept and shown with the tenant.
    let verdict = verify(tenant, &env).await;
    let shown = json_of(&["tenants", "show", "--tenant", tenant], &env).await;
    assert_eq!(shown["verification"], verdict, "{shown:#}");
    assert_ne!(shown["health"]["status"], "unverified", "{shown:#}");

    // The consent link alone on stdout, for `open $(…)`.
    let link = sspr(
        &[
            "tenants",
            "consent-url",
            "--tenant",
            tenant,
            "--redirect-uri",
            "https://msp.example/consented",
        ],
        &env,
    )
    .await;
    assert_eq!(link.code, 0, "{}", link.stderr);
    assert_eq!(link.stdout.lines().count(), 1, "{}", link.stdout);
    let url = url::Url::parse(link.stdout.trim()).expect("a URL");
    assert!(
        url.path()
            .ends_with(&format!("{}/v2.0/adminconsent", seed::OPERATOR_ID)),
        "{url}"
    );
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    for (name, value) in [
        ("scope", "https://graph.microsoft.com/.default"),
        ("redirect_uri", "https://msp.example/consented"),
    ] {
        assert!(
            query.iter().any(|(n, v)| n == name && v == value),
            "{name}={value} in {url}"
        );
    }

    // Retagged: the tags given replace the tags it had.
    let updated = json_of(
        &[
            "tenants",
            "update",
            "--tenant",
            tenant,
            "--tag",
            TEST_TAG,
            "--tag",
            "region:eu",
        ],
        &env,
    )
    .await;
    assert_eq!(
        updated["tags"],
        serde_json::json!([TEST_TAG, "region:eu"]),
        "{updated:#}"
    );
    let eu = sspr(&["tenants", "list", "--tag", "region:eu"], &env).await;
    assert!(eu.stdout.contains(seed::OPERATOR_ID), "{}", eu.stdout);

    // A config tenant is read-only.
    let read_only = sspr(
        &[
            "tenants",
            "update",
            "--tenant",
            seed::CONTOSO_DOMAIN,
            "--tag",
            "x",
        ],
        &env,
    )
    .await;
    assert_eq!(read_only.code, exit::CONFLICT, "{}", read_only.stderr);

    // Offboarded: refused without a terminal and without --yes, done with --yes.
    let unconfirmed = sspr(&["tenants", "remove", "--tenant", tenant], &env).await;
    assert_eq!(unconfirmed.code, exit::USAGE, "{}", unconfirmed.stderr);
    assert!(
        unconfirmed.stderr.contains("--yes"),
        "{}",
        unconfirmed.stderr
    );
    json_of(&["tenants", "show", "--tenant", tenant], &env).await;
    let removed = sspr(&["tenants", "remove", "--tenant", tenant, "--yes"], &env).await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert!(removed.stdout.contains("Removed"), "{}", removed.stdout);
    let gone = sspr(&["tenants", "show", "--tenant", tenant], &env).await;
    assert_eq!(gone.code, exit::NOT_FOUND, "{}", gone.stderr);
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_from_stdin_or_the_environment_works_and_is_never_shown() {
    let demo = demo().await;
    let env = admin_env(&demo);
    grant_the_test_tag(&env).await;
    let tenant = seed::OPERATOR_DOMAIN;
    let secret = demo.emulator.graph_app_secret();
    let mut runs = Vec::new();

    let added = sspr_with_stdin(
        &[
            "tenants",
            "add",
            "--tenant",
            tenant,
            "--tag",
            TEST_TAG,
            "--credential",
            "client-secret",
            "--app-id",
            seed::GRAPH_APP_CLIENT_ID,
            "--client-secret-stdin",
        ],
        &env,
        Some(&format!("{secret}\n")),
    )
    .await;
    assert_eq!(added.code, 0, "{}", added.stderr);
    assert!(
        added.stdout.contains("Credential: clientSecret")
            && added.stdout.contains("secret kept: encrypted"),
        "{}",
        added.stdout
    );
    runs.push(added);

    // The secret sent is the one that works: the service gets a token with it.
    let shown = sspr(
        &["--output", "json", "tenants", "verify", "--tenant", tenant],
        &env,
    )
    .await;
    assert_eq!(json(&shown)["tokenIssued"], true, "{}", shown.stdout);
    runs.push(shown);
    for args in [
        &["--output", "json", "tenants", "show", "--tenant", tenant][..],
        &["tenants", "show", "--tenant", tenant][..],
        &["--output", "json", "tenants", "list"][..],
    ] {
        let run = sspr(args, &env).await;
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        runs.push(run);
    }

    // From the environment, through an update; a wrong secret fails the next verification.
    let mut with_secret = env.clone();
    with_secret.push(("SSPR_TENANT_CLIENT_SECRET", "not-the-secret".to_owned()));
    let updated = sspr(
        &[
            "--output",
            "json",
            "tenants",
            "update",
            "--tenant",
            tenant,
            "--credential",
            "client-secret",
            "--app-id",
            seed::GRAPH_APP_CLIENT_ID,
        ],
        &with_secret,
    )
    .await;
    assert_eq!(updated.code, 0, "{}", updated.stderr);
    assert_eq!(json(&updated)["credential"]["secretStorage"], "encrypted");
    let refused = sspr(&["tenants", "verify", "--tenant", tenant], &env).await;
    assert_eq!(refused.code, exit::AUTH, "{}", refused.stderr);
    assert!(
        refused.stdout.contains("No token was issued"),
        "{}",
        refused.stdout
    );
    assert!(
        !refused.stderr.contains("not-the-secret"),
        "{}",
        refused.stderr
    );
    runs.push(updated);
    runs.push(refused);

    for run in &runs {
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains(&secret), "the secret was shown: {text}");
        }
    }
    let removed = sspr(&["tenants", "remove", "--tenant", tenant, "--yes"], &env).await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_is_granted_listed_and_revoked() {
    let demo = demo().await;
    let env = admin_env(&demo);

    let grant = json_of(
        &[
            "access",
            "grant",
            "--principal",
            seed::CLI_APP_CLIENT_ID,
            "--tenants",
            "tag:region:eu",
            "--role",
            "SSPR.Read",
        ],
        &env,
    )
    .await;
    assert_eq!(grant["principal"], seed::CLI_APP_CLIENT_ID);
    assert_eq!(grant["role"], "SSPR.Read");
    assert_eq!(grant["origin"], "api");
    let id = grant["id"].as_str().expect("an id").to_owned();

    let listed = json_of(&["access", "list"], &env).await;
    let grants = listed.as_array().expect("the grants as an array");
    assert!(grants.iter().any(|g| g["id"] == id.as_str()), "{listed:#}");
    assert!(
        grants.iter().any(|g| g["origin"] == "config"),
        "the configuration's grants are listed too: {listed:#}"
    );
    let table = sspr(&["access", "list"], &env).await;
    assert!(
        table.stdout.contains(&id) && table.stdout.contains("tag:region:eu"),
        "{}",
        table.stdout
    );

    let unconfirmed = sspr(&["access", "revoke", "--id", &id], &env).await;
    assert_eq!(unconfirmed.code, exit::USAGE, "{}", unconfirmed.stderr);
    let revoked = sspr(&["access", "revoke", "--id", &id, "--yes"], &env).await;
    assert_eq!(revoked.code, 0, "{}", revoked.stderr);
    assert!(
        revoked.stdout.contains(&format!("Revoked grant {id}")),
        "{}",
        revoked.stdout
    );
    let listed = json_of(&["access", "list"], &env).await;
    assert!(
        !listed
            .as_array()
            .expect("grants")
            .iter()
            .any(|g| g["id"] == id.as_str()),
        "{listed:#}"
    );
    let again = sspr(&["access", "revoke", "--id", &id, "--yes"], &env).await;
    assert_eq!(again.code, exit::NOT_FOUND, "{}", again.stderr);
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partners_customers_say_which_are_onboarded() {
    let demo = demo().await;
    let env = admin_env(&demo);
    let customers = json_of(&["partner", "customers"], &env).await;
    assert_eq!(
        customers["partnerTenantId"],
        seed::OPERATOR_ID,
        "{customers:#}"
    );
    let onboarded: Vec<String> = json_of(&["tenants", "list"], &env)
        .await
        .as_array()
        .expect("tenants")
        .iter()
        .map(|t| t["id"].as_str().expect("an id").to_owned())
        .collect();
    for customer in customers["value"].as_array().expect("customers") {
        let id = customer["tenantId"].as_str().expect("a tenant id");
        assert_eq!(
            customer["onboarded"],
            onboarded.iter().any(|t| t == id),
            "{customer:#}"
        );
    }
    let table = sspr(&["partner", "customers"], &env).await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(
        table.stdout.starts_with("Partner tenant: "),
        "{}",
        table.stdout
    );
    demo.stop().await.expect("stops");
}

/// Conditional Access writes the emulator received for Tailspin.
fn tailspin_ca_writes(demo: &Demo) -> usize {
    demo.emulator
        .calls()
        .iter()
        .filter(|c| {
            c.method != "GET"
                && c.path.contains("identity/conditionalAccess")
                && c.tenant_id.as_deref() == Some(seed::TAILSPIN_ID)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_tenant_without_the_ca_permission_is_named_by_verify_and_protection_is_refused() {
    let demo = demo().await;
    let env = admin_env(&demo);
    let tenant = ["--tenant", seed::TAILSPIN_DOMAIN];

    // Onboarded by the demo through the API, with workload identity.
    let shown = json_of(
        &["tenants", "show", "--tenant", seed::TAILSPIN_DOMAIN],
        &env,
    )
    .await;
    assert_eq!(shown["origin"], "api");
    assert_eq!(shown["credential"]["kind"], "workloadIdentity");

    let verified = sspr(&[&["tenants", "verify"][..], &tenant].concat(), &env).await;
    assert_eq!(
        verified.code,
        exit::UNAVAILABLE,
        "{}{}",
        verified.stdout,
        verified.stderr
    );
    let line = verified
        .stdout
        .lines()
        .find(|l| l.contains("conditionalAccess"))
        .unwrap_or_else(|| panic!("{}", verified.stdout));
    assert!(
        line.contains("Policy.ReadWrite.ConditionalAccess"),
        "{line}"
    );

    let applied = sspr(
        &[
            &["registration-protection", "apply"][..],
            &tenant,
            &["--control", "mfa", "--yes"],
        ]
        .concat(),
        &env,
    )
    .await;
    assert_eq!(
        applied.code,
        exit::AUTH,
        "{}{}",
        applied.stdout,
        applied.stderr
    );
    assert!(
        applied
            .stderr
            .contains("Policy.ReadWrite.ConditionalAccess"),
        "{}",
        applied.stderr
    );
    assert_eq!(tailspin_ca_writes(&demo), 0, "no Graph write was made");
    demo.stop().await.expect("stops");
}
