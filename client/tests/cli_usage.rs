//! The `sspr` binary's behaviour that needs no server: usage errors, missing credentials, token
//! mistakes and an unreachable service, checked through exit codes and stdout/stderr. The URL
//! `http://127.0.0.1:9/` refuses connections, so an error that does not name it was found
//! before anything was sent.

use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Runs `sspr` with `args` and none of the `SSPR_*` variables of the surrounding environment.
fn sspr(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sspr"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SSPR_") {
            command.env_remove(&name);
        }
    }
    command.args(args).output().expect("the sspr binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let output = sspr(&["frobnicate"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stderr: {}",
        text(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    assert!(text(&output.stderr).contains("frobnicate"));
}

#[test]
fn missing_tenant_is_a_usage_error() {
    let output = sspr(&["--token", "t", "policy", "get"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "stderr: {}",
        text(&output.stderr)
    );
    assert!(text(&output.stderr).contains("--tenant"));
}

#[test]
fn no_credentials_exits_3_naming_the_variables() {
    let output = sspr(&["--url", "http://127.0.0.1:9/", "tenants", "list"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "stdout: {}", text(&output.stdout));
    assert!(stderr.starts_with("error: "), "{stderr}");
    for variable in [
        "SSPR_TOKEN",
        "SSPR_AUTHORITY",
        "SSPR_CLIENT_ID",
        "SSPR_CLIENT_SECRET",
    ] {
        assert!(
            stderr.contains(variable),
            "{variable} not named in: {stderr}"
        );
    }
}

#[test]
fn incomplete_client_credentials_exit_3() {
    let output = Command::new(env!("CARGO_BIN_EXE_sspr"))
        .args(["tenants", "list"])
        .env_remove("SSPR_TOKEN")
        .env_remove("SSPR_AUTHORITY")
        .env("SSPR_CLIENT_ID", "app")
        .env("SSPR_CLIENT_SECRET", "hunter2-secret")
        .output()
        .expect("the sspr binary runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "stderr: {stderr}");
    assert!(stderr.contains("SSPR_AUTHORITY"), "{stderr}");
    assert!(!stderr.contains("hunter2-secret"), "{stderr}");
}

#[test]
fn unreachable_service_exits_5_with_nothing_on_stdout() {
    for command in [
        &["tenants", "list"][..],
        &["policy", "get", "--tenant", "contoso.com"][..],
        &["registrations", "list", "--tenant", "contoso.com"][..],
        &["registrations", "summary", "--all-tenants"][..],
    ] {
        let mut args = vec!["--url", "http://127.0.0.1:9/", "--token", "eyJ.test.token"];
        args.extend_from_slice(command);
        let output = sspr(&args);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(5), "stderr: {stderr}");
        assert!(output.stdout.is_empty(), "stdout: {}", text(&output.stdout));
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains("127.0.0.1:9"), "the URL is named: {stderr}");
        assert!(!stderr.contains("eyJ.test.token"), "{stderr}");
    }
}

/// A JWT-shaped (unsigned) token whose `exp` is `seconds_ago` seconds in the past.
fn token_expired(seconds_ago: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2ln",
        part(serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "k"})),
        part(serde_json::json!({"aud": "api://sspr", "exp": now - seconds_ago}))
    )
}

/// The one JSON line of an error with `--output json`.
fn json_line(stderr: &str) -> serde_json::Value {
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    serde_json::from_str(stderr.trim_end()).unwrap_or_else(|e| panic!("{e}: {stderr}"))
}

