//! Graph's throttling (graph-api.md §8.2): sliding windows keyed the way Graph keys its limits.
//!
//! - Identity and access **reports**: 5 requests / 10 s per (app, tenant) and 122 / 10 s per app
//!   across tenants, 429 with `Retry-After`.
//! - **Conditional Access / named locations**: 1 request / s per tenant for all apps, 429 *without*
//!   `Retry-After`.
//! - **Intune** (`deviceManagement/…`): 1,000 requests / 20 s per (app, tenant) and 2,000 / 20 s
//!   per tenant for all apps; writes also 100 / 20 s per (app, tenant) and 200 / 20 s per tenant
//!   (Graph's "Intune service limits"), 429 with `Retry-After`.
//! - Everything else (the identity and access directory service): a resource-unit (RU) budget per
//!   (app, tenant) per 10 s sized by the tenant's user count, plus the write budget per (app,
//!   tenant); responses carry `x-ms-resource-unit` and, from 80 % of the budget,
//!   `x-ms-throttle-limit-percentage`.
//!
//! Rejected requests are accrued as well (bounded): Microsoft documents that usage keeps accruing
//! while a client hammers, so immediate retries prolong throttling. `Retry-After` is computed
//! after that accrual, so a client that honours it is admitted when it comes back.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use axum::http::{HeaderName, Method, StatusCode, header};
use serde::{Deserialize, Serialize};

use crate::graph::{Bucket, GraphError};

/// Tenant size boundaries of the directory RU limits: S < 50 users, M 50–500, L > 500.
const SMALL_TENANT_MAX_USERS: usize = 49;
const MEDIUM_TENANT_MAX_USERS: usize = 500;
/// Rejected requests are accrued until a window holds this multiple of its limit (memory bound).
const ACCRUAL_CAP: u64 = 2;

/// Throttling limits. Defaults are Graph's published limits; every field may be omitted in JSON
/// (`PUT /_emulator/throttling`), falling back to its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ThrottleConfig {
    /// Off: no request is ever throttled and no throttling headers are sent.
    pub enabled: bool,
    /// Reports bucket: requests per window per (app, tenant). Graph: 5.
    pub reports_per_app_per_tenant: u64,
    /// Reports bucket: requests per window per app across all tenants. Graph: 122.
    pub reports_per_app: u64,
    /// Reports bucket window. Graph: 10 s.
    pub reports_window_ms: u64,
    /// Conditional Access bucket: requests per window per tenant, all apps. Graph: 1.
    pub conditional_access_per_tenant: u64,
    /// Conditional Access bucket window. Graph: 1 s.
    pub conditional_access_window_ms: u64,
    /// Directory RU budget per (app, tenant) for tenants with fewer than 50 users. Graph: 3,500.
    pub small_tenant_resource_units: u64,
    /// … for tenants with 50–500 users. Graph: 5,000.
    pub medium_tenant_resource_units: u64,
    /// … for tenants with more than 500 users. Graph: 8,000.
    pub large_tenant_resource_units: u64,
    /// Directory RU window. Graph: 10 s.
    pub resource_unit_window_ms: u64,
    /// Intune: requests per window per (app, tenant). Graph: 1,000.
    pub intune_per_app_per_tenant: u64,
    /// Intune: requests per window per tenant, all apps. Graph: 2,000.
    pub intune_per_tenant: u64,
    /// Intune writes (POST/PATCH/PUT/DELETE) per window per (app, tenant). Graph: 100.
    pub intune_writes_per_app_per_tenant: u64,
    /// Intune writes per window per tenant, all apps. Graph: 200.
    pub intune_writes_per_tenant: u64,
    /// Intune window. Graph: 20 s.
    pub intune_window_ms: u64,
    /// Directory writes (POST/PATCH/PUT/DELETE) per (app, tenant). Graph: 3,000.
    pub writes_per_app_per_tenant: u64,
    /// Directory write window. Graph: 2 min 30 s.
    pub writes_window_ms: u64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            reports_per_app_per_tenant: 5,
            reports_per_app: 122,
            reports_window_ms: 10_000,
            conditional_access_per_tenant: 1,
            conditional_access_window_ms: 1_000,
            small_tenant_resource_units: 3_500,
            medium_tenant_resource_units: 5_000,
            large_tenant_resource_units: 8_000,
            resource_unit_window_ms: 10_000,
            writes_per_app_per_tenant: 3_000,
            writes_window_ms: 150_000,
            intune_per_app_per_tenant: 1_000,
            intune_per_tenant: 2_000,
            intune_writes_per_app_per_tenant: 100,
            intune_writes_per_tenant: 200,
            intune_window_ms: 20_000,
        }
    }
}

