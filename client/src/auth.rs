//! How the client authenticates: a ready bearer token, or the OAuth 2.0 client credentials
//! grant against an Entra-style token endpoint, with the token cached until shortly before it
//! expires.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::Mutex;
use url::Url;

use crate::error::{ClientError, collapse_whitespace, status_reason, truncate};

/// How long before its expiry a cached token is replaced (at most half its lifetime).
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Credentials for the service.
#[derive(Clone)]
pub enum Auth {
    /// A bearer token (JWT) used as is.
    Token(String),
    /// OAuth 2.0 client credentials: `grant_type=client_credentials` is posted to `token_url`.
    ClientCredentials {
        token_url: Url,
        client_id: String,
        client_secret: String,
        scope: String,
    },
}

impl fmt::Debug for Auth {
    /// Never prints the token or the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Token(_) => f.debug_tuple("Token").field(&"<redacted>").finish(),
            Auth::ClientCredentials {
                token_url,
                client_id,
                scope,
                ..
            } => f
                .debug_struct("ClientCredentials")
                .field("token_url", &token_url.as_str())
                .field("client_id", client_id)
                .field("client_secret", &"<redacted>")
                .field("scope", scope)
                .finish(),
        }
    }
}

/// The v2.0 token endpoint of an authority such as
/// `https://login.microsoftonline.com/<tenant-id>/` (with or without the trailing slash):
/// `{authority}oauth2/v2.0/token`.
pub fn token_url_for_authority(authority: &Url) -> Result<Url, ClientError> {
    if !matches!(authority.scheme(), "http" | "https") || authority.cannot_be_a_base() {
        return Err(ClientError::Config(format!(
            "the authority must be an http(s) URL, not '{authority}'"
        )));
    }
    let mut url = authority.clone();
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.join("oauth2/v2.0/token").map_err(|e| {
        ClientError::Config(format!(
            "cannot derive the token URL from '{authority}': {e}"
        ))
    })
}

struct CachedToken {
    access_token: String,
    refresh_at: Instant,
}

/// Hands out bearer tokens, fetching and caching them for client credentials.
pub(crate) struct TokenProvider {
    auth: Auth,
    cache: Mutex<Option<CachedToken>>,
}

/// A bearer token and whether it came from the cache (so a 401 may be worth one retry).
pub(crate) struct Bearer {
    pub token: String,
    pub cached: bool,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    /// Entra sends a number; some servers send a string.
    expires_in: Option<Value>,
}

#[derive(Deserialize)]
struct TokenErrorResponse {
    error: String,
    error_description: Option<String>,
}

impl TokenProvider {
    pub(crate) fn new(auth: Auth) -> Self {
        TokenProvider {
            auth,
            cache: Mutex::new(None),
        }
    }

    pub(crate) async fn bearer(&self, http: &reqwest::Client) -> Result<Bearer, ClientError> {
        let (token_url, client_id, client_secret, scope) = match &self.auth {
            Auth::Token(token) => {
                return Ok(Bearer {
                    token: token.clone(),
                    cached: false,
                });
            }
            Auth::ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            } => (token_url, client_id, client_secret, scope),
        };
        // Held across the request so concurrent callers share one token fetch.
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(Bearer {
                token: cached.access_token.clone(),
                cached: true,
            });
        }
        let fetched = fetch_token(http, token_url, client_id, client_secret, scope)
            .await
            .map_err(|e| redact(e, client_secret))?;
        let token = fetched.access_token.clone();
        *cache = Some(fetched);
        Ok(Bearer {
            token,
            cached: false,
        })
    }

    /// Forgets the cached token, e.g. after the service rejected it.
    pub(crate) async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    pub(crate) fn is_refreshable(&self) -> bool {
        matches!(self.auth, Auth::ClientCredentials { .. })
    }
}

async fn fetch_token(
    http: &reqwest::Client,
    token_url: &Url,
    client_id: &str,
    client_secret: &str,
    scope: &str,
) -> Result<CachedToken, ClientError> {
    let started = Instant::now();
    let response = http
        .post(token_url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("scope", scope),
        ])
        .send()
        .await
        .map_err(|e| ClientError::Transport(crate::describe_send_error("POST", token_url, &e)))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| ClientError::Transport(crate::describe_send_error("POST", token_url, &e)))?;
    if !status.is_success() {
        return Err(token_error(token_url, status.as_u16(), &body));
    }
    parse_token(token_url, &body, started)
}

/// The error for a failed token request: Entra's `error` and the first line of its
/// `error_description` when the body has them.
fn token_error(token_url: &Url, status: u16, body: &[u8]) -> ClientError {
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
    let margin = REFRESH_MARGIN.min(lifetime / 2);
    Ok(CachedToken {
        access_token,
        refresh_at: started + lifetime - margin,
    })
}

/// Belt and braces: no message may echo the client secret.
fn redact(error: ClientError, secret: &str) -> ClientError {
    if secret.is_empty() {
        return error;
    }
    let scrub = |s: String| s.replace(secret, "<redacted>");
    match error {
        ClientError::Auth(s) => ClientError::Auth(scrub(s)),
        ClientError::Transport(s) => ClientError::Transport(scrub(s)),
        ClientError::Decode(s) => ClientError::Decode(scrub(s)),
        ClientError::Config(s) => ClientError::Config(scrub(s)),
        other @ (ClientError::Api { .. } | ClientError::Interrupted { .. }) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn token_url_with_or_without_trailing_slash() {
        let expected = "https://login.microsoftonline.com/3f2b/oauth2/v2.0/token";
        for authority in [
            "https://login.microsoftonline.com/3f2b/",
            "https://login.microsoftonline.com/3f2b",
            "https://login.microsoftonline.com/3f2b/?x=1",
        ] {
            assert_eq!(
                token_url_for_authority(&url(authority))
                    .expect("valid")
                    .as_str(),
                expected
            );
        }
        assert_eq!(
            token_url_for_authority(&url("http://127.0.0.1:9443/"))
                .expect("valid")
                .as_str(),
            "http://127.0.0.1:9443/oauth2/v2.0/token"
        );
        assert_eq!(
            token_url_for_authority(&url("https://emu.test/base/tenant-a"))
                .expect("valid")
                .as_str(),
            "https://emu.test/base/tenant-a/oauth2/v2.0/token"
        );
        assert!(matches!(
            token_url_for_authority(&url("mailto:x@example.com")),
            Err(ClientError::Config(_))
        ));
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

    #[test]
    fn secrets_are_redacted() {
        let error = redact(ClientError::Auth("bad s3cret!".into()), "s3cret!");
        assert_eq!(error.to_string(), "Authentication failed: bad <redacted>");
        let auth = Auth::ClientCredentials {
            token_url: url("https://login.test/t"),
            client_id: "id".into(),
            client_secret: "s3cret!".into(),
            scope: "api://sspr/.default".into(),
        };
        assert!(!format!("{auth:?}").contains("s3cret!"));
        assert!(!format!("{:?}", Auth::Token("eyJ.secret".into())).contains("eyJ"));
    }
}
