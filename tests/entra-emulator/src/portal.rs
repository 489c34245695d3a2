//! The Entra portal back end (`https://main.iam.ad.ext.azure.com/api/`) behind the "Password
//! reset" blade: the undocumented API admin tooling replays (graph-api.md §2.3).
//!
//! - `GET /api/PasswordReset/PasswordResetPolicies[?getPasswordResetEnabledGroup=true|false]`
//! - `PUT /api/PasswordReset/PasswordResetPolicies[?byPassMethodCountCheck=true]`
//! - `GET|PUT /api/PasswordReset/OnPremisesPasswordResetPolicies`
//!
//! Callers need a delegated v1 token for the portal resource (`aud` `74658136-…`, issuer
//! `{base}{tid}/`, `scp` containing `user_impersonation`) of a user who holds an admin role *now*
//! in the directory (roles are read from the directory, not from `wids`, so revoking a role takes
//! effect at once). The tenant is the token's `tid`.
//!
//! Choices where the reference is silent (all UNVERIFIED):
//! - Invalid or missing token, wrong audience or issuer → 401. A valid app-only token (no `scp`)
//!   or one without `user_impersonation` → 403, like Graph's delegated-only endpoints; so is a user
//!   without a suitable role. Reading needs one of [`READ_ROLES`], writing one of [`WRITE_ROLES`].
//! - Error body `{"errorCode": "...", "message": "..."}`; `x-ms-correlation-id` is echoed.
//! - A PUT answers 200 with the object as stored.
//! - `PasswordResetPolicies` PUT replaces the whole object: the fields in [`REQUIRED_FIELDS`] must
//!   be present (400 otherwise), any other field is stored only if sent (omitting one removes it),
//!   and the `…OptionAllowed` capability flags are the tenant's, never taken from the request.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Map, Value, json};

use crate::{
    Shared, Tenant,
    calls::CallTenant,
    token::{first_party, v1_issuer},
};

/// Roles that may read the blade's settings.
pub const READ_ROLES: &[&str] = &[
    "Global Administrator",
    "Global Reader",
    "Authentication Policy Administrator",
    "Privileged Authentication Administrator",
    "Security Administrator",
    "Security Reader",
];
/// Roles that may change them.
pub const WRITE_ROLES: &[&str] = &[
    "Global Administrator",
    "Authentication Policy Administrator",
];

/// Resource servers tolerate a few minutes of clock skew.
const LEEWAY_SECS: u64 = 300;

/// JSON type of a `PasswordResetPolicies` field.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Str,
    Array,
}

/// Fields a PUT must carry: every setting the blade shows (tools GET, modify and PUT the whole
/// object, graph-api.md §2.3).
pub const REQUIRED_FIELDS: &[&str] = &[
    "objectId",
    "enablementType",
    "numberOfAuthenticationMethodsRequired",
    "emailOptionEnabled",
    "mobilePhoneOptionEnabled",
    "officePhoneOptionEnabled",
    "securityQuestionsOptionEnabled",
    "mobileAppNotificationEnabled",
    "mobileAppCodeEnabled",
    "numberOfQuestionsToRegister",
    "numberOfQuestionsToReset",
    "registrationRequiredOnSignIn",
    "registrationReconfirmIntevalInDays",
    "customizeHelpdeskLink",
    "notifyUsersOnPasswordReset",
    "notifyOnAdminPasswordReset",
];

