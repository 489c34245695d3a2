//! The audit of one write, shared by the audited use cases (the policy change, the
//! registration-protection deploy).
//!
//! A decision made before any upstream call (a refusal, nothing to change) is one complete
//! record. A change is two-phase (see [`crate::store::audit`]): [`AuditTrail::attempt`] commits
//! the attempt durably and must return before the first upstream call; [`OpenAttempt::complete`]
//! records the outcome. An attempt dropped without its outcome — the request's future was
//! cancelled mid-change (the caller went away, a timeout) — is completed as `unknown`, so it
//! never stays `attempted` for longer than the change could take.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
#[cfg(test)]
use serde_json::json;

use super::OpsError;
use crate::auth::Caller;
use crate::capabilities::audit_log::{Actor, AuditLog, Completion, NewAuditRecord, Outcome};
use crate::directory::tenants::ManagedTenant;
use crate::telemetry::AuditPhase;

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
    log: Arc<dyn AuditLog>,
    caller: &'a Caller,
    tenant_id: String,
    operation: &'static str,
    request_id: Option<String>,
}

impl<'a> AuditTrail<'a> {
    /// The trail of `operation` by `caller` on `tenant`, recorded in `log`.
    pub(crate) fn to(
        log: Arc<dyn AuditLog>,
        caller: &'a Caller,
        tenant: &ManagedTenant,
        operation: &'static str,
        request_id: Option<String>,
    ) -> Self {
        AuditTrail {
            log,
            caller,
            tenant_id: tenant.id.clone(),
            operation,
            request_id,
        }
    }

    /// The trail of `operation` on the service itself rather than one tenant (access grants):
    /// its records name the tenant `*`, so only callers who see every tenant see them.
    pub(crate) fn fleet(
        log: Arc<dyn AuditLog>,
        caller: &'a Caller,
        operation: &'static str,
        request_id: Option<String>,
    ) -> Self {
        AuditTrail {
            log,
            caller,
            tenant_id: "*".to_owned(),
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
        self.append(Outcome::Refused, before, after, diff, Some(error))
            .await
    }

    /// Records a request that asked for what the tenant already has: nothing was written.
    pub(crate) async fn no_change(&self, current: Option<Value>) -> Result<i64, OpsError> {
        self.append(
            Outcome::NoChange,
            current.clone(),
            current,
            Some(Value::Array(Vec::new())),
            None,
        )
        .await
    }

    /// Runs `change` of the service's own state (the tenant registry, access grants) between
    /// its attempt and its outcome: nothing changes before the attempt is durable, a change
    /// that fails is recorded as failed, one that never finished as unknown.
    pub(crate) async fn around<T>(
        &self,
        before: Option<Value>,
        after: Option<Value>,
        change: impl std::future::Future<Output = Result<T, OpsError>>,
    ) -> Result<T, OpsError> {
        let attempt = self.attempt(before, after, None).await?;
        match change.await {
            Ok(value) => {
                attempt
                    .complete(Completion::new(Outcome::Succeeded))
                    .await?;
                Ok(value)
            }
            Err(error) => {
                attempt
                    .complete(Completion::new(Outcome::Failed).error(error.to_string()))
                    .await?;
                Err(error)
            }
        }
    }

    /// Commits the attempt durably. No upstream call may be made before this returns `Ok`.
    pub(crate) async fn attempt(
        &self,
        before: Option<Value>,
        planned_after: Option<Value>,
        planned_diff: Option<Value>,
    ) -> Result<OpenAttempt, OpsError> {
        let id = self
            .append(
                Outcome::Attempted,
                before,
                planned_after,
                planned_diff,
                None,
            )
            .await?;
        Ok(OpenAttempt {
            log: Arc::clone(&self.log),
            id,
            open: true,
        })
    }

    async fn append(
        &self,
        outcome: Outcome,
        before: Option<Value>,
        after: Option<Value>,
        diff: Option<Value>,
        error: Option<String>,
    ) -> Result<i64, OpsError> {
        let appended = self
            .log
            .append(NewAuditRecord {
                request_id: self.request_id.clone(),
                actor: Actor::from(self.caller),
                tenant_id: self.tenant_id.clone(),
                operation: self.operation.to_owned(),
                before,
                after,
                diff,
                outcome,
                error,
                compensation: None,
            })
            .await;
        crate::telemetry::record::audit_write(AuditPhase::Append, appended.is_ok());
        appended.map_err(OpsError::Store)
    }
}

/// An attempt recorded and not yet completed.
#[must_use = "an attempt is completed with its outcome"]
pub(crate) struct OpenAttempt {
    log: Arc<dyn AuditLog>,
    id: i64,
    open: bool,
}

impl OpenAttempt {
    /// Records the outcome and returns the record's id.
    pub(crate) async fn complete(mut self, completion: Completion) -> Result<i64, OpsError> {
        // Once called, the completion is written even if this future is dropped (the store
        // runs it on the blocking pool), so the drop guard must not write a second one.
        self.open = false;
        let completed = self.log.complete(self.id, completion).await;
        crate::telemetry::record::audit_write(AuditPhase::Complete, completed.is_ok());
        completed.map_err(OpsError::Store)?;
        Ok(self.id)
    }
}

impl Drop for OpenAttempt {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let (log, id) = (Arc::clone(&self.log), self.id);
        // Without a runtime (the process is going down) the next start-up closes it instead.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let record = async move {
                let completed = log.complete(id, Completion::unknown(CANCELLED)).await;
                crate::telemetry::record::audit_write(AuditPhase::Complete, completed.is_ok());
                if let Err(error) = completed {
                    tracing::error!(%error, attempt = id, "cannot record a cancelled audit attempt");
                }
            };
            runtime.spawn(tracing::Instrument::in_current_span(record));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;
    use crate::capabilities::audit_log::{AuditFilter, AuditRecord};
    use crate::ops::fake_audit_log::FakeAuditLog;
    use crate::store::Store;

