//! The OAuth 2.0 client credentials grant against an Entra-style v2.0 token endpoint
//! (graph-api.md §9.1), with a client secret or a client assertion (a certificate's signed JWT,
//! §9.2, or a federated token, §9.3); and reading what a token endpoint answers, which the
//! managed identity endpoint shares.

use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::CachedToken;
use crate::error::{ClientError, collapse_whitespace, status_reason, truncate};

/// `client_assertion_type` of a JWT client assertion (RFC 7523).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How the application proves who it is to the token endpoint.
pub(super) enum ClientCredential<'a> {
    /// `client_secret`.
    Secret(&'a str),
    /// `client_assertion`: a JWT signed with the certificate's key, or a federated token.
    Assertion(&'a str),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    /// Entra sends a number; some servers (and the managed identity endpoint) send a string.
    expires_in: Option<Value>,
}

#[derive(Deserialize)]
struct TokenErrorResponse {
    error: String,
    error_description: Option<String>,
}

/// Posts `grant_type=client_credentials` for `scope` to `token_url`.
pub(super) async fn request_token(
    http: &reqwest::Client,
    token_url: &Url,
    client_id: &str,
    credential: ClientCredential<'_>,
    scope: &str,
) -> Result<CachedToken, ClientError> {
    let started = Instant::now();
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
        ("scope", scope),
    ];
    match credential {
        ClientCredential::Secret(secret) => form.push(("client_secret", secret)),
        ClientCredential::Assertion(assertion) => {
            form.push(("client_assertion_type", JWT_BEARER));
            form.push(("client_assertion", assertion));
        }
    }
    let response = http
        .post(token_url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| ClientError::Transport(crate::describe_send_error("POST", token_url, &e)))?;
    read_token_response("POST", token_url, response, started).await
}

/// The token in a token endpoint's answer to `method endpoint`, or the error it stands for;
/// `started` is when the request was sent (the lifetime counts from then).
pub(super) async fn read_token_response(
    method: &str,
    endpoint: &Url,
    response: reqwest::Response,
    started: Instant,
) -> Result<CachedToken, ClientError> {
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| ClientError::Transport(crate::describe_send_error(method, endpoint, &e)))?;
    if !status.is_success() {
        return Err(token_error(endpoint, status.as_u16(), &body));
    }
    parse_token(endpoint, &body, started)
}

/// The error for a failed token request: Entra's `error` and the first line of its
/// `error_description` when the body has them.
pub(super) fn token_error(token_url: &Url, status: u16, body: &[u8]) -> ClientError {
    if let Ok(entra) = serde_json::from_slice::<TokenErrorResponse>(body) {
        let description = entra
            .error_description
            .as_deref()
            .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()));
        return ClientError::Auth(match description {
            Some(description) => format!("{}: {description}", entra.error),
            None => entra.error,
        });
    }
    let text = truncate(&collapse_whitespace(&String::from_utf8_lossy(body)), 200);
    let message = format!(
        "the token endpoint {token_url} answered {status} {}{}",
        status_reason(status),
        if text.is_empty() {
            String::new()
        } else {
            format!(": {text}")
        }
    );
    if status >= 500 {
        ClientError::Transport(message)
    } else {
        ClientError::Auth(message)
    }
}

fn parse_token(token_url: &Url, body: &[u8], started: Instant) -> Result<CachedToken, ClientError> {
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        ClientError::Decode(format!(
            "the token endpoint {token_url} sent no JSON token response: {e}"
        ))
    })?;
    let access_token = parsed
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ClientError::Decode(format!(
                "the token endpoint {token_url} sent no access_token"
            ))
        })?;
    let lifetime = match parsed.expires_in {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .map_or(Duration::ZERO, Duration::from_secs);
    Ok(CachedToken::new(access_token, started, lifetime))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn entra_error_keeps_code_and_first_line() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\r\nCorrelation ID: 2","error_codes":[7000215]}"#;
        let error = token_error(&url("https://login.test/t/oauth2/v2.0/token"), 401, body);
        match error {
            ClientError::Auth(message) => {
                assert_eq!(
                    message,
                    "invalid_client: AADSTS7000215: Invalid client secret provided."
                )
            }
            other => panic!("expected Auth, got {other:?}"),
        }
        let bare = token_error(
            &url("https://login.test/t"),
            400,
            br#"{"error":"invalid_scope"}"#,
        );
        assert!(matches!(bare, ClientError::Auth(m) if m == "invalid_scope"));
    }

    #[test]
    fn non_entra_token_errors() {
        let token_url = url("https://login.test/t/oauth2/v2.0/token");
        assert!(
            matches!(token_error(&token_url, 503, b"down"), ClientError::Transport(m) if m.contains("503 Service Unavailable: down"))
        );
        assert!(
            matches!(token_error(&token_url, 404, b""), ClientError::Auth(m) if m.ends_with("404 Not Found"))
        );
    }

    #[test]
    fn token_lifetime_and_refresh_margin() {
        let token_url = url("https://login.test/t");
        let now = Instant::now();
        let token = parse_token(
            &token_url,
            br#"{"access_token":"a","expires_in":3599}"#,
            now,
        )
        .expect("token");
        assert_eq!(token.access_token, "a");
        assert_eq!(token.refresh_at, now + Duration::from_secs(3599 - 60));
        let short = parse_token(
            &token_url,
            br#"{"access_token":"a","expires_in":"10"}"#,
            now,
        )
        .expect("token");
        assert_eq!(short.refresh_at, now + Duration::from_secs(5));
        let unknown = parse_token(&token_url, br#"{"access_token":"a"}"#, now).expect("token");
        assert_eq!(unknown.refresh_at, now);
        assert!(matches!(
            parse_token(&token_url, br#"{"token_type":"Bearer"}"#, now),
            Err(ClientError::Decode(_))
        ));
    }
}
