//! Microsoft Graph adapter: app-only tokens through azure_identity, one shared HTTP client,
//! Graph's wire JSON translated into domain types. Nothing above this module sees Graph JSON.

use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::DirectoryError;
use super::budget::{self, Bucket, Budget};
use super::retry::{Decision, RetryPolicy, Trouble};
use super::tenants::ManagedTenant;
use crate::config::GraphLimits;
use crate::domain::methods::{
    MethodConfiguration, MethodsPolicy, MigrationState, RegistrationCampaign,
};
use crate::domain::policy::GraphFacts;
use crate::telemetry::record::GraphCall;

/// The resource every Graph token is requested for, whatever host Graph is reached at.
const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The one way to Microsoft Graph: every request waits for its throttling budget, and transient
/// failures are retried (see [`super::budget`] and [`super::retry`]). Cheap to clone; clones
/// share the budget.
#[derive(Clone)]
pub struct Graph {
    http: reqwest::Client,
    base_url: Url,
    budget: Arc<Budget>,
    limits: Arc<GraphLimits>,
    retry: RetryPolicy,
}

/// A Graph response body with the `request-id` Graph gave it.
struct Answer<T> {
    body: T,
    request_id: Option<String>,
}

impl Graph {
    /// Graph at `base_url` with Graph's published limits (see [`Graph::with_limits`]).
    pub fn new(http: reqwest::Client, base_url: Url) -> Self {
        Graph {
            http,
            base_url,
            budget: Arc::new(Budget::new(GraphLimits::default())),
            limits: Arc::new(GraphLimits::default()),
            retry: RetryPolicy::new(&GraphLimits::default()),
        }
    }

    /// The same Graph keeping to `limits` (a fresh budget).
    pub fn with_limits(self, limits: &GraphLimits) -> Self {
        Graph {
            budget: Arc::new(Budget::new(limits.clone())),
            limits: Arc::new(limits.clone()),
            retry: RetryPolicy::new(limits),
            ..self
        }
    }

    /// The same Graph keeping to `limits` in windows shared through `windows` with every
    /// replica that uses the same store.
    pub fn with_shared_limits(
        self,
        limits: &GraphLimits,
        windows: Arc<dyn crate::capabilities::coordination::SharedWindows>,
    ) -> Self {
        Graph {
            budget: Arc::new(Budget::shared(limits.clone(), windows)),
            ..self.with_limits(limits)
        }
    }

