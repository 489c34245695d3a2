//! The Entra side: the token endpoints, OpenID discovery and JWKS, plus minting tokens directly
//! for tests.
//!
//! Grants (graph-api.md §9): client credentials authenticated by a client secret, a certificate
//! assertion or a federated (workload identity) assertion ([`assertion`]), and the refresh-token
//! grant for delegated admin tokens ([`refresh`]). Both endpoint versions are served:
//! `/{tenant}/oauth2/v2.0/token` (`scope=`) and the v1 `/{tenant}/oauth2/token` (`resource=`),
//! whose responses carry `expires_in` & co. as strings and echo `resource`.
//!
//! Token format follows the resource, as in Entra (the resource's accepted token version), not
//! the endpoint: the portal back end gets v1 tokens (`ver` `1.0`, issuer [`v1_issuer`]
//! `{base}{tid}/`, the emulator's stand-in for `https://sts.windows.net/{tid}/`); every other
//! resource (Graph, our API) gets the emulator's v2 format with issuer `{base}{tid}/v2.0`, which
//! is what the Graph side verifies. (Real Graph tokens are v1; one issuer for Graph keeps the
//! emulator's Graph validation simple and our clients never look inside Graph tokens.)

mod assertion;
mod refresh;

pub(crate) use assertion::mint_federated_token;
pub(crate) use refresh::{admin_refresh_token, issue_refresh_token};

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::{
    Json,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use jsonwebtoken::{Algorithm, Header};
use serde_json::{Value, json};

use crate::{
    AppRegistration, Directory, ServicePrincipal, Shared, Tenant,
    calls::{CallTenant, entra_timestamp, now_unix},
    seed,
};

/// Lifetime of tokens issued by the token endpoint, as Entra reports it (`expires_in`).
const ISSUED_TOKEN_LIFETIME_SECS: i64 = 3599;

/// What [`crate::Emulator::mint_token`] puts into a token. Every field has a default that yields
/// a valid operator token for our service's API (`aud` = `api://sspr`, operator tenant).
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub tenant_id: String,
    pub audience: String,
    /// `None`: the emulator's issuer for `tenant_id`.
    pub issuer: Option<String>,
    pub roles: Vec<String>,
    /// Delegated scopes (space-separated), for user tokens.
    pub scp: Option<String>,
    pub oid: String,
    /// Goes to both `appid` and `azp`.
    pub app_id: String,
    pub name: Option<String>,
    pub upn: Option<String>,
    /// `exp = now + issued_at_offset_secs + lifetime`.
    pub lifetime: Duration,
    /// `nbf = now + not_before_offset_secs` (e.g. +600 for "not yet valid").
    pub not_before_offset_secs: i64,
    /// `iat = now + issued_at_offset_secs` (e.g. -7200 with lifetime 0 for "expired").
    pub issued_at_offset_secs: i64,
}

impl Default for TokenSpec {
    fn default() -> Self {
        Self {
            tenant_id: seed::OPERATOR_ID.into(),
            audience: seed::SERVICE_AUDIENCE.into(),
            issuer: None,
            roles: Vec::new(),
            scp: None,
            oid: seed::DEMO_OPERATOR_OID.into(),
            app_id: seed::CLI_APP_CLIENT_ID.into(),
            name: None,
            upn: None,
            lifetime: Duration::from_secs(3600),
            not_before_offset_secs: 0,
            issued_at_offset_secs: 0,
        }
    }
}

