//! The service's own copy of Graph's throttling windows (graph-api.md §8.2): every request
//! reserves a send time at which all the windows it counts in admit it, and waits for it.
//! Requests queue instead of failing with a 429.
//!
//! Graph keeps sliding windows counted at arrival (rejected requests count too), keyed per
//! (app, tenant), per tenant or per app depending on the bucket. Each window here is a sorted log
//! of reserved send times. A time `t` is given only when fewer than `limit` reservations lie
//! within one window (plus a safety margin) on either side of it: then every window Graph could
//! count that contains `t` stays within the limit, even when `t` falls between reservations made
//! earlier. For requests in arrival order this is exactly Graph's rule; and a tenant whose queue
//! reaches far ahead never holds up other tenants in the windows they share (the app's).
//! The lock is never held while waiting.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::capabilities::coordination::{SharedWindows, WindowsState};
use crate::config::{GraphLimits, Limit};

/// Graph's throttling bucket of a request, by its path below the version segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Identity and access reports (`reports/...`).
    Reports,
    /// Conditional Access policies and named locations (`identity/conditionalAccess/...`).
    ConditionalAccess,
    /// Everything else: the identity and access directory service.
    Directory,
}

impl Bucket {
    /// The bucket of `path`, relative to the version segment (`reports/...`, `users`, ...).
    /// Graph paths are case-insensitive.
    pub fn of(path: &str) -> Bucket {
        let path = path.trim_start_matches('/').to_ascii_lowercase();
        if path.starts_with("reports/") {
            Bucket::Reports
        } else if path.starts_with("identity/conditionalaccess/") {
            Bucket::ConditionalAccess
        } else {
            Bucket::Directory
        }
    }

    /// The bucket's window for one tenant, with the margin: a 429 without `Retry-After` means
    /// nothing more is admitted for at least this long.
    pub fn window(self, limits: &GraphLimits) -> Duration {
        let limit = match self {
            Bucket::Reports => limits.reports_per_tenant,
            Bucket::ConditionalAccess => limits.conditional_access_per_tenant,
            Bucket::Directory => limits.directory_per_tenant,
        };
        Duration::from_millis(limit.window_ms + limits.margin_ms)
    }

    pub fn name(self) -> &'static str {
        match self {
            Bucket::Reports => "reports",
            Bucket::ConditionalAccess => "conditionalAccess",
            Bucket::Directory => "directory",
        }
    }
}

/// One of the configured limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Window {
    ReportsPerTenant,
    ReportsPerApp,
    ConditionalAccessPerTenant,
    DirectoryPerTenant,
    DirectoryPerApp,
    DirectoryWritesPerTenant,
    DirectoryWritesPerApp,
}

impl Window {
    fn limit(self, limits: &GraphLimits) -> Limit {
        match self {
            Window::ReportsPerTenant => limits.reports_per_tenant,
            Window::ReportsPerApp => limits.reports_per_app,
            Window::ConditionalAccessPerTenant => limits.conditional_access_per_tenant,
            Window::DirectoryPerTenant => limits.directory_per_tenant,
            Window::DirectoryPerApp => limits.directory_per_app,
            Window::DirectoryWritesPerTenant => limits.directory_writes_per_tenant,
            Window::DirectoryWritesPerApp => limits.directory_writes_per_app,
        }
    }

    /// The window's name in a shared store: stable across versions and replicas.
    fn name(self) -> &'static str {
        match self {
            Window::ReportsPerTenant => "reportsPerTenant",
            Window::ReportsPerApp => "reportsPerApp",
            Window::ConditionalAccessPerTenant => "conditionalAccessPerTenant",
            Window::DirectoryPerTenant => "directoryPerTenant",
            Window::DirectoryPerApp => "directoryPerApp",
            Window::DirectoryWritesPerTenant => "directoryWritesPerTenant",
            Window::DirectoryWritesPerApp => "directoryWritesPerApp",
        }
    }

    /// Windows keyed by tenant (the rest are keyed by app).
    fn per_tenant(self) -> bool {
        matches!(
            self,
            Window::ReportsPerTenant
                | Window::ConditionalAccessPerTenant
                | Window::DirectoryPerTenant
                | Window::DirectoryWritesPerTenant
        )
    }
}

/// A window for one tenant or one app; ids lower-cased, as Graph compares them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    window: Window,
    id: String,
}

impl Key {
    /// How replicas sharing the windows name this one, e.g. `reportsPerApp:<app id>`.
    fn shared_name(&self) -> String {
        format!("{}:{}", self.window.name(), self.id)
    }
}

/// Who is sending what: decides which windows a request counts in.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub tenant_id: &'a str,
    pub app_id: &'a str,
    pub bucket: Bucket,
    /// POST, PATCH, PUT or DELETE.
    pub write: bool,
}