    /// Reads everything the policy document needs from Graph, concurrently.
    /// Returns the facts and the `request-id`s of the Graph calls made.
    pub async fn policy_facts(
        &self,
        tenant: &ManagedTenant,
    ) -> Result<(GraphFacts, Vec<String>), DirectoryError> {
        let (methods, authorization, organization) = tokio::try_join!(
            self.get::<wire::AuthenticationMethodsPolicy>(
                tenant,
                "policies/authenticationMethodsPolicy"
            ),
            self.get::<wire::AuthorizationPolicy>(tenant, "policies/authorizationPolicy"),
            self.get::<wire::Collection<wire::Organization>>(tenant, "organization"),
        )?;
        let request_ids = [
            &methods.request_id,
            &authorization.request_id,
            &organization.request_id,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        let org =
            organization
                .body
                .value
                .into_iter()
                .next()
                .ok_or_else(|| DirectoryError::Upstream {
                    status: 200,
                    code: "emptyCollection".into(),
                    message: "GET /organization returned no organization".into(),
                    request_id: organization.request_id.clone(),
                })?;
        let facts = GraphFacts {
            methods_policy: methods.body.into_domain(),
            admin_sspr_allowed: authorization.body.allowed_to_use_sspr,
            entra_premium: org.has_entra_premium(),
            on_premises_sync_enabled: org.on_premises_sync_enabled,
            last_sync_date_time: org.on_premises_last_sync_date_time,
        };
        Ok((facts, request_ids))
    }

    /// The path a request for `path` (below the base URL) goes to, with Graph's version
    /// segment: what a plan shows as the exact call.
    pub fn path_of(&self, path: &str) -> String {
        self.url(path)
            .map(|url| url.path().to_owned())
            .unwrap_or_else(|_| path.to_owned())
    }

    /// `path` (or an absolute link) resolved against the Graph base URL.
    fn url(&self, path: &str) -> Result<Url, DirectoryError> {
        self.base_url
            .join(path)
            .map_err(|e| DirectoryError::Internal(e.to_string()))
    }

    async fn get<T: DeserializeOwned>(
        &self,
        tenant: &ManagedTenant,
        path: &str,
    ) -> Result<Answer<T>, DirectoryError> {
        let url = self.url(path)?;
        let (bytes, request_id) = self.send(tenant, reqwest::Method::GET, &url, None).await?;
        let body = decode(&bytes, &url, &request_id)?;
        Ok(Answer { body, request_id })
    }

    /// One entity at `path` (below the Graph base URL) and Graph's `request-id`.
    pub async fn get_entity<T: DeserializeOwned>(
        &self,
        tenant: &ManagedTenant,
        path: &str,
    ) -> Result<(T, Option<String>), DirectoryError> {
        let answer = self.get::<T>(tenant, path).await?;
        Ok((answer.body, answer.request_id))
    }

    /// Every Graph request goes through here: it waits for its place in the tenant's and the
    /// app's throttling budget, goes out with the tenant's app-only token and a
    /// `client-request-id`, and is retried as [`RetryPolicy`] decides (a 429 never reaches the
    /// caller: it becomes [`DirectoryError::Throttled`] when retries run out). Graph's
    /// `request-id` is logged and returned, its error envelope turned into a `DirectoryError`.
    /// Bodies and tokens are never logged.
    async fn send(
        &self,
        tenant: &ManagedTenant,
        method: reqwest::Method,
        url: &Url,
        body: Option<&serde_json::Value>,
    ) -> Result<(axum::body::Bytes, Option<String>), DirectoryError> {
        let bucket = Bucket::of(self.below_version(url));
        let request = budget::Request {
            tenant_id: &tenant.id,
            app_id: &tenant.app_id,
            bucket,
            write: !matches!(method, reqwest::Method::GET | reqwest::Method::HEAD),
        };
        let log_wait = |wait: Duration, why: &'static str, attempt: u32| {
            crate::telemetry::record::graph_wait(bucket.name(), why, wait);
            tracing::info!(tenant = %tenant.id, bucket = bucket.name(), %method, path = url.path(), why, attempt, wait_ms = wait.as_millis() as u64, "graph request waits");
        };
        let mut attempt = 1;
        loop {
            // The token first (usually cached; a fresh one takes a round trip): the request then
            // leaves right at its reserved time, and Graph counts it when it arrives.
            let mut token = bearer(tenant.credential(), &tenant.id).await?;
            // If this future is dropped while it waits (the caller went away, a timeout), the
            // reservation gives its place back; it is spent only as the request goes out.
            let reservation = self.budget.reserve(&request).await.map_err(|refusal| match refusal {
                budget::Refusal::QueueFull(full) => {
                    crate::telemetry::record::graph_queue_full();
                    tracing::warn!(tenant = %tenant.id, bucket = bucket.name(), %method, path = url.path(), retry_after_ms = full.retry_after.as_millis() as u64, "tenant's graph queue is full; refusing");
                    DirectoryError::Busy {
                        tenant_id: tenant.id.clone(),
                        retry_after: full.retry_after,
                    }
                }
                budget::Refusal::Unavailable(detail) => DirectoryError::Unreachable {
                    what: "the store that keeps the Graph budget shared by the replicas".into(),
                    detail,
                },
            })?;
            let queued = reservation.at().saturating_duration_since(Instant::now());
            if !queued.is_zero() {
                log_wait(queued, "throttling budget", attempt);
                let waiting = crate::telemetry::record::graph_queued(bucket.name());
                tokio::time::sleep_until(reservation.at().into()).await;
                drop(waiting);
                // A long queue may outlast the token; otherwise this is the credential's cache.
                token = bearer(tenant.credential(), &tenant.id).await?;
            }
            reservation.spend();
            let failure = match self.attempt(tenant, &token, &method, url, body).await {
                Ok(answer) => return Ok(answer),
                Err(failure) => failure,
            };
            let trouble = failure.trouble();
            let window = bucket.window(&self.limits);
            match self
                .retry
                .decide(&method, trouble, attempt, window, fastrand::f64())
            {
                Decision::Retry { wait, why } => {
                    if matches!(trouble, Trouble::Throttled { .. }) {
                        // Graph counts every request, so the tenant's queue waits too.
                        self.budget.hold(&request, Instant::now() + wait).await;
                    }
                    log_wait(wait, why, attempt);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Decision::Throttled { retry_after } => {
                    self.budget
                        .hold(&request, Instant::now() + retry_after)
                        .await;
                    tracing::warn!(tenant = %tenant.id, bucket = bucket.name(), %method, path = url.path(), attempt, retry_after_ms = retry_after.as_millis() as u64, "graph keeps throttling; giving up");
                    return Err(DirectoryError::Throttled {
                        tenant_id: tenant.id.clone(),
                        bucket: bucket.name(),
                        retry_after,
                        request_id: failure.request_id(),
                    });
                }
                Decision::GiveUp => return Err(failure.into_error(&method, url)),
            }
        }
    }

    /// One try of a request: the answer on a 2xx, else what went wrong.
    async fn attempt(
        &self,
        tenant: &ManagedTenant,
        token: &str,
        method: &reqwest::Method,
        url: &Url,
        body: Option<&serde_json::Value>,
    ) -> Result<(axum::body::Bytes, Option<String>), Failure> {
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(token)
            .header("client-request-id", &client_request_id);
        if let Some(body) = body {
            request = request.json(body);
        }
        let call = GraphCall::start(Bucket::of(self.below_version(url)).name(), method);
        let sent = request.send().await;
        call.sent(sent.as_ref().map(reqwest::Response::status));
        let response = sent.map_err(Failure::Transport)?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("request-id");
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        tracing::info!(tenant = %tenant.id, %method, path = url.path(), status = status.as_u16(), graph_request_id = request_id.as_deref().unwrap_or("-"), %client_request_id, "graph call");
        let bytes = response.bytes().await.map_err(Failure::Transport)?;
        if status.is_success() {
            return Ok((bytes, request_id));
        }
        Err(Failure::Answered {
            status,
            retry_after,
            request_id,
            bytes,
        })
    }

    /// The path below the version segment (`reports/...`), which decides the throttling bucket.
    fn below_version<'u>(&self, url: &'u Url) -> &'u str {
        let path = url.path();
        path.strip_prefix(self.base_url.path()).unwrap_or_else(|| {
            // A nextLink to another version of the same Graph: drop its version segment.
            path.trim_start_matches('/')
                .split_once('/')
                .map_or("", |(_, rest)| rest)
        })
    }
}

