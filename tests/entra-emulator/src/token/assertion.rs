//! Client assertions (graph-api.md §9.2, §9.3): a JWT in `client_assertion` instead of a secret.
//!
//! Entra tells the two kinds apart by the issuer: `iss` = the client id is a certificate
//! assertion signed with the private key of a certificate uploaded to the app registration;
//! any other issuer is a federated assertion that must match one of the app's federated identity
//! credentials. The emulator cannot fetch an external issuer's JWKS, so it trusts federated
//! tokens signed with its own keys (see `Emulator::mint_federated_token`), for whichever issuer
//! URL a test names, as long as a credential on the app names that issuer.

use axum::http::StatusCode;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation, errors::ErrorKind};
use serde_json::Value;

use super::{EntraError, TokenRequest, sign};
use crate::{AppRegistration, Shared, calls::now_unix, state::AppCertificate};

pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Entra tolerates a few minutes of clock skew on assertions.
const LEEWAY_SECS: u64 = 300;
/// Lifetime of minted federated tokens: the projected service-account token default (§9.3).
const FEDERATED_TOKEN_LIFETIME_SECS: i64 = 3600;

/// Check `assertion` authenticates `app`.
pub(super) fn verify(
    request: &TokenRequest<'_>,
    app: &AppRegistration,
    assertion: &str,
) -> Result<(), EntraError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed("malformed"))?;
    // Only to route between the two kinds; every claim is verified below.
    let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(assertion)
        .map_err(|_| malformed("malformed"))?;
    let issuer = claims["iss"].as_str().unwrap_or_default();
    if issuer.eq_ignore_ascii_case(&app.client_id) {
        certificate_assertion(request, app, &header, &claims, assertion)
    } else {
        federated_assertion(request, app, &header, &claims, assertion)
    }
}

/// §9.2: header `x5t` (or `x5t#S256`) names a registered certificate whose key signed the JWT;
/// `aud` is this tenant's token endpoint, `iss` = `sub` = client id, `jti`, `nbf`, `exp`.
fn certificate_assertion(
    request: &TokenRequest<'_>,
    app: &AppRegistration,
    header: &Header,
    claims: &Value,
    assertion: &str,
) -> Result<(), EntraError> {
    if !claims["sub"]
        .as_str()
        .is_some_and(|s| s.eq_ignore_ascii_case(&app.client_id))
    {
        return Err(EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            50048,
            "Subject mismatches Issuer claim in the client assertion.".into(),
        ));
    }
    if !matches!(header.alg, Algorithm::RS256 | Algorithm::PS256) {
        return Err(signature_invalid(
            app,
            "The signing algorithm is not supported.",
        ));
    }
    let certificate = registered_certificate(app, header)?;
    let mut validation = Validation::new(header.alg);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    validation.set_audience(&accepted_audiences(request));
    let key = DecodingKey::from_rsa_der(&certificate.rsa_public_key_der);
    let verified = jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .map_err(|e| assertion_error(app, &e, claims))?;
    if verified.claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err(malformed("The 'jti' claim is missing"));
    }
    Ok(())
}

/// The tenant's token endpoints, by id and by any verified domain, v2 and v1: what Entra
/// accepts as `aud` (a client addresses the tenant one way and builds the assertion for it).
fn accepted_audiences(request: &TokenRequest<'_>) -> Vec<String> {
    let base = &request.shared.base_url;
    let tenant = request.tenant;
    let verified = tenant.organization["verifiedDomains"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["name"].as_str());
    [tenant.id.as_str(), tenant.domain.as_str()]
        .into_iter()
        .chain(verified)
        .flat_map(|t| {
            [
                format!("{base}{t}/oauth2/v2.0/token"),
                format!("{base}{t}/oauth2/token"),
            ]
        })
        .collect()
}

/// The certificate the header's thumbprint names (700027 "key not found" otherwise).
fn registered_certificate<'a>(
    app: &'a AppRegistration,
    header: &Header,
) -> Result<&'a AppCertificate, EntraError> {
    let found = app.certificates.iter().find(|c| {
        header.x5t.as_deref() == Some(c.x5t.as_str())
            || header.x5t_s256.as_deref() == Some(c.x5t_s256.as_str())
    });
    found.ok_or_else(|| {
        let presented = header
            .x5t
            .as_deref()
            .or(header.x5t_s256.as_deref())
            .unwrap_or("");
        signature_invalid(
            app,
            &format!("The key was not found., Thumbprint of key used by client: '{presented}'"),
        )
    })
}

