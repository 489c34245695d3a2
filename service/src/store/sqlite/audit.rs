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
//! next opened ([`SqliteStore::open`] runs at start-up): today one service process owns a store file,
//! so every attempt still open at start-up belongs to a process that is gone. (The PostgreSQL
//! store, shared by replicas, closes only a dead replica's: [`crate::store::postgres::replicas`].)
//!
//! Version 1 stores (one row per finished attempt) are migrated by copying every row, unchanged
//! and with its id, into an attempt and its completion; they read as before.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, params, params_from_iter};
use serde_json::Value;
use time::OffsetDateTime;

use super::SqliteStore;
use crate::store::StoreError;
use crate::store::audit::{
    ABANDONED, Actor, AuditFilter, AuditLog, AuditPage, AuditRecord, Completion, MAX_PAGE,
    NewAuditRecord, Outcome, decided, kept_error, page, record_time, stored_time,
};

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

/// The audit trail of a [`SqliteStore`]: the SQLite implementation of [`AuditLog`].
#[derive(Debug, Clone)]
pub struct SqliteAuditLog {
    store: SqliteStore,
}

impl SqliteAuditLog {
    pub(super) fn new(store: SqliteStore) -> Self {
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
                if let Some(completion) = decided(&record) {
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
/// Sound because one process owns the store file. With a shared database an open attempt may
/// belong to a live replica: [`crate::store::postgres::replicas`] closes only those of replicas
/// whose heartbeat stopped.
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
    let error = kept_error(completion.error.as_deref());
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
    let records = statement
        .query_map(params_from_iter(args), read_row)?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(records, limit))
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
        let parse_time = |text: &str| record_time(id, text);
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

    use crate::store::contract::{CONTOSO, FABRIKAM, all, attempt, instant, record};

    async fn open(dir: &tempfile::TempDir) -> SqliteStore {
        SqliteStore::open(dir.path().join("sspr.db"))
            .await
            .expect("opens")
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
        let store = SqliteStore::open(&path).await.expect("migrates");
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
}