/// Claims for a [`TokenSpec`], shaped like an Entra v2 access token.
pub(crate) fn spec_claims(shared: &Shared, spec: &TokenSpec) -> Value {
    let now = now_unix();
    let iat = now + spec.issued_at_offset_secs;
    let lifetime = i64::try_from(spec.lifetime.as_secs()).unwrap_or(i64::MAX / 2);
    let mut claims = json!({
        "aud": spec.audience,
        "iss": spec.issuer.clone().unwrap_or_else(|| shared.issuer(&spec.tenant_id)),
        "iat": iat,
        "nbf": now + spec.not_before_offset_secs,
        "exp": iat.saturating_add(lifetime),
        "azp": spec.app_id,
        "azpacr": "1",
        "appid": spec.app_id,
        "oid": spec.oid,
        "sub": spec.oid,
        "tid": spec.tenant_id,
        "uti": uti(),
        "ver": "2.0",
        "idtyp": if spec.scp.is_some() { "user" } else { "app" },
    });
    if !spec.roles.is_empty() {
        claims["roles"] = json!(spec.roles);
    }
    if let Some(scp) = &spec.scp {
        claims["scp"] = json!(scp);
    }
    if let Some(name) = &spec.name {
        claims["name"] = json!(name);
    }
    if let Some(upn) = &spec.upn {
        claims["upn"] = json!(upn);
        claims["preferred_username"] = json!(upn);
    }
    claims
}

/// Sign claims with the current key (RS256, `typ: JWT`, `kid` set).
pub(crate) fn sign(shared: &Shared, claims: &Value) -> Result<String, jsonwebtoken::errors::Error> {
    let keys = shared.keys.read().unwrap_or_else(|e| e.into_inner());
    let key = keys.current();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding)
}

/// Entra's `uti`: an opaque 22-character base64url token id.
fn uti() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

/// The emulator's v1 token issuer for a tenant, `{base}{tid}/` (with the trailing slash, like
/// Entra's `https://sts.windows.net/{tid}/`): v1 tokens (the portal back end's) carry it.
pub(crate) fn v1_issuer(shared: &Shared, tenant_id: &str) -> String {
    format!("{}{tenant_id}/", shared.base_url)
}

/// Microsoft first-party ids the token endpoint and portal back end know without registration.
pub mod first_party {
    /// The portal back end ("ADIbizaUX", `main.iam.ad.ext.azure.com`): the `aud` of portal tokens
    /// and the v1 `resource` / v2 `{id}/.default` to ask for them (graph-api.md §2.3).
    pub const PORTAL_RESOURCE: &str = "74658136-14ec-4630-ad9b-26e160ff0fc6";
    /// Azure Portal, the client of the captured portal token.
    pub const AZURE_PORTAL: &str = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c";
    /// Azure PowerShell: the public client that admin refresh tokens are issued to.
    pub const AZURE_POWERSHELL: &str = "1950a258-227b-4e31-a9cf-717495945fc2";
    pub const AZURE_CLI: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
    pub const MICROSOFT_OFFICE: &str = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
    /// First-party public clients: they redeem refresh tokens without a secret, and presenting
    /// one is an error (AADSTS700025).
    pub const PUBLIC_CLIENTS: &[&str] =
        &[AZURE_PORTAL, AZURE_POWERSHELL, AZURE_CLI, MICROSOFT_OFFICE];
    /// Role template id of Global Administrator (in `wids`).
    pub const GLOBAL_ADMINISTRATOR_ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";
    /// Audience of federated (workload identity) assertions.
    pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";
}

/// An error the way the Entra token endpoint sends it.
struct EntraError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
    /// Entra's `suberror` member, e.g. `consent_required` next to AADSTS65001.
    suberror: Option<&'static str>,
}

impl EntraError {
    fn new(status: StatusCode, error: &'static str, code: u32, description: String) -> Self {
        Self {
            status,
            error,
            code,
            description,
            suberror: None,
        }
    }

    fn with_suberror(mut self, suberror: &'static str) -> Self {
        self.suberror = Some(suberror);
        self
    }

    fn missing_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    fn unknown_tenant(tenant: &str, error: &'static str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            error,
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }

