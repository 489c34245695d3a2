//! The answers of the registration endpoints, mirroring the OpenAPI schemas `Registration`,
//! `RegistrationList` and `RegistrationSummary`. Members this version does not know are kept,
//! so a summary survives a round trip.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

/// A tenant's registration summary, `GET /v1/tenants/{tenant}/registrations/summary`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationSummary {
    pub tenant: SummaryTenant,
    /// RFC 3339: when Graph's report was read (earlier than now when the service's copy is
    /// cached).
    pub read_at: String,
    pub source: String,
    pub total_users: u64,
    pub features: FeatureCounts,
    /// Users per registered method, by Graph's method name.
    pub methods: BTreeMap<String, u64>,
    pub gaps: GapCounts,
    /// Members this version does not know, kept so they survive a round trip.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryTenant {
    pub id: String,
    pub domain: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Users per feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureCounts {
    pub sspr_registered: u64,
    pub sspr_enabled: u64,
    pub sspr_capable: u64,
    pub mfa_registered: u64,
    pub mfa_capable: u64,
    pub passwordless_capable: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Users who need attention.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GapCounts {
    /// Allowed to reset their password but cannot: not registered.
    pub enabled_not_registered: u64,
    /// Registered but not allowed to use SSPR.
    pub registered_not_enabled: u64,
    pub admins_without_mfa: u64,
    pub guests: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
