//! Every error the API returns, as an RFC 9457 problem document, built here and only here:
//! [`ApiError`] for the errors handlers and extractors name, [`problem_for_bare_error`] for the
//! rare error response some layer made without a body.

use std::borrow::Cow;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use problem_details::ProblemDetails;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::auth::AuthError;
use crate::directory::DirectoryError;
use crate::domain::change::ChangeError;
use crate::ops::OpsError;

pub use sspr_api::problem::Problem;

/// The stable machine code of a problem type's slug: `unknown-tenant` → `unknownTenant`.
pub fn code_of(slug: &str) -> String {
    let mut code = String::with_capacity(slug.len());
    for (index, word) in slug.split('-').filter(|w| !w.is_empty()).enumerate() {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if index == 0 {
                code.extend(first.to_lowercase());
            } else {
                code.extend(first.to_uppercase());
            }
            code.push_str(chars.as_str());
        }
    }
    code
}

/// One problem document on its way out: status, type, title, detail, `code` (from the type),
/// `field` when a request member is at fault, further members, and headers.
struct ProblemResponse {
    status: StatusCode,
    slug: Cow<'static, str>,
    title: Cow<'static, str>,
    detail: String,
    field: Option<String>,
    extensions: Map<String, Value>,
    headers: HeaderMap,
}

fn problem(
    status: StatusCode,
    slug: impl Into<Cow<'static, str>>,
    title: impl Into<Cow<'static, str>>,
    detail: impl Into<String>,
) -> ProblemResponse {
    ProblemResponse {
        status,
        slug: slug.into(),
        title: title.into(),
        detail: detail.into(),
        field: None,
        extensions: Map::new(),
        headers: HeaderMap::new(),
    }
}

impl ProblemResponse {
    fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Adds the members of `extensions` (an object; anything else is ignored).
    fn extensions(mut self, extensions: impl Serialize) -> Self {
        if let Ok(Value::Object(members)) = serde_json::to_value(extensions) {
            self.extensions.extend(members);
        }
        self
    }

    fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    fn retry_after(self, wait: Duration) -> Self {
        let seconds = (wait.as_secs_f64().ceil() as u64).max(1);
        self.header(header::RETRY_AFTER, HeaderValue::from(seconds))
    }
}

impl IntoResponse for ProblemResponse {
    fn into_response(self) -> Response {
        let mut members = self.extensions;
        members.insert("code".into(), Value::String(code_of(&self.slug)));
        if let Some(field) = self.field {
            members.insert("field".into(), Value::String(field));
        }
        let problem_type = format!("/problems/{}", self.slug)
            .parse::<axum::http::Uri>()
            .unwrap_or_else(|_| axum::http::Uri::from_static("/problems/internal"));
        let mut response = ProblemDetails::from_status_code(self.status)
            .with_type(problem_type)
            .with_title(self.title)
            .with_detail(self.detail)
            .with_extensions(members)
            .into_response();
        response.headers_mut().extend(self.headers);
        response
    }
}

