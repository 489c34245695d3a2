//! The MSP's own (partner) tenant: its GDAP customers, as candidates to onboard.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A customer of the partner tenant, from its delegated admin (GDAP) relationships and its
/// contracts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartnerCustomer {
    pub tenant_id: String,
    pub display_name: String,
    /// From the partner contract, when there is one (a copy taken when the partnership began).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_domain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_type: Option<String>,
    /// True when the tenant is in this service's registry.
    pub onboarded: bool,
    pub relationships: Vec<DelegatedAdminRelationship>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DelegatedAdminRelationship {
    pub id: String,
    pub display_name: String,
    /// Graph's status, e.g. `active`, `terminated`, `approvalPending`.
    pub status: String,
    /// RFC 3339, when it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<String>,
    /// The Entra role definition ids the relationship grants the partner's users.
    pub role_definition_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(crate::examples::partner_customers))]
pub struct PartnerCustomerList {
    /// The partner tenant these relationships belong to.
    pub partner_tenant_id: String,
    pub value: Vec<PartnerCustomer>,
}
