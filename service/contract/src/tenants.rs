//! The tenants: how every answer names the tenant it is about.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantRef {
    pub id: String,
    /// The tenant's first configured domain.
    pub domain: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    pub id: String,
    /// The primary domain.
    pub domain: String,
    pub display_name: String,
    /// Every domain the tenant can be named by.
    pub domains: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(crate::examples::tenant_list))]
pub struct TenantList {
    pub value: Vec<TenantSummary>,
}