#[derive(Debug)]
pub enum ApiError {
    /// The request is malformed; `field` names the parameter or member at fault.
    BadRequest {
        detail: String,
        field: String,
    },
    /// 400: a paging cursor that is forged, edited, expired, or for another tenant, query or
    /// caller (`code: invalidCursor`, `field: cursor`).
    InvalidCursor(String),
    /// The body is not JSON at all (syntax, nesting deeper than the parser allows, not UTF-8).
    MalformedJson {
        detail: String,
    },
    /// 415: the body's `Content-Type` is not the one the route takes.
    UnsupportedMediaType {
        expected: &'static str,
        given: Option<String>,
    },
    /// 413: the body is larger than `server.max_body_bytes`.
    BodyTooLarge {
        limit: Option<usize>,
    },
    /// 414: the request target is longer than `server.max_uri_bytes`.
    UriTooLong {
        length: usize,
        limit: usize,
    },
    /// 431: the headers are larger than `server.max_header_bytes`; `largest` names the largest.
    HeadersTooLarge {
        total: usize,
        limit: usize,
        largest: String,
    },
    /// 405: the route exists but not with this method (the router adds `Allow`).
    MethodNotAllowed {
        method: Method,
        path: String,
    },
    /// 503: the request took longer than its kind of route may. `may_have_changed` for writes.
    Timeout {
        after: Duration,
        may_have_changed: bool,
        request_id: Option<String>,
    },
    /// 500: a fault of the service itself; the text goes to the log, not to the caller.
    Internal(String),
    /// The embedded store failed (the detail stays in the log).
    Store(crate::store::StoreError),
    Unauthenticated(String),
    Forbidden(String),
    NotFound {
        what: &'static str,
        detail: String,
    },
    IdentityUnavailable(String),
    Directory(DirectoryError),
    /// 428: a change without `If-Match`.
    PreconditionRequired,
    /// 412: `If-Match` names an older version; `current` is the ETag now.
    PreconditionFailed {
        current: String,
    },
    /// 422: the change cannot be made as asked; `extensions` says where and why (a `pointer`
    /// member is also given as `field`).
    Unprocessable {
        slug: &'static str,
        title: &'static str,
        detail: String,
        extensions: serde_json::Value,
    },
    /// 409: the request conflicts with what exists (`tenantExists`, `tenantReadOnly`).
    Conflict {
        slug: &'static str,
        detail: String,
    },
    /// 403: the tenant lacks the licence the feature needs (`code: licenseRequired`).
    LicenseRequired {
        tenant: String,
        detail: String,
    },
    /// 403: the tenant has not granted an application permission the operation needs.
    PermissionMissing {
        tenant: String,
        detail: String,
        missing: Vec<String>,
    },
    /// 502: an upstream step failed; the completed steps were undone (or not: `rolledBack`).
    ChangeFailed {
        detail: String,
        extensions: serde_json::Value,
    },
}

/// The media type of RFC 7396 merge patches, the body of `PATCH …/sspr/policy`.
pub const MERGE_PATCH: &str = "application/merge-patch+json";
const ACCEPT_PATCH: HeaderName = HeaderName::from_static("accept-patch");

/// How long a caller whose request timed out is asked to wait before trying again.
const RETRY_AFTER_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Extensions {
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_code: Option<String>,
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::KeysUnavailable(detail) => ApiError::IdentityUnavailable(detail),
            other => ApiError::Unauthenticated(other.to_string()),
        }
    }
}

