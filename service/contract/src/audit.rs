//! The audit trail as the API shows it: who attempted a write and how it ended.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Where a write attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// Recorded before the first upstream call; the change is in flight.
    Attempted,
    /// Every step was applied and read back.
    Succeeded,
    /// A step failed and nothing had been changed, or the undo was not needed.
    Failed,
    /// A step failed and the completed steps were undone (see `compensation`).
    RolledBack,
    /// Refused before any upstream call: rules, access, preconditions.
    Refused,
    /// The request asked for what the tenant already has: nothing was written.
    NoChange,
    /// The outcome was never recorded (the service stopped, or the request ended, mid-change):
    /// the change may or may not have been made; `error` says why.
    Unknown,
}

impl Outcome {
    pub const ALL: [Outcome; 7] = [
        Outcome::Attempted,
        Outcome::Succeeded,
        Outcome::Failed,
        Outcome::RolledBack,
        Outcome::Refused,
        Outcome::NoChange,
        Outcome::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Attempted => "attempted",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolledBack",
            Outcome::Refused => "refused",
            Outcome::NoChange => "noChange",
            Outcome::Unknown => "unknown",
        }
    }

    /// The outcome named exactly `text` (as the API spells it).
    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

/// One audited write attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Increases with every record; never reused.
    #[schema(minimum = 1)]
    pub id: i64,
    /// When the attempt was recorded (UTC), before any upstream call.
    #[schema(value_type = String, format = DateTime)]
    pub time: String,
    /// When the outcome was recorded (UTC); null while `attempted`.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<String>,
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
    /// The document after the attempt: as read back when the outcome says so, else as planned.
    #[schema(required = true)]
    pub after: Option<Value>,
    /// The per-field difference: as planned, or what was done once the outcome says so.
    #[schema(required = true)]
    pub diff: Option<Value>,
    pub outcome: Outcome,
    /// Why the attempt failed or was refused, or why its outcome is unknown.
    #[schema(required = true)]
    pub error: Option<String>,
    /// What was undone after a failed step.
    #[schema(required = true)]
    pub compensation: Option<Value>,
}

/// A page of audit records, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::audit_list))]
pub struct AuditList {
    pub value: Vec<AuditRecord>,
    /// The next (older) page, with the same filters; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub next_link: Option<String>,
}
