//! The audit trail, in two phases: an **attempt** is recorded before the first upstream call
//! and **completed** with its outcome afterwards, so a change that never finished (the service
//! died, the request was cancelled) still leaves a visible record. Newest first when queried.
//!
//! **Recording must not be lost.** [`AuditLog::append`] and [`AuditLog::complete`] return only
//! after SQLite committed durably (WAL, `synchronous=FULL`). A write operation makes no upstream
//! call before its attempt is committed, and fails when the attempt cannot be recorded — a
//! caller never ignores a store error.
//!
//! **Why two append-only tables rather than one row updated once.** `audit_attempts` holds what
//! was about to be done (who, tenant, operation, request id, `before`, the planned `after` and
//! `diff`); `audit_completions` holds how it ended, one row per attempt (its primary key is the
//! attempt id). Neither table ever changes a row: triggers refuse every UPDATE and DELETE of
//! both, an INSERT that would overwrite (REPLACE) a row, a second completion and a completion of
//! an attempt that does not exist — whoever issues them, also from another connection such as the
//! `sqlite3` shell. An "update once from attempted to final" rule would need a trigger that
//! inspects old and new values of every column; a second table keeps the guarantee as simple as
//! it was: rows are only ever added. The `audit_trail` view joins the two; an attempt without a
//! completion reads as `attempted`.
//!
//! **An attempt left open by a process that died** is completed as `unknown` when the store is
//! next opened ([`Store::open`] runs at start-up): today one service process owns a store file,
//! so every attempt still open at start-up belongs to a process that is gone.
//!
//! Version 1 stores (one row per finished attempt) are migrated by copying every row, unchanged
//! and with its id, into an attempt and its completion; they read as before.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, params, params_from_iter};
use serde_json::Value;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::{Store, StoreError};
// The trail's vocabulary is the capability's; re-exported so the store reads as one module.
pub use crate::capabilities::audit_log::{
    Actor, AuditCursor, AuditFilter, AuditLog, AuditPage, AuditRecord, Completion, MAX_PAGE,
    NewAuditRecord, Outcome, format_record_time,
};
/// The longest `error` text kept; longer ones are cut with `…`.
const MAX_ERROR_CHARS: usize = 4000;

/// The error of an attempt completed as `unknown` at start-up.
pub const ABANDONED: &str = "The service stopped before recording the outcome of this attempt: \
     the change may or may not have been made upstream. Read the tenant's current state to find out.";

/// Version 1: the audit table, its indexes and the append-only guards.
pub(super) const SCHEMA_V1: &str = "
CREATE TABLE audit_records (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    time          TEXT NOT NULL,
    request_id    TEXT,
    actor_oid     TEXT,
    actor_upn     TEXT,
    actor_app_id  TEXT,
    actor_roles   TEXT NOT NULL CHECK (json_valid(actor_roles)),
    tenant_id     TEXT NOT NULL,
    operation     TEXT NOT NULL,
    before        TEXT CHECK (before IS NULL OR json_valid(before)),
    after         TEXT CHECK (after IS NULL OR json_valid(after)),
    diff          TEXT CHECK (diff IS NULL OR json_valid(diff)),
    outcome       TEXT NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'rolledBack', 'refused')),
    error         TEXT,
    compensation  TEXT CHECK (compensation IS NULL OR json_valid(compensation))
) STRICT;
CREATE INDEX audit_records_tenant ON audit_records (tenant_id, id);
CREATE INDEX audit_records_time ON audit_records (time);
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: UPDATE is refused');
END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: DELETE is refused');
END;
";