/// Why one try of a request failed.
enum Failure {
    /// Graph answered with an error status.
    Answered {
        status: reqwest::StatusCode,
        retry_after: Option<Duration>,
        request_id: Option<String>,
        bytes: axum::body::Bytes,
    },
    /// No complete answer: no connection, a reset, a timeout or a cut body.
    Transport(reqwest::Error),
}

impl Failure {
    fn trouble(&self) -> Trouble {
        match self {
            Failure::Answered {
                status,
                retry_after,
                ..
            } => match status.as_u16() {
                429 => Trouble::Throttled {
                    retry_after: *retry_after,
                },
                503 => Trouble::Unavailable {
                    retry_after: *retry_after,
                },
                504 => Trouble::GatewayTimeout,
                _ => Trouble::Final,
            },
            // Nothing was sent when no connection could be made: retrying a dead or wrong
            // address would only make the caller wait longer for the same answer.
            Failure::Transport(error) if error.is_connect() => Trouble::Final,
            Failure::Transport(_) => Trouble::Broken,
        }
    }

    fn request_id(&self) -> Option<String> {
        match self {
            Failure::Answered { request_id, .. } => request_id.clone(),
            _ => None,
        }
    }

    fn into_error(self, method: &reqwest::Method, url: &Url) -> DirectoryError {
        match self {
            Failure::Answered {
                status,
                request_id,
                bytes,
                ..
            } => {
                let envelope: Option<wire::ErrorEnvelope> = serde_json::from_slice(&bytes).ok();
                let (code, message) = envelope
                    .map(|e| (e.error.code, e.error.message))
                    .unwrap_or_else(|| {
                        (
                            "unknown".into(),
                            String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                        )
                    });
                DirectoryError::Upstream {
                    status: status.as_u16(),
                    code,
                    message: format!("{method} {}: {message}", url.path()),
                    request_id,
                }
            }
            Failure::Transport(error) => DirectoryError::Unreachable {
                what: format!("Microsoft Graph at {}", origin(url)),
                detail: transport_detail(&error),
            },
        }
    }
}

