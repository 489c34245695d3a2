//! Registration protection: plan, status, deploy and generate the Conditional Access policy that
//! guards security-info registration.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::audit::{CurrentRequestId, with_audit_record_id};
use super::extract::{IfMatch, JsonBody, PathParams, QueryParams};
use super::problem::{ApiError, Problem};
use super::responses::{BodyErrors, CallerErrors, QueryErrors, TenantErrors};
use super::{AppState, Authenticated};
use sspr_api::protection::{
    ApplyResult, ChangeAnswer, GeneratedPolicy, ProtectionApplied, ProtectionPlan,
    ProtectionStatus, StateChange,
};

use crate::auth::Caller;
use crate::domain::protection::ProtectionOptions;
use crate::domain::protection::findings::PlanSeverity;
use crate::ops;
use crate::ops::protection::{
    ApplyRequest, Protection, ProtectionError, StateRequest, WriteTarget,
};

/// The protection use cases over the application's capabilities.
pub(super) fn use_cases(state: &AppState) -> Protection<'_> {
    Protection {
        tenants: &state.tenants,
        conditional_access: state.conditional_access.as_ref(),
        registration_report: state.registration_report.as_ref(),
        licences: state.licences.as_ref(),
        permissions: state.permissions.as_ref(),
        audit: &state.audit,
    }
}

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
        CallerErrors, TenantErrors, BodyErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn plan(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    JsonBody(options): JsonBody<ProtectionOptions>,
) -> Result<Json<ProtectionPlan>, ApiError> {
    Ok(Json(
        use_cases(&state).plan(&caller, &tenant, &options).await?,
    ))
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
        CallerErrors, TenantErrors, QueryErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn status(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    QueryParams(params): QueryParams<StatusParams>,
) -> Result<Json<ProtectionStatus>, ApiError> {
    let users = comma_list(params.break_glass_users.as_deref());
    let groups = comma_list(params.break_glass_groups.as_deref());
    let status = use_cases(&state)
        .status(&caller, &tenant, &users, &groups)
        .await?;
    Ok(Json(status))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DryRunParams {
    /// Plan only: make every check, answer what would be done (the diff and the exact Graph
    /// call), write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Deploys the policy idempotently; every attempt is audited.
///
/// Creates the policy when no policy carries the marker, updates the one that does (nothing is
/// written when it already matches), never makes a duplicate (a create whose answer is lost is
/// looked for before it is tried again). A new policy starts report-only; without `state` an
/// update keeps the current state; `state: enabled` enforces it, which is refused while the plan
/// has errors unless `force` is set. An update that would change the control or the conditions
/// of an **enforced** policy is refused (422 `enforcedPolicyChange`, with the diff) unless
/// `force`. With `dryRun=true` every check is made and the answer is the plan: the diff against
/// the deployed policy and the exact Graph call. `If-Match` with the plan's `etag` makes the real
/// call refuse (412) when the deployed policy changed since.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/registration-protection", operation_id = "applyRegistrationProtection", tag = "registration-protection",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"),
        ("If-Match" = Option<String>, Header, description = "The `etag` of a plan (or of the last deploy): refuse if the deployed policy changed since"),
        DryRunParams),
    request_body(content = Option<ProtectionOptions>, description = "The plan options, with `force` and `state`; an empty body deploys the defaults"),
    responses(
        (status = 200, description = "Updated or unchanged (`result`); with dryRun, the plan", body = ChangeAnswer,
            headers(("ETag" = String, description = "Version of the deployed policy"),
                ("audit-record-id" = i64, description = "The id of the deploy's audit record in GET /v1/audit; absent for dry runs"))),
        (status = 201, description = "Created", body = ProtectionApplied,
            headers(("ETag" = String, description = "Version of the deployed policy"),
                ("audit-record-id" = i64, description = "The id of the deploy's audit record in GET /v1/audit"))),
        (status = 412, description = "If-Match does not name the deployed policy's version (`preconditionFailed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused: the plan has errors (`planHasErrors`, with `findings`), the change would alter an enforced policy (`enforcedPolicyChange`, with `changes` and `diff`), or Graph refused the policy (`policyRefused`, with `attempts`)", body = Problem, content_type = "application/problem+json"),
        CallerErrors, TenantErrors, BodyErrors, QueryErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %write.tenant))]
