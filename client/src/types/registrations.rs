//! The answers of the registration endpoints: a listing's records as JSON objects (a listing
//! sends only the fields asked for), the summaries as the contract crate's types.

use serde::Deserialize;
use serde_json::{Map, Value};

pub use sspr_api::registrations::{FeatureCounts, GapCounts, RegistrationSummary, SummarySource};

/// One user's registration, as the service sends it: the members the listing's `fields` asked
/// for (by default `id`, `userPrincipalName`, `userDisplayName`, `userType`, `isAdmin`,
/// `isSsprRegistered`, `isSsprEnabled`, `isSsprCapable`, `isMfaRegistered`, `isMfaCapable`,
/// `isPasswordlessCapable`, `methodsRegistered`, `lastUpdatedDateTime`).
pub type Record = Map<String, Value>;

/// One page of a listing as JSON.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationPage {
    /// The tenant's id.
    pub tenant: String,
    pub value: Vec<Record>,
    /// Pass to the next call for the following page; `None` on the last.
    pub next_cursor: Option<String>,
}
