//! The audit trail: one append-only row per write attempt, newest first when queried.
//!
//! **Appending must not be lost.** [`AuditLog::append`] returns only after SQLite committed
//! the row durably (WAL, `synchronous=FULL`); when it fails, the write operation that wanted
//! to record itself must fail too (or, after an applied change, report that its record is
//! missing) — a caller never ignores an append error.
//!
//! Append-only is enforced twice: this module has no UPDATE or DELETE statement, and the
//! schema's triggers abort any UPDATE or DELETE of `audit_records`, whoever issues it.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, Row, params, params_from_iter};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};
use utoipa::ToSchema;

use super::{Store, StoreError};
use crate::auth::Caller;

/// The most records one query returns.
pub const MAX_PAGE: u32 = 500;
/// The longest `error` text kept; longer ones are cut with `…`.
const MAX_ERROR_CHARS: usize = 4000;

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

/// Times are stored in this fixed-width UTC form so that text order is time order.
const STORED_TIME: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

/// How a write attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Every step was applied and read back.
    Succeeded,
    /// A step failed and nothing had been changed, or the undo was not needed.
    Failed,
    /// A step failed and the completed steps were undone (see `compensation`).
    RolledBack,
    /// Refused before any upstream call: rules, access, preconditions.
    Refused,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Succeeded,
        Outcome::Failed,
        Outcome::RolledBack,
        Outcome::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolledBack",
            Outcome::Refused => "refused",
        }
    }

    /// The outcome named exactly `text` (as the API spells it).
    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who attempted the write, from the verified token.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    /// The token's `oid`: the user or service principal object id.
    #[schema(required = true)]
    pub oid: Option<String>,
    /// The token's `upn` (or `preferred_username`).
    #[schema(required = true)]
    pub upn: Option<String>,
    /// The client application (`azp` or `appid`).
    #[schema(required = true)]
    pub app_id: Option<String>,
    /// App roles and delegated scopes the token carried.
    pub roles: Vec<String>,
}

impl From<&Caller> for Actor {
    fn from(caller: &Caller) -> Self {
        Actor {
            oid: caller.oid.clone(),
            upn: caller.upn.clone(),
            app_id: caller.app_id.clone(),
            roles: caller.roles.clone(),
        }
    }
}

/// A record to append; the store gives it its id and time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditRecord {
    /// The service's `x-request-id` of the request that made the attempt.
    pub request_id: Option<String>,
    pub actor: Actor,
    /// The tenant id (GUID); stored lower-cased.
    pub tenant_id: String,
    /// What was attempted, e.g. `policy.patch` or `policy.patch.dryRun`.
    pub operation: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub diff: Option<Value>,
    pub outcome: Outcome,
    /// Why it failed. Only texts of our own errors, which never hold a secret.
    pub error: Option<String>,
    /// What was undone after a failed step.
    pub compensation: Option<Value>,
}

/// One audited write attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Increases with every record; never reused.
    #[schema(minimum = 1)]
    pub id: i64,
    /// When the record was appended (UTC).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub time: OffsetDateTime,
    /// The service's `x-request-id` of the request that made the attempt.
    #[schema(required = true)]
    pub request_id: Option<String>,
    pub actor: Actor,
    pub tenant_id: String,
    /// What was attempted, e.g. `policy.patch` or `policy.patch.dryRun`.
    pub operation: String,
    /// The document before the attempt.
    #[schema(required = true)]
    pub before: Option<Value>,
    /// The document after the attempt (read back).
    #[schema(required = true)]
    pub after: Option<Value>,
    /// The per-field difference.
    #[schema(required = true)]
    pub diff: Option<Value>,
    pub outcome: Outcome,
    /// Why the attempt failed or was refused.
    #[schema(required = true)]
    pub error: Option<String>,
    /// What was undone after a failed step.
    #[schema(required = true)]
    pub compensation: Option<Value>,
}

/// Where the next page starts: records older than `id`. Opaque to callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    below_id: i64,
}

impl AuditCursor {
    const PREFIX: &'static str = "audit.v1.";

    /// The opaque text form, safe in a URL query.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}{}", Self::PREFIX, self.below_id))
    }

    /// The cursor `encode` made, or `None` for anything else.
    pub fn decode(text: &str) -> Option<AuditCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let below_id = text.strip_prefix(Self::PREFIX)?.parse::<i64>().ok()?;
        (below_id > 0).then_some(AuditCursor { below_id })
    }
}

/// Which records to list. Every given condition must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditFilter {
    /// Only these tenant ids; `None` for every tenant. An empty list matches nothing.
    pub tenants: Option<Vec<String>>,
    /// The actor's oid, upn or app id (case-insensitive).
    pub actor: Option<String>,
    /// Records at or after this time.
    pub since: Option<OffsetDateTime>,
    pub outcome: Option<Outcome>,
    /// Continue after the page that returned this cursor.
    pub cursor: Option<AuditCursor>,
    /// Page size, 1 to [`MAX_PAGE`] (clamped).
    pub limit: u32,
}

impl Default for AuditFilter {
    fn default() -> Self {
        AuditFilter {
            tenants: None,
            actor: None,
            since: None,
            outcome: None,
            cursor: None,
            limit: 50,
        }
    }
}

/// One page of records, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// Present when older matching records exist.
    pub next: Option<AuditCursor>,
}

/// The audit trail of a [`Store`].
#[derive(Debug, Clone)]
pub struct AuditLog {
    store: Store,
}

impl AuditLog {
    pub(super) fn new(store: Store) -> Self {
        AuditLog { store }
    }