/// Every modelled field and its type (required or not), checked when present.
const FIELD_KINDS: &[(&str, Kind)] = &[
    ("objectId", Kind::Str),
    ("enablementType", Kind::Int),
    ("numberOfAuthenticationMethodsRequired", Kind::Int),
    ("emailOptionEnabled", Kind::Bool),
    ("mobilePhoneOptionEnabled", Kind::Bool),
    ("officePhoneOptionEnabled", Kind::Bool),
    ("securityQuestionsOptionEnabled", Kind::Bool),
    ("mobileAppNotificationEnabled", Kind::Bool),
    ("mobileAppCodeEnabled", Kind::Bool),
    ("numberOfQuestionsToRegister", Kind::Int),
    ("numberOfQuestionsToReset", Kind::Int),
    ("registrationRequiredOnSignIn", Kind::Bool),
    ("registrationReconfirmIntevalInDays", Kind::Int),
    ("skipRegistrationAllowed", Kind::Bool),
    ("skipRegistrationMaxAllowedDays", Kind::Int),
    ("customizeHelpdeskLink", Kind::Bool),
    ("customHelpdeskEmailOrUrl", Kind::Str),
    ("notifyUsersOnPasswordReset", Kind::Bool),
    ("notifyOnAdminPasswordReset", Kind::Bool),
    ("passwordResetEnabledGroupIds", Kind::Array),
    ("passwordResetEnabledGroupName", Kind::Str),
    ("securityQuestions", Kind::Array),
    ("registrationConditionalAccessPolicies", Kind::Array),
];

/// Legacy SSPR methods: the `…Enabled` toggle and the tenant-owned `…Allowed` capability. Note
/// the two app toggles lack the word `Option` (graph-api.md §2.3).
const METHODS: &[(&str, &str)] = &[
    ("emailOptionEnabled", "emailOptionAllowed"),
    ("mobilePhoneOptionEnabled", "mobilePhoneOptionAllowed"),
    ("officePhoneOptionEnabled", "officePhoneOptionAllowed"),
    (
        "securityQuestionsOptionEnabled",
        "securityQuestionsOptionAllowed",
    ),
    (
        "mobileAppNotificationEnabled",
        "mobileAppNotificationOptionAllowed",
    ),
    ("mobileAppCodeEnabled", "mobileAppCodeOptionAllowed"),
];

/// An error as the emulator's portal back end sends it (shape UNVERIFIED, see module docs).
#[derive(Debug)]
struct PortalError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl PortalError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    fn unauthorized(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    fn forbidden(message: &str) -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", message)
    }
}

/// `GET /api/PasswordReset/PasswordResetPolicies`
pub(crate) async fn get_password_reset_policies(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    serve(&shared, &headers, READ_ROLES, |tenant| {
        let resolve_group = flag(&uri, "getPasswordResetEnabledGroup")?;
        let mut policies = current_policies(tenant);
        if resolve_group {
            policies["passwordResetEnabledGroupName"] =
                json!(enabled_group_name(tenant, &policies));
        }
        Ok(policies)
    })
}

/// `PUT /api/PasswordReset/PasswordResetPolicies`
pub(crate) async fn put_password_reset_policies(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&shared, &headers, WRITE_ROLES, |tenant| {
        let bypass_method_count = flag(&uri, "byPassMethodCountCheck")?;
        let replacement = replace_policies(tenant, json_object(&body)?, bypass_method_count)?;
        tenant.password_reset_policies = replacement.clone();
        Ok(replacement)
    })
}

