//! What several replicas of the service must hold as one, when they share a store: the
//! per-tenant write lock, and Graph's throttling windows (Graph counts the app's requests from
//! every replica together). One replica alone needs neither: its in-process lock and budget are
//! the whole truth. The PostgreSQL store implements both ([`crate::store::postgres::coordination`]).

use std::collections::HashMap;
use std::time::Duration;

use crate::store::StoreError;

/// One change at a time per tenant across every replica.
#[async_trait::async_trait]
pub trait TenantLocks: Send + Sync {
    /// Waits until no other holder has `tenant_id`'s lock, then holds it until the returned
    /// value is dropped. A holder that dies (even by SIGKILL) releases it.
    async fn lock(&self, tenant_id: &str) -> Result<HeldLock, StoreError>;
}

/// A lock held in the shared store; dropping it releases the lock.
pub struct HeldLock {
    /// Never read: it keeps the lock for as long as it lives.
    _holder: Box<dyn Send + Sync>,
}

impl HeldLock {
    /// `holder` keeps the lock for as long as it lives.
    pub fn new(holder: impl Send + Sync + 'static) -> HeldLock {
        HeldLock {
            _holder: Box::new(holder),
        }
    }
}

impl std::fmt::Debug for HeldLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeldLock")
    }
}

/// Graph's throttling windows as every replica sees them: for each window (named by
/// [`crate::directory::budget`]), the send times reserved in it and the time before which
/// nothing may go, all in milliseconds relative to one clock's "now" (the store's, so that the
/// replicas' clocks need not agree).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WindowsState {
    /// Reserved send times per window, sorted; negative ones are in the past.
    pub sent: HashMap<String, Vec<i64>>,
    /// Per window, a time in the future before which nothing goes (after a 429).
    pub not_before: HashMap<String, i64>,
}

/// A reservation recorded in the shared windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSlot {
    /// When the request may go, in milliseconds from the moment the store read its clock.
    pub after_ms: i64,
    /// What [`SharedWindows::release`] takes back.
    pub ids: Vec<i64>,
}

/// Decides a send time from the windows' state: `Some(ms from now)`, or `None` to record nothing.
pub type Planner<'a> = dyn Fn(&WindowsState) -> Option<i64> + Send + Sync + 'a;

#[async_trait::async_trait]
pub trait SharedWindows: Send + Sync {
    /// With `windows` locked against every other replica: reads their state (reservations made
    /// less than `horizon` ago and later ones, holds still in force), asks `plan` for a send
    /// time and records it in each window. `Ok(None)` when `plan` declined.
    async fn reserve(
        &self,
        windows: &[String],
        horizon: Duration,
        plan: &Planner<'_>,
    ) -> Result<Option<SharedSlot>, StoreError>;

    /// The reserved request goes now: its place is moved to now when that is later than the
    /// reserved time. A request that leaves late (a busy host, a token fetched first) is then
    /// counted where Graph counts it, at its arrival, not where it was planned.
    async fn spent(&self, ids: Vec<i64>) -> Result<(), StoreError>;

    /// Takes back a reservation that was not used.
    async fn release(&self, ids: Vec<i64>) -> Result<(), StoreError>;

    /// Nothing more goes out in `window` for `wait` from now (Graph answered 429).
    async fn hold(&self, window: &str, wait: Duration) -> Result<(), StoreError>;
}

/// A cache entry forgotten by one replica (a write changed the tenant), for the others to forget
/// too, so that no replica serves what another has just changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    /// Increasing, in the order the store took them.
    pub id: i64,
    /// The cache's name (`policy`, `registrationSummary`).
    pub cache: String,
    pub tenant_id: String,
}

#[async_trait::async_trait]
pub trait CacheInvalidations: Send + Sync {
    /// Tells the other replicas that `cache`'s entry for `tenant_id` is out of date.
    async fn publish(&self, cache: &str, tenant_id: &str) -> Result<(), StoreError>;

    /// The invalidations with an id above `after`, oldest first (recent ones only: a replica
    /// that looks every few seconds misses none).
    async fn since(&self, after: i64) -> Result<Vec<Invalidation>, StoreError>;
}
