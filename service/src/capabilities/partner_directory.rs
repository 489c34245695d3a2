//! The MSP's own (partner) tenant as Graph shows it: its delegated admin (GDAP) relationships
//! with customers and its partner contracts. The Graph adapter implements it
//! ([`crate::directory::partner`]).

use crate::directory::DirectoryError;
use crate::directory::tenants::ManagedTenant;

/// One delegated admin relationship of the partner tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GdapRelationship {
    pub id: String,
    pub display_name: String,
    pub status: String,
    pub end_date_time: Option<String>,
    pub customer_tenant_id: String,
    pub customer_display_name: String,
    pub role_definition_ids: Vec<String>,
}

/// One partner contract (a copy of the customer's names taken when the partnership began).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerContract {
    pub customer_tenant_id: String,
    pub default_domain: Option<String>,
    pub display_name: Option<String>,
    pub contract_type: Option<String>,
}

#[async_trait::async_trait]
pub trait PartnerDirectory: Send + Sync {
    /// Every delegated admin relationship of `partner` (needs
    /// `DelegatedAdminRelationship.Read.All` there).
    async fn relationships(
        &self,
        partner: &ManagedTenant,
    ) -> Result<Vec<GdapRelationship>, DirectoryError>;

    /// Every partner contract of `partner` (needs `Directory.Read.All` there).
    async fn contracts(
        &self,
        partner: &ManagedTenant,
    ) -> Result<Vec<PartnerContract>, DirectoryError>;
}
