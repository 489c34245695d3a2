//! `--auth azure-cli`: a person already signed in with `az login` uses that sign-in; the token
//! comes from `az account get-access-token --resource <audience>`, run as a process (no shell
//! between, so the audience is one argument whatever it holds).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use super::{CachedToken, TokenShape, inspect_token, unix_now};
use crate::error::{ClientError, truncate};

/// The Azure CLI's program: a batch file on Windows, which `Command` finds only by full name.
const PROGRAM: &str = if cfg!(windows) { "az.cmd" } else { "az" };

/// What `az account get-access-token --output json` prints (the fields read).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessToken {
    access_token: Option<String>,
    /// Seconds since the Unix epoch (az 2.54 and later); a number, or digits in a string.
    #[serde(rename = "expires_on")]
    expires_on: Option<Value>,
}

/// Runs the Azure CLI for a token to `resource`, off the async runtime's thread.
pub(super) async fn request_token(resource: &str) -> Result<CachedToken, ClientError> {
    let resource = resource.to_owned();
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(PROGRAM)
            .args([
                "account",
                "get-access-token",
                "--resource",
                &resource,
                "--output",
                "json",
            ])
            .stdin(Stdio::null())
            .output()
    })
    .await
    .map_err(|e| ClientError::Auth(format!("the Azure CLI did not finish: {e}")))?
    .map_err(|e| {
        ClientError::Auth(if e.kind() == std::io::ErrorKind::NotFound {
            format!(
                "--auth azure-cli runs the Azure CLI, but '{PROGRAM}' is not on PATH: install it and run 'az login'"
            )
        } else {
            format!("cannot run the Azure CLI ('{PROGRAM}'): {e}")
        })
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .map_or_else(
                || format!("it exited with {}", output.status),
                str::to_owned,
            );
        return Err(ClientError::Auth(format!(
            "az account get-access-token failed: {}",
            truncate(&first, 300)
        )));
    }
    parse_access_token(&output.stdout, started, unix_now())
}

/// The token in az's output and how long it stays valid from `started` (`now` in seconds since
/// the Unix epoch): by `expires_on`, or for an older az (which prints only `expiresOn`, a local
/// time without its offset, so ambiguous) by the token's own `exp`.
fn parse_access_token(
    stdout: &[u8],
    started: Instant,
    now: i64,
) -> Result<CachedToken, ClientError> {
    let parsed: AccessToken = serde_json::from_slice(stdout).map_err(|e| {
        ClientError::Decode(format!(
            "az account get-access-token printed no JSON access token: {e}"
        ))
    })?;
    let access_token = parsed
        .access_token
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ClientError::Decode("az account get-access-token printed no accessToken".into())
        })?;
    let expires_on = match parsed.expires_on {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .or_else(|| match inspect_token(&access_token) {
        TokenShape::Jwt { expires_at } => expires_at,
        TokenShape::NotJwt(_) => None,
    });
    let lifetime = expires_on
        .and_then(|at| u64::try_from(at.saturating_sub(now)).ok())
        .map_or(Duration::ZERO, Duration::from_secs);
    Ok(CachedToken::new(access_token, started, lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn the_token_and_its_expiry_by_expires_on() {
        let started = Instant::now();
        let now = 1_800_000_000;
        for expires_on in [r#"1800003600"#, r#""1800003600""#] {
            let stdout = format!(
                r#"{{"accessToken":"opaque","expiresOn":"2027-01-15 09:00:00.000000","expires_on":{expires_on},"tokenType":"Bearer"}}"#
            );
            let token = parse_access_token(stdout.as_bytes(), started, now).expect("token");
            assert_eq!(token.access_token, "opaque");
            assert_eq!(
                token.refresh_at,
                started + Duration::from_secs(3600 - 60),
                "{expires_on}"
            );
        }
    }

    #[test]
    fn an_older_az_without_expires_on_is_read_by_the_tokens_exp() {
        let started = Instant::now();
        let now = 1_800_000_000;
        let payload = URL_SAFE_NO_PAD.encode(format!(r#"{{"exp":{}}}"#, now + 1800));
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2ln");
        let stdout =
            format!(r#"{{"accessToken":"{jwt}","expiresOn":"2027-01-15 09:00:00.000000"}}"#);
        let token = parse_access_token(stdout.as_bytes(), started, now).expect("token");
        assert_eq!(token.access_token, jwt);
        assert_eq!(token.refresh_at, started + Duration::from_secs(1800 - 60));
        // Neither: used once, never cached.
        let opaque =
            parse_access_token(br#"{"accessToken":"opaque"}"#, started, now).expect("token");
        assert_eq!(opaque.refresh_at, started);
    }

    #[test]
    fn output_without_a_token_is_a_decode_error() {
        for stdout in [&b"not json"[..], br#"{"accessToken":""}"#, br#"{}"#] {
            assert!(
                matches!(
                    parse_access_token(stdout, Instant::now(), 0),
                    Err(ClientError::Decode(_))
                ),
                "{}",
                String::from_utf8_lossy(stdout)
            );
        }
    }
}
