//! The `sspr` binary against a running demo (emulator + service), as a user runs it.

use entra_emulator::seed;
use sspr_service::demo::{Demo, DemoOptions, start};

mod common;
use common::sspr;

/// The demo on free ports with a store of its own.
async fn demo() -> Demo {
    start(DemoOptions {
        port: 0,
        emulator_port: 0,
        store: None,
    })
    .await
    .expect("demo")
}

fn with_token(demo: &Demo, token: String) -> Vec<(&'static str, String)> {
    vec![
        ("SSPR_URL", demo.service.url.to_string()),
        ("SSPR_TOKEN", token),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_get_prints_contosos_policy_with_sources() {
    let demo = demo().await;
    let env = with_token(&demo, demo.token.clone());

    let table = sspr(
        &["policy", "get", "--tenant", "contoso.onmicrosoft.com"],
        &env,
    )
    .await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.contains("Contoso"), "{}", table.stdout);
    // Contoso has the portal connector in the demo: portal and Graph values side by side.
    for word in [
        "graph",
        "portal",
        "migrationInProgress",
        "allowedToUseSspr",
        "methodsRequired",
        "reconfirmDays",
    ] {
        assert!(
            table.stdout.contains(word),
            "table lacks {word}:\n{}",
            table.stdout
        );
    }

    let json = sspr(
        &[
            "policy",
            "get",
            "--tenant",
            "fabrikam.onmicrosoft.com",
            "--output",
            "json",
        ],
        &env,
    )
    .await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let document: serde_json::Value = serde_json::from_str(&json.stdout).expect("json output");
    assert_eq!(document["tenant"]["id"], seed::FABRIKAM_ID);
    assert_eq!(document["methods"]["source"], "unavailable");

    let tenants = sspr(&["tenants", "list", "--output", "json"], &env).await;
    assert_eq!(tenants.code, 0, "{}", tenants.stderr);
    let tenants: serde_json::Value = serde_json::from_str(&tenants.stdout).expect("json output");
    // Contoso and Fabrikam from the configuration, Tailspin onboarded by the demo.
    assert_eq!(tenants.as_array().map(Vec::len), Some(3));
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_against_the_authority_work_and_the_token_is_fetched_once() {
    let demo = demo().await;
    let authority = demo
        .emulator
        .base_url()
        .join(&format!("{}/", seed::OPERATOR_ID))
        .expect("authority");
    let env = vec![
        ("SSPR_URL", demo.service.url.to_string()),
        ("SSPR_AUTHORITY", authority.to_string()),
        ("SSPR_CLIENT_ID", seed::CLI_APP_CLIENT_ID.to_owned()),
        ("SSPR_CLIENT_SECRET", demo.emulator.cli_app_secret()),
        (
            "SSPR_CA_FILE",
            demo.emulator.ca_file().display().to_string(),
        ),
    ];
    let run = sspr(&["tenants", "list"], &env).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("contoso.onmicrosoft.com"),
        "{}",
        run.stdout
    );
    assert_eq!(demo.emulator.token_requests(seed::OPERATOR_ID), 1);

    let mut wrong = env.clone();
    wrong[3].1 = "not-the-secret".into();
    let refused = sspr(&["tenants", "list"], &wrong).await;
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("invalid_client"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("not-the-secret"));
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_map_to_exit_codes_with_the_problem_on_stderr() {
    let demo = demo().await;

    let unknown = sspr(
        &["policy", "get", "--tenant", "nowhere.example"],
        &with_token(&demo, demo.token.clone()),
    )
    .await;
    assert_eq!(unknown.code, 4);
    assert!(unknown.stdout.is_empty());
    assert!(
        unknown.stderr.contains("nowhere.example"),
        "{}",
        unknown.stderr
    );

    let no_role = demo
        .emulator
        .mint_token(&entra_emulator::TokenSpec::default());
    let forbidden = sspr(&["tenants", "list"], &with_token(&demo, no_role)).await;
    assert_eq!(forbidden.code, 3, "{}", forbidden.stderr);

    // The service refuses it; the CLI says why in plain words, then what the service said.
    let garbage = sspr(&["tenants", "list"], &with_token(&demo, "garbage".into())).await;
    assert_eq!(garbage.code, 3, "{}", garbage.stderr);
    let mut lines = garbage.stderr.lines();
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("error: the token is not a JWT")),
        "{}",
        garbage.stderr
    );
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("the service said: ") && l.contains("malformed")),
        "{}",
        garbage.stderr
    );

    // With --output json: the service's problem, one line, with its status and a code.
    let json = sspr(
        &[
            "--output",
            "json",
            "policy",
            "get",
            "--tenant",
            "nowhere.example",
        ],
        &with_token(&demo, demo.token.clone()),
    )
    .await;
    assert_eq!(json.code, 4);
    assert!(json.stdout.is_empty(), "{}", json.stdout);
    assert_eq!(json.stderr.lines().count(), 1, "{}", json.stderr);
    let problem: serde_json::Value = serde_json::from_str(&json.stderr).expect("one JSON line");
    assert_eq!(problem["status"], 404, "{problem}");
    assert_eq!(problem["code"], "unknownTenant", "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("nowhere.example")),
        "{problem}"
    );
    assert!(problem["requestId"].is_string(), "{problem}");

    let env = with_token(&demo, demo.token.clone());
    let Demo {
        emulator, service, ..
    } = demo;
    emulator.shutdown().await;
    let down = sspr(
        &["policy", "get", "--tenant", "contoso.onmicrosoft.com"],
        &env,
    )
    .await;
    assert_eq!(down.code, 5, "{}", down.stderr);
    assert!(down.stderr.contains("unreachable"), "{}", down.stderr);
    service.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_and_scheme_mistakes_are_said_in_plain_words() {
    let demo = demo().await;

    // Expired an hour ago: refused before sending, saying when.
    let expired = demo.emulator.mint_token(&entra_emulator::TokenSpec {
        roles: vec!["SSPR.Read".into()],
        issued_at_offset_secs: -7200,
        lifetime: std::time::Duration::from_secs(3600),
        ..Default::default()
    });
    let run = sspr(&["tenants", "list"], &with_token(&demo, expired)).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: the token expired at ")
            && run
                .stderr
                .contains("(60 minutes ago); get a new one; nothing was sent"),
        "{}",
        run.stderr
    );

    // The pasted header, against the live service: refused the same way.
    let pasted = format!("Bearer {}", demo.token);
    let run = sspr(&["tenants", "list"], &with_token(&demo, pasted)).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("give the token alone"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(&demo.token), "{}", run.stderr);

    // https:// against the demo's plain-HTTP port.
    let mut https = demo.service.url.clone();
    https.set_scheme("https").expect("https");
    let run = sspr(
        &["tenants", "list"],
        &[
            ("SSPR_URL", https.to_string()),
            ("SSPR_TOKEN", demo.token.clone()),
        ],
    )
    .await;
    assert_eq!(run.code, 5, "{}", run.stderr);
    let http = demo.service.url.to_string();
    assert!(
        run.stderr.contains(&format!(
            "the service at {https} speaks plain HTTP: use {http}"
        )),
        "{}",
        run.stderr
    );

    // http:// against the emulator's TLS port.
    let mut plain = demo.emulator.base_url();
    plain.set_scheme("http").expect("http");
    let run = sspr(
        &["tenants", "list"],
        &[
            ("SSPR_URL", plain.to_string()),
            ("SSPR_TOKEN", demo.token.clone()),
        ],
    )
    .await;
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(
        run.stderr.contains("speaks TLS (HTTPS): use https://"),
        "{}",
        run.stderr
    );
    demo.stop().await.expect("stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_show_names_one_tenant_by_any_of_its_names_and_refuses_an_unknown_one() {
    let demo = demo().await;
    let env = with_token(&demo, demo.token.clone());

    for name in [seed::CONTOSO_ID, "CONTOSO.onmicrosoft.com"] {
        let json = sspr(
            &["tenants", "show", "--tenant", name, "--output", "json"],
            &env,
        )
        .await;
        assert_eq!(json.code, 0, "{}", json.stderr);
        let tenant: serde_json::Value = serde_json::from_str(&json.stdout).expect("json output");
        assert_eq!(tenant["id"], seed::CONTOSO_ID, "{name}");
        assert_eq!(tenant["domain"], seed::CONTOSO_DOMAIN, "{name}");
        assert_eq!(tenant["displayName"], "Contoso", "{name}");
    }

    let table = sspr(
        &["tenants", "show", "--tenant", seed::FABRIKAM_DOMAIN],
        &env,
    )
    .await;
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.contains(seed::FABRIKAM_ID), "{}", table.stdout);
    assert!(!table.stdout.contains(seed::CONTOSO_ID), "{}", table.stdout);

    // Verify: a table per feature, then the verdict is the tenant's health in the list.
    let verify = sspr(
        &["tenants", "verify", "--tenant", seed::CONTOSO_DOMAIN],
        &env,
    )
    .await;
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(
        verify.stdout.contains("Token issued to app")
            && verify.stdout.contains("conditionalAccess")
            && verify.stdout.contains("Policy.ReadWrite.ConditionalAccess"),
        "{}",
        verify.stdout
    );
    let listed = sspr(&["tenants", "list", "--output", "json"], &env).await;
    let listed: serde_json::Value = serde_json::from_str(&listed.stdout).expect("json output");
    // The CLI prints the tenants as a JSON array.
    let contoso = listed
        .as_array()
        .and_then(|t| t.iter().find(|t| t["id"] == seed::CONTOSO_ID))
        .unwrap_or_else(|| panic!("contoso in {listed:#}"));
    assert_eq!(contoso["health"]["status"], "healthy", "{contoso:#}");
    let table = sspr(&["tenants", "list"], &env).await;
    assert!(
        table.stdout.contains("region:eu tier:gold") && table.stdout.contains("healthy"),
        "{}",
        table.stdout
    );

    let unknown = sspr(&["tenants", "show", "--tenant", "tailspin.example"], &env).await;
    assert_eq!(
        unknown.code,
        sspr_client::error::exit::NOT_FOUND,
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("tailspin.example"),
        "{}",
        unknown.stderr
    );
    demo.stop().await.expect("stops");
}
