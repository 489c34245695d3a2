//! Graph's `tenantRelationships/delegatedAdminRelationships` and `contracts` as
//! [`PartnerDirectory`].

use super::DirectoryError;
use super::graph::Graph;
use super::tenants::ManagedTenant;
use crate::capabilities::partner_directory::{GdapRelationship, PartnerContract, PartnerDirectory};

mod wire {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Relationship {
        pub id: String,
        #[serde(default)]
        pub display_name: Option<String>,
        pub status: String,
        #[serde(default)]
        pub end_date_time: Option<String>,
        #[serde(default)]
        pub customer: Option<Customer>,
        #[serde(default)]
        pub access_details: Option<AccessDetails>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Customer {
        #[serde(default)]
        pub tenant_id: Option<String>,
        #[serde(default)]
        pub display_name: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct AccessDetails {
        #[serde(default)]
        pub unified_roles: Vec<UnifiedRole>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct UnifiedRole {
        pub role_definition_id: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Contract {
        #[serde(default)]
        pub customer_id: Option<String>,
        #[serde(default)]
        pub default_domain_name: Option<String>,
        #[serde(default)]
        pub display_name: Option<String>,
        #[serde(default)]
        pub contract_type: Option<String>,
    }
}

#[async_trait::async_trait]
impl PartnerDirectory for Graph {
    async fn relationships(
        &self,
        partner: &ManagedTenant,
    ) -> Result<Vec<GdapRelationship>, DirectoryError> {
        let (items, _) = self
            .get_all::<wire::Relationship>(
                partner,
                "tenantRelationships/delegatedAdminRelationships?$top=300",
            )
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|r| {
                // A relationship still being created has no customer yet: nothing to onboard.
                let customer = r.customer?;
                Some(GdapRelationship {
                    customer_tenant_id: customer.tenant_id?.to_ascii_lowercase(),
                    customer_display_name: customer.display_name.unwrap_or_default(),
                    display_name: r.display_name.unwrap_or_default(),
                    status: r.status,
                    end_date_time: r.end_date_time,
                    role_definition_ids: r
                        .access_details
                        .map(|a| {
                            a.unified_roles
                                .into_iter()
                                .map(|u| u.role_definition_id)
                                .collect()
                        })
                        .unwrap_or_default(),
                    id: r.id,
                })
            })
            .collect())
    }

    async fn contracts(
        &self,
        partner: &ManagedTenant,
    ) -> Result<Vec<PartnerContract>, DirectoryError> {
        let (items, _) = self
            .get_all::<wire::Contract>(partner, "contracts?$top=999")
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|c| {
                Some(PartnerContract {
                    customer_tenant_id: c.customer_id?.to_ascii_lowercase(),
                    default_domain: c.default_domain_name,
                    display_name: c.display_name,
                    contract_type: c.contract_type,
                })
            })
            .collect())
    }
}
