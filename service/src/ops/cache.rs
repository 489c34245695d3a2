//! Per-tenant caches of read results, with one upstream read at a time per tenant.
//!
//! A request that finds a value younger than the age it accepts takes it; otherwise it queues
//! behind the request reading upstream (an async lock), and takes that read's result when it
//! finished while it waited ("single flight": concurrent identical reads cost one read). If the
//! reading request goes away, its read is dropped with it (giving back its Graph budget) and the
//! next waiter reads. A write to the tenant invalidates its entry, and a read that began before
//! the invalidation is answered but not kept, so nobody is served a value older than our own
//! last write.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::capabilities::coordination::CacheInvalidations;

/// One value per tenant (keyed by tenant id).
pub struct TenantCache<T> {
    /// The `cache` label of its hits and misses in `/metrics`.
    name: &'static str,
    slots: Mutex<HashMap<String, Arc<Slot<T>>>>,
    /// With replicas: where this cache's invalidations are told to the others.
    shared: std::sync::OnceLock<Arc<dyn CacheInvalidations>>,
}

struct Slot<T> {
    entry: tokio::sync::Mutex<Option<Entry<T>>>,
    /// Reads completed and kept; a waiter that sees it change takes the fresh entry.
    reads: AtomicU64,
    /// Bumped by every invalidation; an entry or a read from an older generation is not served
    /// from the cache.
    generation: AtomicU64,
}

struct Entry<T> {
    value: Arc<T>,
    read_started: Instant,
    generation: u64,
}

/// A cached or fresh value and how old it is.
#[derive(Debug)]
pub struct Aged<T> {
    pub value: Arc<T>,
    /// Time since its upstream read began.
    pub age: Duration,
}

impl<T> Clone for Aged<T> {
    fn clone(&self) -> Self {
        Aged {
            value: self.value.clone(),
            age: self.age,
        }
    }
}

impl<T> TenantCache<T> {
    /// An empty cache, counted in `/metrics` as `name`.
    pub fn named(name: &'static str) -> Self {
        TenantCache {
            name,
            slots: Mutex::default(),
            shared: std::sync::OnceLock::new(),
        }
    }

    /// The cache's name, as invalidations between replicas name it.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// From now on, every invalidation is also told to the replicas sharing `invalidations`.
    pub fn share_invalidations(&self, invalidations: Arc<dyn CacheInvalidations>) {
        let _ = self.shared.set(invalidations);
    }

    fn slot(&self, tenant_id: &str) -> Arc<Slot<T>> {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tenant_id.to_owned())
            .or_insert_with(|| {
                Arc::new(Slot {
                    entry: tokio::sync::Mutex::new(None),
                    reads: AtomicU64::new(0),
                    generation: AtomicU64::new(0),
                })
            })
            .clone()
    }

    /// The tenant's value when one younger than `max_age` is cached, or one was read while this
    /// request waited; else the result of `read`, kept for the next requests.
    pub async fn get<E, F>(&self, tenant_id: &str, max_age: Duration, read: F) -> Result<Aged<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        let slot = self.slot(tenant_id);
        let reads_before = slot.reads.load(Ordering::Acquire);
        let mut entry = slot.entry.lock().await;
        let generation = slot.generation.load(Ordering::Acquire);
        if let Some(current) = entry.as_ref().filter(|e| e.generation == generation) {
            let shared = slot.reads.load(Ordering::Acquire) != reads_before;
            if shared || current.read_started.elapsed() < max_age {
                crate::telemetry::record::cache_lookup(self.name, true);
                return Ok(current.aged());
            }
        }
        crate::telemetry::record::cache_lookup(self.name, false);
        let read_started = Instant::now();
        let fresh = Entry {
            value: Arc::new(read.await?),
            read_started,
            generation,
        };
        let aged = fresh.aged();
        if slot.generation.load(Ordering::Acquire) == generation {
            *entry = Some(fresh);
            slot.reads.fetch_add(1, Ordering::Release);
        }
        Ok(aged)
    }

    /// Forgets the tenant's value: the next request reads upstream, and a read in flight now is
    /// not kept.
    pub fn invalidate(&self, tenant_id: &str) {
        self.forget(tenant_id);
        if let Some(shared) = self.shared.get()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let (shared, name, tenant_id) = (shared.clone(), self.name, tenant_id.to_owned());
            runtime.spawn(async move {
                if let Err(error) = shared.publish(name, &tenant_id).await {
                    tracing::warn!(%error, cache = name, "a cache invalidation was not told to the other replicas");
                }
            });
        }
    }

    /// Forgets the tenant's value here only: another replica's invalidation, applied.
    pub fn forget(&self, tenant_id: &str) {
        self.slot(tenant_id)
            .generation
            .fetch_add(1, Ordering::AcqRel);
    }
}

