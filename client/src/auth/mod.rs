//! How the client authenticates: a ready bearer token, or a token fetched and cached until
//! shortly before it expires: OAuth 2.0 client credentials against an Entra-style token
//! endpoint with a client secret, a certificate's signed assertion or a workload identity's
//! federated token; a managed identity's token from the instance metadata service; or the
//! signed-in Azure CLI's. And the mistakes with a given token said in plain words (a pasted
//! `Bearer ` prefix, an expired token, something that is not a JWT).

mod azure_cli;
pub mod certificate;
pub mod managed_identity;
mod token_endpoint;
pub mod workload_identity;

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::Mutex;
use url::Url;

pub use certificate::ClientCertificate;

use crate::error::ClientError;
use token_endpoint::{ClientCredential, request_token};

/// How long before its expiry a cached token is replaced (at most half its lifetime).
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The clock skew the service allows past `exp`; a token expired longer ago is not sent.
pub const EXPIRY_LEEWAY_SECS: i64 = 60;

/// A bearer token that cannot work, found before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenMistake {
    /// The token starts with `Bearer `: a pasted `Authorization` header.
    #[error(
        "the token starts with 'Bearer ': give the token alone, without the 'Bearer ' prefix of an Authorization header"
    )]
    BearerPrefix,
    /// The token's `exp` is further in the past than the service's leeway.
    #[error("{}; nothing was sent", expired_message(*.expires_at, *.now))]
    Expired {
        /// `exp`, in seconds since the Unix epoch.
        expires_at: i64,
        /// When it was checked, in seconds since the Unix epoch.
        now: i64,
    },
}

impl TokenMistake {
    /// The slug of the problem type the CLI reports it with (`/problems/cli/<slug>`).
    pub fn slug(&self) -> &'static str {
        match self {
            TokenMistake::BearerPrefix => "token-bearer-prefix",
            TokenMistake::Expired { .. } => "token-expired",
        }
    }
}

/// What a bearer token looks like from the outside, read without verifying anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenShape {
    /// Three base64url parts with a JSON object as payload; its `exp` when it has one.
    Jwt { expires_at: Option<i64> },
    /// Not a JWT, and why.
    NotJwt(&'static str),
}

/// Reads the token's payload without verifying it, only to explain a refusal.
pub fn inspect_token(token: &str) -> TokenShape {
    let parts: Vec<&str> = token.trim().split('.').collect();
    if parts.len() != 3 {
        return TokenShape::NotJwt("it does not have three parts separated by dots");
    }
    let Ok(payload) = URL_SAFE_NO_PAD.decode(parts[1].trim_end_matches('=')) else {
        return TokenShape::NotJwt("its middle part is not base64url");
    };
    match serde_json::from_slice::<Value>(&payload) {
        Ok(Value::Object(claims)) => TokenShape::Jwt {
            expires_at: claims.get("exp").and_then(|exp| {
                exp.as_i64()
                    .or_else(|| exp.as_f64().map(|secs| secs as i64))
            }),
        },
        _ => TokenShape::NotJwt("its middle part is not a JSON object of claims"),
    }
}

/// The mistakes found before sending `token` at `now` (seconds since the Unix epoch): a
/// `Bearer ` prefix, or an `exp` more than [`EXPIRY_LEEWAY_SECS`] ago.
pub fn check_token(token: &str, now: i64) -> Result<(), TokenMistake> {
    let token = token.trim_start();
    if token
        .get(..7)
        .is_some_and(|start| start.eq_ignore_ascii_case("bearer "))
    {
        return Err(TokenMistake::BearerPrefix);
    }
    match inspect_token(token) {
        TokenShape::Jwt {
            expires_at: Some(expires_at),
        } if expires_at + EXPIRY_LEEWAY_SECS < now => {
            Err(TokenMistake::Expired { expires_at, now })
        }
        _ => Ok(()),
    }
}

/// Why the service may have refused `token` with a 401, in plain words, when the token itself
/// shows it: expired, or not a JWT at all. `None` when it looks fine from the outside.
pub fn explain_refused_token(token: &str, now: i64) -> Option<String> {
    match inspect_token(token) {
        TokenShape::Jwt {
            expires_at: Some(expires_at),
        } if expires_at <= now => Some(expired_message(expires_at, now)),
        TokenShape::Jwt { .. } => None,
        TokenShape::NotJwt(why) => Some(format!(
            "the token is not a JWT ({why}): give the access token itself, as the identity provider issued it"
        )),
    }
}

/// `the token expired at 2026-03-04T05:06:07Z (12 minutes ago); get a new one`.
pub fn expired_message(expires_at: i64, now: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp(expires_at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| expires_at.to_string());
    format!(
        "the token expired at {at} ({}); get a new one",
        ago(now.saturating_sub(expires_at))
    )
}