impl Request<'_> {
    fn windows(&self) -> &'static [Window] {
        match (self.bucket, self.write) {
            (Bucket::Reports, _) => &[Window::ReportsPerTenant, Window::ReportsPerApp],
            (Bucket::ConditionalAccess, _) => &[Window::ConditionalAccessPerTenant],
            (Bucket::Directory, false) => &[Window::DirectoryPerTenant, Window::DirectoryPerApp],
            // A write spends the directory's resource units as well as the write budget.
            (Bucket::Directory, true) => &[
                Window::DirectoryPerTenant,
                Window::DirectoryPerApp,
                Window::DirectoryWritesPerTenant,
                Window::DirectoryWritesPerApp,
            ],
        }
    }

    fn key(&self, window: Window) -> Key {
        let id = if window.per_tenant() {
            self.tenant_id
        } else {
            self.app_id
        };
        Key {
            window,
            id: id.to_ascii_lowercase(),
        }
    }

    /// The windows it counts in, each with its capacity and its span (the window plus the
    /// margin).
    fn spans(&self, limits: &GraphLimits) -> Vec<(Key, usize, Duration)> {
        let margin = Duration::from_millis(limits.margin_ms);
        self.windows()
            .iter()
            .map(|&window| {
                let limit = window.limit(limits);
                (
                    self.key(window),
                    limit.requests.max(1) as usize,
                    Duration::from_millis(limit.window_ms) + margin,
                )
            })
            .collect()
    }

    /// The window keyed by this request's tenant in its bucket: the one a 429 holds back.
    fn tenant_key(&self) -> Key {
        self.key(self.windows()[0])
    }
}

/// Reserved send times in one window, sorted, and a time before which nothing may go.
#[derive(Debug, Default)]
struct Log {
    sent: VecDeque<Instant>,
    not_before: Option<Instant>,
}

impl Log {
    /// Reservations within `span` either side of `t` (exclusive).
    fn crowd(&self, t: Instant, span: Duration) -> usize {
        let below = t
            .checked_sub(span)
            .map_or(0, |start| self.sent.partition_point(|&e| e <= start));
        self.sent.partition_point(|&e| e < t + span) - below
    }

    /// The earliest time at or after `from` with room for one more.
    fn earliest(&self, from: Instant, capacity: usize, span: Duration) -> Instant {
        let from = self.not_before.map_or(from, |t| t.max(from));
        if self.crowd(from, span) < capacity {
            return from;
        }
        // Room only appears as a reservation leaves the span; after the last one, always.
        self.sent
            .iter()
            .map(|&e| e + span)
            .filter(|&t| t > from)
            .find(|&t| self.crowd(t, span) < capacity)
            .unwrap_or(from)
    }

    fn insert(&mut self, at: Instant) {
        let index = self.sent.partition_point(|&e| e <= at);
        self.sent.insert(index, at);
    }

    /// Takes back one reservation at `at` (if it is still there: old ones are pruned).
    fn remove(&mut self, at: Instant) {
        let index = self.sent.partition_point(|&e| e < at);
        if self.sent.get(index) == Some(&at) {
            self.sent.remove(index);
        }
    }

    /// Forgets reservations that can no longer share a span with any time from `now` on.
    fn prune(&mut self, now: Instant, span: Duration) {
        while self.sent.front().is_some_and(|&e| e + span <= now) {
            self.sent.pop_front();
        }
    }
}

/// A time a request may go, recorded in the windows it counts in.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) at: Instant,
    keys: Vec<Key>,
    /// The tenant whose queue this slot waits in (lower-cased), when it had to wait.
    queued_for: Option<String>,
}

/// Why no slot was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueFull {
    /// When the tenant's queue would next have room, roughly: the wait the request would have had.
    pub retry_after: Duration,
}

/// The windows' state; pure arithmetic on explicit instants.
#[derive(Debug)]
pub(crate) struct Ledger {
    limits: GraphLimits,
    logs: HashMap<Key, Log>,
    /// Slots per tenant that are still waiting for their time.
    waiting: HashMap<String, usize>,
}

impl Ledger {
    pub(crate) fn new(limits: GraphLimits) -> Ledger {
        Ledger {
            limits,
            logs: HashMap::new(),
            waiting: HashMap::new(),
        }
    }

    /// A ledger of `spans`' windows as the shared `state` has them, its offsets taken from `now`.
    fn seeded(
        limits: GraphLimits,
        spans: &[(Key, usize, Duration)],
        state: &WindowsState,
        now: Instant,
    ) -> Ledger {
        let at = |ms: i64| match u64::try_from(ms) {
            Ok(ahead) => Some(now + Duration::from_millis(ahead)),
            Err(_) => now.checked_sub(Duration::from_millis(ms.unsigned_abs())),
        };
        let mut ledger = Ledger::new(limits);
        for (key, _, _) in spans {
            let name = key.shared_name();
            let log = ledger.logs.entry(key.clone()).or_default();
            let mut sent: Vec<Instant> = state
                .sent
                .get(&name)
                .into_iter()
                .flatten()
                .filter_map(|&ms| at(ms))
                .collect();
            sent.sort_unstable();
            log.sent = sent.into();
            log.not_before = state.not_before.get(&name).and_then(|&ms| at(ms));
        }
        ledger
    }

