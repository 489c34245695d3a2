//! The Microsoft Graph side: bearer validation as Graph does it, permission checks and the few
//! v1.0 resources the service reads.

use std::sync::Arc;

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use serde_json::{Value, json};

use crate::{
    Shared,
    calls::{CallTenant, graph_inner_date, http_date},
    seed,
};

const ODATA_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
const METADATA: &str = "https://graph.microsoft.com/v1.0/$metadata";
/// Accepted `aud` values for Graph: the resource URI (with or without slash) and Graph's app id.
const GRAPH_AUDIENCES: &[&str] = &[
    seed::GRAPH_RESOURCE,
    "https://graph.microsoft.com/",
    seed::GRAPH_FIRST_PARTY_APP_ID,
];
/// Shape of Graph's diagnostic header; clients log it, nobody parses it.
const AGS_DIAGNOSTIC: &str = r#"{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"entra-emulator"}}"#;
/// Graph tolerates a few minutes of clock skew.
const LEEWAY_SECS: u64 = 300;

/// Correlation ids of one Graph request: go into headers and every error body.
struct RequestIds {
    request_id: String,
    client_request_id: String,
}

impl RequestIds {
    fn from_headers(headers: &HeaderMap) -> Self {
        let client_request_id = headers
            .get("client-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= 128)
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Self {
            request_id: uuid::Uuid::new_v4().to_string(),
            client_request_id,
        }
    }
}

/// A Graph error response (`{"error":{"code","message","innerError":{..}}}`).
struct GraphError {
    status: StatusCode,
    code: &'static str,
    message: String,
    www_authenticate: Option<String>,
}

impl GraphError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            www_authenticate: None,
        }
    }

    fn unauthenticated(shared: &Shared, message: impl Into<String>) -> Self {
        Self {
            www_authenticate: Some(format!(
                "Bearer realm=\"\", authorization_uri=\"{}common/oauth2/authorize\", client_id=\"{}\"",
                shared.base_url,
                seed::GRAPH_FIRST_PARTY_APP_ID
            )),
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                message,
            )
        }
    }

    fn into_response(self, ids: &RequestIds) -> Response {
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": graph_inner_date(),
                    "request-id": ids.request_id,
                    "client-request-id": ids.client_request_id,
                }
            }
        });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(value) = self
            .www_authenticate
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The authenticated caller of a Graph request.
struct Caller {
    tenant_id: String,
    /// App roles (`roles`) and delegated scopes (`scp`) together: either grants access.
    permissions: Vec<String>,
}

/// Every request under `/v1.0/`.
pub(crate) async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let ids = RequestIds::from_headers(&headers);
    let (logged_tenant, result) = match authenticate(&shared, &headers) {
        Ok(caller) => (
            caller.tenant_id.clone(),
            serve(&shared, &method, &uri, &caller),
        ),
        Err((tenant, e)) => (tenant, Err(e)),
    };
    let mut response = match result {
        Ok(body) => {
            let mut r = (StatusCode::OK, Json(body)).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ODATA_JSON));
            r.headers_mut()
                .insert("odata-version", HeaderValue::from_static("4.0"));
            r
        }
        Err(e) => e.into_response(&ids),
    };
    let h = response.headers_mut();
    for (name, value) in [
        ("request-id", ids.request_id.as_str()),
        ("client-request-id", ids.client_request_id.as_str()),
    ] {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
    h.insert(
        "x-ms-ags-diagnostic",
        HeaderValue::from_static(AGS_DIAGNOSTIC),
    );
    if let Ok(v) = HeaderValue::from_str(&http_date()) {
        h.insert(header::DATE, v);
    }
    response.extensions_mut().insert(CallTenant(logged_tenant));
    response
}

/// Validate the bearer token like Graph. On failure also returns the tenant to log: the token's
/// (unverified) `tid` when readable, `""` otherwise.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Caller, (String, GraphError)> {
    let fail = |tenant: &str, message: &str| {
        Err((
            tenant.to_string(),
            GraphError::unauthenticated(shared, message),
        ))
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return fail("", "Access token is empty.");
    };

    // Only for the call log and error attribution; nothing is trusted before the signature check.
    let unverified_tid = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token)
        .ok()
        .and_then(|claims| claims["tid"].as_str().map(str::to_string))
        .unwrap_or_default();
    let tid = unverified_tid.as_str();

    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return fail(tid, "Invalid JWT token. The token is malformed.");
    };
    if header.alg != Algorithm::RS256 {
        // Also what stops HS256 "key confusion" tokens signed with the public key.
        return fail(
            tid,
            "Access token validation failure. Invalid signing algorithm.",
        );
    }
    let Some(kid) = header.kid else {
        return fail(
            tid,
            "Access token validation failure. Signing key not found.",
        );
    };

    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_audience(GRAPH_AUDIENCES);
    validation.set_required_spec_claims(&["exp", "aud", "iss"]);
    let decoded = {
        let keys = shared.keys.read().unwrap_or_else(|e| e.into_inner());
        let Some(key) = keys.find(&kid) else {
            return fail(
                tid,
                "Access token validation failure. Signing key not found.",
            );
        };
        jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
    };
    let claims = match decoded {
        Ok(d) => d.claims,
        Err(e) => {
            let message = match e.kind() {
                ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => {
                    "Access token has expired or is not yet valid."
                }
                ErrorKind::InvalidAudience => "Access token validation failure. Invalid audience.",
                ErrorKind::InvalidSignature => {
                    "Access token validation failure. Invalid signature."
                }
                ErrorKind::MissingRequiredClaim(_) => {
                    "Access token validation failure. A required claim is missing."
                }
                _ => "Invalid JWT token. The token is malformed.",
            };
            return fail(tid, message);
        }
    };

    let known_tenant = {
        let directory = shared.directory();
        directory
            .tenants
            .iter()
            .any(|t| t.id.eq_ignore_ascii_case(tid))
    };
    if !known_tenant {
        return fail(tid, "Access token validation failure. Invalid tenant.");
    }
    if claims["iss"].as_str() != Some(shared.issuer(tid).as_str()) {
        return fail(tid, "Access token validation failure. Invalid issuer.");
    }

    let mut permissions: Vec<String> = claims["roles"]
        .as_array()
        .map(|roles| {
            roles
                .iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if let Some(scp) = claims["scp"].as_str() {
        permissions.extend(scp.split_whitespace().map(str::to_string));
    }
    Ok(Caller {
        tenant_id: tid.to_string(),
        permissions,
    })
}

/// A Graph resource the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    AuthenticationMethodsPolicy,
    AuthorizationPolicy,
    Organization,
}

