use axum::Json;
use axum::extract::State;
use sspr_api::tenants::{TenantList, TenantSummary};
use utoipa_axum::routes;

use super::extract::PathParams;
use super::problem::ApiError;
use super::responses::{CallerErrors, TenantPathErrors};
use super::{AppState, Authenticated};
use crate::ops;

/// The tenants the caller may act on.
///
/// The managed tenants the service's access map grants the caller, each with its id, primary
/// domain, display name and every domain it can be named by in the other paths. Makes no
/// upstream call.
#[utoipa::path(get, path = "/v1/tenants", operation_id = "listTenants", tag = "tenants", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's tenants", body = TenantList),
        CallerErrors,
    ))]
#[tracing::instrument(name = "tenants.list", skip_all)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<TenantList>, ApiError> {
    let value = ops::tenants::list(&state.tenants, &caller)?;
    Ok(Json(TenantList { value }))
}

/// One tenant the caller may act on.
///
/// The managed tenant named by its id or any of its verified domains (case-insensitive), as the
/// tenant list shows it: a runbook checks a tenant name before acting on it. Makes no upstream
/// call.
#[utoipa::path(get, path = "/v1/tenants/{tenant}", operation_id = "getTenant", tag = "tenants", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    responses(
        (status = 200, description = "The tenant", body = TenantSummary,
            example = json!({"id": "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17", "domain": "contoso.onmicrosoft.com",
                "displayName": "Contoso", "domains": ["contoso.onmicrosoft.com", "contoso.com"]})),
        CallerErrors, TenantPathErrors,
    ))]
#[tracing::instrument(name = "tenants.get", skip_all, fields(tenant = %tenant))]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
) -> Result<Json<TenantSummary>, ApiError> {
    Ok(Json(ops::tenants::one(&state.tenants, &caller, &tenant)?))
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
}