/// A successful Graph body as `T`, or an error naming the path.
fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    url: &Url,
    request_id: &Option<String>,
) -> Result<T, DirectoryError> {
    serde_json::from_slice(bytes).map_err(|e| DirectoryError::Upstream {
        status: 200,
        code: "unreadableResponse".into(),
        message: format!("{}: {e}", url.path()),
        request_id: request_id.clone(),
    })
}

/// A Graph access token for the tenant; azure_identity caches it until shortly before expiry.
pub(crate) async fn bearer(
    credential: &dyn TokenCredential,
    tenant_id: &str,
) -> Result<String, DirectoryError> {
    match credential.get_token(&[GRAPH_SCOPE], None).await {
        Ok(token) => Ok(token.token.secret().to_owned()),
        // The credential wraps the cause; a transport failure deep inside means nobody answered.
        Err(error) if is_transport_failure(&error) => Err(DirectoryError::Unreachable {
            what: "the Entra token endpoint".into(),
            detail: innermost(&error),
        }),
        Err(error) => Err(DirectoryError::Token {
            tenant_id: tenant_id.to_owned(),
            detail: first_line(&error.to_string()),
        }),
    }
}

fn is_transport_failure(error: &azure_core::Error) -> bool {
    use azure_core::error::ErrorKind;
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = next {
        if current.is::<reqwest::Error>() {
            return true;
        }
        if let Some(inner) = current.downcast_ref::<azure_core::Error>()
            && matches!(inner.kind(), ErrorKind::Connection | ErrorKind::Io)
        {
            return true;
        }
        next = current.source();
    }
    false
}

/// Wrapped errors repeat their context; the innermost one says what really happened.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    first_line(&current.to_string())
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn transport_detail(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the request timed out".into()
    } else {
        innermost(error)
    }
}

/// Entra error descriptions carry trace ids and timestamps on later lines.
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().trim().to_owned()
}

/// Graph's JSON, exactly as it arrives. Unknown properties are ignored, never refused.
mod wire {
    use super::*;

    #[derive(Deserialize)]
    pub struct Collection<T> {
        pub value: Vec<T>,
    }

    #[derive(Deserialize)]
    pub struct ErrorEnvelope {
        pub error: ErrorBody,
    }

