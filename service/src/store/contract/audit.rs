//! The audit trail's contract, run against both back ends: what [`AuditLog`] promises holds
//! on SQLite and on PostgreSQL alike.

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::{CONTOSO, FABRIKAM, Harness, all, attempt, instant, record};
use crate::store::StoreError;
use crate::store::audit::{AuditFilter, AuditPage, Completion, MAX_ERROR_CHARS, Outcome};

super::contract_tests!(
    appended_records_come_back_newest_first_with_every_field,
    filters_by_tenant_actor_outcome_and_time,
    pages_follow_the_cursor_and_stay_stable_while_records_are_appended,
    an_attempt_reads_attempted_until_its_completion,
    an_attempt_is_completed_once_and_only_an_existing_one,
    the_outcome_filter_knows_attempted_no_change_and_unknown,
    records_survive_closing_and_reopening_the_store,
    long_errors_are_cut,
);

async fn appended_records_come_back_newest_first_with_every_field(harness: &Harness) {
    let audit = harness.open().await.audit();
    let before = OffsetDateTime::now_utc() - Duration::seconds(1);
    let first = record(CONTOSO, "ada@contoso.com", Outcome::RolledBack);
    let id1 = audit.append(first.clone()).await.expect("append");
    let id2 = audit
        .append(record(FABRIKAM, "bob@fabrikam.com", Outcome::Succeeded))
        .await
        .expect("append");
    assert!(id2 > id1, "ids increase");

    let page = audit.query(all()).await.expect("query");
    assert_eq!(
        page.records.iter().map(|r| r.id).collect::<Vec<_>>(),
        [id2, id1]
    );
    assert_eq!(page.next, None);
    let got = &page.records[1];
    assert_eq!(got.request_id, first.request_id);
    assert_eq!(got.actor, first.actor);
    assert_eq!(got.tenant_id, CONTOSO);
    assert_eq!(got.operation, "policy.patch");
    assert_eq!(
        (&got.before, &got.after, &got.diff),
        (&first.before, &first.after, &first.diff)
    );
    assert_eq!(got.outcome, Outcome::RolledBack);
    assert_eq!(got.error.as_deref(), Some("portal PUT failed"));
    assert_eq!(got.compensation, first.compensation);
    let time = instant(&got.time);
    assert!(time > before && time <= OffsetDateTime::now_utc());
    assert_eq!(time.offset(), time::UtcOffset::UTC);
}

async fn filters_by_tenant_actor_outcome_and_time(harness: &Harness) {
    let audit = harness.open().await.audit();
    let a = audit
        .append(record(CONTOSO, "ada@contoso.com", Outcome::Succeeded))
        .await
        .expect("append");
    let b = audit
        .append(record(FABRIKAM, "ada@contoso.com", Outcome::Refused))
        .await
        .expect("append");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let midpoint = OffsetDateTime::now_utc();
    let c = audit
        .append(record(CONTOSO, "bob@contoso.com", Outcome::Failed))
        .await
        .expect("append");
    let ids = |page: AuditPage| page.records.iter().map(|r| r.id).collect::<Vec<_>>();

    let tenant = AuditFilter {
        tenants: Some(vec![CONTOSO.to_uppercase()]),
        ..all()
    };
    assert_eq!(ids(audit.query(tenant).await.expect("q")), [c, a]);
    let none = AuditFilter {
        tenants: Some(vec![]),
        ..all()
    };
    assert_eq!(ids(audit.query(none).await.expect("q")), Vec::<i64>::new());
    for actor in ["ADA@contoso.com", "oid-ada@contoso.com"] {
        let by_actor = AuditFilter {
            actor: Some(actor.to_owned()),
            ..all()
        };
        assert_eq!(ids(audit.query(by_actor).await.expect("q")), [b, a]);
    }
    let by_app = AuditFilter {
        actor: Some("cli-app".to_owned()),
        ..all()
    };
    assert_eq!(ids(audit.query(by_app).await.expect("q")), [c, b, a]);
    let refused = AuditFilter {
        outcome: Some(Outcome::Refused),
        ..all()
    };
    assert_eq!(ids(audit.query(refused).await.expect("q")), [b]);
    let since = AuditFilter {
        since: Some(midpoint.to_offset(time::macros::offset!(+2))),
        ..all()
    };
    assert_eq!(ids(audit.query(since).await.expect("q")), [c]);
    let combined = AuditFilter {
        tenants: Some(vec![CONTOSO.to_owned()]),
        actor: Some("ada@contoso.com".to_owned()),
        outcome: Some(Outcome::Succeeded),
        ..all()
    };
    assert_eq!(ids(audit.query(combined).await.expect("q")), [a]);
}