impl Resource {
    /// Permissions (application or delegated) any one of which allows reading the resource.
    fn read_permissions(self) -> &'static [&'static str] {
        match self {
            Resource::AuthenticationMethodsPolicy => &[
                "Policy.Read.AuthenticationMethod",
                "Policy.ReadWrite.AuthenticationMethod",
                "Policy.Read.All",
            ],
            Resource::AuthorizationPolicy => &["Policy.Read.All", "Policy.ReadWrite.Authorization"],
            Resource::Organization => &[
                "Organization.Read.All",
                "Organization.ReadWrite.All",
                "Directory.Read.All",
                "Directory.ReadWrite.All",
            ],
        }
    }
}

/// Map a path below `/v1.0/` to a resource. Segments match case-insensitively like Graph; the
/// error names the first segment that did not resolve, as Graph's "Resource not found for the
/// segment" message does.
fn route(path: &str) -> Result<Resource, String> {
    let rest = path
        .strip_prefix("/v1.0/")
        .or_else(|| path.strip_prefix("/V1.0/"))
        .unwrap_or("");
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    match lower.as_slice() {
        ["organization"] => Ok(Resource::Organization),
        ["policies", "authenticationmethodspolicy"] => Ok(Resource::AuthenticationMethodsPolicy),
        ["policies", "authorizationpolicy"] => Ok(Resource::AuthorizationPolicy),
        ["policies", ..] => Err(segments.get(1).copied().unwrap_or("policies").to_string()),
        ["organization", ..] => Err(segments.get(1).copied().unwrap_or_default().to_string()),
        _ => Err(segments.first().copied().unwrap_or_default().to_string()),
    }
}

fn serve(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    caller: &Caller,
) -> Result<Value, GraphError> {
    let resource = route(uri.path()).map_err(|segment| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("Resource not found for the segment '{segment}'."),
        )
    })?;
    if method != Method::GET {
        return Err(GraphError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        ));
    }
    let allowed = resource
        .read_permissions()
        .iter()
        .any(|p| caller.permissions.iter().any(|c| c.eq_ignore_ascii_case(p)));
    if !allowed {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ));
    }

    let directory = shared.directory();
    let tenant = directory.tenant(&caller.tenant_id).ok_or_else(|| {
        // Authenticated against a tenant that has since vanished; cannot happen with the
        // public API (tenants are never removed) but must not panic.
        GraphError::unauthenticated(shared, "Access token validation failure. Invalid tenant.")
    })?;
    Ok(match resource {
        Resource::Organization => json!({
            "@odata.context": format!("{METADATA}#organization"),
            "value": [tenant.organization],
        }),
        Resource::AuthenticationMethodsPolicy => with_context(
            &tenant.authentication_methods_policy,
            format!("{METADATA}#authenticationMethodsPolicy"),
        ),
        Resource::AuthorizationPolicy => with_context(
            &tenant.authorization_policy,
            format!("{METADATA}#policies/authorizationPolicy/$entity"),
        ),
    })
}

fn with_context(entity: &Value, context: String) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("@odata.context".into(), Value::String(context));
    if let Some(fields) = entity.as_object() {
        for (k, v) in fields {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_case_insensitive_and_name_the_bad_segment() {
        assert_eq!(
            route("/v1.0/policies/authenticationMethodsPolicy"),
            Ok(Resource::AuthenticationMethodsPolicy)
        );
        assert_eq!(
            route("/v1.0/Policies/AuthorizationPolicy/"),
            Ok(Resource::AuthorizationPolicy)
        );
        assert_eq!(route("/v1.0/organization"), Ok(Resource::Organization));
        assert_eq!(route("/v1.0/policies/nope"), Err("nope".to_string()));
        assert_eq!(route("/v1.0/widgets"), Err("widgets".to_string()));
    }
}