/// `GET /api/PasswordReset/OnPremisesPasswordResetPolicies`
pub(crate) async fn get_on_premises_policies(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Response {
    serve(&shared, &headers, READ_ROLES, |tenant| {
        Ok(current_on_premises(tenant))
    })
}

/// `PUT /api/PasswordReset/OnPremisesPasswordResetPolicies`
pub(crate) async fn put_on_premises_policies(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(&shared, &headers, WRITE_ROLES, |tenant| {
        let updated = update_on_premises(current_on_premises(tenant), &json_object(&body)?)?;
        tenant.on_premises_password_reset_policies = updated.clone();
        Ok(updated)
    })
}

/// Authenticate and authorize, then run `op` on the caller's tenant (directory locked) and
/// shape the response.
fn serve(
    shared: &Shared,
    headers: &HeaderMap,
    roles: &[&str],
    op: impl FnOnce(&mut Tenant) -> Result<Value, PortalError>,
) -> Response {
    let (tenant_id, result) = match verify_token(shared, headers) {
        Err((tid, e)) => (tid, Err(e)),
        Ok(caller) => {
            let mut directory = shared.directory();
            let result = match directory.tenant_mut(&caller.tenant_id) {
                None => Err(PortalError::unauthorized("Unknown tenant.")),
                Some(tenant) => authorize(tenant, &caller.user_id, roles).and_then(|()| {
                    // Timestamp the policy change so reports follow it after the report delay.
                    crate::derived::observe(tenant, shared.report_delay);
                    let result = op(tenant);
                    crate::derived::observe(tenant, shared.report_delay);
                    result
                }),
            };
            (caller.tenant_id, result)
        }
    };
    let mut response = match result {
        Ok(body) => (StatusCode::OK, Json(body)).into_response(),
        Err(e) => error_response(shared, e),
    };
    if let Some(correlation) = headers.get("x-ms-correlation-id") {
        response
            .headers_mut()
            .insert("x-ms-correlation-id", correlation.clone());
    }
    response.extensions_mut().insert(CallTenant(tenant_id));
    response
}

fn error_response(shared: &Shared, e: PortalError) -> Response {
    let mut response = (
        e.status,
        Json(json!({ "errorCode": e.code, "message": e.message })),
    )
        .into_response();
    if e.status == StatusCode::UNAUTHORIZED {
        let challenge = format!(
            "Bearer authorization_uri=\"{}common/oauth2/authorize\", resource_id=\"{}\"",
            shared.base_url,
            first_party::PORTAL_RESOURCE
        );
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

/// The signed-in user behind a portal token.
struct PortalCaller {
    tenant_id: String,
    user_id: String,
}

/// Verify a delegated portal token. On failure also returns the tenant to log (the token's
/// unverified `tid`, `""` without one).
fn verify_token(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<PortalCaller, (String, PortalError)> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err((
            String::new(),
            PortalError::unauthorized("Access token is missing."),
        ));
    };
    // For attribution only; nothing is trusted before the signature check.
    let unverified_tid = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(token)
        .ok()
        .and_then(|c| c["tid"].as_str().map(str::to_string))
        .unwrap_or_default();
    let fail = |message: &str| Err((unverified_tid.clone(), PortalError::unauthorized(message)));
    let claims = match verified_claims(shared, token) {
        Ok(claims) => claims,
        Err(message) => return fail(message),
    };
    let tid = claims["tid"].as_str().unwrap_or_default();
    let known = shared
        .directory()
        .tenant(tid)
        .is_some_and(|t| t.id.eq_ignore_ascii_case(tid));
    if !known || claims["iss"].as_str() != Some(v1_issuer(shared, tid).as_str()) {
        return fail("Access token validation failure. Invalid issuer.");
    }
    let scopes = claims["scp"].as_str();
    let forbid = |message: &str| Err((tid.to_string(), PortalError::forbidden(message)));
    if scopes.is_none() || claims["idtyp"].as_str() == Some("app") {
        return forbid("App-only tokens are not supported; sign in as an administrator.");
    }
    if !scopes.is_some_and(|s| s.split_whitespace().any(|s| s == "user_impersonation")) {
        return forbid("The token lacks the 'user_impersonation' scope.");
    }
    Ok(PortalCaller {
        tenant_id: tid.to_string(),
        user_id: claims["oid"].as_str().unwrap_or_default().to_string(),
    })
}

/// Signature (RS256, a key the emulator published), lifetime and audience; the failure message.
fn verified_claims(shared: &Shared, token: &str) -> Result<Value, &'static str> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| "The token is malformed.")?;
    if header.alg != Algorithm::RS256 {
        return Err("Access token validation failure. Invalid signing algorithm.");
    }
    let kid = header
        .kid
        .ok_or("Access token validation failure. Signing key not found.")?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.set_audience(&[first_party::PORTAL_RESOURCE]);
    validation.set_required_spec_claims(&["exp", "aud", "iss"]);
    let keys = shared.keys.read().unwrap_or_else(|e| e.into_inner());
    let key = keys
        .find(&kid)
        .ok_or("Access token validation failure. Signing key not found.")?;
    jsonwebtoken::decode::<Value>(token, &key.decoding, &validation)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                "Access token validation failure. Invalid audience."
            }
            jsonwebtoken::errors::ErrorKind::ExpiredSignature
            | jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                "Access token has expired or is not yet valid."
            }
            _ => "Access token validation failure.",
        })
}

