//! The managed-identity token endpoint as Azure's Instance Metadata Service (IMDS) serves it to
//! a VM or container: `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…
//! &client_id=…` with `Metadata: true`. Tokens come from the identity's tenant (its v2 issuer),
//! carry the app roles its service principal holds on the resource, and for
//! `api://AzureADTokenExchange` are the assertion of managed identity as a federated credential
//! (msp-readiness.md §1b).
//!
//! IMDS answers errors as `{"error","error_description"}` with 400, and every number of a
//! success as a string.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{
    ManagedIdentity, Shared, Tenant,
    calls::{CallApp, CallTenant, now_unix},
    token::first_party,
};

/// API versions of the identity endpoint the emulator accepts (IMDS lists more; these are the
/// ones Azure SDKs send).
const API_VERSIONS: &[&str] = &["2018-02-01", "2019-08-01"];
/// IMDS tokens live about a day (`expires_in` is the remaining lifetime).
const TOKEN_LIFETIME_SECS: i64 = 86_399;

struct ImdsError {
    error: &'static str,
    description: String,
}

impl ImdsError {
    fn invalid_request(description: impl Into<String>) -> Self {
        Self {
            error: "invalid_request",
            description: description.into(),
        }
    }

    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": self.error, "error_description": self.description })),
        )
            .into_response()
    }
}

/// `GET /metadata/identity/oauth2/token`
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (tenant, client, result) = issue(&shared, &headers, &query);
    let mut response = match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    };
    if let Some(tenant) = tenant {
        response.extensions_mut().insert(CallTenant(tenant));
    }
    if let Some(client) = client {
        response.extensions_mut().insert(CallApp(client));
    }
    response
}

/// Returns the identity's tenant and client id (for the call log) and the body or error.
fn issue(
    shared: &Shared,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> (Option<String>, Option<String>, Result<Value, ImdsError>) {
    // IMDS refuses requests without the header: it is what stops server-side request forgery.
    let has_metadata_header = headers
        .get("metadata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !has_metadata_header {
        return (
            None,
            None,
            Err(ImdsError::invalid_request(
                "Required metadata header not specified",
            )),
        );
    }
    let param = |name: &str| {
        query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let Some(api_version) = param("api-version") else {
        return (
            None,
            None,
            Err(ImdsError::invalid_request(
                "Required query variable 'api-version' is missing",
            )),
        );
    };
    if !API_VERSIONS.contains(&api_version) {
        // UNVERIFIED wording: IMDS's answer to an unknown version of this endpoint.
        return (
            None,
            None,
            Err(ImdsError::invalid_request(format!(
                "Invalid api-version '{api_version}'. Supported versions: {}",
                API_VERSIONS.join(", ")
            ))),
        );
    }
    let Some(resource) = param("resource") else {
        return (
            None,
            None,
            Err(ImdsError::invalid_request(
                "Required query variable 'resource' is missing",
            )),
        );
    };
    let directory = shared.directory();
    let Some((tenant, identity)) = find_identity(&directory.tenants, param("client_id")) else {
        return (
            None,
            param("client_id").map(str::to_string),
            Err(ImdsError::invalid_request("Identity not found")),
        );
    };
    let result = identity_token(shared, tenant, identity, resource);
    (
        Some(tenant.id.clone()),
        Some(identity.client_id.clone()),
        result,
    )
}

/// The identity `client_id` names; without one, the only identity assigned (IMDS's default when
/// there is no system-assigned identity).
fn find_identity<'d>(
    tenants: &'d [Tenant],
    client_id: Option<&str>,
) -> Option<(&'d Tenant, &'d ManagedIdentity)> {
    let mut all = tenants
        .iter()
        .flat_map(|t| t.managed_identities.iter().map(move |mi| (t, mi)));
    match client_id {
        Some(id) => all.find(|(_, mi)| mi.client_id.eq_ignore_ascii_case(id)),
        None => match (all.next(), all.next()) {
            (Some(only), None) => Some(only),
            _ => None,
        },
    }
}

fn identity_token(
    shared: &Shared,
    tenant: &Tenant,
    identity: &ManagedIdentity,
    resource: &str,
) -> Result<Value, ImdsError> {
    let (audience, roles) = if is_token_exchange(resource) {
        // Nobody holds roles on the token exchange audience; the token only proves who it is.
        (first_party::TOKEN_EXCHANGE_AUDIENCE.to_string(), Vec::new())
    } else {
        let resource_sp = tenant.resource_principal(resource).ok_or_else(|| ImdsError {
            error: "invalid_resource",
            description: format!(
                "AADSTS500011: The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                tenant.display_name
            ),
        })?;
        let roles = tenant
            .principal_for_app(&identity.client_id)
            .and_then(|sp| sp.granted_app_roles.get(&resource_sp.app_id))
            .cloned()
            .unwrap_or_default();
        let audience = resource_sp.token_audience();
        (audience, roles)
    };
    let now = now_unix();
    let expires_on = now + TOKEN_LIFETIME_SECS;
    let mut claims = json!({
        "aud": audience,
        "iss": shared.issuer(&tenant.id),
        "iat": now,
        "nbf": now,
        "exp": expires_on,
        "azp": identity.client_id,
        "azpacr": "2",
        "appid": identity.client_id,
        "idtyp": "app",
        "oid": identity.principal_id,
        "sub": identity.principal_id,
        "tid": tenant.id,
        "ver": "2.0",
        "xms_mirid": identity.resource_id,
    });
    if !roles.is_empty() {
        claims["roles"] = json!(roles);
    }
    let access_token = crate::token::sign(shared, &claims).map_err(|e| {
        tracing::error!(error = %e, "signing a managed identity token failed");
        ImdsError {
            error: "unknown_error",
            description: "The token could not be issued.".into(),
        }
    })?;
    Ok(json!({
        "access_token": access_token,
        "client_id": identity.client_id,
        "expires_in": TOKEN_LIFETIME_SECS.to_string(),
        "expires_on": expires_on.to_string(),
        "ext_expires_in": TOKEN_LIFETIME_SECS.to_string(),
        "not_before": now.to_string(),
        "resource": resource,
        "token_type": "Bearer",
    }))
}

fn is_token_exchange(resource: &str) -> bool {
    let resource = resource.trim_end_matches('/');
    resource.eq_ignore_ascii_case(first_party::TOKEN_EXCHANGE_AUDIENCE)
}