    /// Reserves the earliest time at or after `now` at which `request` fits in every window it
    /// counts in, and records it there, unless the request would have to wait behind
    /// `max_queue_per_tenant` others of its tenant: then nothing is recorded.
    pub(crate) fn reserve(
        &mut self,
        request: &Request<'_>,
        now: Instant,
    ) -> Result<Slot, QueueFull> {
        let windows = request.spans(&self.limits);
        for (key, _, span) in &windows {
            self.logs.entry(key.clone()).or_default().prune(now, *span);
        }
        // Each window's earliest time can only move later; stop when all windows agree.
        let mut at = now;
        loop {
            let next = windows
                .iter()
                .map(|(key, capacity, span)| self.logs[key].earliest(at, *capacity, *span))
                .max()
                .unwrap_or(at);
            if next == at {
                break;
            }
            at = next;
        }
        let queued_for = if at > now {
            let tenant = request.tenant_id.to_ascii_lowercase();
            let waiting = self.waiting.entry(tenant.clone()).or_default();
            if *waiting >= self.limits.max_queue_per_tenant {
                return Err(QueueFull {
                    retry_after: at - now,
                });
            }
            *waiting += 1;
            Some(tenant)
        } else {
            None
        };
        for (key, _, _) in &windows {
            if let Some(log) = self.logs.get_mut(key) {
                log.insert(at);
            }
        }
        Ok(Slot {
            at,
            keys: windows.into_iter().map(|(key, _, _)| key).collect(),
            queued_for,
        })
    }

    /// The slot's time has come (or it is given back): it no longer waits in its tenant's queue.
    fn stop_waiting(&mut self, slot: &mut Slot) {
        if let Some(tenant) = slot.queued_for.take()
            && let Some(waiting) = self.waiting.get_mut(&tenant)
        {
            *waiting -= 1;
            if *waiting == 0 {
                self.waiting.remove(&tenant);
            }
        }
    }

    /// Gives back a slot that was not used: the windows have room for another request again.
    pub(crate) fn release(&mut self, mut slot: Slot) {
        self.stop_waiting(&mut slot);
        for key in &slot.keys {
            if let Some(log) = self.logs.get_mut(key) {
                log.remove(slot.at);
            }
        }
    }

    /// Nothing more goes out in `request`'s bucket for its tenant before `until` (after a 429).
    pub(crate) fn hold(&mut self, request: &Request<'_>, until: Instant) {
        let log = self.logs.entry(request.tenant_key()).or_default();
        log.not_before = Some(log.not_before.map_or(until, |t| t.max(until)));
    }
}

/// Where the windows are kept: nowhere (budgets off), in this process (one replica), or in the
/// store every replica shares (Graph counts the app's requests from all of them together).
enum Windows {
    Off,
    Local(Mutex<Ledger>),
    Shared {
        store: Arc<dyn SharedWindows>,
        /// This replica's requests per tenant that are waiting for their time: the queue bound
        /// protects this process's memory, so it stays per replica.
        waiting: Mutex<HashMap<String, usize>>,
    },
}

/// The budget every Graph request of the process goes through.
pub struct Budget {
    limits: GraphLimits,
    windows: Windows,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let windows = match self.windows {
            Windows::Off => "off",
            Windows::Local(_) => "local",
            Windows::Shared { .. } => "shared",
        };
        f.debug_struct("Budget")
            .field("windows", &windows)
            .finish_non_exhaustive()
    }
}

/// Why no send time was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    QueueFull(QueueFull),
    /// The shared windows could not be read or written; sending anyway could break Graph's
    /// limits for every replica.
    Unavailable(String),
}

/// What a reservation holds until it is spent or given back.
#[derive(Debug)]
enum Held {
    Nothing,
    Local(Slot),
    Shared {
        ids: Vec<i64>,
        queued_for: Option<String>,
    },
}

/// A reserved send time. Dropped before [`Reservation::spend`] (the caller went away, the token
/// could not be had, the wait was cut short), it gives its place back, so an abandoned request
/// never holds up the ones behind it.
#[derive(Debug)]
pub struct Reservation<'b> {
    budget: &'b Budget,
    held: Held,
    at: Instant,
}

