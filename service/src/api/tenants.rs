use axum::Json;
use axum::extract::State;
use sspr_api::tenants::{TenantList, TenantSummary, Verification};
use utoipa_axum::routes;

use super::extract::PathParams;
use super::problem::ApiError;
use super::responses::{CallerErrors, TenantErrors, TenantPathErrors};
use super::{AppState, Authenticated};
use crate::ops;

/// The tenants the caller may act on.
///
/// The managed tenants the service's access map grants the caller, each with its id, primary
/// domain, display name, every domain it can be named by in the other paths, its tags, how the
/// service signs in to it (never the secret) and its health: when a token was last obtained or
/// last refused, and the last verification. Makes no upstream call.
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
        (status = 200, description = "The tenant", body = TenantSummary),
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

/// Verifies what the service may do in the tenant.
///
/// Gets a fresh token for the tenant (not a cached one: a consent given since shows only in a
/// new token), checks that it was issued for this tenant (`tid`), reads the application
/// permissions it grants (its `roles` claim) and answers, per feature, whether it is available,
/// with the permissions still to consent to and the licence the feature also needs. A token that
/// Entra refuses (the app is not consented in the tenant, a wrong secret) is a verdict with
/// `tokenIssued: false`, not an error. The verdict is kept and shown with the tenant (`health`,
/// `verification`). Makes no Graph call.
#[utoipa::path(post, path = "/v1/tenants/{tenant}/verify", operation_id = "verifyTenant", tag = "tenants", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    responses(
        (status = 200, description = "The verdict", body = Verification),
        CallerErrors, TenantErrors,
    ))]
#[tracing::instrument(name = "tenants.verify", skip_all, fields(tenant = %tenant))]
pub async fn verify(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
) -> Result<Json<Verification>, ApiError> {
    let verdict =
        ops::tenants::verify(&state.tenants, state.permissions.as_ref(), &caller, &tenant).await?;
    Ok(Json(verdict))
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get))
        .routes(routes!(verify))
}
