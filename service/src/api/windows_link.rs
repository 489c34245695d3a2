//! The Windows sign-in screen's "Reset password" link: status, plan and deploy of sspr's Intune
//! settings-catalog policy, and the registry scripts for devices outside Intune.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sspr_api::protection::ApplyResult;
use sspr_api::windows_link::{
    ResetLinkTarget, WindowsResetLinkApplied, WindowsResetLinkPlan, WindowsResetLinkStatus,
};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use super::audit::{CurrentRequestId, with_audit_record_id};
use super::extract::{IfMatch, JsonBody, PathParams, QueryParams};
use super::problem::{ApiError, Problem};
use super::responses::{BodyErrors, CallerErrors, QueryErrors, TenantErrors, TenantPathErrors};
use super::{AppState, Authenticated};
use crate::ops;
use crate::ops::windows_link::{ApplyRequest, ScriptFormat, WindowsLink, WindowsLinkError};

pub(super) fn use_cases(state: &AppState) -> WindowsLink<'_> {
    WindowsLink {
        tenants: &state.tenants,
        device_configuration: state.device_configuration.as_ref(),
        licences: state.licences.as_ref(),
        permissions: state.permissions.as_ref(),
        audit: &state.audit,
    }
}

/// The link's status from Intune: the policies that set `AllowAadPasswordReset` (settings
/// catalog and custom OMA-URI profiles) with their assignments, and the verdict.
///
/// `pass`: a settings-catalog policy allowing the link is assigned to all devices. `warn`: it is
/// allowed for some devices only, by an unassigned policy, or only by a custom profile. `fail`:
/// nothing allows it (it is off by default), or an assigned policy blocks it. Without an Intune
/// licence or the permission `DeviceManagementConfiguration.Read.All` the answer is still 200,
/// `unknown` with the reason. Every answer carries the registry alternative.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/windows-reset-link", operation_id = "getWindowsResetLink", tag = "windows-reset-link",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    responses(
        (status = 200, description = "The status", body = WindowsResetLinkStatus),
        CallerErrors, TenantErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn status(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
) -> Result<Json<WindowsResetLinkStatus>, ApiError> {
    Ok(Json(use_cases(&state).status(&caller, &tenant).await?))
}