/// A deploy's Graph write failed. Graph refusing the policy sent is the caller's 422 (their
/// options made it), with Graph's status, code and request id; anything else is a 502 whose
/// `detail` ends with `next` (what to do now). `done` (its member name and value) says what
/// was made before the failure.
pub fn deploy_failed(error: DirectoryError, done: (&'static str, Value), next: &str) -> ApiError {
    let (member, done) = done;
    if let (
        DirectoryError::Upstream {
            status,
            code,
            request_id,
            ..
        },
        crate::directory::UpstreamFailure::Refused,
    ) = (&error, error.kind())
    {
        return ApiError::Unprocessable {
            slug: "policy-refused",
            title: "Microsoft Graph refused the policy",
            detail: error.to_string(),
            extensions: serde_json::json!({
                member: done,
                "upstreamStatus": status,
                "upstreamCode": code,
                "upstreamRequestId": request_id,
            }),
        };
    }
    ApiError::ChangeFailed {
        detail: format!("{error}. {next}"),
        extensions: serde_json::json!({ "outcome": "failed", member: done }),
    }
}

impl From<OpsError> for ApiError {
    fn from(error: OpsError) -> Self {
        match error {
            OpsError::UnknownTenant(key) => ApiError::NotFound {
                what: "unknown-tenant",
                detail: format!("No managed tenant has the id or domain '{key}'."),
            },
            OpsError::Forbidden(detail) => ApiError::Forbidden(detail),
            OpsError::PermissionMissing {
                tenant,
                feature,
                missing,
            } => ApiError::PermissionMissing {
                detail: format!(
                    "Tenant {tenant} has not granted the app the application permission {} that {} needs. Have an administrator of the tenant consent to it (`sspr tenants verify --tenant {tenant}` shows what is granted); nothing was changed.",
                    missing.join(" and "),
                    crate::ops::tenants::feature_name(feature)
                ),
                tenant,
                missing,
            },
            OpsError::Directory(e) => ApiError::Directory(e),
            OpsError::PreconditionRequired => ApiError::PreconditionRequired,
            OpsError::PreconditionFailed { current } => ApiError::PreconditionFailed { current },
            OpsError::Store(e) => ApiError::Store(e),
            OpsError::LicenseRequired { tenant, detail } => ApiError::LicenseRequired {
                detail: format!(
                    "Tenant {tenant} has no active licence for {detail}. Registration reports and Conditional Access need it."
                ),
                tenant,
            },
            OpsError::BadCursor(detail) => ApiError::InvalidCursor(detail),
            OpsError::BadInput { field, detail } => ApiError::BadRequest { detail, field },
            OpsError::Unusable {
                slug,
                title,
                field,
                detail,
            } => ApiError::Unprocessable {
                slug,
                title,
                detail,
                extensions: serde_json::json!({ "pointer": field }),
            },
            OpsError::Conflict { slug, detail } => ApiError::Conflict { slug, detail },
            OpsError::NotFound { what, detail } => ApiError::NotFound { what, detail },
            OpsError::Internal(detail) => ApiError::Internal(detail),
            OpsError::Invalid(violations) => ApiError::Unprocessable {
                slug: "invalid-policy",
                title: "The change breaks the SSPR policy rules",
                detail: violations
                    .iter()
                    .map(|v| format!("{}: {}", v.pointer, v.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                extensions: serde_json::json!({ "violations": violations }),
            },
            OpsError::Change(ChangeError::SourceUnavailable { pointer, origin }) => {
                ApiError::Unprocessable {
                    slug: "source-unavailable",
                    title: "This setting cannot be changed for this tenant",
                    detail: format!(
                        "{pointer} comes from a source that is {} for this tenant; configure the portal connector (a delegated admin refresh token) for the tenant to change it.",
                        serde_json::to_value(origin)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    ),
                    extensions: serde_json::json!({ "pointer": pointer, "source": origin }),
                }
            }
            OpsError::Change(other) => ApiError::Unprocessable {
                slug: "invalid-patch",
                title: "The merge patch does not fit the policy document",
                detail: other.to_string(),
                extensions: serde_json::json!({ "pointer": other.pointer() }),
            },
            OpsError::ApplyFailed {
                error,
                rolled_back,
                steps,
            } => ApiError::ChangeFailed {
                detail: if rolled_back {
                    format!("{error}. Every completed step was undone; the tenant is as it was.")
                } else {
                    format!(
                        "{error}. Undoing the completed steps also failed; see `steps` and the audit trail."
                    )
                },
                extensions: serde_json::json!({
                    "outcome": if rolled_back { "rolledBack" } else { "rollbackFailed" },
                    "steps": steps,
                }),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest { detail, field } => {
                let response =
                    problem(StatusCode::BAD_REQUEST, "bad-request", "Invalid request", detail);
                // An empty field is the whole body (the root's JSON pointer): no member to name.
                if field.is_empty() { response } else { response.field(field) }.into_response()
            }
            ApiError::MalformedJson { detail } => problem(
                StatusCode::BAD_REQUEST,
                "malformed-json",
                "The body is not valid JSON",
                detail,
            )
            .into_response(),
            ApiError::UnsupportedMediaType { expected, given } => problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                match given {
                    Some(given) => format!(
                        "The body is {given}; this route takes {expected}. Send Content-Type: {expected}."
                    ),
                    None => format!(
                        "The body has no Content-Type; this route takes {expected}. Send Content-Type: {expected}."
                    ),
                },
            )
            .field("content-type")
            // RFC 5789 names the media types a PATCH takes in Accept-Patch, others in Accept.
            .header(
                if expected == MERGE_PATCH { ACCEPT_PATCH } else { header::ACCEPT },
                HeaderValue::from_static(expected),
            )
            .into_response(),
            ApiError::BodyTooLarge { limit } => problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "The body is too large",
                match limit {
                    Some(limit) => format!(
                        "The body is larger than the {limit} bytes this service accepts (server.max_body_bytes)."
                    ),
                    None => "The body is larger than this service accepts (server.max_body_bytes).".into(),
                },
            )
            .into_response(),
            ApiError::UriTooLong { length, limit } => problem(
                StatusCode::URI_TOO_LONG,
                "uri-too-long",
                "The URI is too long",
                format!(
                    "The request's path and query are {length} bytes; this service accepts at most {limit} (server.max_uri_bytes)."
                ),
            )
            .into_response(),
            ApiError::HeadersTooLarge { total, limit, largest } => problem(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers-too-large",
                "The request headers are too large",
                format!(
                    "The request's headers are {total} bytes; this service accepts at most {limit} (server.max_header_bytes). The largest is {largest}."
                ),
            )
            .field(largest)
            .into_response(),
            ApiError::MethodNotAllowed { method, path } => problem(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
                format!("{path} does not take {method}; the Allow header lists the methods it takes."),
            )
            .into_response(),
            ApiError::Timeout { after, may_have_changed, request_id } => {
                let seconds = after.as_secs();
                let detail = if may_have_changed {
                    let record = request_id
                        .map(|id| format!(" (the record with requestId {id})"))
                        .unwrap_or_default();
                    format!(
                        "The change took longer than the {seconds} s this service allows a write, so this answer stops waiting; the change may still complete. The audit trail (GET /v1/audit){record} and a fresh read tell the outcome; read again before retrying."
                    )
                } else {
                    format!(
                        "The request took longer than the {seconds} s this service allows its kind of route. Microsoft Graph or this tenant's request budget is slow; try again later."
                    )
                };
                tracing::warn!(seconds, may_have_changed, "request timed out");
                problem(StatusCode::SERVICE_UNAVAILABLE, "timeout", "The request timed out", detail)
                    .retry_after(RETRY_AFTER_TIMEOUT)
                    .into_response()
            }
            ApiError::Internal(why) => {
                tracing::error!(%why, "internal error");
                internal("The service failed; the log has the details.")
            }
            ApiError::PreconditionRequired => problem(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "If-Match required",
                "Send If-Match with the ETag of the policy you read (GET; `*` is not accepted), so a change made meanwhile is not overwritten.",
            )
            .field("if-match")
            .into_response(),
            ApiError::PreconditionFailed { current } => {
                let response = problem(
                    StatusCode::PRECONDITION_FAILED,
                    "precondition-failed",
                    "The policy changed",
                    "The policy changed since it was read; read it again, then re-apply the change.",
                )
                .field("if-match");
                match HeaderValue::from_str(&current) {
                    Ok(value) => response.header(header::ETAG, value),
                    Err(_) => response,
                }
                .into_response()
            }
            ApiError::Unprocessable { slug, title, detail, extensions } => {
                let field = pointer_at_fault(&extensions);
                let response = problem(StatusCode::UNPROCESSABLE_ENTITY, slug, title, detail)
                    .extensions(extensions);
                match field {
                    Some(field) => response.field(field),
                    None => response,
                }
                .into_response()
            }
            ApiError::Conflict { slug, detail } => problem(
                StatusCode::CONFLICT,
                slug,
                match slug {
                    "tenant-read-only" => "The tenant is defined in the configuration file",
                    "grant-read-only" => "The grant is defined in the configuration file",
                    _ => "The tenant is already managed",
                },
                detail,
            )
            .into_response(),
            ApiError::ChangeFailed { detail, extensions } => {
                tracing::warn!(%detail, "policy change failed");
                problem(StatusCode::BAD_GATEWAY, "change-failed", "The change failed upstream", detail)
                    .extensions(extensions)
                    .into_response()
            }
            ApiError::LicenseRequired { tenant, detail } => problem(
                StatusCode::FORBIDDEN,
                "license-required",
                "Licence required",
                detail,
            )
            .extensions(serde_json::json!({ "tenant": tenant }))
            .into_response(),
            ApiError::PermissionMissing {
                tenant,
                detail,
                missing,
            } => problem(
                StatusCode::FORBIDDEN,
                "permission-missing",
                "Application permission missing",
                detail,
            )
            .extensions(serde_json::json!({ "tenant": tenant, "missingPermissions": missing }))
            .into_response(),
            ApiError::InvalidCursor(detail) => problem(
                StatusCode::BAD_REQUEST,
                "invalid-cursor",
                "Invalid cursor",
                detail,
            )
            .field("cursor")
            .into_response(),
            ApiError::Store(error) => {
                tracing::error!(%error, "store failed");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "store",
                    "Store failed",
                    "The service's store failed; the log has the details.",
                )
                .into_response()
            }
            ApiError::Unauthenticated(detail) => {
                let challenge = format!(
                    "Bearer realm=\"sspr\", error=\"invalid_token\", error_description=\"{}\"",
                    detail.replace(['"', '\\'], "'")
                );
                let response = problem(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Authentication required",
                    detail,
                )
                .field("authorization");
                match HeaderValue::from_str(&challenge) {
                    Ok(value) => response.header(header::WWW_AUTHENTICATE, value),
                    Err(_) => response,
                }
                .into_response()
            }
            ApiError::Forbidden(detail) => {
                problem(StatusCode::FORBIDDEN, "forbidden", "Not allowed", detail).into_response()
            }
            ApiError::NotFound { what, detail } => {
                problem(StatusCode::NOT_FOUND, what, "Not found", detail).into_response()
            }
            ApiError::IdentityUnavailable(detail) => {
                tracing::warn!(%detail, "identity provider unavailable");
                problem(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "identity-provider-unavailable",
                    "Token issuer unreachable",
                    format!("Cannot verify the token now: {detail}"),
                )
                .into_response()
            }
            ApiError::Directory(error) => directory_problem(error),
        }
    }
}

/// The member a 422 is about: its `pointer`, or the first violation's.
fn pointer_at_fault(extensions: &Value) -> Option<String> {
    extensions
        .get("pointer")
        .or_else(|| extensions.get("violations")?.get(0)?.get("pointer"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn internal(detail: &str) -> Response {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
        detail.to_owned(),
    )
    .into_response()
}

fn directory_problem(error: DirectoryError) -> Response {
    tracing::warn!(%error, "directory call failed");
    if let DirectoryError::Internal(inner) = &error {
        tracing::error!(%inner, "internal error");
        return internal("The service failed; the log has the details.");
    }
    let answer = error.upstream_answer();
    let title = match &error {
        DirectoryError::Unreachable { .. } => "Upstream unreachable",
        DirectoryError::Token { .. } => "Cannot sign in to the tenant",
        DirectoryError::Upstream { status, .. } => match status {
            401 | 403 => "Microsoft Graph refused the service",
            404 => "Microsoft Graph has no such resource",
            _ => "Microsoft Graph failed",
        },
        DirectoryError::Throttled { .. } => "Microsoft Graph is throttling the tenant",
        DirectoryError::Busy { .. } => "Too many requests are waiting for this tenant",
        DirectoryError::PortalToken { .. } => "Cannot sign in to the portal back end",
        DirectoryError::Portal { .. } => "The Entra portal back end failed",
        DirectoryError::Internal(_) => "Internal error",
    };
    let mut problem = problem(
        error.kind().status(),
        error.slug(),
        title,
        error.to_string(),
    );
    if let Some(answer) = answer {
        problem = problem.extensions(Extensions {
            upstream_request_id: answer.request_id,
            upstream_status: Some(answer.status),
            upstream_code: answer.code,
        });
    }
    if let Some(wait) = error.retry_after() {
        problem = problem.retry_after(wait);
    }
    problem.into_response()
}

/// Answers every path that no route matches, so even a typo gets a problem document.
pub async fn no_route(uri: axum::http::Uri) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "no-route",
        "Not found",
        format!("There is no resource at {}; /docs lists them.", uri.path()),
    )
    .into_response()
}

/// Answers a method a route does not take (the router adds the `Allow` header).
pub async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    ApiError::MethodNotAllowed {
        method,
        path: uri.path().to_owned(),
    }
    .into_response()
}