    fn into_response(self, base: &url::Url, correlation_id: &str) -> Response {
        let trace_id = uuid::Uuid::new_v4().to_string();
        let timestamp = entra_timestamp();
        let mut body = json!({
            "error": self.error,
            "error_description": format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
                self.code, self.description
            ),
            "error_codes": [self.code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("{base}error?code={}", self.code),
        });
        if let Some(suberror) = self.suberror {
            body["suberror"] = json!(suberror);
        }
        (self.status, no_store(), Json(body)).into_response()
    }
}

fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, no-cache"),
        ),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| uuid::Uuid::parse_str(v).ok())
        .unwrap_or_else(uuid::Uuid::new_v4)
        .to_string()
}

/// `POST /{tenant}/oauth2/v2.0/token`
pub(crate) async fn token_endpoint(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(&shared, &tenant, &headers, &body, Endpoint::V2)
}

/// `POST /{tenant}/oauth2/token` (the v1 endpoint: `resource=` instead of `scope=`).
pub(crate) async fn token_endpoint_v1(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(&shared, &tenant, &headers, &body, Endpoint::V1)
}

fn respond(
    shared: &Shared,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
    endpoint: Endpoint,
) -> Response {
    let correlation = correlation_id(headers);
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let (logged_tenant, result) = issue(shared, tenant, &form, endpoint);
    let mut response = match result {
        Ok(body) => (StatusCode::OK, no_store(), Json(body)).into_response(),
        Err(e) => e.into_response(&shared.base_url, &correlation),
    };
    response.extensions_mut().insert(CallTenant(logged_tenant));
    response
}

/// Which token endpoint a request came to; decides parameter names and the response shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    V1,
    V2,
}

/// One token request with everything the grants look at. The directory stays locked for the
/// whole request (lock order: directory, then keys).
struct TokenRequest<'a> {
    shared: &'a Shared,
    tenant: &'a Tenant,
    directory: &'a Directory,
    form: &'a HashMap<String, String>,
    endpoint: Endpoint,
}

impl TokenRequest<'_> {
    /// A required, non-empty form parameter.
    fn param(&self, name: &str) -> Result<&str, EntraError> {
        self.optional(name)
            .ok_or_else(|| EntraError::missing_parameter(name))
    }

    fn optional(&self, name: &str) -> Option<&str> {
        self.form
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The 200 body for `access_token`, shaped as this endpoint sends it. `extra` adds
    /// `scope`, `refresh_token` and the like.
    fn success(&self, access_token: String, issued_at: i64, resource: &str, extra: Value) -> Value {
        let lifetime = ISSUED_TOKEN_LIFETIME_SECS;
        let mut body = match self.endpoint {
            Endpoint::V2 => json!({
                "token_type": "Bearer",
                "expires_in": lifetime,
                "ext_expires_in": lifetime,
                "access_token": access_token,
            }),
            // v1 sends every number as a string and echoes the resource (graph-api.md §9.1).
            Endpoint::V1 => json!({
                "token_type": "Bearer",
                "expires_in": lifetime.to_string(),
                "ext_expires_in": lifetime.to_string(),
                "expires_on": (issued_at + lifetime).to_string(),
                "not_before": issued_at.to_string(),
                "resource": resource,
                "access_token": access_token,
            }),
        };
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    }
}

/// Run the grant the request names. Returns the tenant to log (resolved id, or the raw path
/// segment when unknown) and the success body or error.
fn issue(
    shared: &Shared,
    path_tenant: &str,
    form: &HashMap<String, String>,
    endpoint: Endpoint,
) -> (String, Result<Value, EntraError>) {
    let directory = shared.directory();
    let Some(tenant) = directory.tenant(path_tenant) else {
        return (
            path_tenant.to_string(),
            Err(EntraError::unknown_tenant(path_tenant, "invalid_request")),
        );
    };
    let request = TokenRequest {
        shared,
        tenant,
        directory: &directory,
        form,
        endpoint,
    };
    let result = match request.param("grant_type") {
        Ok("client_credentials") => client_credentials(&request),
        Ok("refresh_token") => refresh::refresh(&request),
        Ok(other) => Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
        Err(e) => Err(e),
    };
    (tenant.id.clone(), result)
}

