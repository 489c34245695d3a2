//! The Microsoft Graph side: one dispatcher for `/v1.0/…` and `/beta/…` that does what Graph does
//! for every request (faults, bearer validation, route match, throttling, permission check,
//! envelope and correlation headers), and a route table that resource modules fill.
//!
//! A resource module exposes `pub(crate) fn routes() -> Vec<Route>`; its handlers are plain
//! functions from a [`Ctx`] to a [`Reply`] and never see HTTP.

mod auth;
mod conditional_access;
mod error;
mod groups;
mod intune;
mod licensing;
mod named_locations;
mod odata;
mod organization;
mod partner;
mod policies;
mod recommendations;
mod reports;
mod security;

use std::sync::Arc;

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::Value;

pub(crate) use auth::{Caller, authenticate_bearer};
pub(crate) use error::{GraphError, RequestIds};
pub(crate) use odata::{ListOptions, Paging, Query, with_context};

use crate::{Shared, calls::CallTenant, calls::http_date};

const ODATA_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
/// Shape of Graph's diagnostic header; clients log it, nobody parses it.
const AGS_DIAGNOSTIC: &str = r#"{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"entra-emulator"}}"#;

/// The Graph API version a request addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V1,
    Beta,
}

impl Version {
    pub(crate) fn segment(self) -> &'static str {
        match self {
            Version::V1 => "v1.0",
            Version::Beta => "beta",
        }
    }

    /// `https://graph.microsoft.com/{version}/$metadata`, the prefix of every `@odata.context`.
    pub(crate) fn metadata(self) -> String {
        format!("https://graph.microsoft.com/{}/$metadata", self.segment())
    }
}

/// Versions a route is served on.
pub(crate) const V1_AND_BETA: &[Version] = &[Version::V1, Version::Beta];
pub(crate) const BETA_ONLY: &[Version] = &[Version::Beta];
pub(crate) const V1_ONLY: &[Version] = &[Version::V1];

/// Who may call a route.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Access {
    /// Any one of these application (`roles`) or delegated (`scp`) permissions.
    Any(&'static [&'static str]),
    /// Delegated tokens only (app-only gets 403), with any one of these scopes.
    DelegatedOnly(&'static [&'static str]),
}

/// Graph's throttling buckets that differ from the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Bucket {
    /// Identity and access reports: 5 requests / 10 s per app per tenant, 122 / 10 s per app.
    Reports,
    /// Conditional Access and named locations: 1 request / s per tenant, no `Retry-After`.
    ConditionalAccess,
    /// Intune (`deviceManagement/…`): its own per-tenant limits, not the directory's RU budget.
    Intune,
}

pub(crate) struct Route {
    pub method: Method,
    /// Path below the version, `/`-separated; `{name}` segments capture a parameter.
    pub pattern: &'static str,
    pub versions: &'static [Version],
    pub access: Access,
    pub bucket: Option<Bucket>,
    pub handler: Handler,
}

impl Route {
    pub(crate) fn new(
        method: Method,
        pattern: &'static str,
        access: Access,
        handler: Handler,
    ) -> Route {
        Route {
            method,
            pattern,
            versions: V1_AND_BETA,
            access,
            bucket: None,
            handler,
        }
    }

    pub(crate) fn versions(mut self, versions: &'static [Version]) -> Route {
        self.versions = versions;
        self
    }

    pub(crate) fn bucket(mut self, bucket: Bucket) -> Route {
        self.bucket = Some(bucket);
        self
    }
}

pub(crate) type Handler = fn(&Ctx<'_>) -> Result<Reply, GraphError>;

/// What a handler gets: the caller, the matched parameters, OData options and the JSON body.
pub(crate) struct Ctx<'a> {
    pub shared: &'a Shared,
    pub caller: &'a Caller,
    pub version: Version,
    /// Values of the pattern's `{…}` segments, in order, percent-decoded.
    pub params: Vec<String>,
    pub query: Query,
    /// The parsed JSON body of POST/PATCH/PUT (`None` when empty).
    pub body: Option<Value>,
    /// The request path with its query, to build `@odata.nextLink` from.
    pub uri: &'a Uri,
}

impl Ctx<'_> {
    pub(crate) fn param(&self, index: usize) -> &str {
        self.params
            .get(index)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The body, or Graph's 400 for a request that needs one.
    pub(crate) fn body(&self) -> Result<&Value, GraphError> {
        self.body
            .as_ref()
            .filter(|b| b.is_object())
            .ok_or_else(|| GraphError::bad_request("Empty Payload. JSON content expected."))
    }

    /// An absolute URL on this emulator, e.g. for `@odata.nextLink`.
    pub(crate) fn absolute(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.shared.base_url,
            path_and_query.trim_start_matches('/')
        )
    }
}

