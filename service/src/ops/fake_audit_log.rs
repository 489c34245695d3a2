//! An in-memory [`AuditLog`] for the use cases' unit tests: the SQLite store's semantics (ids,
//! completing once, the view's planned-or-completed `after` and `diff`, filters and paging)
//! without a file. The test at the end checks that it answers queries as the store does, so the
//! use cases' tests stay honest.

use std::sync::Mutex;

use time::OffsetDateTime;

use crate::capabilities::audit_log::{
    AuditCursor, AuditFilter, AuditLog, AuditPage, AuditRecord, Completion, MAX_PAGE,
    NewAuditRecord, Outcome, format_record_time, parse_record_time,
};
use crate::store::StoreError;

#[derive(Default)]
pub(crate) struct FakeAuditLog {
    trail: Mutex<Trail>,
}

#[derive(Default)]
struct Trail {
    /// Oldest first; a record's id is its position plus one.
    records: Vec<AuditRecord>,
    /// Every call of `complete`, refused ones included.
    completions_asked: usize,
}

impl FakeAuditLog {
    /// Every record, oldest first.
    pub(crate) fn records(&self) -> Vec<AuditRecord> {
        self.trail().records.clone()
    }

    /// How often `complete` was called, refused calls included.
    pub(crate) fn completions_asked(&self) -> usize {
        self.trail().completions_asked
    }

    fn trail(&self) -> std::sync::MutexGuard<'_, Trail> {
        self.trail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Now, at the store's precision (microseconds), so that `since` compares as it does there.
fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_microsecond(now.microsecond())
        .expect("a microsecond of a valid time is valid")
}

/// [`now`] as a record spells it.
fn record_now() -> String {
    format_record_time(now()).expect("now is within RFC 3339's years")
}

#[async_trait::async_trait]
impl AuditLog for FakeAuditLog {
    async fn append(&self, record: NewAuditRecord) -> Result<i64, StoreError> {
        let mut trail = self.trail();
        let id = trail.records.len() as i64 + 1;
        let time = record_now();
        let attempted = record.outcome == Outcome::Attempted;
        trail.records.push(AuditRecord {
            id,
            time: time.clone(),
            completed_at: (!attempted).then_some(time),
            request_id: record.request_id,
            actor: record.actor,
            tenant_id: record.tenant_id.to_ascii_lowercase(),
            operation: record.operation,
            before: record.before,
            after: record.after,
            diff: record.diff,
            outcome: record.outcome,
            error: if attempted { None } else { record.error },
            compensation: if attempted { None } else { record.compensation },
        });
        Ok(id)
    }

    async fn complete(&self, id: i64, completion: Completion) -> Result<(), StoreError> {
        let mut trail = self.trail();
        trail.completions_asked += 1;
        completion.ensure_final(id)?;
        let record = usize::try_from(id - 1)
            .ok()
            .and_then(|index| trail.records.get_mut(index))
            .ok_or_else(|| {
                StoreError::Invalid("an audit completion needs the attempt it completes".into())
            })?;
        if record.outcome != Outcome::Attempted {
            return Err(StoreError::Invalid(
                "audit records are append-only: this attempt already has its outcome".into(),
            ));
        }
        record.completed_at = Some(record_now());
        record.outcome = completion.outcome;
        record.after = completion.after.or(record.after.take());
        record.diff = completion.diff.or(record.diff.take());
        record.error = completion.error;
        record.compensation = completion.compensation;
        Ok(())
    }

