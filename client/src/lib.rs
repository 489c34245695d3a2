//! Typed client for the sspr REST service: the calls, their typed answers, stream decoding and
//! errors. How the `sspr` command line prints them lives in the binary (`src/cli`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), sspr_client::ClientError> {
//! use sspr_client::{Auth, ClientOptions, SsprClient};
//! let client = SsprClient::new(
//!     "http://127.0.0.1:8080/".parse().expect("URL"),
//!     Auth::Token("eyJ…".into()),
//!     ClientOptions::default(),
//! )?;
//! for tenant in client.list_tenants().await? {
//!     let policy = client.get_policy(&tenant.id).await?;
//!     let admins = policy.administrators.allowed_to_use_sspr;
//!     println!("{}: administrators may use SSPR: {admins}", tenant.domain);
//! }
//! # Ok(()) }
//! ```

pub mod access;
pub mod audit;
pub mod auth;
pub mod error;
pub mod partner;
pub mod policy;
pub mod protection;
pub mod readiness;
pub mod registrations;
pub mod tenants;
pub mod types;
pub mod windows_link;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{ACCEPT, ETAG, HeaderMap, WWW_AUTHENTICATE};
use reqwest::{Method, RequestBuilder};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

pub use audit::{AuditFilter, AuditPage, AuditRecord};
pub use auth::{Auth, token_url_for_authority};
pub use error::{ClientError, Problem, Violation};
pub use policy::{PatchFlags, PolicyDocument, PolicyPlan};
pub use types::tenants::{
    FeatureCheck, TenantHealthStatus, TenantList, TenantSummary, Verification,
};

use auth::TokenProvider;

/// The response header carrying the service's request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// The response header carrying the id of the audit record a change wrote.
pub const AUDIT_RECORD_ID_HEADER: &str = "audit-record-id";

const ACCEPT_JSON: &str = "application/json, application/problem+json;q=0.9";
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Transport settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// An extra trusted root CA (PEM, may hold several certificates) for an https service URL
    /// and the token authority, on top of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// The whole-request timeout (connecting takes at most 10 s of it).
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            ca_file: None,
            timeout: Duration::from_secs(30),
        }
    }
}

/// A policy document together with the response's `request-id` and `ETag` headers.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyResponse {
    /// The document, typed.
    pub policy: PolicyDocument,
    /// The document as the service sent it: `tenant`, `retrievedAt`, one object per group and
    /// `findings`.
    pub document: Value,
    pub request_id: Option<String>,
    /// The `ETag` header as sent (a quoted string), to send back in `If-Match` when changing
    /// the policy.
    pub etag: Option<String>,
    /// The `audit-record-id` header of a change (applied, or found to change nothing).
    pub audit_record_id: Option<i64>,
}

/// A client of the sspr REST service.
pub struct SsprClient {
    base_url: Url,
    http: reqwest::Client,
    tokens: TokenProvider,
    /// [`ClientOptions::timeout`]; for a streamed response, the longest wait for its next piece.
    timeout: Duration,
}

