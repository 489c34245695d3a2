use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::audit::CurrentRequestId;
use super::problem::{ApiError, Problem};
use super::{AppState, Authenticated};
use crate::domain::policy::PolicyDocument;
use crate::ops;
use crate::ops::policy::{DryRun, PatchAnswer, PatchOutcome, PatchRequest, PolicyRead};

/// The response header that carries Microsoft Graph's `request-id`s, for support tickets.
pub const GRAPH_REQUEST_ID: &str = "graph-request-id";

/// The tenant's SSPR policy document; every group says where its values came from.
///
/// Groups read from Microsoft Graph say `graph`; those only the Entra portal back end holds say
/// `portal` when the portal connector is configured, `inferred` (with the evidence) when they
/// could be derived from the registration report, and otherwise `unavailable` with a `reason`
/// and a `remedy`. `findings` lists what deserves attention. The `ETag` versions the editable
/// settings: send it as `If-Match` to change them.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/sspr/policy", operation_id = "getPolicy", tag = "policy", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    responses(
        (status = 200, description = "The policy document", body = PolicyDocument,
            headers(
                ("ETag" = String, description = "Version of the editable settings; send it as If-Match to change them"),
                ("graph-request-id" = String, description = "Microsoft Graph request-ids of the reads, comma-separated"))),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No SSPR role, or no access to this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No managed tenant has this id or domain", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Microsoft Graph or the token endpoint refused", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Microsoft Graph or the token endpoint is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    Path(tenant): Path<String>,
) -> Result<Response, ApiError> {
    let read = ops::policy::read(&state.tenants, &state.graph, &caller, &tenant).await?;
    Ok(document_response(read))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct PatchParams {
    /// Plan only: return the changes and the upstream calls, change nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Changes the tenant's SSPR policy with a JSON merge patch (RFC 7396).
///
/// The patch is applied to the document's editable fields. Needs `If-Match`. Graph calls go
/// first, then the portal; if a step fails the completed ones are undone. Every attempt is
/// audited. With `dryRun=true` the answer is the plan (per-field changes, the upstream calls and
/// their undo, the findings afterwards) and nothing changes.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}/sspr/policy", operation_id = "patchPolicy", tag = "policy", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"),
        ("If-Match" = String, Header, description = "The ETag of the policy the change is based on"),
        PatchParams),
    request_body(content = Object, content_type = "application/merge-patch+json",
        description = "Merge patch (RFC 7396) over the document's editable fields",
        example = json!({"authentication": {"methodsRequired": 2}, "registration": {"reconfirmDays": 90}})),
    responses(
        (status = 200, description = "Applied: the policy as read back (with a new ETag), or with dryRun the plan", body = PatchAnswer,
            headers(("ETag" = String, description = "Version of the settings after the change"))),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No SSPR.ReadWrite role, or no access to this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No managed tenant has this id or domain", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The policy changed since the ETag was read", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The patch breaks a rule (`violations` with JSON pointers), names an unknown field, or a field whose source is unavailable", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "An upstream step failed; `outcome` and `steps` say what was undone", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Microsoft Graph, the portal or the token endpoint is unreachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    CurrentRequestId(request_id): CurrentRequestId,
    Path(tenant): Path<String>,
    Query(params): Query<PatchParams>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    let if_match = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    let request = PatchRequest {
        tenant_key: &tenant,
        patch: &body,
        if_match,
        dry_run: params.dry_run,
        request_id,
    };
    match ops::policy::patch(&state.tenants, &state.graph, &state.store, &caller, request).await? {
        PatchOutcome::DryRun(plan) => Ok(Json::<DryRun>(plan).into_response()),
        PatchOutcome::Applied(read) => Ok(document_response(*read)),
    }
}

fn document_response(read: PolicyRead) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&read.request_ids.join(", ")) {
        headers.insert(GRAPH_REQUEST_ID, value);
    }
    if let Ok(value) = HeaderValue::from_str(&read.etag) {
        headers.insert(header::ETAG, value);
    }
    (headers, Json(read.document)).into_response()
}