/// What the limiter needs to know about one authenticated Graph request.
pub(crate) struct Request<'a> {
    pub app_id: &'a str,
    pub tenant_id: &'a str,
    pub bucket: Option<Bucket>,
    pub method: &'a Method,
    /// The matched route pattern (below the version), e.g. `users/{id}`.
    pub pattern: &'a str,
    /// Raw query string (OData options change the RU cost).
    pub query: &'a str,
    /// Users in the caller's tenant: sizes the directory RU budget.
    pub tenant_users: usize,
}

/// Headers for an admitted request (`x-ms-resource-unit`, maybe `x-ms-throttle-limit-percentage`).
pub(crate) type Admitted = Vec<(HeaderName, String)>;

/// A throttled request: Graph's 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Throttled {
    /// Whole seconds until the window admits the request again; `None` for the CA bucket.
    pub retry_after: Option<u64>,
    /// Identity headers of the directory bucket (`x-ms-throttle-scope`, `…-information`).
    pub headers: Vec<(HeaderName, String)>,
}

impl Throttled {
    /// Graph's documented 429 body; `Retry-After` in whole seconds when the bucket sends one.
    pub(crate) fn into_error(self) -> GraphError {
        let mut error = GraphError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Please retry again later.",
        )
        .with_inner("code", "429")
        .with_inner("status", "429")
        .with_inner("message", "Please retry after");
        if let Some(seconds) = self.retry_after {
            error = error.with_header(header::RETRY_AFTER, seconds.to_string());
        }
        for (name, value) in self.headers {
            error = error.with_header(name, value);
        }
        error
    }
}

/// Which limit a window enforces; ids are lower-cased so casing cannot dodge a limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    ReportsAppTenant(String, String),
    ReportsApp(String),
    ConditionalAccessTenant(String),
    ResourceUnits(String, String),
    Writes(String, String),
    IntuneAppTenant(String, String),
    IntuneTenant(String),
    IntuneWritesAppTenant(String, String),
    IntuneWritesTenant(String),
}

/// One limit to check: the window's key, its capacity and length, and this request's cost.
struct Limit {
    key: Key,
    capacity: u64,
    window: Duration,
    cost: u64,
}

/// A sliding log of (time, cost) within one window.
#[derive(Debug, Default)]
struct Window {
    entries: VecDeque<(Instant, u64)>,
    used: u64,
}

impl Window {
    fn prune(&mut self, now: Instant, window: Duration) {
        while let Some(&(at, cost)) = self.entries.front() {
            if now.duration_since(at) < window {
                break;
            }
            self.entries.pop_front();
            self.used -= cost;
        }
    }

    fn fits(&self, cost: u64, capacity: u64) -> bool {
        self.used + cost <= capacity
    }

    fn add(&mut self, now: Instant, cost: u64) {
        self.entries.push_back((now, cost));
        self.used += cost;
    }

