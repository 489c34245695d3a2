//! Bearer validation as Microsoft's resource servers do it: signature by a current key, RS256
//! only, lifetime with a few minutes of skew, audience, a known tenant and its issuer.

use axum::http::{HeaderMap, header};
use jsonwebtoken::{Algorithm, Validation, errors::ErrorKind};
use serde_json::Value;

use super::GraphError;
use crate::{Directory, Shared, Tenant, seed};

/// Accepted `aud` values for Graph: the resource URI (with or without slash) and Graph's app id.
pub(crate) const GRAPH_AUDIENCES: &[&str] = &[
    seed::GRAPH_RESOURCE,
    "https://graph.microsoft.com/",
    seed::GRAPH_FIRST_PARTY_APP_ID,
];
/// Microsoft's resource servers tolerate a few minutes of clock skew.
const LEEWAY_SECS: u64 = 300;

/// The authenticated caller of a Graph (or portal) request.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub tenant_id: String,
    /// App roles (`roles`) and delegated scopes (`scp`) together: either grants access.
    pub permissions: Vec<String>,
    /// A client-credentials token (no user): `idtyp` is `app`, or there is no `scp`.
    pub app_only: bool,
    /// The client id (`appid`/`azp`).
    pub app_id: String,
}

impl Caller {
    pub(crate) fn has_any(&self, wanted: &[&str]) -> bool {
        wanted
            .iter()
            .any(|p| self.permissions.iter().any(|c| c.eq_ignore_ascii_case(p)))
    }

    /// The caller's tenant. Tenants are never removed, but a vanished one must not panic.
    pub(crate) fn tenant<'d>(&self, directory: &'d Directory) -> Result<&'d Tenant, GraphError> {
        directory
            .tenant(&self.tenant_id)
            .ok_or_else(|| GraphError::not_found("Request_ResourceNotFound", "Tenant not found."))
    }

    pub(crate) fn tenant_mut<'d>(
        &self,
        directory: &'d mut Directory,
    ) -> Result<&'d mut Tenant, GraphError> {
        directory
            .tenant_mut(&self.tenant_id)
            .ok_or_else(|| GraphError::not_found("Request_ResourceNotFound", "Tenant not found."))
    }
}

/// Validates the bearer token for a resource that accepts `audiences`. On failure also returns
/// the tenant to log: the token's (unverified) `tid` when readable, `""` otherwise.
#[allow(clippy::result_large_err)] // Built once per rejected request; boxing buys nothing here.
pub(crate) fn authenticate_bearer(
    shared: &Shared,
    headers: &HeaderMap,
    audiences: &[&str],
) -> Result<Caller, (String, GraphError)> {
    let fail =
        |tenant: &str, message: &str| Err((tenant.to_string(), unauthenticated(shared, message)));
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
    validation.set_audience(audiences);
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

    let known_tenant = shared
        .directory()
        .tenant(tid)
        .is_some_and(|t| t.id.eq_ignore_ascii_case(tid));
    if !known_tenant {
        return fail(tid, "Access token validation failure. Invalid tenant.");
    }
    if claims["iss"].as_str() != Some(shared.issuer(tid).as_str()) {
        return fail(tid, "Access token validation failure. Invalid issuer.");
    }

    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut permissions = strings(&claims["roles"]);
    let scp = claims["scp"].as_str();
    if let Some(scp) = scp {
        permissions.extend(scp.split_whitespace().map(str::to_string));
    }
    let app_only = claims["idtyp"].as_str() == Some("app") || scp.is_none();
    Ok(Caller {
        tenant_id: tid.to_string(),
        permissions,
        app_only,
        app_id: claims["azp"]
            .as_str()
            .or(claims["appid"].as_str())
            .unwrap_or_default()
            .to_owned(),
    })
}

fn unauthenticated(shared: &Shared, message: &str) -> GraphError {
    GraphError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        message,
    )
    .www_authenticate(format!(
        "Bearer realm=\"\", authorization_uri=\"{}common/oauth2/authorize\", client_id=\"{}\"",
        shared.base_url,
        seed::GRAPH_FIRST_PARTY_APP_ID
    ))
}
