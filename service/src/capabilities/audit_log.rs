//! The audit trail as a capability: what the audited use cases record about each write, and
//! how the trail is read back. The SQLite store implements it today ([`crate::store::audit`]);
//! a PostgreSQL store is one more implementation, an in-memory one serves the use cases' unit
//! tests.
//!
//! **Recording must not be lost.** Every write returns only once the record is durable, and a
//! write operation makes no upstream call before its attempt is recorded: a caller never ignores
//! an error of this trait.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use sspr_api::audit::{Actor, AuditRecord, Outcome};

use crate::auth::Caller;
use crate::store::StoreError;

/// The most records one query returns.
pub const MAX_PAGE: u32 = 500;

/// A record's time as the API spells it: RFC 3339, UTC. Fails only for a time outside the years
/// RFC 3339 can write.
pub fn format_record_time(time: OffsetDateTime) -> Result<String, time::error::Format> {
    time.format(&Rfc3339)
}

/// The instant a record's time names; `None` when it is not RFC 3339.
pub fn parse_record_time(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// The append-only audit trail, in two phases: an attempt is appended (outcome `attempted`)
/// before the first upstream call and completed once with its outcome afterwards; a decision
/// made before any upstream call is appended whole. Records are never changed or removed.
#[async_trait::async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends `record` durably and returns its id (ids increase, never reused). A record whose
    /// outcome is `attempted` is an attempt: it reads as `attempted` until [`AuditLog::complete`].
    /// An error here must stop the operation before it changes anything.
    async fn append(&self, record: NewAuditRecord) -> Result<i64, StoreError>;

    /// Records how attempt `id` ended. Each attempt is completed once: a second completion, one
    /// of an attempt that does not exist, or one as `attempted`, is refused.
    async fn complete(&self, id: i64, completion: Completion) -> Result<(), StoreError>;

    /// The records matching `filter`, newest first, one page at a time. A cursor stays valid
    /// while records are appended: new records never shift older pages.
    async fn query(&self, filter: AuditFilter) -> Result<AuditPage, StoreError>;
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

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// Any outcome but `attempted`.
    pub outcome: Outcome,
    /// The document as read back afterwards; `None` keeps the planned one.
    pub after: Option<Value>,
    /// What was done, when it says more than the plan (e.g. the calls made); `None` keeps the
    /// planned difference.
    pub diff: Option<Value>,
    /// Why it failed. Only texts of our own errors, which never hold a secret.
    pub error: Option<String>,
    /// What was undone after a failed step.
    pub compensation: Option<Value>,
}

impl Completion {
    /// Ended with `outcome`; the planned `after` and `diff` stay, with no error.
    pub fn new(outcome: Outcome) -> Completion {
        Completion {
            outcome,
            after: None,
            diff: None,
            error: None,
            compensation: None,
        }
    }

    /// Refuses to complete attempt `id` as `attempted`: a completion says how it ended.
    pub(crate) fn ensure_final(&self, id: i64) -> Result<(), StoreError> {
        if self.outcome == Outcome::Attempted {
            return Err(StoreError::Invalid(format!(
                "attempt {id} cannot be completed as 'attempted'"
            )));
        }
        Ok(())
    }

    /// An outcome nobody could observe, with the reason.
    pub fn unknown(error: impl Into<String>) -> Completion {
        Completion::new(Outcome::Unknown).error(error)
    }

    /// The document as read back.
    pub fn after(mut self, after: Option<Value>) -> Completion {
        self.after = after;
        self
    }

    /// What was done, replacing the planned difference.
    pub fn diff(mut self, diff: Value) -> Completion {
        self.diff = Some(diff);
        self
    }

    pub fn error(mut self, error: impl Into<String>) -> Completion {
        self.error = Some(error.into());
        self
    }

    pub fn compensation(mut self, compensation: Option<Value>) -> Completion {
        self.compensation = compensation;
        self
    }
}

/// A record to append: an attempt (outcome `attempted`), recorded before the first upstream call,
/// or a record decided at once (a refusal before any upstream call, nothing to change), appended
/// as an attempt and its completion together. The store gives it its id and time.
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
    /// The document after: as planned, for an attempt.
    pub after: Option<Value>,
    /// The difference: as planned, for an attempt.
    pub diff: Option<Value>,
    /// `attempted` appends an attempt, left open until its completion.
    pub outcome: Outcome,
    /// Why it failed. Only texts of our own errors, which never hold a secret.
    pub error: Option<String>,
    /// What was undone after a failed step.
    pub compensation: Option<Value>,
}

/// Where the next page starts: records older than `id`. Callers only see it signed (see
/// `ops::cursor`), so they cannot edit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCursor {
    #[serde(rename = "below")]
    below_id: i64,
}

impl AuditCursor {
    /// The page of the records older than record `id`.
    pub(crate) fn below(id: i64) -> AuditCursor {
        AuditCursor { below_id: id }
    }

    pub(crate) fn below_id(self) -> i64 {
        self.below_id
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
