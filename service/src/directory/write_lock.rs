//! One change at a time per tenant, so that a write's `If-Match` check (or its look for the CA
//! policy's marker) still holds when it writes. Within the process a mutex; when replicas share
//! a store, also the store's lock for the tenant, taken after the mutex so that a replica's own
//! requests queue here rather than each holding a store connection while they wait.

use std::sync::Arc;

use crate::capabilities::coordination::{HeldLock, TenantLocks};
use crate::store::StoreError;

/// A tenant's write lock. Clones are the same lock: every version of a tenant's definition
/// shares it, since an update of the definition must not open a second door.
#[derive(Clone)]
pub struct WriteLock {
    tenant_id: String,
    local: Arc<tokio::sync::Mutex<()>>,
    shared: Option<Arc<dyn TenantLocks>>,
}

/// Held while a change is made; dropping it lets the next one in.
#[derive(Debug)]
pub struct WriteGuard<'a> {
    _shared: Option<HeldLock>,
    _local: tokio::sync::MutexGuard<'a, ()>,
}

impl std::fmt::Debug for WriteLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteLock")
            .field("tenant_id", &self.tenant_id)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl WriteLock {
    /// `tenant_id`'s lock, shared with other replicas through `shared` when there is one.
    pub fn new(tenant_id: &str, shared: Option<Arc<dyn TenantLocks>>) -> WriteLock {
        WriteLock {
            tenant_id: tenant_id.to_ascii_lowercase(),
            local: Arc::new(tokio::sync::Mutex::new(())),
            shared,
        }
    }

    /// Waits for the lock. Fails only when the shared store cannot be reached: then nothing
    /// may be written, since another replica could be writing.
    pub async fn lock(&self) -> Result<WriteGuard<'_>, StoreError> {
        let local = self.local.lock().await;
        let shared = match &self.shared {
            Some(locks) => Some(locks.lock(&self.tenant_id).await?),
            None => None,
        };
        Ok(WriteGuard {
            _shared: shared,
            _local: local,
        })
    }

    /// Whether `other` is this same lock.
    pub fn is(&self, other: &WriteLock) -> bool {
        Arc::ptr_eq(&self.local, &other.local)
    }
}