async fn pages_follow_the_cursor_and_stay_stable_while_records_are_appended(harness: &Harness) {
    let audit = harness.open().await.audit();
    let mut appended = Vec::new();
    for i in 0..7 {
        let tenant = if i % 2 == 0 { CONTOSO } else { FABRIKAM };
        appended.push(
            audit
                .append(record(tenant, "ada@contoso.com", Outcome::Succeeded))
                .await
                .expect("append"),
        );
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = audit
            .query(AuditFilter {
                cursor,
                limit: 3,
                ..AuditFilter::default()
            })
            .await
            .expect("page");
        pages += 1;
        assert!(page.records.len() <= 3);
        seen.extend(page.records.iter().map(|r| r.id));
        // A record appended between pages does not shift or repeat later pages.
        audit
            .append(record(CONTOSO, "late@contoso.com", Outcome::Failed))
            .await
            .expect("append");
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    appended.reverse();
    assert_eq!(seen, appended);
    assert_eq!(pages, 3);
}

async fn an_attempt_reads_attempted_until_its_completion(harness: &Harness) {
    let audit = harness.open().await.audit();
    let planned = attempt(CONTOSO, "ada@contoso.com");
    let id = audit.append(planned.clone()).await.expect("attempt");

    let open = audit.query(all()).await.expect("query").records.remove(0);
    assert_eq!(open.id, id);
    assert_eq!(open.outcome, Outcome::Attempted);
    assert_eq!(open.completed_at, None);
    assert_eq!(open.request_id, planned.request_id);
    assert_eq!(open.actor, planned.actor);
    assert_eq!(
        (&open.before, &open.after),
        (&planned.before, &planned.after)
    );
    assert_eq!(open.diff, planned.diff);
    assert_eq!((&open.error, &open.compensation), (&None, &None));

    let read_back = json!({"registration": {"reconfirmationInDays": 91}});
    audit
        .complete(
            id,
            Completion {
                outcome: Outcome::Succeeded,
                after: Some(read_back.clone()),
                diff: None,
                error: None,
                compensation: None,
            },
        )
        .await
        .expect("complete");
    let done = audit.query(all()).await.expect("query").records.remove(0);
    assert_eq!(done.id, id);
    assert_eq!(done.outcome, Outcome::Succeeded);
    assert_eq!(done.after, Some(read_back), "after as read back");
    assert_eq!(
        done.diff, planned.diff,
        "no completed diff: the planned one"
    );
    assert_eq!(done.before, planned.before);
    assert_eq!(done.time, open.time, "the attempt's time stays");
    let completed_at = done.completed_at.expect("completed_at");
    assert!(
        instant(&completed_at) >= instant(&done.time),
        "{completed_at} {}",
        done.time
    );

    // A completion with its own diff and an error shows those.
    let second = audit
        .append(attempt(CONTOSO, "bob@contoso.com"))
        .await
        .expect("attempt");
    audit
        .complete(
            second,
            Completion {
                outcome: Outcome::Failed,
                after: None,
                diff: Some(json!({"attempts": ["PATCH x: failed"]})),
                error: Some("Graph refused".into()),
                compensation: Some(json!([])),
            },
        )
        .await
        .expect("complete");
    let failed = audit.query(all()).await.expect("query").records.remove(0);
    assert_eq!(failed.outcome, Outcome::Failed);
    assert_eq!(
        failed.after, planned.after,
        "no read back: the planned after"
    );
    assert_eq!(failed.diff, Some(json!({"attempts": ["PATCH x: failed"]})));
    assert_eq!(failed.error.as_deref(), Some("Graph refused"));
    assert_eq!(failed.compensation, Some(json!([])));
}

async fn an_attempt_is_completed_once_and_only_an_existing_one(harness: &Harness) {
    let audit = harness.open().await.audit();
    let id = audit
        .append(attempt(CONTOSO, "ada@contoso.com"))
        .await
        .expect("attempt");
    audit
        .complete(id, Completion::unknown("first"))
        .await
        .expect("first completion");
    let second = Completion {
        outcome: Outcome::Succeeded,
        after: None,
        diff: None,
        error: None,
        compensation: None,
    };
    let error = audit
        .complete(id, second.clone())
        .await
        .expect_err("second completion");
    assert!(
        error.to_string().contains("already has its outcome"),
        "{error}"
    );
    let error = audit
        .complete(id + 100, second)
        .await
        .expect_err("no such attempt");
    assert!(
        error.to_string().contains("needs the attempt it completes"),
        "{error}"
    );
    let error = audit
        .complete(
            id,
            Completion {
                outcome: Outcome::Attempted,
                ..Completion::unknown("")
            },
        )
        .await
        .expect_err("attempted is not an outcome");
    assert!(matches!(error, StoreError::Invalid(_)), "{error}");

    let records = audit.query(all()).await.expect("query").records;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, Outcome::Unknown);
    assert_eq!(records[0].error.as_deref(), Some("first"));
}