impl fmt::Debug for SsprClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SsprClient")
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl SsprClient {
    /// A client for the service at `base_url` (e.g. `http://127.0.0.1:8080/`; a path prefix is
    /// kept, with or without its trailing slash).
    pub fn new(base_url: Url, auth: Auth, options: ClientOptions) -> Result<Self, ClientError> {
        if !matches!(base_url.scheme(), "http" | "https") || base_url.cannot_be_a_base() {
            return Err(ClientError::Config(format!(
                "the service URL must be an http(s) URL, not '{base_url}'"
            )));
        }
        if options.timeout.is_zero() {
            return Err(ClientError::Config(
                "the timeout must be longer than zero".into(),
            ));
        }
        match &auth {
            Auth::Token(token) if token.trim().is_empty() => {
                return Err(ClientError::Auth("the bearer token is empty".into()));
            }
            Auth::ClientCredentials {
                client_id,
                client_secret,
                ..
            } if client_id.trim().is_empty() || client_secret.is_empty() => {
                return Err(ClientError::Auth(
                    "the client id and client secret must not be empty".into(),
                ));
            }
            _ => {}
        }
        let mut base_url = base_url;
        base_url.set_query(None);
        base_url.set_fragment(None);
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }

        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("sspr-client/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(MAX_CONNECT_TIMEOUT));
        if let Some(path) = &options.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                ClientError::File(format!("cannot read the CA file {}: {e}", path.display()))
            })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ClientError::File(format!("the CA file {} is not PEM: {e}", path.display()))
            })?;
            if certificates.is_empty() {
                return Err(ClientError::File(format!(
                    "the CA file {} holds no certificate",
                    path.display()
                )));
            }
            builder = builder.tls_certs_merge(certificates);
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Config(format!("cannot set up HTTP: {}", error_chain(&e))))?;
        Ok(SsprClient {
            base_url,
            http,
            tokens: TokenProvider::new(auth),
            timeout: options.timeout,
        })
    }

    /// The service's base URL, always ending in `/`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// `GET /v1/tenants/{tenant}/sspr/policy`, `tenant` being an id or a domain: the typed
    /// document (as sent too, with the headers: [`get_policy_response`](Self::get_policy_response)).
    pub async fn get_policy(&self, tenant: &str) -> Result<PolicyDocument, ClientError> {
        self.get_policy_response(tenant).await.map(|r| r.policy)
    }

    /// The policy document, typed and as sent, with the `request-id`, `ETag` and
    /// `audit-record-id` headers.
    pub async fn get_policy_response(&self, tenant: &str) -> Result<PolicyResponse, ClientError> {
        let url = self.policy_url(tenant)?;
        let reply = self.send(Method::GET, &url, None).await?;
        policy_response("GET", &url, reply)
    }

    /// `GET /v1/tenants/{tenant}/sspr/policy` with its `ETag`, which a change must send back.
    pub async fn get_policy_with_etag(
        &self,
        tenant: &str,
    ) -> Result<(PolicyResponse, String), ClientError> {
        let url = self.policy_url(tenant)?;
        let response = self.get_policy_response(tenant).await?;
        let etag = response.etag.clone().ok_or_else(|| {
            ClientError::Decode(format!(
                "GET {url}: the policy came without an ETag header, so it cannot be changed safely"
            ))
        })?;
        Ok((response, etag))
    }

    /// `/v1/tenants/{tenant}/sspr/policy`, after checking the tenant key.
    fn policy_url(&self, tenant: &str) -> Result<Url, ClientError> {
        self.tenant_endpoint(tenant, &["sspr", "policy"])
    }

    /// `/v1/tenants/{tenant}/…`, after checking the tenant key.
    pub(crate) fn tenant_endpoint(&self, tenant: &str, rest: &[&str]) -> Result<Url, ClientError> {
        let tenant = tenant.trim();
        if tenant.is_empty() || tenant == "." || tenant == ".." {
            return Err(ClientError::Config(format!(
                "'{tenant}' is not a tenant id or domain"
            )));
        }
        let mut segments = vec!["v1", "tenants", tenant];
        segments.extend_from_slice(rest);
        self.endpoint(&segments)
    }

    /// The base URL plus `segments`, each percent-encoded as one path segment.
    fn endpoint(&self, segments: &[&str]) -> Result<Url, ClientError> {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::Config(format!("'{}' cannot take a path", self.base_url)))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// An authenticated GET: the success body and `request-id`, or the error.
    async fn get(&self, url: &Url) -> Result<(Vec<u8>, Option<String>), ClientError> {
        let reply = self.send(Method::GET, url, None).await?;
        Ok((reply.body, reply.request_id))
    }

    /// An authenticated request with `Accept: application/json` plus whatever `prepare` adds:
    /// the success reply, or the error.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        prepare: Option<&(dyn Fn(RequestBuilder) -> RequestBuilder + Sync)>,
    ) -> Result<Reply, ClientError> {
        let response = self.open(method.clone(), url, ACCEPT_JSON, prepare).await?;
        let request_id = header_string(response.headers(), REQUEST_ID_HEADER);
        let etag = header_string(response.headers(), ETAG.as_str());
        let audit_record_id = header_string(response.headers(), AUDIT_RECORD_ID_HEADER)
            .and_then(|id| id.parse().ok());
        let body = response
            .bytes()
            .await
            .map_err(|e| ClientError::Transport(describe_send_error(method.as_str(), url, &e)))?;
        Ok(Reply {
            body: body.to_vec(),
            request_id,
            etag,
            audit_record_id,
        })
    }

    /// An authenticated request with `accept` plus whatever `prepare` adds: a success response
    /// with its body still unread (to stream it), or the error with the problem read from the
    /// body. A cached client-credentials token that the service rejects is replaced once.
    async fn open(
        &self,
        method: Method,
        url: &Url,
        accept: &str,
        prepare: Option<&(dyn Fn(RequestBuilder) -> RequestBuilder + Sync)>,
    ) -> Result<reqwest::Response, ClientError> {
        let mut retried = false;
        loop {
            let bearer = self.tokens.bearer(&self.http).await?;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(&bearer.token)
                .header(ACCEPT, accept);
            if let Some(prepare) = prepare {
                request = prepare(request);
            }
            let response = request.send().await.map_err(|e| {
                ClientError::Transport(describe_send_error(method.as_str(), url, &e))
            })?;
            let status = response.status();
            let request_id = header_string(response.headers(), REQUEST_ID_HEADER);
            if status == reqwest::StatusCode::UNAUTHORIZED
                && bearer.cached
                && !retried
                && self.tokens.is_refreshable()
            {
                self.tokens.invalidate().await;
                retried = true;
                continue;
            }
            if status.is_success() {
                return Ok(response);
            }
            let challenge = header_string(response.headers(), WWW_AUTHENTICATE.as_str());
            let body = response.bytes().await.map_err(|e| {
                ClientError::Transport(describe_send_error(method.as_str(), url, &e))
            })?;
            let mut problem = Problem::from_response(status.as_u16(), &body, challenge.as_deref());
            problem.request_id = request_id;
            return Err(ClientError::Api {
                status: status.as_u16(),
                problem: Box::new(problem),
            });
        }
    }
}