/// The user must exist, be enabled, and hold one of `roles` in the directory now.
fn authorize(tenant: &Tenant, user_id: &str, roles: &[&str]) -> Result<(), PortalError> {
    let user = tenant
        .users
        .iter()
        .find(|u| u.id.eq_ignore_ascii_case(user_id) && u.account_enabled)
        .ok_or_else(|| {
            PortalError::forbidden("The signed-in user was not found or is disabled.")
        })?;
    if user
        .directory_roles
        .iter()
        .any(|r| roles.iter().any(|w| w.eq_ignore_ascii_case(r)))
    {
        Ok(())
    } else {
        Err(PortalError::forbidden(
            "The signed-in user does not have the administrator role this operation requires.",
        ))
    }
}

/// A boolean query option (names and values case-insensitive, as ASP.NET binds them); absent is
/// `false`, anything but `true`/`false` is 400.
fn flag(uri: &Uri, name: &str) -> Result<bool, PortalError> {
    let query = uri.query().unwrap_or_default();
    let values: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect();
    match values
        .get(&name.to_ascii_lowercase())
        .map(|v| v.to_ascii_lowercase())
    {
        None => Ok(false),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(PortalError::bad_request(
            "InvalidQueryParameter",
            format!("The value '{v}' is not valid for {name}."),
        )),
    }
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, PortalError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(PortalError::bad_request(
            "InvalidRequestBody",
            "The request body must be a JSON object.",
        )),
    }
}

/// The stored object, or what a tenant that never touched the blade has: SSPR off.
fn current_policies(tenant: &Tenant) -> Value {
    if tenant.password_reset_policies.is_object() {
        return tenant.password_reset_policies.clone();
    }
    json!({
        "objectId": "default",
        "enablementType": 0,
        "numberOfAuthenticationMethodsRequired": 1,
        "emailOptionEnabled": true,
        "mobilePhoneOptionEnabled": true,
        "officePhoneOptionEnabled": false,
        "securityQuestionsOptionEnabled": false,
        "mobileAppNotificationEnabled": false,
        "mobileAppCodeEnabled": false,
        "numberOfQuestionsToRegister": 5,
        "numberOfQuestionsToReset": 3,
        "registrationRequiredOnSignIn": true,
        "registrationReconfirmIntevalInDays": 180,
        "skipRegistrationAllowed": true,
        "skipRegistrationMaxAllowedDays": 7,
        "customizeHelpdeskLink": false,
        "customHelpdeskEmailOrUrl": "",
        "notifyUsersOnPasswordReset": true,
        "notifyOnAdminPasswordReset": true,
        "passwordResetEnabledGroupIds": [],
        "passwordResetEnabledGroupName": "",
        "securityQuestions": [],
        "registrationConditionalAccessPolicies": [],
        "emailOptionAllowed": true,
        "mobilePhoneOptionAllowed": true,
        // Office phone is a paid-tenant option (graph-api.md §2.3, UNVERIFIED semantics).
        "officePhoneOptionAllowed": tenant.premium,
        "securityQuestionsOptionAllowed": true,
        "mobileAppNotificationOptionAllowed": true,
        "mobileAppCodeOptionAllowed": true,
    })
}

/// Display name of the group SSPR is scoped to (`""` unless `enablementType` 1 names a group).
fn enabled_group_name(tenant: &Tenant, policies: &Value) -> String {
    if policies["enablementType"] != json!(1) {
        return String::new();
    }
    policies["passwordResetEnabledGroupIds"][0]
        .as_str()
        .and_then(|id| tenant.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id)))
        .map(|g| g.display_name.clone())
        .unwrap_or_default()
}

