//! The refresh-token grant for delegated (user) tokens: how admin tooling gets portal back-end
//! and Graph tokens for a signed-in Global Administrator (graph-api.md §2.3).
//!
//! Refresh tokens are opaque random strings bound to (tenant, user, client) and kept in the key
//! store. Redeeming one returns a new one (rotation); like Entra, the old one stays valid until it
//! expires. Only Microsoft first-party public clients hold them here (no secret; presenting one is
//! AADSTS700025); a registered confidential app must still authenticate first.

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::{
    Endpoint, EntraError, ISSUED_TOKEN_LIFETIME_SECS, TokenRequest, authenticate_client,
    first_party, registered_client, resource_not_found, sign_for_response, uti, v1_issuer,
};
use crate::{Shared, User, calls::now_unix, keys::RefreshGrant, seed};

/// Entra's refresh-token inactivity window: 90 days.
const REFRESH_TOKEN_LIFETIME_SECS: i64 = 90 * 24 * 3600;
/// OpenID Connect scopes: allowed next to a resource's scopes in a v2 `scope`, not resource scopes.
const OIDC_SCOPES: &[&str] = &["openid", "profile", "email", "offline_access"];
/// What the admin's first-party client is pre-authorized for on Graph: the delegated scopes our
/// SSPR tooling uses (graph-api.md §0.2 delegated column).
const GRAPH_DELEGATED_SCOPES: &[&str] = &[
    "AuditLog.Read.All",
    "Directory.AccessAsUser.All",
    "DirectoryRecommendations.Read.All",
    "LicenseAssignment.Read.All",
    "OnPremDirectorySynchronization.Read.All",
    "Organization.Read.All",
    "Policy.Read.All",
    "Policy.ReadWrite.AuthenticationMethod",
    "Policy.ReadWrite.Authorization",
    "Policy.ReadWrite.ConditionalAccess",
    "Reports.Read.All",
    "SecurityEvents.Read.All",
    "User.Read",
];
/// Directory role display names (as `User::directory_roles` spells them) and template ids (`wids`).
const ROLE_TEMPLATES: &[(&str, &str)] = &[
    (
        "Global Administrator",
        first_party::GLOBAL_ADMINISTRATOR_ROLE,
    ),
    ("Global Reader", "f2ef992c-3afb-46b9-b7cf-a126ee74c451"),
    (
        "Privileged Role Administrator",
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
    ),
    (
        "Security Administrator",
        "194ae4cb-b126-40b2-bd5b-6091b380977d",
    ),
    ("Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509"),
    (
        "Authentication Policy Administrator",
        "0526716b-113d-4c15-b2c8-68e3c22b9f80",
    ),
    (
        "Authentication Administrator",
        "c4e39bd9-1100-4d1c-a9d8-1cd6e4e7c9b2",
    ),
    (
        "Privileged Authentication Administrator",
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    ),
    (
        "Conditional Access Administrator",
        "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
    ),
    ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1"),
    (
        "Helpdesk Administrator",
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    ),
    (
        "Password Administrator",
        "966707d0-3269-4727-9be2-8c3a10f19b9d",
    ),
    ("Reports Reader", "4a5d8f65-41da-4de4-8968-e035b65339cf"),
];
/// The "default user role" template id Entra adds to every member's `wids`.
const MEMBER_USER_ROLE: &str = "b79fbf4d-3ef9-4689-8143-76b194e85509";

/// A resource delegated tokens can be issued for, and how.
struct DelegatedResource {
    /// The token's `aud`.
    audience: &'static str,
    /// Everything a first-party client is pre-authorized for (what `.default` yields).
    scopes: &'static [&'static str],
    /// The resource accepts v1 tokens (the portal back end) rather than the emulator's v2 ones.
    v1: bool,
}

fn delegated_resource(resource: &str) -> Option<DelegatedResource> {
    let wanted = resource.trim_end_matches('/');
    if wanted.eq_ignore_ascii_case(first_party::PORTAL_RESOURCE) {
        return Some(DelegatedResource {
            audience: first_party::PORTAL_RESOURCE,
            scopes: &["user_impersonation"],
            v1: true,
        });
    }
    let graph = [seed::GRAPH_RESOURCE, seed::GRAPH_FIRST_PARTY_APP_ID];
    graph
        .iter()
        .any(|g| wanted.eq_ignore_ascii_case(g))
        .then_some(DelegatedResource {
            audience: seed::GRAPH_RESOURCE,
            scopes: GRAPH_DELEGATED_SCOPES,
            v1: false,
        })
}