impl Reservation<'_> {
    /// When the request may go.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// The request goes now: Graph will count it, so its place stays taken.
    pub fn spend(mut self) {
        match std::mem::replace(&mut self.held, Held::Nothing) {
            Held::Nothing => {}
            Held::Local(mut slot) => {
                if let Windows::Local(ledger) = &self.budget.windows {
                    lock(ledger).stop_waiting(&mut slot);
                }
            }
            Held::Shared { ids, queued_for } => {
                self.budget.stop_waiting(queued_for);
                self.budget.in_background(move |store| async move {
                    if let Err(error) = store.spent(ids).await {
                        tracing::warn!(%error, "a graph request's send time was not shared");
                    }
                });
            }
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.held, Held::Nothing) {
            Held::Nothing => {}
            Held::Local(slot) => {
                if let Windows::Local(ledger) = &self.budget.windows {
                    lock(ledger).release(slot);
                }
            }
            Held::Shared { ids, queued_for } => {
                self.budget.stop_waiting(queued_for);
                // Giving back is a courtesy to the others: if it fails, the place is only taken
                // until its window passes.
                self.budget.in_background(move |store| async move {
                    if let Err(error) = store.release(ids).await {
                        tracing::warn!(%error, "an unused graph reservation was not given back");
                    }
                });
            }
        }
    }
}

impl Budget {
    /// A budget of this process alone (or none, when `limits` turn budgets off).
    pub fn new(limits: GraphLimits) -> Budget {
        let windows = if limits.enabled {
            Windows::Local(Mutex::new(Ledger::new(limits.clone())))
        } else {
            Windows::Off
        };
        Budget { limits, windows }
    }

    /// A budget kept in `store`, shared with every replica that uses the same store.
    pub fn shared(limits: GraphLimits, store: Arc<dyn SharedWindows>) -> Budget {
        let windows = if limits.enabled {
            Windows::Shared {
                store,
                waiting: Mutex::new(HashMap::new()),
            }
        } else {
            Windows::Off
        };
        Budget { limits, windows }
    }

    /// The time `request` may be sent (now when budgets are off), or why it may not be queued:
    /// its tenant already has the most requests waiting that the configuration allows, or the
    /// shared windows are out of reach.
    pub async fn reserve(&self, request: &Request<'_>) -> Result<Reservation<'_>, Refusal> {
        let now = Instant::now();
        let (at, held) = match &self.windows {
            Windows::Off => (now, Held::Nothing),
            Windows::Local(ledger) => {
                let slot = lock(ledger)
                    .reserve(request, now)
                    .map_err(Refusal::QueueFull)?;
                (slot.at, Held::Local(slot))
            }
            Windows::Shared { store, waiting } => {
                self.reserve_shared(store.as_ref(), waiting, request)
                    .await?
            }
        };
        Ok(Reservation {
            budget: self,
            held,
            at,
        })
    }

    /// Reserves in the shared windows: the same arithmetic as the local ledger, on the state
    /// the store holds, decided while the store keeps the windows locked.
    async fn reserve_shared(
        &self,
        store: &dyn SharedWindows,
        waiting: &Mutex<HashMap<String, usize>>,
        request: &Request<'_>,
    ) -> Result<(Instant, Held), Refusal> {
        let spans = request.spans(&self.limits);
        let names: Vec<String> = spans.iter().map(|(key, _, _)| key.shared_name()).collect();
        let horizon = spans
            .iter()
            .map(|(_, _, span)| *span)
            .max()
            .unwrap_or_default();
        let tenant = request.tenant_id.to_ascii_lowercase();
        let queue_full =
            lock(waiting).get(&tenant).copied().unwrap_or(0) >= self.limits.max_queue_per_tenant;
        let refused_wait = Mutex::new(None);
        let plan = |state: &WindowsState| {
            let now = Instant::now();
            let mut ledger = Ledger::seeded(self.limits.clone(), &spans, state, now);
            let wait = ledger.reserve(request, now).ok()?.at - now;
            if !wait.is_zero() && queue_full {
                *lock(&refused_wait) = Some(wait);
                return None;
            }
            // Whole milliseconds, rounded up: never earlier than the ledger allows.
            Some(i64::try_from(wait.as_micros().div_ceil(1000)).unwrap_or(i64::MAX))
        };
        let slot = store
            .reserve(&names, horizon, &plan)
            .await
            .map_err(|error| Refusal::Unavailable(error.to_string()))?;
        let Some(slot) = slot else {
            let retry_after = lock(&refused_wait).unwrap_or(horizon);
            return Err(Refusal::QueueFull(QueueFull { retry_after }));
        };
        // Counted from after the store answered: the request can only go later than reserved.
        let at = Instant::now() + Duration::from_millis(u64::try_from(slot.after_ms).unwrap_or(0));
        let queued_for = (slot.after_ms > 0).then(|| {
            *lock(waiting).entry(tenant.clone()).or_default() += 1;
            tenant
        });
        Ok((
            at,
            Held::Shared {
                ids: slot.ids,
                queued_for,
            },
        ))
    }

    /// Runs `work` on the shared windows without making the request wait for it.
    fn in_background<F, W>(&self, work: W)
    where
        W: FnOnce(Arc<dyn SharedWindows>) -> F,
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        if let Windows::Shared { store, .. } = &self.windows
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(work(Arc::clone(store)));
        }
    }

    /// A shared reservation no longer waits in its tenant's queue here.
    fn stop_waiting(&self, queued_for: Option<String>) {
        if let (Some(tenant), Windows::Shared { waiting, .. }) = (queued_for, &self.windows) {
            let mut waiting = lock(waiting);
            if let Some(count) = waiting.get_mut(&tenant) {
                *count -= 1;
                if *count == 0 {
                    waiting.remove(&tenant);
                }
            }
        }
    }

    /// Holds back `request`'s bucket for its tenant until `until`.
    pub async fn hold(&self, request: &Request<'_>, until: Instant) {
        match &self.windows {
            Windows::Off => {}
            Windows::Local(ledger) => lock(ledger).hold(request, until),
            Windows::Shared { store, .. } => {
                let wait = until.saturating_duration_since(Instant::now());
                if let Err(error) = store.hold(&request.tenant_key().shared_name(), wait).await {
                    // The retry waits anyway; only the other replicas may not know.
                    tracing::warn!(%error, "a graph hold was not shared with the other replicas");
                }
            }
        }
    }
}