    /// How long until enough entries expire for `cost` more to fit.
    fn wait(&self, now: Instant, window: Duration, cost: u64, capacity: u64) -> Duration {
        let mut used = self.used;
        for &(at, entry_cost) in &self.entries {
            if used + cost <= capacity {
                break;
            }
            used -= entry_cost;
            if used + cost <= capacity {
                return (at + window).saturating_duration_since(now);
            }
        }
        // Fits already, or cost alone exceeds capacity (then the whole window must pass).
        if used + cost <= capacity {
            Duration::ZERO
        } else {
            window
        }
    }
}

/// The limiter state: configuration plus one window per key in use.
#[derive(Debug, Default)]
pub(crate) struct Throttler {
    config: ThrottleConfig,
    windows: HashMap<Key, Window>,
}

impl Throttler {
    pub(crate) fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            windows: HashMap::new(),
        }
    }

    pub(crate) fn config(&self) -> &ThrottleConfig {
        &self.config
    }

    /// New limits apply from the next request; usage recorded so far is kept.
    pub(crate) fn set_config(&mut self, config: ThrottleConfig) {
        self.config = config;
    }

    /// Forget all usage (e.g. on `POST /_emulator/reset`).
    pub(crate) fn clear_usage(&mut self) {
        self.windows.clear();
    }

    /// Admit `request` (recording its cost) or say how it is throttled.
    pub(crate) fn check(
        &mut self,
        request: &Request<'_>,
        now: Instant,
    ) -> Result<Admitted, Throttled> {
        if !self.config.enabled {
            return Ok(Vec::new());
        }
        let limits = self.limits(request);
        for limit in &limits {
            self.windows
                .entry(limit.key.clone())
                .or_default()
                .prune(now, limit.window);
        }
        let exceeded: Vec<&Limit> = limits
            .iter()
            .filter(|l| {
                !self
                    .windows
                    .get(&l.key)
                    .is_some_and(|w| w.fits(l.cost, l.capacity))
            })
            .collect();
        if exceeded.is_empty() {
            for limit in &limits {
                self.window(&limit.key).add(now, limit.cost);
            }
            return Ok(self.admitted_headers(request, &limits));
        }
        let throttled = self.throttled(request, &exceeded);
        // Accrue the rejected request everywhere it would have counted (bounded), then compute
        // the wait: a client honouring Retry-After then fits.
        for limit in &limits {
            let window = self.window(&limit.key);
            if window.used < limit.capacity.saturating_mul(ACCRUAL_CAP) {
                window.add(now, limit.cost);
            }
        }
        let wait = exceeded
            .iter()
            .map(|l| {
                self.windows
                    .get(&l.key)
                    .map(|w| w.wait(now, l.window, l.cost, l.capacity))
                    .unwrap_or_default()
            })
            .max()
            .unwrap_or_default();
        Err(Throttled {
            retry_after: throttled.retry_after.map(|_| whole_seconds(wait)),
            ..throttled
        })
    }

    fn window(&mut self, key: &Key) -> &mut Window {
        self.windows.entry(key.clone()).or_default()
    }

    fn limits(&self, request: &Request<'_>) -> Vec<Limit> {
        let c = &self.config;
        let app = request.app_id.to_ascii_lowercase();
        let tenant = request.tenant_id.to_ascii_lowercase();
        let ms = Duration::from_millis;
        match request.bucket {
            Some(Bucket::Reports) => vec![
                Limit {
                    key: Key::ReportsAppTenant(app.clone(), tenant),
                    capacity: c.reports_per_app_per_tenant,
                    window: ms(c.reports_window_ms),
                    cost: 1,
                },
                Limit {
                    key: Key::ReportsApp(app),
                    capacity: c.reports_per_app,
                    window: ms(c.reports_window_ms),
                    cost: 1,
                },
            ],
            Some(Bucket::ConditionalAccess) => vec![Limit {
                key: Key::ConditionalAccessTenant(tenant),
                capacity: c.conditional_access_per_tenant,
                window: ms(c.conditional_access_window_ms),
                cost: 1,
            }],
            Some(Bucket::Intune) => {
                let window = ms(c.intune_window_ms);
                let limit = |key, capacity| Limit {
                    key,
                    capacity,
                    window,
                    cost: 1,
                };
                let mut limits = vec![
                    limit(
                        Key::IntuneAppTenant(app.clone(), tenant.clone()),
                        c.intune_per_app_per_tenant,
                    ),
                    limit(Key::IntuneTenant(tenant.clone()), c.intune_per_tenant),
                ];
                if is_write(request.method) {
                    limits.push(limit(
                        Key::IntuneWritesAppTenant(app, tenant.clone()),
                        c.intune_writes_per_app_per_tenant,
                    ));
                    limits.push(limit(
                        Key::IntuneWritesTenant(tenant),
                        c.intune_writes_per_tenant,
                    ));
                }
                limits
            }
            None => {
                let mut limits = vec![Limit {
                    key: Key::ResourceUnits(app.clone(), tenant.clone()),
                    capacity: self.resource_unit_budget(request.tenant_users),
                    window: ms(c.resource_unit_window_ms),
                    cost: resource_units(request.method, request.pattern, request.query),
                }];
                if is_write(request.method) {
                    limits.push(Limit {
                        key: Key::Writes(app, tenant),
                        capacity: c.writes_per_app_per_tenant,
                        window: ms(c.writes_window_ms),
                        cost: 1,
                    });
                }
                limits
            }
        }
    }

    fn resource_unit_budget(&self, users: usize) -> u64 {
        if users <= SMALL_TENANT_MAX_USERS {
            self.config.small_tenant_resource_units
        } else if users <= MEDIUM_TENANT_MAX_USERS {
            self.config.medium_tenant_resource_units
        } else {
            self.config.large_tenant_resource_units
        }
    }

    /// The 429 before its `Retry-After` value is known (`Some(0)` = the bucket sends one).
    fn throttled(&self, request: &Request<'_>, exceeded: &[&Limit]) -> Throttled {
        match request.bucket {
            Some(Bucket::ConditionalAccess) => Throttled {
                retry_after: None,
                headers: Vec::new(),
            },
            Some(Bucket::Reports | Bucket::Intune) => Throttled {
                retry_after: Some(0),
                headers: Vec::new(),
            },
            None => {
                let writes = exceeded.iter().any(|l| matches!(l.key, Key::Writes(..)));
                let (limit, information) = if writes {
                    ("Write", "WriteLimitExceeded")
                } else {
                    ("ReadWrite", "ResourceUnitLimitExceeded")
                };
                Throttled {
                    retry_after: Some(0),
                    headers: vec![
                        (
                            HeaderName::from_static("x-ms-throttle-scope"),
                            format!(
                                "Tenant_Application/{limit}/{}/{}",
                                request.app_id, request.tenant_id
                            ),
                        ),
                        (
                            HeaderName::from_static("x-ms-throttle-information"),
                            information.to_owned(),
                        ),
                    ],
                }
            }
        }
    }

    /// Directory responses say what they cost and, from 80 % of the budget, how full it is.
    fn admitted_headers(&self, request: &Request<'_>, limits: &[Limit]) -> Admitted {
        if request.bucket.is_some() {
            return Vec::new();
        }
        let Some(ru) = limits.first() else {
            return Vec::new();
        };
        let mut headers = vec![(
            HeaderName::from_static("x-ms-resource-unit"),
            ru.cost.to_string(),
        )];
        let used = self.windows.get(&ru.key).map_or(0, |w| w.used);
        let fraction = used as f64 / ru.capacity.max(1) as f64;
        if fraction >= 0.8 {
            headers.push((
                HeaderName::from_static("x-ms-throttle-limit-percentage"),
                format!("{fraction:.1}"),
            ));
        }
        headers
    }
}

