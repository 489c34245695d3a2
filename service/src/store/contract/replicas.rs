//! What only a shared database has: several replicas appending to one trail, and the attempts
//! of a replica that died completed by another once it has been unseen for longer than the
//! bound. PostgreSQL only (skipped without a server, failed on CI without one).

use std::time::Duration;

use super::{CONTOSO, FABRIKAM, all, attempt, record};
use crate::store::audit::{ABANDONED, Outcome};
use crate::store::postgres::PgStore;
use crate::store::postgres::replicas::ABANDONED_AFTER;
use crate::store::testing::TestDatabase;

/// Just past the bound after which a replica counts as gone.
pub(super) const PAST_THE_BOUND: Duration = ABANDONED_AFTER.saturating_add(Duration::from_secs(1));

/// Makes replica `id` look as if it was last seen `ago`: how a replica that died looks once
/// that long has passed, without waiting for it.
pub(super) async fn unseen_for(store: &PgStore, id: &str, ago: Duration) {
    let updated = store
        .client()
        .await
        .expect("client")
        .execute(
            "UPDATE replicas SET seen_at = now() - make_interval(secs => $2) WHERE id = $1",
            &[&id, &ago.as_secs_f64()],
        )
        .await
        .expect("backdate the heartbeat");
    assert_eq!(updated, 1, "replica {id} has a row");
}

#[tokio::test]
async fn two_replicas_appending_at_once_get_unique_increasing_ids() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let config = database.config();
    let (one, two) = tokio::join!(PgStore::connect(&config), PgStore::connect(&config));
    let (one, two) = (one.expect("replica one"), two.expect("replica two"));
    assert_ne!(one.replica_id(), two.replica_id());
    let appends = |store: PgStore, tenant: &'static str| async move {
        let audit = store.audit();
        let mut ids = Vec::new();
        for _ in 0..25 {
            ids.push(
                audit
                    .append(record(tenant, "ada@contoso.com", Outcome::Succeeded))
                    .await
                    .expect("append"),
            );
        }
        ids
    };
    let (from_one, from_two) = tokio::join!(
        tokio::spawn(appends(one.clone(), CONTOSO)),
        tokio::spawn(appends(two.clone(), FABRIKAM))
    );
    let (from_one, from_two) = (from_one.expect("task"), from_two.expect("task"));
    for ids in [&from_one, &from_two] {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    }
    let mut every: Vec<i64> = from_one.iter().chain(&from_two).copied().collect();
    every.sort_unstable();
    every.dedup();
    assert_eq!(every.len(), 50, "no id given twice");

    // Both replicas read the one trail, newest first.
    for store in [&one, &two] {
        let listed: Vec<i64> = store
            .audit()
            .query(all())
            .await
            .expect("query")
            .records
            .iter()
            .map(|r| r.id)
            .collect();
        let mut newest_first = every.clone();
        newest_first.reverse();
        assert_eq!(listed, newest_first);
    }
}

#[tokio::test]
async fn a_dead_replicas_attempt_is_closed_by_another_only_after_the_bound() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let dying = PgStore::connect(&database.config()).await.expect("replica");
    let dying_id = dying.replica_id().to_owned();
    let abandoned = dying
        .audit()
        .append(attempt(CONTOSO, "ada@contoso.com"))
        .await
        .expect("attempt");
    // Starting closes nothing of a replica seen just now.
    let survivor = PgStore::connect(&database.config()).await.expect("replica");
    drop(dying);
    let in_flight = survivor
        .audit()
        .append(attempt(FABRIKAM, "bob@fabrikam.com"))
        .await
        .expect("attempt");
    let outcome = |id: i64| {
        let audit = survivor.audit();
        async move {
            audit
                .query(all())
                .await
                .expect("query")
                .records
                .into_iter()
                .find(|r| r.id == id)
                .expect("record")
        }
    };
    assert_eq!(outcome(abandoned).await.outcome, Outcome::Attempted);

    unseen_for(
        &survivor,
        &dying_id,
        ABANDONED_AFTER - Duration::from_secs(1),
    )
    .await;
    assert_eq!(survivor.close_abandoned().await.expect("close"), 0);
    assert_eq!(outcome(abandoned).await.outcome, Outcome::Attempted);

    unseen_for(&survivor, &dying_id, PAST_THE_BOUND).await;
    assert_eq!(survivor.close_abandoned().await.expect("close"), 1);
    let closed = outcome(abandoned).await;
    assert_eq!(closed.outcome, Outcome::Unknown);
    assert_eq!(closed.error.as_deref(), Some(ABANDONED));
    assert!(closed.completed_at.is_some());
    assert_eq!(
        outcome(in_flight).await.outcome,
        Outcome::Attempted,
        "a live replica's attempt stays open"
    );
    assert_eq!(survivor.close_abandoned().await.expect("close"), 0, "once");
    // The live replica completes its own attempt as usual.
    survivor
        .audit()
        .complete(
            in_flight,
            crate::store::audit::Completion::new(Outcome::Succeeded),
        )
        .await
        .expect("complete");
}

#[tokio::test]
async fn the_database_refuses_changing_or_removing_audit_records() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let store = PgStore::connect(&database.config())
        .await
        .expect("connects");
    let id = store
        .audit()
        .append(record(CONTOSO, "ada@contoso.com", Outcome::Succeeded))
        .await
        .expect("append");
    // As the tables' owner with psql would: the guards are the database's, not the service's.
    let client = store.client().await.expect("client");
    for sql in [
        "UPDATE audit_attempts SET operation = 'forged'",
        "DELETE FROM audit_attempts",
        "TRUNCATE audit_attempts CASCADE",
        "UPDATE audit_completions SET outcome = 'failed', error = NULL",
        "DELETE FROM audit_completions",
        "TRUNCATE audit_completions",
        "INSERT INTO audit_completions (attempt_id, time, outcome)
         SELECT attempt_id, time, 'refused' FROM audit_completions
         ON CONFLICT (attempt_id) DO UPDATE SET outcome = 'refused'",
    ] {
        let error = client.batch_execute(sql).await.expect_err(sql);
        let message = crate::store::postgres::connection::chain(&error);
        assert!(message.contains("append-only"), "{sql}: {message}");
    }
    let page = store.audit().query(all()).await.expect("query");
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].id, id);
    assert_eq!(page.records[0].operation, "policy.patch");
    assert_eq!(page.records[0].outcome, Outcome::Succeeded);
}