/// The ledger stays consistent even if a holder panicked: every update is a push or a pop.
fn lock<T>(ledger: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    ledger
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> GraphLimits {
        GraphLimits {
            margin_ms: 100,
            reports_per_tenant: Limit::new(2, 1_000),
            reports_per_app: Limit::new(3, 1_000),
            conditional_access_per_tenant: Limit::new(1, 1_000),
            directory_per_tenant: Limit::new(10, 1_000),
            directory_writes_per_tenant: Limit::new(1, 5_000),
            ..GraphLimits::default()
        }
    }

    fn request(tenant: &'static str, bucket: Bucket) -> Request<'static> {
        Request {
            tenant_id: tenant,
            app_id: "app",
            bucket,
            write: false,
        }
    }

    const MS: fn(u64) -> Duration = Duration::from_millis;

    /// The reserved time of one more request (the slot stays recorded).
    fn time(ledger: &mut Ledger, request: &Request<'_>, now: Instant) -> Instant {
        ledger.reserve(request, now).expect("room in the queue").at
    }

    #[test]
    fn paths_fall_into_graphs_buckets_whatever_their_casing() {
        assert_eq!(
            Bucket::of("reports/authenticationMethods/userRegistrationDetails"),
            Bucket::Reports
        );
        assert_eq!(
            Bucket::of("/Identity/ConditionalAccess/policies/abc"),
            Bucket::ConditionalAccess
        );
        assert_eq!(
            Bucket::of("identity/conditionalAccess/namedLocations"),
            Bucket::ConditionalAccess
        );
        assert_eq!(
            Bucket::of("policies/authorizationPolicy"),
            Bucket::Directory
        );
        assert_eq!(Bucket::of("reportsSomething"), Bucket::Directory);
        assert_eq!(Bucket::of("identity/b2xUserFlows"), Bucket::Directory);
    }

    #[test]
    fn requests_within_the_limit_go_at_once_and_the_next_waits_a_window_plus_the_margin() {
        let mut ledger = Ledger::new(limits());
        let t0 = Instant::now();
        let reports = request("t1", Bucket::Reports);
        assert_eq!(time(&mut ledger, &reports, t0), t0);
        assert_eq!(time(&mut ledger, &reports, t0 + MS(10)), t0 + MS(10));
        // The third waits until the first has left the 1 s window (+100 ms margin).
        assert_eq!(time(&mut ledger, &reports, t0 + MS(20)), t0 + MS(1_100));
        // The fourth waits for the second, and never goes before the third.
        assert_eq!(time(&mut ledger, &reports, t0 + MS(30)), t0 + MS(1_110));
        assert_eq!(time(&mut ledger, &reports, t0 + MS(40)), t0 + MS(2_200));
    }

    #[test]
    fn reservations_are_first_come_first_served() {
        let mut ledger = Ledger::new(limits());
        let t0 = Instant::now();
        let ca = request("t1", Bucket::ConditionalAccess);
        let times: Vec<Instant> = (0..4).map(|_| time(&mut ledger, &ca, t0)).collect();
        assert_eq!(times, [t0, t0 + MS(1_100), t0 + MS(2_200), t0 + MS(3_300)]);
        // Once the queue has drained, a request goes at once again.
        assert_eq!(time(&mut ledger, &ca, t0 + MS(10_000)), t0 + MS(10_000));
    }

    #[test]
    fn tenants_have_their_own_windows_but_share_the_apps() {
        let mut ledger = Ledger::new(limits());
        let t0 = Instant::now();
        // Per tenant 2, per app 3: two reports for t1, one for t2, all at once...
        for tenant in ["t1", "t1", "t2"] {
            assert_eq!(time(&mut ledger, &request(tenant, Bucket::Reports), t0), t0);
        }
        // ...then the app's window across tenants is full, even for a fresh tenant.
        assert_eq!(
            time(&mut ledger, &request("t3", Bucket::Reports), t0),
            t0 + MS(1_100)
        );
        // Another bucket of the same tenant is not held up.
        assert_eq!(
            time(&mut ledger, &request("t1", Bucket::ConditionalAccess), t0),
            t0
        );
        // Another app has its own windows per app.
        let other_app = Request {
            app_id: "other",
            ..request("t4", Bucket::Reports)
        };
        assert_eq!(time(&mut ledger, &other_app, t0), t0);
    }

    #[test]
    fn tenant_ids_compare_case_insensitively() {
        let mut ledger = Ledger::new(limits());
        let t0 = Instant::now();
        assert_eq!(
            time(&mut ledger, &request("T1", Bucket::ConditionalAccess), t0),
            t0
        );
        assert_eq!(
            time(&mut ledger, &request("t1", Bucket::ConditionalAccess), t0),
            t0 + MS(1_100)
        );
    }

    #[test]
    fn writes_count_against_the_write_budget_and_the_directory_budget() {
        let mut ledger = Ledger::new(limits());
        let t0 = Instant::now();
        let read = request("t1", Bucket::Directory);
        let write = Request {
            write: true,
            ..read
        };
        assert_eq!(time(&mut ledger, &write, t0), t0);
        // One write per 5 s.
        assert_eq!(time(&mut ledger, &write, t0), t0 + MS(5_100));
        // Reads are not held up by the queued write.
        assert_eq!(time(&mut ledger, &read, t0), t0);
        // Writes spend the directory budget (10 per window) too: 1 write + 1 read + 8 reads.
        for _ in 0..8 {
            assert_eq!(time(&mut ledger, &read, t0), t0);
        }
        assert_eq!(time(&mut ledger, &read, t0), t0 + MS(1_100));
    }

    #[test]
    fn a_hold_after_a_429_delays_the_tenants_bucket_only() {
        let mut ledger = Ledger::new(limits());
        let t0 = Instant::now();
        let reports = request("t1", Bucket::Reports);
        ledger.hold(&reports, t0 + MS(7_000));
        assert_eq!(time(&mut ledger, &reports, t0), t0 + MS(7_000));
        // An earlier hold never shortens a later one.
        ledger.hold(&reports, t0 + MS(1_000));
        assert_eq!(time(&mut ledger, &reports, t0), t0 + MS(7_000));
        assert_eq!(time(&mut ledger, &request("t2", Bucket::Reports), t0), t0);
    }

    #[test]
    fn a_tenant_with_a_long_queue_does_not_hold_up_others_in_the_apps_window() {
        let mut ledger = Ledger::new(limits());
        let t0 = Instant::now();
        // Twelve reports for t1: two per window, the last ones far ahead.
        let t1: Vec<Instant> = (0..12)
            .map(|_| time(&mut ledger, &request("t1", Bucket::Reports), t0))
            .collect();
        assert_eq!(t1[11], t0 + MS(5 * 1_100));
        // The app's window (3) still has room for one more now, for another tenant.
        assert_eq!(time(&mut ledger, &request("t2", Bucket::Reports), t0), t0);
        // Its next one joins t1's two at 1.1 s: three in the app's window again.
        assert_eq!(
            time(&mut ledger, &request("t2", Bucket::Reports), t0),
            t0 + MS(1_100)
        );
    }

    #[test]
    fn reservations_between_others_never_overfill_a_window() {
        let mut ledger = Ledger::new(limits());
        let t0 = Instant::now();
        let mut sent = Vec::new();
        // Mixed tenants sharing the app's window (3) while each keeps its own (2).
        for i in 0..30u64 {
            let tenant = ["a", "b", "c", "d"][(i % 4) as usize];
            sent.push(time(
                &mut ledger,
                &request(tenant, Bucket::Reports),
                t0 + MS(i * 37),
            ));
        }
        sent.sort();
        // Graph's rule for the app's window: at most 3 in any 1 s + 100 ms.
        for (i, &at) in sent.iter().enumerate() {
            let in_window = sent[..=i].iter().filter(|&&e| e + MS(1_100) > at).count();
            assert!(
                in_window <= 3,
                "{in_window} requests in the window ending at #{i}"
            );
        }
    }

    #[test]
    fn past_reservations_are_forgotten() {
        let mut ledger = Ledger::new(limits());
        let t0 = Instant::now();
        let read = request("t1", Bucket::Directory);
        for i in 0..100 {
            time(&mut ledger, &read, t0 + MS(i * 200));
        }
        // Only those within one span (1.1 s) of the last survive.
        let key = read.key(Window::DirectoryPerTenant);
        assert_eq!(ledger.logs[&key].sent.len(), 6);
    }

    /// Graph's windows in memory as a shared store keeps them for several replicas: times in
    /// milliseconds on one clock, reservations with ids.
    struct MemoryWindows {
        epoch: Instant,
        state: Mutex<MemoryState>,
    }

    #[derive(Default)]
    struct MemoryState {
        next_id: i64,
        sent: HashMap<String, Vec<(i64, i64)>>,
        not_before: HashMap<String, i64>,
    }

    impl MemoryWindows {
        fn new() -> Arc<MemoryWindows> {
            Arc::new(MemoryWindows {
                epoch: Instant::now(),
                state: Mutex::default(),
            })
        }

        fn now_ms(&self) -> i64 {
            self.epoch.elapsed().as_millis() as i64
        }
    }

    #[async_trait::async_trait]
    impl SharedWindows for MemoryWindows {
        async fn reserve(
            &self,
            windows: &[String],
            horizon: Duration,
            plan: &crate::capabilities::coordination::Planner<'_>,
        ) -> Result<Option<crate::capabilities::coordination::SharedSlot>, crate::store::StoreError>
        {
            let mut state = lock(&self.state);
            let now = self.now_ms();
            let mut seen = WindowsState::default();
            for window in windows {
                let sent = state.sent.get(window).into_iter().flatten();
                seen.sent.insert(
                    window.clone(),
                    sent.filter(|(_, at)| *at > now - horizon.as_millis() as i64)
                        .map(|(_, at)| at - now)
                        .collect(),
                );
                if let Some(until) = state.not_before.get(window) {
                    seen.not_before.insert(window.clone(), until - now);
                }
            }
            let Some(after_ms) = plan(&seen) else {
                return Ok(None);
            };
            let mut ids = Vec::new();
            for window in windows {
                state.next_id += 1;
                let id = state.next_id;
                state
                    .sent
                    .entry(window.clone())
                    .or_default()
                    .push((id, now + after_ms));
                ids.push(id);
            }
            Ok(Some(crate::capabilities::coordination::SharedSlot {
                after_ms,
                ids,
            }))
        }

        async fn spent(&self, ids: Vec<i64>) -> Result<(), crate::store::StoreError> {
            let now = self.now_ms();
            for sent in lock(&self.state).sent.values_mut() {
                for (id, at) in sent.iter_mut() {
                    if ids.contains(id) {
                        *at = (*at).max(now);
                    }
                }
            }
            Ok(())
        }

        async fn release(&self, ids: Vec<i64>) -> Result<(), crate::store::StoreError> {
            for sent in lock(&self.state).sent.values_mut() {
                sent.retain(|(id, _)| !ids.contains(id));
            }
            Ok(())
        }

        async fn hold(&self, window: &str, wait: Duration) -> Result<(), crate::store::StoreError> {
            let until = self.now_ms() + wait.as_millis() as i64;
            lock(&self.state)
                .not_before
                .insert(window.to_owned(), until);
            Ok(())
        }
    }

    /// The same limits kept by this process alone, and in a shared store.
    fn budgets(limits: GraphLimits) -> [(&'static str, Budget); 2] {
        [
            ("local", Budget::new(limits.clone())),
            ("shared", Budget::shared(limits, MemoryWindows::new())),
        ]
    }

    /// Shared windows count in whole milliseconds, read at slightly different moments.
    fn assert_about(actual: Instant, expected: Instant, what: &str) {
        let apart = if actual > expected {
            actual - expected
        } else {
            expected - actual
        };
        assert!(apart <= MS(20), "{what}: {apart:?} apart");
    }

    #[tokio::test]
    async fn a_reservation_given_back_frees_its_place_for_the_next_request() {
        for (kind, budget) in budgets(limits()) {
            let ca = request("t1", Bucket::ConditionalAccess);
            let first = budget.reserve(&ca).await.expect("room");
            let queued = budget.reserve(&ca).await.expect("room");
            let third = budget.reserve(&ca).await.expect("room");
            assert!(
                queued.at() > first.at() && third.at() > queued.at(),
                "{kind}"
            );
            // The second caller goes away while waiting: its place is free again.
            let freed = queued.at();
            drop(queued);
            // A shared store gives it back in the background.
            tokio::task::yield_now().await;
            let next = budget.reserve(&ca).await.expect("room");
            assert_about(next.at(), freed, kind);
            drop((first, third, next));
        }
    }

    #[tokio::test]
    async fn a_spent_reservation_keeps_its_place() {
        for (kind, budget) in budgets(limits()) {
            let ca = request("t1", Bucket::ConditionalAccess);
            let first = budget.reserve(&ca).await.expect("room");
            let at = first.at();
            first.spend();
            // Graph counted it: the next one waits a window (1 s + 100 ms margin).
            let next = budget.reserve(&ca).await.expect("room");
            assert!(next.at() >= at + MS(1_090), "{kind}: {:?}", next.at() - at);
        }
    }

    #[tokio::test]
    async fn a_full_queue_refuses_with_the_wait_it_would_have_had_and_recovers() {
        let limits = GraphLimits {
            max_queue_per_tenant: 2,
            ..limits()
        };
        for (kind, budget) in budgets(limits) {
            let ca = request("t1", Bucket::ConditionalAccess);
            // One goes at once (not waiting), two wait: the queue is full.
            let now = budget.reserve(&ca).await.expect("room");
            let mut waiting = Vec::new();
            for _ in 0..2 {
                waiting.push(budget.reserve(&ca).await.expect("room"));
            }
            let Err(Refusal::QueueFull(full)) = budget.reserve(&ca).await else {
                panic!("{kind}: the queue is full");
            };
            assert!(
                full.retry_after >= MS(3_000) && full.retry_after <= MS(3_400),
                "{kind}: {:?}",
                full.retry_after
            );
            // Another tenant has its own queue.
            budget
                .reserve(&request("t2", Bucket::ConditionalAccess))
                .await
                .expect("other tenant");
            // A waiting request that goes (or goes away) leaves room for one more.
            let mut waiting = waiting.into_iter();
            waiting.next().expect("one").spend();
            budget.reserve(&ca).await.expect("room again");
            drop((now, waiting));
        }
    }

    #[tokio::test]
    async fn replicas_sharing_the_windows_keep_to_one_limit_together() {
        let store = MemoryWindows::new();
        let replicas = [
            Budget::shared(limits(), store.clone()),
            Budget::shared(limits(), store.clone()),
        ];
        let reports = request("t1", Bucket::Reports);
        let start = Instant::now();
        // Two reports per tenant per second: one from each replica goes at once...
        let first = replicas[0].reserve(&reports).await.expect("room");
        let second = replicas[1].reserve(&reports).await.expect("room");
        assert!(first.at() < start + MS(50) && second.at() < start + MS(50));
        // ...and a third, from either, waits for the first to leave the window.
        let third = replicas[1].reserve(&reports).await.expect("room");
        assert!(
            third.at() >= first.at() + MS(1_090),
            "{:?}",
            third.at() - first.at()
        );
        // The app's window (3 / s) is shared across tenants and replicas too: a third tenant's
        // report goes at once, a fourth one waits.
        let other = replicas[0]
            .reserve(&request("t2", Bucket::Reports))
            .await
            .expect("room");
        assert!(other.at() < start + MS(50), "{:?}", other.at() - start);
        let fourth = replicas[1]
            .reserve(&request("t4", Bucket::Reports))
            .await
            .expect("room");
        assert!(
            fourth.at() >= first.at() + MS(1_090),
            "{:?}",
            fourth.at() - first.at()
        );
        // A 429 seen by one replica holds the tenant's bucket back for the other.
        replicas[0]
            .hold(
                &request("t3", Bucket::ConditionalAccess),
                Instant::now() + MS(5_000),
            )
            .await;
        let held = replicas[1]
            .reserve(&request("t3", Bucket::ConditionalAccess))
            .await
            .expect("room");
        assert!(held.at() >= start + MS(4_900), "{:?}", held.at() - start);
        drop((first, second, third, other, fourth, held));
    }

    #[tokio::test]
    async fn a_shared_request_that_leaves_late_is_counted_when_it_leaves() {
        let budget = Budget::shared(limits(), MemoryWindows::new());
        let ca = request("t1", Bucket::ConditionalAccess);
        let first = budget.reserve(&ca).await.expect("room");
        // It goes 300 ms after its reserved time (a busy host): Graph counts it then.
        tokio::time::sleep(MS(300)).await;
        let left = Instant::now();
        first.spend();
        tokio::task::yield_now().await;
        let next = budget.reserve(&ca).await.expect("room");
        assert!(next.at() >= left + MS(1_090), "{:?}", next.at() - left);
    }

    #[tokio::test]
    async fn turned_off_the_budget_sends_everything_at_once() {
        let limits = GraphLimits {
            enabled: false,
            ..limits()
        };
        for (kind, budget) in budgets(limits) {
            let ca = request("t1", Bucket::ConditionalAccess);
            let before = Instant::now();
            for _ in 0..5 {
                let at = budget.reserve(&ca).await.expect("room").at();
                assert!(at < before + Duration::from_secs(1), "{kind}");
            }
        }
    }
}