impl<T> Entry<T> {
    fn aged(&self) -> Aged<T> {
        Aged {
            value: self.value.clone(),
            age: self.read_started.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    const LONG: Duration = Duration::from_secs(3600);

    async fn counted(reads: &AtomicUsize, value: u32) -> Result<u32, ()> {
        reads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(value)
    }

    #[tokio::test]
    async fn a_young_value_is_served_from_cache_and_an_old_one_is_read_again() {
        let cache = TenantCache::named("test");
        let reads = AtomicUsize::new(0);
        let first = cache
            .get("t", LONG, counted(&reads, 1))
            .await
            .expect("read");
        let second = cache
            .get("t", LONG, counted(&reads, 2))
            .await
            .expect("cached");
        assert_eq!((*first.value, *second.value), (1, 1));
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        let fresh = cache
            .get("t", Duration::ZERO, counted(&reads, 3))
            .await
            .expect("read");
        assert_eq!(*fresh.value, 3);
        // Another tenant has its own entry.
        let other = cache
            .get("u", LONG, counted(&reads, 4))
            .await
            .expect("read");
        assert_eq!(*other.value, 4);
        assert_eq!(reads.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_read_even_when_they_accept_no_cached_value() {
        let cache = TenantCache::named("test");
        let reads = AtomicUsize::new(0);
        let all = futures::future::join_all(
            (0..20).map(|i| cache.get("t", Duration::ZERO, counted(&reads, i))),
        )
        .await;
        assert_eq!(
            reads.load(Ordering::SeqCst),
            1,
            "one read for twenty requests"
        );
        assert!(all.iter().all(|r| *r.as_ref().expect("ok").value == 0));
    }

    #[tokio::test]
    async fn a_reader_that_goes_away_hands_the_read_to_the_next_waiter() {
        let cache = std::sync::Arc::new(TenantCache::<u32>::named("test"));
        let started = std::sync::Arc::new(tokio::sync::Notify::new());
        let abandoned = {
            let cache = cache.clone();
            let started = started.clone();
            tokio::spawn(async move {
                cache
                    .get("t", LONG, async {
                        started.notify_one();
                        std::future::pending::<Result<u32, ()>>().await
                    })
                    .await
            })
        };
        started.notified().await;
        abandoned.abort();
        let _ = abandoned.await;
        let value = tokio::time::timeout(
            Duration::from_secs(1),
            cache.get("t", LONG, async { Ok::<_, ()>(7) }),
        )
        .await
        .expect("not stuck behind the abandoned read")
        .expect("read");
        assert_eq!(*value.value, 7);
    }

    #[tokio::test]
    async fn an_invalidation_drops_the_entry_and_a_read_begun_before_it_is_not_kept() {
        let cache = std::sync::Arc::new(TenantCache::<u32>::named("test"));
        cache
            .get("t", LONG, async { Ok::<_, ()>(1) })
            .await
            .expect("read");
        cache.invalidate("t");
        let reads = AtomicUsize::new(0);
        assert_eq!(
            *cache
                .get("t", LONG, counted(&reads, 2))
                .await
                .expect("read")
                .value,
            2
        );
        // A read in flight while a write invalidates: answered, not kept.
        let (gate_tx, gate_rx) = tokio::sync::oneshot::channel::<()>();
        let slow = {
            let cache = cache.clone();
            tokio::spawn(async move {
                cache
                    .get("t", Duration::ZERO, async {
                        let _ = gate_rx.await;
                        Ok::<_, ()>(3)
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        cache.invalidate("t");
        gate_tx.send(()).expect("gate");
        assert_eq!(*slow.await.expect("task").expect("read").value, 3);
        let after = cache
            .get("t", LONG, counted(&reads, 4))
            .await
            .expect("read");
        assert_eq!(*after.value, 4, "the pre-write read was not kept");
    }

    #[tokio::test]
    async fn a_failed_read_is_not_kept() {
        let cache = TenantCache::<u32>::named("test");
        let failed: Result<Aged<u32>, &str> = cache.get("t", LONG, async { Err("down") }).await;
        assert!(failed.is_err());
        let next = cache
            .get("t", LONG, async { Ok::<_, &str>(5) })
            .await
            .expect("read");
        assert_eq!(*next.value, 5);
    }
}