/// The problem for an error response that some layer made without a problem body (`text` is
/// its plain-text body, if any): its status, the reason phrase as title and code, the text as
/// detail. The handlers and extractors never need this; it keeps a gap from reaching a caller.
pub fn problem_for_bare_error(status: StatusCode, text: &str) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let slug: String = reason
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let text = text.trim();
    let detail = if text.is_empty() {
        format!("{reason}.")
    } else {
        text.to_owned()
    };
    problem(status, slug, reason, detail).into_response()
}

/// The problem document `error` is answered with, as JSON, for an answer that reports a failure
/// in its body (a stream's last NDJSON line after its 200, a fleet summary's failed tenant).
pub async fn problem_document(error: ApiError) -> Value {
    let response = error.into_response();
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> Value {
        let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .expect("body");
        serde_json::from_slice(&bytes).expect("a JSON problem")
    }

    #[test]
    fn codes_are_the_camel_case_slugs() {
        assert_eq!(code_of("unknown-tenant"), "unknownTenant");
        assert_eq!(code_of("license-required"), "licenseRequired");
        assert_eq!(
            code_of("identity-provider-unavailable"),
            "identityProviderUnavailable"
        );
        assert_eq!(code_of("timeout"), "timeout");
        assert_eq!(code_of("payload-too-large"), "payloadTooLarge");
    }

    #[tokio::test]
    async fn every_problem_has_type_title_status_detail_and_code() {
        let response = ApiError::NotFound {
            what: "unknown-tenant",
            detail: "No managed tenant has the id or domain 'x'.".into(),
        }
        .into_response();
        assert_eq!(response.status(), 404);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let problem = body(response).await;
        assert_eq!(problem["type"], "/problems/unknown-tenant");
        assert_eq!(problem["title"], "Not found");
        assert_eq!(problem["status"], 404);
        assert_eq!(problem["code"], "unknownTenant");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("'x'"))
        );
        assert!(problem.get("field").is_none(), "{problem}");
    }

    #[tokio::test]
    async fn a_422_names_the_member_at_fault_as_field() {
        let response = ApiError::Unprocessable {
            slug: "invalid-policy",
            title: "The change breaks the SSPR policy rules",
            detail: "d".into(),
            extensions: serde_json::json!({
                "violations": [{"pointer": "/authentication/methodsRequired", "message": "m"}]
            }),
        }
        .into_response();
        let problem = body(response).await;
        assert_eq!(problem["code"], "invalidPolicy");
        assert_eq!(problem["field"], "/authentication/methodsRequired");
        assert_eq!(problem["violations"][0]["message"], "m");
    }

    #[tokio::test]
    async fn the_licence_problem_keeps_its_code_and_tenant() {
        let problem = body(
            ApiError::LicenseRequired {
                tenant: "t".into(),
                detail: "d".into(),
            }
            .into_response(),
        )
        .await;
        assert_eq!(problem["code"], "licenseRequired");
        assert_eq!(problem["tenant"], "t");
        assert_eq!(problem["status"], 403);
    }

    #[tokio::test]
    async fn a_timed_out_write_says_it_may_still_complete_and_where_to_look() {
        let response = ApiError::Timeout {
            after: Duration::from_secs(120),
            may_have_changed: true,
            request_id: Some("req-1".into()),
        }
        .into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        let problem = body(response).await;
        assert_eq!(problem["code"], "timeout");
        let detail = problem["detail"].as_str().expect("detail");
        for needle in ["120 s", "may still complete", "GET /v1/audit", "req-1"] {
            assert!(detail.contains(needle), "{needle}: {detail}");
        }
        let read = body(
            ApiError::Timeout {
                after: Duration::from_secs(30),
                may_have_changed: false,
                request_id: None,
            }
            .into_response(),
        )
        .await;
        let detail = read["detail"].as_str().expect("detail");
        assert!(
            detail.contains("30 s") && !detail.contains("audit"),
            "{detail}"
        );
    }

    #[tokio::test]
    async fn a_415_names_the_media_type_the_route_takes() {
        let response = ApiError::UnsupportedMediaType {
            expected: "application/merge-patch+json",
            given: Some("application/json".into()),
        }
        .into_response();
        assert_eq!(response.status(), 415);
        let problem = body(response).await;
        assert_eq!(problem["field"], "content-type");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("application/merge-patch+json")),
            "{problem}"
        );
    }

    #[tokio::test]
    async fn a_bare_error_becomes_a_problem_with_its_text_as_detail() {
        let response = problem_for_bare_error(StatusCode::BAD_REQUEST, "Invalid URL: bad\n");
        let problem = body(response).await;
        assert_eq!(problem["code"], "badRequest");
        assert_eq!(problem["title"], "Bad Request");
        assert_eq!(problem["detail"], "Invalid URL: bad");
        let empty = body(problem_for_bare_error(StatusCode::PAYLOAD_TOO_LARGE, "")).await;
        assert_eq!(empty["code"], "payloadTooLarge");
        assert_eq!(empty["status"], 413);
        assert_eq!(empty["detail"], "Payload Too Large.");
    }
}