/// A success response: its body and the headers the client uses.
struct Reply {
    body: Vec<u8>,
    request_id: Option<String>,
    etag: Option<String>,
    audit_record_id: Option<i64>,
}

/// A policy document (a JSON object) and the reply's headers.
fn policy_response(method: &str, url: &Url, reply: Reply) -> Result<PolicyResponse, ClientError> {
    let document: Value = serde_json::from_slice(&reply.body)
        .map_err(|e| decode_error_of(method, url, "a JSON policy document", &e, &reply.body))?;
    if !document.is_object() {
        return Err(ClientError::Decode(format!(
            "{method} {url}: expected a JSON object, got {}",
            error::truncate(&document.to_string(), 80)
        )));
    }
    let policy = PolicyDocument::deserialize(&document)
        .map_err(|e| decode_error_of(method, url, "a policy document", &e, &reply.body))?;
    Ok(PolicyResponse {
        policy,
        document,
        request_id: reply.request_id,
        etag: reply.etag,
        audit_record_id: reply.audit_record_id,
    })
}

fn decode_error(url: &Url, expected: &str, error: &serde_json::Error, body: &[u8]) -> ClientError {
    decode_error_of("GET", url, expected, error, body)
}

fn decode_error_of(
    method: &str,
    url: &Url,
    expected: &str,
    error: &serde_json::Error,
    body: &[u8],
) -> ClientError {
    let start = error::truncate(
        &error::collapse_whitespace(&String::from_utf8_lossy(body)),
        80,
    );
    ClientError::Decode(format!(
        "{method} {url}: expected {expected} ({error}); the body starts: {start}"
    ))
}

fn header_string(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// `METHOD url: what went wrong`, for a request that got no HTTP answer.
pub(crate) fn describe_send_error(method: &str, url: &Url, error: &reqwest::Error) -> String {
    if let Some(advice) = scheme_mismatch(url, &error_chain(error)) {
        return format!("{method} {url}: {advice}");
    }
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        return format!("{method} {url}: {}", error_chain(error));
    };
    let mut innermost: &dyn std::error::Error = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    let cause = innermost.to_string();
    if cause.is_empty() || cause == what {
        format!("{method} {url}: {what}")
    } else {
        format!("{method} {url}: {what} ({cause})")
    }
}

