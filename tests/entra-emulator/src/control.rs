//! The control API under `/_emulator/` (documented in `CONTROL.md`): read raw state, reset it,
//! count calls per route and client, inject faults, tune throttling. Every endpoint requires the
//! per-start control key (`x-emulator-control-key: KEY` or `Authorization: Bearer KEY`).
//!
//! These routes sit outside the call log and fault injection: controlling the emulator must not
//! change what a test counts, and faults must always be removable.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    CallRecord, GeneratorSpec, Shared, Tenant, User, faults::FaultRule, throttle::ThrottleConfig,
};

/// Every control path starts with this.
pub(crate) const PREFIX: &str = "/_emulator/";
/// Header carrying the control key (the alternative is `Authorization: Bearer KEY`).
pub const CONTROL_KEY_HEADER: &str = "x-emulator-control-key";
/// Users per page of `GET /_emulator/state?tenant=…` when `top` is not given, and the maximum.
const DEFAULT_USER_PAGE: usize = 100;
const MAX_USER_PAGE: usize = 10_000;
/// `POST /_emulator/seed` refuses more than this many generated users in total (memory).
const MAX_GENERATED_USERS: usize = 20_000_000;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/state", get(state))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/seed", post(seed))
        .route("/_emulator/calls", get(calls).delete(clear_calls))
        .route(
            "/_emulator/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
        .route(
            "/_emulator/throttling",
            get(get_throttling).put(put_throttling),
        )
        .route(
            "/_emulator/service-account-token",
            post(service_account_token),
        )
}

/// A random key per start: 256 bits as 64 hex characters.
pub(crate) fn new_control_key() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The control API's error shape: `{"error": {"code", "message"}}`.
fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({ "error": { "code": code, "message": message.into() } });
    (status, Json(body)).into_response()
}

/// `None` when the request carries the control key (either header, compared in constant time);
/// otherwise the 401 to send.
fn refuse(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let from_header = headers
        .get(CONTROL_KEY_HEADER)
        .and_then(|v| v.to_str().ok());
    let from_bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim());
    match from_header.or(from_bearer) {
        Some(key) if constant_time_eq(key.as_bytes(), shared.control_key.as_bytes()) => None,
        Some(_) => Some(error(
            StatusCode::UNAUTHORIZED,
            "InvalidControlKey",
            "The control key is wrong.",
        )),
        None => Some(error(
            StatusCode::UNAUTHORIZED,
            "MissingControlKey",
            format!("Send the control key in `{CONTROL_KEY_HEADER}` or as a bearer token."),
        )),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The control API's 400 for a body that does not parse.
fn invalid_body(e: serde_json::Error) -> Response {
    error(StatusCode::BAD_REQUEST, "InvalidBody", e.to_string())
}

#[derive(Debug, Deserialize)]
struct StateQuery {
    tenant: Option<String>,
    #[serde(default)]
    skip: usize,
    top: Option<usize>,
}

/// Without `tenant`: a summary of every tenant and the app registrations. With `tenant` (id or
/// domain): that tenant's raw objects and one page of its users (`skip`, `top`).
async fn state(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<StateQuery>,
) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    let directory = shared.directory();
    let Some(wanted) = query.tenant.as_deref() else {
        let tenants: Vec<Value> = directory.tenants.iter().map(tenant_summary).collect();
        let apps: Vec<Value> = directory
            .apps
            .iter()
            .map(|a| {
                json!({
                    "clientId": a.client_id,
                    "displayName": a.display_name,
                    "homeTenantId": a.home_tenant_id,
                    "clientSecret": a.client_secret,
                })
            })
            .collect();
        return Json(json!({ "tenants": tenants, "apps": apps })).into_response();
    };
    let Some(tenant) = directory.tenant(wanted) else {
        return error(
            StatusCode::NOT_FOUND,
            "TenantNotFound",
            format!("No tenant with id or domain {wanted:?}."),
        );
    };
    let top = query.top.unwrap_or(DEFAULT_USER_PAGE).min(MAX_USER_PAGE);
    Json(tenant_detail(tenant, query.skip, top)).into_response()
}

fn tenant_summary(t: &Tenant) -> Value {
    json!({
        "id": t.id,
        "domain": t.domain,
        "displayName": t.display_name,
        "premium": t.premium,
        "synced": t.synced,
        "users": t.users.len(),
        "groups": t.groups.len(),
        "servicePrincipals": t.service_principals.len(),
        "conditionalAccessPolicies": t.conditional_access_policies.len(),
        "namedLocations": t.named_locations.len(),
    })
}