/// Version 2: attempts and their completions (see the module documentation), the version 1 rows
/// copied into both with their ids, and the view that joins them.
pub(super) const SCHEMA_V2: &str = "
CREATE TABLE audit_attempts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    time          TEXT NOT NULL,
    request_id    TEXT,
    actor_oid     TEXT,
    actor_upn     TEXT,
    actor_app_id  TEXT,
    actor_roles   TEXT NOT NULL CHECK (json_valid(actor_roles)),
    tenant_id     TEXT NOT NULL,
    operation     TEXT NOT NULL,
    before        TEXT CHECK (before IS NULL OR json_valid(before)),
    after         TEXT CHECK (after IS NULL OR json_valid(after)),
    diff          TEXT CHECK (diff IS NULL OR json_valid(diff))
) STRICT;
CREATE TABLE audit_completions (
    attempt_id    INTEGER PRIMARY KEY,
    time          TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN
                      ('succeeded', 'failed', 'rolledBack', 'refused', 'noChange', 'unknown')),
    after         TEXT CHECK (after IS NULL OR json_valid(after)),
    diff          TEXT CHECK (diff IS NULL OR json_valid(diff)),
    error         TEXT,
    compensation  TEXT CHECK (compensation IS NULL OR json_valid(compensation))
) STRICT;

INSERT INTO audit_attempts (id, time, request_id, actor_oid, actor_upn, actor_app_id,
        actor_roles, tenant_id, operation, before, after, diff)
    SELECT id, time, request_id, actor_oid, actor_upn, actor_app_id,
        actor_roles, tenant_id, operation, before, after, diff
    FROM audit_records ORDER BY id;
INSERT INTO audit_completions (attempt_id, time, outcome, error, compensation)
    SELECT id, time, outcome, error, compensation FROM audit_records ORDER BY id;
-- Ids are never reused: the new table continues where the old one's sequence stopped.
UPDATE sqlite_sequence
    SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'audit_records'), 0))
    WHERE name = 'audit_attempts';
-- Every row is in the new tables now; its triggers and indexes go with it.
DROP TABLE audit_records;

CREATE INDEX audit_attempts_tenant ON audit_attempts (tenant_id, id);
CREATE INDEX audit_attempts_time ON audit_attempts (time);

