//! `sspr windows-reset-link` against a running demo (emulator + service): the status, the plan,
//! an apply that is refused without confirmation and made with `--yes`, and the scripts.

use entra_emulator::seed;
use sspr_service::demo::{DemoOptions, start};

mod common;
use common::{sspr, sspr_with_stdin};

const FABRIKAM: &str = "fabrikam.onmicrosoft.com";

fn sspr_policies(emulator: &entra_emulator::Emulator) -> usize {
    emulator
        .with_tenant(seed::FABRIKAM_ID, |t| {
            t.configuration_policies
                .iter()
                .filter(|p| p.entity["name"] == "sspr - Windows sign-in SSPR link")
                .count()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_asks_first_and_deploys_only_when_confirmed() {
    let demo = start(DemoOptions {
        port: 0,
        emulator_port: 0,
        store: None,
    })
    .await
    .expect("demo");
    let env = vec![
        ("SSPR_URL", demo.service.url.to_string()),
        ("SSPR_TOKEN", demo.token.clone()),
    ];
    let status = sspr(
        &["windows-reset-link", "status", "--tenant", FABRIKAM],
        &env,
    )
    .await;
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(status.stdout.contains(": FAIL"), "{}", status.stdout);
    assert!(
        status.stdout.contains("AllowPasswordReset = 1"),
        "{}",
        status.stdout
    );

    // Standard input is a pipe, not a terminal: nobody can confirm, nothing is deployed.
    let refused = sspr_with_stdin(
        &[
            "windows-reset-link",
            "apply",
            "--tenant",
            FABRIKAM,
            "--all-devices",
        ],
        &env,
        Some("y\n"),
    )
    .await;
    assert_eq!(refused.code, 2, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert!(
        refused.stdout.contains("creates the policy"),
        "the plan is shown: {}",
        refused.stdout
    );
    assert_eq!(sspr_policies(&demo.emulator), 0);

    let dry = sspr(
        &[
            "windows-reset-link",
            "apply",
            "--tenant",
            FABRIKAM,
            "--dry-run",
        ],
        &env,
    )
    .await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert_eq!(sspr_policies(&demo.emulator), 0);

    let applied = sspr(
        &[
            "--output",
            "json",
            "windows-reset-link",
            "apply",
            "--tenant",
            FABRIKAM,
            "--yes",
        ],
        &env,
    )
    .await;
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let answer: serde_json::Value = serde_json::from_str(&applied.stdout).expect("json");
    assert_eq!(answer["result"], "created");
    assert_eq!(sspr_policies(&demo.emulator), 1);
    let again = sspr(
        &["windows-reset-link", "apply", "--tenant", FABRIKAM, "--yes"],
        &env,
    )
    .await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("nothing to change"),
        "{}",
        again.stdout
    );
    assert_eq!(sspr_policies(&demo.emulator), 1);

    let script = sspr(
        &[
            "windows-reset-link",
            "script",
            "--tenant",
            FABRIKAM,
            "--format",
            "powershell",
        ],
        &env,
    )
    .await;
    assert_eq!(script.code, 0, "{}", script.stderr);
    assert!(
        script.stdout.contains("New-ItemProperty"),
        "{}",
        script.stdout
    );
    demo.stop().await.expect("demo stops");
}
