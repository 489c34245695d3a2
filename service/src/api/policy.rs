use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};

use super::problem::{ApiError, Problem};
use super::{AppState, Authenticated};
use crate::domain::policy::PolicyDocument;
use crate::ops;

/// The response header that carries Microsoft Graph's `request-id`s, for support tickets.
pub const GRAPH_REQUEST_ID: &str = "graph-request-id";

/// The tenant's SSPR policy document; every group says where its values came from.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/sspr/policy", tag = "policy", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    responses(
        (status = 200, description = "The policy document", body = PolicyDocument,
            headers(("graph-request-id" = String, description = "Microsoft Graph request-ids of the reads, comma-separated"))),
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
) -> Result<(HeaderMap, Json<PolicyDocument>), ApiError> {
    let (document, request_ids) =
        ops::policy::read(&state.tenants, &state.graph, &caller, &tenant).await?;
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(&request_ids.join(", ")) {
        headers.insert(GRAPH_REQUEST_ID, value);
    }
    Ok((headers, Json(document)))
}