    async fn query(&self, filter: AuditFilter) -> Result<AuditPage, StoreError> {
        let limit = filter.limit.clamp(1, MAX_PAGE) as usize;
        let matches = |record: &&AuditRecord| {
            let actor = |wanted: &str| {
                [&record.actor.oid, &record.actor.upn, &record.actor.app_id]
                    .into_iter()
                    .flatten()
                    .any(|name| name.eq_ignore_ascii_case(wanted))
            };
            filter.tenants.as_ref().is_none_or(|tenants| {
                tenants
                    .iter()
                    .any(|t| t.eq_ignore_ascii_case(&record.tenant_id))
            }) && filter.actor.as_deref().is_none_or(actor)
                && filter.since.is_none_or(|since| {
                    parse_record_time(&record.time).is_some_and(|time| time >= since)
                })
                && filter.outcome.is_none_or(|o| record.outcome == o)
                && filter.cursor.is_none_or(|c| record.id < c.below_id())
        };
        let trail = self.trail();
        let mut records: Vec<AuditRecord> = trail
            .records
            .iter()
            .rev()
            .filter(matches)
            .take(limit + 1)
            .cloned()
            .collect();
        let next = if records.len() > limit {
            records.truncate(limit);
            records.last().map(|r| AuditCursor::below(r.id))
        } else {
            None
        };
        Ok(AuditPage { records, next })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::capabilities::audit_log::Actor;
    use crate::store::Store;

    const CONTOSO: &str = "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17";
    const FABRIKAM: &str = "8C2D4E6F-1A3B-4C5D-9E7F-0A1B2C3D4E5F";

    fn record(n: usize) -> NewAuditRecord {
        let outcome = Outcome::ALL[n % Outcome::ALL.len()];
        let upn = ["ada@contoso.com", "Bob@Fabrikam.com"][n % 2];
        NewAuditRecord {
            request_id: Some(format!("req-{n}")),
            actor: Actor {
                oid: Some(format!("oid-{}", n % 3)),
                upn: Some(upn.to_owned()),
                app_id: Some("cli-app".to_owned()),
                roles: vec!["SSPR.ReadWrite".to_owned()],
            },
            tenant_id: [CONTOSO, FABRIKAM][n % 3 % 2].to_owned(),
            operation: "policy.patch".to_owned(),
            before: Some(json!({"n": n})),
            after: Some(json!({"n": n + 1})),
            diff: Some(json!([{"path": "/n"}])),
            outcome,
            error: Some(format!("error {n}")),
            compensation: (outcome == Outcome::RolledBack).then(|| json!([{"undo": n}])),
        }
    }

    /// The same history in `log`: records of every outcome over two tenants and actors, some
    /// attempts completed (one with what was read back), one left open.
    async fn fill(log: &dyn AuditLog, numbers: std::ops::Range<usize>) {
        for n in numbers {
            let id = log.append(record(n)).await.expect("append");
            // Records of numbers divisible by 7 are attempts: 7 stays open.
            if n % 14 == 0 {
                log.complete(
                    id,
                    Completion::new(Outcome::Succeeded).after(Some(json!({"readBack": n}))),
                )
                .await
                .expect("complete");
            } else if n == 21 {
                log.complete(id, Completion::unknown("cut").diff(json!({"done": n})))
                    .await
                    .expect("complete");
            }
        }
    }

    /// The time every record of [`pages`] is given: only completed or not is compared.
    const EPOCH: &str = "1970-01-01T00:00:00Z";

    /// Every page `filter` selects, following the cursors; the times (each log's own clock)
    /// reduced to whether the record is completed.
    async fn pages(log: &dyn AuditLog, mut filter: AuditFilter) -> Vec<AuditPage> {
        let mut pages = Vec::new();
        loop {
            let mut page = log.query(filter.clone()).await.expect("query");
            for record in &mut page.records {
                record.time = EPOCH.to_owned();
                record.completed_at = record.completed_at.as_ref().map(|_| EPOCH.to_owned());
            }
            let next = page.next;
            pages.push(page);
            match next {
                Some(cursor) => filter.cursor = Some(cursor),
                None => return pages,
            }
        }
    }

    #[tokio::test]
    async fn the_fake_answers_every_query_as_the_sqlite_store_does() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path().join("sspr.db"))
            .await
            .expect("store");
        let sqlite = store.audit();
        let fake = FakeAuditLog::default();
        fill(&fake, 0..15).await;
        fill(sqlite.as_ref(), 0..15).await;
        // Both logs wrote the first half before this instant (the store's commits are fsynced,
        // so its last record is well before it) and the second half after.
        let middle = now();
        fill(sqlite.as_ref(), 15..30).await;
        fill(&fake, 15..30).await;

        let filters = [
            AuditFilter::default(),
            AuditFilter {
                limit: 4,
                ..AuditFilter::default()
            },
            AuditFilter {
                tenants: Some(vec![FABRIKAM.to_ascii_lowercase()]),
                limit: 3,
                ..AuditFilter::default()
            },
            AuditFilter {
                tenants: Some(vec![CONTOSO.to_ascii_uppercase(), "other".into()]),
                ..AuditFilter::default()
            },
            AuditFilter {
                tenants: Some(Vec::new()),
                ..AuditFilter::default()
            },
            AuditFilter {
                actor: Some("BOB@fabrikam.com".into()),
                outcome: Some(Outcome::Refused),
                ..AuditFilter::default()
            },
            AuditFilter {
                actor: Some("oid-2".into()),
                limit: 2,
                ..AuditFilter::default()
            },
            AuditFilter {
                since: Some(middle),
                limit: 5,
                ..AuditFilter::default()
            },
            AuditFilter {
                limit: 0,
                ..AuditFilter::default()
            },
        ];
        let outcomes = Outcome::ALL.into_iter().map(|outcome| AuditFilter {
            outcome: Some(outcome),
            limit: 2,
            ..AuditFilter::default()
        });
        for filter in filters.into_iter().chain(outcomes) {
            let expected = pages(sqlite.as_ref(), filter.clone()).await;
            assert_eq!(pages(&fake, filter.clone()).await, expected, "{filter:?}");
        }

        // The comparison compares something: the first pages hold what the history says.
        let all = pages(&fake, AuditFilter::default()).await;
        assert_eq!(all[0].records.len(), 30);
        let since = pages(
            &fake,
            AuditFilter {
                since: Some(middle),
                ..AuditFilter::default()
            },
        )
        .await;
        assert_eq!(since[0].records.len(), 15);
        let open: Vec<_> = all[0]
            .records
            .iter()
            .filter(|r| r.outcome == Outcome::Attempted)
            .map(|r| r.id)
            .collect();
        assert_eq!(open, [8], "the attempt of number 7");
        let read_back = &all[0].records[30 - 14 - 1];
        assert_eq!(read_back.after, Some(json!({"readBack": 14})));
        let limited = pages(
            &fake,
            AuditFilter {
                limit: 4,
                ..AuditFilter::default()
            },
        )
        .await;
        assert_eq!(limited.len(), 8, "30 records in pages of 4");
    }
}
