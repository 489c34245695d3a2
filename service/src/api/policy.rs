use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::audit::{CurrentRequestId, with_audit_record_id};
use super::caching::{CachedBody, requested_max_age};
use super::extract::{IfMatch, MergePatch, PathParams, QueryParams};
use super::problem::{ApiError, Problem};
use super::responses::{BodyErrors, CallerErrors, QueryErrors, TenantErrors};
use super::{AppState, Authenticated};
use crate::domain::policy::PolicyDocument;
use crate::ops;
use crate::ops::policy::{DryRun, PatchAnswer, PatchOutcome, PatchRequest, PolicyRead, Upstream};

/// The response header that carries Microsoft Graph's `request-id`s, for support tickets.
pub const GRAPH_REQUEST_ID: &str = "graph-request-id";

/// The tenant's SSPR policy document; every group says where its values came from.
///
/// Groups read from Microsoft Graph say `graph`; those only the Entra portal back end holds say
/// `portal` when the portal connector is configured, `inferred` (with the evidence) when they
/// could be derived from the registration report, and otherwise `unavailable` with a `reason`
/// and a `remedy`. `findings` lists what deserves attention. The `ETag` versions the editable
/// settings: send it as `If-Match` to change them.
///
/// Cached per tenant: a document younger than the request's `Cache-Control: max-age` (default:
/// the service's configured age, advertised in the answer's `Cache-Control`) is served from
/// cache with its `Age`; `no-cache` or `max-age=0` reads Graph and the portal now. Concurrent
/// requests for one tenant share one read. A change made through this service is seen at once.
/// `If-None-Match` with the current ETag answers 304.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/sspr/policy", operation_id = "getPolicy", tag = "policy", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"),
        ("Cache-Control" = Option<String>, Header, description = "`max-age=N`: accept a document up to N seconds old; `no-cache`: read upstream now"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a document the caller holds")),
    responses(
        (status = 200, description = "The policy document", body = PolicyDocument,
            headers(
                ("ETag" = String, description = "Strong validator of the document without its read times; send it as If-Match to change the policy"),
                ("Cache-Control" = String, description = "`private, max-age=<configured seconds>`"),
                ("Age" = u64, description = "Seconds since the upstream read began"),
                ("graph-request-id" = String, description = "Microsoft Graph request-ids of the reads, comma-separated"))),
        (status = 304, description = "The document still has the ETag given in If-None-Match"),
        CallerErrors, TenantErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let read = ops::policy::read(
        &state.policies,
        &state.tenants,
        upstream(&state),
        &caller,
        &tenant,
        requested_max_age(&headers),
    )
    .await?;
    let cached = CachedBody {
        etag: &read.value.etag,
        age: read.age,
        max_age: state.policies.cache_max_age(),
    };
    let mut response = cached.respond(&headers, Json(&read.value.document));
    if let Ok(value) = HeaderValue::from_str(&read.value.request_ids.join(", ")) {
        response.headers_mut().insert(GRAPH_REQUEST_ID, value);
    }
    Ok(response)
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
/// The patch is applied to the document's editable fields. Needs `If-Match` with the ETag read
/// (`*` is refused). Graph calls go first, then the portal; if a step fails the completed ones
/// are undone. Every attempt is audited. With `dryRun=true` the answer is the plan (per-field changes, the upstream calls and
/// their undo, the findings afterwards) and nothing changes.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}/sspr/policy", operation_id = "patchPolicy", tag = "policy", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"),
        ("If-Match" = String, Header, description = "The ETag of the policy the change is based on"),
        PatchParams),
    request_body(content = Object, content_type = "application/merge-patch+json",
        description = "Merge patch (RFC 7396) over the document's editable fields",
        example = json!({"authentication": {"methodsRequired": 2}, "registration": {"reconfirmDays": 90}})),
    responses(
        (status = 200, description = "Applied (or nothing to change): the policy as read back, with a new ETag; with dryRun the plan", body = PatchAnswer,
            headers(("ETag" = String, description = "Version of the policy after the change"),
                ("audit-record-id" = i64, description = "The id of the change's audit record in GET /v1/audit (outcome succeeded, or noChange when the patch changes nothing); absent for dry runs"))),
        (status = 412, description = "The policy changed since the ETag was read (`preconditionFailed`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The patch breaks a rule (`invalidPolicy`, `violations` with JSON pointers), does not fit the document (`invalidPatch`), or names a field whose source is unavailable (`sourceUnavailable`)", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing, or is `*` (send the ETag you read) (`preconditionRequired`)", body = Problem, content_type = "application/problem+json"),
        CallerErrors, TenantErrors, BodyErrors, QueryErrors,
    ))]
#[tracing::instrument(skip_all, fields(tenant = %tenant, request_id = request_id.as_deref().unwrap_or("")))]
pub async fn patch(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    CurrentRequestId(request_id): CurrentRequestId,
    PathParams(tenant): PathParams<String>,
    QueryParams(params): QueryParams<PatchParams>,
    IfMatch(if_match): IfMatch,
    MergePatch(body): MergePatch,
) -> Result<Response, ApiError> {
    let outcome = ops::run_to_completion(async move {
        let request = PatchRequest {
            tenant_key: &tenant,
            patch: &body,
            if_match: if_match.as_deref(),
            dry_run: params.dry_run,
            request_id,
        };
        ops::policy::patch(
            &state.policies,
            &state.tenants,
            upstream(&state),
            &state.audit,
            &caller,
            request,
        )
        .await
    })
    .await?;
    match outcome {
        PatchOutcome::DryRun(plan) => Ok(Json::<DryRun>(plan).into_response()),
        PatchOutcome::Applied {
            read,
            audit_record_id,
        } => Ok(with_audit_record_id(
            document_response(*read),
            audit_record_id,
        )),
    }
}

pub(super) fn upstream(state: &AppState) -> Upstream<'_> {
    Upstream {
        directory: state.policy_directory.as_ref(),
        portal: state.password_reset_portal.as_ref(),
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

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(routes!(get, patch))
}
