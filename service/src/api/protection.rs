//! Registration protection: plan, status, deploy and generate the Conditional Access policy that
//! guards security-info registration.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use super::audit::CurrentRequestId;
use super::problem::{ApiError, Problem};
use super::{AppState, Authenticated};
use crate::directory::DirectoryError;
use crate::domain::protection::ProtectionOptions;
use crate::domain::protection::findings::PlanSeverity;
use crate::ops::protection::{
    self, ApplyRequest, ApplyResult, GeneratedPolicy, ProtectionApplied, ProtectionError,
    ProtectionPlan, ProtectionStatus,
};

/// Plans the registration-protection policy for the tenant. Changes nothing.
///
/// The answer holds the exact Graph JSON, findings (errors first: with an error, enforcing is
/// refused unless forced), the break-glass accounts (declared, and discovered as the objects
/// more than half of the enabled and report-only CA policies exclude), the policy with the
/// marker if there is one, and the impact. The impact
/// counts the users the policy applies to who must still register — enabled for SSPR and not
/// SSPR-registered, or not MFA-registered; members, and guests when guests are included; minus
/// the break-glass users and the members of the excluded groups — so they will have to register
/// from a trusted location (or with a Temporary Access Pass, or a managed device). An empty body
/// plans the defaults.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/registration-protection/plan", operation_id = "planRegistrationProtection", tag = "registration-protection",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    request_body(content = Option<ProtectionOptions>, description = "The options; every member is optional, and an empty body plans the defaults"),
    responses(
        (status = 200, description = "The plan", body = ProtectionPlan),
        (status = 400, description = "An option is invalid (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No SSPR role, no access to this tenant, or the tenant has no Entra ID P1/P2 (`code: licenseRequired`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No managed tenant has this id or domain", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Microsoft Graph or the token endpoint refused", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Microsoft Graph or the token endpoint is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn plan(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<Json<ProtectionPlan>, ApiError> {
    let options: ProtectionOptions = parse_body(&body)?;
    let plan = protection::plan(&state.tenants, &state.graph, &caller, &tenant, &options).await?;
    Ok(Json(plan))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct StatusParams {
    /// Declared break-glass user object ids, comma-separated (besides the discovered ones).
    #[param(value_type = Option<Vec<uuid::Uuid>>, style = Form, explode = false)]
    pub break_glass_users: Option<String>,
    /// Declared break-glass group object ids, comma-separated.
    #[param(value_type = Option<Vec<uuid::Uuid>>, style = Form, explode = false)]
    pub break_glass_groups: Option<String>,
}

/// Grades every policy on the registration action, ours and others.
///
/// Each policy gets a verdict (`pass`, `warn`, `fail`) and one reason per check: enabled or report-only, all users, all
/// client app types, whether each exempted location is really trusted, the grant, exclusions
/// (break-glass or not), break-glass accounts excluded, guests, narrowing conditions.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/registration-protection", operation_id = "getRegistrationProtection", tag = "registration-protection",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"), StatusParams),
    responses(
        (status = 200, description = "The graded policies", body = ProtectionStatus),
        (status = 400, description = "A break-glass id is not a GUID (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No SSPR role, no access to this tenant, or no Entra ID P1/P2 (`code: licenseRequired`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No managed tenant has this id or domain", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Microsoft Graph or the token endpoint refused", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Microsoft Graph or the token endpoint is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn status(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(tenant): Path<String>,
    Query(params): Query<StatusParams>,
) -> Result<Json<ProtectionStatus>, ApiError> {
    let users = comma_list(params.break_glass_users.as_deref());
    let groups = comma_list(params.break_glass_groups.as_deref());
    let status = protection::status(
        &state.tenants,
        &state.graph,
        &caller,
        &tenant,
        &users,
        &groups,
    )
    .await?;
    Ok(Json(status))
}

/// Deploys the policy idempotently; every attempt is audited.
///
/// Creates the policy when no policy carries the marker, updates the one that does (nothing is written when it already matches), never makes a duplicate (a
/// create whose answer is lost is looked for before it is tried again). A new policy starts
/// report-only; without `state` an update keeps the current state; `state: enabled` promotes it,
/// which is refused while the plan has errors unless `force` is set.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/registration-protection", operation_id = "applyRegistrationProtection", tag = "registration-protection",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    request_body(content = Option<ProtectionOptions>, description = "The plan options, with `force` and `state`; an empty body deploys the defaults"),
    responses(
        (status = 200, description = "Updated, or unchanged (`result`)", body = ProtectionApplied),
        (status = 201, description = "Created", body = ProtectionApplied),
        (status = 400, description = "An option is invalid (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No SSPR.ReadWrite role, no access to this tenant, or no Entra ID P1/P2 (`code: licenseRequired`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No managed tenant has this id or domain", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Enforcing was refused because the plan has errors (`findings`), or Graph refused the policy (`attempts`)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The write failed upstream; `attempts` says what was tried", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Microsoft Graph or the token endpoint is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn apply(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    CurrentRequestId(request_id): CurrentRequestId,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let options: ProtectionOptions = parse_body(&body)?;
    let request = ApplyRequest {
        tenant_key: &tenant,
        options: &options,
        request_id,
    };
    let applied =
        protection::apply(&state.tenants, &state.graph, &state.store, &caller, request).await?;
    let status = if applied.result == ApplyResult::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(applied)).into_response())
}

/// Generates the registration-protection policy's Graph JSON without a tenant.
///
/// Only the declared exclusions are used (`discoverBreakGlass` is ignored). The findings are
/// those of the options alone: whether the locations are trusted is not checked.
#[utoipa::path(post, path = "/v1/registration-protection/generate", operation_id = "generateRegistrationProtection", tag = "registration-protection",
    security(("bearer" = [])),
    request_body(content = Option<ProtectionOptions>, description = "The options; every member is optional, and an empty body generates the defaults"),
    responses(
        (status = 200, description = "The policy", body = GeneratedPolicy),
        (status = 400, description = "An option is invalid (`field` names it)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No SSPR role", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn generate(
    Authenticated(caller): Authenticated,
    body: Bytes,
) -> Result<Json<GeneratedPolicy>, ApiError> {
    let options: ProtectionOptions = parse_body(&body)?;
    Ok(Json(protection::generate_only(&caller, &options)?))
}

fn comma_list(text: Option<&str>) -> Vec<String> {
    text.into_iter()
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The JSON body as `T` (an empty body is `{}`), or a 400 naming the member at fault.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        // The path of an unknown member already ends with its name.
        let field = crate::domain::change::to_pointer(error.path());
        ApiError::BadRequest {
            detail: format!(
                "The request body is not valid options: {}.",
                error.into_inner()
            ),
            field: if field.is_empty() { "/".into() } else { field },
        }
    })
}

impl From<ProtectionError> for ApiError {
    fn from(error: ProtectionError) -> Self {
        match error {
            ProtectionError::Ops(error) => error.into(),
            ProtectionError::InvalidOptions(error) => ApiError::BadRequest {
                detail: error.detail,
                field: error.field,
            },
            ProtectionError::Refused { findings } => ApiError::Unprocessable {
                slug: "plan-has-errors",
                title: "Enforcing the policy was refused: the plan has errors",
                detail: format!(
                    "{} Deploy it report-only, fix the errors, or send force: true to enforce it anyway.",
                    findings
                        .iter()
                        .filter(|f| f.severity == PlanSeverity::Error)
                        .map(|f| f.message.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                extensions: serde_json::json!({ "findings": findings }),
            },
            ProtectionError::WriteFailed { error, attempts } => match &error {
                DirectoryError::Upstream {
                    status: status @ (400..=428 | 430..=499),
                    code,
                    request_id,
                    ..
                } => ApiError::Unprocessable {
                    slug: "policy-refused",
                    title: "Microsoft Graph refused the policy",
                    detail: error.to_string(),
                    extensions: serde_json::json!({
                        "attempts": attempts,
                        "upstreamStatus": status,
                        "upstreamCode": code,
                        "upstreamRequestId": request_id,
                    }),
                },
                _ => ApiError::ChangeFailed {
                    detail: format!(
                        "{error}. No policy with the marker was found after the failure, so nothing was created; run the deploy again."
                    ),
                    extensions: serde_json::json!({ "outcome": "failed", "attempts": attempts }),
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_errors_name_the_member() {
        let unknown =
            parse_body::<ProtectionOptions>(br#"{"grant": "block"}"#).expect_err("unknown");
        assert!(
            matches!(&unknown, ApiError::BadRequest { field, .. } if field == "/grant"),
            "{unknown:?}"
        );
        let wrong = parse_body::<ProtectionOptions>(br#"{"trustedLocations": ["AllTrusted", 3]}"#)
            .expect_err("wrong type");
        assert!(
            matches!(&wrong, ApiError::BadRequest { field, .. } if field == "/trustedLocations/1"),
            "{wrong:?}"
        );
        let control = parse_body::<ProtectionOptions>(br#"{"control": "deny"}"#).expect_err("enum");
        assert!(
            matches!(&control, ApiError::BadRequest { field, detail } if field == "/control" && detail.contains("deny")),
            "{control:?}"
        );
        let empty = parse_body::<ProtectionOptions>(b"  ").expect("empty is {}");
        assert_eq!(empty, ProtectionOptions::default());
    }

    #[test]
    fn comma_lists_ignore_blanks() {
        assert_eq!(comma_list(Some(" a, ,b ")), ["a", "b"]);
        assert!(comma_list(None).is_empty());
    }
}
