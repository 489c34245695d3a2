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
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

    /// Reserves the earliest time at or after `now` at which `request` fits in every window it
    /// counts in, and records it there, unless the request would have to wait behind
    /// `max_queue_per_tenant` others of its tenant: then nothing is recorded.
    pub(crate) fn reserve(
        &mut self,
        request: &Request<'_>,
        now: Instant,
    ) -> Result<Slot, QueueFull> {
        let margin = Duration::from_millis(self.limits.margin_ms);
        let windows: Vec<(Key, usize, Duration)> = request
            .windows()
            .iter()
            .map(|&window| {
                let limit = window.limit(&self.limits);
                (
                    request.key(window),
                    limit.requests.max(1) as usize,
                    Duration::from_millis(limit.window_ms) + margin,
                )
            })
            .collect();
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

/// The ledger shared by every request of the process.
#[derive(Debug)]
pub struct Budget {
    ledger: Option<Mutex<Ledger>>,
}

/// A reserved send time. Dropped before [`Reservation::spend`] (the caller went away, the token
/// could not be had, the wait was cut short), it gives its place back, so an abandoned request
/// never holds up the ones behind it.
#[derive(Debug)]
pub struct Reservation<'b> {
    budget: &'b Budget,
    slot: Option<Slot>,
    at: Instant,
}

impl Reservation<'_> {
    /// When the request may go.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// The request goes now: Graph will count it, so its place stays taken.
    pub fn spend(mut self) {
        if let (Some(mut slot), Some(ledger)) = (self.slot.take(), &self.budget.ledger) {
            lock(ledger).stop_waiting(&mut slot);
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if let (Some(slot), Some(ledger)) = (self.slot.take(), &self.budget.ledger) {
            lock(ledger).release(slot);
        }
    }
}

impl Budget {
    pub fn new(limits: GraphLimits) -> Budget {
        Budget {
            ledger: limits.enabled.then(|| Mutex::new(Ledger::new(limits))),
        }
    }

    /// The time `request` may be sent (now when budgets are off), or `QueueFull` when its tenant
    /// already has the most requests waiting that the configuration allows.
    pub fn reserve(&self, request: &Request<'_>) -> Result<Reservation<'_>, QueueFull> {
        let now = Instant::now();
        let slot = match &self.ledger {
            Some(ledger) => Some(lock(ledger).reserve(request, now)?),
            None => None,
        };
        Ok(Reservation {
            budget: self,
            at: slot.as_ref().map_or(now, |s| s.at),
            slot,
        })
    }

    /// Holds back `request`'s bucket for its tenant until `until`.
    pub fn hold(&self, request: &Request<'_>, until: Instant) {
        if let Some(ledger) = &self.ledger {
            lock(ledger).hold(request, until);
        }
    }
}

/// The ledger stays consistent even if a holder panicked: every update is a push or a pop.
fn lock(ledger: &Mutex<Ledger>) -> std::sync::MutexGuard<'_, Ledger> {
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

    #[test]
    fn a_reservation_given_back_frees_its_place_for_the_next_request() {
        let budget = Budget::new(limits());
        let ca = request("t1", Bucket::ConditionalAccess);
        let first = budget.reserve(&ca).expect("room");
        let queued = budget.reserve(&ca).expect("room");
        let third = budget.reserve(&ca).expect("room");
        assert!(queued.at() > first.at() && third.at() > queued.at());
        // The second caller goes away while waiting: its place is free again.
        let freed = queued.at();
        drop(queued);
        let next = budget.reserve(&ca).expect("room");
        assert_eq!(
            next.at(),
            freed,
            "the freed place is taken by the next request"
        );
        drop((first, third, next));
    }

    #[test]
    fn a_spent_reservation_keeps_its_place() {
        let budget = Budget::new(limits());
        let ca = request("t1", Bucket::ConditionalAccess);
        let first = budget.reserve(&ca).expect("room");
        let at = first.at();
        first.spend();
        // Graph counted it: the next one waits a window (1 s + 100 ms margin).
        let next = budget.reserve(&ca).expect("room");
        assert!(next.at() >= at + MS(1_100), "{:?}", next.at() - at);
    }

    #[test]
    fn a_full_queue_refuses_with_the_wait_it_would_have_had_and_recovers() {
        let budget = Budget::new(GraphLimits {
            max_queue_per_tenant: 2,
            ..limits()
        });
        let ca = request("t1", Bucket::ConditionalAccess);
        // One goes at once (not waiting), two wait: the queue is full.
        let now = budget.reserve(&ca).expect("room");
        let waiting: Vec<_> = (0..2).map(|_| budget.reserve(&ca).expect("room")).collect();
        let full = budget.reserve(&ca).expect_err("queue full");
        assert!(
            full.retry_after >= MS(3_000) && full.retry_after <= MS(3_400),
            "{:?}",
            full.retry_after
        );
        // Another tenant has its own queue.
        budget
            .reserve(&request("t2", Bucket::ConditionalAccess))
            .expect("other tenant");
        // A waiting request that goes (or goes away) leaves room for one more.
        let mut waiting = waiting.into_iter();
        waiting.next().expect("one").spend();
        budget.reserve(&ca).expect("room again");
        drop((now, waiting));
    }

    #[test]
    fn turned_off_the_budget_sends_everything_at_once() {
        let budget = Budget::new(GraphLimits {
            enabled: false,
            ..limits()
        });
        let ca = request("t1", Bucket::ConditionalAccess);
        let before = Instant::now();
        for _ in 0..5 {
            assert!(budget.reserve(&ca).expect("room").at() < before + Duration::from_secs(1));
        }
    }
}