/// `the service at https://host:port/ speaks plain HTTP: use http://host:port/` when the
/// transport error shows that TLS met plain HTTP (or plain HTTP met TLS).
fn scheme_mismatch(url: &Url, chain: &str) -> Option<String> {
    // rustls reading an HTTP answer as a TLS record; hyper reading a TLS alert as HTTP.
    let (speaks, other) = match url.scheme() {
        "https" if chain.contains("InvalidContentType") => ("plain HTTP", "http"),
        "http" if chain.contains("invalid HTTP version") => ("TLS (HTTPS)", "https"),
        _ => return None,
    };
    let origin = url.origin().ascii_serialization();
    let mut fixed = url.clone();
    fixed.set_scheme(other).ok()?;
    fixed.set_path("/");
    fixed.set_query(None);
    Some(format!(
        "the service at {origin}/ speaks {speaks}: use {fixed}"
    ))
}

/// An error and its sources joined with `: `, without repeats and without reqwest's URL
/// (the callers name the URL themselves).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let mut text = e.to_string();
        if let Some(at) = text.find(" for url (") {
            text.truncate(at);
        }
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> SsprClient {
        SsprClient::new(
            base.parse().expect("URL"),
            Auth::Token("t".into()),
            ClientOptions::default(),
        )
        .expect("client")
    }

    #[test]
    fn endpoints_keep_the_base_path_and_encode_the_tenant() {
        let c = client("http://127.0.0.1:8080");
        assert_eq!(
            c.endpoint(&["v1", "tenants"]).expect("url").as_str(),
            "http://127.0.0.1:8080/v1/tenants"
        );
        let c = client("https://sspr.test/prefix?x=1");
        assert_eq!(c.base_url().as_str(), "https://sspr.test/prefix/");
        let url = c
            .endpoint(&["v1", "tenants", "a/b c%?#", "sspr", "policy"])
            .expect("url");
        assert_eq!(
            url.as_str(),
            "https://sspr.test/prefix/v1/tenants/a%2Fb%20c%25%3F%23/sspr/policy"
        );
    }

    #[test]
    fn rejects_bad_configuration() {
        let url = |s: &str| s.parse::<Url>().expect("URL");
        let token = || Auth::Token("t".into());
        assert!(matches!(
            SsprClient::new(url("ftp://x/"), token(), ClientOptions::default()),
            Err(ClientError::Config(_))
        ));
        assert!(matches!(
            SsprClient::new(
                url("http://x/"),
                Auth::Token(" ".into()),
                ClientOptions::default()
            ),
            Err(ClientError::Auth(_))
        ));
        let missing = ClientOptions {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..ClientOptions::default()
        };
        assert!(matches!(
            SsprClient::new(url("https://x/"), token(), missing),
            Err(ClientError::File(m)) if m.contains("/nonexistent/ca.pem")
        ));
    }

    #[test]
    fn tls_against_plain_http_and_back_is_said_so() {
        let https = Url::parse("https://127.0.0.1:8080/v1/tenants").expect("url");
        assert_eq!(
            scheme_mismatch(
                &https,
                "client error (Connect): received corrupt message of type InvalidContentType"
            )
            .as_deref(),
            Some(
                "the service at https://127.0.0.1:8080/ speaks plain HTTP: use http://127.0.0.1:8080/"
            )
        );
        let http = Url::parse("http://127.0.0.1:8443/v1/tenants?x=1").expect("url");
        assert_eq!(
            scheme_mismatch(
                &http,
                "client error (SendRequest): invalid HTTP version parsed"
            )
            .as_deref(),
            Some(
                "the service at http://127.0.0.1:8443/ speaks TLS (HTTPS): use https://127.0.0.1:8443/"
            )
        );
        assert_eq!(scheme_mismatch(&https, "Connection refused"), None);
        assert_eq!(scheme_mismatch(&http, "InvalidContentType"), None);
    }

    #[tokio::test]
    async fn empty_tenant_is_a_configuration_error() {
        let c = client("http://127.0.0.1:9/");
        assert!(matches!(
            c.get_policy("  ").await,
            Err(ClientError::Config(_))
        ));
        assert!(matches!(
            c.get_policy("..").await,
            Err(ClientError::Config(_))
        ));
    }
}
