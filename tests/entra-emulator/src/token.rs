//! The Entra side: token endpoint (client credentials), OpenID discovery and JWKS, plus minting
//! tokens directly for tests.

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
    Shared,
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

/// An error the way the Entra token endpoint sends it.
struct EntraError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

impl EntraError {
    fn new(status: StatusCode, error: &'static str, code: u32, description: String) -> Self {
        Self {
            status,
            error,
            code,
            description,
        }
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
        let body = json!({
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
    let correlation = correlation_id(&headers);
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let (logged_tenant, result) = issue(&shared, &tenant, &form);
    let mut response = match result {
        Ok(body) => (StatusCode::OK, no_store(), Json(body)).into_response(),
        Err(e) => e.into_response(&shared.base_url, &correlation),
    };
    response.extensions_mut().insert(CallTenant(logged_tenant));
    response
}

/// Run the client-credentials grant. Returns the tenant to log (resolved id, or the raw path
/// segment when unknown) and the success body or error.
fn issue(
    shared: &Shared,
    path_tenant: &str,
    form: &HashMap<String, String>,
) -> (String, Result<Value, EntraError>) {
    let directory = shared.directory();
    let Some(tenant) = directory.tenant(path_tenant) else {
        return (
            path_tenant.to_string(),
            Err(EntraError::unknown_tenant(path_tenant, "invalid_request")),
        );
    };
    let tid = tenant.id.clone();
    let result = (|| {
        let param = |name: &str| {
            form.get(name)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| EntraError::missing_parameter(name))
        };
        let grant_type = param("grant_type")?;
        if grant_type != "client_credentials" {
            return Err(EntraError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                format!("The app requested an unsupported grant type '{grant_type}'."),
            ));
        }
        let client_id = param("client_id")?;
        let resource = parse_scope(param("scope")?)?;

        let not_found = || {
            EntraError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                    tenant.display_name
                ),
            )
        };
        let app = directory.app(client_id).ok_or_else(not_found)?;
        let client_sp = tenant
            .principal_for_app(&app.client_id)
            .ok_or_else(not_found)?;

        match form.get("client_secret").filter(|s| !s.is_empty()) {
            Some(secret) if *secret == app.client_secret => {}
            Some(_) => {
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
            None if form.contains_key("client_assertion") => {
                return Err(EntraError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    700027,
                    "Client assertion failed signature validation. (The emulator accepts client secrets only.)".into(),
                ));
            }
            None => {
                return Err(EntraError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000218,
                    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".into(),
                ));
            }
        }

        let resource_sp = tenant.resource_principal(resource).ok_or_else(|| {
            EntraError::new(
                StatusCode::BAD_REQUEST,
                "invalid_resource",
                500011,
                format!(
                    "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                    tenant.display_name
                ),
            )
        })?;
        let roles = client_sp
            .granted_app_roles
            .get(&resource_sp.app_id)
            .cloned()
            .unwrap_or_default();
        let audience = resource_sp
            .service_principal_names
            .first()
            .cloned()
            .unwrap_or_else(|| resource_sp.app_id.clone());

        let now = now_unix();
        let mut claims = json!({
            "aud": audience,
            "iss": shared.issuer(&tenant.id),
            "iat": now,
            "nbf": now,
            "exp": now + ISSUED_TOKEN_LIFETIME_SECS,
            "azp": app.client_id,
            "azpacr": "1",
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
        let token = sign(shared, &claims).map_err(|e| {
            tracing::error!(error = %e, "signing failed");
            EntraError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "temporarily_unavailable",
                50000,
                "There was an error issuing a token.".into(),
            )
        })?;
        Ok(json!({
            "token_type": "Bearer",
            "expires_in": ISSUED_TOKEN_LIFETIME_SECS,
            "ext_expires_in": ISSUED_TOKEN_LIFETIME_SECS,
            "access_token": token,
        }))
    })();
    (tid, result)
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
