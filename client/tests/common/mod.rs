//! Running the real `sspr` binary from integration tests.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use entra_emulator::TokenSpec;
use sspr_service::demo::{Demo, DemoOptions, start};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `sspr` with only the given `SSPR_*` variables set and standard input not a terminal
/// (`/dev/null`), off the async runtime.
pub async fn sspr(args: &[&str], env: &[(&str, String)]) -> Run {
    sspr_with_stdin(args, env, None).await
}

/// [`sspr`] with `stdin` (when given) written to its standard input, a pipe.
pub async fn sspr_with_stdin(args: &[&str], env: &[(&str, String)], stdin: Option<&str>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sspr"));
    command.args(args).stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    for (key, _) in std::env::vars() {
        if key.starts_with("SSPR_") {
            command.env_remove(key);
        }
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let input = stdin.map(str::to_owned);
    let output: Output = tokio::task::spawn_blocking(move || {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let (Some(input), Some(mut pipe)) = (input, child.stdin.take()) {
            pipe.write_all(input.as_bytes())?;
        }
        child.wait_with_output()
    })
    .await
    .expect("join")
    .expect("sspr runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A running demo (emulator + service) on free ports.
#[allow(dead_code)]
pub async fn demo() -> Demo {
    start(DemoOptions {
        port: 0,
        emulator_port: 0,
        store: None,
    })
    .await
    .expect("demo")
}

/// `SSPR_URL` and `SSPR_TOKEN` for `demo`, the token carrying `roles`.
#[allow(dead_code)]
pub fn env_with_roles(demo: &Demo, roles: &[&str]) -> Vec<(&'static str, String)> {
    let token = demo.emulator.mint_token(&TokenSpec {
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        lifetime: Duration::from_secs(600),
        ..TokenSpec::default()
    });
    vec![
        ("SSPR_URL", demo.service.url.to_string()),
        ("SSPR_TOKEN", token),
    ]
}