/// §9.3: a token from an external issuer matching a federated identity credential exactly
/// (issuer, subject, one audience). Entra-issued tokens are refused (700222) except a managed
/// identity's (msp-readiness.md §1b).
fn federated_assertion(
    request: &TokenRequest<'_>,
    app: &AppRegistration,
    header: &Header,
    claims: &Value,
    assertion: &str,
) -> Result<(), EntraError> {
    let shared = request.shared;
    let issuer = claims["iss"].as_str().unwrap_or_default();
    if is_entra_issuer(shared, issuer) && !is_home_managed_identity(request, app, claims) {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            700222,
            "AAD-issued tokens may not be used for federated identity flows.".into(),
        ));
    }
    let subject = claims["sub"].as_str().unwrap_or_default();
    let audiences = audiences(&claims["aud"]);
    let credential = app.federated_credentials.iter().find(|f| {
        f.issuer == issuer
            && f.subject == subject
            && audiences.iter().any(|a| f.audiences.contains(a))
    });
    let Some(credential) = credential else {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
                audiences.join(",")
            ),
        ));
    };
    // Only RS256-signed issuer tokens are supported (§9.3).
    if header.alg != Algorithm::RS256 {
        return Err(signature_invalid(
            app,
            "The signing algorithm is not supported.",
        ));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    validation.set_audience(&credential.audiences);
    let verified = {
        let keys = shared.keys.read().unwrap_or_else(|e| e.into_inner());
        let key = header.kid.as_deref().and_then(|kid| keys.find(kid));
        let Some(key) = key else {
            return Err(signature_invalid(
                app,
                "The key was not found in the issuer's signing keys.",
            ));
        };
        jsonwebtoken::decode::<Value>(assertion, &key.decoding, &validation)
    };
    verified.map_err(|e| assertion_error(app, &e, claims))?;
    Ok(())
}

/// Managed identity as a federated credential (msp-readiness.md §1b): a token the app's home
/// tenant issued (v2 issuer) to one of that tenant's user-assigned managed identities. Only such
/// a token may stand in for the app's secret, and only where a credential names that issuer and
/// the identity's principal id, which the normal matching checks next.
fn is_home_managed_identity(
    request: &TokenRequest<'_>,
    app: &AppRegistration,
    claims: &Value,
) -> bool {
    if claims["iss"].as_str() != Some(request.shared.issuer(&app.home_tenant_id).as_str()) {
        return false;
    }
    let subject = claims["sub"].as_str().unwrap_or_default();
    request
        .directory
        .tenant(&app.home_tenant_id)
        .is_some_and(|home| {
            home.managed_identities
                .iter()
                .any(|mi| mi.principal_id.eq_ignore_ascii_case(subject))
        })
}

/// The emulator's own issuers (`{base}{tid}/v2.0`, `{base}{tid}/`) and Entra's real ones.
fn is_entra_issuer(shared: &Shared, issuer: &str) -> bool {
    if [
        "https://login.microsoftonline.com/",
        "https://sts.windows.net/",
    ]
    .iter()
    .any(|p| issuer.starts_with(p))
    {
        return true;
    }
    issuer
        .strip_prefix(shared.base_url.as_str())
        .map(|rest| rest.trim_end_matches("/v2.0").trim_end_matches('/'))
        .is_some_and(|tenant| uuid::Uuid::parse_str(tenant).is_ok())
}

fn audiences(aud: &Value) -> Vec<String> {
    match aud {
        Value::String(a) => vec![a.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// Map a JWT validation failure to Entra's code for it.
fn assertion_error(
    app: &AppRegistration,
    e: &jsonwebtoken::errors::Error,
    claims: &Value,
) -> EntraError {
    match e.kind() {
        ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
                now_unix(),
                claims["nbf"],
                claims["exp"]
            ),
        ),
        ErrorKind::InvalidAudience => EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            700023,
            "Client assertion audience claim does not match Realm issuer. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .".into(),
        ),
        ErrorKind::InvalidSignature => signature_invalid(
            app,
            "The provided signature value did not match the expected signature value.",
        ),
        ErrorKind::MissingRequiredClaim(claim) => {
            malformed(&format!("The '{claim}' claim is missing"))
        }
        _ => malformed("malformed"),
    }
}

fn signature_invalid(app: &AppRegistration, reason: &str) -> EntraError {
    EntraError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700027,
        format!(
            "Client assertion failed signature validation. [Reason - {reason}, Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{}'.]",
            app.client_id
        ),
    )
}

fn malformed(detail: &str) -> EntraError {
    EntraError::new(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        50027,
        format!("JWT token is invalid or malformed ({detail})."),
    )
}

/// A token as an external OIDC issuer (e.g. a Kubernetes cluster) would issue it for workload
/// identity: audience `api://AzureADTokenExchange`, one hour, signed by the emulator's current
/// key. Service-account subjects get Kubernetes' `kubernetes.io` claim too.
pub(crate) fn mint_federated_token(
    shared: &Shared,
    issuer: &str,
    subject: &str,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = crate::k8s::projected_token_claims(
        issuer,
        subject,
        now_unix(),
        FEDERATED_TOKEN_LIFETIME_SECS,
    );
    sign(shared, &claims)
}
