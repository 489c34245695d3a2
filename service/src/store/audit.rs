//! What the audit trail's back ends share: the capability's vocabulary (re-exported so that the
//! store reads as one module), the text of an abandoned attempt, how long an error may be and
//! the stored time form. The trail itself is [`super::sqlite::audit`] and
//! [`super::postgres::audit`]: two append-only tables, attempts and their completions (the
//! SQLite module's documentation says why), joined by the `audit_trail` view.

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::StoreError;
pub use crate::capabilities::audit_log::{
    Actor, AuditCursor, AuditFilter, AuditLog, AuditPage, AuditRecord, Completion, MAX_PAGE,
    NewAuditRecord, Outcome, format_record_time,
};

/// The longest `error` text kept; longer ones are cut with `…`.
pub(super) const MAX_ERROR_CHARS: usize = 4000;

/// The error of an attempt completed as `unknown` because the process that made it is gone.
pub const ABANDONED: &str = "The service stopped before recording the outcome of this attempt: \
     the change may or may not have been made upstream. Read the tenant's current state to find out.";

/// Times are kept in (SQLite) or read out as (PostgreSQL) this fixed-width UTC form, so that
/// text order is time order.
pub(super) const STORED_TIME: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub(super) fn stored_time(time: OffsetDateTime) -> String {
    time.to_offset(time::UtcOffset::UTC)
        .format(STORED_TIME)
        .expect("a UTC time formats")
}

/// A stored time as the API spells it (RFC 3339); record `id`'s, for the error.
pub(super) fn record_time(id: i64, text: &str) -> Result<String, StoreError> {
    let corrupt =
        |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("record {id}: time '{text}': {e}"));
    let time = PrimitiveDateTime::parse(text, STORED_TIME).map_err(|e| corrupt(&e))?;
    format_record_time(time.assume_utc()).map_err(|e| corrupt(&e))
}

/// A page of at most `limit` records from a query that asked for `limit + 1`: the one more
/// says that another page follows.
pub(super) fn page(mut records: Vec<AuditRecord>, limit: u32) -> AuditPage {
    let next = if records.len() > limit as usize {
        records.truncate(limit as usize);
        records.last().map(|r| AuditCursor::below(r.id))
    } else {
        None
    };
    AuditPage { records, next }
}

/// The completion a record decided at once is appended with; `None` for an attempt, which is
/// completed later.
pub(super) fn decided(record: &NewAuditRecord) -> Option<Completion> {
    (record.outcome != Outcome::Attempted).then(|| Completion {
        outcome: record.outcome,
        after: None,
        diff: None,
        error: record.error.clone(),
        compensation: record.compensation.clone(),
    })
}

/// `error` cut to [`MAX_ERROR_CHARS`].
pub(super) fn kept_error(error: Option<&str>) -> Option<String> {
    error.map(|e| {
        if e.chars().count() > MAX_ERROR_CHARS {
            let mut cut: String = e.chars().take(MAX_ERROR_CHARS).collect();
            cut.push('…');
            cut
        } else {
            e.to_owned()
        }
    })
}
