//! The call log: one record per request served, so tests can assert how (and how often) the
//! service talked to "Entra" and "Graph".

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use time::{OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description};

use crate::Shared;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `POST /{tenant}/oauth2/v2.0/token`
    Token,
    /// `GET /{tenant}/v2.0/.well-known/openid-configuration`
    Discovery,
    /// `GET /{tenant}/discovery/v2.0/keys`
    Jwks,
    /// Anything under `/v1.0/` or `/beta/` (including rejected and unknown Graph paths).
    Graph,
    /// The portal back end, anything under `/api/` (tenant: the token's `tid`).
    Portal,
    /// `GET /{tenant}/v2.0/adminconsent` (tenant: the resolved id).
    AdminConsent,
    /// The managed-identity endpoint `/metadata/identity/oauth2/token` (tenant: the identity's).
    ManagedIdentity,
    /// A Kubernetes-like service-account issuer's discovery or keys, under `/_k8s/`.
    ServiceAccountIssuer,
    /// A path the emulator does not serve at all (404).
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub kind: CallKind,
    pub method: String,
    pub path: String,
    /// Token/discovery/JWKS: the path tenant resolved to its id (the raw segment when unknown).
    /// Graph: the token's `tid` (even when the token was rejected), `""` without a readable token.
    pub tenant_id: Option<String>,
    pub status: u16,
    /// The calling client's app id where known: Graph's authenticated caller (`azp`/`appid`),
    /// or what a handler reported with [`CallApp`].
    pub app_id: Option<String>,
    /// The matched route pattern, e.g. `v1.0/users/{id}` (Graph requests that matched a route).
    pub route: Option<String>,
}

/// Set by handlers as a response extension to tell the logging middleware which tenant a request
/// belonged to (only the handler knows: it resolves domains and reads tokens).
#[derive(Debug, Clone)]
pub(crate) struct CallTenant(pub String);

/// Response extension: the client app id of the request (for the call log's per-client counts).
#[derive(Debug, Clone)]
pub(crate) struct CallApp(pub String);

/// Response extension: the route pattern the request matched.
#[derive(Debug, Clone)]
pub(crate) struct CallRoute(pub String);

/// What the Graph dispatcher learned about a request besides its reply: who called, which route
/// matched, and headers to add (throttling's `x-ms-resource-unit` and friends).
#[derive(Debug, Default)]
pub(crate) struct Served {
    pub app_id: Option<String>,
    pub route: Option<String>,
    pub headers: Vec<(axum::http::HeaderName, String)>,
}

impl Served {
    /// Put the headers on `response` and tell the call log about app and route.
    pub(crate) fn apply(self, response: &mut Response) {
        for (name, value) in self.headers {
            if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        if let Some(app) = self.app_id {
            response.extensions_mut().insert(CallApp(app));
        }
        if let Some(route) = self.route {
            response.extensions_mut().insert(CallRoute(route));
        }
    }
}

/// Axum middleware recording every request into the call log.
pub(crate) async fn record(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let response = next.run(req).await;
    let tenant_id = response
        .extensions()
        .get::<CallTenant>()
        .map(|t| t.0.clone());
    let extensions = response.extensions();
    let record = CallRecord {
        kind: classify(&path),
        method,
        path,
        tenant_id,
        status: response.status().as_u16(),
        app_id: extensions.get::<CallApp>().map(|a| a.0.clone()),
        route: extensions.get::<CallRoute>().map(|r| r.0.clone()),
    };
    tracing::debug!(?record, "served");
    shared
        .calls
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(record);
    response
}

fn classify(path: &str) -> CallKind {
    let lower = path.to_ascii_lowercase();
    if lower.starts_with("/v1.0/") || lower.starts_with("/beta/") {
        CallKind::Graph
    } else if lower.starts_with("/api/") {
        CallKind::Portal
    } else if lower.starts_with("/_k8s/") {
        CallKind::ServiceAccountIssuer
    } else if lower.starts_with("/metadata/identity/") {
        CallKind::ManagedIdentity
    } else if lower.ends_with("/v2.0/adminconsent") {
        CallKind::AdminConsent
    } else if lower.ends_with("/oauth2/v2.0/token") || lower.ends_with("/oauth2/token") {
        CallKind::Token
    } else if lower.ends_with("/.well-known/openid-configuration") {
        CallKind::Discovery
    } else if lower.ends_with("/discovery/v2.0/keys") {
        CallKind::Jwks
    } else {
        CallKind::Other
    }
}

pub(crate) fn now_unix() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `2026-08-20T10:15:30Z`-style timestamp.
pub(crate) fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    now.format(&Rfc3339).unwrap_or_default()
}

/// Graph's `innerError.date`: ISO 8601 without a zone suffix, e.g. `2026-08-20T10:15:30`.
pub(crate) fn graph_inner_date() -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    OffsetDateTime::now_utc().format(fmt).unwrap_or_default()
}

/// Entra's token-error `timestamp`: `2026-08-20 10:15:30Z`.
pub(crate) fn entra_timestamp() -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    OffsetDateTime::now_utc().format(fmt).unwrap_or_default()
}

/// HTTP `Date` header value (IMF-fixdate).
pub(crate) fn http_date() -> String {
    let fmt = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    OffsetDateTime::now_utc().format(fmt).unwrap_or_default()
}
