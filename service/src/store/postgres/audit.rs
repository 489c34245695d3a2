//! The audit trail on PostgreSQL, with the SQLite trail's semantics and layout (see
//! [`crate::store::sqlite::audit`] for why attempts and completions are two append-only tables):
//! triggers refuse every UPDATE, DELETE and TRUNCATE of both tables, a second completion and a
//! completion of an attempt that does not exist, whoever issues them (also `psql` as the
//! tables' owner). What a trigger cannot stop is the owner dropping a table; a deployment that
//! must rule that out gives the service a role that does not own the schema.
//!
//! Ids come from an identity column and are taken and committed under [`Lock::AuditAppend`], so
//! across replicas they are unique, increase in commit order and are never reused: a cursor
//! (records below an id) stays valid while any replica appends. Times are the database's clock
//! (`clock_timestamp()`), one clock for every replica. JSON is kept as `json`, as written.

use serde_json::Value;
use tokio_postgres::types::ToSql;

use super::{LOCK_SPACE, Lock, PgStore};
use crate::store::StoreError;
use crate::store::audit::{
    Actor, AuditFilter, AuditLog, AuditPage, AuditRecord, Completion, MAX_PAGE, NewAuditRecord,
    Outcome, decided, kept_error, page, record_time, stored_time,
};

/// Version 2: attempts, completions, their guards and the view that joins them.
pub(super) const SCHEMA_V2: &str = "
CREATE TABLE audit_attempts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time          timestamptz NOT NULL,
    replica_id    text NOT NULL,
    request_id    text,
    actor_oid     text,
    actor_upn     text,
    actor_app_id  text,
    actor_roles   json NOT NULL,
    tenant_id     text NOT NULL,
    operation     text NOT NULL,
    before        json,
    after         json,
    diff          json
);
CREATE TABLE audit_completions (
    attempt_id    bigint PRIMARY KEY REFERENCES audit_attempts (id),
    time          timestamptz NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN
                      ('succeeded', 'failed', 'rolledBack', 'refused', 'noChange', 'unknown')),
    after         json,
    diff          json,
    error         text,
    compensation  json
);
CREATE INDEX audit_attempts_tenant ON audit_attempts (tenant_id, id);
CREATE INDEX audit_attempts_time ON audit_attempts (time);
CREATE INDEX audit_attempts_replica ON audit_attempts (replica_id);

CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % of % is refused', TG_OP, TG_ARGV[0];
END
$$;
CREATE TRIGGER audit_attempts_append_only BEFORE UPDATE OR DELETE ON audit_attempts
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change('an attempt');
CREATE TRIGGER audit_attempts_no_truncate BEFORE TRUNCATE ON audit_attempts
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change('an attempt');
CREATE TRIGGER audit_completions_append_only BEFORE UPDATE OR DELETE ON audit_completions
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change('a completion');
CREATE TRIGGER audit_completions_no_truncate BEFORE TRUNCATE ON audit_completions
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change('a completion');

-- The messages the SQLite store gives, rather than the constraints' generic ones.
CREATE FUNCTION audit_completion_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_attempts WHERE id = NEW.attempt_id) THEN
        RAISE EXCEPTION 'an audit completion needs the attempt it completes';
    END IF;
    IF EXISTS (SELECT 1 FROM audit_completions WHERE attempt_id = NEW.attempt_id) THEN
        RAISE EXCEPTION 'audit records are append-only: this attempt already has its outcome';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_completions_once BEFORE INSERT ON audit_completions
    FOR EACH ROW EXECUTE FUNCTION audit_completion_once();

CREATE VIEW audit_trail AS
SELECT a.id, a.time, c.time AS completed_at, a.request_id, a.actor_oid, a.actor_upn,
       a.actor_app_id, a.actor_roles, a.tenant_id, a.operation, a.before,
       COALESCE(c.after, a.after) AS after, COALESCE(c.diff, a.diff) AS diff,
       COALESCE(c.outcome, 'attempted') AS outcome, c.error, c.compensation
FROM audit_attempts a LEFT JOIN audit_completions c ON c.attempt_id = a.id;
";