#[test]
fn a_pasted_bearer_prefix_is_refused_before_any_request() {
    for token in ["Bearer eyJ.test.token", "bearer eyJ.test.token"] {
        let output = sspr(&[
            "--url",
            "http://127.0.0.1:9/",
            "--token",
            token,
            "tenants",
            "list",
        ]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{stderr}");
        assert!(stderr.contains("give the token alone"), "{stderr}");
        assert!(
            !stderr.contains("127.0.0.1:9"),
            "nothing was sent: {stderr}"
        );
        assert!(!stderr.contains("eyJ.test.token"), "{stderr}");
        assert!(output.stdout.is_empty());
    }
    let output = sspr(&[
        "--output",
        "json",
        "--url",
        "http://127.0.0.1:9/",
        "--token",
        "Bearer eyJ.test.token",
        "policy",
        "get",
        "--tenant",
        "contoso.onmicrosoft.com",
    ]);
    let line = json_line(&text(&output.stderr));
    assert_eq!(line["type"], "/problems/cli/token-bearer-prefix");
    assert_eq!(line["code"], "tokenBearerPrefix");
    assert!(line.get("status").is_none(), "{line}");
}

#[test]
fn a_token_expired_past_the_leeway_is_not_sent() {
    let output = sspr(&[
        "--url",
        "http://127.0.0.1:9/",
        "--token",
        &token_expired(3 * 3600),
        "tenants",
        "list",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.starts_with("error: the token expired at ")
            && stderr.contains("(3 hours ago); get a new one; nothing was sent"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("127.0.0.1:9"),
        "nothing was sent: {stderr}"
    );

    // Within the service's 60 s leeway the token still goes: here, to a closed port.
    let output = sspr(&[
        "--url",
        "http://127.0.0.1:9/",
        "--token",
        &token_expired(10),
        "tenants",
        "list",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("127.0.0.1:9"), "{stderr}");
}

#[test]
fn with_json_output_every_error_is_one_json_line() {
    // No HTTP answer: a problem the CLI makes, without a status.
    let output = sspr(&[
        "--output",
        "json",
        "--url",
        "http://127.0.0.1:9/",
        "--token",
        "eyJ.test.token",
        "tenants",
        "list",
    ]);
    assert_eq!(output.status.code(), Some(5));
    assert!(output.stdout.is_empty());
    let line = json_line(&text(&output.stderr));
    assert_eq!(line["type"], "/problems/cli/connection");
    assert_eq!(line["code"], "connection");
    assert!(line.get("status").is_none(), "{line}");
    assert!(
        line["detail"]
            .as_str()
            .is_some_and(|d| d.contains("127.0.0.1:9")),
        "{line}"
    );
    assert!(!line.to_string().contains("eyJ.test.token"), "{line}");

    // A command line clap refuses, with the output chosen by flag or variable.
    let output = sspr(&["--output", "json", "policy", "get"]);
    assert_eq!(output.status.code(), Some(2));
    let line = json_line(&text(&output.stderr));
    assert_eq!(line["code"], "usage");
    assert!(
        line["detail"]
            .as_str()
            .is_some_and(|d| d.contains("--tenant")),
        "{line}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_sspr"))
        .args(["frobnicate"])
        .env("SSPR_OUTPUT", "json")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(json_line(&text(&output.stderr))["code"], "usage");

    // A file that cannot be read.
    let output = sspr(&[
        "--output",
        "json",
        "--token",
        "eyJ.test.token",
        "policy",
        "diff",
        "--tenant",
        "contoso.onmicrosoft.com",
        "--file",
        "/nonexistent/patch.json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let line = json_line(&text(&output.stderr));
    assert_eq!(line["type"], "/problems/cli/file");
    assert!(
        line["detail"]
            .as_str()
            .is_some_and(|d| d.contains("/nonexistent/patch.json")),
        "{line}"
    );

    // Help is still help.
    let output = sspr(&["--output", "json", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(text(&output.stdout).contains("Exit codes:"));
}

#[test]
fn a_registration_summary_needs_exactly_one_choice_of_tenants() {
    for args in [
        &["registrations", "summary"][..],
        &["registrations", "summary", "--tenant", "a", "--all-tenants"][..],
        &[
            "registrations",
            "summary",
            "--tenants",
            "a,b",
            "--tenant",
            "c",
        ][..],
    ] {
        let output = sspr(&[&["--token", "t"][..], args].concat());
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty());
        assert!(stderr.contains("--all-tenants"), "{args:?}: {stderr}");
    }
}

#[test]
fn registration_formats_are_checked_before_anything_is_sent() {
    let output = sspr(&[
        "--url",
        "http://127.0.0.1:9/",
        "--token",
        "t",
        "registrations",
        "list",
        "--tenant",
        "contoso.com",
        "--format",
        "xml",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for format in ["table", "json", "ndjson", "csv"] {
        assert!(stderr.contains(format), "{format} not offered: {stderr}");
    }
    assert!(
        !stderr.contains("127.0.0.1:9"),
        "nothing was sent: {stderr}"
    );
}

#[test]
fn unreachable_authority_exits_5() {
    let output = sspr(&[
        "--url",
        "http://127.0.0.1:9/",
        "--authority",
        "http://127.0.0.1:9/tenant-a",
        "--client-id",
        "app",
        "--client-secret",
        "hunter2-secret",
        "tenants",
        "list",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "stderr: {stderr}");
    assert!(
        stderr.contains("http://127.0.0.1:9/tenant-a/oauth2/v2.0/token"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2-secret"), "{stderr}");
}

#[test]
fn unreadable_ca_file_is_a_usage_error() {
    let output = sspr(&[
        "--token",
        "t",
        "--ca-file",
        "/nonexistent/ca.pem",
        "tenants",
        "list",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("/nonexistent/ca.pem"), "{stderr}");
}

#[test]
fn help_never_prints_secret_values() {
    let output = Command::new(env!("CARGO_BIN_EXE_sspr"))
        .arg("--help")
        .env("SSPR_CLIENT_SECRET", "hunter2-secret")
        .env("SSPR_TOKEN", "eyJ.help.token")
        .output()
        .expect("the sspr binary runs");
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout.contains("SSPR_CLIENT_SECRET"), "{stdout}");
    assert!(!stdout.contains("hunter2-secret"), "{stdout}");
    assert!(!stdout.contains("eyJ.help.token"), "{stdout}");
}

/// Every operation of the contract (`openapi/openapi.json`) and the `sspr` commands that perform
/// it. A route added to the service without a command here fails the test below.
const COMMANDS: &[(&str, &[&str])] = &[
    ("GET /v1/tenants", &["tenants", "list"]),
    ("GET /v1/tenants/{tenant}", &["tenants", "show"]),
    ("POST /v1/tenants/{tenant}/verify", &["tenants", "verify"]),
    ("POST /v1/tenants", &["tenants", "add"]),
    ("PATCH /v1/tenants/{tenant}", &["tenants", "update"]),
    ("DELETE /v1/tenants/{tenant}", &["tenants", "remove"]),
    (
        "GET /v1/tenants/{tenant}/consent",
        &["tenants", "consent-url"],
    ),
    ("GET /v1/access", &["access", "list"]),
    ("POST /v1/access", &["access", "grant"]),
    ("DELETE /v1/access/{id}", &["access", "revoke"]),
    ("GET /v1/partner/customers", &["partner", "customers"]),
    ("GET /v1/tenants/{tenant}/sspr/policy", &["policy", "get"]),
    ("PATCH /v1/tenants/{tenant}/sspr/policy", &["policy", "set"]),
    ("GET /v1/audit", &["audit", "list"]),
    (
        "GET /v1/tenants/{tenant}/registrations",
        &["registrations", "list"],
    ),
    (
        "GET /v1/tenants/{tenant}/registrations/summary",
        &["registrations", "summary"],
    ),
    (
        "GET /v1/registrations/summary",
        &["registrations", "summary"],
    ),
    (
        "POST /v1/tenants/{tenant}/registration-protection/plan",
        &["registration-protection", "plan"],
    ),
    (
        "GET /v1/tenants/{tenant}/registration-protection",
        &["registration-protection", "status"],
    ),
    (
        "PUT /v1/tenants/{tenant}/registration-protection",
        &["registration-protection", "apply"],
    ),
    (
        "PUT /v1/tenants/{tenant}/registration-protection/state",
        &["registration-protection", "promote"],
    ),
    (
        "PUT /v1/tenants/{tenant}/registration-protection/state",
        &["registration-protection", "demote"],
    ),
    (
        "POST /v1/registration-protection/generate",
        &["registration-protection", "generate"],
    ),
    ("GET /v1/tenants/{tenant}/readiness", &["readiness"]),
    ("GET /v1/readiness", &["readiness"]),
    (
        "GET /v1/tenants/{tenant}/readiness/user-guide",
        &["user-guide"],
    ),
    (
        "GET /v1/tenants/{tenant}/windows-reset-link",
        &["windows-reset-link", "status"],
    ),
    (
        "POST /v1/tenants/{tenant}/windows-reset-link/plan",
        &["windows-reset-link", "plan"],
    ),
    (
        "POST /v1/tenants/{tenant}/windows-reset-link/plan",
        &["windows-reset-link", "apply"],
    ),
    (
        "PUT /v1/tenants/{tenant}/windows-reset-link",
        &["windows-reset-link", "apply"],
    ),
    (
        "GET /v1/tenants/{tenant}/windows-reset-link/script",
        &["windows-reset-link", "script"],
    ),
];

/// Probes for orchestrators, not operations an administrator runs.
const NOT_FOR_THE_CLI: &[&str] = &["GET /healthz", "GET /readyz"];

#[test]
fn the_cli_has_a_command_for_every_operation_of_the_contract() {
    let contract: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../openapi/openapi.json"
    )))
    .expect("the contract is JSON");
    let paths = contract["paths"].as_object().expect("paths");
    for (path, operations) in paths {
        for method in operations.as_object().expect("operations").keys() {
            let operation = format!("{} {path}", method.to_uppercase());
            if NOT_FOR_THE_CLI.contains(&operation.as_str()) {
                continue;
            }
            let commands: Vec<&[&str]> = COMMANDS
                .iter()
                .filter(|(covered, _)| *covered == operation)
                .map(|(_, command)| *command)
                .collect();
            assert!(!commands.is_empty(), "no sspr command performs {operation}");
            for command in commands {
                let mut args = command.to_vec();
                args.push("--help");
                let output = sspr(&args);
                assert!(
                    output.status.success(),
                    "`sspr {}` ({operation}): {}",
                    command.join(" "),
                    text(&output.stderr)
                );
                let help = text(&output.stdout);
                assert!(
                    help.contains("Examples:\n  sspr ") && help.contains("Global options:"),
                    "`sspr {}`: {help}",
                    command.join(" ")
                );
            }
        }
    }
}

#[test]
fn a_tenants_credential_is_checked_before_anything_is_sent() {
    let add = |extra: &[&str]| {
        let mut args = vec![
            "--url",
            "http://127.0.0.1:9/",
            "--token",
            "eyJ.test.token",
            "tenants",
            "add",
            "--tenant",
            "tailspin.onmicrosoft.com",
        ];
        args.extend_from_slice(extra);
        sspr(&args)
    };
    for (extra, named) in [
        (&[][..], "--credential"),
        (&["--credential", "client-secret"][..], "--app-id"),
        (
            &["--credential", "client-secret", "--app-id", "a"][..],
            "SSPR_TENANT_CLIENT_SECRET",
        ),
        (
            &["--credential", "default", "--token-file", "/t"][..],
            "--token-file",
        ),
        (
            &[
                "--credential",
                "certificate",
                "--app-id",
                "a",
                "--certificate-file",
                "/c",
            ][..],
            "--private-key-pem",
        ),
    ] {
        let output = add(extra);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(stderr.contains(named), "{extra:?}: {stderr}");
        assert!(
            !stderr.contains("127.0.0.1:9"),
            "nothing was sent: {stderr}"
        );
        assert!(output.stdout.is_empty());
    }
    // The sign-in's own --client-secret is never taken for the tenant's, nor echoed.
    let output = add(&[
        "--credential",
        "client-secret",
        "--app-id",
        "a",
        "--client-secret",
        "hunter2-secret",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("hunter2-secret"), "{stderr}");
}

#[test]
fn a_tenant_update_with_nothing_to_change_is_refused_before_any_call() {
    let output = sspr(&[
        "--url",
        "http://127.0.0.1:9/",
        "--token",
        "eyJ.test.token",
        "tenants",
        "update",
        "--tenant",
        "tailspin.onmicrosoft.com",
    ]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("nothing to change"), "{stderr}");
    assert!(!stderr.contains("127.0.0.1:9"), "{stderr}");
}