/// Plans the deploy of sspr's policy for a target. Changes nothing.
///
/// The answer holds the exact settings-catalog JSON of the policy and the exact body of the
/// assign action, the Graph calls the deploy would make, and whether it would create the policy,
/// update it (re-assign, or make it afresh) or change nothing. A tenant without an Intune
/// licence (`licenseRequired`) or without `DeviceManagementConfiguration.Read.All`
/// (`permissionMissing`) is refused with 403.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/windows-reset-link/plan", operation_id = "planWindowsResetLink", tag = "windows-reset-link",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    request_body(content = ResetLinkTarget, description = "Whom to assign the policy to"),
    responses(
        (status = 200, description = "The plan", body = WindowsResetLinkPlan),
        CallerErrors, TenantErrors, BodyErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn plan(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    JsonBody(target): JsonBody<ResetLinkTarget>,
) -> Result<Json<WindowsResetLinkPlan>, ApiError> {
    Ok(Json(
        use_cases(&state).plan(&caller, &tenant, &target).await?,
    ))
}

/// Deploys sspr's policy idempotently; every attempt is audited.
///
/// Creates the policy named `sspr - Windows sign-in SSPR link` when none exists, assigns it to
/// the target only (Intune's assign replaces the assignments), makes it afresh when its setting
/// was changed to block the link, and deletes copies: however often it runs, one policy remains.
/// Needs `DeviceManagementConfiguration.ReadWrite.All` (checked before any Graph call; 403
/// `permissionMissing` without it) and an Intune licence (403 `licenseRequired`).
/// `If-Match` with the plan's `etag` refuses (412) when the deployed policy changed since.
#[utoipa::path(put, path = "/v1/tenants/{tenant}/windows-reset-link", operation_id = "applyWindowsResetLink", tag = "windows-reset-link",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"),
        ("If-Match" = Option<String>, Header, description = "The `etag` of a plan: refuse if the deployed policy changed since")),
    request_body(content = ResetLinkTarget, description = "Whom to assign the policy to"),
    responses(
        (status = 200, description = "Updated or unchanged (`result`)", body = WindowsResetLinkApplied,
            headers(("ETag" = String, description = "Version of the deployed policy"),
                ("audit-record-id" = i64, description = "The id of the deploy's audit record in GET /v1/audit"))),
        (status = 201, description = "Created", body = WindowsResetLinkApplied,
            headers(("ETag" = String, description = "Version of the deployed policy"),
                ("audit-record-id" = i64, description = "The id of the deploy's audit record in GET /v1/audit"))),
        (status = 412, description = "If-Match does not name the deployed policy's version (`preconditionFailed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Graph refused the policy (`policyRefused`, with the `calls` made before)", body = Problem, content_type = "application/problem+json"),
        CallerErrors, TenantErrors, BodyErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn apply(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    CurrentRequestId(request_id): CurrentRequestId,
    PathParams(tenant): PathParams<String>,
    IfMatch(if_match): IfMatch,
    JsonBody(target): JsonBody<ResetLinkTarget>,
) -> Result<Response, ApiError> {
    let applied = ops::run_to_completion(async move {
        let request = ApplyRequest {
            tenant_key: &tenant,
            request_id,
            if_match: if_match.as_deref(),
            target: &target,
        };
        use_cases(&state).apply(&caller, request).await
    })
    .await?;
    let status = if applied.result == ApplyResult::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let etag = applied.etag.clone();
    let audit_record_id = applied.audit_record_id;
    let mut response = with_audit_record_id(Json(applied).into_response(), audit_record_id);
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

/// `format` of the script.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ScriptFormatParam {
    /// A `.reg` file for regedit or `reg import`.
    Reg,
    /// A PowerShell remediation script (`-DetectOnly` for detection).
    Powershell,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScriptParams {
    /// `reg` or `powershell`.
    #[param(inline)]
    pub format: ScriptFormatParam,
}

/// A script for devices outside Intune, as text.
#[derive(ToSchema)]
#[schema(examples(sspr_api::examples::windows_reset_link_script))]
pub struct ResetLinkScript(String);

/// The registry alternative for devices outside Intune, as a file to download.
///
/// `format=reg` gives a `.reg` file (for regedit or `reg import`); `format=powershell` a
/// remediation script that sets `HKLM\SOFTWARE\Policies\Microsoft\AzureADAccount`
/// `AllowPasswordReset` = 1 (DWORD), or with `-DetectOnly` only says whether it is set (exit 0
/// or 1, as an Intune remediation's detection). The value needs Windows 10 1803 or later, not
/// Home, on a Microsoft Entra joined or hybrid joined device.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/windows-reset-link/script", operation_id = "getWindowsResetLinkScript", tag = "windows-reset-link",
    security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"), ScriptParams),
    responses(
        (status = 200, description = "The script", content_type = "text/plain", body = ResetLinkScript),
        CallerErrors, TenantPathErrors, QueryErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn script(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    QueryParams(params): QueryParams<ScriptParams>,
) -> Result<Response, ApiError> {
    let (format, file_name) = match params.format {
        ScriptFormatParam::Reg => (ScriptFormat::Reg, "sspr-windows-reset-link.reg"),
        ScriptFormatParam::Powershell => (ScriptFormat::Powershell, "sspr-windows-reset-link.ps1"),
    };
    let script = ResetLinkScript(use_cases(&state).script(&caller, &tenant, format)?);
    let mut response = script.0.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

impl From<WindowsLinkError> for ApiError {
    fn from(error: WindowsLinkError) -> Self {
        match error {
            WindowsLinkError::Ops(error) => error.into(),
            WindowsLinkError::WriteFailed { error, done } => super::problem::deploy_failed(
                error,
                ("calls", serde_json::json!(done)),
                "`calls` lists what was done before; deploy again: it picks up where this one stopped.",
            ),
        }
    }
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(status, apply))
        .routes(routes!(plan))
        .routes(routes!(script))
}
