//! The audit of one write, shared by the audited use cases (the policy change, the
//! registration-protection deploy).
//!
//! A decision made before any upstream call (a refusal, nothing to change) is one complete
//! record. A change is two-phase (see [`crate::store::audit`]): [`AuditTrail::attempt`] commits
//! the attempt durably and must return before the first upstream call; [`OpenAttempt::complete`]
//! records the outcome. An attempt dropped without its outcome — the request's future was
//! cancelled mid-change (the caller went away, a timeout) — is completed as `unknown`, so it
//! never stays `attempted` for longer than the change could take.

use serde::Serialize;
use serde_json::Value;

use super::OpsError;
use crate::auth::Caller;
use crate::directory::tenants::ManagedTenant;
use crate::store::Store;
use crate::store::audit::{Actor, AuditLog, Completion, NewAttempt, NewAuditRecord, Outcome};

/// The error of an attempt whose request ended before its outcome was recorded.
pub const CANCELLED: &str = "The request ended before the outcome of this attempt was recorded \
     (the caller went away or the request timed out): the change may have been made in part. \
     Read the tenant's current state to find out.";

/// `value` as JSON for a record; `None` if it does not serialize (our own types always do).
pub(crate) fn json(value: &impl Serialize) -> Option<Value> {
    serde_json::to_value(value).ok()
}

/// Who writes what to which tenant, for every record of one request.
pub(crate) struct AuditTrail<'a> {
    store: &'a Store,
    caller: &'a Caller,
    tenant: &'a ManagedTenant,
    operation: &'static str,
    request_id: Option<String>,
}

impl<'a> AuditTrail<'a> {
    pub(crate) fn new(
        store: &'a Store,
        caller: &'a Caller,
        tenant: &'a ManagedTenant,
        operation: &'static str,
        request_id: Option<String>,
    ) -> Self {
        AuditTrail {
            store,
            caller,
            tenant,
            operation,
            request_id,
        }
    }

    /// Records a refusal made before any upstream call, with what was asked.
    pub(crate) async fn refused(
        &self,
        before: Option<Value>,
        after: Option<Value>,
        diff: Option<Value>,
        error: String,
    ) -> Result<i64, OpsError> {
        self.decided(Outcome::Refused, before, after, diff, Some(error))
            .await
    }

    /// Records a request that asked for what the tenant already has: nothing was written.
    pub(crate) async fn no_change(&self, current: Option<Value>) -> Result<i64, OpsError> {
        self.decided(
            Outcome::NoChange,
            current.clone(),
            current,
            Some(Value::Array(Vec::new())),
            None,
        )
        .await
    }

    /// Commits the attempt durably. No upstream call may be made before this returns `Ok`.
    pub(crate) async fn attempt(
        &self,
        before: Option<Value>,
        planned_after: Option<Value>,
        planned_diff: Option<Value>,
    ) -> Result<OpenAttempt, OpsError> {
        let log = self.store.audit();
        let id = log
            .attempt(NewAttempt {
                request_id: self.request_id.clone(),
                actor: Actor::from(self.caller),
                tenant_id: self.tenant.id.clone(),
                operation: self.operation.to_owned(),
                before,
                after: planned_after,
                diff: planned_diff,
            })
            .await
            .map_err(OpsError::Store)?;
        Ok(OpenAttempt {
            log,
            id,
            open: true,
        })
    }

    async fn decided(
        &self,
        outcome: Outcome,
        before: Option<Value>,
        after: Option<Value>,
        diff: Option<Value>,
        error: Option<String>,
    ) -> Result<i64, OpsError> {
        self.store
            .audit()
            .append(NewAuditRecord {
                request_id: self.request_id.clone(),
                actor: Actor::from(self.caller),
                tenant_id: self.tenant.id.clone(),
                operation: self.operation.to_owned(),
                before,
                after,
                diff,
                outcome,
                error,
                compensation: None,
            })
            .await
            .map_err(OpsError::Store)
    }
}

/// An attempt recorded and not yet completed.
#[must_use = "an attempt is completed with its outcome"]
pub(crate) struct OpenAttempt {
    log: AuditLog,
    id: i64,
    open: bool,
}

impl OpenAttempt {
    /// Records the outcome and returns the record's id.
    pub(crate) async fn complete(mut self, completion: Completion) -> Result<i64, OpsError> {
        // Once called, the completion is written even if this future is dropped (the store
        // runs it on the blocking pool), so the drop guard must not write a second one.
        self.open = false;
        self.log
            .complete(self.id, completion)
            .await
            .map_err(OpsError::Store)?;
        Ok(self.id)
    }
}

impl Drop for OpenAttempt {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let (log, id) = (self.log.clone(), self.id);
        // Without a runtime (the process is going down) the next start-up closes it instead.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = log.complete(id, Completion::unknown(CANCELLED)).await {
                    tracing::error!(%error, attempt = id, "cannot record a cancelled audit attempt");
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit::{AuditFilter, AuditRecord};

    async fn open_attempt(store: &Store) -> OpenAttempt {
        let log = store.audit();
        let id = log
            .attempt(NewAttempt {
                request_id: Some("req-1".into()),
                actor: Actor::default(),
                tenant_id: "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17".into(),
                operation: "policy.patch".into(),
                before: None,
                after: None,
                diff: None,
            })
            .await
            .expect("attempt");
        OpenAttempt {
            log,
            id,
            open: true,
        }
    }

    async fn only_record(store: &Store) -> AuditRecord {
        let mut records = store
            .audit()
            .query(AuditFilter::default())
            .await
            .expect("query")
            .records;
        assert_eq!(records.len(), 1);
        records.remove(0)
    }

    /// The record once it has an outcome (the drop guard completes it in a spawned task).
    async fn completed(store: &Store) -> AuditRecord {
        for _ in 0..200 {
            let record = only_record(store).await;
            if record.outcome != Outcome::Attempted {
                return record;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("the attempt was never completed");
    }

    #[tokio::test]
    async fn an_attempt_dropped_without_its_outcome_is_completed_as_unknown() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("sspr.db"))
            .await
            .expect("store");
        drop(open_attempt(&store).await);
        let record = completed(&store).await;
        assert_eq!(record.outcome, Outcome::Unknown);
        assert_eq!(record.error.as_deref(), Some(CANCELLED));

        // So is one whose completion was asked for but never ran (its future was dropped
        // before its first poll, as a cancelled request's is).
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("sspr.db"))
            .await
            .expect("store");
        let never_polled = open_attempt(&store)
            .await
            .complete(Completion::new(Outcome::Succeeded));
        drop(never_polled);
        assert_eq!(completed(&store).await.outcome, Outcome::Unknown);
    }
}
