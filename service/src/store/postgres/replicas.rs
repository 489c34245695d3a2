//! Which replicas are alive, so that the audit attempts of one that died are completed.
//!
//! With one SQLite file per process, every attempt still open when the file is opened belongs
//! to a process that is gone. With several replicas on one database an open attempt may be a
//! live replica's write in progress, so each replica has an id (a UUID per start, on every
//! attempt it makes) and a row in `replicas` whose `seen_at` its heartbeat task renews every
//! [`HEARTBEAT_EVERY`]. The open attempts of a replica not seen for longer than
//! [`ABANDONED_AFTER`] are completed as `unknown`, by whichever replica looks first: at start
//! and on every heartbeat. The database's clock (`now()`) is the only one compared, so the
//! replicas' clocks need not agree.
//!
//! A replica that stalls for longer than the bound (a paused VM) finds its attempts completed:
//! its own completion is then refused as a second one, and the operation reports a store error.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio::task::AbortHandle;

use super::{LOCK_SPACE, Lock, pooled};
use crate::store::StoreError;
use crate::store::audit::ABANDONED;

/// How often a replica renews its `seen_at` and looks for abandoned attempts.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// How long a replica may go unseen before its open attempts count as abandoned: many
/// heartbeats, so that a slow database or a busy replica is not taken for a dead one.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// Version 1: the replicas and their heartbeats (not audit records: rows change and go).
pub(super) const SCHEMA_V1: &str = "
CREATE TABLE replicas (
    id          text PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now()
);
";

/// This process as a replica: its id and its heartbeat task, stopped when dropped.
pub(super) struct Replica {
    id: String,
    heartbeat: AbortHandle,
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.heartbeat.abort();
    }
}

impl Replica {
    /// Registers a new replica, completes the attempts of those that are gone, and starts the
    /// heartbeat.
    pub(super) async fn start(pool: Pool, target: Arc<str>) -> Result<Replica, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        beat(&pool, &target, &id).await?;
        let abandoned = close_abandoned(&pool, &target).await?;
        if abandoned > 0 {
            tracing::warn!(
                store = %target,
                abandoned,
                "audit attempts of replicas that stopped are recorded as outcome unknown"
            );
        }
        let heartbeat = tokio::spawn({
            let id = id.clone();
            async move {
                let mut every = tokio::time::interval(HEARTBEAT_EVERY);
                every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                every.tick().await;
                loop {
                    every.tick().await;
                    let done = async {
                        beat(&pool, &target, &id).await?;
                        close_abandoned(&pool, &target).await
                    };
                    match done.await {
                        Ok(0) => {}
                        Ok(abandoned) => tracing::warn!(
                            store = %target,
                            abandoned,
                            "audit attempts of replicas that stopped are recorded as outcome unknown"
                        ),
                        // Not fatal: the next beat tries again; the bound allows many misses.
                        Err(error) => tracing::warn!(%error, "store heartbeat failed"),
                    }
                }
            }
        })
        .abort_handle();
        Ok(Replica { id, heartbeat })
    }

    pub(super) fn id(&self) -> &str {
        &self.id
    }
}

/// Records that replica `$1` is alive now, creating its row if another replica removed it.
/// An audit append runs it too, in its transaction: an attempt is never made by a replica
/// without a row, so the attempts of one that dies are always found.
pub(super) const BEAT: &str = "INSERT INTO replicas (id) VALUES ($1)
     ON CONFLICT (id) DO UPDATE SET seen_at = now()";

async fn beat(pool: &Pool, target: &str, id: &str) -> Result<(), StoreError> {
    pooled(pool, target).await?.execute(BEAT, &[&id]).await?;
    Ok(())
}

/// Completes as `unknown` the open attempts of the replicas not seen for longer than
/// [`ABANDONED_AFTER`], then forgets those replicas; how many attempts there were. One replica
/// at a time ([`Lock::CloseAbandoned`]), so two never complete the same attempt.
pub(super) async fn close_abandoned(pool: &Pool, target: &str) -> Result<u64, StoreError> {
    let mut client = pooled(pool, target).await?;
    let transaction = client.transaction().await?;
    transaction
        .execute(
            "SELECT pg_advisory_xact_lock($1, $2)",
            &[&LOCK_SPACE, &(Lock::CloseAbandoned as i32)],
        )
        .await?;
    let bound = ABANDONED_AFTER.as_secs_f64();
    let closed = transaction
        .execute(
            "INSERT INTO audit_completions (attempt_id, time, outcome, error)
             SELECT a.id, clock_timestamp(), 'unknown', $1
             FROM audit_attempts a JOIN replicas r ON r.id = a.replica_id
             WHERE r.seen_at <= now() - make_interval(secs => $2)
               AND NOT EXISTS (SELECT 1 FROM audit_completions c WHERE c.attempt_id = a.id)
             ORDER BY a.id",
            &[&ABANDONED, &bound],
        )
        .await?;
    // Their attempts are all complete now. A replica that was only stalled registers again with
    // its next beat or append; one whose append is committing now has renewed its row, which a
    // concurrent DELETE re-checks after the append's commit and keeps.
    transaction
        .execute(
            "DELETE FROM replicas WHERE seen_at <= now() - make_interval(secs => $1)",
            &[&bound],
        )
        .await?;
    transaction.commit().await?;
    Ok(closed)
}