/// A `timestamptz` column in the stored time form (see [`crate::store::audit`]).
macro_rules! stored {
    ($column:literal) => {
        concat!(
            "to_char(",
            $column,
            " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        )
    };
}

/// The audit trail of a [`PgStore`]: the PostgreSQL implementation of [`AuditLog`].
#[derive(Debug, Clone)]
pub struct PgAuditLog {
    store: PgStore,
}

impl PgAuditLog {
    pub(super) fn new(store: PgStore) -> Self {
        PgAuditLog { store }
    }
}

#[async_trait::async_trait]
impl AuditLog for PgAuditLog {
    /// The attempt and, unless its outcome is `attempted`, its completion, in one transaction.
    async fn append(&self, record: NewAuditRecord) -> Result<i64, StoreError> {
        let mut client = self.store.client().await?;
        let transaction = client.transaction().await?;
        transaction
            .execute(
                "SELECT pg_advisory_xact_lock($1, $2)",
                &[&LOCK_SPACE, &(Lock::AuditAppend as i32)],
            )
            .await?;
        let replica = self.store.replica_id();
        transaction
            .execute(super::replicas::BEAT, &[&replica])
            .await?;
        let roles = serde_json::to_value(&record.actor.roles).expect("strings serialize");
        let id: i64 = transaction
            .query_one(
                "INSERT INTO audit_attempts (time, replica_id, request_id, actor_oid, actor_upn,
                     actor_app_id, actor_roles, tenant_id, operation, before, after, diff)
                 VALUES (clock_timestamp(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                 RETURNING id",
                &[
                    &replica,
                    &record.request_id,
                    &record.actor.oid,
                    &record.actor.upn,
                    &record.actor.app_id,
                    &roles,
                    &record.tenant_id.to_ascii_lowercase(),
                    &record.operation,
                    &record.before,
                    &record.after,
                    &record.diff,
                ],
            )
            .await?
            .get(0);
        if let Some(completion) = decided(&record) {
            insert_completion(&transaction, id, &completion).await?;
        }
        transaction.commit().await?;
        Ok(id)
    }

    /// A second completion, or one of an attempt that does not exist, is refused by the schema.
    async fn complete(&self, id: i64, completion: Completion) -> Result<(), StoreError> {
        completion.ensure_final(id)?;
        let client = self.store.client().await?;
        insert_completion(&client, id, &completion)
            .await
            .map_err(|error| match error.code() {
                // Two completions racing: the trigger let both pass, the key refused the second.
                Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => StoreError::Postgres(
                    "audit records are append-only: this attempt already has its outcome".into(),
                ),
                _ => error.into(),
            })
    }

    async fn query(&self, filter: AuditFilter) -> Result<AuditPage, StoreError> {
        select(&self.store, &filter).await
    }
}

async fn insert_completion(
    client: &impl deadpool_postgres::GenericClient,
    id: i64,
    completion: &Completion,
) -> Result<(), tokio_postgres::Error> {
    client
        .execute(
            "INSERT INTO audit_completions (attempt_id, time, outcome, after, diff, error,
                 compensation)
             VALUES ($1, clock_timestamp(), $2, $3, $4, $5, $6)",
            &[
                &id,
                &completion.outcome.as_str(),
                &completion.after,
                &completion.diff,
                &kept_error(completion.error.as_deref()),
                &completion.compensation,
            ],
        )
        .await?;
    Ok(())
}

async fn select(store: &PgStore, filter: &AuditFilter) -> Result<AuditPage, StoreError> {
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let mut sql = String::from(concat!(
        "SELECT id, ",
        stored!("time"),
        " AS time, ",
        stored!("completed_at"),
        " AS completed_at, request_id, actor_oid, actor_upn, actor_app_id, actor_roles,
         tenant_id, operation, before, after, diff, outcome, error, compensation
         FROM audit_trail WHERE true"
    ));
    let mut args: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let mut next_arg = |value: Box<dyn ToSql + Sync + Send>| {
        args.push(value);
        format!("${}", args.len())
    };
    if let Some(tenants) = &filter.tenants {
        if tenants.is_empty() {
            return Ok(AuditPage {
                records: Vec::new(),
                next: None,
            });
        }
        let lowered: Vec<String> = tenants.iter().map(|t| t.to_ascii_lowercase()).collect();
        sql.push_str(&format!(
            " AND tenant_id = ANY({})",
            next_arg(Box::new(lowered))
        ));
    }
    if let Some(actor) = &filter.actor {
        let n = next_arg(Box::new(actor.to_lowercase()));
        sql.push_str(&format!(
            " AND (lower(actor_oid) = {n} OR lower(actor_upn) = {n} OR lower(actor_app_id) = {n})"
        ));
    }
    if let Some(since) = filter.since {
        let n = next_arg(Box::new(stored_time(since)));
        sql.push_str(&format!(" AND time >= {n}::text::timestamptz"));
    }
    if let Some(outcome) = filter.outcome {
        let n = next_arg(Box::new(outcome.as_str()));
        sql.push_str(&format!(" AND outcome = {n}"));
    }
    if let Some(cursor) = filter.cursor {
        let n = next_arg(Box::new(cursor.below_id()));
        sql.push_str(&format!(" AND id < {n}"));
    }
    // One more than the page, to know whether another page follows.
    let n = next_arg(Box::new(i64::from(limit) + 1));
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {n}"));

    let params: Vec<&(dyn ToSql + Sync)> = args
        .iter()
        .map(|arg| arg.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let client = store.client().await?;
    let statement = client.prepare_cached(&sql).await?;
    let records = client
        .query(&statement, &params)
        .await?
        .iter()
        .map(read_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(records, limit))
}

fn read_row(row: &tokio_postgres::Row) -> Result<AuditRecord, StoreError> {
    let id: i64 = row.try_get("id")?;
    let time: String = row.try_get("time")?;
    let completed_at: Option<String> = row.try_get("completed_at")?;
    let roles: Value = row.try_get("actor_roles")?;
    let outcome: String = row.try_get("outcome")?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("record {id}: {what}"));
    Ok(AuditRecord {
        id,
        time: record_time(id, &time)?,
        completed_at: completed_at
            .as_deref()
            .map(|text| record_time(id, text))
            .transpose()?,
        request_id: row.try_get("request_id")?,
        actor: Actor {
            oid: row.try_get("actor_oid")?,
            upn: row.try_get("actor_upn")?,
            app_id: row.try_get("actor_app_id")?,
            roles: serde_json::from_value(roles)
                .map_err(|e| corrupt(&format!("actor roles: {e}")))?,
        },
        tenant_id: row.try_get("tenant_id")?,
        operation: row.try_get("operation")?,
        before: row.try_get("before")?,
        after: row.try_get("after")?,
        diff: row.try_get("diff")?,
        outcome: Outcome::parse(&outcome)
            .ok_or_else(|| corrupt(&format!("outcome '{outcome}'")))?,
        error: row.try_get("error")?,
        compensation: row.try_get("compensation")?,
    })
}
