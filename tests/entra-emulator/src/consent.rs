//! Admin consent (msp-readiness.md §2a): `GET /{tenant}/v2.0/adminconsent`, where the customer's
//! administrator grants a multi-tenant app the permissions it asks for, and the same grant and
//! its revocation for tests ([`grant`], [`revoke`]).
//!
//! The emulator plays the administrator who clicks *Accept*: a valid request grants the app's
//! `required_permissions` in the tenant at once and redirects back. Requests Entra refuses
//! before showing the consent screen get its error page (400, never a redirect, so an
//! unregistered `redirect_uri` is never followed); a bad `scope` is reported to the app through
//! the redirect, as Entra does.

use std::{collections::HashMap, sync::Arc};

use anyhow::Context;
use axum::{
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use url::Url;

use crate::{
    Directory, ServicePrincipal, Shared,
    calls::{CallApp, CallTenant},
    seed,
};

/// The only scope `/adminconsent` accepts for application permissions on Graph.
const GRAPH_DEFAULT_SCOPE: &str = "https://graph.microsoft.com/.default";

/// Give `client_id`'s service principal in `tenant` exactly `permissions` on Microsoft Graph,
/// creating the principal (with a fresh object id) if the app was never consented there. Its
/// roles on other resources stay.
pub(crate) fn grant(
    directory: &mut Directory,
    tenant: &str,
    client_id: &str,
    permissions: &[String],
) -> anyhow::Result<()> {
    let app = directory
        .app(client_id)
        .with_context(|| format!("no app registration with client id {client_id}"))?;
    let (app_id, display_name) = (app.client_id.clone(), app.display_name.clone());
    let tenant = directory
        .tenant_mut(tenant)
        .with_context(|| format!("no tenant with id or domain {tenant}"))?;
    let index = match tenant
        .service_principals
        .iter()
        .position(|sp| sp.app_id.eq_ignore_ascii_case(&app_id))
    {
        Some(index) => index,
        None => {
            tenant.service_principals.push(ServicePrincipal {
                id: uuid::Uuid::new_v4().to_string(),
                app_id: app_id.clone(),
                display_name,
                service_principal_names: vec![app_id],
                granted_app_roles: Default::default(),
            });
            tenant.service_principals.len() - 1
        }
    };
    tenant.service_principals[index]
        .granted_app_roles
        .insert(seed::GRAPH_FIRST_PARTY_APP_ID.into(), permissions.to_vec());
    Ok(())
}

/// Remove `client_id`'s service principal from `tenant`: the app is no longer installed there
/// (its token requests then fail with AADSTS700016).
pub(crate) fn revoke(
    directory: &mut Directory,
    tenant: &str,
    client_id: &str,
) -> anyhow::Result<()> {
    let tenant = directory
        .tenant_mut(tenant)
        .with_context(|| format!("no tenant with id or domain {tenant}"))?;
    let before = tenant.service_principals.len();
    tenant
        .service_principals
        .retain(|sp| !sp.app_id.eq_ignore_ascii_case(client_id));
    anyhow::ensure!(
        tenant.service_principals.len() < before,
        "app {client_id} has no service principal in tenant {}",
        tenant.id
    );
    Ok(())
}

/// `GET /{tenant}/v2.0/adminconsent?client_id=…&scope=…&redirect_uri=…&state=…`
pub(crate) async fn admin_consent(
    State(shared): State<Arc<Shared>>,
    Path(path_tenant): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let param = |name: &str| {
        query
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let client_id = param("client_id");
    let (logged_tenant, mut response) = match consent(&shared, &path_tenant, &param) {
        Ok((tenant_id, location)) => (tenant_id, redirect(&location)),
        Err(Refusal::Page {
            tenant,
            code,
            message,
        }) => (tenant, error_page(code, &message)),
        Err(Refusal::Redirect { tenant, location }) => (tenant, redirect(&location)),
    };
    response.extensions_mut().insert(CallTenant(logged_tenant));
    if let Some(client_id) = client_id {
        response
            .extensions_mut()
            .insert(CallApp(client_id.to_string()));
    }
    response
}

enum Refusal {
    /// Entra's error page (400): the request never reaches the administrator.
    Page {
        tenant: String,
        code: u32,
        message: String,
    },
    /// Back to the (registered) redirect URI with `error=…`.
    Redirect { tenant: String, location: Url },
}

/// Check the request, grant, and return the tenant id and where to send the browser.
fn consent<'q>(
    shared: &Shared,
    path_tenant: &str,
    param: &impl Fn(&str) -> Option<&'q str>,
) -> Result<(String, Url), Refusal> {
    let page = |tenant: &str, code: u32, message: String| Refusal::Page {
        tenant: tenant.to_string(),
        code,
        message,
    };
    if ["common", "consumers"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(path_tenant))
    {
        return Err(page(
            path_tenant,
            90130,
            "Application is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.".into(),
        ));
    }
    if path_tenant.eq_ignore_ascii_case("organizations") {
        // Entra would ask the administrator to sign in and use their tenant; the emulator has
        // nobody to sign in, so it needs the tenant named.
        return Err(page(
            path_tenant,
            90130,
            "The emulator grants admin consent only on a tenant-specific endpoint (/{tenant}/v2.0/adminconsent).".into(),
        ));
    }
    let mut directory = shared.directory();
    let Some(tenant) = directory.tenant(path_tenant) else {
        return Err(page(
            path_tenant,
            90002,
            format!(
                "Tenant '{path_tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        ));
    };
    let tenant_id = tenant.id.clone();
    let tenant_name = tenant.display_name.clone();
    let Some(client_id) = param("client_id") else {
        return Err(page(
            &tenant_id,
            900144,
            "The request body must contain the following parameter: 'client_id'.".into(),
        ));
    };
    let Some(app) = directory.app(client_id) else {
        return Err(page(
            &tenant_id,
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant_name}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        ));
    };
    let redirect_uri = param("redirect_uri").unwrap_or_default();
    let registered = app.redirect_uris.iter().find(|u| *u == redirect_uri);
    let Some(mut location) = registered.and_then(|u| Url::parse(u).ok()) else {
        return Err(page(
            &tenant_id,
            50011,
            format!(
                "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal."
            ),
        ));
    };
    let state = param("state");
    let scope = param("scope").unwrap_or_default();
    if scope != GRAPH_DEFAULT_SCOPE {
        {
            let mut pairs = location.query_pairs_mut();
            pairs.append_pair("error", "invalid_request");
            pairs.append_pair(
                "error_description",
                &format!("AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope '{scope}' is not valid; admin consent for application permissions needs '{GRAPH_DEFAULT_SCOPE}'."),
            );
            if let Some(state) = state {
                pairs.append_pair("state", state);
            }
        }
        return Err(Refusal::Redirect {
            tenant: tenant_id,
            location,
        });
    }
    let permissions = app.required_permissions.clone();
    let app_id = app.client_id.clone();
    grant(&mut directory, &tenant_id, &app_id, &permissions).map_err(|e| {
        page(
            &tenant_id,
            50000,
            format!("There was an error granting consent: {e}"),
        )
    })?;
    let granted: Vec<String> = permissions
        .iter()
        .map(|p| format!("{}/{p}", seed::GRAPH_RESOURCE))
        .collect();
    {
        let mut pairs = location.query_pairs_mut();
        pairs.append_pair("admin_consent", "True");
        pairs.append_pair("tenant", &tenant_id);
        pairs.append_pair("scope", &granted.join(" "));
        if let Some(state) = state {
            pairs.append_pair("state", state);
        }
    }
    Ok((tenant_id, location))
}

fn redirect(location: &Url) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(location.as_str()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Entra's sign-in error page, reduced to what a person (or a test) reads on it.
fn error_page(code: u32, message: &str) -> Response {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let body = format!(
        "<!DOCTYPE html>\n<html><head><title>Sign in to your account</title></head><body>\n<h1>Sorry, but we're having trouble signing you in.</h1>\n<p id=\"error\">AADSTS{code}: {escaped}</p>\n</body></html>\n"
    );
    (StatusCode::BAD_REQUEST, Html(body)).into_response()
}
