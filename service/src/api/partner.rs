//! `/v1/partner`: the MSP's own tenant and its GDAP customers.

use axum::Json;
use axum::extract::State;
use sspr_api::partner::PartnerCustomerList;
use utoipa_axum::routes;

use super::problem::{ApiError, Problem};
use super::responses::CallerErrors;
use super::{AppState, Authenticated};
use crate::ops;

/// The partner tenant's GDAP customers.
///
/// The delegated admin relationships of the MSP's own tenant (`[partner] tenant`, read with the
/// service's default app, which needs `DelegatedAdminRelationship.Read.All` and
/// `Directory.Read.All` there) and its partner contracts, one entry per customer, each marked onboarded or not: the candidates to
/// onboard. Needs `SSPR.Admin` and a grant of every tenant. Reads Graph in the partner tenant.
#[utoipa::path(get, path = "/v1/partner/customers", operation_id = "listPartnerCustomers", tag = "partner", security(("bearer" = [])),
    responses(
        (status = 200, description = "The customers", body = PartnerCustomerList),
        (status = 422, description = "No partner tenant is configured (`noPartnerTenant`)", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Graph refused or failed (`upstream`, with `upstreamStatus`: 403 when the partner tenant has not granted the permissions)", body = Problem, content_type = "application/problem+json"),
        CallerErrors,
    ))]
#[tracing::instrument(name = "partner.customers", skip_all)]
pub async fn customers(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> Result<Json<PartnerCustomerList>, ApiError> {
    Ok(Json(
        ops::partner::customers(
            &state.tenants,
            state.partner_directory.as_ref(),
            &caller,
            state.tenancy.partner_tenant.as_deref(),
        )
        .await?,
    ))
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(routes!(customers))
}