/// `less than a minute ago`, `1 minute ago`, `95 minutes ago`, `3 hours ago`, `2 days ago`.
fn ago(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match seconds {
        ..60 => "less than a minute ago".to_owned(),
        60..7200 => plural(seconds / 60, "minute"),
        7200..172_800 => plural(seconds / 3600, "hour"),
        _ => plural(seconds / 86_400, "day"),
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

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
    /// Client credentials with a client assertion signed by a certificate's private key.
    Certificate {
        token_url: Url,
        client_id: String,
        certificate: ClientCertificate,
        scope: String,
    },
    /// Client credentials with the federated token in `token_file` as the client assertion,
    /// read again for every token request (Kubernetes workload identity).
    WorkloadIdentity {
        token_url: Url,
        client_id: String,
        token_file: PathBuf,
        scope: String,
    },
    /// A managed identity's token for `resource` from the instance metadata service at
    /// `endpoint`; `client_id` picks a user-assigned identity.
    ManagedIdentity {
        endpoint: Url,
        resource: String,
        client_id: Option<String>,
    },
    /// The signed-in Azure CLI's token for `resource` (`az account get-access-token`).
    AzureCli { resource: String },
}

impl fmt::Debug for Auth {
    /// Never prints the token, the secret or the private key.
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
            Auth::Certificate {
                token_url,
                client_id,
                certificate,
                scope,
            } => f
                .debug_struct("Certificate")
                .field("token_url", &token_url.as_str())
                .field("client_id", client_id)
                .field("certificate", certificate)
                .field("scope", scope)
                .finish(),
            Auth::WorkloadIdentity {
                token_url,
                client_id,
                token_file,
                scope,
            } => f
                .debug_struct("WorkloadIdentity")
                .field("token_url", &token_url.as_str())
                .field("client_id", client_id)
                .field("token_file", token_file)
                .field("scope", scope)
                .finish(),
            Auth::ManagedIdentity {
                endpoint,
                resource,
                client_id,
            } => f
                .debug_struct("ManagedIdentity")
                .field("endpoint", &endpoint.as_str())
                .field("resource", resource)
                .field("client_id", client_id)
                .finish(),
            Auth::AzureCli { resource } => f
                .debug_struct("AzureCli")
                .field("resource", resource)
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

/// A token fetched from an identity provider, kept until `refresh_at`.
pub(crate) struct CachedToken {
    access_token: String,
    refresh_at: Instant,
}

impl CachedToken {
    /// A token valid for `lifetime` from `started` (when it was asked for), replaced
    /// [`REFRESH_MARGIN`] (at most half its lifetime) before it expires.
    fn new(access_token: String, started: Instant, lifetime: Duration) -> Self {
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        CachedToken {
            access_token,
            refresh_at: started + lifetime - margin,
        }
    }
}

/// Hands out bearer tokens: a given one as is, the others fetched and cached until shortly
/// before they expire.
pub(crate) struct TokenProvider {
    auth: Auth,
    cache: Mutex<Option<CachedToken>>,
}

/// A bearer token and whether it came from the cache (so a 401 may be worth one retry).
pub(crate) struct Bearer {
    pub token: String,
    pub cached: bool,
}

impl TokenProvider {
    pub(crate) fn new(auth: Auth) -> Self {
        TokenProvider {
            auth,
            cache: Mutex::new(None),
        }
    }

    pub(crate) async fn bearer(&self, http: &reqwest::Client) -> Result<Bearer, ClientError> {
        // Held across the request so concurrent callers share one token fetch.
        let mut cache = self.cache.lock().await;
        if let Some(cached) = cache.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(Bearer {
                token: cached.access_token.clone(),
                cached: true,
            });
        }
        let fetched = self.fetch(http).await?;
        let token = fetched.access_token.clone();
        *cache = Some(fetched);
        Ok(Bearer {
            token,
            cached: false,
        })
    }

    /// A new token from the identity provider; errors never echo the secret or assertion sent.
    async fn fetch(&self, http: &reqwest::Client) -> Result<CachedToken, ClientError> {
        match &self.auth {
            // Kept for no time, so it is checked again before every request.
            Auth::Token(token) => {
                check_token(token, unix_now()).map_err(ClientError::Token)?;
                Ok(CachedToken::new(
                    token.clone(),
                    Instant::now(),
                    Duration::ZERO,
                ))
            }
            Auth::ClientCredentials {
                token_url,
                client_id,
                client_secret,
                scope,
            } => request_token(
                http,
                token_url,
                client_id,
                ClientCredential::Secret(client_secret),
                scope,
            )
            .await
            .map_err(|e| redact(e, client_secret)),
            Auth::Certificate {
                token_url,
                client_id,
                certificate,
                scope,
            } => {
                let assertion = certificate.assertion(token_url, client_id, unix_now())?;
                request_with_assertion(http, token_url, client_id, &assertion, scope).await
            }
            Auth::WorkloadIdentity {
                token_url,
                client_id,
                token_file,
                scope,
            } => {
                let assertion = workload_identity::read_federated_token(token_file)?;
                request_with_assertion(http, token_url, client_id, &assertion, scope).await
            }
            Auth::ManagedIdentity {
                endpoint,
                resource,
                client_id,
            } => {
                managed_identity::request_token(http, endpoint, resource, client_id.as_deref())
                    .await
            }
            Auth::AzureCli { resource } => azure_cli::request_token(resource).await,
        }
    }

    /// Forgets the cached token, e.g. after the service rejected it.
    pub(crate) async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// Whether a new token can be fetched: every kind but a given token.
    pub(crate) fn is_refreshable(&self) -> bool {
        !matches!(self.auth, Auth::Token(_))
    }
}

/// Belt and braces: no message may echo the client secret or the client assertion.
/// A client-credentials token request authenticated by `assertion` (a certificate's or a
/// federated one), which never appears in the error.
async fn request_with_assertion(
    http: &reqwest::Client,
    token_url: &Url,
    client_id: &str,
    assertion: &str,
    scope: &str,
) -> Result<CachedToken, ClientError> {
    request_token(
        http,
        token_url,
        client_id,
        ClientCredential::Assertion(assertion),
        scope,
    )
    .await
    .map_err(|e| redact(e, assertion))
}

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
        ClientError::File(s) => ClientError::File(scrub(s)),
        other @ (ClientError::Api { .. }
        | ClientError::Interrupted { .. }
        | ClientError::Token(_)) => other,
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

    /// A JWT-shaped token (unsigned) with these claims.
    fn jwt(claims: &Value) -> String {
        let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"));
        format!(
            "{}.{}.c2lnbmF0dXJl",
            part(&serde_json::json!({"alg": "RS256", "typ": "JWT"})),
            part(claims)
        )
    }

    #[test]
    fn a_pasted_bearer_prefix_is_refused() {
        let token = jwt(&serde_json::json!({"exp": 2_000_000_000}));
        for given in [
            format!("Bearer {token}"),
            format!("bearer {token}"),
            format!("  BEARER {token}"),
        ] {
            assert_eq!(
                check_token(&given, 1_000),
                Err(TokenMistake::BearerPrefix),
                "{given}"
            );
        }
        assert_eq!(check_token(&token, 1_000), Ok(()));
        let message = TokenMistake::BearerPrefix.to_string();
        assert!(message.contains("give the token alone"), "{message}");
        assert!(!message.contains(&token));
    }

    #[test]
    fn an_expired_token_is_not_sent_past_the_leeway() {
        let expires_at = 1_796_000_000;
        let token = jwt(&serde_json::json!({"exp": expires_at, "aud": "api://sspr"}));
        // Within the service's leeway it is still sent: the service decides.
        assert_eq!(check_token(&token, expires_at + 60), Ok(()));
        let mistake = check_token(&token, expires_at + 12 * 60).expect_err("expired");
        assert_eq!(
            mistake.to_string(),
            "the token expired at 2026-11-30T00:53:20Z (12 minutes ago); get a new one; nothing was sent"
        );
        assert_eq!(mistake.slug(), "token-expired");
        // A token without exp, or not a JWT, is the service's to judge.
        assert_eq!(check_token(&jwt(&serde_json::json!({})), 5), Ok(()));
        assert_eq!(check_token("opaque-token", 5), Ok(()));
    }

    #[test]
    fn a_refused_token_is_explained_when_it_shows_why() {
        let token = jwt(&serde_json::json!({"exp": 1_000}));
        assert_eq!(
            explain_refused_token(&token, 1_030).as_deref(),
            Some(
                "the token expired at 1970-01-01T00:16:40Z (less than a minute ago); get a new one"
            )
        );
        assert_eq!(explain_refused_token(&token, 999), None, "not expired");
        for (token, why) in [
            ("garbage", "three parts"),
            ("a.b.c", "not base64url"),
            ("a.bm90IGpzb24.c", "not a JSON object"),
        ] {
            let text = explain_refused_token(token, 0).expect("explained");
            assert!(
                text.starts_with("the token is not a JWT") && text.contains(why),
                "{token}: {text}"
            );
        }
        assert_eq!(
            inspect_token(&jwt(&serde_json::json!({"exp": 7.9}))),
            TokenShape::Jwt {
                expires_at: Some(7)
            }
        );
    }

    #[test]
    fn ages_read_well() {
        assert_eq!(ago(59), "less than a minute ago");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(95 * 60), "95 minutes ago");
        assert_eq!(ago(3 * 3600), "3 hours ago");
        assert_eq!(ago(3 * 86_400), "3 days ago");
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
