use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sspr_api::tenants::{
    ConsentLink, TenantList, TenantOnboarding, TenantSummary, TenantUpdate, Verification,
};
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::extract::{CurrentRequestId, JsonBody, PathParams, QueryParams};
use super::problem::{ApiError, Problem};
use super::responses::{BodyErrors, CallerErrors, TenantErrors, TenantPathErrors};
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
    let verdict = ops::tenants::verify(
        &state.tenants,
        state.permissions.as_ref(),
        state.tenant_store.as_ref(),
        &caller,
        &tenant,
    )
    .await?;
    Ok(Json(verdict))
}

/// Onboards a customer tenant.
///
/// Names the tenant by id or one of its verified domains (a domain is resolved to the id
/// through the tenant's OpenID Connect discovery document) and says how the service signs in
/// to it: the service-wide default app, a client secret, a certificate, workload identity
/// federation or a managed identity as a federated credential. The credential is checked
/// (a key that does not parse is refused) and kept in the store, inline secrets sealed with
/// AES-256-GCM; no answer ever holds a secret. Usable at once, without a restart; verify it
/// next (`POST /v1/tenants/{tenant}/verify`). Needs `SSPR.Admin` and a grant of every tenant.
/// Makes no Graph call (a domain costs one discovery request).
#[utoipa::path(post, path = "/v1/tenants", operation_id = "addTenant", tag = "tenants", security(("bearer" = [])),
    request_body(content = TenantOnboarding, content_type = "application/json"),
    responses(
        (status = 201, description = "Onboarded; `Location` names it", body = TenantSummary,
            headers(("Location" = String, description = "The tenant's path"))),
        (status = 409, description = "Another tenant already answers to this id or domain (`tenantExists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The credential cannot be used (`unusableCredential`: a key or certificate that does not parse) or no Entra tenant answers to the domain (`unknownDomain`)", body = Problem, content_type = "application/problem+json"),
        CallerErrors, BodyErrors,
    ))]
#[tracing::instrument(name = "tenants.add", skip_all)]
pub async fn add(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    CurrentRequestId(request_id): CurrentRequestId,
    JsonBody(request): JsonBody<TenantOnboarding>,
) -> Result<Response, ApiError> {
    let summary = onboarding(&state).add(&caller, request, request_id).await?;
    let location = format!("/v1/tenants/{}", summary.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(summary),
    )
        .into_response())
}

/// Changes an onboarded tenant.
///
/// What is given replaces what was (`displayName`, `domains`, `tags`, `credential`); what is
/// absent stays. A new credential is checked before anything is kept, and the tenant must be
/// verified again. Tenants of the configuration file are read-only (`tenantReadOnly`). Needs
/// `SSPR.Admin` and a grant of every tenant. Makes no upstream call.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}", operation_id = "updateTenant", tag = "tenants", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    request_body(content = TenantUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "The tenant as it is now", body = TenantSummary),
        (status = 409, description = "The tenant is defined in the configuration file (`tenantReadOnly`), or another tenant already answers to a domain given (`tenantExists`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The credential cannot be used (`unusableCredential`)", body = Problem, content_type = "application/problem+json"),
        CallerErrors, TenantPathErrors, BodyErrors,
    ))]
#[tracing::instrument(name = "tenants.update", skip_all, fields(tenant = %tenant))]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    CurrentRequestId(request_id): CurrentRequestId,
    PathParams(tenant): PathParams<String>,
    JsonBody(update): JsonBody<TenantUpdate>,
) -> Result<Json<TenantSummary>, ApiError> {
    Ok(Json(
        onboarding(&state)
            .update(&caller, &tenant, update, request_id)
            .await?,
    ))
}

/// Offboards an onboarded tenant.
///
/// Its record and credential (with any sealed secret) leave the store and the service stops
/// managing it at once; its audit records stay. Tenants of the configuration file are
/// read-only (`tenantReadOnly`). Needs `SSPR.Admin` and a grant of every tenant. Makes no
/// upstream call: the app's consent in the customer tenant is the customer's to remove.
#[utoipa::path(delete, path = "/v1/tenants/{tenant}", operation_id = "removeTenant", tag = "tenants", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain")),
    responses(
        (status = 204, description = "Offboarded"),
        (status = 409, description = "The tenant is defined in the configuration file (`tenantReadOnly`)", body = Problem, content_type = "application/problem+json"),
        CallerErrors, TenantPathErrors,
    ))]
#[tracing::instrument(name = "tenants.remove", skip_all, fields(tenant = %tenant))]
pub async fn remove(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    CurrentRequestId(request_id): CurrentRequestId,
    PathParams(tenant): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    onboarding(&state)
        .remove(&caller, &tenant, request_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentParams {
    /// Where Entra sends the administrator after consent: a redirect URI registered on the app
    /// (default: the service's `[tenancy] consent_redirect_uri`).
    pub redirect_uri: Option<String>,
}

/// The admin-consent link for the tenant.
///
/// The URL a customer's administrator opens to consent to the app in their tenant: Microsoft
/// identity platform v2 `/adminconsent` for this tenant id (not `common`), with
/// `scope=https://graph.microsoft.com/.default`, the redirect URI and a fresh `state`, and the
/// application permissions the consent should grant. After consent, verify
/// (`POST /v1/tenants/{tenant}/verify`): the redirect's parameters only hint. Makes no upstream
/// call.
#[utoipa::path(get, path = "/v1/tenants/{tenant}/consent", operation_id = "getConsentLink", tag = "tenants", security(("bearer" = [])),
    params(("tenant" = String, Path, description = "Tenant id or verified domain"), ConsentParams),
    responses(
        (status = 200, description = "The consent link", body = ConsentLink),
        CallerErrors, TenantPathErrors,
    ))]
#[tracing::instrument(name = "tenants.consent", skip_all, fields(tenant = %tenant))]
pub async fn consent(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
    PathParams(tenant): PathParams<String>,
    QueryParams(params): QueryParams<ConsentParams>,
) -> Result<Json<ConsentLink>, ApiError> {
    Ok(Json(ops::onboarding::consent_link(
        &state.tenants,
        &state.tenant_builder,
        &caller,
        &tenant,
        params.redirect_uri.as_deref(),
        state.tenancy.consent_redirect_uri.as_ref(),
    )?))
}

fn onboarding(state: &AppState) -> ops::onboarding::Onboarding<'_> {
    ops::onboarding::Onboarding {
        registry: &state.tenants,
        builder: &state.tenant_builder,
        store: state.tenant_store.as_ref(),
        discovery: state.tenant_discovery.as_ref(),
        audit: state.audit.clone(),
        credentials: &state.tenancy.credentials,
    }
}

/// This area's routes, with their OpenAPI operations.
pub(super) fn routes() -> utoipa_axum::router::OpenApiRouter<super::AppState> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(get, update, remove))
        .routes(routes!(consent))
        .routes(routes!(verify))
}