async fn the_outcome_filter_knows_attempted_no_change_and_unknown(harness: &Harness) {
    let gone = harness.open().await;
    let abandoned = gone
        .audit()
        .append(attempt(CONTOSO, "gone@contoso.com"))
        .await
        .expect("attempt");
    let audit = harness.reopen_after_crash(gone).await.audit();
    let in_flight = audit
        .append(attempt(CONTOSO, "ada@contoso.com"))
        .await
        .expect("attempt");
    let no_change = audit
        .append(record(CONTOSO, "ada@contoso.com", Outcome::NoChange))
        .await
        .expect("append");
    let succeeded = audit
        .append(record(FABRIKAM, "ada@contoso.com", Outcome::Succeeded))
        .await
        .expect("append");
    let ids = |outcome: Outcome| {
        let audit = audit.clone();
        async move {
            audit
                .query(AuditFilter {
                    outcome: Some(outcome),
                    ..all()
                })
                .await
                .expect("query")
                .records
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(Outcome::Attempted).await, [in_flight]);
    assert_eq!(ids(Outcome::NoChange).await, [no_change]);
    assert_eq!(ids(Outcome::Unknown).await, [abandoned]);
    assert_eq!(ids(Outcome::Succeeded).await, [succeeded]);
    assert_eq!(ids(Outcome::Refused).await, Vec::<i64>::new());
    // With other filters too.
    let contoso_attempted = audit
        .query(AuditFilter {
            tenants: Some(vec![CONTOSO.to_owned()]),
            actor: Some("ada@contoso.com".into()),
            outcome: Some(Outcome::Attempted),
            ..all()
        })
        .await
        .expect("query");
    assert_eq!(
        contoso_attempted
            .records
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [in_flight]
    );
}

async fn records_survive_closing_and_reopening_the_store(harness: &Harness) {
    let mut ids = Vec::new();
    {
        let store = harness.open().await;
        // Every outcome but `attempted`: an open attempt would be closed on reopening.
        for outcome in Outcome::ALL.into_iter().skip(1) {
            ids.push(
                store
                    .audit()
                    .append(record(CONTOSO, "ada@contoso.com", outcome))
                    .await
                    .expect("append"),
            );
        }
    }
    let reopened = harness.open().await;
    let page = reopened.audit().query(all()).await.expect("query");
    ids.reverse();
    assert_eq!(page.records.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    // Ids keep increasing after a reopen (never reused).
    let next = reopened
        .audit()
        .append(record(CONTOSO, "ada@contoso.com", Outcome::Refused))
        .await
        .expect("append");
    assert!(next > ids[0]);
}

async fn long_errors_are_cut(harness: &Harness) {
    let audit = harness.open().await.audit();
    let mut long = record(CONTOSO, "ada@contoso.com", Outcome::Failed);
    long.error = Some("x".repeat(MAX_ERROR_CHARS + 10));
    audit.append(long).await.expect("append");
    let page = audit.query(all()).await.expect("query");
    let error = page.records[0].error.as_deref().expect("error");
    assert_eq!(error.chars().count(), MAX_ERROR_CHARS + 1);
    assert!(error.ends_with('…'));
}

#[test]
fn outcomes_parse_exactly_as_serialized() {
    for outcome in Outcome::ALL {
        let json = serde_json::to_value(outcome).expect("json");
        assert_eq!(json, outcome.as_str());
        assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
    }
    assert_eq!(Outcome::parse("Succeeded"), None);
}