pub(crate) enum Reply {
    Ok(Value),
    Created(Value),
    NoContent,
}

/// The route table, built once.
fn table() -> &'static [Route] {
    static TABLE: std::sync::OnceLock<Vec<Route>> = std::sync::OnceLock::new();
    TABLE.get_or_init(all_routes)
}

/// Every Graph route the emulator serves, as `(method, pattern, versions)`, so tests can prove
/// they walked them all.
pub fn route_list() -> Vec<(Method, &'static str, Vec<&'static str>)> {
    table()
        .iter()
        .map(|r| {
            (
                r.method.clone(),
                r.pattern,
                r.versions.iter().map(|v| v.segment()).collect(),
            )
        })
        .collect()
}

fn all_routes() -> Vec<Route> {
    let mut routes = Vec::new();
    routes.extend(policies::routes());
    routes.extend(conditional_access::routes());
    routes.extend(named_locations::routes());
    routes.extend(licensing::routes());
    routes.extend(security::routes());
    routes.extend(recommendations::routes());
    routes.extend(reports::routes());
    routes.extend(organization::routes());
    routes.extend(groups::routes());
    routes.extend(partner::routes());
    routes.extend(intune::routes());
    routes
}

/// Every request under `/v1.0/` and `/beta/`.
pub(crate) async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ids = RequestIds::from_headers(&headers);
    let mut served = crate::calls::Served::default();
    let (logged_tenant, result) =
        match authenticate_bearer(&shared, &headers, auth::GRAPH_AUDIENCES) {
            Ok(caller) => (
                caller.tenant_id.clone(),
                serve(&shared, &method, &uri, &caller, &body, &mut served),
            ),
            Err((tenant, e)) => (tenant, Err(e)),
        };
    let mut response = match result {
        Ok(Reply::Ok(value)) => json_response(StatusCode::OK, value),
        Ok(Reply::Created(value)) => json_response(StatusCode::CREATED, value),
        Ok(Reply::NoContent) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(&ids),
    };
    add_graph_headers(response.headers_mut(), &ids);
    served.apply(&mut response);
    response.extensions_mut().insert(CallTenant(logged_tenant));
    response
}

fn json_response(status: StatusCode, value: Value) -> Response {
    let mut response = (status, Json(value)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ODATA_JSON));
    headers.insert("odata-version", HeaderValue::from_static("4.0"));
    response
}

pub(crate) fn add_graph_headers(headers: &mut HeaderMap, ids: &RequestIds) {
    for (name, value) in [
        ("request-id", ids.request_id.as_str()),
        ("client-request-id", ids.client_request_id.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    }
    headers.insert(
        "x-ms-ags-diagnostic",
        HeaderValue::from_static(AGS_DIAGNOSTIC),
    );
    if let Ok(v) = HeaderValue::from_str(&http_date()) {
        headers.insert(header::DATE, v);
    }
}

/// A matched route and the parameters its pattern captured.
struct Matched<'r> {
    route: &'r Route,
    version: Version,
    params: Vec<String>,
}

/// Matches `path` against the table. Segments compare case-insensitively, as Graph's do. The
/// error is Graph's: 400 naming the first segment that resolves nowhere, or 405 when the path
/// exists but not for this method.
fn find<'r>(routes: &'r [Route], method: &Method, path: &str) -> Result<Matched<'r>, GraphError> {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let version = match segments.next().map(str::to_ascii_lowercase).as_deref() {
        Some("v1.0") => Version::V1,
        Some("beta") => Version::Beta,
        other => return Err(GraphError::segment_not_found(other.unwrap_or_default())),
    };
    let segments: Vec<String> = segments.map(percent_decode).collect();
    let mut deepest_match = 0;
    let mut path_exists = false;
    for route in routes.iter().filter(|r| r.versions.contains(&version)) {
        let pattern: Vec<&str> = route.pattern.split('/').collect();
        let mut params = Vec::new();
        let mut matched = 0;
        for (p, s) in pattern.iter().zip(&segments) {
            if p.starts_with('{') {
                params.push(s.clone());
            } else if let Some(args) = function_call_args(p, s) {
                params.push(args);
            } else if !p.eq_ignore_ascii_case(s) {
                break;
            }
            matched += 1;
        }
        deepest_match = deepest_match.max(matched);
        if matched == pattern.len() && matched == segments.len() {
            path_exists = true;
            if route.method == *method {
                return Ok(Matched {
                    route,
                    version,
                    params,
                });
            }
        }
    }
    if path_exists {
        return Err(GraphError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        ));
    }
    let bad = segments
        .get(deepest_match)
        .map(String::as_str)
        .unwrap_or_default();
    Err(GraphError::segment_not_found(bad))
}