    #[derive(Deserialize)]
    pub struct ErrorBody {
        pub code: String,
        #[serde(default)]
        pub message: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct AuthorizationPolicy {
        #[serde(rename = "allowedToUseSSPR")]
        pub allowed_to_use_sspr: bool,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Organization {
        #[serde(default)]
        pub on_premises_sync_enabled: Option<bool>,
        #[serde(default)]
        pub on_premises_last_sync_date_time: Option<String>,
        #[serde(default)]
        pub assigned_plans: Vec<AssignedPlan>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct AssignedPlan {
        #[serde(default)]
        pub service: String,
        #[serde(default)]
        pub capability_status: String,
    }

    impl Organization {
        /// Entra ID P1 or P2 (also part of Microsoft 365 Business Premium) shows as an enabled
        /// `AADPremiumService` plan.
        pub fn has_entra_premium(&self) -> bool {
            self.assigned_plans
                .iter()
                .any(|p| p.service == "AADPremiumService" && p.capability_status == "Enabled")
        }
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct AuthenticationMethodsPolicy {
        #[serde(default)]
        pub policy_migration_state: Option<String>,
        #[serde(default)]
        pub reconfirmation_in_days: Option<i32>,
        #[serde(default)]
        pub policy_version: Option<String>,
        #[serde(default)]
        pub last_modified_date_time: Option<String>,
        #[serde(default)]
        pub registration_enforcement: Option<RegistrationEnforcement>,
        #[serde(default)]
        pub authentication_method_configurations: Vec<WireMethodConfiguration>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RegistrationEnforcement {
        pub authentication_methods_registration_campaign: Option<Campaign>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Campaign {
        pub state: String,
        #[serde(default)]
        pub snooze_duration_in_days: Option<i32>,
        #[serde(default)]
        pub include_targets: Vec<Target>,
        #[serde(default)]
        pub exclude_targets: Vec<Target>,
    }

    #[derive(Deserialize)]
    pub struct Target {
        pub id: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct WireMethodConfiguration {
        pub id: String,
        pub state: String,
        #[serde(default)]
        pub include_targets: Vec<Target>,
        #[serde(default)]
        pub exclude_targets: Vec<Target>,
        #[serde(default)]
        pub is_software_oath_enabled: Option<bool>,
        #[serde(default)]
        pub is_office_phone_allowed: Option<bool>,
    }

    fn ids(targets: Vec<Target>) -> Vec<String> {
        targets.into_iter().map(|t| t.id).collect()
    }

    impl AuthenticationMethodsPolicy {
        pub fn into_domain(self) -> MethodsPolicy {
            MethodsPolicy {
                migration_state: MigrationState::from_graph(self.policy_migration_state.as_deref()),
                reconfirmation_in_days: self.reconfirmation_in_days,
                policy_version: self.policy_version,
                last_modified: self.last_modified_date_time,
                registration_campaign: self
                    .registration_enforcement
                    .and_then(|e| e.authentication_methods_registration_campaign)
                    .map(|c| RegistrationCampaign {
                        state: c.state,
                        snooze_duration_in_days: c.snooze_duration_in_days,
                        include_targets: ids(c.include_targets),
                        exclude_targets: ids(c.exclude_targets),
                    }),
                configurations: self
                    .authentication_method_configurations
                    .into_iter()
                    .map(|c| MethodConfiguration {
                        id: c.id,
                        enabled: c.state == "enabled",
                        include_targets: ids(c.include_targets),
                        exclude_targets: ids(c.exclude_targets),
                        software_oath_enabled: c.is_software_oath_enabled.unwrap_or(false),
                        office_phone_allowed: c.is_office_phone_allowed.unwrap_or(false),
                    })
                    .collect(),
            }
        }
    }
}

/// One page of a Graph collection and where the next one is.
pub struct Page<T> {
    pub value: Vec<T>,
    pub next_link: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Deserialize)]
struct PageBody<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

impl Graph {
    /// One page of a collection: `path_or_next_link` is a path below the Graph base URL or an
    /// `@odata.nextLink` Graph gave (which must point at the same Graph).
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        tenant: &ManagedTenant,
        path_or_next_link: &str,
    ) -> Result<Page<T>, DirectoryError> {
        let url = self.url(path_or_next_link)?;
        if url.origin() != self.base_url.origin() {
            // Never send the tenant's token anywhere but Graph.
            return Err(DirectoryError::Upstream {
                status: 200,
                code: "foreignNextLink".into(),
                message: format!("Graph sent a nextLink to {}", origin(&url)),
                request_id: None,
            });
        }
        let (bytes, request_id) = self.send(tenant, reqwest::Method::GET, &url, None).await?;
        let body: PageBody<T> = decode(&bytes, &url, &request_id)?;
        Ok(Page {
            value: body.value,
            next_link: body.next_link,
            request_id,
        })
    }
}

impl Graph {
    /// Every item of a collection, following `@odata.nextLink` page after page, with the
    /// `request-id`s of the pages. For collections that are small in practice (policies, SKUs,
    /// a group's members); large ones are streamed page by page instead.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        tenant: &ManagedTenant,
        path: &str,
    ) -> Result<(Vec<T>, Vec<String>), DirectoryError> {
        let mut items = Vec::new();
        let mut request_ids = Vec::new();
        let mut next = Some(path.to_owned());
        while let Some(link) = next {
            let page: Page<T> = self.get_page(tenant, &link).await?;
            items.extend(page.value);
            request_ids.extend(page.request_id);
            next = page.next_link;
        }
        Ok((items, request_ids))
    }
}

impl Graph {
    /// `PATCH` of `path` (below the Graph base URL) with `body`, with the tenant's app-only token.
    /// Any 2xx is success (Graph answers 200 with the entity or 204). Returns Graph's
    /// `request-id`. Bodies are never logged.
    pub(crate) async fn patch(
        &self,
        tenant: &ManagedTenant,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Option<String>, DirectoryError> {
        let url = self.url(path)?;
        let (_, request_id) = self
            .send(tenant, reqwest::Method::PATCH, &url, Some(body))
            .await?;
        Ok(request_id)
    }

    /// `POST` of `body` to `path` (below the Graph base URL): creates an entity. Returns the
    /// entity Graph answers with (201) and Graph's `request-id`. A POST is never repeated after
    /// a failure that may have executed it; only a 429 (not executed) is waited out.
    pub async fn post(
        &self,
        tenant: &ManagedTenant,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(serde_json::Value, Option<String>), DirectoryError> {
        let url = self.url(path)?;
        let (bytes, request_id) = self
            .send(tenant, reqwest::Method::POST, &url, Some(body))
            .await?;
        let created = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            decode(&bytes, &url, &request_id)?
        };
        Ok((created, request_id))
    }

    /// `DELETE` of `path` (below the Graph base URL). Any 2xx (Graph answers 204) is success.
    /// Returns Graph's `request-id`.
    pub async fn delete(
        &self,
        tenant: &ManagedTenant,
        path: &str,
    ) -> Result<Option<String>, DirectoryError> {
        let url = self.url(path)?;
        let (_, request_id) = self
            .send(tenant, reqwest::Method::DELETE, &url, None)
            .await?;
        Ok(request_id)
    }
}

#[cfg(test)]
mod tests {
    use super::wire::*;

    #[test]
    fn methods_policy_json_from_the_reference_translates() {
        let json = serde_json::json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#authenticationMethodsPolicy",
            "id": "authenticationMethodsPolicy",
            "policyVersion": "1.5",
            "policyMigrationState": "migrationInProgress",
            "reconfirmationInDays": null,
            "registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {
                "snoozeDurationInDays": 1, "state": "enabled", "excludeTargets": [],
                "includeTargets": [{"id": "all_users", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator"}]}},
            "authenticationMethodConfigurations": [
                {"@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration", "id": "Voice", "state": "enabled",
                 "isOfficePhoneAllowed": true, "excludeTargets": [], "includeTargets@odata.context": "x",
                 "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}]},
                {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "id": "Fido2", "state": "disabled",
                 "keyRestrictions": {"isEnforced": false}, "unknownNewProperty": 3}
            ]
        });
        let policy: AuthenticationMethodsPolicy = serde_json::from_value(json).expect("parses");
        let policy = policy.into_domain();
        assert_eq!(policy.migration_state.as_graph(), "migrationInProgress");
        assert_eq!(policy.configurations.len(), 2);
        assert!(policy.configurations[0].office_phone_allowed);
        assert_eq!(
            policy
                .registration_campaign
                .expect("campaign")
                .include_targets,
            ["all_users"]
        );
        assert!(policy.reconfirmation_in_days.is_none());
    }

    #[test]
    fn authorization_policy_uses_graphs_exact_casing() {
        let parsed: AuthorizationPolicy =
            serde_json::from_value(serde_json::json!({"allowedToUseSSPR": true})).expect("parses");
        assert!(parsed.allowed_to_use_sspr);
        assert!(
            serde_json::from_value::<AuthorizationPolicy>(
                serde_json::json!({"allowedToUseSspr": true})
            )
            .is_err()
        );
    }
}