/// The client-credentials grant: an app-only token carrying the app roles granted in this tenant.
fn client_credentials(request: &TokenRequest<'_>) -> Result<Value, EntraError> {
    let client_id = request.param("client_id")?;
    let resource = match request.endpoint {
        Endpoint::V2 => parse_scope(request.param("scope")?)?,
        Endpoint::V1 => request.param("resource")?,
    };
    let tenant = request.tenant;
    let (app, client_sp) = registered_client(request, client_id)?;
    let acr = authenticate_client(request, app)?;
    let resource_sp = tenant
        .resource_principal(resource)
        .ok_or_else(|| resource_not_found(resource, tenant))?;
    let roles = client_sp
        .granted_app_roles
        .get(&resource_sp.app_id)
        .cloned()
        .unwrap_or_default();
    let audience = resource_sp.token_audience();

    let now = now_unix();
    let mut claims = json!({
        "aud": audience,
        "iss": request.shared.issuer(&tenant.id),
        "iat": now,
        "nbf": now,
        "exp": now + ISSUED_TOKEN_LIFETIME_SECS,
        "azp": app.client_id,
        "azpacr": acr,
        "appid": app.client_id,
        "idtyp": "app",
        "oid": client_sp.id,
        "sub": client_sp.id,
        "tid": tenant.id,
        "uti": uti(),
        "ver": "2.0",
    });
    // Like Entra: no `roles` claim at all when nothing is granted.
    if !roles.is_empty() {
        claims["roles"] = json!(roles);
    }
    let token = sign_for_response(request.shared, &claims)?;
    Ok(request.success(token, now, resource, json!({})))
}

/// The app registration and its service principal in the requested tenant (700016 when the app is
/// unknown or was never consented to there).
fn registered_client<'a>(
    request: &TokenRequest<'a>,
    client_id: &str,
) -> Result<(&'a AppRegistration, &'a ServicePrincipal), EntraError> {
    let not_found = || {
        EntraError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                request.tenant.display_name
            ),
        )
    };
    let app = request.directory.app(client_id).ok_or_else(not_found)?;
    let sp = request
        .tenant
        .principal_for_app(&app.client_id)
        .ok_or_else(not_found)?;
    Ok((app, sp))
}

/// Authenticate a confidential client by secret or assertion. Returns the `azpacr`/`appidacr`
/// value: `"1"` for a secret, `"2"` for a certificate or federated assertion.
fn authenticate_client(
    request: &TokenRequest<'_>,
    app: &AppRegistration,
) -> Result<&'static str, EntraError> {
    if let Some(secret) = request.optional("client_secret") {
        if secret == app.client_secret {
            return Ok("1");
        }
        // Never echo the presented secret.
        return Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                app.client_id
            ),
        ));
    }
    let Some(client_assertion) = request.optional("client_assertion") else {
        return Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
        ));
    };
    if request.param("client_assertion_type")? != assertion::JWT_BEARER {
        // UNVERIFIED code: Entra's generic "malformed request" one.
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            9002313,
            "Invalid request. Request is malformed or invalid. The client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.".into(),
        ));
    }
    assertion::verify(request, app, client_assertion)?;
    Ok("2")
}

fn resource_not_found(resource: &str, tenant: &Tenant) -> EntraError {
    EntraError::new(
        StatusCode::BAD_REQUEST,
        "invalid_resource",
        500011,
        format!(
            "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
            tenant.display_name
        ),
    )
}

/// Sign for a token response; a signing failure is the emulator's bug, reported as Entra's 500.
fn sign_for_response(shared: &Shared, claims: &Value) -> Result<String, EntraError> {
    sign(shared, claims).map_err(|e| {
        tracing::error!(error = %e, "signing failed");
        EntraError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "temporarily_unavailable",
            50000,
            "There was an error issuing a token.".into(),
        )
    })
}