/// A pattern segment `name(*)` matches an OData function call `name(…)` (name compared
/// case-insensitively) and captures the argument list between the parentheses.
fn function_call_args(pattern: &str, segment: &str) -> Option<String> {
    let name = pattern.strip_suffix("(*)")?;
    let head = segment.get(..name.len())?;
    let args = segment[name.len()..].strip_prefix('(')?.strip_suffix(')')?;
    head.eq_ignore_ascii_case(name).then(|| args.to_owned())
}

fn percent_decode(segment: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| segment.to_owned())
}

fn serve(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    caller: &Caller,
    body: &Bytes,
    served: &mut crate::calls::Served,
) -> Result<Reply, GraphError> {
    served.app_id = Some(caller.app_id.clone());
    let matched = find(table(), method, uri.path())?;
    served.route = Some(format!(
        "{}/{}",
        matched.version.segment(),
        matched.route.pattern
    ));
    // Graph throttles every authenticated request that reaches a resource, before the workload
    // authorizes it: a request refused with 403 still spends the caller's budget.
    served.headers = crate::throttle::check_graph(
        shared,
        caller,
        matched.route.bucket,
        method,
        matched.route.pattern,
        uri.query().unwrap_or_default(),
    )?;
    check_access(matched.route.access, caller)?;
    let body = if body.is_empty() {
        None
    } else {
        Some(serde_json::from_slice::<Value>(body).map_err(|e| {
            GraphError::bad_request(format!("Invalid JSON in the request body: {e}"))
        })?)
    };
    let ctx = Ctx {
        shared,
        caller,
        version: matched.version,
        params: matched.params,
        query: Query::parse(uri.query().unwrap_or_default()),
        body,
        uri,
    };
    if *method == Method::GET {
        return (matched.route.handler)(&ctx);
    }
    // A write may change what reports derive from: timestamp the state before and after it, so
    // reports follow the change only once the configured report delay has passed.
    observe_reports(shared, caller);
    let reply = (matched.route.handler)(&ctx);
    observe_reports(shared, caller);
    reply
}

fn observe_reports(shared: &Shared, caller: &Caller) {
    if let Some(tenant) = shared.directory().tenant_mut(&caller.tenant_id) {
        crate::derived::observe(tenant, shared.report_delay);
    }
}

fn check_access(access: Access, caller: &Caller) -> Result<(), GraphError> {
    let (wanted, delegated_only) = match access {
        Access::Any(p) => (p, false),
        Access::DelegatedOnly(p) => (p, true),
    };
    if delegated_only && caller.app_only {
        return Err(GraphError::forbidden(
            "Authorization_RequestDenied",
            "This operation does not support application permissions; sign in as a user.",
        ));
    }
    if caller.has_any(wanted) {
        Ok(())
    } else {
        Err(GraphError::forbidden(
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop(_: &Ctx<'_>) -> Result<Reply, GraphError> {
        Ok(Reply::NoContent)
    }

    fn table() -> Vec<Route> {
        vec![
            Route::new(
                Method::GET,
                "policies/authenticationMethodsPolicy",
                Access::Any(&[]),
                noop,
            ),
            Route::new(
                Method::PATCH,
                "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id}",
                Access::Any(&[]),
                noop,
            ),
            Route::new(
                Method::GET,
                "directory/recommendations",
                Access::Any(&[]),
                noop,
            )
            .versions(BETA_ONLY),
        ]
    }

    #[test]
    fn segments_match_case_insensitively_and_capture_parameters() {
        let routes = table();
        let m = find(
            &routes,
            &Method::PATCH,
            "/V1.0/Policies/authenticationmethodspolicy/authenticationMethodConfigurations/Sms",
        )
        .expect("matches");
        assert_eq!(m.params, ["Sms"]);
        assert_eq!(m.version, Version::V1);
    }

    #[test]
    fn unknown_segments_and_methods_get_graphs_errors() {
        let routes = table();
        let e = find(&routes, &Method::GET, "/v1.0/policies/nope")
            .err()
            .expect("no route");
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.contains("'nope'"), "{}", e.message);
        let e = find(
            &routes,
            &Method::DELETE,
            "/v1.0/policies/authenticationMethodsPolicy",
        )
        .err()
        .expect("no method");
        assert_eq!(e.status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(
            find(&routes, &Method::GET, "/v1.0/directory/recommendations").is_err(),
            "beta only"
        );
        assert!(find(&routes, &Method::GET, "/beta/directory/recommendations").is_ok());
    }
}