/// What the request asks for: v1 `resource=`, or a v2 `scope=` list.
struct Requested {
    resource: String,
    /// Named resource scopes; empty for `.default` (everything pre-authorized).
    named: Vec<String>,
    /// OIDC scopes other than `offline_access`, echoed in a v2 `scope`.
    oidc: Vec<String>,
    /// Whether to return a new refresh token (v1 always does; v2 with `offline_access`).
    offline_access: bool,
}

fn requested(request: &TokenRequest<'_>) -> Result<Requested, EntraError> {
    match request.endpoint {
        Endpoint::V1 => Ok(Requested {
            resource: request.param("resource")?.to_string(),
            named: Vec::new(),
            oidc: Vec::new(),
            offline_access: true,
        }),
        Endpoint::V2 => parse_delegated_scope(request.param("scope")?),
    }
}

/// `{resource}/.default offline_access` or `{resource}/{scope} …`: one resource only.
fn parse_delegated_scope(scope: &str) -> Result<Requested, EntraError> {
    let invalid = || {
        EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            70011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        )
    };
    let mut requested = Requested {
        resource: String::new(),
        named: Vec::new(),
        oidc: Vec::new(),
        offline_access: false,
    };
    for item in scope.split_whitespace() {
        if let Some(oidc) = OIDC_SCOPES.iter().find(|s| s.eq_ignore_ascii_case(item)) {
            if *oidc == "offline_access" {
                requested.offline_access = true;
            } else {
                requested.oidc.push((*oidc).to_string());
            }
            continue;
        }
        let (resource, name) = item.rsplit_once('/').ok_or_else(invalid)?;
        if resource.is_empty() || name.is_empty() {
            return Err(invalid());
        }
        if requested.resource.is_empty() {
            requested.resource = resource.to_string();
        } else if !requested.resource.eq_ignore_ascii_case(resource) {
            return Err(invalid());
        }
        if name != ".default" {
            requested.named.push(name.to_string());
        }
    }
    if requested.resource.is_empty() {
        return Err(invalid());
    }
    Ok(requested)
}

/// `grant_type=refresh_token`.
pub(super) fn refresh(request: &TokenRequest<'_>) -> Result<Value, EntraError> {
    let client_id = request.param("client_id")?;
    authenticate_refresh_client(request, client_id)?;
    let presented = request.param("refresh_token")?;
    let wanted = requested(request)?;
    let now = now_unix();
    let grant = redeemable_grant(request, presented, client_id, now)?;
    let user = request
        .tenant
        .users
        .iter()
        .find(|u| u.id == grant.user_id)
        .ok_or_else(|| invalid_grant("The user of this grant no longer exists."))?;
    if !user.account_enabled {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            50057,
            "The user account is disabled.".into(),
        ));
    }
    let resource = consented_resource(request, &wanted.resource, client_id)?;
    let scopes = granted_scopes(&resource, &wanted, client_id)?;

    let claims = delegated_claims(request, user, client_id, &resource, &scopes.join(" "), now);
    let access_token = sign_for_response(request.shared, &claims)?;
    let mut extra =
        json!({ "scope": response_scope(request.endpoint, &resource, &scopes, &wanted) });
    if wanted.offline_access {
        // Rotation: a new token for the same session; the presented one stays valid until it
        // expires, as in Entra.
        let rotated = store_grant(
            request.shared,
            RefreshGrant {
                issued_at: now,
                expires_at: now + REFRESH_TOKEN_LIFETIME_SECS,
                ..grant
            },
        );
        extra["refresh_token"] = json!(rotated);
    }
    Ok(request.success(access_token, now, &wanted.resource, extra))
}

/// Public first-party clients must not authenticate; registered apps must.
fn authenticate_refresh_client(
    request: &TokenRequest<'_>,
    client_id: &str,
) -> Result<(), EntraError> {
    if is_public_client(client_id) {
        if request.optional("client_secret").is_some()
            || request.optional("client_assertion").is_some()
        {
            return Err(EntraError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700025,
                "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.".into(),
            ));
        }
        return Ok(());
    }
    let (app, _) = registered_client(request, client_id)?;
    authenticate_client(request, app).map(|_| ())
}

fn is_public_client(client_id: &str) -> bool {
    first_party::PUBLIC_CLIENTS
        .iter()
        .any(|c| c.eq_ignore_ascii_case(client_id))
}