CREATE TRIGGER audit_attempts_no_update BEFORE UPDATE ON audit_attempts
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: UPDATE of an attempt is refused');
END;
CREATE TRIGGER audit_attempts_no_delete BEFORE DELETE ON audit_attempts
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: DELETE of an attempt is refused');
END;
-- REPLACE would delete the old row first; without recursive triggers that delete is silent.
CREATE TRIGGER audit_attempts_no_overwrite BEFORE INSERT ON audit_attempts
    WHEN NEW.id > 0 AND EXISTS (SELECT 1 FROM audit_attempts WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: an attempt id is never written twice');
END;
CREATE TRIGGER audit_completions_no_update BEFORE UPDATE ON audit_completions
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: UPDATE of a completion is refused');
END;
CREATE TRIGGER audit_completions_no_delete BEFORE DELETE ON audit_completions
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: DELETE of a completion is refused');
END;
CREATE TRIGGER audit_completions_once BEFORE INSERT ON audit_completions
    WHEN EXISTS (SELECT 1 FROM audit_completions WHERE attempt_id = NEW.attempt_id)
BEGIN
    SELECT RAISE(ABORT, 'audit records are append-only: this attempt already has its outcome');
END;
CREATE TRIGGER audit_completions_of_an_attempt BEFORE INSERT ON audit_completions
    WHEN NOT EXISTS (SELECT 1 FROM audit_attempts WHERE id = NEW.attempt_id)
BEGIN
    SELECT RAISE(ABORT, 'an audit completion needs the attempt it completes');
END;

-- One record per attempt: the completion's after and diff (as read back, as done) when it has
-- them, else the attempt's planned ones.
CREATE VIEW audit_trail AS
SELECT a.id, a.time, c.time AS completed_at, a.request_id, a.actor_oid, a.actor_upn,
       a.actor_app_id, a.actor_roles, a.tenant_id, a.operation, a.before,
       COALESCE(c.after, a.after) AS after, COALESCE(c.diff, a.diff) AS diff,
       COALESCE(c.outcome, 'attempted') AS outcome, c.error, c.compensation
FROM audit_attempts a LEFT JOIN audit_completions c ON c.attempt_id = a.id;
";

/// Times are stored in this fixed-width UTC form so that text order is time order.
const STORED_TIME: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// The audit trail of a [`Store`]: the SQLite implementation of [`AuditLog`].
#[derive(Debug, Clone)]
pub struct SqliteAuditLog {
    store: Store,
}

impl SqliteAuditLog {
    pub(super) fn new(store: Store) -> Self {
        SqliteAuditLog { store }
    }
}

#[async_trait::async_trait]
impl AuditLog for SqliteAuditLog {
    /// The attempt and, unless its outcome is `attempted`, its completion, in one transaction.
    async fn append(&self, record: NewAuditRecord) -> Result<i64, StoreError> {
        self.store
            .with_connection(move |connection| {
                let transaction = connection.transaction()?;
                let id = insert_attempt(&transaction, &record)?;
                if record.outcome != Outcome::Attempted {
                    let completion = Completion {
                        outcome: record.outcome,
                        after: None,
                        diff: None,
                        error: record.error,
                        compensation: record.compensation,
                    };
                    insert_completion(&transaction, id, &completion)?;
                }
                transaction.commit()?;
                Ok(id)
            })
            .await
    }

    /// A second completion, or one of an attempt that does not exist, is refused by the schema.
    async fn complete(&self, id: i64, completion: Completion) -> Result<(), StoreError> {
        completion.ensure_final(id)?;
        self.store
            .with_connection(move |connection| insert_completion(connection, id, &completion))
            .await
    }

    async fn query(&self, filter: AuditFilter) -> Result<AuditPage, StoreError> {
        self.store
            .with_connection(move |connection| select(connection, &filter))
            .await
    }
}

/// Completes every attempt that has no completion as `unknown` (see the module documentation)
/// and returns how many there were.
///
/// Sound only while one process owns the store file. With a shared database (PostgreSQL and
/// several replicas) an open attempt may belong to a live replica: each process must then mark
/// its attempts with its own id and a heartbeat (lease), and only attempts whose process's lease
/// has expired may be completed as `unknown`, by any replica, at any time — not just at start-up.
pub(super) fn close_abandoned(connection: &mut Connection) -> Result<usize, StoreError> {
    let closed = connection.execute(
        "INSERT INTO audit_completions (attempt_id, time, outcome, error)
         SELECT a.id, ?1, 'unknown', ?2 FROM audit_attempts a
         WHERE NOT EXISTS (SELECT 1 FROM audit_completions c WHERE c.attempt_id = a.id)
         ORDER BY a.id",
        params![stored_time(OffsetDateTime::now_utc()), ABANDONED],
    )?;
    Ok(closed)
}

fn stored_time(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(STORED_TIME)
        .expect("a UTC time formats")
}

fn json_text(value: &Option<Value>) -> Option<String> {
    value.as_ref().map(Value::to_string)
}

fn insert_attempt(connection: &Connection, attempt: &NewAuditRecord) -> Result<i64, StoreError> {
    let roles = serde_json::to_string(&attempt.actor.roles).expect("strings serialize");
    connection.execute(
        "INSERT INTO audit_attempts (time, request_id, actor_oid, actor_upn, actor_app_id,
             actor_roles, tenant_id, operation, before, after, diff)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            stored_time(OffsetDateTime::now_utc()),
            attempt.request_id,
            attempt.actor.oid,
            attempt.actor.upn,
            attempt.actor.app_id,
            roles,
            attempt.tenant_id.to_ascii_lowercase(),
            attempt.operation,
            json_text(&attempt.before),
            json_text(&attempt.after),
            json_text(&attempt.diff),
        ],
    )?;
    Ok(connection.last_insert_rowid())
}

fn insert_completion(
    connection: &Connection,
    id: i64,
    completion: &Completion,
) -> Result<(), StoreError> {
    let error = completion.error.as_ref().map(|e| {
        if e.chars().count() > MAX_ERROR_CHARS {
            let mut cut: String = e.chars().take(MAX_ERROR_CHARS).collect();
            cut.push('…');
            cut
        } else {
            e.clone()
        }
    });
    connection.execute(
        "INSERT INTO audit_completions (attempt_id, time, outcome, after, diff, error, compensation)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            stored_time(OffsetDateTime::now_utc()),
            completion.outcome.as_str(),
            json_text(&completion.after),
            json_text(&completion.diff),
            error,
            json_text(&completion.compensation),
        ],
    )?;
    Ok(())
}