pub async fn apply(
    State(state): State<AppState>,
    write: PolicyWriteRequest,
    JsonBody(options): JsonBody<ProtectionOptions>,
) -> Result<Response, ApiError> {
    write.run(state, Change::Deploy(options)).await
}

/// Promotes the deployed policy to enforced, or takes it back to report-only: only its `state`
/// changes; control, locations, exclusions and guests stay as deployed.
///
/// The policy is the one with the marker (404 `protectionNotDeployed` without one). Enforcing is
/// refused (422 `planHasErrors`, with the failing `reasons`) while the policy, graded as
/// enforced, has failures, unless `force`. `dryRun` and `If-Match` work as on the deploy. Every
/// attempt is audited.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/registration-protection/state", operation_id = "setRegistrationProtectionState", tag = "registration-protection",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"),
        ("If-Match" = Option<String>, Header, description = "The `etag` of a plan: refuse if the deployed policy changed since"),
        DryRunParams),
    request_body(content = StateChange, description = "The state to set"),
    responses(
        (status = 200, description = "Updated or unchanged (`result`); with dryRun, the plan", body = ChangeAnswer,
            headers(("ETag" = String, description = "Version of the deployed policy"),
                ("audit-record-id" = i64, description = "The id of the change's audit record in GET /v1/audit; absent for dry runs"))),
        (status = 404, description = "No policy carries the marker (`protectionNotDeployed`), or no managed tenant has this id or domain (`unknownTenant`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match does not name the deployed policy's version (`preconditionFailed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Enforcing was refused: the deployed policy has failures (`planHasErrors`, with `reasons`); or Graph refused the change (`policyRefused`)", body = Problem, content_type = "application/problem+json"),
        CallerErrors, BodyErrors, QueryErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %write.tenant))]
pub async fn set_state(
    State(state): State<AppState>,
    write: PolicyWriteRequest,
    JsonBody(change): JsonBody<StateChange>,
) -> Result<Response, ApiError> {
    write.run(state, Change::State(change)).await
}

/// A write to the deployed policy.
enum Change {
    Deploy(ProtectionOptions),
    State(StateChange),
}

/// What the deploy and the state change take from the request besides the body, in the order
/// they are checked: the caller, the request id, the tenant, `dryRun`, `If-Match`.
pub struct PolicyWriteRequest {
    caller: Caller,
    request_id: Option<String>,
    tenant: String,
    dry_run: bool,
    if_match: Option<String>,
}

impl FromRequestParts<AppState> for PolicyWriteRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Authenticated(caller) = Authenticated::from_request_parts(parts, state).await?;
        let Ok(CurrentRequestId(request_id)) =
            CurrentRequestId::from_request_parts(parts, state).await;
        let PathParams(tenant) = PathParams::<String>::from_request_parts(parts, state).await?;
        let QueryParams(params) =
            QueryParams::<DryRunParams>::from_request_parts(parts, state).await?;
        let Ok(IfMatch(if_match)) = IfMatch::from_request_parts(parts, state).await;
        Ok(PolicyWriteRequest {
            caller,
            request_id,
            tenant,
            dry_run: params.dry_run,
            if_match,
        })
    }
}

impl PolicyWriteRequest {
    /// Runs `change` to its end even if the caller goes away (see [`ops::run_to_completion`]),
    /// and answers it.
    async fn run(self, state: AppState, change: Change) -> Result<Response, ApiError> {
        let PolicyWriteRequest {
            caller,
            request_id,
            tenant,
            dry_run,
            if_match,
        } = self;
        let answer = ops::run_to_completion(async move {
            let protection = use_cases(&state);
            let target = WriteTarget {
                tenant_key: &tenant,
                request_id,
                dry_run,
                if_match: if_match.as_deref(),
            };
            match change {
                Change::Deploy(options) => {
                    let options = &options;
                    let request = ApplyRequest { target, options };
                    protection.apply(&caller, request).await
                }
                Change::State(StateChange { state, force }) => {
                    let request = StateRequest {
                        target,
                        state,
                        force,
                    };
                    protection.set_state(&caller, request).await
                }
            }
        })
        .await?;
        Ok(change_response(answer))
    }
}