/// The session behind `presented`, if this client may redeem it in this tenant now.
fn redeemable_grant(
    request: &TokenRequest<'_>,
    presented: &str,
    client_id: &str,
    now: i64,
) -> Result<RefreshGrant, EntraError> {
    let grant = request
        .shared
        .keys
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .refresh_grant(presented)
        .cloned()
        .ok_or_else(|| invalid_grant("Provided grant is invalid or malformed."))?;
    if !grant.tenant_id.eq_ignore_ascii_case(&request.tenant.id) {
        return Err(invalid_grant(
            "Provided grant is invalid or malformed. The refresh token was issued in another tenant.",
        ));
    }
    if !grant.client_id.eq_ignore_ascii_case(client_id) {
        return Err(invalid_grant(
            "Provided grant is invalid or malformed. The refresh token was issued to a different client.",
        ));
    }
    if grant.expires_at <= now {
        let issued = OffsetDateTime::from_unix_timestamp(grant.issued_at)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default();
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            700082,
            format!(
                "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for 90.00:00:00."
            ),
        ));
    }
    Ok(grant)
}

fn invalid_grant(description: &str) -> EntraError {
    EntraError::new(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        70000,
        description.to_string(),
    )
}

/// The resource, if the client is pre-authorized for it: first-party clients are for the portal
/// back end and Graph; any other resource in the tenant needs consent nobody gave (65001).
fn consented_resource(
    request: &TokenRequest<'_>,
    resource: &str,
    client_id: &str,
) -> Result<DelegatedResource, EntraError> {
    if let Some(found) = delegated_resource(resource) {
        return Ok(found);
    }
    if request.tenant.resource_principal(resource).is_some() {
        return Err(no_consent(client_id));
    }
    Err(resource_not_found(resource, request.tenant))
}

fn no_consent(client_id: &str) -> EntraError {
    EntraError::new(
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        65001,
        format!(
            "The user or administrator has not consented to use the application with ID '{client_id}'. Send an interactive authorization request for this user and resource."
        ),
    )
    .with_suberror("consent_required")
}

/// `.default` yields everything pre-authorized; named scopes must all be among them.
fn granted_scopes(
    resource: &DelegatedResource,
    wanted: &Requested,
    client_id: &str,
) -> Result<Vec<String>, EntraError> {
    if wanted.named.is_empty() {
        return Ok(resource.scopes.iter().map(|s| s.to_string()).collect());
    }
    wanted
        .named
        .iter()
        .map(|name| {
            resource
                .scopes
                .iter()
                .find(|s| s.eq_ignore_ascii_case(name))
                .map(|s| s.to_string())
                .ok_or_else(|| no_consent(client_id))
        })
        .collect()
}

/// v1 echoes the bare `scp`; v2 lists resource-qualified scopes plus requested OIDC scopes.
fn response_scope(
    endpoint: Endpoint,
    resource: &DelegatedResource,
    scopes: &[String],
    wanted: &Requested,
) -> String {
    match endpoint {
        Endpoint::V1 => scopes.join(" "),
        Endpoint::V2 => scopes
            .iter()
            .map(|s| format!("{}/{s}", resource.audience))
            .chain(wanted.oidc.iter().cloned())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A delegated access token for `user` (graph-api.md §2.3 sample, §9.4 claims).
fn delegated_claims(
    request: &TokenRequest<'_>,
    user: &User,
    client_id: &str,
    resource: &DelegatedResource,
    scp: &str,
    now: i64,
) -> Value {
    let tid = &request.tenant.id;
    let mut claims = json!({
        "aud": resource.audience,
        "iat": now,
        "nbf": now,
        "exp": now + ISSUED_TOKEN_LIFETIME_SECS,
        "amr": ["pwd", "mfa"],
        "idtyp": "user",
        "name": user.display_name,
        "oid": user.id,
        "sub": pairwise_subject(tid, &user.id, client_id),
        "scp": scp,
        "tid": tid,
        "upn": user.user_principal_name,
        "uti": uti(),
        "wids": wids(user),
    });
    if resource.v1 {
        claims["iss"] = json!(v1_issuer(request.shared, tid));
        claims["ver"] = json!("1.0");
        claims["appid"] = json!(client_id);
        claims["appidacr"] = json!("0");
        claims["unique_name"] = json!(user.user_principal_name);
    } else {
        claims["iss"] = json!(request.shared.issuer(tid));
        claims["ver"] = json!("2.0");
        claims["azp"] = json!(client_id);
        claims["azpacr"] = json!("0");
        // Also `appid`, like the emulator's app-only tokens: the Graph side reads either.
        claims["appid"] = json!(client_id);
        claims["preferred_username"] = json!(user.user_principal_name);
    }
    claims
}

/// Entra's `sub` is pairwise: stable per user and application, different across applications.
fn pairwise_subject(tenant_id: &str, user_id: &str, client_id: &str) -> String {
    use base64::Engine;
    let input = format!("{tenant_id}:{user_id}:{}", client_id.to_ascii_lowercase());
    crate::keys::sha256(input.as_bytes())
        .map(|d| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d))
        .unwrap_or_else(|_| user_id.to_string())
}

/// Role template ids of the user's directory roles, plus the default member role.
pub(crate) fn wids(user: &User) -> Vec<&'static str> {
    let mut wids: Vec<&'static str> = user
        .directory_roles
        .iter()
        .filter_map(|name| {
            ROLE_TEMPLATES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, id)| *id)
        })
        .collect();
    if user.user_type == "Member" {
        wids.push(MEMBER_USER_ROLE);
    }
    wids
}

