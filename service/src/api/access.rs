//! `/v1/access`: the access grants made through the API, and those of the configuration file.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sspr_api::access::{AccessGrant, AccessGrantRequest, AccessList};
use utoipa_axum::routes;

use super::extract::{CurrentRequestId, JsonBody, PathParams};
use super::problem::{ApiError, Problem};
use super::responses::{BodyErrors, CallerErrors};
use super::{AppState, Authenticated};
use crate::ops;

/// Every access grant.
///
/// The grants of the configuration file (`origin: config`, ids `config-<n>`, read-only; the
/// token's role decides) and those made through the API (`origin: api`, with the highest role
/// they give). Needs `SSPR.Admin` and a grant of every tenant. Makes no upstream call.
#[utoipa::path(get, path = "/v1/access", operation_id = "listAccess", tag = "access", security(("bearer" = [])),
    responses(
        (status = 200, description = "The grants", body = AccessList),
        CallerErrors,
    ))]
#[tracing::instrument(name = "access.list", skip_all)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<AccessList>, ApiError> {
    Ok(Json(access(&state).list(&caller).await?))
}

/// Grants a principal tenants, up to a role.
///
/// From the principal's next request on, it may act on the tenants `tenants` selects (ids,
/// domains, `tag:<tag>`, `*`), up to `role`; its token must hold the role too. Needs
/// `SSPR.Admin` and a grant of every tenant. Audited. Makes no upstream call.
#[utoipa::path(post, path = "/v1/access", operation_id = "grantAccess", tag = "access", security(("bearer" = [])),
    request_body(content = AccessGrantRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Granted; `Location` names it", body = AccessGrant,
            headers(("Location" = String, description = "The grant's path"))),
        CallerErrors, BodyErrors,
    ))]
#[tracing::instrument(name = "access.grant", skip_all)]
pub async fn grant(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    CurrentRequestId(request_id): CurrentRequestId,
    JsonBody(request): JsonBody<AccessGrantRequest>,
) -> Result<Response, ApiError> {
    let grant = access(&state).grant(&caller, request, request_id).await?;
    let location = format!("/v1/access/{}", grant.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(grant),
    )
        .into_response())
}

/// Revokes a grant.
///
/// From the principal's next request on, the grant no longer applies. Grants of the
/// configuration file are changed there (`grantReadOnly`). Needs `SSPR.Admin` and a grant of
/// every tenant. Audited. Makes no upstream call.
#[utoipa::path(delete, path = "/v1/access/{id}", operation_id = "revokeAccess", tag = "access", security(("bearer" = [])),
    params(("id" = String, Path, description = "The grant's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No grant has this id (`unknownGrant`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The grant is in the configuration file (`grantReadOnly`)", body = Problem, content_type = "application/problem+json"),
        CallerErrors,
    ))]
#[tracing::instrument(name = "access.revoke", skip_all, fields(grant = %id))]
pub async fn revoke(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    CurrentRequestId(request_id): CurrentRequestId,
    PathParams(id): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    access(&state).revoke(&caller, &id, request_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn access(state: &AppState) -> ops::access::Access<'_> {
    ops::access::Access {
        auth: &state.auth,
        store: state.tenant_store.as_ref(),
        audit: state.audit.clone(),
    }
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list, grant))
        .routes(routes!(revoke))
}
