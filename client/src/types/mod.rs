//! The service's answers as typed values, one module per area. They mirror the schemas of
//! `openapi/openapi.json`; the contract crate shared with the service replaces them.

pub mod audit;
pub mod policy;
pub mod protection;
pub mod registrations;
pub mod tenants;
pub mod windows_link;

use serde::Deserialize;
use serde_json::Value;

/// The tenant an answer is about (`TenantRef`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TenantRef {
    pub id: String,
    /// The tenant's first configured domain.
    pub domain: String,
    pub display_name: String,
}

/// A typed answer and the JSON document it was read from, so that `--output json` prints what
/// the service sent, members this version does not know included.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    pub value: T,
    pub json: Value,
}