/// Throttle an authenticated Graph request that matched a route: `Ok` carries the headers for
/// the response, `Err` Graph's 429.
pub(crate) fn check_graph(
    shared: &crate::Shared,
    caller: &crate::graph::Caller,
    bucket: Option<Bucket>,
    method: &Method,
    pattern: &str,
    query: &str,
) -> Result<Admitted, GraphError> {
    // The directory lock is released before the throttle lock is taken.
    let tenant_users = shared
        .directory()
        .tenant(&caller.tenant_id)
        .map_or(0, |t| t.users.len());
    let request = Request {
        app_id: &caller.app_id,
        tenant_id: &caller.tenant_id,
        bucket,
        method,
        pattern,
        query,
        tenant_users,
    };
    shared
        .throttle()
        .check(&request, Instant::now())
        .map_err(Throttled::into_error)
}

/// `Retry-After` is whole seconds; round up (never tell a client to come back too early) and
/// never say 0.
fn whole_seconds(wait: Duration) -> u64 {
    let ms = wait.as_millis();
    u64::try_from(ms.div_ceil(1000)).unwrap_or(u64::MAX).max(1)
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The documented RU cost: GET on users 2, `subscribedSkus` 3, others 1; `$select` −1, `$expand`
/// +1, `$top` below 20 −1; never below 1.
pub(crate) fn resource_units(method: &Method, pattern: &str, query: &str) -> u64 {
    let first = pattern.split('/').next().unwrap_or_default();
    let base: i64 = if first.eq_ignore_ascii_case("subscribedSkus") {
        3
    } else if first.eq_ignore_ascii_case("users") && *method == Method::GET {
        2
    } else {
        1
    };
    let mut cost = base;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if name.eq_ignore_ascii_case("$select") {
            cost -= 1;
        } else if name.eq_ignore_ascii_case("$expand") {
            cost += 1;
        } else if name.eq_ignore_ascii_case("$top") && value.parse::<u32>().is_ok_and(|t| t < 20) {
            cost -= 1;
        }
    }
    u64::try_from(cost.max(1)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(app: &'a str, tenant: &'a str, bucket: Option<Bucket>) -> Request<'a> {
        Request {
            app_id: app,
            tenant_id: tenant,
            bucket,
            method: &Method::GET,
            pattern: "reports/authenticationMethods/userRegistrationDetails",
            query: "",
            tenant_users: 10,
        }
    }

    #[test]
    fn reports_bucket_admits_five_per_app_and_tenant_then_throttles_with_retry_after() {
        let mut t = Throttler::new(ThrottleConfig::default());
        let start = Instant::now();
        for i in 0..5 {
            let now = start + Duration::from_millis(i * 100);
            assert!(
                t.check(&request("app", "t1", Some(Bucket::Reports)), now)
                    .is_ok()
            );
        }
        let now = start + Duration::from_millis(500);
        let throttled = t
            .check(&request("app", "t1", Some(Bucket::Reports)), now)
            .expect_err("sixth request within 10 s");
        // Usage accrued by the rejection: the first two entries (t=0 s, 0.1 s) must expire,
        // i.e. at 10.1 s, 9.6 s after now → 10 whole seconds.
        assert_eq!(throttled.retry_after, Some(10));
        // Another tenant has its own per-tenant window.
        assert!(
            t.check(&request("app", "t2", Some(Bucket::Reports)), now)
                .is_ok()
        );
        // Same app, same tenant, after Retry-After: admitted again.
        let later = now + Duration::from_secs(10);
        assert!(
            t.check(&request("APP", "T1", Some(Bucket::Reports)), later)
                .is_ok()
        );
    }

    #[test]
    fn reports_bucket_limits_an_app_across_tenants() {
        let config = ThrottleConfig {
            reports_per_app: 3,
            ..ThrottleConfig::default()
        };
        let mut t = Throttler::new(config);
        let now = Instant::now();
        for tenant in ["a", "b", "c"] {
            assert!(
                t.check(&request("app", tenant, Some(Bucket::Reports)), now)
                    .is_ok()
            );
        }
        assert!(
            t.check(&request("app", "d", Some(Bucket::Reports)), now)
                .is_err()
        );
        assert!(
            t.check(&request("other", "d", Some(Bucket::Reports)), now)
                .is_ok()
        );
    }

    #[test]
    fn conditional_access_bucket_is_per_tenant_for_all_apps_without_retry_after() {
        let mut t = Throttler::new(ThrottleConfig::default());
        let now = Instant::now();
        let ca = Some(Bucket::ConditionalAccess);
        assert!(t.check(&request("app1", "t1", ca), now).is_ok());
        let throttled = t
            .check(&request("app2", "t1", ca), now)
            .expect_err("same tenant");
        assert_eq!(throttled.retry_after, None);
        let error = throttled.into_error();
        assert!(error.headers.iter().all(|(n, _)| *n != header::RETRY_AFTER));
        assert!(t.check(&request("app1", "t2", ca), now).is_ok());
    }

    #[test]
    fn directory_bucket_spends_resource_units_by_tenant_size() {
        let config = ThrottleConfig {
            small_tenant_resource_units: 4,
            medium_tenant_resource_units: 6,
            ..ThrottleConfig::default()
        };
        let mut t = Throttler::new(config);
        let now = Instant::now();
        let users = |n: usize| Request {
            pattern: "users",
            tenant_users: n,
            ..request("app", "small", None)
        };
        // GET users costs 2 RU: two fit into 4.
        assert_eq!(t.check(&users(10), now).unwrap()[0].1, "2");
        let second = t.check(&users(10), now).unwrap();
        assert_eq!(second[1].1, "1.0", "100 % of the budget is reported");
        let throttled = t.check(&users(10), now).expect_err("budget spent");
        assert_eq!(throttled.retry_after, Some(10));
        assert!(
            throttled
                .headers
                .iter()
                .any(|(n, v)| n == "x-ms-throttle-scope"
                    && v == "Tenant_Application/ReadWrite/app/small")
        );
        // A medium tenant (same app) has its own, larger budget.
        let medium = Request {
            tenant_id: "medium",
            ..users(100)
        };
        for _ in 0..3 {
            assert!(t.check(&medium, now).is_ok());
        }
        assert!(t.check(&medium, now).is_err());
    }

    #[test]
    fn disabled_throttling_admits_everything() {
        let mut t = Throttler::new(ThrottleConfig {
            enabled: false,
            ..ThrottleConfig::default()
        });
        let now = Instant::now();
        for _ in 0..100 {
            assert!(
                t.check(&request("app", "t", Some(Bucket::ConditionalAccess)), now)
                    .is_ok()
            );
        }
    }

    #[test]
    fn resource_unit_costs_follow_the_published_table() {
        assert_eq!(resource_units(&Method::GET, "users", ""), 2);
        assert_eq!(resource_units(&Method::GET, "users/{id}", "$select=id"), 1);
        assert_eq!(
            resource_units(&Method::GET, "subscribedSkus", "$expand=x"),
            4
        );
        assert_eq!(
            resource_units(&Method::GET, "organization", "$top=5&$select=id"),
            1
        );
        assert_eq!(resource_units(&Method::PATCH, "users/{id}", ""), 1);
    }

    #[test]
    fn the_429_body_is_graphs() {
        let error = Throttled {
            retry_after: Some(7),
            headers: Vec::new(),
        }
        .into_error();
        assert_eq!(error.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(error.code, "TooManyRequests");
        assert_eq!(error.message, "Please retry again later.");
        assert_eq!(error.inner["code"], "429");
        assert_eq!(error.inner["status"], "429");
        assert_eq!(error.inner["message"], "Please retry after");
        assert!(
            error
                .headers
                .iter()
                .any(|(n, v)| *n == header::RETRY_AFTER && v == "7")
        );
    }
}