/// Validate a PUT body and build the object to store (see module docs for the rules).
fn replace_policies(
    tenant: &Tenant,
    body: Map<String, Value>,
    bypass_method_count: bool,
) -> Result<Value, PortalError> {
    check_fields(&body)?;
    let mut replacement = Value::Object(body);
    let int = |v: &Value, name: &str| v[name].as_i64().unwrap_or_default();
    if replacement["objectId"] != "default" {
        return Err(invalid("objectId", "must be 'default'"));
    }
    if !(0..=2).contains(&int(&replacement, "enablementType")) {
        return Err(invalid(
            "enablementType",
            "must be 0 (none), 1 (selected) or 2 (all)",
        ));
    }
    let required = int(&replacement, "numberOfAuthenticationMethodsRequired");
    if !(1..=2).contains(&required) {
        return Err(invalid(
            "numberOfAuthenticationMethodsRequired",
            "must be 1 or 2",
        ));
    }
    if !(0..=730).contains(&int(&replacement, "registrationReconfirmIntevalInDays")) {
        return Err(invalid(
            "registrationReconfirmIntevalInDays",
            "must be between 0 and 730",
        ));
    }
    if int(&replacement, "numberOfQuestionsToReset")
        > int(&replacement, "numberOfQuestionsToRegister")
    {
        return Err(invalid(
            "numberOfQuestionsToReset",
            "must not exceed numberOfQuestionsToRegister",
        ));
    }
    if int(&replacement, "enablementType") == 1 {
        replacement["passwordResetEnabledGroupName"] = json!(selected_group(tenant, &replacement)?);
    }
    // Capabilities belong to the tenant: keep the current ones whatever the request says.
    let previous = current_policies(tenant);
    for (enabled, allowed) in METHODS {
        replacement[*allowed] = previous[*allowed].clone();
        if replacement[*enabled] == true && replacement[*allowed] == false {
            return Err(invalid(
                enabled,
                "this method is not available in the tenant",
            ));
        }
    }
    let enabled_methods = METHODS
        .iter()
        .filter(|(enabled, _)| replacement[*enabled] == true)
        .count();
    if !bypass_method_count && (enabled_methods as i64) < required {
        return Err(PortalError::bad_request(
            "InsufficientAuthenticationMethods",
            format!(
                "{required} authentication method(s) are required to reset a password but only {enabled_methods} are enabled."
            ),
        ));
    }
    Ok(replacement)
}

/// Required fields present; every modelled field present has its documented JSON type.
fn check_fields(body: &Map<String, Value>) -> Result<(), PortalError> {
    if let Some(missing) = REQUIRED_FIELDS.iter().find(|f| !body.contains_key(**f)) {
        return Err(PortalError::bad_request(
            "MissingRequiredField",
            format!("The field '{missing}' is required; PUT the whole object."),
        ));
    }
    for (name, kind) in FIELD_KINDS {
        let Some(value) = body.get(*name) else {
            continue;
        };
        let ok = match kind {
            Kind::Bool => value.is_boolean(),
            Kind::Int => value.is_i64(),
            Kind::Str => value.is_string(),
            Kind::Array => value.is_array(),
        };
        if !ok {
            return Err(invalid(name, "has the wrong JSON type"));
        }
    }
    Ok(())
}