fn select(connection: &mut Connection, filter: &AuditFilter) -> Result<AuditPage, StoreError> {
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let mut sql = String::from(
        "SELECT id, time, completed_at, request_id, actor_oid, actor_upn, actor_app_id,
                actor_roles, tenant_id, operation, before, after, diff, outcome, error, compensation
         FROM audit_trail WHERE 1 = 1",
    );
    let mut args: Vec<SqlValue> = Vec::new();
    if let Some(tenants) = &filter.tenants {
        if tenants.is_empty() {
            return Ok(AuditPage {
                records: Vec::new(),
                next: None,
            });
        }
        sql.push_str(" AND tenant_id IN (");
        for (i, tenant) in tenants.iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ", ?" });
            args.push(SqlValue::Text(tenant.to_ascii_lowercase()));
        }
        sql.push(')');
    }
    if let Some(actor) = &filter.actor {
        let n = args.len() + 1;
        sql.push_str(&format!(
            " AND (actor_oid = ?{n} COLLATE NOCASE OR actor_upn = ?{n} COLLATE NOCASE \
               OR actor_app_id = ?{n} COLLATE NOCASE)"
        ));
        args.push(SqlValue::Text(actor.clone()));
    }
    if let Some(since) = filter.since {
        sql.push_str(" AND time >= ?");
        args.push(SqlValue::Text(stored_time(since)));
    }
    if let Some(outcome) = filter.outcome {
        sql.push_str(" AND outcome = ?");
        args.push(SqlValue::Text(outcome.as_str().to_owned()));
    }
    if let Some(cursor) = filter.cursor {
        sql.push_str(" AND id < ?");
        args.push(SqlValue::Integer(cursor.below_id()));
    }
    // One more than the page, to know whether another page follows.
    sql.push_str(" ORDER BY id DESC LIMIT ?");
    args.push(SqlValue::Integer(i64::from(limit) + 1));

    let mut statement = connection.prepare_cached(&sql)?;
    let mut records = statement
        .query_map(params_from_iter(args), read_row)?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let next = if records.len() > limit as usize {
        records.truncate(limit as usize);
        records.last().map(|r| AuditCursor::below(r.id))
    } else {
        None
    };
    Ok(AuditPage { records, next })
}

