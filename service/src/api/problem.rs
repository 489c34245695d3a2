//! Every error the API returns, as an RFC 9457 problem document.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use problem_details::ProblemDetails;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::directory::DirectoryError;
use crate::domain::change::ChangeError;
use crate::ops::OpsError;

/// The problem document as OpenAPI shows it (RFC 9457 plus our extensions).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // Only its schema is used; responses are built by `ApiError`.
pub struct Problem {
    /// A URI naming the kind of problem, relative to the service, e.g. `/problems/unknown-tenant`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Microsoft Graph's `request-id` when Graph caused the problem.
    pub upstream_request_id: Option<String>,
    /// Graph's status and error code when Graph caused the problem.
    pub upstream_status: Option<u16>,
    pub upstream_code: Option<String>,
    /// The request member (e.g. a query parameter) that is wrong, on 400 problems.
    pub field: Option<String>,
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
    /// 422: the change cannot be made as asked; `extensions` says where and why.
    Unprocessable {
        slug: &'static str,
        title: &'static str,
        detail: String,
        extensions: serde_json::Value,
    },
    /// 403: the tenant lacks the licence the feature needs (`code: licenseRequired`).
    LicenseRequired {
        tenant: String,
        detail: String,
    },
    /// 502: an upstream step failed; the completed steps were undone (or not: `rolledBack`).
    ChangeFailed {
        detail: String,
        extensions: serde_json::Value,
    },
}

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

#[derive(Serialize)]
struct FieldExtension {
    field: String,
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::KeysUnavailable(detail) => ApiError::IdentityUnavailable(detail),
            other => ApiError::Unauthenticated(other.to_string()),
        }
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

fn problem(status: StatusCode, slug: &str, title: &str, detail: String) -> ProblemDetails {
    ProblemDetails::from_status_code(status)
        .with_type(
            format!("/problems/{slug}")
                .parse::<axum::http::Uri>()
                .expect("static slug"),
        )
        .with_title(title)
        .with_detail(detail)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::PreconditionRequired => problem(
                StatusCode::PRECONDITION_REQUIRED,
                "precondition-required",
                "If-Match required",
                "Send If-Match with the ETag of the policy you read (GET; `*` is not accepted), so a change made meanwhile is not overwritten.".into(),
            )
            .into_response(),
            ApiError::PreconditionFailed { current } => {
                let mut response = problem(
                    StatusCode::PRECONDITION_FAILED,
                    "precondition-failed",
                    "The policy changed",
                    "The policy changed since it was read; read it again, then re-apply the change.".into(),
                )
                .into_response();
                if let Ok(value) = HeaderValue::from_str(&current) {
                    response.headers_mut().insert(header::ETAG, value);
                }
                response
            }
            ApiError::Unprocessable { slug, title, detail, extensions } => {
                problem(StatusCode::UNPROCESSABLE_ENTITY, slug, title, detail)
                    .with_extensions(extensions)
                    .into_response()
            }
            ApiError::ChangeFailed { detail, extensions } => {
                tracing::warn!(%detail, "policy change failed");
                problem(StatusCode::BAD_GATEWAY, "change-failed", "The change failed upstream", detail)
                    .with_extensions(extensions)
                    .into_response()
            }
            ApiError::LicenseRequired { tenant, detail } => problem(
                StatusCode::FORBIDDEN,
                "license-required",
                "Licence required",
                detail,
            )
            .with_extensions(serde_json::json!({ "code": "licenseRequired", "tenant": tenant }))
            .into_response(),
            ApiError::BadRequest { detail, field } => problem(
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Invalid request",
                detail,
            )
            .with_extensions(FieldExtension { field })
            .into_response(),
            ApiError::InvalidCursor(detail) => problem(
                StatusCode::BAD_REQUEST,
                "invalid-cursor",
                "Invalid cursor",
                detail,
            )
            .with_extensions(serde_json::json!({ "code": "invalidCursor", "field": "cursor" }))
            .into_response(),
            ApiError::Store(error) => {
                tracing::error!(%error, "store failed");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "store",
                    "Store failed",
                    "The service's store failed; the log has the details.".into(),
                )
                .into_response()
            }
            ApiError::Unauthenticated(detail) => {
                let challenge = format!(
                    "Bearer realm=\"sspr\", error=\"invalid_token\", error_description=\"{}\"",
                    detail.replace(['"', '\\'], "'")
                );
                let mut response = problem(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "Authentication required",
                    detail,
                )
                .into_response();
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
                response
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

fn directory_problem(error: DirectoryError) -> Response {
    tracing::warn!(%error, "directory call failed");
    let detail = error.to_string();
    match error {
        DirectoryError::Unreachable { .. } => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "upstream-unreachable",
            "Upstream unreachable",
            detail,
        )
        .into_response(),
        DirectoryError::Token { .. } => problem(
            StatusCode::BAD_GATEWAY,
            "upstream-token",
            "Cannot sign in to the tenant",
            detail,
        )
        .into_response(),
        DirectoryError::Upstream {
            status,
            code,
            request_id,
            ..
        } => {
            let title = match status {
                401 | 403 => "Microsoft Graph refused the service",
                404 => "Microsoft Graph has no such resource",
                _ => "Microsoft Graph failed",
            };
            problem(StatusCode::BAD_GATEWAY, "upstream", title, detail)
                .with_extensions(Extensions {
                    upstream_request_id: request_id,
                    upstream_status: Some(status),
                    upstream_code: Some(code),
                })
                .into_response()
        }
        DirectoryError::Throttled {
            retry_after,
            request_id,
            ..
        } => {
            let mut response = problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream-throttled",
                "Microsoft Graph is throttling the tenant",
                detail,
            )
            .with_extensions(Extensions {
                upstream_request_id: request_id,
                upstream_status: Some(429),
                upstream_code: None,
            })
            .into_response();
            let seconds = (retry_after.as_secs_f64().ceil() as u64).max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
        DirectoryError::Busy { retry_after, .. } => {
            let mut response = problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "tenant-busy",
                "Too many requests are waiting for this tenant",
                detail,
            )
            .into_response();
            let seconds = (retry_after.as_secs_f64().ceil() as u64).max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
        DirectoryError::PortalToken { .. } => problem(
            StatusCode::BAD_GATEWAY,
            "portal-token",
            "Cannot sign in to the portal back end",
            detail,
        )
        .into_response(),
        DirectoryError::Portal {
            status,
            code,
            correlation_id,
            ..
        } => problem(
            StatusCode::BAD_GATEWAY,
            "portal",
            "The Entra portal back end failed",
            detail,
        )
        .with_extensions(Extensions {
            upstream_request_id: correlation_id,
            upstream_status: Some(status),
            upstream_code: Some(code),
        })
        .into_response(),
        DirectoryError::Internal(inner) => {
            tracing::error!(%inner, "internal error");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "The service failed; the log has the details.".into(),
            )
            .into_response()
        }
    }
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