fn store_grant(shared: &Shared, grant: RefreshGrant) -> String {
    shared
        .keys
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .issue_refresh_token(grant)
}

/// A new refresh token for `user` (object id or UPN) in `tenant` (id or domain) with
/// `client_id`; `None` when the tenant or user is unknown.
pub(crate) fn issue_refresh_token(
    shared: &Shared,
    tenant: &str,
    user: &str,
    client_id: &str,
) -> Option<String> {
    let grant = {
        let directory = shared.directory();
        let tenant = directory.tenant(tenant)?;
        let user = tenant.users.iter().find(|u| {
            u.id.eq_ignore_ascii_case(user) || u.user_principal_name.eq_ignore_ascii_case(user)
        })?;
        new_grant(&tenant.id, &user.id, client_id)
    };
    Some(store_grant(shared, grant))
}

fn new_grant(tenant_id: &str, user_id: &str, client_id: &str) -> RefreshGrant {
    let now = now_unix();
    RefreshGrant {
        tenant_id: tenant_id.to_string(),
        user_id: user_id.to_string(),
        client_id: client_id.to_string(),
        issued_at: now,
        expires_at: now + REFRESH_TOKEN_LIFETIME_SECS,
    }
}

/// The tenant's delegated Global Administrator session with Azure PowerShell: the first enabled
/// member holding Global Administrator. The same token on every call (per emulator run), unless
/// the administrator changed; `None` without such a user.
pub(crate) fn admin_refresh_token(shared: &Shared, tenant: &str) -> Option<String> {
    let (tenant_id, admin_id) = {
        let directory = shared.directory();
        let tenant = directory.tenant(tenant)?;
        let admin = tenant.users.iter().find(|u| {
            u.account_enabled
                && u.user_type == "Member"
                && u.directory_roles
                    .iter()
                    .any(|r| r == "Global Administrator")
        })?;
        (tenant.id.clone(), admin.id.clone())
    };
    let mut keys = shared.keys.write().unwrap_or_else(|e| e.into_inner());
    let existing = keys
        .admin_token(&tenant_id)
        .filter(|t| keys.refresh_grant(t).is_some_and(|g| g.user_id == admin_id))
        .cloned();
    if existing.is_some() {
        return existing;
    }
    let token = keys.issue_refresh_token(new_grant(
        &tenant_id,
        &admin_id,
        first_party::AZURE_POWERSHELL,
    ));
    keys.remember_admin_token(&tenant_id, token.clone());
    Some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delegated_scope_names_one_resource_plus_oidc_scopes() {
        let r =
            parse_delegated_scope("74658136-14ec-4630-ad9b-26e160ff0fc6/.default offline_access")
                .ok()
                .unwrap();
        assert_eq!(r.resource, first_party::PORTAL_RESOURCE);
        assert!(r.named.is_empty() && r.offline_access);
        let r = parse_delegated_scope("https://graph.microsoft.com/User.Read openid")
            .ok()
            .unwrap();
        assert_eq!(r.resource, "https://graph.microsoft.com");
        assert_eq!(r.named, vec!["User.Read"]);
        assert!(!r.offline_access);
        assert!(parse_delegated_scope("offline_access").is_err());
        assert!(
            parse_delegated_scope("https://graph.microsoft.com/.default api://sspr/.default")
                .is_err()
        );
    }
}
