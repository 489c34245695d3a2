use axum::Json;
use axum::extract::State;
use sspr_api::tenants::{TenantList, TenantSummary};
use utoipa_axum::routes;

use super::problem::ApiError;
use super::responses::CallerErrors;
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
    let value = ops::tenants::visible(&state.tenants, &caller)?
        .into_iter()
        .map(|t| TenantSummary {
            id: t.id.clone(),
            domain: t.primary_domain().to_owned(),
            display_name: t.display_name.clone(),
            domains: t.domains.clone(),
        })
        .collect();
    Ok(Json(TenantList { value }))
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(routes!(list))
}