/// 200 with the plan or the update, 201 for a create; the deployed policy's version as `ETag`.
fn change_response(answer: ChangeAnswer) -> Response {
    let (status, etag, mut response) = match answer {
        ChangeAnswer::Planned(plan) => (
            StatusCode::OK,
            plan.etag.clone(),
            Json(plan).into_response(),
        ),
        ChangeAnswer::Applied(applied) => {
            let status = if applied.result == ApplyResult::Created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let audit_record_id = applied.audit_record_id;
            let etag = applied.etag.clone();
            let response = with_audit_record_id(Json(applied).into_response(), audit_record_id);
            (status, etag, response)
        }
    };
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
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
        CallerErrors, BodyErrors,
    ))]
#[tracing::instrument(skip_all)]
pub async fn generate(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    JsonBody(options): JsonBody<ProtectionOptions>,
) -> Result<Json<GeneratedPolicy>, ApiError> {
    Ok(Json(use_cases(&state).generate(&caller, &options)?))
}

fn comma_list(text: Option<&str>) -> Vec<String> {
    text.into_iter()
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
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
            ProtectionError::EnforcedChange { changes, diff } => ApiError::Unprocessable {
                slug: "enforced-policy-change",
                title: "The policy is enforced: changing what it enforces needs force",
                detail: format!(
                    "The deployed policy is enforced, and this deploy would change {}. Review the diff, then send force: true to make the change, or take the policy back to report-only first.",
                    changes.join(", ")
                ),
                extensions: serde_json::json!({ "changes": changes, "diff": diff }),
            },
            ProtectionError::GradeFails { reasons } => ApiError::Unprocessable {
                slug: "plan-has-errors",
                title: "Enforcing the policy was refused: it has failures",
                detail: format!(
                    "{} Fix the policy (deploy it again with other options), or send force: true to enforce it anyway.",
                    reasons
                        .iter()
                        .map(|r| r.message.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                extensions: serde_json::json!({ "reasons": reasons }),
            },
            ProtectionError::NotDeployed { tenant } => ApiError::NotFound {
                what: "protection-not-deployed",
                detail: format!(
                    "No Conditional Access policy of tenant {tenant} carries the marker [sspr:registration-protection]: deploy it first (PUT …/registration-protection)."
                ),
            },
            ProtectionError::WriteFailed { error, attempts } => super::problem::deploy_failed(
                error,
                ("attempts", serde_json::json!(attempts)),
                "No policy with the marker was found after the failure, so nothing was created; run the deploy again.",
            ),
        }
    }
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(plan))
        .routes(routes!(status, apply))
        .routes(routes!(set_state))
        .routes(routes!(generate))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(json: serde_json::Value) -> ProtectionOptions {
        serde_json::from_value(json).expect("options parse")
    }

    #[test]
    fn report_only_is_accepted_under_both_spellings() {
        for state in ["enabledForReportingButNotEnforced", "reportOnly"] {
            let valid = options(serde_json::json!({"state": state}))
                .validate()
                .expect("valid");
            assert_eq!(
                valid.state,
                Some(sspr_api::protection::ProtectionState::ReportOnly)
            );
        }
        assert!(
            serde_json::from_value::<ProtectionOptions>(serde_json::json!({"state": "disabled"}))
                .is_err()
        );
    }

    #[test]
    fn unknown_members_are_refused() {
        assert!(
            serde_json::from_value::<ProtectionOptions>(serde_json::json!({"grant": "block"}))
                .is_err()
        );
    }

    #[test]
    fn comma_lists_ignore_blanks() {
        assert_eq!(comma_list(Some(" a, ,b ")), ["a", "b"]);
        assert!(comma_list(None).is_empty());
    }
}