fn tenant_detail(t: &Tenant, skip: usize, top: usize) -> Value {
    let users: Vec<Value> = t.users.iter().skip(skip).take(top).map(user_json).collect();
    let groups: Vec<Value> = t
        .groups
        .iter()
        .map(|g| json!({ "id": g.id, "displayName": g.display_name, "members": g.members }))
        .collect();
    let principals: Vec<Value> = t
        .service_principals
        .iter()
        .map(|sp| {
            json!({
                "id": sp.id,
                "appId": sp.app_id,
                "displayName": sp.display_name,
                "servicePrincipalNames": sp.service_principal_names,
                "grantedAppRoles": sp.granted_app_roles,
            })
        })
        .collect();
    json!({
        "id": t.id,
        "domain": t.domain,
        "displayName": t.display_name,
        "premium": t.premium,
        "synced": t.synced,
        "organization": t.organization,
        "authenticationMethodsPolicy": t.authentication_methods_policy,
        "authorizationPolicy": t.authorization_policy,
        "subscribedSkus": t.subscribed_skus,
        "conditionalAccessPolicies": t.conditional_access_policies,
        "namedLocations": t.named_locations,
        "secureScores": t.secure_scores,
        "secureScoreControlProfiles": t.secure_score_control_profiles,
        "directoryRecommendations": t.directory_recommendations,
        "passwordResetPolicies": t.password_reset_policies,
        "onPremisesPasswordResetPolicies": t.on_premises_password_reset_policies,
        "groups": groups,
        "servicePrincipals": principals,
        "users": { "total": t.users.len(), "skip": skip, "top": top, "value": users },
    })
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "displayName": u.display_name,
        "userPrincipalName": u.user_principal_name,
        "userType": u.user_type,
        "accountEnabled": u.account_enabled,
        "directoryRoles": u.directory_roles,
        "methodsRegistered": u.methods_registered,
        "preferredMethod": u.preferred_method,
    })
}

/// Back to the seeded directory (rebuilt, not copied: no second copy of a large tenant is kept)
/// and fresh throttling windows. Faults and the call log have their own DELETEs.
async fn reset(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    shared.reset();
    Json(json!({ "tenants": shared.directory().tenants.len() })).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedBody {
    tenants: usize,
    users: usize,
    seed: u64,
}

/// Replace the generated tenants (the four seeded ones stay) and reset to the new state; later
/// resets return to it.
async fn seed(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    let body: SeedBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return invalid_body(e),
    };
    if body
        .tenants
        .checked_mul(body.users)
        .is_none_or(|n| n > MAX_GENERATED_USERS)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidBody",
            format!("At most {MAX_GENERATED_USERS} generated users in total."),
        );
    }
    let spec = GeneratorSpec {
        tenants: body.tenants,
        users_per_tenant: body.users,
        seed: body.seed,
    };
    // Generating is CPU-bound and may take seconds: off the async workers.
    let worker = shared.clone();
    if tokio::task::spawn_blocking(move || worker.reseed(spec))
        .await
        .is_err()
    {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SeedFailed",
            "Generating the tenants failed.",
        );
    }
    Json(json!({ "tenants": shared.directory().tenants.len(), "generated": body.tenants }))
        .into_response()
}

/// `POST /_emulator/service-account-token`: what a cluster would write into a pod's token file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ServiceAccountTokenBody {
    #[serde(default = "default_cluster")]
    cluster: String,
    #[serde(default = "default_namespace")]
    namespace: String,
    #[serde(default = "default_service_account")]
    service_account: String,
    /// Validity from now; ignored when `expired`.
    #[serde(default = "default_token_lifetime")]
    lifetime_seconds: u32,
    /// A token that expired an hour ago (the token endpoint refuses it with AADSTS700024).
    #[serde(default)]
    expired: bool,
}

fn default_cluster() -> String {
    crate::seed::DEMO_CLUSTER.into()
}

fn default_namespace() -> String {
    crate::seed::DEMO_NAMESPACE.into()
}

fn default_service_account() -> String {
    crate::seed::DEMO_SERVICE_ACCOUNT.into()
}

fn default_token_lifetime() -> u32 {
    3600
}

/// Mint a projected service-account token (the demo cluster's by default) so a process outside
/// the test can write and rotate a workload identity token file.
async fn service_account_token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    let body: ServiceAccountTokenBody =
        match serde_json::from_slice(if body.is_empty() { b"{}" } else { &body }) {
            Ok(b) => b,
            Err(e) => return invalid_body(e),
        };
    if !crate::k8s::valid_cluster(&body.cluster) {
        return error(
            StatusCode::BAD_REQUEST,
            "InvalidBody",
            "cluster: lowercase letters, digits and '-', at most 63 characters.",
        );
    }
    let minted = if body.expired {
        crate::k8s::mint_expired(
            &shared,
            &body.cluster,
            &body.namespace,
            &body.service_account,
        )
    } else {
        crate::k8s::mint(
            &shared,
            &body.cluster,
            &body.namespace,
            &body.service_account,
            0,
            i64::from(body.lifetime_seconds),
        )
    };
    match minted {
        Ok(token) => Json(json!({
            "token": token,
            "issuer": crate::k8s::issuer(&shared.base_url, &body.cluster),
            "subject": format!("system:serviceaccount:{}:{}", body.namespace, body.service_account),
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "signing a service-account token failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SigningFailed",
                "The token could not be signed.",
            )
        }
    }
}

