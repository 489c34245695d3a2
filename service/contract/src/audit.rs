//! The audit trail as the API shows it: who attempted a write and how it ended.

use serde::{Deserialize, Serialize};
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
