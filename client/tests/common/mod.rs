//! Running the real `sspr` binary from integration tests.

use std::process::{Command, Output, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `sspr` with only the given `SSPR_*` variables set and standard input not a terminal
/// (`/dev/null`), off the async runtime.
pub async fn sspr(args: &[&str], env: &[(&str, String)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sspr"));
    command.args(args).stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("SSPR_") {
            command.env_remove(key);
        }
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output: Output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("sspr runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}