/// Client credentials take exactly one `<resource>/.default` scope; returns the resource.
fn parse_scope(scope: &str) -> Result<&str, EntraError> {
    let invalid = || {
        EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        )
    };
    let mut scopes = scope.split_whitespace();
    let (Some(only), None) = (scopes.next(), scopes.next()) else {
        return Err(invalid());
    };
    only.strip_suffix("/.default")
        .filter(|r| !r.is_empty())
        .ok_or_else(invalid)
}

/// `common`/`organizations` have no single tenant; discovery documents use Entra's `{tenantid}`
/// template for them.
fn is_multi_tenant_alias(tenant: &str) -> bool {
    ["common", "organizations"]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(tenant))
}

/// Resolve the path tenant for discovery/JWKS: `Some(tid or "{tenantid}")`, `None` when unknown.
fn discovery_tenant(shared: &Shared, tenant: &str) -> Option<(String, String)> {
    if is_multi_tenant_alias(tenant) {
        return Some(("{tenantid}".into(), tenant.to_ascii_lowercase()));
    }
    let directory = shared.directory();
    let t = directory.tenant(tenant)?;
    Some((t.id.clone(), t.id.clone()))
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`
pub(crate) async fn discovery(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((tid, path_tenant)) = discovery_tenant(&shared, &tenant) else {
        let mut r = EntraError::unknown_tenant(&tenant, "invalid_tenant")
            .into_response(&shared.base_url, &correlation_id(&headers));
        r.extensions_mut().insert(CallTenant(tenant));
        return r;
    };
    let base = &shared.base_url;
    let host = base.host_str().unwrap_or("127.0.0.1");
    let region = {
        let directory = shared.directory();
        directory
            .tenant(&tid)
            .and_then(|t| t.organization["countryLetterCode"].as_str())
            .map(|c| if c == "US" { "NA" } else { "EU" })
            .unwrap_or("WW")
    };
    let body = json!({
        "token_endpoint": format!("{base}{path_tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}{path_tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": shared.issuer(&tid),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{}oidc/userinfo", shared.graph_base()),
        "authorization_endpoint": format!("{base}{path_tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}{path_tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}{path_tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": format!("{base}{path_tenant}/kerberos"),
        "tenant_region_scope": region,
        "cloud_instance_name": host,
        "cloud_graph_host_name": host,
        "msgraph_host": host,
        "rbac_url": "https://pas.windows.net",
    });
    let mut r = Json(body).into_response();
    r.extensions_mut().insert(CallTenant(path_tenant));
    r
}

/// `GET /{tenant}/discovery/v2.0/keys` — every key the emulator ever signed with, for any tenant.
pub(crate) async fn jwks(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some((tid, path_tenant)) = discovery_tenant(&shared, &tenant) else {
        let mut r = EntraError::unknown_tenant(&tenant, "invalid_tenant")
            .into_response(&shared.base_url, &correlation_id(&headers));
        r.extensions_mut().insert(CallTenant(tenant));
        return r;
    };
    let issuer = shared.issuer(&tid);
    let keys: Vec<Value> = shared
        .keys
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .all()
        .map(|k| k.to_jwks_entry(&issuer))
        .collect();
    let mut r = Json(json!({ "keys": keys })).into_response();
    r.extensions_mut().insert(CallTenant(path_tenant));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_must_be_exactly_one_default_scope() {
        assert_eq!(
            parse_scope("https://graph.microsoft.com/.default").ok(),
            Some("https://graph.microsoft.com")
        );
        assert_eq!(parse_scope("api://sspr/.default").ok(), Some("api://sspr"));
        assert!(parse_scope("https://graph.microsoft.com/User.Read").is_err());
        assert!(parse_scope("/.default").is_err());
        assert!(parse_scope("api://sspr/.default https://graph.microsoft.com/.default").is_err());
    }
}