    const TENANT: &str = "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17";

    static CALLER: LazyLock<Caller> = LazyLock::new(|| Caller::for_tests(&["SSPR.ReadWrite"]));
    static CONTOSO: LazyLock<ManagedTenant> =
        LazyLock::new(|| ManagedTenant::for_tests(TENANT, "contoso.example"));

    /// A fresh fake log and the trail of a policy change without a request id into it.
    fn policy_trail() -> (Arc<FakeAuditLog>, AuditTrail<'static>) {
        let log = Arc::new(FakeAuditLog::default());
        let trail = AuditTrail::to(log.clone(), &CALLER, &CONTOSO, "policy.patch", None);
        (log, trail)
    }

    /// Record `index` of `log` once the tasks a drop guard spawned have run (the test runtime
    /// has one thread), after exactly `completions` calls of `complete` in all.
    async fn record_after(log: &FakeAuditLog, index: usize, completions: usize) -> AuditRecord {
        for _ in 0..16 {
            tokio::task::yield_now().await;
        }
        assert_eq!(log.completions_asked(), completions);
        let mut records = log.records();
        assert_eq!(records.len(), index + 1);
        records.remove(index)
    }

    /// Asks for an attempt's completion and drops that future before its first poll, as a
    /// cancelled request does.
    async fn drop_a_completion_before_it_runs(trail: &AuditTrail<'_>) {
        let never_polled = trail
            .attempt(None, None, None)
            .await
            .expect("attempt")
            .complete(Completion::new(Outcome::Succeeded));
        drop(never_polled);
    }

    #[tokio::test]
    async fn an_attempt_dropped_before_it_completes_is_completed_unknown_as_cancelled() {
        let (log, trail) = policy_trail();
        let attempt = trail
            .attempt(Some(json!({"a": 1})), Some(json!({"a": 2})), None)
            .await
            .expect("attempt");
        assert_eq!(log.records()[0].outcome, Outcome::Attempted);
        drop(attempt);
        let record = record_after(&log, 0, 1).await;
        assert_eq!(record.outcome, Outcome::Unknown);
        assert_eq!(record.error.as_deref(), Some(CANCELLED));
        assert_eq!(record.after, Some(json!({"a": 2})), "the plan stays");

        // So is one whose completion was asked for but never polled (a cancelled request's).
        drop_a_completion_before_it_runs(&trail).await;
        let record = record_after(&log, 1, 2).await;
        assert_eq!(record.outcome, Outcome::Unknown);
    }