/// `enablementType` 1 needs exactly one group id naming a group of the tenant; its display name.
fn selected_group(tenant: &Tenant, policies: &Value) -> Result<String, PortalError> {
    let ids = policies["passwordResetEnabledGroupIds"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let [id] = ids.as_slice() else {
        return Err(invalid(
            "passwordResetEnabledGroupIds",
            "exactly one group is required when enablementType is 1",
        ));
    };
    id.as_str()
        .and_then(|id| tenant.groups.iter().find(|g| g.id.eq_ignore_ascii_case(id)))
        .map(|g| g.display_name.clone())
        .ok_or_else(|| {
            PortalError::bad_request(
                "GroupNotFound",
                format!(
                    "The group '{}' was not found in the directory.",
                    id.as_str().unwrap_or_default()
                ),
            )
        })
}

fn invalid(field: &str, problem: &str) -> PortalError {
    PortalError::bad_request(
        "InvalidPolicyValue",
        format!("The field '{field}' {problem}."),
    )
}

/// The stored object, or what the tenant's sync state implies.
fn current_on_premises(tenant: &Tenant) -> Value {
    if tenant.on_premises_password_reset_policies.is_object() {
        return tenant.on_premises_password_reset_policies.clone();
    }
    json!({
        // Non-null only when an on-premises integration exists (graph-api.md §2.3).
        "objectId": if tenant.synced { json!(tenant.id) } else { Value::Null },
        "enablementForTenant": tenant.synced,
        "cloudProvisioningEnablementForTenant": false,
        "passwordWritebackSupported": false,
        "accountUnlockSupported": tenant.synced,
        "accountUnlockEnabled": false,
    })
}

/// Apply a PUT of `{"passwordWriteBackSupported": bool}` or `{"accountUnlockEnabled": bool}`.
///
/// Names are matched case-insensitively (ASP.NET model binding), so the tools' request spelling
/// `passwordWriteBackSupported` and the response spelling `passwordWritebackSupported` both bind.
/// The quirk O365Essentials works around (graph-api.md §2.3) is reproduced: when one body carries
/// both, only the writeback setting sticks and `accountUnlockEnabled` is silently ignored, which is
/// why tools send two PUTs. Other fields (`objectId`, `enablementForTenant`, …) are read-only.
fn update_on_premises(mut current: Value, body: &Map<String, Value>) -> Result<Value, PortalError> {
    let field = |name: &str| -> Result<Option<bool>, PortalError> {
        match body.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) {
            None => Ok(None),
            Some((_, Value::Bool(b))) => Ok(Some(*b)),
            Some((k, _)) => Err(invalid(k, "must be a boolean")),
        }
    };
    let writeback = field("passwordWritebackSupported")?;
    let unlock = field("accountUnlockEnabled")?;
    if writeback.is_none() && unlock.is_none() {
        return Err(PortalError::bad_request(
            "InvalidRequestBody",
            "Send passwordWriteBackSupported or accountUnlockEnabled.",
        ));
    }
    if current["objectId"].is_null() {
        return Err(PortalError::bad_request(
            "OnPremisesIntegrationNotFound",
            "Password writeback requires an on-premises directory integration (Microsoft Entra Connect or cloud sync).",
        ));
    }
    if let Some(writeback) = writeback {
        current["passwordWritebackSupported"] = json!(writeback);
        if !writeback {
            // Unlock works through writeback; the blade turns it off with it.
            current["accountUnlockEnabled"] = json!(false);
        }
        return Ok(current);
    }
    if let Some(unlock) = unlock {
        if unlock && current["passwordWritebackSupported"] != true {
            return Err(invalid(
                "accountUnlockEnabled",
                "requires password writeback to be enabled",
            ));
        }
        current["accountUnlockEnabled"] = json!(unlock);
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synced() -> Value {
        json!({
            "objectId": "6f1c2a3b-0000-4f60-8a1b-2c3d4e5f6a7b",
            "enablementForTenant": true,
            "cloudProvisioningEnablementForTenant": false,
            "passwordWritebackSupported": false,
            "accountUnlockSupported": true,
            "accountUnlockEnabled": false,
        })
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn combined_writeback_and_unlock_put_keeps_only_writeback() {
        let updated = update_on_premises(
            synced(),
            &body(json!({"passwordWriteBackSupported": true, "accountUnlockEnabled": true})),
        )
        .unwrap();
        assert_eq!(updated["passwordWritebackSupported"], true);
        assert_eq!(updated["accountUnlockEnabled"], false);
        let updated =
            update_on_premises(updated, &body(json!({"accountUnlockEnabled": true}))).unwrap();
        assert_eq!(updated["accountUnlockEnabled"], true);
    }

    #[test]
    fn unlock_needs_writeback_and_cloud_only_tenants_have_neither() {
        let e =
            update_on_premises(synced(), &body(json!({"accountUnlockEnabled": true}))).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let mut cloud_only = synced();
        cloud_only["objectId"] = Value::Null;
        let e = update_on_premises(
            cloud_only,
            &body(json!({"passwordWriteBackSupported": true})),
        )
        .unwrap_err();
        assert_eq!(e.code, "OnPremisesIntegrationNotFound");
        let e = update_on_premises(
            synced(),
            &body(json!({"passwordWriteBackSupported": "yes"})),
        )
        .unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