    /// Appends `record` durably and returns its id. See the module documentation: an error
    /// here must fail the operation being audited.
    pub async fn append(&self, record: NewAuditRecord) -> Result<i64, StoreError> {
        self.store
            .with_connection(move |connection| insert(connection, &record))
            .await
    }

    /// The records matching `filter`, newest first, one page at a time. A cursor stays valid
    /// while records are appended: new records never shift older pages.
    pub async fn query(&self, filter: AuditFilter) -> Result<AuditPage, StoreError> {
        self.store
            .with_connection(move |connection| select(connection, &filter))
            .await
    }
}

fn stored_time(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(STORED_TIME)
        .expect("a UTC time formats")
}

fn json_text(value: &Option<Value>) -> Option<String> {
    value.as_ref().map(Value::to_string)
}

fn insert(connection: &mut Connection, record: &NewAuditRecord) -> Result<i64, StoreError> {
    let error = record.error.as_ref().map(|e| {
        if e.chars().count() > MAX_ERROR_CHARS {
            let mut cut: String = e.chars().take(MAX_ERROR_CHARS).collect();
            cut.push('…');
            cut
        } else {
            e.clone()
        }
    });
    let roles = serde_json::to_string(&record.actor.roles).expect("strings serialize");
    connection.execute(
        "INSERT INTO audit_records (time, request_id, actor_oid, actor_upn, actor_app_id,
             actor_roles, tenant_id, operation, before, after, diff, outcome, error, compensation)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            stored_time(OffsetDateTime::now_utc()),
            record.request_id,
            record.actor.oid,
            record.actor.upn,
            record.actor.app_id,
            roles,
            record.tenant_id.to_ascii_lowercase(),
            record.operation,
            json_text(&record.before),
            json_text(&record.after),
            json_text(&record.diff),
            record.outcome.as_str(),
            error,
            json_text(&record.compensation),
        ],
    )?;
    Ok(connection.last_insert_rowid())
}

fn select(connection: &mut Connection, filter: &AuditFilter) -> Result<AuditPage, StoreError> {
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let mut sql = String::from(
        "SELECT id, time, request_id, actor_oid, actor_upn, actor_app_id, actor_roles, tenant_id,
                operation, before, after, diff, outcome, error, compensation
         FROM audit_records WHERE 1 = 1",
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
        args.push(SqlValue::Integer(cursor.below_id));
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
        records.last().map(|r| AuditCursor { below_id: r.id })
    } else {
        None
    };
    Ok(AuditPage { records, next })
}

/// A row as a record; `Err` (inside `Ok`) when a stored value does not parse.
fn read_row(row: &Row<'_>) -> rusqlite::Result<Result<AuditRecord, StoreError>> {
    let id: i64 = row.get("id")?;
    let time: String = row.get("time")?;
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
        Ok(AuditRecord {
            id,
            time: PrimitiveDateTime::parse(&time, STORED_TIME)
                .map_err(|e| corrupt(&format!("time '{time}': {e}")))?
                .assume_utc(),
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
        assert!(got.time > before && got.time <= OffsetDateTime::now_utc());
        assert_eq!(got.time.offset(), time::UtcOffset::UTC);
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
                Some(next) => {
                    let text = next.encode();
                    assert_eq!(AuditCursor::decode(&text), Some(next));
                    cursor = Some(next);
                }
                None => break,
            }
        }
        appended.reverse();
        assert_eq!(seen, appended);
        assert_eq!(pages, 3);
    }

    #[test]
    fn cursors_are_opaque_and_foreign_text_is_refused() {
        let cursor = AuditCursor { below_id: 42 };
        let text = cursor.encode();
        assert!(!text.contains("42"), "{text}");
        assert_eq!(AuditCursor::decode(&text), Some(cursor));
        for bad in ["", "42", "!!!", &URL_SAFE_NO_PAD.encode("audit.v1.-3")] {
            assert_eq!(AuditCursor::decode(bad), None, "{bad}");
        }
    }

    #[tokio::test]
    async fn update_and_delete_are_refused_by_the_schema() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = open(&dir).await;
        let id = store
            .audit()
            .append(record(CONTOSO, "ada@contoso.com", Outcome::Succeeded))
            .await
            .expect("append");
        let statements = [
            "UPDATE audit_records SET outcome = 'succeeded', error = NULL",
            "DELETE FROM audit_records",
            // REPLACE deletes the old row; with recursive triggers on (as the store sets
            // them) the delete guard fires.
            "INSERT OR REPLACE INTO audit_records (id, time, actor_roles, tenant_id, operation, outcome)
             SELECT id, time, '[]', tenant_id, 'forged', 'succeeded' FROM audit_records",
        ];
        for sql in statements {
            let error = store
                .with_connection(move |c| Ok(c.execute(sql, [])?))
                .await
                .expect_err(sql);
            assert!(error.to_string().contains("append-only"), "{sql}: {error}");
        }
        // Another connection to the same file, as an operator with the sqlite3 shell would be.
        let raw = Connection::open(store.path()).expect("raw connection");
        for sql in &statements[..2] {
            let error = raw.execute(sql, []).expect_err(sql);
            assert!(error.to_string().contains("append-only"), "{sql}: {error}");
        }
        let page = store.audit().query(all()).await.expect("query");
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.records[0].id, id);
        assert_eq!(page.records[0].operation, "policy.patch");
    }

    #[tokio::test]
    async fn records_survive_closing_and_reopening_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut ids = Vec::new();
        {
            let store = open(&dir).await;
            for outcome in Outcome::ALL {
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