/// A row as a record; `Err` (inside `Ok`) when a stored value does not parse.
fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<AuditRecord, StoreError>> {
    let id: i64 = row.get("id")?;
    let time: String = row.get("time")?;
    let completed_at: Option<String> = row.get("completed_at")?;
    let roles: String = row.get("actor_roles")?;
    let outcome: String = row.get("outcome")?;
    let json = |column: &str| -> rusqlite::Result<Result<Option<Value>, StoreError>> {
        let text: Option<String> = row.get(column)?;
        Ok(text
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("record {id}: {column}: {e}"))))
    };
    let (before, after, diff, compensation) = (
        json("before")?,
        json("after")?,
        json("diff")?,
        json("compensation")?,
    );
    let request_id = row.get("request_id")?;
    let actor_oid = row.get("actor_oid")?;
    let actor_upn = row.get("actor_upn")?;
    let actor_app_id = row.get("actor_app_id")?;
    let tenant_id = row.get("tenant_id")?;
    let operation = row.get("operation")?;
    let error = row.get("error")?;
    Ok((|| {
        let corrupt = |what: &str| StoreError::Corrupt(format!("record {id}: {what}"));
        let parse_time = |text: &str| {
            PrimitiveDateTime::parse(text, STORED_TIME)
                .map_err(|e| corrupt(&format!("time '{text}': {e}")))
                .and_then(|time| {
                    format_record_time(time.assume_utc())
                        .map_err(|e| corrupt(&format!("time '{text}': {e}")))
                })
        };
        Ok(AuditRecord {
            id,
            time: parse_time(&time)?,
            completed_at: completed_at.as_deref().map(parse_time).transpose()?,
            request_id,
            actor: Actor {
                oid: actor_oid,
                upn: actor_upn,
                app_id: actor_app_id,
                roles: serde_json::from_str(&roles)
                    .map_err(|e| corrupt(&format!("actor roles: {e}")))?,
            },
            tenant_id,
            operation,
            before: before?,
            after: after?,
            diff: diff?,
            outcome: Outcome::parse(&outcome)
                .ok_or_else(|| corrupt(&format!("outcome '{outcome}'")))?,
            error,
            compensation: compensation?,
        })
    })())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::Duration;

    use crate::capabilities::audit_log::parse_record_time;

    /// The instant a record's time names.
    fn instant(text: &str) -> OffsetDateTime {
        parse_record_time(text).unwrap_or_else(|| panic!("'{text}' is not RFC 3339"))
    }

    const CONTOSO: &str = "3f2b9c1e-7d4a-4e8b-9c61-5a0d2e8f4b17";
    const FABRIKAM: &str = "8c2d4e6f-1a3b-4c5d-9e7f-0a1b2c3d4e5f";

    fn record(tenant: &str, upn: &str, outcome: Outcome) -> NewAuditRecord {
        NewAuditRecord {
            request_id: Some(uuid::Uuid::new_v4().to_string()),
            actor: Actor {
                oid: Some(format!("oid-{upn}")),
                upn: Some(upn.to_owned()),
                app_id: Some("cli-app".to_owned()),
                roles: vec!["SSPR.ReadWrite".to_owned()],
            },
            tenant_id: tenant.to_owned(),
            operation: "policy.patch".to_owned(),
            before: Some(json!({"registration": {"reconfirmationInDays": 180}})),
            after: Some(json!({"registration": {"reconfirmationInDays": 90}})),
            diff: Some(
                json!([{"path": "/registration/reconfirmationInDays", "from": 180, "to": 90}]),
            ),
            outcome,
            error: (outcome != Outcome::Succeeded).then(|| "portal PUT failed".to_owned()),
            compensation: (outcome == Outcome::RolledBack)
                .then(|| json!([{"undo": "PATCH authenticationMethodsPolicy"}])),
        }
    }

    async fn open(dir: &tempfile::TempDir) -> Store {
        Store::open(dir.path().join("sspr.db"))
            .await
            .expect("opens")
    }

    fn all() -> AuditFilter {
        AuditFilter {
            limit: MAX_PAGE,
            ..AuditFilter::default()
        }
    }

    #[tokio::test]
    async fn appended_records_come_back_newest_first_with_every_field() {
        let dir = tempfile::tempdir().expect("temp dir");
        let audit = open(&dir).await.audit();
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

    #[tokio::test]
    async fn filters_by_tenant_actor_outcome_and_time() {
        let dir = tempfile::tempdir().expect("temp dir");
        let audit = open(&dir).await.audit();
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

    #[tokio::test]
    async fn pages_follow_the_cursor_and_stay_stable_while_records_are_appended() {
        let dir = tempfile::tempdir().expect("temp dir");
        let audit = open(&dir).await.audit();
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

    #[tokio::test]
    async fn update_delete_and_overwrite_are_refused_on_both_phases() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&dir).await;
        let id = store
            .audit()
            .append(record(CONTOSO, "ada@contoso.com", Outcome::Succeeded))
            .await
            .expect("append");
        let statements = [
            "UPDATE audit_attempts SET operation = 'forged'",
            "DELETE FROM audit_attempts",
            "INSERT OR REPLACE INTO audit_attempts (id, time, actor_roles, tenant_id, operation)
             SELECT id, time, '[]', tenant_id, 'forged' FROM audit_attempts",
            "UPDATE audit_completions SET outcome = 'failed', error = NULL",
            "DELETE FROM audit_completions",
            "INSERT OR REPLACE INTO audit_completions (attempt_id, time, outcome)
             SELECT attempt_id, time, 'refused' FROM audit_completions",
        ];
        for sql in statements {
            let error = store
                .with_connection(move |c| Ok(c.execute(sql, [])?))
                .await
                .expect_err(sql);
            assert!(error.to_string().contains("append-only"), "{sql}: {error}");
        }
        // Another connection to the same file, as an operator with the sqlite3 shell would be:
        // no recursive triggers there, and REPLACE is still refused.
        let raw = Connection::open(store.path()).expect("raw connection");
        for sql in statements {
            let error = raw.execute(sql, []).expect_err(sql);
            assert!(error.to_string().contains("append-only"), "{sql}: {error}");
        }
        let page = store.audit().query(all()).await.expect("query");
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.records[0].id, id);
        assert_eq!(page.records[0].operation, "policy.patch");
        assert_eq!(page.records[0].outcome, Outcome::Succeeded);
    }

    /// An attempt as recorded before the first upstream call: no error yet.
    fn attempt(tenant: &str, upn: &str) -> NewAuditRecord {
        NewAuditRecord {
            error: None,
            ..record(tenant, upn, Outcome::Attempted)
        }
    }

    #[tokio::test]
    async fn an_attempt_reads_attempted_until_its_completion() {
        let dir = tempfile::tempdir().expect("temp dir");
        let audit = open(&dir).await.audit();
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

    #[tokio::test]
    async fn an_attempt_is_completed_once_and_only_an_existing_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let audit = open(&dir).await.audit();
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

    #[tokio::test]
    async fn attempts_left_open_become_unknown_when_the_store_is_opened_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let planned = attempt(CONTOSO, "ada@contoso.com");
        let (open_id, done_id) = {
            let audit = open(&dir).await.audit();
            let open_id = audit.append(planned.clone()).await.expect("attempt");
            let done_id = audit
                .append(record(FABRIKAM, "bob@fabrikam.com", Outcome::Succeeded))
                .await
                .expect("append");
            // The process dies here: the first attempt never gets its completion.
            (open_id, done_id)
        };
        let before_reopen = OffsetDateTime::now_utc() - Duration::seconds(1);
        let audit = open(&dir).await.audit();
        let records = audit.query(all()).await.expect("query").records;
        let by_id = |id: i64| records.iter().find(|r| r.id == id).expect("record");
        let abandoned = by_id(open_id);
        assert_eq!(abandoned.outcome, Outcome::Unknown);
        assert_eq!(abandoned.error.as_deref(), Some(ABANDONED));
        assert!(
            abandoned
                .error
                .as_deref()
                .is_some_and(|e| e.contains("stopped before recording"))
        );
        assert!(
            abandoned
                .completed_at
                .as_deref()
                .is_some_and(|t| instant(t) > before_reopen)
        );
        assert_eq!(abandoned.request_id, planned.request_id);
        assert_eq!(
            abandoned.after, planned.after,
            "the planned after stays visible"
        );
        assert_eq!(abandoned.actor.upn.as_deref(), Some("ada@contoso.com"));
        assert_eq!(abandoned.tenant_id, CONTOSO);
        assert_eq!(abandoned.operation, "policy.patch");
        let finished = by_id(done_id);
        assert_eq!(finished.outcome, Outcome::Succeeded);
        assert_eq!(finished.error, None);

        // Opening once more finds nothing open and changes nothing.
        drop(audit);
        let again = open(&dir).await.audit().query(all()).await.expect("query");
        assert_eq!(again.records, records);
    }

    #[tokio::test]
    async fn a_version_1_store_with_rows_is_migrated_and_reads_as_before() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sspr.db");
        {
            let v1 = Connection::open(&path).expect("raw sqlite");
            v1.execute_batch(SCHEMA_V1).expect("v1 schema");
            v1.pragma_update(None, "user_version", 1).expect("version");
            let rows = [
                ("2026-01-30T08:00:00.000001Z", "succeeded", None, None),
                (
                    "2026-01-30T09:00:00.000002Z",
                    "rolledBack",
                    Some("portal PUT failed"),
                    Some(r#"[{"call":"PATCH x","status":"undone"}]"#),
                ),
                (
                    "2026-01-30T10:00:00.000003Z",
                    "refused",
                    Some("stale If-Match"),
                    None,
                ),
            ];
            for (time, outcome, error, compensation) in rows {
                v1.execute(
                    "INSERT INTO audit_records (time, request_id, actor_oid, actor_upn, actor_app_id,
                         actor_roles, tenant_id, operation, before, after, diff, outcome, error,
                         compensation)
                     VALUES (?1, 'req-1', 'oid-1', 'ada@contoso.com', 'cli-app', '[\"SSPR.ReadWrite\"]',
                         ?2, 'policy.patch', '{\"a\":1}', '{\"a\":2}', '[{\"path\":\"/a\"}]',
                         ?3, ?4, ?5)",
                    params![time, CONTOSO, outcome, error, compensation],
                )
                .expect("v1 row");
            }
        }
        let store = Store::open(&path).await.expect("migrates");
        let version: i64 = store
            .with_connection(|c| Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?))
            .await
            .expect("version");
        assert_eq!(version, super::super::MIGRATIONS.len() as i64);
        let old_table: i64 = store
            .with_connection(|c| {
                Ok(c.query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'audit_records'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .expect("schema");
        assert_eq!(old_table, 0, "the version 1 table is gone once copied");

        let records = store.audit().query(all()).await.expect("query").records;
        assert_eq!(records.iter().map(|r| r.id).collect::<Vec<_>>(), [3, 2, 1]);
        let outcomes: Vec<Outcome> = records.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [Outcome::Refused, Outcome::RolledBack, Outcome::Succeeded]
        );
        let rolled_back = &records[1];
        assert_eq!(rolled_back.request_id.as_deref(), Some("req-1"));
        assert_eq!(
            rolled_back.actor,
            Actor {
                oid: Some("oid-1".into()),
                upn: Some("ada@contoso.com".into()),
                app_id: Some("cli-app".into()),
                roles: vec!["SSPR.ReadWrite".into()],
            }
        );
        assert_eq!(rolled_back.tenant_id, CONTOSO);
        assert_eq!(rolled_back.before, Some(json!({"a": 1})));
        assert_eq!(rolled_back.after, Some(json!({"a": 2})));
        assert_eq!(rolled_back.diff, Some(json!([{"path": "/a"}])));
        assert_eq!(rolled_back.error.as_deref(), Some("portal PUT failed"));
        assert_eq!(
            rolled_back.compensation,
            Some(json!([{"call": "PATCH x", "status": "undone"}]))
        );
        assert_eq!(
            instant(&rolled_back.time).unix_timestamp(),
            instant(records[1].completed_at.as_deref().expect("completed")).unix_timestamp(),
            "a single-phase row completed when it was written"
        );
        assert_eq!(records[2].error, None);

        // New records continue the ids, and the guards hold on the migrated rows.
        let next = store
            .audit()
            .append(record(CONTOSO, "ada@contoso.com", Outcome::NoChange))
            .await
            .expect("append");
        assert_eq!(next, 4);
        let error = store
            .with_connection(|c| {
                Ok(c.execute("DELETE FROM audit_completions WHERE attempt_id = 1", [])?)
            })
            .await
            .expect_err("delete");
        assert!(error.to_string().contains("append-only"), "{error}");
    }

    #[tokio::test]
    async fn the_outcome_filter_knows_attempted_no_change_and_unknown() {
        let dir = tempfile::tempdir().expect("temp dir");
        let abandoned = {
            let audit = open(&dir).await.audit();
            audit
                .append(attempt(CONTOSO, "gone@contoso.com"))
                .await
                .expect("attempt")
        };
        let audit = open(&dir).await.audit();
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

    #[tokio::test]
    async fn records_survive_closing_and_reopening_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut ids = Vec::new();
        {
            let store = open(&dir).await;
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
        let reopened = open(&dir).await;
        let page = reopened.audit().query(all()).await.expect("query");
        ids.reverse();
        assert_eq!(page.records.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
        // Ids keep increasing after a reopen (AUTOINCREMENT never reuses one).
        let next = reopened
            .audit()
            .append(record(CONTOSO, "ada@contoso.com", Outcome::Refused))
            .await
            .expect("append");
        assert!(next > ids[0]);
    }

    #[tokio::test]
    async fn long_errors_are_cut() {
        let dir = tempfile::tempdir().expect("temp dir");
        let audit = open(&dir).await.audit();
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
}