#[derive(Debug, Deserialize)]
struct CallsQuery {
    #[serde(default)]
    since: usize,
}

/// Counts per route and per client app over the whole log, plus the raw records from index
/// `since` on (pass the previous answer's `next` to poll only new calls).
async fn calls(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<CallsQuery>,
) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    let log = shared.calls();
    Json(calls_json(&log, query.since)).into_response()
}

fn calls_json(log: &[CallRecord], since: usize) -> Value {
    let mut per_route: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_client: BTreeMap<String, usize> = BTreeMap::new();
    for call in log {
        *per_route.entry(route_key(call)).or_default() += 1;
        let client = call.app_id.clone().unwrap_or_else(|| "unknown".into());
        *per_client.entry(client).or_default() += 1;
    }
    let records: Vec<Value> = log
        .iter()
        .enumerate()
        .skip(since)
        .map(|(index, c)| {
            json!({
                "index": index,
                "kind": format!("{:?}", c.kind),
                "method": c.method,
                "path": c.path,
                "route": c.route,
                "tenantId": c.tenant_id,
                "appId": c.app_id,
                "status": c.status,
            })
        })
        .collect();
    json!({
        "total": log.len(),
        "perRoute": per_route,
        "perClient": per_client,
        "calls": records,
        "next": log.len(),
    })
}

/// `GET v1.0/policies/authenticationMethodsPolicy`: the matched route pattern when known (so
/// `users/{id}` counts as one route), the raw path otherwise.
fn route_key(call: &CallRecord) -> String {
    let route = call.route.as_deref().unwrap_or(&call.path);
    format!("{} {}", call.method, route)
}

async fn clear_calls(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    shared.calls().clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultsBody {
    rules: Vec<FaultRule>,
    /// Restart the probability PRNG from this seed (default: the configured seed).
    seed: Option<u64>,
}

async fn get_faults(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    let faults = shared.faults();
    Json(json!({ "rules": faults.rules(), "seed": faults.seed() })).into_response()
}

async fn put_faults(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    let body: FaultsBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return invalid_body(e),
    };
    if let Some(message) = body.rules.iter().find_map(|r| r.validate().err()) {
        return error(StatusCode::BAD_REQUEST, "InvalidFaultRule", message);
    }
    let mut faults = shared.faults();
    faults.set(body.rules, body.seed);
    Json(json!({ "rules": faults.rules(), "seed": faults.seed() })).into_response()
}

async fn clear_faults(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    shared.faults().set(Vec::new(), None);
    StatusCode::NO_CONTENT.into_response()
}

async fn get_throttling(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    Json(shared.throttle().config().clone()).into_response()
}

/// Replace the limits (omitted fields take Graph's defaults). Usage so far is kept.
async fn put_throttling(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(denied) = refuse(&shared, &headers) {
        return denied;
    }
    let config: ThrottleConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return invalid_body(e),
    };
    shared.throttle().set_config(config.clone());
    Json(config).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CallKind;

    fn record(method: &str, path: &str, route: Option<&str>, app: Option<&str>) -> CallRecord {
        CallRecord {
            kind: CallKind::Graph,
            method: method.into(),
            path: path.into(),
            tenant_id: Some("t".into()),
            status: 200,
            app_id: app.map(str::to_owned),
            route: route.map(str::to_owned),
        }
    }

    #[test]
    fn calls_are_counted_per_route_pattern_and_client_and_paged_by_index() {
        let log = vec![
            record(
                "GET",
                "/v1.0/users/a",
                Some("v1.0/users/{id}"),
                Some("app1"),
            ),
            record(
                "GET",
                "/v1.0/users/b",
                Some("v1.0/users/{id}"),
                Some("app2"),
            ),
            record("POST", "/x/oauth2/v2.0/token", None, None),
        ];
        let json = calls_json(&log, 1);
        assert_eq!(json["perRoute"]["GET v1.0/users/{id}"], 2);
        assert_eq!(json["perRoute"]["POST /x/oauth2/v2.0/token"], 1);
        assert_eq!(json["perClient"]["app1"], 1);
        assert_eq!(json["perClient"]["unknown"], 1);
        assert_eq!(json["calls"].as_array().map(Vec::len), Some(2));
        assert_eq!(json["calls"][0]["index"], 1);
        assert_eq!(json["next"], 3);
    }

    #[test]
    fn keys_compare_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