    #[tokio::test]
    async fn an_attempt_completes_exactly_once_with_its_outcome() {
        let log = Arc::new(FakeAuditLog::default());
        let trail = AuditTrail::to(
            log.clone(),
            &CALLER,
            &CONTOSO,
            "registrationProtection.apply",
            Some("req-7".into()),
        );
        let id = trail
            .attempt(None, Some(json!({"planned": true})), Some(json!([])))
            .await
            .expect("attempt")
            .complete(
                Completion::new(Outcome::RolledBack)
                    .error("step 2 failed")
                    .compensation(Some(json!([{"undo": 1}]))),
            )
            .await
            .expect("complete");
        // The drop guard of the completed attempt must not write a second completion.
        let record = record_after(&log, 0, 1).await;
        assert_eq!(record.id, id);
        assert_eq!(record.outcome, Outcome::RolledBack);
        assert_eq!(record.error.as_deref(), Some("step 2 failed"));
        assert_eq!(record.compensation, Some(json!([{"undo": 1}])));
        assert_eq!(record.request_id.as_deref(), Some("req-7"));
        assert_eq!(record.operation, "registrationProtection.apply");
        assert_eq!(record.tenant_id, TENANT);
        assert_eq!(record.actor, Actor::from(&*CALLER));
    }

    #[tokio::test]
    async fn a_refusal_is_one_complete_record_with_what_was_asked_and_why() {
        let (log, trail) = policy_trail();
        let id = trail
            .refused(
                Some(json!({"before": 1})),
                Some(json!({"after": 2})),
                Some(json!([{"path": "/x"}])),
                "stale If-Match".into(),
            )
            .await
            .expect("refused");
        // Decided before any upstream call: nothing is left open, nothing completed later.
        let record = record_after(&log, 0, 0).await;
        assert_eq!((record.id, record.outcome), (id, Outcome::Refused));
        assert!(record.completed_at.is_some());
        assert_eq!(record.before, Some(json!({"before": 1})));
        assert_eq!(record.after, Some(json!({"after": 2})));
        assert_eq!(record.error.as_deref(), Some("stale If-Match"));

        let unchanged = trail
            .no_change(Some(json!({"same": 1})))
            .await
            .expect("no change");
        let record = record_after(&log, 1, 0).await;
        assert_eq!((record.id, record.outcome), (unchanged, Outcome::NoChange));
        assert_eq!(record.before, record.after);
        assert_eq!(record.diff, Some(json!([])));
        assert_eq!(record.error, None);
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

    /// The record once it has an outcome (the drop guard completes it in a spawned task, and the
    /// store on its blocking pool).
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
    async fn in_the_sqlite_store_too_a_dropped_attempt_is_completed_as_unknown() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("sspr.db"))
            .await
            .expect("store");
        let trail = AuditTrail::to(store.audit(), &CALLER, &CONTOSO, "policy.patch", None);
        drop(trail.attempt(None, None, None).await.expect("attempt"));
        let record = completed(&store).await;
        assert_eq!(record.outcome, Outcome::Unknown);
        assert_eq!(record.error.as_deref(), Some(CANCELLED));

        // So is one whose completion was asked for but never ran (its future was dropped
        // before its first poll, as a cancelled request's is).
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("sspr.db"))
            .await
            .expect("store");
        let trail = AuditTrail::to(store.audit(), &CALLER, &CONTOSO, "policy.patch", None);
        drop_a_completion_before_it_runs(&trail).await;
        assert_eq!(completed(&store).await.outcome, Outcome::Unknown);
    }
}
